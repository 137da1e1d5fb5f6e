"""Cost of the simulated gear's audio callback per period: per unit and per loop, before and after.

Runs the gear's processors and loops block by block (exactly what its JACK process
callback runs, minus JACK's port lookups) and prints this thread's CPU time per period
(median and p99) and its share of the period, at JACK periods 256 and 1024 (48 kHz).
With ``--before REV`` (default: the commit before the compressor's and the reverb's
vectorisation) the same units and loops also run on that revision's
``hybrid/models/dsp.py``, loaded from git in this run: before and after side by side.
CPU time (``thread_time``) leaves out preemption by other processes; it is the gear's
own cost, the part this code controls.

    python bench/latency_simgear_cost.py [--blocks N] [--before REV | --before none]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hybrid.models import dsp  # noqa: E402
from hybrid.models.stereo import LinkedCompressor, MidSideEQ, SummingMixer  # noqa: E402
from hybrid.simgear.loop import LoopChannel, LoopSpec  # noqa: E402

RATE = 48000
PERIODS = (256, 1024)
BEFORE_REV = "b0c0564"
"""The last revision with the per-chunk Python loop in the compressor and one ring per reverb comb."""


def load_dsp(rev: str):
    """``hybrid/models/dsp.py`` as it was at ``rev`` (None if git cannot show it)."""
    try:
        text = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:hybrid/models/dsp.py"],
                              capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    folder = Path(tempfile.mkdtemp(prefix="bench-dsp-"))
    path = folder / "dsp_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("dsp_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["dsp_before"] = module
    spec.loader.exec_module(module)
    return module


def eq5(m):
    return m.Equaliser([m.Band("highpass", 30.0), m.Band("lowshelf", 100.0, 3.0), m.Band("peak", 400.0, -2.0, 1.0),
                        m.Band("peak", 2500.0, 2.0, 1.5), m.Band("highshelf", 8000.0, 2.0)])


def units(m) -> dict:
    """Mono units built from dsp module ``m``: name -> factory."""
    return {
        "delay 37.25 (converter)": lambda: m.FractionalDelay(37.25),
        "transformer high-pass": lambda: m.HighPass(20.0),
        "noise floor": lambda: m.NoiseFloor(-90.0, seed=1),
        "saturator": lambda: m.Saturator(6.0, -6.0),
        "compressor": lambda: m.Compressor(-20.0, 4.0, 5.0, 100.0),
        "five-band EQ": lambda: eq5(m),
        "reverb": lambda: m.Reverb(1.8, 20.0, 0.3),
    }


def loops(m) -> dict:
    """Loops (lists of LoopSpec) built with dsp module ``m``'s processors."""
    def wire(delay):
        return LoopSpec(delay_samples=delay, noise_dbfs=-90.0, highpass_hz=20.0, seed=1)

    return {
        "1 wire (delay, HPF, noise)": [wire(37.25)],
        "1 compressor loop": [LoopSpec(delay_samples=37.25, noise_dbfs=-90.0, highpass_hz=20.0,
                                       processors=[m.Compressor(-20.0, 4.0, 5.0, 100.0)])],
        "1 reverb loop": [LoopSpec(delay_samples=37.25, processors=[m.Reverb(1.8, 20.0, 0.3)])],
        "8 loops: demo studio": [
            wire(37.25), wire(100.3),
            LoopSpec(delay_samples=61.5, noise_dbfs=-92.0, processors=[m.Compressor(-20.0, 4.0, 5.0, 100.0)]),
            LoopSpec(delay_samples=61.5, noise_dbfs=-96.0, processors=[eq5(m)]),
            LoopSpec(delay_samples=80.0, noise_dbfs=-90.0, processors=[m.Reverb(1.8, 20.0, 0.3)]),
            LoopSpec(delay_samples=12.0, noise_dbfs=-84.0, processors=[m.Saturator(6.0, -6.0)]),
            wire(200.7), wire(300.1),
        ],
        "16 wires": [wire(37.25 + k) for k in range(16)],
    }


def stereo_units() -> dict:
    return {
        "linked stereo compressor": (lambda: LinkedCompressor(-20.0, 4.0, 5.0, 100.0), 2),
        "M/S EQ (2 + 1 bands)": (lambda: MidSideEQ([dsp.Band("peak", 300.0, -2.0, 1.0),
                                                     dsp.Band("highshelf", 8000.0, 1.0)],
                                                    [dsp.Band("highshelf", 8000.0, 2.0)]), 2),
        "summing mixer 8 -> 2": (lambda: SummingMixer(8, pans=[-1, 1, -0.5, 0.5, 0, 0, -0.2, 0.2],
                                                      drive_db=6.0, noise_dbfs=-100.0, seed=1,
                                                      delay_samples=(30.1, 30.6)), 8),
    }


def cpu_per_period(step, blocks: int) -> np.ndarray:
    for _ in range(30):  # warm up (first calls import and allocate)
        step()
    cpu = np.empty(blocks)
    for i in range(blocks):
        start = time.thread_time()
        step()
        cpu[i] = time.thread_time() - start
    return cpu


def unit_step(proc, period: int, channels: int = 1):
    rng = np.random.default_rng(0)
    shape = (period,) if channels == 1 else (period, channels)
    x = 0.3 * rng.standard_normal(shape)
    proc.prepare(RATE)

    def step() -> None:
        proc(x.copy())
    return step


def loop_step(specs, period: int):
    running = [LoopChannel(spec, RATE) for spec in specs]
    rng = np.random.default_rng(0)
    ins = [(0.1 * rng.standard_normal(period)).astype(np.float32) for _ in running]
    outs = [np.zeros(period, np.float32) for _ in running]

    def step() -> None:
        for loop, x, y in zip(running, ins, outs, strict=True):
            loop.process(x, y)
    return step


def row(name: str, period: int, after: np.ndarray, before: np.ndarray | None) -> str:
    period_ms = 1000.0 * period / RATE
    a50, a99 = np.percentile(after, [50, 99]) * 1e6
    text = f"{name:<30}{period:>7}{a50:>10.0f}{a99:>10.0f}{a99 / 1000 / period_ms:>9.1%}"
    if before is not None:
        b50, b99 = np.percentile(before, [50, 99]) * 1e6
        text += f"{b50:>11.0f}{b99:>10.0f}{b50 / a50:>9.1f}x"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=400, help="periods timed per case (default 400)")
    parser.add_argument("--before", default=BEFORE_REV,
                        help=f"git revision to compare with (default {BEFORE_REV}); 'none' to skip")
    args = parser.parse_args()
    old = None if args.before == "none" else load_dsp(args.before)
    if args.before != "none" and old is None:
        print(f"note: cannot load hybrid/models/dsp.py at {args.before} from git: no 'before' columns")
    print(f"simulated gear: this thread's CPU per JACK period at {RATE} Hz, {args.blocks} periods per case")
    header = f"{'unit / loop':<30}{'period':>7}{'p50 us':>10}{'p99 us':>10}{'p99/per':>9}"
    if old is not None:
        header += f"{'before p50':>11}{'p99 us':>10}{'faster':>10}"
    print(header)
    for section, after_cases, before_cases in (
            ("per unit", units(dsp), units(old) if old else None),
            ("per loop", loops(dsp), loops(old) if old else None)):
        print(f"-- {section}")
        for name, factory in after_cases.items():
            for period in PERIODS:
                if section == "per unit":
                    after = cpu_per_period(unit_step(factory(), period), args.blocks)
                    before = (cpu_per_period(unit_step(before_cases[name](), period), args.blocks)
                              if before_cases else None)
                else:
                    after = cpu_per_period(loop_step(loops(dsp)[name], period), args.blocks)
                    before = (cpu_per_period(loop_step(loops(old)[name], period), args.blocks)
                              if before_cases else None)
                print(row(name, period, after, before), flush=True)
    print("-- stereo units (new)")
    for name, (factory, channels) in stereo_units().items():
        for period in PERIODS:
            after = cpu_per_period(unit_step(factory(), period, channels), args.blocks)
            print(row(name, period, after, None), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
