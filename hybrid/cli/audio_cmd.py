"""Audio commands: ``latency measure``, ``latency show`` (and ``print``, registered beside them).

    hybrid latency measure --device DEV --out N --in N [--samplerate R] [--blocksize B] [--json]
    hybrid latency measure LOOP --studio DIR [--device DEV ...] [--route R] [--json]
    hybrid latency show --studio DIR [--route R] [--json]

Each area's handlers sit in their own functions so the print command can be added
beside them (``register`` calls each ``register_*``).
"""

from __future__ import annotations

from hybrid.cli.output import add_json_flag, emit
from hybrid.errors import HybridError


def register(sub) -> None:
    """Add this area's subcommands to ``sub`` (an argparse subparsers action)."""
    register_latency(sub)
    register_print(sub)


def register_print(sub) -> None:
    """``hybrid print`` (its parser and handlers live in hybrid.cli.print_cmd)."""
    from hybrid.cli.print_cmd import register_print as _register

    _register(sub)


# --------------------------------------------------------------------------- latency


def register_latency(sub) -> None:
    parser = sub.add_parser("latency", help="measure and show the round-trip latency of insert loops",
                            description="Measure a loop's round trip (sub-sample), polarity, gain and noise.")
    actions = parser.add_subparsers(dest="latency_action", metavar="ACTION", required=True)

    measure = actions.add_parser(
        "measure", help="ping a loop (by channels, or a studio loop by name, which is then stored)",
        description="Ping a loop: --device/--out/--in, or LOOP from --studio (stored in latency.toml).")
    measure.add_argument("loop", nargs="?", metavar="LOOP", help="a loop of studio.toml ([loops.LOOP])")
    measure.add_argument("--studio", metavar="DIR", help="the studio folder (with LOOP)")
    measure.add_argument("--device", metavar="DEV", help="audio device as PortAudio lists it (name or index)")
    measure.add_argument("--hostapi", metavar="API", help="host API to look the device up in")
    measure.add_argument("--out", dest="out_channel", type=int, metavar="N", help="output channel (1-based)")
    measure.add_argument("--in", dest="in_channel", type=int, metavar="N", help="input channel (1-based)")
    measure.add_argument("--samplerate", type=int, metavar="R", help="sample rate (default: the device's)")
    measure.add_argument("--blocksize", type=int, metavar="B", help="frames per block (0 = the host's own)")
    measure.add_argument("--route", metavar="TEXT", default=None,
                         help="the route the loop is patched through (part of the stored key)")
    measure.add_argument("--level-dbfs", type=float, default=-12.0, metavar="DB",
                         help="peak level of the ping sweep (default -12 dBFS)")
    add_json_flag(measure)
    measure.set_defaults(func=cmd_latency_measure)

    show = actions.add_parser("show", help="the stored latencies of a studio's loops, current or stale")
    show.add_argument("--studio", metavar="DIR", required=True, help="the studio folder")
    show.add_argument("--route", metavar="TEXT", default=None, help="compare routes too (the current route)")
    add_json_flag(show)
    show.set_defaults(func=cmd_latency_show)


def cmd_latency_measure(args) -> int:
    from hybrid.live.audio import latency_store
    from hybrid.live.audio.ping import measure_loop

    if args.loop:
        if not args.studio:
            raise HybridError(f"measuring loop {args.loop!r} needs --studio DIR")
        from hybrid.live.audio.interface import load_interface

        interface = load_interface(args.studio).override(
            device=args.device, hostapi=args.hostapi, samplerate=args.samplerate, blocksize=args.blocksize)
        from recall.studio import load_loop

        loop = load_loop(args.studio, args.loop)
        out_channel = args.out_channel or loop.out_channel
        in_channel = args.in_channel or loop.in_channel
        device, hostapi = interface.device, interface.hostapi
        samplerate, blocksize = interface.samplerate, interface.blocksize
    else:
        missing = [flag for flag, value in (("--device", args.device), ("--out", args.out_channel),
                                            ("--in", args.in_channel)) if value is None]
        if missing:
            raise HybridError(f"give {', '.join(missing)} (or a LOOP with --studio DIR)")
        device, hostapi = args.device, args.hostapi
        out_channel, in_channel = args.out_channel, args.in_channel
        samplerate, blocksize = args.samplerate, args.blocksize
    if blocksize is not None and blocksize < 0:
        raise HybridError(f"--blocksize: expected 0 (the host's own) or more, got {blocksize}")

    result = measure_loop(device, out_channel, in_channel, samplerate=samplerate, blocksize=blocksize,
                          hostapi=hostapi, level_dbfs=args.level_dbfs)
    report = {**result.to_dict(), "device": str(device), "out": out_channel, "in": in_channel,
              "blocksize": blocksize or 0}
    if args.loop:
        key = latency_store.LatencyKey(device=str(device), samplerate=result.samplerate,
                                       blocksize=blocksize or 0, route=args.route or "")
        latency_store.store(args.studio, args.loop, result, key)
        report.update(loop=args.loop, stored=str(latency_store.path_of(args.studio)), key=key.to_dict())
    emit(report, args.json, _measure_text)
    return 0


def _measure_text(report: dict) -> str:
    name = f"loop {report['loop']}" if report.get("loop") else f"{report['device']} out {report['out']} -> in {report['in']}"
    lines = [
        f"{name}: {report['latency_samples']:.3f} samples ({report['latency_ms']:.3f} ms at {report['samplerate']} Hz)",
        f"  polarity {'+' if report['polarity'] > 0 else '- (inverted)'}, gain {report['gain_db']:+.2f} dB, "
        f"SNR {_fmt(report['snr_db'], ' dB')}, noise floor {_fmt(report['noise_floor_dbfs'], ' dBFS')}",
        f"  confidence {report['confidence']:.2f} (+-{report['uncertainty_samples']:.4f} sample), "
        f"method {report['method']}",
    ]
    lines += [f"  warning: {w}" for w in report["warnings"]]
    if report.get("stored"):
        lines.append(f"  stored in {report['stored']}")
    return "\n".join(lines)


def _fmt(value, unit: str) -> str:
    return "n/a" if value is None else f"{value:.1f}{unit}"


def cmd_latency_show(args) -> int:
    from hybrid.live.audio import latency_store
    from hybrid.live.audio.interface import load_interface
    from recall.studio import load_loops

    interface = load_interface(args.studio)
    loops = load_loops(args.studio)
    stored = latency_store.load(args.studio)
    rows = []
    for name in list(loops) + [n for n in stored if n not in loops]:
        key = latency_store.LatencyKey(device=interface.device, samplerate=interface.samplerate,
                                       blocksize=interface.blocksize, route=args.route)
        state = latency_store.status(args.studio, name, key, compare_route=args.route is not None)
        row = state.to_dict()
        if name in loops:
            row["out"], row["in"] = loops[name].out_channel, loops[name].in_channel
        else:
            row["reasons"] = ["no such loop in studio.toml"] + row["reasons"]
            row["stale"] = True
        rows.append(row)
    report = {"studio": str(args.studio), "interface": interface.to_dict(), "loops": rows}
    emit(report, args.json, _show_text)
    return 0


def _show_text(report: dict) -> str:
    if not report["loops"]:
        return "no loops in studio.toml"
    lines = [f"{'loop':<12} {'latency (samples)':>18} {'pol':>4} {'gain dB':>8}  state"]
    for row in report["loops"]:
        entry = row["entry"]
        if entry is None:
            lines.append(f"{row['loop']:<12} {'-':>18} {'-':>4} {'-':>8}  not measured")
            continue
        state = "stale: " + "; ".join(row["reasons"]) if row["stale"] else "current"
        lines.append(f"{row['loop']:<12} {entry['latency_samples']:>18.3f} {entry['polarity']:>+4d} "
                     f"{entry['gain_db']:>8.2f}  {state}")
    return "\n".join(lines)
