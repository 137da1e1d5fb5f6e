"""``hybrid surface ...``: control surfaces (Mackie Control + extenders, HUI).

    hybrid surface check (--mcu PORT [--xt PORT ...] | --hui PORT) [--hold SECONDS] [--json]
    hybrid surface simulate (--mcu NAME [--extenders N] | --hui NAME) [--for SECONDS] [--json]
    hybrid surface run SONG ...        (the sheet on the strips: recall.surface_binding)

``check`` is the studio tech's first question -- is the surface there, in the right
mode, on the ports I think? It opens every unit, times its answer to the liveness
query, paints a test pattern (unit and strip numbers on the displays, faders fanned
out, rings lit) for ``--hold`` seconds, blanks it and reports. ``simulate`` puts
simulated surfaces on virtual MIDI ports, for trying the others without hardware, and
prints what they show when it ends.
"""

from __future__ import annotations

import argparse
import sys
import time

from hybrid.cli.output import add_json_flag, emit
from hybrid.cli.stopping import stop_signals, wait_until


def register(sub) -> None:
    """Add ``route ...`` and the ``surface`` group (``run`` from routing; ``check``, ``simulate`` here)."""
    from hybrid.cli import route_cmd  # route plan|apply, surface run (the routing/binding area)

    route_cmd.register(sub)
    surface = sub.choices["surface"]
    ssub = next(a for a in surface._actions if isinstance(a, argparse._SubParsersAction))

    cp = ssub.add_parser("check", help="is the surface there? answer time per unit, a test pattern")
    _add_surface_ports(cp)
    cp.add_argument("--hold", type=float, default=0.0, metavar="SECONDS",
                    help="keep the test pattern up this long before blanking (default: 0)")
    cp.add_argument("--timeout", type=float, default=1.0, metavar="SECONDS",
                    help="how long a unit may take to answer (default: 1)")
    add_json_flag(cp)
    cp.set_defaults(func=cmd_check)

    sp = ssub.add_parser("simulate", help="simulated MCU (+ XT) or HUI on virtual MIDI ports")
    kind = sp.add_mutually_exclusive_group(required=True)
    kind.add_argument("--mcu", metavar="NAME", help="port name prefix of a simulated MCU")
    kind.add_argument("--hui", metavar="NAME", help="port name prefix of a simulated HUI")
    sp.add_argument("--extenders", type=int, default=0, help="MCU XT units beside the MCU (0..3)")
    sp.add_argument("--for", dest="seconds", type=float, default=None, metavar="SECONDS",
                    help="stop after SECONDS (default: until Ctrl-C)")
    add_json_flag(sp)
    sp.set_defaults(func=cmd_simulate)


def _add_surface_ports(parser) -> None:
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument("--mcu", metavar="PORT", help="Mackie Control main unit's MIDI port (name substring)")
    kind.add_argument("--hui", metavar="PORT", help="HUI's MIDI port (name substring)")
    parser.add_argument("--xt", metavar="PORT", action="append", default=[],
                        help="an MCU extender's port, left to right (repeatable, up to 3)")


def cmd_check(args) -> int:
    from devices.surfaces.codec import RingMode, fader_value, ring_byte
    from devices.surfaces.driver import Surface
    from hybrid.errors import HybridError

    if args.hui and args.xt:
        raise HybridError("--xt extenders go with --mcu, not --hui")
    kind, ports = ("hui", [args.hui]) if args.hui else ("mcu", [args.mcu, *args.xt])
    started = time.perf_counter()
    surface = Surface.open(kind, ports, answer_timeout_s=args.timeout)
    try:
        answer_ms = (time.perf_counter() - started) * 1000
        strip = 0
        for unit in surface.units:
            for local in range(unit.strips):
                unit.set_strip_text(local, unit.name, f"strip {strip + 1}")
                unit.set_fader(local, fader_value(local / (unit.strips - 1)))
                unit.set_ring(local, ring_byte(RingMode.WRAP, 1 + local))
                strip += 1
        drawn = surface.wait_idle(5.0)
        if args.hold > 0:
            time.sleep(args.hold)
        report = {"kind": kind, "strips": surface.strips, "open_and_answer_ms": round(answer_ms, 1),
                  "pattern_sent": drawn, "units": surface.describe()}
    finally:
        surface.close()
    emit(report, args.json, _check_text)
    return 0 if all(u["online"] for u in report["units"]) and report["pattern_sent"] else 1


def _check_text(report: dict) -> str:
    lines = [f"{report['kind'].upper()}: {report['strips']} strips, all units answered "
             f"({report['open_and_answer_ms']:.0f} ms to open and hear back)"]
    for unit in report["units"]:
        lines.append(f"  {unit['unit']:<10} {unit['protocol']:<7} out {unit['output']!r}  in {unit['input']!r}")
    if not report["pattern_sent"]:
        lines.append("  the test pattern did not finish sending within 5 s (port too slow or gone?)")
    return "\n".join(lines)


def cmd_simulate(args) -> int:
    from devices.surfaces.sim import SimulatedHui, SimulatedMcu
    from hybrid.errors import HybridError

    if args.hui and args.extenders:
        raise HybridError("--extenders go with --mcu, not --hui")
    if not 0 <= args.extenders <= 3:
        raise HybridError(f"--extenders {args.extenders}: an MCU takes 0..3 extenders")
    with stop_signals() as stop:
        sim = SimulatedHui(args.hui) if args.hui else SimulatedMcu(args.mcu, extenders=args.extenders)
        try:
            if not args.json:
                specs = " ".join(f"--{'hui' if args.hui else ('mcu' if i == 0 else 'xt')} {s!r}"
                                 for i, s in enumerate(sim.port_specs))
                print(f"simulated {sim.kind.upper()} on virtual MIDI ports; use: {specs}", file=sys.stderr)
                sys.stderr.flush()
            wait_until(stop, args.seconds, tick_s=0.05)
            picture = {
                "kind": sim.kind, "ports": sim.port_specs, "queries_answered": sim.queries, "errors": sim.errors,
                "strips": [{"strip": s + 1, "text": list(sim.strip_text(s)), "fader": sim.fader(s),
                            "ring": sim.ring(s), "select": sim.led("select", s)} for s in range(sim.strips)],
            }
        finally:
            sim.close()
    emit(picture, args.json, _picture_text)
    return 0 if not picture["errors"] else 1


def _picture_text(picture: dict) -> str:
    lines = [f"{picture['kind'].upper()} after {picture['queries_answered']} liveness queries:"]
    for strip in picture["strips"]:
        top, bottom = strip["text"]
        lines.append(f"  {strip['strip']:>2} |{top}|{bottom}| fader {strip['fader']:>5} ring {strip['ring']:#04x} "
                     f"select {strip['select']}")
    lines += [f"  protocol error: {e}" for e in picture["errors"]]
    return "\n".join(lines)
