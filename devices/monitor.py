"""A traffic monitor: every byte each way on every port, with time and direction.

Like pyserial's ``spy://``, but for MIDI and serial alike and readable by a program: a
bounded ring of entries that a TUI can page through, plus subscribers called as bytes
pass (from the transport's thread: keep them short, hand work to your own queue).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from collections.abc import Callable, Iterable

OUT, IN = "out", "in"


@dataclass(frozen=True)
class TrafficEntry:
    time_s: float
    """``time.monotonic()`` when the bytes were handed to (or taken from) the port."""
    direction: str
    """``"out"`` (to the gear) or ``"in"`` (from the gear)."""
    port: str
    data: bytes
    note: str = ""
    """What the bytes were for (e.g. ``set threshold``), when the sender knows."""

    def hex(self) -> str:
        return self.data.hex(" ").upper()

    def text(self) -> str:
        """Printable rendering for text protocols: CR/LF and other controls escaped."""
        return self.data.decode("latin-1").encode("unicode_escape").decode("ascii")

    def format(self, start_s: float = 0.0, *, as_text: bool = False) -> str:
        arrow = "->" if self.direction == OUT else "<-"
        body = self.text() if as_text else self.hex()
        note = f"  ({self.note})" if self.note else ""
        return f"{self.time_s - start_s:10.6f} {arrow} {self.port}: {body}{note}"

    def to_dict(self) -> dict[str, object]:
        return {"time_s": self.time_s, "direction": self.direction, "port": self.port,
                "hex": self.hex(), "note": self.note}


class TrafficMonitor:
    """Thread-safe ring of the last ``capacity`` entries, with subscribers."""

    def __init__(self, capacity: int = 10000):
        self._entries: deque[TrafficEntry] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[TrafficEntry], None]] = []
        self.bytes_out = 0
        self.bytes_in = 0
        self.started_s = time.monotonic()

    def record(self, direction: str, port: str, data: bytes | bytearray | Iterable[int], note: str = "",
               at_s: float | None = None) -> TrafficEntry:
        """``at_s``: when the bytes go on the wire (``time.monotonic()``), if not now (a
        message handed over ahead of its slot)."""
        entry = TrafficEntry(time.monotonic() if at_s is None else at_s, direction, port, bytes(data), note)
        with self._lock:
            self._entries.append(entry)
            if direction == OUT:
                self.bytes_out += len(entry.data)
            else:
                self.bytes_in += len(entry.data)
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback(entry)
        return entry

    def entries(self, direction: str | None = None, port: str | None = None) -> list[TrafficEntry]:
        with self._lock:
            items = list(self._entries)
        return [e for e in items if (direction is None or e.direction == direction)
                and (port is None or e.port == port)]

    def subscribe(self, callback: Callable[[TrafficEntry], None]) -> Callable[[], None]:
        """Call ``callback(entry)`` for each new entry; returns a function that unsubscribes."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)
        return unsubscribe

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes_out = self.bytes_in = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
