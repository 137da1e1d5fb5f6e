"""A listening copy: the mix at a target loudness under a true-peak ceiling.

Policy (documented for clients and engineers):
- Gain first: the copy is the mix times one gain, so it sounds like the mix.
- When that gain would put a true peak over the ceiling, the look-ahead true-peak
  limiter (hybrid.files.deliver.limiter) takes down only those peaks.
- We refuse, naming the figures, when more than ``max_limiting_db`` (default 3 dB) of
  peak reduction would be needed: beyond that a limiter audibly changes the mix, and
  the honest answer is a lower target or a master made for loudness.
- The result is measured again (loudness and true peak, BS.1770 / R128) and nudged
  until it is within 0.1 LU of the target and at or under the ceiling, then written as
  24-bit PCM at the mix's rate with TPDF dither.

Everything streams in chunks (with overlap for the limiter), so memory stays flat.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from hybrid.files.deliver.dither import for_soundfile, quantize_tpdf
from hybrid.files.deliver.limiter import LimiterSettings, gain_curve
from hybrid.errors import HybridError
from hybrid.files.loudness import LoudnessResult, measure_file
from hybrid.files.loudness.files import open_audio

CHUNK_FRAMES = 1 << 18
LOUDNESS_TOLERANCE_LU = 0.1
CEILING_MARGIN_DB = 0.02       # aim a hair under the ceiling: dither adds a last-bit of noise
MAX_PASSES = 4
OUTPUT_BITS = 24


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

    def to_dict(self) -> dict:
        out = asdict(self)
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in out.items()}


def needed_limiting_db(source: LoudnessResult, gain_db: float, ceiling_dbtp: float) -> float:
    """Peak reduction plain gain would leave to the limiter (0 when none)."""
    if source.true_peak_dbtp is None:
        return 0.0
    return max(0.0, source.true_peak_dbtp + gain_db - ceiling_dbtp)


def _refuse_if_too_much(source: Path, measured: LoudnessResult, gain_db: float, target_lufs: float,
                        ceiling_dbtp: float, max_limiting_db: float, after: str = "") -> None:
    needed = needed_limiting_db(measured, gain_db, ceiling_dbtp)
    if needed > max_limiting_db:
        raise HybridError(
            f"reaching {target_lufs:g} LUFS under {ceiling_dbtp:g} dBTP needs {needed:.1f} dB of "
            f"peak limiting{' ' + after if after else ''} (mix: {measured.integrated_lufs:.1f} LUFS, "
            f"true peak {measured.true_peak_dbtp:+.1f} dBTP); the limit is {max_limiting_db:g} dB: "
            "lower --target-lufs or raise --max-limiting-db", where=str(source))


def _render(source: Path, destination: Path, gain_db: float, ceiling_dbtp: float | None,
            settings: LimiterSettings, seed: int) -> float:
    """Write ``source * gain`` (limited under ``ceiling_dbtp`` when given) as 24-bit PCM.
    Returns the largest peak reduction in dB."""
    gain = 10.0 ** (gain_db / 20.0)
    ceiling = None if ceiling_dbtp is None else 10.0 ** (ceiling_dbtp / 20.0)
    rng = np.random.default_rng(seed)
    worst_gain = 1.0
    with open_audio(source) as handle:
        fs, channels, total = handle.samplerate, handle.channels, handle.frames
        margin = settings.margin_frames(fs) if ceiling is not None else 0
        with sf.SoundFile(str(destination), "w", fs, channels, subtype="PCM_24",
                          format="WAV") as out:
            for start in range(0, total, CHUNK_FRAMES):
                stop = min(total, start + CHUNK_FRAMES)
                lo, hi = max(0, start - margin), min(total, stop + margin)
                handle.seek(lo)
                try:
                    block = handle.read(hi - lo, dtype="float64", always_2d=True) * gain
                except (sf.LibsndfileError, RuntimeError) as exc:
                    raise HybridError(f"read failed ({exc})", where=str(source)) from exc
                if ceiling is not None:
                    curve = gain_curve(block, fs, ceiling, settings)
                    block = block * curve[:, None]
                    worst_gain = min(worst_gain, float(curve[start - lo:stop - lo].min()))
                part = block[start - lo:stop - lo]
                integers, _ = quantize_tpdf(part, OUTPUT_BITS, rng)
                out.write(for_soundfile(integers, OUTPUT_BITS))
    return max(0.0, -20.0 * float(np.log10(worst_gain)))


def make_listening_copy(source: Path, destination: Path, *, target_lufs: float,
                        ceiling_dbtp: float, max_limiting_db: float,
                        measured: LoudnessResult | None = None,
                        settings: LimiterSettings = LimiterSettings()) -> ListeningCopy:
    """Render the listening copy of ``source`` into ``destination`` (see module doc)."""
    source = Path(source)
    measured = measured or measure_file(source)
    if measured.integrated_lufs is None:
        raise HybridError("has no measurable loudness (silent or shorter than 0.4 s); "
                          "cannot match it to a target", where=str(source))
    gain_db = target_lufs - measured.integrated_lufs
    _refuse_if_too_much(source, measured, gain_db, target_lufs, ceiling_dbtp, max_limiting_db)
    aim = ceiling_dbtp - CEILING_MARGIN_DB
    result = None
    for attempt in range(MAX_PASSES):  # the seed varies the dither per pass
        limiting_wanted = needed_limiting_db(measured, gain_db, aim) > 0
        limiting_db = _render(source, destination, gain_db, aim if limiting_wanted else None,
                              settings, seed=attempt)
        result = measure_file(destination)
        loud_ok = abs(result.integrated_lufs - target_lufs) <= LOUDNESS_TOLERANCE_LU
        peak_ok = result.true_peak_dbtp is None or result.true_peak_dbtp <= ceiling_dbtp
        if loud_ok and peak_ok:
            break
        if not peak_ok:   # modulation or dither overshoot: aim lower by the excess
            aim -= result.true_peak_dbtp - ceiling_dbtp + CEILING_MARGIN_DB
        if not loud_ok:   # limiting took loudness away (or gave it): correct the gain
            gain_db += target_lufs - result.integrated_lufs
            _refuse_if_too_much(source, measured, gain_db, target_lufs, ceiling_dbtp, max_limiting_db,
                                after="once the loudness the limiter takes is made up")
    loud_ok = abs(result.integrated_lufs - target_lufs) <= LOUDNESS_TOLERANCE_LU
    peak_ok = result.true_peak_dbtp is None or result.true_peak_dbtp <= ceiling_dbtp
    if not (loud_ok and peak_ok) or limiting_db > max_limiting_db + 0.05:
        destination.unlink(missing_ok=True)
        raise HybridError(
            f"listening copy missed the target: {result.integrated_lufs:.2f} LUFS / "
            f"{result.true_peak_dbtp:.2f} dBTP for {target_lufs:g} LUFS / {ceiling_dbtp:g} dBTP "
            f"with {limiting_db:.1f} dB of limiting (limit {max_limiting_db:g} dB); lower "
            f"--target-lufs", where=str(source))
    return ListeningCopy(
        path=os.fspath(destination), target_lufs=target_lufs, ceiling_dbtp=ceiling_dbtp,
        gain_db=gain_db, limiting_db=limiting_db, integrated_lufs=result.integrated_lufs,
        true_peak_dbtp=result.true_peak_dbtp, samplerate_hz=result.samplerate_hz,
        bits=OUTPUT_BITS)
