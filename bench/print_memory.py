"""Resident memory during a 60 s 16-channel print against a 10 s one: it should stay flat.

Sixteen mono 24-bit stems go out through sixteen loops of the simulated gear at once (one
pass, the way a full interface prints), on a private JACK dummy server (48 kHz, period
1024: memory does not depend on it, and it keeps sixteen simulated loops in time on two
shared cores). Each print runs in a fresh child process that samples its own resident set size
(``/proc/self/statm``) every 50 ms from before the pass to after the files are written;
the reference in the same run is the 10 s print. Flat means the 60 s peak is about the
10 s peak (ratio near 1), whatever the length: stems are streamed from disk, returns to
disk, and alignment is block by block.

    python bench/print_memory.py [--channels 16] [--short 10] [--long 60]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATE = 48000
PERIOD = 1024        # memory does not depend on the period; a long one keeps 16 Python loops on time
GEAR = "bench-print-gear"


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def _write_stems(folder: Path, channels: int, seconds: float) -> list[Path]:
    """Band-limited noise stems, written block by block (the bench itself stays small)."""
    import numpy as np

    from hybrid.live.audio.wavio import Bext, WavWriter

    rng = np.random.default_rng(1)
    paths = []
    for k in range(channels):
        path = folder / f"{k + 1:02d}stem.wav"
        with WavWriter(path, RATE, 1, "pcm24", bext=Bext.new(RATE * 3600)) as w:
            for _ in range(int(seconds)):
                w.write((rng.standard_normal((RATE, 1)) * 0.05).astype(np.float32))
        paths.append(path)
    return paths


def child(folder: Path, channels: int, seconds: float) -> None:
    """One print in this process; prints a JSON line with the memory figures."""
    from hybrid.live.audio.interface import InterfaceSettings
    from hybrid.live.audio.printing import PrintJob, PrintOptions, print_pass
    from hybrid.simgear import SimGear

    stems = _write_stems(folder, channels, seconds)
    with SimGear(channels, name=GEAR) as _gear:
        import sounddevice as sd

        sd._terminate()
        sd._initialize()
        jobs = [PrintJob(stem=s, output=folder / f"{s.stem}.print.wav", out_channels=(k + 1,),
                         in_channels=(k + 1,)) for k, s in enumerate(stems)]
        before = _rss_mb()
        peak = [before]
        done = threading.Event()

        def sample():
            while not done.wait(0.05):
                peak[0] = max(peak[0], _rss_mb())

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.monotonic()
        result = print_pass(jobs, InterfaceSettings(device=GEAR), PrintOptions(tail_s=0.5))
        wall = time.monotonic() - t0
        done.set()
        sampler.join()
        # report before tearing down: closing JACK clients on a loaded server can be slow
        print(json.dumps({"seconds": seconds, "before_mb": before, "peak_mb": max(peak[0], _rss_mb()),
                          "wall_s": wall, "xruns": result.stats.xruns, "good": result.good}), flush=True)
        sd._terminate()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--short", type=float, default=10.0)
    parser.add_argument("--long", type=float, default=60.0)
    parser.add_argument("--child", nargs=3, metavar=("DIR", "CHANNELS", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[1]), float(args.child[2]))
        return 0

    from devices.jack_server import JackServer

    figures = []
    server = JackServer(name=f"bench-print-mem-{os.getpid()}", capture_channels=args.channels,
                        playback_channels=args.channels, period_frames=PERIOD)
    server.start(slot_wait_s=120)  # JACK runs 8 servers per machine: wait for a free one
    try:
        env = dict(os.environ, **server.environ(), PYTHONPATH=str(ROOT))
        for seconds in (args.short, args.long):
            with tempfile.TemporaryDirectory(prefix="hybrid-print-mem-") as tmp:
                cmd = [sys.executable, __file__, "--child", tmp, str(args.channels), str(seconds)]
                try:
                    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds * 4 + 120)
                    stdout, stderr = out.stdout, out.stderr
                except subprocess.TimeoutExpired as exc:      # killed; keep what it reported
                    stdout = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
                    stderr = "timed out"
                lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
                if not lines:
                    print(f"child failed ({seconds} s): {stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                    return 1
                figures.append(json.loads(lines[-1]))
    finally:
        server.stop()
    short, long_ = figures
    print(f"resident memory of a {args.channels}-channel print (one pass, {args.channels} loops in parallel)")
    for f in figures:
        print(f"  {f['seconds']:4.0f} s print: before {f['before_mb']:6.1f} MB, peak {f['peak_mb']:6.1f} MB "
              f"(+{f['peak_mb'] - f['before_mb']:.1f} MB), wall {f['wall_s']:.1f} s, xruns {f['xruns']}")
    grow_short = short["peak_mb"] - short["before_mb"]
    grow_long = long_["peak_mb"] - long_["before_mb"]
    print(f"  peak ratio {args.long:.0f} s / {args.short:.0f} s: {long_['peak_mb'] / short['peak_mb']:.3f}  "
          f"(growth during the pass: {grow_long:.1f} MB vs {grow_short:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
