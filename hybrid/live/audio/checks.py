"""Checks on a recorded return that the pings cannot make: dropouts of the return itself.

Why: a dropout that does not move the loop's latency (a converter or driver that drops a
few blocks to digital silence and carries on) leaves both pings agreeing, yet the print
has a hole. An analog return through a converter is never exact digital zero for a
millisecond while its send is playing: the converter's own noise alone flips the low
bits. So a run of exact 0.0 samples that starts right after the return carried signal,
lasts at least ``min_run_ms``, and happens while the send (aligned by the measured
latency) was above ``send_floor_dbfs`` is a dropout. Gear that is silent on purpose (a
reverb's pre-delay from silence, a stem's digital silence passed through) does not match:
either the return was already silent when the run began or the send was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dropout:
    """A hole in a return: ``start_frame`` in the stem's frames, ``frames`` long."""

    channel: int            # 0-based channel of the printed file
    start_frame: int
    frames: int

    def describe(self, samplerate: int) -> str:
        return (f"dropout on channel {self.channel + 1}: {1000.0 * self.frames / samplerate:.1f} ms of "
                f"digital silence at {self.start_frame / samplerate:.3f} s while the stem played")


class DropoutDetector:
    """Fed aligned ``(send, ret)`` blocks of one channel in order; collects ``dropouts``."""

    def __init__(self, channel: int, samplerate: int, *, min_run_ms: float = 1.0,
                 send_floor_dbfs: float = -80.0):
        self.channel = channel
        self.min_run = max(2, int(round(min_run_ms * samplerate / 1000.0)))
        self.send_floor = 10.0 ** (send_floor_dbfs / 20.0)
        self.dropouts: list[Dropout] = []
        self._pos = 0
        self._prev_nonzero = False     # was the last return sample non-zero?
        self._run_start = -1           # start of the current candidate run, -1 if none
        self._run_send_peak = 0.0
        self._in_zero = False

    def feed(self, send: np.ndarray, ret: np.ndarray) -> None:
        zero = ret == 0.0
        if not zero.any() and not self._in_zero:
            self._pos += len(ret)
            self._prev_nonzero = True
            return
        # Edges of the zero runs inside this block (vectorised), then walk the few runs.
        padded = np.concatenate(([False], zero, [False]))
        edges = np.flatnonzero(padded[1:] != padded[:-1])
        starts, ends = edges[0::2], edges[1::2]          # run k covers [starts[k], ends[k])
        absend = np.abs(send)
        for s, e in zip(starts, ends, strict=False):
            continuing = s == 0 and self._in_zero
            if not continuing:
                prev_nonzero = self._prev_nonzero if s == 0 else True
                self._run_start = self._pos + s if prev_nonzero else -1
                self._run_send_peak = 0.0
            if self._run_start >= 0 and e > s:
                self._run_send_peak = max(self._run_send_peak, float(absend[s:e].max()))
            if e < len(ret):                              # the run ends in this block
                self._close(self._pos + e)
        self._in_zero = bool(zero[-1])
        self._prev_nonzero = not self._in_zero
        self._pos += len(ret)

    def finish(self) -> list[Dropout]:
        if self._in_zero:
            self._close(self._pos)
            self._in_zero = False
        return self.dropouts

    def _close(self, end: int) -> None:
        if self._run_start >= 0 and end - self._run_start >= self.min_run and self._run_send_peak >= self.send_floor:
            self.dropouts.append(Dropout(self.channel, int(self._run_start), int(end - self._run_start)))
        self._run_start = -1
        self._run_send_peak = 0.0
