"""Pacing messages at the speed of the wire, with the gaps the gear asks for.

A DIN MIDI cable carries 31250 baud, 10 bits a byte: 3125 bytes/s. A computer (USB,
JACK) can hand over messages far faster than that; a MIDI interface then buffers and
eventually drops, and slow gear misses messages. ``WireClock`` books the wire like a
UART with a small FIFO: a message may be handed over up to ``lead_s`` before the wire is
free (the interface's buffer holds it while the previous one goes out), never earlier;
a gap the gear asks for (``min_gap_s`` between messages, ``gap_after_sysex_s`` after a
SysEx) is real silence on the wire, so the next message waits for it in full.

Deadlines are absolute, so a late wake-up does not add up over a long recall. A port that
can place a message at a given time (``devices.jack_midi``'s ``send_at``: JACK MIDI events
carry their frame) is handed messages up to ``ahead_s`` before their slot with the slot's
time (``wait_turn(..., timed=True)``): the bytes then leave at the wire's pace, gaps
included, however late the sending thread wakes on a busy machine. Devices
on one cable share its booking (``shared_wire``): a recall of two units daisy-chained on
one MIDI out takes the sum of their wire times, never less.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


AHEAD_S = 0.25
"""How far ahead of its slot a message may be handed to a port that places it at its time."""


class Wire:
    """One physical cable's booking, shared by every device on it (a DIN MIDI out feeding
    several units on different channels: their messages queue on the same 3125 bytes/s)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bytes_end = float("-inf")    # when the last booked byte leaves the wire
        self.gap_s = 0.0                  # silence owed after it (the gear that got it asked)


_WIRES: dict[str, Wire] = {}
_WIRES_LOCK = threading.Lock()


def shared_wire(key: str) -> Wire:
    """The booking of the cable called ``key`` (a port name), shared within this process."""
    with _WIRES_LOCK:
        return _WIRES.setdefault(key, Wire())


class WireClock:
    """Paces one device's messages on a wire (its own, or one shared with other devices)."""

    def __init__(self, bytes_per_s: float, *, min_gap_s: float = 0.0, gap_after_sysex_s: float = 0.0,
                 lead_s: float = 0.002, ahead_s: float = AHEAD_S, wire: Wire | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.bytes_per_s = float(bytes_per_s)
        self.min_gap_s = float(min_gap_s)
        self.gap_after_sysex_s = float(gap_after_sysex_s)
        self.lead_s = float(lead_s)
        self.ahead_s = float(ahead_s)
        self.wire = wire or Wire()
        self._clock = clock
        self._sleep = sleep
        self._my_end = float("-inf")      # when this device's last byte leaves the wire

    def duration_s(self, nbytes: int) -> float:
        return nbytes / self.bytes_per_s if self.bytes_per_s > 0 else 0.0

    def gap_after_s(self, is_sysex: bool) -> float:
        return max(self.min_gap_s, self.gap_after_sysex_s if is_sysex else 0.0)

    def wait_turn(self, nbytes: int, *, is_sysex: bool = False, timed: bool = False) -> float:
        """Block until a message of ``nbytes`` may be handed to the port, and book the wire for it.

        The slot is booked before sleeping, so devices sharing a wire from several threads
        queue in order. Returns the time its first byte goes on the wire. ``timed``: the
        port places the message at that time itself, so it may be handed over up to
        ``ahead_s`` before it (gaps included).
        """
        wire = self.wire
        with wire.lock:
            now = self._clock()
            start = max(now, wire.bytes_end + wire.gap_s)
            handoff = start - self.ahead_s if timed else start if wire.gap_s > 0 else start - self.lead_s
            wire.bytes_end = self._my_end = start + self.duration_s(nbytes)
            wire.gap_s = self.gap_after_s(is_sysex)
        if handoff > now:
            self._sleep_until(handoff)
        return start

    def drain(self) -> None:
        """Block until this device's last booked byte has left the wire (not its trailing gap)."""
        self._sleep_until(self._my_end)

    @property
    def idle_at_s(self) -> float:
        """When the next message on the wire could start (after the trailing gap)."""
        return self.wire.bytes_end + self.wire.gap_s

    def _sleep_until(self, deadline: float) -> None:
        while True:
            left = deadline - self._clock()
            if left <= 0:
                return
            # Sleep most of the way, then a short spin-sleep: time.sleep overshoots by
            # ~0.1 ms, which is a tenth of a three-byte message on DIN.
            self._sleep(left - 0.0002 if left > 0.0015 else left / 2 if left > 0.00005 else 0)
