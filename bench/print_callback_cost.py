"""Audio callback cost of a print stream at 16 in / 16 out, 256 frames: p99 as a share of the block period.

Runs the real print stream (``hybrid.live.audio.stream.DuplexRun``: ring -> output buffer,
input buffer -> ring, counters) on a private JACK dummy server's 16x16 ``system`` device
at 48 kHz, period 256, with the worker thread streaming as in a print. The reference in
the same run is a bare callback that only zeroes its output buffer: the floor of a
Python callback through sounddevice/PortAudio/JACK on this machine.

    python bench/print_callback_cost.py [--seconds 10] [--channels 16]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from devices.jack_server import JackServer  # noqa: E402

RATE = 48000
PERIOD = 256


def _bare(sd, device_index: int, channels: int, seconds: float) -> np.ndarray:
    costs = np.zeros(int(seconds * RATE / PERIOD) + 64)
    n = [0]

    def callback(_indata, outdata, _frames, _time_info, _status):
        t0 = time.perf_counter()
        outdata.fill(0.0)
        if n[0] < len(costs):
            costs[n[0]] = time.perf_counter() - t0
            n[0] += 1

    with sd.Stream(device=(device_index, device_index), samplerate=RATE, blocksize=0,
                   channels=(channels, channels), dtype="float32", callback=callback, latency="high"):
        time.sleep(seconds)
    return costs[:n[0]]


def _print_stream(device, channels: int, seconds: float):
    from hybrid.live.audio.stream import DuplexRun

    total = int(seconds * RATE)
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal((RATE, channels)) * 0.1).astype(np.float32)
    pos = [0]

    def produce(block):
        n = len(block)
        start = pos[0] % (RATE - n)
        block[:] = noise[start:start + n]
        pos[0] += n
        return n

    sink = np.zeros(channels)

    def consume(_position, block):
        np.add(sink, block[-1], out=sink)       # touch the data, as the recorder does

    run = DuplexRun(device, samplerate=RATE, blocksize=0, out_channels=channels, in_channels=channels,
                    total_frames=total, produce=produce, consume=consume, on_progress=lambda _p: None,
                    measure_cost=True)
    return run.run()


def _figures(costs: np.ndarray) -> dict:
    period_s = PERIOD / RATE
    return {"callbacks": len(costs), "p50_us": 1e6 * float(np.percentile(costs, 50)),
            "p99_us": 1e6 * float(np.percentile(costs, 99)), "max_us": 1e6 * float(costs.max()),
            "p99_share": float(np.percentile(costs, 99)) / period_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--channels", type=int, default=16)
    args = parser.parse_args()

    server = JackServer(name=f"bench-print-cost-{os.getpid()}", period_frames=PERIOD,
                        capture_channels=args.channels, playback_channels=args.channels)
    server.start(slot_wait_s=120)  # JACK runs 8 servers per machine: wait for a free one
    try:
        os.environ.update(server.environ())
        import sounddevice as sd

        sd._terminate()
        sd._initialize()
        try:
            from hybrid.live.audio.interface import resolve_device

            device = resolve_device("system")
            ref = _figures(_bare(sd, device.index, args.channels, args.seconds))
            stats = _print_stream(device, args.channels, args.seconds)
            ours = _figures(stats.callback_cost_s)
        finally:
            sd._terminate()
    finally:
        server.stop()

    period_us = 1e6 * PERIOD / RATE
    print(f"print stream callback, {args.channels} in / {args.channels} out, {PERIOD} frames at {RATE} Hz "
          f"(block period {period_us:.0f} us), {args.seconds:.0f} s")
    for name, f in (("bare callback (reference)", ref), ("print callback", ours)):
        print(f"  {name:26s} p50 {f['p50_us']:7.1f} us  p99 {f['p99_us']:7.1f} us  max {f['max_us']:8.1f} us  "
              f"p99 = {100 * f['p99_share']:.2f}% of the period  ({f['callbacks']} callbacks)")
    print(f"  print p99 / bare p99: {ours['p99_us'] / ref['p99_us']:.2f}x")
    print(f"  xruns during the print stream: {stats.xruns}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
