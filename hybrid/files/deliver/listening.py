"""A listening copy: the mix at a target loudness under a true-peak ceiling.

Policy (documented for clients and engineers):
- Gain first: the copy is the mix times one gain, so it sounds like the mix.
- When that gain would put a true peak over the ceiling, the look-ahead true-peak
  limiter (hybrid.files.deliver.limiter) takes down only those peaks, with a smooth
  release.
- Limiting takes some loudness away, so the gain is searched (secant steps on measuring
  passes, no file written) until the limited copy measures within 0.03 LU of the target;
  the copy is then written (24-bit PCM at the mix's rate, TPDF dither) and measured again
  (loudness and true peak, BS.1770 / R128): within 0.1 LU and at or under the ceiling.
- ``max_limiting_db`` (default 12 dB) bounds the peak reduction. When the target needs
  more, the copy is not refused: the closest copy is written (the gain that uses exactly
  the allowed limiting), named by the loudness it reached, and the report says what the
  target would have needed, with the figures.

Everything streams in chunks (with overlap for the limiter, the release state carried
across), so memory stays flat.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from hybrid.errors import HybridError
from hybrid.files.deliver.dither import for_soundfile, quantize_tpdf
from hybrid.files.deliver.limiter import LimiterSettings, gain_curve, release
from hybrid.files.loudness import LoudnessMeter, LoudnessResult, measure_file
from hybrid.files.loudness.files import open_audio

CHUNK_FRAMES = 1 << 18
LOUDNESS_TOLERANCE_LU = 0.1
SEARCH_TOLERANCE_LU = 0.03
CEILING_MARGIN_DB = 0.05       # aim a hair under the ceiling: dither adds a last-bit of noise
MAX_SEARCH_PASSES = 10
MAX_RENDERS = 3
OUTPUT_BITS = 24
DEFAULT_SETTINGS = LimiterSettings()


@dataclass
class ListeningCopy:
    path: str
    target_lufs: float
    ceiling_dbtp: float
    gain_db: float
    limiting_db: float          # largest peak reduction applied (0 when none)
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    samplerate_hz: int
    bits: int
    target_reached: bool = True
    needed_limiting_db: float = 0.0   # what the target would have needed
    passes: int = 0

    def to_dict(self) -> dict:
        out = asdict(self)
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}


def needed_limiting_db(source: LoudnessResult, gain_db: float, ceiling_dbtp: float) -> float:
    """Peak reduction plain gain would leave to the limiter (0 when none)."""
    if source.true_peak_dbtp is None:
        return 0.0
    return max(0.0, source.true_peak_dbtp + gain_db - ceiling_dbtp)


def _blocks(source: Path, gain_db: float, ceiling_dbtp: float | None, settings: LimiterSettings):
    """``(block, largest reduction dB)`` of ``source * gain``, limited under the ceiling."""
    gain = 10.0 ** (gain_db / 20.0)
    ceiling = None if ceiling_dbtp is None else 10.0 ** (ceiling_dbtp / 20.0)
    state_db = 0.0
    with open_audio(source) as handle:
        fs, total = handle.samplerate, handle.frames
        margin = settings.margin_frames(fs) if ceiling is not None else 0
        for start in range(0, total, CHUNK_FRAMES):
            stop = min(total, start + CHUNK_FRAMES)
            lo, hi = max(0, start - margin), min(total, stop + margin)
            handle.seek(lo)
            try:
                block = handle.read(hi - lo, dtype="float64", always_2d=True) * gain
            except (sf.LibsndfileError, RuntimeError) as exc:
                raise HybridError(f"read failed ({exc})", where=str(source)) from exc
            part = block[start - lo:stop - lo]
            if ceiling is None:
                yield part, 0.0
                continue
            curve = gain_curve(block, fs, ceiling, settings)[start - lo:stop - lo]
            curve, state_db = release(curve, fs, settings, state_db)
            yield part * curve[:, None], max(0.0, -20.0 * float(np.log10(curve.min())))


def _measure_pass(source: Path, fs: int, channels: int, gain_db: float, ceiling_dbtp: float | None,
                  settings: LimiterSettings) -> tuple[float | None, float]:
    """Integrated loudness and largest reduction of the limited copy, nothing written."""
    meter = LoudnessMeter(fs, channels, true_peak=False)
    worst = 0.0
    for block, reduction in _blocks(source, gain_db, ceiling_dbtp, settings):
        meter.process(block)
        worst = max(worst, reduction)
    return meter.integrated_lufs(), worst


def _render(source: Path, destination: Path, gain_db: float, ceiling_dbtp: float | None,
            settings: LimiterSettings, seed: int) -> float:
    rng = np.random.default_rng(seed)
    worst = 0.0
    with open_audio(source) as handle:
        fs, channels = handle.samplerate, handle.channels
    with sf.SoundFile(str(destination), "w", fs, channels, subtype="PCM_24", format="WAV") as out:
        for block, reduction in _blocks(source, gain_db, ceiling_dbtp, settings):
            integers, _ = quantize_tpdf(block, OUTPUT_BITS, rng)
            out.write(for_soundfile(integers, OUTPUT_BITS))
            worst = max(worst, reduction)
    return worst


def _search_gain(source: Path, measured: LoudnessResult, target_lufs: float, aim_dbtp: float,
                 settings: LimiterSettings) -> tuple[float, int]:
    """The gain whose limited copy measures ``target_lufs`` (secant steps; loudness rises
    monotonically with the gain). Returns the gain and the passes it took."""
    fs, channels = measured.samplerate_hz, measured.channels
    g0 = target_lufs - measured.integrated_lufs
    l0, _ = _measure_pass(source, fs, channels, g0, aim_dbtp, settings)
    passes = 1
    if l0 is None:
        return g0, passes
    g1 = g0 + (target_lufs - l0)
    for _ in range(MAX_SEARCH_PASSES):
        if abs(l0 - target_lufs) <= SEARCH_TOLERANCE_LU:
            return g0, passes
        l1, _ = _measure_pass(source, fs, channels, g1, aim_dbtp, settings)
        passes += 1
        if l1 is None:
            return g1, passes
        if abs(l1 - target_lufs) <= SEARCH_TOLERANCE_LU:
            return g1, passes
        slope = (l1 - l0) / (g1 - g0) if g1 != g0 else 1.0
        slope = min(1.0, max(0.05, slope))      # a limited copy gains at most 1 dB per dB
        g0, l0, g1 = g1, l1, g1 + (target_lufs - l1) / slope
    return g0, passes


def make_listening_copy(source: Path, destination: Path, *, target_lufs: float,
                        ceiling_dbtp: float, max_limiting_db: float,
                        measured: LoudnessResult | None = None,
                        settings: LimiterSettings = DEFAULT_SETTINGS) -> ListeningCopy:
    """Render the listening copy of ``source`` into ``destination`` (see module doc).
    ``destination`` may be renamed (by the caller) when the target is not reached: the
    returned copy's ``target_reached`` says so."""
    source = Path(source)
    measured = measured or measure_file(source)
    if measured.integrated_lufs is None:
        raise HybridError("has no measurable loudness (silent or shorter than 0.4 s); "
                          "cannot match it to a target", where=str(source))
    aim = ceiling_dbtp - CEILING_MARGIN_DB
    plain_gain = target_lufs - measured.integrated_lufs
    passes = 0
    if needed_limiting_db(measured, plain_gain, aim) == 0:
        gain_db, limit = plain_gain, None
    else:
        gain_db, passes = _search_gain(source, measured, target_lufs, aim, settings)
        limit = aim
    needed = needed_limiting_db(measured, gain_db, aim)
    reached = needed <= max_limiting_db
    if not reached:   # the closest copy: exactly the allowed limiting
        gain_db = aim + max_limiting_db - measured.true_peak_dbtp
    for attempt in range(MAX_RENDERS):   # the seed varies the dither per render
        limiting_db = _render(source, destination, gain_db, limit, settings, seed=attempt)
        result = measure_file(destination)
        peak_ok = result.true_peak_dbtp is None or result.true_peak_dbtp <= ceiling_dbtp
        loud_ok = not reached or abs(result.integrated_lufs - target_lufs) <= LOUDNESS_TOLERANCE_LU
        if peak_ok and loud_ok:
            break
        if not peak_ok:
            aim -= result.true_peak_dbtp - ceiling_dbtp + CEILING_MARGIN_DB
            limit = aim
        if reached and not loud_ok:
            gain_db += target_lufs - result.integrated_lufs
    else:
        destination.unlink(missing_ok=True)
        raise HybridError(
            f"listening copy missed the target: {result.integrated_lufs:.2f} LUFS / "
            f"{result.true_peak_dbtp:.2f} dBTP for {target_lufs:g} LUFS / {ceiling_dbtp:g} dBTP "
            f"with {limiting_db:.1f} dB of limiting", where=str(source))
    return ListeningCopy(
        path=os.fspath(destination), target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp,
        gain_db=gain_db, limiting_db=limiting_db, integrated_lufs=result.integrated_lufs,
        true_peak_dbtp=result.true_peak_dbtp, samplerate_hz=result.samplerate_hz,
        bits=OUTPUT_BITS, target_reached=reached, needed_limiting_db=needed, passes=passes)
