"""``hybrid recall fingerprint|verify|verify-step SONG``: verify a recall by ear.

Registered into ``hybrid recall`` by ``recall_cmd.register`` through
:func:`register_recall_subcommands`. Every command takes ``--studio DIR`` (default:
$HYBRID_STUDIO, else the current folder) and ``--json``; ``verify`` exits 1 when any
chain fails (one line per failing chain on stderr).
"""

from __future__ import annotations

import sys

from hybrid.cli.output import add_json_flag, add_studio_flag, emit


def register_recall_subcommands(rsub) -> None:
    """Add ``fingerprint``, ``verify`` and ``verify-step`` to ``hybrid recall``'s subparsers."""

    def song_cmd(name, help_text, func, *, loops=True):
        sp = rsub.add_parser(name, help=help_text)
        sp.add_argument("song", help="song slug or title")
        add_studio_flag(sp)
        if loops:
            sp.add_argument("--loop", action="append", default=[],
                            help="only the chain(s) on this loop (repeatable)")
        add_json_flag(sp)
        sp.set_defaults(func=func)
        return sp

    sp = song_cmd("fingerprint", "measure each insert chain of a song and store how it sounds (beside the sheet)",
                  cmd_fingerprint)
    sp.add_argument("--takes", type=int, default=2,
                    help="measurements per chain; their spread sets the tolerance (default 2)")
    sp.add_argument("--no-isolate", action="store_true",
                    help="do not also fingerprint each unit alone (a matrix router patches them one by one)")
    sp = song_cmd("verify", "measure each insert chain again and compare with its fingerprint; name what moved",
                  cmd_verify)
    sp.add_argument("--no-suspects", action="store_true", help="only pass/fail, do not look for what moved")
    sp.add_argument("--no-isolate", action="store_true",
                    help="do not patch the units of a failing chain alone to measure them (matrix router)")
    sp = song_cmd("verify-step", "did a hand-set knob land where the sheet has it? (measures its chain)",
                  cmd_verify_step, loops=False)
    sp.add_argument("device", help="the device's name in studio.toml")
    sp.add_argument("parameter", help="the parameter (as in the profile, e.g. hmf_gain)")


def _progress(as_json: bool):
    if as_json:
        return None
    return lambda message: print(f"  {message} ...", file=sys.stderr, flush=True)


def cmd_fingerprint(args) -> int:
    from hybrid.live.verify import fingerprint_song

    refused: list = []    # a chain that cannot be measured is named; the others are stored
    fps = fingerprint_song(args.studio, args.song, takes=args.takes, loops=args.loop or None,
                           isolate=not args.no_isolate, progress=_progress(args.json), failed=refused)
    result = {"ok": not refused, "song": args.song, "refused": [str(e) for e in refused], "fingerprints": [
        {"chain": fp.key.to_dict(), "samplerate": fp.samplerate, "takes": fp.takes,
         "gain_ref_db": round(fp.reference.gain_ref_db, 3),
         "noise_floor_dbfs": round(fp.reference.noise_floor_dbfs, 2),
         "latency_samples": round(fp.reference.latency_samples, 3),
         "tolerance": fp.tolerance.to_dict(), "warnings": fp.warnings, "alone": sorted(fp.alone)} for fp in fps]}

    def text(_):
        lines = []
        for fp in fps:
            lines.append(f"{fp.key.label:36s} stored  gain {fp.reference.gain_ref_db:+.2f} dB @1k/-20 dBFS, "
                         f"noise {fp.reference.noise_floor_dbfs:.1f} dBFS, THD {fp.reference.thd_at(-4):.3f}% @-4 dBFS")
            lines.append(f"{'':36s} tolerance {fp.tolerance.describe()}")
            if fp.alone:
                lines.append(f"{'':36s} and each unit alone: {', '.join(fp.alone)}")
        lines.extend(f"NOT STORED: {e}" for e in refused)
        return "\n".join(lines)

    emit(result, args.json, text)
    return 1 if refused else 0


def cmd_verify(args) -> int:
    from hybrid.live.verify import verify_song

    verdict = verify_song(args.studio, args.song, loops=args.loop or None, suspects=not args.no_suspects,
                          isolate=not args.no_isolate, progress=_progress(args.json))

    def text(_):
        lines = []
        for c in verdict.chains:
            if c.error:
                lines.append(f"{c.key.label:36s} FAIL  {c.error}")
                continue
            comp = c.comparison
            lines.append(f"{c.key.label:36s} {'PASS' if c.ok else 'FAIL'}  worst {comp.worst_ratio:.2f} x tolerance "
                         f"(tolerance {comp.tolerance.describe()})")
            for failure in comp.failures:
                lines.append(f"{'':38s}{failure}")
            if c.isolation:
                lines.append(f"{'':38s}{c.isolation}")
            for k, s in enumerate(c.suspects):
                lines.append(f"{'':38s}{'suspect' if k == 0 else 'or':7s} {s.text} (explains {100 * s.explained:.0f}%)")
        lines.append(f"{'PASS' if verdict.ok else 'FAIL'}: {sum(c.ok for c in verdict.chains)}/{len(verdict.chains)} "
                     f"chains as stored ({verdict.seconds:.1f} s)")
        return "\n".join(lines)

    emit(verdict.to_dict(), args.json, text)
    for c in verdict.chains:
        if not c.ok:
            why = c.error or "; ".join(c.comparison.failures)
            who = f"; suspect: {c.suspect.text}" if c.suspect else ""
            print(f"hybrid: error: {c.key.label}: {why}{who}", file=sys.stderr)
    return 0 if verdict.ok else 1


def cmd_verify_step(args) -> int:
    from hybrid.live.verify import verify_step

    step = verify_step(args.studio, args.song, args.device, args.parameter, progress=_progress(args.json))
    emit(step.to_dict(), args.json, lambda _: f"{'OK  ' if step.ok else 'OFF '} {step.text}")
    if not step.ok:
        print(f"hybrid: error: {step.text}", file=sys.stderr)
    return 0 if step.ok else 1
