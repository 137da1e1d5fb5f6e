"""Loudness of a 30-minute stereo 48 kHz file: hybrid against libebur128 (pyebur128), same run.

Synthesizes the file (24-bit PCM, noise with a slow level ride, so the gates and LRA
have work to do) into a temp folder, then times, on the same file:

- the plain block-wise read (the floor every meter pays);
- ``hybrid.files.loudness.measure_file``: integrated, LRA, momentary and short-term
  maxima (sample-exact windows), 4x true peak, sample peak;
- libebur128 through pyebur128 with the same measures: modes I, LRA, M, S, true peak and
  sample peak, fed 100 ms at a time and polled for the momentary and short-term
  loudness after each (how a meter gets their maxima from it), the file read with the
  same reader;
- libebur128 fed 64k-frame blocks without polling (I, LRA, peaks only), for reference.

Prints times, x-real-time factors and the ratio hybrid/libebur128 (goal <= 1.0), and
the figures of both so their agreement is visible. Run: python bench/loudness_speed.py
[seconds]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyebur128 as eb
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hybrid.files.loudness import measure_file  # noqa: E402

FS = 48000
SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 1800
BLOCK = 65536


def synthesize(path: Path) -> None:
    rng = np.random.default_rng(1)
    with sf.SoundFile(str(path), "w", FS, 2, subtype="PCM_24") as out:
        for start in range(0, SECONDS * FS, BLOCK):
            n = min(BLOCK, SECONDS * FS - start)
            t = (start + np.arange(n)) / FS
            ride = 10 ** ((-6 * np.sin(2 * np.pi * t / 60)) / 20)
            out.write(np.clip(0.1 * ride[:, None] * rng.standard_normal((n, 2)), -1, 1))


def libebur128(path: Path, poll: bool) -> tuple[float, dict]:
    modes = eb.MeasurementMode
    mode = modes.MODE_I | modes.MODE_LRA | modes.MODE_TRUE_PEAK | modes.MODE_SAMPLE_PEAK
    if poll:
        mode |= modes.MODE_M | modes.MODE_S
    t0 = time.perf_counter()
    state = eb.R128State(2, FS, mode)
    momentary = short = -float("inf")
    step = FS // 10 if poll else BLOCK
    with sf.SoundFile(str(path)) as handle:
        for block in handle.blocks(step, dtype="float64"):
            state.add_frames(np.ascontiguousarray(block).ravel(), len(block))
            if poll:
                momentary = max(momentary, eb.get_loudness_momentary(state))
                short = max(short, eb.get_loudness_shortterm(state))
    figures = {"integrated": eb.get_loudness_global(state), "lra": eb.get_loudness_range(state),
               "true_peak": 20 * np.log10(max(eb.get_true_peak(state, c) for c in range(2))),
               "momentary_max": momentary, "short_term_max": short}
    return time.perf_counter() - t0, figures


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "programme.wav"
        synthesize(path)
        t0 = time.perf_counter()
        with sf.SoundFile(str(path)) as handle:
            for _ in handle.blocks(BLOCK, dtype="float64"):
                pass
        read_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours = measure_file(path)
        ours_s = time.perf_counter() - t0
        ref_s, ref = libebur128(path, poll=True)
        plain_s, _ = libebur128(path, poll=False)
    print(f"file: {SECONDS} s stereo {FS} Hz 24-bit; pyebur128 {eb.__version__} "
          f"(libebur128 {eb.get_libebur128_version()})")
    print(f"read only (reference floor):          {read_s:6.2f} s")
    print(f"hybrid measure_file (I LRA M S TP SP): {ours_s:6.2f} s = {SECONDS / ours_s:5.0f}x real time")
    print(f"libebur128 same measures (M/S polled): {ref_s:6.2f} s = {SECONDS / ref_s:5.0f}x real time")
    print(f"libebur128 I LRA TP SP only:           {plain_s:6.2f} s = {SECONDS / plain_s:5.0f}x real time")
    print(f"hybrid / libebur128 (same measures):   {ours_s / ref_s:6.2f}  (goal <= 1.00)")
    print(f"hybrid / libebur128 (I LRA TP only):   {ours_s / plain_s:6.2f}")
    print(f"integrated   hybrid {ours.integrated_lufs:8.3f}  libebur128 {ref['integrated']:8.3f} LUFS")
    print(f"LRA          hybrid {ours.loudness_range_lu:8.3f}  libebur128 {ref['lra']:8.3f} LU")
    print(f"momentary    hybrid {ours.momentary_max_lufs:8.3f}  libebur128 {ref['momentary_max']:8.3f} LUFS max")
    print(f"short-term   hybrid {ours.short_term_max_lufs:8.3f}  libebur128 {ref['short_term_max']:8.3f} LUFS max")
    print(f"true peak    hybrid {ours.true_peak_dbtp:8.3f}  libebur128 {ref['true_peak']:8.3f} dBTP")


if __name__ == "__main__":
    main()
