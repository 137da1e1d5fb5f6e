"""Surface round trip over JACK MIDI: a fader move on the surface -> the sheet -> the gear.

A simulated MCU, a SurfaceSession and a SheetBinding on a private JACK server (dummy
backend, 48 kHz, period 256 = 5.33 ms), bound to a song whose compressor is a simulated
hy-comp-cc on JACK MIDI (paced at DIN rate, 3125 bytes/s). Each round moves the
threshold fader by hand (an untouched move: a final edit) and waits until the simulated
compressor has received the CC, timing three points with ``time.perf_counter_ns``:

- surface -> sheet: the move is sent until the binding has written the value into the sheet;
- sheet -> gear: from there until the simulated unit has decoded the CC;
- surface -> gear: the whole round trip.

Reference, measured in the same run: a bare two-hop JACK MIDI relay (a port -> a callback
that forwards -> another port), the transport floor of the same two hops the round trip
takes (surface -> host, host -> gear), with no sheet, no profile and no wire pacing.

    python bench/surface_sheet_roundtrip.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mido  # noqa: E402

from devices.jack_server import JackServer  # noqa: E402
from devices.midi_port import JACK_BACKEND, find_port, list_ports, midi_backend  # noqa: E402
from devices.profile import builtin_profiles  # noqa: E402
from devices.simulator import Simulator  # noqa: E402
from devices.surfaces import SurfaceSession  # noqa: E402
from devices.surfaces.sim import SimulatedMcu  # noqa: E402
from recall.sheet import Insert  # noqa: E402
from recall.store import create_song, load_sheet, save_sheet  # noqa: E402
from recall.studio import init_studio, load_studio  # noqa: E402
from recall.surface_binding import SheetBinding  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def make_studio(root: Path, comp_port: str):
    init_studio(root, name="Bench Room")
    with open(root / "studio.toml", "a", encoding="utf-8") as fh:
        fh.write(f'\n[devices.Comp]\nprofile = "hy-comp-cc"\nport = "{comp_port}"\n\n'
                 '[loops.A]\nout = 3\nin = 3\n')
    create_song(root, "Bench", samplerate=48000, tracks={"1Kick": "stems/1Kick.wav"})
    studio = load_studio(root)
    sheet = load_sheet(studio, "bench")
    sheet.set_inserts("1Kick", [Insert("A", ["Comp"])])
    sheet.set_values("Comp", {"threshold": -20.0})
    save_sheet(sheet, studio=studio)
    return load_studio(root)


def _full_name(backend, wanted: str) -> str:
    return find_port(wanted, list_ports(backend)["outputs"])


def relay_reference(backend, rounds: int, tag: str) -> list[float]:
    """Two JACK MIDI hops through a forwarding callback: send -> relay -> receive, in ms."""
    got = threading.Event()
    t_in = [0]
    sink = backend.open_input(f"ref-sink-{tag}", virtual=True, client_name=f"ref-sink-{tag}",
                              callback=lambda _msg: (t_in.__setitem__(0, time.perf_counter_ns()), got.set()))
    to_sink = backend.open_output(_full_name(backend, f"ref-sink-{tag}"))
    relay_in = backend.open_input(f"ref-relay-{tag}", virtual=True, client_name=f"ref-relay-{tag}",
                                  callback=lambda msg: to_sink.send(msg))
    source = backend.open_output(_full_name(backend, f"ref-relay-{tag}"))
    times = []
    try:
        time.sleep(0.2)
        for i in range(rounds):
            got.clear()
            t0 = time.perf_counter_ns()
            source.send(mido.Message("control_change", control=20, value=i % 128))
            if got.wait(1.0):
                times.append((t_in[0] - t0) / 1e6)
            time.sleep(0.002)
    finally:
        for port in (source, relay_in, to_sink, sink):
            port.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    tag = str(os.getpid())
    server = JackServer(name=f"hybrid-bench-rt-{tag}")
    server.start(slot_wait_s=120)   # JACK runs 8 servers per machine: wait for a free one
    with server, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(server.environ())
        os.environ["MIDO_BACKEND"] = JACK_BACKEND
        backend = midi_backend(JACK_BACKEND)
        reference = relay_reference(backend, args.rounds, tag)

        profile = builtin_profiles()["hy-comp-cc"]
        comp = Simulator(profile, f"bench-comp-{tag}", backend=backend).start()
        gear_at = [0]
        gear_got = threading.Event()

        def on_gear(param, _value):
            if param == "threshold":
                gear_at[0] = time.perf_counter_ns()
                gear_got.set()
        comp.on_change(on_gear)
        studio = make_studio(Path(tmp) / "studio", comp.port)
        mcu = SimulatedMcu(f"bench-mcu-{tag}", backend=JACK_BACKEND)
        session = SurfaceSession.open("mcu", mcu.port_specs, backend=JACK_BACKEND)
        binding = SheetBinding(studio, "bench", session)
        sheet_at = [0]
        binding.on_change(lambda _change: sheet_at.__setitem__(0, time.perf_counter_ns()))
        binding.start()
        strip = binding._index[("Comp", "threshold")]
        to_sheet, to_gear, total = [], [], []
        lost = 0
        try:
            time.sleep(0.3)
            for i in range(args.rounds):
                gear_got.clear()
                sheet_at[0] = 0
                position = 0.2 + 0.6 * ((i * 7919) % 97) / 96      # a new CC value nearly every round
                t0 = time.perf_counter_ns()
                mcu.move(strip, position)
                if not gear_got.wait(1.0):
                    lost += 1       # the same CC as before (no change at the unit) or a lost message
                    continue
                if sheet_at[0]:
                    to_sheet.append((sheet_at[0] - t0) / 1e6)
                    to_gear.append((gear_at[0] - sheet_at[0]) / 1e6)
                total.append((gear_at[0] - t0) / 1e6)
                time.sleep(0.003)
            binding.wait_idle(2)
        finally:
            binding.close()
            session.close()
            mcu.close()
            comp.stop()
        saves, edits = binding.saves, binding.edits

    ref50, ref99 = pct(reference, 50), pct(reference, 99)
    print(f"JACK dummy 48 kHz, period 256 (5.33 ms); {args.rounds} fader moves on a simulated MCU; "
          f"gear hy-comp-cc at DIN rate")
    print(f"reference, bare two-hop JACK MIDI relay: p50 {ref50:.2f} ms, p99 {ref99:.2f} ms ({len(reference)} rounds)")
    for label, values in (("surface -> sheet", to_sheet), ("sheet -> gear   ", to_gear),
                          ("surface -> gear ", total)):
        if values:
            print(f"{label}: p50 {pct(values, 50):6.2f} ms   p99 {pct(values, 99):6.2f} ms   "
                  f"(n={len(values)})")
    if total:
        print(f"round trip / reference: p50 {pct(total, 50) / ref50:.2f}x, p99 {pct(total, 99) / ref99:.2f}x")
    print(f"{edits} sheet edits, {saves} coalesced saves, {lost} rounds without a change at the unit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
