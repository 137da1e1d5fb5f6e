"""Sample-rate conversion to 44.1 kHz: alias rejection, passband and speed, soxr (VHQ,
what the CD masters use) against the previous scipy polyphase converter, same run.

For each input rate: the worst alias (a full-scale tone above 22.05 kHz, folded into
the audio band) in dB below full scale; the largest passband deviation of full-scale
tones from 20 Hz to 20 kHz (peak error against the ideal tone, in dB, and the level
error in dB); and the time to convert 60 s of stereo, as x real time.
Run: python bench/src_quality.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hybrid.files.deliver.resample import Resampler, SoxrConverter  # noqa: E402

OUT = 44100
SECONDS = 2
PASS_TONES_HZ = [20.0, 1000.0, 10000.0, 18000.0, 19500.0, 20000.0]


def convert(converter, x: np.ndarray) -> np.ndarray:
    return np.concatenate(list(converter.run(len(x), lambda a, b: x[a:b])))


def figures(make, rate: int) -> dict:
    n = np.arange(SECONDS * rate)
    inner = slice(4000, -4000)
    worst_alias = -np.inf
    for freq in [f for f in (22500.0, 23000.0, 24000.0, 30000.0, 40000.0, 60000.0, 90000.0) if f < rate / 2]:
        y = convert(make(rate), np.sin(2 * np.pi * freq * n / rate)[:, None])
        worst_alias = max(worst_alias, 20 * np.log10(np.max(np.abs(y[inner])) + 1e-300))
    worst_error = -np.inf
    worst_level, level_at = 0.0, 0.0
    for freq in PASS_TONES_HZ:
        y = convert(make(rate), np.sin(2 * np.pi * freq * n / rate)[:, None])[:, 0]
        m = np.arange(len(y))
        ideal = np.sin(2 * np.pi * freq * m / OUT)
        worst_error = max(worst_error, 20 * np.log10(np.max(np.abs(y[inner] - ideal[inner])) + 1e-300))
        basis = np.stack([ideal, np.cos(2 * np.pi * freq * m / OUT)], axis=1)[inner]
        (a, b), *_ = np.linalg.lstsq(basis, y[inner], rcond=None)
        level = 20 * np.log10(np.hypot(a, b))          # gain at this frequency
        if abs(level) > abs(worst_level):
            worst_level, level_at = level, freq
    x = np.random.default_rng(0).standard_normal((60 * rate, 2)) * 0.1
    t0 = time.perf_counter()
    convert(make(rate), x)
    speed = 60 / (time.perf_counter() - t0)
    return {"alias": worst_alias, "error": worst_error, "level": worst_level, "level_at": level_at,
            "speed": speed}


def main() -> None:
    print(f"{'input':>8}  {'converter':<14}{'worst alias':>12}{'passband error':>16}{'level error':>13}"
          f"{'':>10}{'speed':>9}")
    for rate in (48000, 88200, 96000, 192000):
        for name, make in (("soxr VHQ", lambda r: SoxrConverter(r, OUT)), ("scipy (old)", lambda r: Resampler(r, OUT))):
            f = figures(make, rate)
            print(f"{rate:>8}  {name:<14}{f['alias']:>9.1f} dB{f['error']:>13.1f} dB{f['level']:>+10.5f} dB"
                  f" at {f['level_at'] / 1000:>4.1f} kHz{f['speed']:>7.0f}x RT")
    print("level error: the largest gain deviation among those tones (and where); speed: 60 s stereo")
    print("alias: largest output of a full-scale tone above 22.05 kHz; passband error: largest sample error"
          f" of full-scale tones {PASS_TONES_HZ[0]:g} Hz..{PASS_TONES_HZ[-1]:g} Hz against the ideal tone")


if __name__ == "__main__":
    main()
