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


#: the ping's defaults: 0.3 s of signal for one loop (silence for the noise floor, the
#: sweep, silence for the return), and one slot per further loop pinged in the same stream
PREROLL_S = 0.05
SWEEP_S = 0.15
CAPTURE_S = 0.1
SLOT_S = 0.04


@dataclass(frozen=True)
class PingSignal:
    """What the ping sends: ``sent`` (float32, mono), the sweep of slot 0 at ``start:stop``.

    With ``slots`` > 1 the same sweep is sent ``slot_frames`` later for each further slot
    (staggered sweeps): every loop that may hear another (the sides of a stereo unit, the
    inputs of a summing mixer) gets its own slot, so one recording, deconvolved by the
    sweep, holds each slot's response at its own lag. ``sent_for(k)`` is slot k's signal.
    """

    sent: np.ndarray
    samplerate: int
    start: int
    stop: int
    slots: int = 1
    slot_frames: int = 0

    @property
    def frames(self) -> int:
        return len(self.sent)

    @property
    def max_latency_samples(self) -> int:
        """The longest round trip whose return still fits (in the recording, and in its slot)."""
        last_stop = self.stop + (self.slots - 1) * self.slot_frames
        room = self.frames - last_stop
        if self.slots > 1:
            room = min(room, self.slot_frames - 64)    # the next slot's response starts there
        return room

    @property
    def signal_s(self) -> float:
        """Seconds of signal (silences included) the ping takes."""
        return self.frames / self.samplerate

    def sent_for(self, slot: int) -> np.ndarray:
        """Slot ``slot``'s send: the sweep ``slot`` x ``slot_frames`` later (slot 0 is ``sent``)."""
        if not 0 <= slot < self.slots:
            raise ValueError(f"slot {slot} out of range 0..{self.slots - 1}")
        if slot == 0:
            return self.sent
        shift = slot * self.slot_frames
        out = np.zeros_like(self.sent)
        out[shift:] = self.sent[:len(self.sent) - shift]
        return out


def ping_signal(samplerate: int, *, sweep_s: float = SWEEP_S, level_dbfs: float = -12.0,
                preroll_s: float = PREROLL_S, capture_s: float = CAPTURE_S, slots: int = 1,
                slot_s: float = SLOT_S) -> PingSignal:
    """Silence (``preroll_s``), a sweep (``sweep_s``), silence (``capture_s``: the longest
    latency plus tail the recording can hold); with ``slots`` > 1, ``slot_s`` more per slot."""
    if slots < 1:
        raise ValueError(f"slots must be 1 or more, got {slots}")
    pre = int(round(preroll_s * samplerate))
    sweep = log_sweep(samplerate, sweep_s, level_dbfs=level_dbfs)
    post = int(round(capture_s * samplerate))
    slot = int(round(slot_s * samplerate)) if slots > 1 else 0
    sent = np.zeros(pre + (slots - 1) * slot + len(sweep) + post, dtype=np.float32)
    sent[pre:pre + len(sweep)] = sweep
    return PingSignal(sent=sent, samplerate=int(samplerate), start=pre, stop=pre + len(sweep),
                      slots=int(slots), slot_frames=slot)
