"""Measurement signals: the exponential sine sweep the latency ping sends, with its silences.

The ping's stimulus is silence (the noise floor is read there), an exponential sine
sweep, and silence again (the return arrives there, late by the loop's latency, and a
gear's tail dies away). See ``hybrid.live.audio.ping`` for why a sweep.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def log_sweep(samplerate: int, duration_s: float, *, f_start_hz: float = 20.0,
              f_stop_hz: float | None = None, level_dbfs: float = -12.0,
              fade_in_s: float = 0.02, fade_out_s: float = 0.005) -> np.ndarray:
    """An exponential (Farina) sine sweep, ``level_dbfs`` peak, with raised-cosine fades.

    ``f_stop_hz`` defaults to 0.45 x the sample rate (just under the converters'
    anti-alias filters). The fade-in is long (the low end moves slowly), the fade-out
    short (the top end moves fast).
    """
    if f_stop_hz is None:
        f_stop_hz = 0.45 * samplerate
    if not 0 < f_start_hz < f_stop_hz <= samplerate / 2:
        raise ValueError(f"sweep needs 0 < f_start_hz < f_stop_hz <= samplerate/2, "
                         f"got {f_start_hz}..{f_stop_hz} at {samplerate}")
    n = int(round(duration_s * samplerate))
    if n < 64:
        raise ValueError(f"sweep too short: {duration_s} s")
    t = np.arange(n) / samplerate
    rate = math.log(f_stop_hz / f_start_hz)
    phase = 2 * math.pi * f_start_hz * duration_s / rate * (np.exp(t * rate / duration_s) - 1.0)
    sweep = np.sin(phase)
    _fade(sweep, int(fade_in_s * samplerate), int(fade_out_s * samplerate))
    return sweep * 10 ** (level_dbfs / 20.0)


def _fade(x: np.ndarray, n_in: int, n_out: int) -> None:
    if n_in > 0:
        x[:n_in] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(n_in) / n_in)
    if n_out > 0:
        x[len(x) - n_out:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, n_out + 1) / n_out)


@dataclass(frozen=True)
class PingSignal:
    """What the ping sends: ``sent`` (float32, mono), the sweep at ``start:stop``."""

    sent: np.ndarray
    samplerate: int
    start: int
    stop: int

    @property
    def frames(self) -> int:
        return len(self.sent)

    @property
    def max_latency_samples(self) -> int:
        """The longest round trip whose return still fits in the recording."""
        return self.frames - self.stop


def ping_signal(samplerate: int, *, sweep_s: float = 0.5, level_dbfs: float = -12.0,
                preroll_s: float = 0.1, capture_s: float = 0.35) -> PingSignal:
    """Silence (``preroll_s``), a sweep (``sweep_s``), silence (``capture_s``: the longest
    latency plus tail the recording can hold)."""
    pre = int(round(preroll_s * samplerate))
    sweep = log_sweep(samplerate, sweep_s, level_dbfs=level_dbfs)
    post = int(round(capture_s * samplerate))
    sent = np.zeros(pre + len(sweep) + post, dtype=np.float32)
    sent[pre:pre + len(sweep)] = sweep
    return PingSignal(sent=sent, samplerate=int(samplerate), start=pre, stop=pre + len(sweep))
