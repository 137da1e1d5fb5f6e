"""Control-surface figures over JACK MIDI, against references measured in the same run.

1. Surface round trip: a fader moved on a simulated MCU -> the edit delivered to the
   binder -> the value mapped to the gear's units and written back to the strip ->
   the gear message (a CC from the hy-comp-cc profile, through devices.Device) arriving
   at the simulated compressor. p50/p99, against one bare JACK MIDI hop (the floor:
   the round trip crosses JACK twice).
2. Bank switch redraw on an MCU + 3 XT (32 strips: LCD text, motor faders, V-pot
   rings): from ``bank()`` until the simulated surfaces show every strip of the new
   bank. Paced at DIN MIDI speed (what an MCU's input takes) against the wire time of
   the bytes sent, and unpaced (USB-MIDI surfaces) to show the program's own cost.

Run: ``python bench/surface_roundtrip.py [--moves N] [--switches N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devices.midi_port import JACK_BACKEND  # noqa: E402

BACKEND = JACK_BACKEND


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def fmt(values_ms: list[float]) -> str:
    return f"p50 {pct(values_ms, 50):6.2f} ms   p99 {pct(values_ms, 99):6.2f} ms"


def one_hop_ms(count: int) -> list[float]:
    """A CC from a mido output to a polled input: what one crossing of JACK costs."""
    import mido

    from devices.surfaces.ports import InputPoller, PolledInput, midi_backend

    midi = midi_backend(BACKEND)
    sink = PolledInput(midi, "bench-hop", virtual=True, client_name="bench-hop-rx")
    poller = InputPoller("bench-hop", poll_s=0.0002, idle_poll_s=0.0002)
    arrived = threading.Event()
    stamp = [0]

    def got(_msg: object) -> None:
        stamp[0] = time.perf_counter_ns()
        arrived.set()

    poller.add(sink, got)
    out = midi.open_output([n for n in midi.get_output_names() if "bench-hop" in n][0])
    samples = []
    try:
        time.sleep(0.05)
        for i in range(count):
            arrived.clear()
            start = time.perf_counter_ns()
            out.send(mido.Message("control_change", control=20, value=i % 128))
            if arrived.wait(1.0):
                samples.append((stamp[0] - start) / 1e6)
            time.sleep(0.003)
    finally:
        out.close()
        poller.close()
    return samples


def round_trip_ms(count: int) -> tuple[list[float], list[float], int]:
    """(move -> gear message, move -> edit delivered, lost) over ``count`` fader moves."""
    from devices.device import Device
    from devices.profile import builtin_profiles
    from devices.simulator import Simulator
    from devices.surfaces import Slot, SurfaceSession
    from devices.surfaces.sim import SimulatedMcu

    profile = builtin_profiles()["hy-comp-cc"]
    params = list(profile.parameters.values())
    gear_sim = Simulator(profile, "bench-comp").start()
    device = Device(profile, "bench-comp", name="Bus comp", backend=None).open()
    surface = SimulatedMcu("bench-rt", backend=BACKEND)
    session = SurfaceSession.open("mcu", surface.port_specs, backend=BACKEND)
    arrived = threading.Event()
    gear_stamp = [0]
    edit_stamps: list[int] = []

    def on_gear_change(_param: str, _value: object) -> None:
        gear_stamp[0] = time.perf_counter_ns()
        arrived.set()

    def bind(edit) -> None:
        """What the recall binding does: surface position -> gear units -> gear and strip."""
        edit_stamps.append(time.perf_counter_ns())
        param = profile.parameters[edit.slot.key]
        if param.kind == "continuous":
            value = param.from_wire(round(edit.position * 16383), 16383)
        elif param.kind == "stepped":
            value = param.labels[edit.step]
        else:
            value = bool(edit.step)
        value = device.set(param.name, value)
        session.update_slot(edit.index, value_text=param.format(value))

    gear_sim.on_change(on_gear_change)
    session.on_edit(bind)
    try:
        slots = []
        for p in params:
            value = gear_sim.state[p.name]
            steps = len(p.labels) if p.kind == "stepped" else 0
            position = p.to_wire(value, 16383) / 16383
            slots.append(Slot("Bus comp", p.label, p.format(value), position=position, kind=p.kind,
                              steps=steps, key=p.name))
        session.set_slots(slots)
        session.wait_idle()
        strip = 0  # threshold, continuous
        samples, to_edit, lost = [], [], 0
        for i in range(count):
            arrived.clear()
            edit_stamps.clear()
            start = time.perf_counter_ns()
            surface.move(strip, 0.25 if i % 2 else 0.75)
            if arrived.wait(1.0):
                samples.append((gear_stamp[0] - start) / 1e6)
                if edit_stamps:
                    to_edit.append((edit_stamps[0] - start) / 1e6)
            else:
                lost += 1
            session.wait_idle()
            time.sleep(0.004)
        return samples, to_edit, lost
    finally:
        session.close()
        surface.close()
        device.close()
        gear_sim.stop()


def redraw_ms(switches: int, paced: bool) -> tuple[list[float], float, int]:
    """(redraw times, mean DIN wire time of the bytes of one redraw's busiest unit, bytes)."""
    from devices.surfaces import Slot, SurfaceSession
    from devices.surfaces.codec import fader_value, ring_byte, ring_position, RingMode
    from devices.surfaces.sim import SimulatedMcu
    from devices.surfaces.units import DIN_MIDI_BYTES_PER_S

    name = "bench-bank-din" if paced else "bench-bank-usb"
    surface = SimulatedMcu(name, extenders=3, backend=BACKEND)
    options = {} if paced else {"max_bytes_per_s": None}
    session = SurfaceSession.open("mcu", surface.port_specs, backend=BACKEND, **options)
    units = session.surface.units
    try:
        slots = [Slot(f"Unit {i // 6}", f"Par{i:02d}", f"{i:+d} dB", position=((i * 37) % 64) / 63)
                 for i in range(64)]
        session.set_slots(slots)
        session.wait_idle(5)
        times, wire_s, total_bytes = [], [], 0

        def shows(offset: int):
            def check() -> bool:
                for strip in range(32):
                    slot = slots[offset + strip]
                    unit, local = surface.unit_strip(strip)
                    top, bottom = unit.strip_text(local)
                    if top[:5] != slot.parameter or not bottom.startswith(slot.value_text):
                        return False
                    if unit.faders[local] != fader_value(slot.position):
                        return False
                    if unit.rings[local] != ring_byte(RingMode.WRAP, ring_position(slot.position)):
                        return False
                return True
            return check

        for i in range(switches):
            offset = 32 if i % 2 == 0 else 0
            before = [u.bytes_sent for u in units]
            start = time.perf_counter()
            session.bank(offset)
            if not surface.wait_for(shows(offset), 5.0):
                raise SystemExit(f"bank switch {i} never reached the surface (errors: {surface.errors[:3]})")
            times.append((time.perf_counter() - start) * 1000)
            sent = [u.bytes_sent - b for u, b in zip(units, before, strict=False)]
            total_bytes = sum(sent)
            wire_s.append(max(sent) / DIN_MIDI_BYTES_PER_S)
            time.sleep(0.1)  # let the token bucket refill, as between a person's presses
        if surface.errors:
            raise SystemExit(f"the simulated surface saw protocol errors: {surface.errors[:3]}")
        return times, statistics.mean(wire_s) * 1000, total_bytes
    finally:
        session.close()
        surface.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=300)
    parser.add_argument("--switches", type=int, default=20)
    args = parser.parse_args()

    from devices.jack_server import JackServer

    with JackServer(name=f"bench-surface-{os.getpid()}") as server:
        os.environ.update(server.environ())
        os.environ["MIDO_BACKEND"] = BACKEND
        hop = one_hop_ms(args.moves)
        trip, to_edit, lost = round_trip_ms(args.moves)
        din, din_wire_ms, din_bytes = redraw_ms(args.switches, paced=True)
        usb, _, _ = redraw_ms(args.switches, paced=False)

    print(f"JACK dummy server, 48 kHz, period {server.period_frames} frames "
          f"({server.period_frames / server.samplerate * 1000:.2f} ms)")
    print(f"one JACK MIDI hop (reference), {len(hop)} CCs:        {fmt(hop)}")
    print(f"surface round trip, {len(trip)} fader moves ({lost} lost):")
    print(f"  move -> edit delivered to the binder:        {fmt(to_edit)}")
    print(f"  move -> gear CC at the simulated compressor: {fmt(trip)}")
    print(f"  round trip / two JACK hops (p50):            {pct(trip, 50) / (2 * pct(hop, 50)):.2f}x")
    print(f"bank switch redraw, MCU + 3 XT (32 strips: LCD, faders, rings), {args.switches} switches:")
    print(f"  paced at DIN MIDI (3125 B/s, 64-byte burst): {fmt(din)}")
    print(f"    {din_bytes} bytes per redraw; wire time of the busiest unit {din_wire_ms:.1f} ms; "
          f"redraw / wire time (p50) {pct(din, 50) / din_wire_ms:.2f}x (the first 64 bytes go at once, "
          f"into the MIDI interface's buffer)")
    print(f"  unpaced (USB-MIDI surface):                  {fmt(usb)}")
    return 0 if not lost else 1


if __name__ == "__main__":
    raise SystemExit(main())
