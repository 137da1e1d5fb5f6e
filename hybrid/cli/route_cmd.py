"""``hybrid route plan|apply``: a song's insert chains as ties on the studio's router.

    hybrid route plan SONG --studio DIR [--together] [--json]
    hybrid route apply SONG --studio DIR [--pass N] [--no-verify] [--json]

``plan`` shows the passes the print planner will run, the ties (or the stored patch, or
the hand-patching steps of a paper bay) for each. ``apply`` sets one pass (``--pass N``)
or, by default, every chain of the song at once (a mix session with all inserts live),
reads the ties back where the router can, and exits non-zero when the router failed.
Conflicts are refused before anything is sent, one line per problem on stderr.

``hybrid surface run`` (recall/surface_binding) is registered here too until the surfaces
area has its own ``surface`` command group (see :func:`register`).
"""

from __future__ import annotations

import sys

from hybrid.cli.output import add_json_flag, add_studio_flag, emit
from recall.errors import RecallProblems


def register(sub) -> None:
    """Add ``route plan|apply`` and ``surface run`` to ``sub``."""
    route = sub.add_parser("route", help="insert routing: a song's chains as ties on the router")
    rsub = route.add_subparsers(dest="route_command", metavar="ACTION", required=True)

    def song_cmd(name, help_text, func):
        sp = rsub.add_parser(name, help=help_text)
        sp.add_argument("song", help="song slug or title")
        add_studio_flag(sp)
        add_json_flag(sp)
        sp.set_defaults(func=func)
        return sp

    sp = song_cmd("plan", "the passes and the ties (or hand-patching steps) for each", cmd_plan)
    sp.add_argument("--together", action="store_true", help="every insert live at once (a mix session)")
    sp = song_cmd("apply", "set the ties of a pass (default: every insert at once) and read them back", cmd_apply)
    sp.add_argument("--pass", dest="pass_index", type=int, default=None, metavar="N",
                    help="set the routing of print pass N (see route plan)")
    sp.add_argument("--no-verify", action="store_true", help="do not read the ties back")
    register_surface(sub)


def _load(args):
    from recall.store import load_sheet, song_dir
    from recall.studio import load_studio

    studio = load_studio(args.studio)
    sheet = load_sheet(studio, args.song)
    return studio, sheet, song_dir(studio, args.song).name


def _refuse(exc: RecallProblems, as_json: bool) -> int:
    if as_json:
        emit({"ok": False, "problems": [p.to_dict() for p in exc.problems]}, True)
    for p in exc.problems:
        print(f"hybrid: error: {p}", file=sys.stderr)
    return 1


def cmd_plan(args) -> int:
    from recall.routing import plan_routes

    studio, sheet, slug = _load(args)
    try:
        plan = plan_routes(studio, sheet, song=slug, together=args.together)
    except RecallProblems as exc:
        return _refuse(exc, args.json)
    result = plan.to_dict()
    result["ok"] = True
    emit(result, args.json, lambda _r: _plan_text(plan))
    return 0


def _plan_text(plan) -> str:
    bay = plan.bay
    how = {"matrix": f"matrix {bay.device!r}", "patchbay": f"patchbay {bay.device!r} (stored patches)",
           "paper": "paper bay (patched by hand)",
           "insert": f"console {bay.device!r} (channel inserts)"}[bay.kind]
    lines = [f"{plan.song}: {len(plan.passes)} pass{'es' if len(plan.passes) != 1 else ''} on the {how}"]
    for rp in plan.passes:
        tracks = ", ".join(c.track for c in rp.chains)
        lines.append(f"pass {rp.index} (round {rp.round}): {tracks}")
        for chain in rp.chains:
            wired = "  (hard-wired)" if chain.hard_wired else ""
            lines.append(f"  {chain.track}: {chain.text}{wired}")
        if bay.kind == "patchbay":
            lines.append(f"  recall stored patch {rp.patch!r}" if rp.patch else "  nothing to patch")
        elif bay.kind == "paper":
            from recall.routing import patch_steps

            lines += [f"  {s}" for s in patch_steps(bay, rp)] or ["  nothing to patch"]
        else:
            lines += [f"  tie {t.text(bay)}   ({t.source} -> {t.dest})" for t in rp.ties] or ["  nothing to patch"]
    for track, why in plan.skipped.items():
        lines.append(f"skipped {track}: {why}")
    return "\n".join(lines)


def cmd_apply(args) -> int:
    from recall.routing import apply_routes, plan_routes

    studio, sheet, slug = _load(args)
    try:
        plan = plan_routes(studio, sheet, song=slug, together=args.pass_index is None)
    except RecallProblems as exc:
        return _refuse(exc, args.json)
    if not plan.passes:
        emit({"ok": True, "song": slug, "passes": []}, args.json, f"{slug}: no inserts to route")
        return 0
    if args.pass_index is not None and not 1 <= args.pass_index <= len(plan.passes):
        from hybrid.errors import HybridError

        raise HybridError(f"no pass {args.pass_index}: the plan has passes 1..{len(plan.passes)}", where=slug)
    rp = plan.passes[(args.pass_index or 1) - 1]
    result = apply_routes(studio, rp, bay=plan.bay, verify=not args.no_verify, song=slug)
    out = result.to_dict(plan.bay)
    out["song"] = slug
    emit(out, args.json, lambda _r: _apply_text(slug, plan.bay, result))
    if not result.ok:
        reason = result.report.reason
        where = "" if reason.startswith(f"{result.report.device}:") else f"{result.report.device}: "
        print(f"hybrid: error: {where}{reason}", file=sys.stderr)
        return 1
    return 0


def _apply_text(slug: str, bay, result) -> str:
    r = result.report
    lines = [f"{slug}: pass {result.pass_index}: {r.device} {r.status}" + (f" ({r.reason})" if r.reason else "")]
    lines += [f"  tie {t.text(bay)}   ({t.source} -> {t.dest})" for t in result.ties if bay.kind == "matrix"]
    lines += [f"  {k} = {v}" for k, v in r.sent.items()] if bay.kind == "insert" else []
    lines += [f"  {s}" for s in result.steps]
    return "\n".join(lines)


# ---- hybrid surface run ------------------------------------------------------------------
def register_surface(sub) -> None:
    """``hybrid surface run SONG --studio DIR --mcu PORT [--xt PORT ...] | --hui PORT``.

    Returns the ``surface`` subparsers action so the surfaces area can add its own
    subcommands to the same group.
    """
    surface = sub.add_parser("surface", help="control surfaces: show and edit a song's sheet on MCU/HUI")
    ssub = surface.add_subparsers(dest="surface_command", metavar="ACTION", required=True)
    sp = ssub.add_parser("run", help="show SONG's sheet on a surface; moves edit the sheet and the gear")
    sp.add_argument("song", help="song slug or title")
    add_studio_flag(sp)
    kind = sp.add_mutually_exclusive_group(required=True)
    kind.add_argument("--mcu", metavar="PORT", help="Mackie Control main unit's MIDI port (name substring)")
    kind.add_argument("--hui", metavar="PORT", help="HUI's MIDI port (name substring)")
    sp.add_argument("--xt", metavar="PORT", action="append", default=[],
                    help="an MCU extender's port, left to right (repeatable)")
    sp.add_argument("--device", action="append", default=[], help="only this device's parameters (repeatable)")
    sp.add_argument("--seconds", type=float, default=None, help="stop after SECONDS (default: until Ctrl-C)")
    sp.add_argument("--no-gear", action="store_true", help="edit the sheet only; do not send to the gear")
    add_json_flag(sp)
    sp.set_defaults(func=cmd_surface_run)
    return ssub


def cmd_surface_run(args) -> int:
    import time

    from recall.store import load_sheet, song_dir
    from recall.studio import load_studio
    from recall.surface_binding import SheetBinding

    from devices.surfaces import SurfaceSession

    if args.hui and args.xt:
        from hybrid.errors import HybridError

        raise HybridError("--xt extenders go with --mcu, not --hui")
    studio = load_studio(args.studio)
    slug = song_dir(studio, args.song).name
    load_sheet(studio, slug)  # a broken sheet is refused before a port opens
    kind, ports = ("hui", [args.hui]) if args.hui else ("mcu", [args.mcu, *args.xt])
    session = SurfaceSession.open(kind, ports)
    binding = None
    try:
        binding = SheetBinding(studio, slug, session, devices=args.device or None, send_to_gear=not args.no_gear)
        binding.start()
        if not args.json:
            print(f"{slug}: {len(binding.slots)} controls on {kind.upper()} "
                  f"({session.bank_size} strips); Ctrl-C to stop", file=sys.stderr)
        deadline = None if args.seconds is None else time.monotonic() + args.seconds
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic())))
        except KeyboardInterrupt:
            pass
    finally:
        if binding is not None:
            binding.close()
        session.close()
    emit(binding.summary(), args.json, lambda s: f"{slug}: {s['edits']} edits, {s['saves']} saves, "
                                                 f"{s['gear_messages']} sent to the gear, "
                                                 f"{s['confirmed']} hand steps confirmed")
    return 0 if not binding.errors else 1
