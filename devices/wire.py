"""Pacing messages at the speed of the wire, with the gaps the gear asks for.

A DIN MIDI cable carries 31250 baud, 10 bits a byte: 3125 bytes/s. A computer (USB,
JACK) can hand over messages far faster than that; a MIDI interface then buffers and
eventually drops, and slow gear misses messages. ``WireClock`` books the wire like a
UART with a small FIFO: a message may be handed over up to ``lead_s`` before the wire is
free (the interface's buffer holds it while the previous one goes out), never earlier;
a gap the gear asks for (``min_gap_s`` between messages, ``gap_after_sysex_s`` after a
SysEx) is real silence on the wire, so the next message waits for it in full.

Deadlines are absolute, so a late wake-up does not add up over a long recall.
"""

from __future__ import annotations

import time
from typing import Callable


class WireClock:
    def __init__(self, bytes_per_s: float, *, min_gap_s: float = 0.0, gap_after_sysex_s: float = 0.0,
                 lead_s: float = 0.002, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.bytes_per_s = float(bytes_per_s)
        self.min_gap_s = float(min_gap_s)
        self.gap_after_sysex_s = float(gap_after_sysex_s)
        self.lead_s = float(lead_s)
        self._clock = clock
        self._sleep = sleep
        self._bytes_end = float("-inf")   # when the last booked byte leaves the wire
        self._gap_s = 0.0                 # silence owed after it

    def duration_s(self, nbytes: int) -> float:
        return nbytes / self.bytes_per_s if self.bytes_per_s > 0 else 0.0

    def gap_after_s(self, is_sysex: bool) -> float:
        return max(self.min_gap_s, self.gap_after_sysex_s if is_sysex else 0.0)

    def wait_turn(self, nbytes: int, *, is_sysex: bool = False) -> float:
        """Block until a message of ``nbytes`` may be handed to the port, and book the wire for it.

        Returns the time its first byte goes on the wire.
        """
        now = self._clock()
        start = max(now, self._bytes_end + self._gap_s)
        handoff = start if self._gap_s > 0 else start - self.lead_s
        if handoff > now:
            self._sleep_until(handoff)
        self._bytes_end = start + self.duration_s(nbytes)
        self._gap_s = self.gap_after_s(is_sysex)
        return start

    def drain(self) -> None:
        """Block until the last booked byte has left the wire (not counting a trailing gap)."""
        self._sleep_until(self._bytes_end)

    @property
    def idle_at_s(self) -> float:
        """When the next message could start (after the trailing gap)."""
        return self._bytes_end + self._gap_s

    def _sleep_until(self, deadline: float) -> None:
        while True:
            left = deadline - self._clock()
            if left <= 0:
                return
            # Sleep most of the way, then a short spin-sleep: time.sleep overshoots by
            # ~0.1 ms, which is a tenth of a three-byte message on DIN.
            self._sleep(left - 0.0002 if left > 0.0015 else left / 2 if left > 0.00005 else 0)
