"""Loudness of a 5-minute stereo 48 kHz file: time against real time.

Synthesizes the file (24-bit PCM, pink-ish noise with a slow level ride, so the gates
and LRA have work to do) into a temp folder, then times ``hybrid.files.loudness.measure_file``
(K-weighting, gating, LRA, 4x true peak, all streamed) against the plain block-wise
read of the same file, measured in the same run. Prints the x-real-time factor.
Run: python bench/loudness_speed.py
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hybrid.files.loudness import measure_file  # noqa: E402

FS = 48000
SECONDS = 300
BLOCK = 65536


def synthesize(path: Path) -> None:
    rng = np.random.default_rng(1)
    with sf.SoundFile(str(path), "w", FS, 2, subtype="PCM_24") as out:
        for start in range(0, SECONDS * FS, BLOCK):
            n = min(BLOCK, SECONDS * FS - start)
            t = (start + np.arange(n)) / FS
            ride = 10 ** ((-6 * np.sin(2 * np.pi * t / 60)) / 20)
            noise = np.cumsum(rng.standard_normal((n, 2)), axis=0) * 0.002
            noise -= noise.mean(axis=0)
            out.write(np.clip(0.1 * ride[:, None] * (noise + 0.3 * rng.standard_normal((n, 2))), -1, 1))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "five-minutes.wav"
        synthesize(path)
        t0 = time.perf_counter()
        with sf.SoundFile(str(path)) as handle:
            for _ in handle.blocks(BLOCK, dtype="float64"):
                pass
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = measure_file(path)
        measure_s = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"file: {SECONDS} s stereo {FS} Hz 24-bit")
    print(f"integrated {result.integrated_lufs:.2f} LUFS, LRA {result.loudness_range_lu:.1f} LU, "
          f"true peak {result.true_peak_dbtp:.2f} dBTP")
    print(f"read only (reference): {read_s:.2f} s")
    print(f"loudness + true peak:  {measure_s:.2f} s = {SECONDS / measure_s:.0f}x real time "
          f"({measure_s / read_s:.1f}x the plain read)")
    print(f"peak RSS of the process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
