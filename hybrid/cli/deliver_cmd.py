"""``hybrid loudness FILE...`` and ``hybrid deliver mix|master``.

Loudness reads files block-wise (flat memory). Deliverables are written into the
song's or album's ``deliver/`` folder; see hybrid.files.deliver for naming and formats.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hybrid.cli.output import add_json_flag, emit


def _fmt(value, unit: str, width: int = 7) -> str:
    return f"{'-inf' if value is None else f'{value:.1f}':>{width}} {unit}"


def loudness_text(result: dict) -> str:
    lines = []
    for item in result["files"]:
        lines.append(item["path"])
        lines.append(f"  integrated      {_fmt(item['integrated_lufs'], 'LUFS')}")
        lines.append(f"  momentary max   {_fmt(item['momentary_max_lufs'], 'LUFS')}")
        lines.append(f"  short-term max  {_fmt(item['short_term_max_lufs'], 'LUFS')}")
        lra = item["loudness_range_lu"]
        lines.append(f"  loudness range  {'  n/a' if lra is None else f'{lra:7.1f}'} LU")
        lines.append(f"  true peak       {_fmt(item['true_peak_dbtp'], 'dBTP')}")
        lines.append(f"  sample peak     {_fmt(item['sample_peak_dbfs'], 'dBFS')}")
        lines.append(f"  ({item['channels']} ch, {item['samplerate_hz']} Hz, {item['duration_s']:.1f} s)")
    return "\n".join(lines)


def cmd_loudness(args) -> int:
    from hybrid.files.loudness import measure_file

    results = [measure_file(path).to_dict() for path in args.files]
    emit({"files": results}, args.json, loudness_text)
    return 0


def cmd_deliver_mix(args) -> int:
    from hybrid.files.deliver.mix import deliver_mix, mix_report_text

    report = deliver_mix(args.studio, args.song, target_lufs=args.target_lufs,
                         ceiling_dbtp=args.ceiling_dbtp, max_limiting_db=args.max_limiting_db)
    emit(report, args.json, mix_report_text)
    return 0


def cmd_deliver_master(args) -> int:
    from hybrid.files.deliver.master import deliver_master, master_report_text
    from hybrid.files.deliver.staging import Interrupted

    try:
        report = deliver_master(args.studio, args.album, normalize_lufs=args.normalize_lufs,
                                ceiling_dbtp=args.ceiling_dbtp)
    except Interrupted as exc:
        print(f"hybrid: {exc}; nothing was delivered", file=sys.stderr)
        return 128 + exc.signum
    emit(report, args.json, master_report_text)
    return 0


def cmd_deliver_verify(args) -> int:
    from hybrid.files.deliver.master import verify_delivery

    checks = verify_delivery(args.studio, args.album)
    emit({"album": args.album, "verified": checks}, args.json,
         lambda r: f"{r['album']}: DDP verified: " + "; ".join(r["verified"]))
    return 0


def cmd_deliver_approve(args) -> int:
    from hybrid.files.deliver.approve import make_approval

    report = make_approval(args.studio, args.target, out=args.out)
    emit(report, args.json, lambda r: (
        f"approval set in {r['folder']}: {len(r['tracks'])} track WAVs cut at the PQ marks, "
        f"PQ sheet (HTML, text, CSV), {r['zip']['file']} (MD5 {r['zip']['md5']}); lead-out {r['leadout']}"))
    return 0


def cmd_deliver_new_album(args) -> int:
    from hybrid.files.deliver.album_edit import new_album

    name = new_album(args.studio, args.title, list(args.songs), like=args.like)
    emit({"album": name, "songs": list(args.songs), "like": args.like}, args.json,
         lambda r: f"albums/{r['album']}: {len(r['songs'])} track(s)"
                   + (f", mastering chain and sheets from {r['like']}" if r["like"] else ""))
    return 0


def register(sub) -> None:
    """Add this area's subcommands to ``sub`` (an argparse subparsers action)."""
    loud = sub.add_parser(
        "loudness", help="integrated/momentary/short-term loudness, LRA, true peak (BS.1770, R128)",
        description="Measure programme loudness (ITU-R BS.1770-4 / EBU R128): integrated "
                    "loudness, momentary and short-term maxima, loudness range (EBU Tech 3342), "
                    "true peak (4x oversampled) and sample peak.")
    loud.add_argument("files", nargs="+", metavar="FILE", help="audio files (WAV, FLAC, AIFF...)")
    add_json_flag(loud)
    loud.set_defaults(func=cmd_loudness)

    deliver = sub.add_parser("deliver", help="mix and master deliverables (WAV, DDP image)")
    dsub = deliver.add_subparsers(dest="deliver_command", metavar="WHAT", required=True)

    mix = dsub.add_parser(
        "mix", help="full mix, instrumental and a loudness-matched listening copy of a song",
        description="Write the song's full mix and instrumental WAVs (bit-exact copies, named "
                    "'Artist - Title (Mix).wav' ...) and a listening copy at a target loudness "
                    "under a true-peak ceiling into songs/<song>/deliver/.")
    mix.add_argument("song", metavar="SONG", help="the song's folder name under songs/")
    mix.add_argument("--studio", required=True, help="the studio folder")
    mix.add_argument("--target-lufs", type=float, default=-14.0,
                     help="integrated loudness of the listening copy (default -14 LUFS)")
    mix.add_argument("--ceiling-dbtp", type=float, default=-1.0,
                     help="true-peak ceiling of the listening copy (default -1 dBTP)")
    mix.add_argument("--max-limiting-db", type=float, default=12.0,
                     help="most peak limiting the listening copy may use; when the target needs "
                          "more, the closest copy is delivered and the report says so (default 12 dB)")
    add_json_flag(mix)
    mix.set_defaults(func=cmd_deliver_mix)

    master = dsub.add_parser(
        "master", help="album masters (WAV + CD 44.1/16), DDP 2.00 image, cue sheet, loudness report",
        description="Validate albums/<album>/album.toml, write the masters at their resolution "
                    "and for CD (44.1 kHz/16-bit, TPDF dither), a DDP 2.00 image with PQ and "
                    "CD-Text, MD5 checksums and a cue sheet, read the image back and verify it.")
    master.add_argument("album", metavar="ALBUM", help="the album's folder name under albums/")
    master.add_argument("--studio", required=True, help="the studio folder")
    master.add_argument("--normalize-lufs", type=float, default=None, metavar="LUFS",
                        help="bring the album's loudness to this target with one gain for every "
                             "track (their relative levels kept); reported per track")
    master.add_argument("--ceiling-dbtp", type=float, default=-1.0,
                        help="with --normalize-lufs: refuse when a track's true peak would pass "
                             "this (default -1 dBTP)")
    add_json_flag(master)
    master.set_defaults(func=cmd_deliver_master)

    approve = dsub.add_parser(
        "approve", help="the client's approval set from a DDP: track WAVs, PQ sheet, upload zip",
        description="Read a DDP (an album's delivered one, or any DDP 2.00 folder) and write the "
                    "approval set from the image itself: one WAV per track cut at the PQ marks, "
                    "a PQ sheet (HTML for A4, text, CSV) and one .zip of the fileset with checksums.")
    approve.add_argument("target", metavar="ALBUM|DDP", help="an album name (with --studio) or a DDP folder")
    approve.add_argument("--studio", help="the studio folder (for an album name)")
    approve.add_argument("--out", type=Path, default=None,
                         help="where to write the set (default albums/<album>/approval, or "
                              "'<DDP folder> approval' beside a DDP folder)")
    add_json_flag(approve)
    approve.set_defaults(func=cmd_deliver_approve)

    verify = dsub.add_parser(
        "verify", help="re-verify an album's delivered DDP against album.toml and its CD WAVs",
        description="Parse albums/<album>/deliver/DDP again and check the map, PQ timings, "
                    "CD-Text, every audio byte against the CD WAVs, and the MD5 checksums.")
    verify.add_argument("album", metavar="ALBUM", help="the album's folder name under albums/")
    verify.add_argument("--studio", required=True, help="the studio folder")
    add_json_flag(verify)
    verify.set_defaults(func=cmd_deliver_verify)

    new = dsub.add_parser(
        "new-album", help="start an album (or a single) of the studio's songs",
        description="Create albums/<slug>/album.toml with the title and one track per song, in "
                    "the order given. With --like ALBUM: that album's performer, its mastering "
                    "chain (mastering.toml) and a mastering sheet per song (the song's own there, "
                    "else its first track's, to adjust).")
    new.add_argument("title", help="the album's title (CD-Text: ISO 8859-1, at most 160 characters)")
    new.add_argument("songs", nargs="+", metavar="SONG", help="the songs (their folder names), in running order")
    new.add_argument("--like", metavar="ALBUM", help="copy the mastering chain and sheets of this album")
    new.add_argument("--studio", required=True, help="the studio folder")
    add_json_flag(new)
    new.set_defaults(func=cmd_deliver_new_album)
