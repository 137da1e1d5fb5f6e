"""What a fingerprint plays into a loop: silence, a quiet sweep, then stepped tones at two frequencies.

One pass, about 1.9 s at the defaults, laid out as:

    settle | preroll (noise floor) | ESS sweep at ``sweep_level_dbfs`` | gap | tones | tail

- ``settle_s`` of silence first lets the gear forget what it played before (a
  compressor's release, a reverb's tail: ``hybrid.live.verify.song.plan_for`` sets it from
  the chain's settings), so every take starts from rest, as the first did.
- The sweep (exponential, 10 Hz .. 0.45 fs: its fade-in below the 20 Hz band) gives the magnitude and phase response by
  deconvolution. It is quiet (-30 dBFS peak) so dynamics gear stays under its threshold
  and the response is the small-signal one; the ESS pushes harmonic distortion away from
  the linear response, so a little saturation does not bend it.
- The gap lets the sweep's return and any tail arrive before the tones start.
- The tones step up in level (``tone_levels_dbfs``, peak) at two frequencies interleaved
  (1 kHz and one chosen where the chain's EQ acts most): the input/output transfer curve
  where threshold and ratio show, and the distortion (THD) at every step. Levels only
  go up, so a compressor moves by its attack (fast), never waits for its release. Two
  frequencies make the *order* of an EQ and a compressor audible: an EQ in front moves
  the compressor's threshold by its gain at that frequency, one behind it does not.
- Every tone frequency is a multiple of ``1 / analysis window`` (50 Hz for 20 ms), so
  the window holds whole cycles and the harmonics fall on exact bins.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from hybrid.live.audio.signals import log_sweep

REFERENCE_TONE_HZ = 1000.0
REFERENCE_LEVEL_DBFS = -20.0
#: the sweep starts an octave under the lowest band, so its fade-in stays below 20 Hz
SWEEP_START_HZ = 10.0


@dataclass(frozen=True)
class Plan:
    """The stimulus and how to read it back. Stored in each fingerprint: verify plays the same."""

    samplerate: int
    settle_s: float = 0.0
    preroll_s: float = 0.08
    sweep_s: float = 0.5
    sweep_level_dbfs: float = -30.0
    gap_s: float = 0.2
    tone_freqs_hz: tuple[float, ...] = (REFERENCE_TONE_HZ, 5000.0)
    tone_levels_dbfs: tuple[float, ...] = tuple(float(v) for v in range(-40, -3, 4))
    tone_ms: float = 40.0
    analysis_ms: float = 20.0
    fade_ms: float = 2.0
    tail_s: float = 0.1

    # ---- layout in samples

    def _n(self, seconds: float) -> int:
        return int(round(seconds * self.samplerate))

    @property
    def sweep_start(self) -> int:
        return self._n(self.settle_s + self.preroll_s)

    @property
    def sweep_stop(self) -> int:
        return self.sweep_start + self._n(self.sweep_s)

    @property
    def tones_start(self) -> int:
        return self.sweep_stop + self._n(self.gap_s)

    @property
    def tone_samples(self) -> int:
        return self._n(self.tone_ms / 1000.0)

    @property
    def analysis_samples(self) -> int:
        return self._n(self.analysis_ms / 1000.0)

    @property
    def fade_samples(self) -> int:
        return self._n(self.fade_ms / 1000.0)

    def tone_order(self) -> list[tuple[int, int]]:
        """``(level index, frequency index)`` in playing order: levels rising, frequencies interleaved."""
        return [(li, fi) for li in range(len(self.tone_levels_dbfs)) for fi in range(len(self.tone_freqs_hz))]

    def tone_span(self, position: int) -> tuple[int, int]:
        start = self.tones_start + position * self.tone_samples
        return start, start + self.tone_samples

    @property
    def frames(self) -> int:
        return self.tones_start + len(self.tone_order()) * self.tone_samples + self._n(self.tail_s)

    @property
    def duration_s(self) -> float:
        return self.frames / self.samplerate

    def to_dict(self) -> dict:
        data = asdict(self)
        data["tone_freqs_hz"] = list(self.tone_freqs_hz)
        data["tone_levels_dbfs"] = list(self.tone_levels_dbfs)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        names = set(cls.__dataclass_fields__)
        kwargs = {k: v for k, v in data.items() if k in names}
        for key in ("tone_freqs_hz", "tone_levels_dbfs"):
            if key in kwargs:
                kwargs[key] = tuple(float(v) for v in kwargs[key])
        return cls(**kwargs)

    def check(self) -> Plan:
        window_hz = 1000.0 / self.analysis_ms
        for f in self.tone_freqs_hz:
            if abs(f / window_hz - round(f / window_hz)) > 1e-9 or not 0 < f < 0.45 * self.samplerate:
                raise ValueError(f"tone {f} Hz must be a multiple of {window_hz:g} Hz below 0.45 fs")
        if self.analysis_ms + self.fade_ms * 2 > self.tone_ms:
            raise ValueError("tone_ms must hold the analysis window and both fades")
        if self.analysis_samples * 1000 != round(self.analysis_ms * self.samplerate):
            raise ValueError(f"analysis_ms {self.analysis_ms} is not a whole number of samples")
        return self


def build(plan: Plan) -> np.ndarray:
    """The stimulus, float32 mono, ``plan.frames`` long."""
    plan.check()
    out = np.zeros(plan.frames, dtype=np.float64)
    out[plan.sweep_start:plan.sweep_stop] = log_sweep(plan.samplerate, plan.sweep_s, f_start_hz=SWEEP_START_HZ,
                                                      level_dbfs=plan.sweep_level_dbfs)
    n = plan.tone_samples
    t = np.arange(n) / plan.samplerate
    fade = plan.fade_samples
    envelope = np.ones(n)
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        envelope[:fade] = ramp
        envelope[n - fade:] = ramp[::-1]
    for position, (li, fi) in enumerate(plan.tone_order()):
        start, stop = plan.tone_span(position)
        amplitude = 10 ** (plan.tone_levels_dbfs[li] / 20.0)
        out[start:stop] = amplitude * envelope * np.sin(2 * math.pi * plan.tone_freqs_hz[fi] * t)
    return out.astype(np.float32)


def snap_tone(freq_hz: float, plan_like_window_ms: float = 20.0) -> float:
    """``freq_hz`` rounded to the analysis window's bin spacing (50 Hz for 20 ms)."""
    step = 1000.0 / plan_like_window_ms
    return float(max(step, round(freq_hz / step) * step))


def default_plan(samplerate: int, *, second_tone_hz: float = 5000.0, **overrides: Any) -> Plan:
    """The standard plan at ``samplerate`` with 1 kHz and ``second_tone_hz`` (snapped to the grid)."""
    base = Plan(samplerate=int(samplerate), **overrides)
    second = snap_tone(second_tone_hz, base.analysis_ms)
    if abs(second - REFERENCE_TONE_HZ) < 1e-9:
        second = 5000.0
    second = min(second, snap_tone(0.4 * samplerate, base.analysis_ms))
    return Plan(**{**base.to_dict(), "tone_freqs_hz": (REFERENCE_TONE_HZ, second),
                   "tone_levels_dbfs": tuple(base.tone_levels_dbfs)}).check()


__all__ = ["Plan", "build", "default_plan", "snap_tone", "REFERENCE_TONE_HZ", "REFERENCE_LEVEL_DBFS"]
