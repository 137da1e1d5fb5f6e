"""``hybrid init`` and ``hybrid recall ...``: the studio's songs as recall sheets.

Every command takes ``--studio DIR`` (default: $HYBRID_STUDIO, else the current folder)
and ``--json``; the exit status is non-zero when anything failed (a device not set or
not verified counts), with one line per failure on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hybrid.cli.output import add_json_flag, add_studio_flag, emit, print_error
from recall.errors import RecallProblems


def register(sub) -> None:
    """Add ``init`` and ``recall`` with its subcommands."""
    p = sub.add_parser("init", help="create an empty studio folder with a commented studio.toml")
    p.add_argument("dir", help="the folder to create")
    p.add_argument("--name", help="the room's name (default: the folder's name)")
    add_json_flag(p)
    p.set_defaults(func=cmd_init)

    recall = sub.add_parser("recall", help="recall sheets: apply, capture, diff, history, export, copy, ...")
    rsub = recall.add_subparsers(dest="recall_command", metavar="ACTION", required=True)

    def song_cmd(name, help_text, func, *, song=True):
        sp = rsub.add_parser(name, help=help_text)
        if song:
            sp.add_argument("song", help="song slug or title")
        add_studio_flag(sp)
        add_json_flag(sp)
        sp.set_defaults(func=func)
        return sp

    song_cmd("list", "the studio's songs with stage and last recall/print", cmd_list, song=False)
    song_cmd("show", "a song's sheet, checked against the studio", cmd_show)
    song_cmd("history", "earlier versions of a song's sheet", cmd_history)
    sp = song_cmd("diff", "differences between two versions, or against the gear now", cmd_diff)
    sp.add_argument("old", nargs="?", default=None,
                    help="version: current, N (1 = oldest), -N (latest earlier ones), a history name, "
                         "or gear (default: -1)")
    sp.add_argument("new", nargs="?", default="current", help="version to compare with (default: current)")
    sp = song_cmd("export", "write a printable HTML page and Markdown of a sheet", cmd_export)
    sp.add_argument("--format", choices=("html", "md", "both"), default="both")
    sp.add_argument("--out", help="output folder (default: songs/<song>/export)")
    sp = song_cmd("copy", "start a song's sheet from another song's settings", cmd_copy)
    sp.add_argument("target", help="the song to copy into (created when new)")
    sp.add_argument("--title", help="title of a new target song (default: TARGET)")
    song_cmd("walkthrough", "the hand-set gear as ordered steps in signal order", cmd_walkthrough)
    sp = song_cmd("apply", "set the gear to a song's sheet, verify, and list what needs a hand", cmd_apply)
    sp.add_argument("--changed", action="store_true", help="send only what differs from the gear's known state")
    sp.add_argument("--restart", action="store_true", help="ignore an interrupted run; set every device again")
    sp.add_argument("--no-verify", action="store_true", help="do not read back after setting")
    sp.add_argument("--device", action="append", default=[], help="only this device (repeatable)")
    sp = song_cmd("capture", "read the gear back into a sheet (new song or update)", cmd_capture)
    sp.add_argument("--device", action="append", default=[], help="only this device (repeatable)")
    sp.add_argument("--learn", type=float, metavar="SECONDS", default=None,
                    help="also record knob moves the gear sends for SECONDS")
    sp.add_argument("--samplerate", type=int, default=None, help="sample rate of a new song (default: the studio's)")
    sp = song_cmd("dump", "capture a unit's edit buffer (asked for, or sent from its front panel) and keep "
                          "it beside the song's sheet; `recall apply` sends it back", cmd_dump)
    sp.add_argument("device", help="the studio's name for the unit (its profile has a [dump])")
    sp.add_argument("--learn", action="store_true",
                    help="do not ask: wait for the dump a person sends from the unit's front panel")
    sp.add_argument("--timeout-s", type=float, default=None, metavar="S",
                    help="how long to wait for the dump (default: the profile's timeout)")
    song_cmd("dumps", "the edit-buffer dumps a song keeps, by parameter where the profile maps the bytes",
             cmd_dumps)

    from hybrid.cli.verify_cmd import register_recall_subcommands

    register_recall_subcommands(rsub)   # fingerprint, verify, verify-step (hybrid.live.verify)


# ---- helpers --------------------------------------------------------------------------
def _studio(args):
    from recall.studio import load_studio

    return load_studio(args.studio)


def _problems_exit(problems, as_json: bool, result: dict | None = None) -> int:
    result = dict(result or {})
    result["ok"] = False
    result["problems"] = [p.to_dict() for p in problems]
    if as_json:
        emit(result, True)
    for p in problems:
        print(f"hybrid: error: {p}", file=sys.stderr)
    return 1


# ---- commands -------------------------------------------------------------------------
def cmd_init(args) -> int:
    from recall.studio import init_studio

    path = init_studio(args.dir, name=args.name)
    emit({"ok": True, "studio": str(path.parent), "file": str(path)}, args.json,
         f"created studio {path.parent}\nedit {path} to add your gear")
    return 0


def cmd_list(args) -> int:
    from recall.store import list_songs

    studio = _studio(args)
    songs = list_songs(studio)
    result = {"ok": all(s.ok for s in songs), "studio": studio.name, "songs": [s.to_dict() for s in songs]}

    def text(_):
        if not songs:
            return "no songs yet"
        lines = []
        for s in songs:
            flag = "" if s.ok else f"  BROKEN: {s.problems[0]}"
            lines.append(f"{s.slug:24s} {s.title[:28]:28s} {s.album[:16]:16s} {s.stage:16s} "
                         f"recalled {s.last_recalled or '-':20s} printed {s.last_printed or '-'}{flag}")
        return "\n".join(lines)

    emit(result, args.json, text)
    for s in songs:  # every song is listed; each broken one is also one error line
        if not s.ok:
            print_error(f"song {s.slug}: {s.problems[0]}")
    return 0 if result["ok"] else 1


def cmd_show(args) -> int:
    from recall.sheet import validate_sheet
    from recall.store import load_sheet

    studio = _studio(args)
    sheet = load_sheet(studio, args.song)
    problems = validate_sheet(sheet, studio)
    result = {"ok": not problems, "file": sheet.file, "sheet": sheet.to_dict()}
    if problems:
        return _problems_exit(problems, args.json, result)
    emit(result, args.json, lambda _: sheet.dumps())
    return 0


def cmd_history(args) -> int:
    from recall.store import history, load_sheet

    studio = _studio(args)
    load_sheet(studio, args.song)
    versions = history(studio, args.song)
    emit({"ok": True, "versions": [v.to_dict() for v in versions]}, args.json,
         lambda _: "\n".join(f"{v.number:3d}  {v.saved_at}  {v.name}" for v in versions) or "no earlier versions")
    return 0


def cmd_diff(args) -> int:
    from recall.diff import diff_gear, diff_sheets
    from recall.sheet import require_valid
    from recall.store import history, read_version

    studio = _studio(args)
    old_ref = args.old
    if old_ref is None:
        old_ref = "-1" if history(studio, args.song) else "current"
    if "gear" in (old_ref, args.new):
        other = args.new if old_ref == "gear" else old_ref
        from recall.capture import read_gear

        sheet = read_version(studio, args.song, other)
        require_valid(sheet, studio)
        readings, failures = read_gear(studio, sheet.device_names)
        changes = diff_gear(sheet, studio, readings)
        result = {"ok": not changes and not failures, "old": other, "new": "gear",
                  "changes": [c.to_dict() for c in changes],
                  "read": sorted(readings), "failed": {k: str(v) for k, v in failures.items()}}
        for dev, err in failures.items():
            print(f"hybrid: error: {dev}: {err}", file=sys.stderr)
    else:
        old = read_version(studio, args.song, old_ref)
        new = read_version(studio, args.song, args.new)
        changes = diff_sheets(old, new, studio)
        result = {"ok": True, "old": old_ref, "new": args.new, "changes": [c.to_dict() for c in changes]}
    emit(result, args.json, lambda _: "\n".join(str(c) for c in changes) or "no differences")
    return 0 if result["ok"] else 1


def cmd_export(args) -> int:
    from recall.export import export_song
    from recall.store import load_sheet

    studio = _studio(args)
    sheet = load_sheet(studio, args.song)
    written = export_song(sheet, studio, Path(args.out) if args.out else None, fmt=args.format)
    emit({"ok": True, "files": [str(p) for p in written]}, args.json, lambda _: "\n".join(map(str, written)))
    return 0


def cmd_copy(args) -> int:
    from recall.store import copy_sheet

    studio = _studio(args)
    path = copy_sheet(studio, args.song, args.target, title=args.title)
    emit({"ok": True, "file": str(path)}, args.json, f"copied {args.song} -> {path}")
    return 0


def cmd_walkthrough(args) -> int:
    from recall.sheet import require_valid
    from recall.store import load_sheet
    from recall.walkthrough import walkthrough

    studio = _studio(args)
    sheet = load_sheet(studio, args.song)
    require_valid(sheet, studio)
    steps = walkthrough(sheet, studio)
    emit({"ok": True, "steps": [s.to_dict() for s in steps]}, args.json,
         lambda _: "\n".join(str(s) for s in steps) or "nothing to set by hand")
    return 0


def cmd_apply(args) -> int:
    from recall.apply import apply_song
    from recall.status import ApplyStatus

    studio = _studio(args)
    as_json = args.json

    def progress(event):
        if not as_json and event.kind == "done":
            r = event.report
            print(f"{r.device:24s} {r.status:10s} {r.detail()}", flush=True)

    try:
        report = apply_song(studio, args.song, changed_only=args.changed, verify=not args.no_verify,
                            resume=not args.restart, only=args.device or None, on_event=progress)
    except RecallProblems as exc:
        return _problems_exit(exc.problems, as_json)
    if as_json:
        emit(report.to_dict(), True)
    else:
        print(report.summary_line())
        if report.steps:
            print("by hand:")
            for step in report.steps:
                print(str(step))
    for r in report.devices:
        if r.status == ApplyStatus.FAILED:
            print(f"hybrid: error: {r.device}: {r.reason}", file=sys.stderr)
    return 0 if report.ok else 1


def cmd_capture(args) -> int:
    from recall.capture import capture_song

    studio = _studio(args)

    def progress(event):
        if not args.json and event.kind in ("read", "learn"):
            print(event.text(), flush=True)

    result = capture_song(studio, args.song, devices=args.device or None, learn_s=args.learn,
                          samplerate=args.samplerate, on_event=progress)
    emit(result.to_dict(), args.json, lambda _: result.summary_line())
    for dev, err in result.failed.items():
        print(f"hybrid: error: {dev}: {err}", file=sys.stderr)
    return 0 if result.ok else 1


def cmd_dump(args) -> int:
    from devices.device import Device
    from recall.dumps import capture_to_song, dump_listing, dump_values, load_dump
    from recall.errors import RecallError
    from recall.store import load_sheet, song_paths

    studio = _studio(args)
    load_sheet(studio, args.song)                       # the song must exist
    folder = song_paths(studio, args.song).folder
    entry = studio.devices.get(args.device)
    key = f'devices."{args.device}"'
    if entry is None:
        raise RecallError(f"no device {args.device!r} in the studio (known: {', '.join(studio.devices) or 'none'})",
                          file=str(studio.file), key=key)
    fmt = entry.profile.dump
    if fmt is None or not entry.machine_settable:
        raise RecallError(f"profile {entry.profile.id} has no [dump]" if fmt is None else
                          "has no port: a dump is captured over the unit's MIDI port", file=str(studio.file), key=key)
    learn = args.learn or fmt.request is None
    timeout_s = args.timeout_s if args.timeout_s is not None else fmt.timeout_ms / 1000
    if not 0 < timeout_s <= 600:
        raise RecallError(f"--timeout-s must be above 0 and at most 600, got {timeout_s:g}", key="--timeout-s")
    with Device(entry.profile, entry.port, name=entry.name, channel=entry.channel) as device:
        if learn:
            device.open_input()                         # listening before the person is asked
            if not args.json:
                print(f"{entry.name}: {fmt.front_panel or 'send the dump from the unit'} now "
                      f"(waiting up to {timeout_s:g} s)", flush=True)
        path = capture_to_song(device, folder, entry.name, learn=learn, timeout_s=timeout_s)
        dump = load_dump(folder, entry.name)
        values = dump_values(entry.profile, dump, device.device_id)
        listing = dump_listing(entry.name, dump, entry.profile, device.device_id)
    result = {"ok": True, "device": entry.name, "file": str(path), "messages": len(dump.messages),
              "size_bytes": sum(len(m) for m in dump.messages),
              "values": {k: entry.profile.parameters[k].format(v) for k, v in values.items()}}
    emit(result, args.json, lambda _: f"kept {path}\n" + listing.rstrip("\n"))
    return 0


def cmd_dumps(args) -> int:
    from recall.dumps import describe_kept
    from recall.store import load_sheet, song_paths

    studio = _studio(args)
    load_sheet(studio, args.song)
    kept = describe_kept(studio, song_paths(studio, args.song).folder)
    result = {"ok": all(not d.problem for d in kept), "dumps": [d.to_dict() for d in kept]}

    def text(_):
        if not kept:
            return "no dumps kept for this song"
        lines = []
        for d in kept:
            if d.problem:
                lines.append(f"{d.device}: BROKEN: {d.problem}")
                continue
            lines.append(f"{d.device}: {d.messages} message(s), {d.size_bytes} bytes ({d.file})")
            lines += [f"  {k} = {v}" for k, v in d.values.items()] or ["  (the profile does not map the bytes)"]
        return "\n".join(lines)

    emit(result, args.json, text)
    for d in kept:
        if d.problem:
            print_error(f"{d.file}: {d.problem}")
    return 0 if result["ok"] else 1
