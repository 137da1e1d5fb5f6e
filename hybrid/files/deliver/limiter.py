"""A look-ahead true-peak limiter for listening copies.

Why this shape: a listening copy is matched to a loudness target (e.g. -14 LUFS) with
a true-peak ceiling (e.g. -1 dBTP). When plain gain would put a peak over the ceiling,
only those peaks should come down, and the result must measure under the ceiling on a
BS.1770 true-peak meter, not just on sample values.

How: the detector is the same 4x interpolator the meter uses (hybrid.files.loudness.truepeak),
so the peak of the interpolated waveform in each sample period is known. The gain each
sample needs is ``min(1, ceiling / peak)``; it is held (minimum) over a window that
reaches ``lookahead`` before and ``lookahead + hold`` after, then smoothed by a moving
average of ``2 * lookahead + 1`` samples. Because the average at a peak only spans
samples whose held gain is already at or below what that peak needs, the peak is
guaranteed to come out at or under the ceiling, while the gain falls in a ramp of
``2 * lookahead`` (the attack, all of it before the peak: look-ahead, no overshoot).

Release: the gain reduction (in dB) then decays exponentially with ``release_ms`` as
its time constant, never faster: ``R[n] = max(r[n], R[n-1] * exp(-1 / release))``. It
only ever lowers the gain, so the guarantee stands, and a dense passage is not pumped
back up between peaks. The recursion is computed without a Python loop: in the log
domain it is a running maximum (``n log d + cummax(log r[k] - k log d)``).

Whole files are processed in chunks that overlap by more than the filter and window
spans (the attack curve is then the same as in one pass), and the release state is
carried from one chunk to the next, so chunked output equals one pass; memory stays
flat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import oaconvolve

from hybrid.files.loudness.truepeak import interpolation_filter

FACTOR = 4


@dataclass(frozen=True)
class LimiterSettings:
    lookahead_ms: float = 2.0
    hold_ms: float = 10.0
    release_ms: float = 80.0     # time constant of the exponential release (in dB)

    def frames(self, samplerate_hz: int) -> tuple[int, int]:
        lookahead = max(1, round(self.lookahead_ms * samplerate_hz / 1000))
        hold = max(0, round(self.hold_ms * samplerate_hz / 1000))
        return lookahead, hold

    def margin_frames(self, samplerate_hz: int) -> int:
        """Context each side of a chunk so chunked results equal a single pass."""
        lookahead, hold = self.frames(samplerate_hz)
        return 4 * lookahead + 2 * hold + 2 * _phases().shape[2] + 16


def _phases() -> np.ndarray:
    taps = interpolation_filter(FACTOR)
    per_phase = -(-len(taps) // FACTOR)
    padded = np.zeros(per_phase * FACTOR)
    padded[:len(taps)] = taps
    return padded.reshape(per_phase, FACTOR).T[:, None, :].copy()


_PHASES = _phases()
# The interpolator is linear-phase with an odd length: its delay in input samples.
_DELAY_FRAMES = (len(interpolation_filter(FACTOR)) - 1) // 2 // FACTOR


def interpolated_peak(samples: np.ndarray) -> np.ndarray:
    """Per input frame, the largest absolute interpolated value (all channels) within
    ``[n, n + 1)`` sample periods: what a 4x true-peak meter sees around each sample."""
    channels_first = np.ascontiguousarray(np.asarray(samples, dtype=np.float64).T)
    up = oaconvolve(channels_first[None, :, :], _PHASES, mode="full", axes=2)
    aligned = up[:, :, _DELAY_FRAMES:_DELAY_FRAMES + samples.shape[0]]
    return np.max(np.abs(aligned), axis=(0, 1))


def trailing_minimum(values: np.ndarray, span: int) -> np.ndarray:
    """``out[n] = min(values[n - span .. n])`` (shorter at the start)."""
    if span <= 0:
        return values.copy()
    size = span + 1
    # minimum_filter1d centres its window; a positive origin moves it to earlier samples.
    return minimum_filter1d(values, size=size, origin=size - 1 - size // 2, mode="nearest")


def gain_curve(samples: np.ndarray, samplerate_hz: int, ceiling_lin: float,
               settings: LimiterSettings = LimiterSettings()) -> np.ndarray:
    """Per-frame gain (<= 1) that keeps the interpolated peak of ``samples`` under
    ``ceiling_lin``. ``samples`` is ``(frames, channels)``."""
    lookahead, hold = settings.frames(samplerate_hz)
    peak = interpolated_peak(samples)
    with np.errstate(divide="ignore"):
        needed = np.where(peak > ceiling_lin, ceiling_lin / np.maximum(peak, 1e-30), 1.0)
    centred = minimum_filter1d(needed, size=2 * lookahead + 1, mode="nearest")
    held = np.minimum(centred, trailing_minimum(centred, hold))
    smooth = uniform_filter1d(held, size=2 * lookahead + 1, mode="nearest")
    # At a peak the mean is mathematically <= what the peak needs; rounding in the
    # running sum can leave a last-bit excess, which this removes (elsewhere needed == 1).
    return np.minimum(smooth, needed)


def release(curve: np.ndarray, samplerate_hz: int, settings: LimiterSettings,
            state_db: float = 0.0) -> tuple[np.ndarray, float]:
    """Apply the exponential release to a gain ``curve`` (<= 1). ``state_db``: the
    reduction at the sample before ``curve[0]`` (from the previous chunk). Returns the
    released curve and the reduction at its last sample (the next chunk's state)."""
    if len(curve) == 0:
        return curve, state_db
    decay_per_frame = -1.0 / max(1e-9, settings.release_ms * samplerate_hz / 1000)   # log d
    with np.errstate(divide="ignore"):
        reduction = np.maximum(-20.0 * np.log10(np.maximum(curve, 1e-30)), 0.0)
        log_r = np.log(reduction)
        index = np.arange(len(curve), dtype=np.float64)
        start = math.log(state_db) + decay_per_frame if state_db > 0 else -math.inf
        running = np.maximum.accumulate(np.concatenate([[start], log_r - index * decay_per_frame]))[1:]
        released = np.exp(running + index * decay_per_frame)
    released = np.maximum(released, reduction)
    return np.minimum(curve, 10.0 ** (-released / 20.0)), float(released[-1])
