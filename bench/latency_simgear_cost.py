"""Cost of the simulated gear's audio callback: can it keep up at 48 kHz / 256 frames?

Runs the gear's loops block by block (exactly what its JACK process callback runs, minus
JACK's port lookups) for a studio-like set of loops, and prints per-block time p50/p99/
max as a share of the block period (5.33 ms). Under ~25 % at p99 leaves room for the
PortAudio client and the rest of the graph on a loaded two-core machine. Wall-clock
figures include preemption by other processes; "cpu" (this thread's CPU time) does not.

    python bench/latency_simgear_cost.py [--blocks N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hybrid.models.dsp import Band, Compressor, Equaliser, Reverb, Saturator  # noqa: E402
from hybrid.simgear.loop import LoopChannel, LoopSpec  # noqa: E402

RATE = 48000
BLOCK = 256


def studio_loops() -> dict[str, list[LoopSpec]]:
    def wire(delay):
        return LoopSpec(delay_samples=delay, noise_dbfs=-90.0, highpass_hz=20.0)

    return {
        "1 wire (delay, HPF, noise)": [wire(37.25)],
        "1 compressor": [LoopSpec(delay_samples=37.25, noise_dbfs=-90.0, highpass_hz=20.0,
                                  processors=[Compressor(-20.0, 4.0, 5.0, 100.0)])],
        "1 five-band EQ": [LoopSpec(delay_samples=37.25, noise_dbfs=-90.0, highpass_hz=20.0, processors=[
            Equaliser([Band("highpass", 30.0), Band("lowshelf", 100.0, 3.0), Band("peak", 400.0, -2.0, 1.0),
                       Band("peak", 2500.0, 2.0, 1.5), Band("highshelf", 8000.0, 2.0)])])],
        "1 reverb": [LoopSpec(delay_samples=37.25, processors=[Reverb(1.8, 20.0, 0.3)])],
        "8 loops: demo studio": [
            wire(37.25), wire(100.3),
            LoopSpec(delay_samples=61.5, noise_dbfs=-92.0, processors=[Compressor(-20.0, 4.0, 5.0, 100.0)]),
            LoopSpec(delay_samples=61.5, noise_dbfs=-96.0, processors=[
                Equaliser([Band("highpass", 30.0), Band("lowshelf", 100.0, 3.0), Band("peak", 400.0, -2.0, 1.0),
                           Band("peak", 2500.0, 2.0, 1.5), Band("highshelf", 8000.0, 2.0)])]),
            LoopSpec(delay_samples=80.0, noise_dbfs=-90.0, processors=[Reverb(1.8, 20.0, 0.3)]),
            LoopSpec(delay_samples=12.0, noise_dbfs=-84.0, processors=[Saturator(6.0, -6.0)]),
            wire(200.7), wire(300.1),
        ],
        "16 wires": [wire(37.25 + k) for k in range(16)],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=2000, help="blocks to time per set (default 2000)")
    args = parser.parse_args()
    period_ms = 1000.0 * BLOCK / RATE
    rng = np.random.default_rng(0)
    print(f"simulated gear callback cost at {RATE} Hz / {BLOCK} frames (period {period_ms:.2f} ms), "
          f"{args.blocks} blocks")
    print(f"{'loops':<28}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'p99 / period':>14}{'cpu p99':>11}"
          f"{'cpu / period':>14}")
    for name, specs in studio_loops().items():
        loops = [LoopChannel(spec, RATE) for spec in specs]
        ins = [(0.1 * rng.standard_normal(BLOCK)).astype(np.float32) for _ in loops]
        outs = [np.zeros(BLOCK, np.float32) for _ in loops]
        for _ in range(50):  # warm up (first calls import and allocate)
            for loop, x, y in zip(loops, ins, outs, strict=False):
                loop.process(x, y)
        times = np.empty(args.blocks)
        cpu = np.empty(args.blocks)
        for i in range(args.blocks):
            start, start_cpu = time.perf_counter(), time.thread_time()
            for loop, x, y in zip(loops, ins, outs, strict=False):
                loop.process(x, y)
            times[i] = time.perf_counter() - start
            cpu[i] = time.thread_time() - start_cpu
        p50, p99, worst = np.percentile(times, [50, 99, 100]) * 1000
        cpu99 = np.percentile(cpu, 99) * 1000
        print(f"{name:<28}{p50:>8.3f}{p99:>8.3f}{worst:>8.3f}{p99 / period_ms:>13.1%}{cpu99:>11.3f}"
              f"{cpu99 / period_ms:>13.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
