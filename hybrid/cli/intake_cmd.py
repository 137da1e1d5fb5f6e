"""``hybrid intake ARCHIVE --studio DIR [--song NAME] [--json]``: a client's stems become a song.

Exit status: 0 when the song was created (even if some files fail a rule: the report
says so loudly and the stems are kept), 1 when the upload is refused (nothing was
imported; the report is still printed, and one ``hybrid: error:`` line goes to stderr),
2 with ``--strict`` when the song was created but some file failed a rule.
"""

from __future__ import annotations

import sys

from hybrid.cli.output import add_json_flag, emit, print_error


def register(sub) -> None:
    """Add this area's subcommands to ``sub`` (an argparse subparsers action)."""
    p = sub.add_parser("intake", help="unpack a client's stems (.zip, .rar) into a new song and check them",
                       description="Unpack a client's archive of stems into STUDIO/songs/<song>/stems/, "
                       "check every file against the preparation rules and create the song's sheet.")
    p.add_argument("archive", metavar="ARCHIVE", help="the client's .zip or .rar (.7z, .tar.gz also read)")
    p.add_argument("--studio", required=True, metavar="DIR", help="the studio folder")
    p.add_argument("--song", metavar="NAME", help="the song's title (default: from the archive's name)")
    p.add_argument("--artist", default="", help="the artist, for the sheet")
    p.add_argument("--album", default="", help="the album, for the sheet")
    p.add_argument("--extractor", choices=("auto", "bsdtar", "unar"), default="auto",
                   help="tool for non-zip archives (default: bsdtar, unar when bsdtar cannot read it)")
    p.add_argument("--strict", action="store_true",
                   help="exit with status 2 when a file fails a rule (the song is still created)")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from hybrid.files.intake import IntakeRefused, format_text, intake_archive

    show = sys.stderr.isatty() and not args.json
    try:
        report = intake_archive(args.archive, args.studio, song=args.song, artist=args.artist,
                                album=args.album, extractor=args.extractor,
                                progress=_progress_line if show else None)
    except IntakeRefused as exc:
        if show:
            _progress_line("", "", 0, 0)
        emit(exc.report, args.json, format_text)
        print_error(str(exc))
        return 1
    if show:
        _progress_line("", "", 0, 0)
    emit(report, args.json, format_text)
    if args.strict and report.summary()["fail"]:
        return 2
    return 0


def _progress_line(stage: str, name: str, done: int, total: int) -> None:
    """One self-overwriting status line on a terminal's stderr; an empty stage clears it."""
    text = f"{'unpacking' if stage == 'unpack' else 'checking'} {done}/{total} {name}" if stage else ""
    sys.stderr.write("\r\033[K" + text[:100])
    sys.stderr.flush()
