"""Full recall of each MIDI profile over a DIN-rate-limited port: measured time / wire time.

For every built-in MIDI profile, a simulator opens virtual JACK MIDI ports on a private
JACK server and a Device sends a full recall (every parameter moved off its default),
paced at 3125 bytes/s. ``apply`` returns when the last byte has left the (modelled)
wire, so its duration is the measured time. The wire time is the bytes at 3125 bytes/s
plus the silences the profile asks for (``min_gap_ms``, ``gap_after_sysex_ms``); the
pure byte time is printed beside it. Goal: measured / wire <= 1.1.

    python bench/devices_recall_wire.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devices.device import Device  # noqa: E402
from devices.jack_server import JackServer  # noqa: E402
from devices.midi_port import JACK_BACKEND, midi_backend  # noqa: E402
from devices.profile import builtin_profiles  # noqa: E402
from devices.simulator import Simulator  # noqa: E402

GOAL = 1.1


def full_recall(profile) -> dict:
    """Every parameter moved off its default, so every message of the recall is needed."""
    out = {}
    for name, p in profile.parameters.items():
        if p.kind == "continuous":
            out[name] = p.minimum * (p.maximum / p.minimum) ** 0.61 if p.taper == "log" \
                else p.minimum + (p.maximum - p.minimum) * 0.37
        elif p.kind == "stepped":
            out[name] = p.labels[-1] if p.default != p.labels[-1] else p.labels[0]
        else:
            out[name] = not p.default
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with JackServer(name=f"hybrid-bench-{os.getpid()}") as server:
        os.environ.update(server.environ())
        backend = midi_backend(JACK_BACKEND)
        rows = []
        for pid, profile in builtin_profiles().items():
            if profile.midi is None:
                continue
            values = full_recall(profile)
            with Simulator(profile, f"bench-{pid}", backend=backend) as sim, \
                    Device(profile, sim.port, backend=backend) as dev:
                messages = dev.plan(values)
                nbytes = sum(len(m.bytes()) for m in messages)
                wire_s = dev.wire_time_s(messages)
                bytes_s = nbytes / profile.midi.rate_bytes_per_s
                ratios = []
                for run in range(args.runs):
                    if run:
                        # back to defaults so the next run moves every parameter again
                        dev.apply(profile.defaults())
                        time.sleep(0.02)   # start each timed recall on an idle wire (gaps owed are paid)
                    start = time.perf_counter()
                    dev.apply(values)
                    ratios.append((time.perf_counter() - start) / wire_s)
                time.sleep(0.05)
                arrived = sim.state == profile.defaults() | dev.quantize(values)
            rows.append((pid, len(messages), nbytes, bytes_s, wire_s, statistics.median(ratios), max(ratios),
                         arrived))
    print(f"Full recall over a DIN-rate port (3125 bytes/s), {args.runs} runs each; goal measured/wire <= {GOAL}")
    print(f"{'profile':<16} {'msgs':>5} {'bytes':>6} {'bytes ms':>9} {'wire ms':>8} "
          f"{'ratio (median)':>15} {'ratio (worst)':>14}  arrived")
    worst = 0.0
    for pid, count, nbytes, bytes_s, wire_s, median, high, arrived in rows:
        worst = max(worst, median)
        print(f"{pid:<16} {count:>5} {nbytes:>6} {bytes_s * 1000:>9.2f} {wire_s * 1000:>8.2f} "
              f"{median:>15.3f} {high:>14.3f}  {'yes' if arrived else 'NO'}")
    print(f"worst median ratio: {worst:.3f} ({'meets' if worst <= GOAL else 'misses'} the {GOAL}x goal)")
    return 0 if worst <= GOAL and all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
