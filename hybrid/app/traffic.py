"""The session's traffic log: every byte its devices send and receive, with the room's device names."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from devices.monitor import TrafficEntry, TrafficMonitor


@dataclass(frozen=True)
class TrafficLine:
    """A traffic entry with the room's device name (the monitor knows only ports)."""

    device: str
    entry: TrafficEntry

    @property
    def direction(self) -> str:
        return self.entry.direction

    @property
    def note(self) -> str:
        return self.entry.note

    def hex(self) -> str:
        return self.entry.hex()

    def clock(self) -> str:
        return f"{self.entry.time_s:12.3f}"


class TrafficLog:
    """Every byte the session's devices send and receive, numbered so a UI can poll for new ones.

    Wraps a :class:`devices.monitor.TrafficMonitor` (which the session hands to each
    Device it opens); ``since(n)`` returns the entries after the n-th and the new count.
    """

    def __init__(self, capacity: int = 5000) -> None:
        self.monitor = TrafficMonitor(capacity)
        self._lock = threading.Lock()
        self._lines: list[TrafficLine] = []
        self._dropped = 0
        self._capacity = capacity
        self._ports: dict[str, str] = {}
        self.monitor.subscribe(self._record)

    def name_port(self, port: str, device: str) -> None:
        with self._lock:
            self._ports[port] = device

    def _device_of(self, port: str) -> str:
        """The room's name for a port: its configured port string, or one contained in it
        (MIDI ports are resolved to full JACK names such as ``demo-comp:in``)."""
        if port in self._ports:
            return self._ports[port]
        for wanted, device in self._ports.items():
            if wanted and wanted in port:
                self._ports[port] = device
                return device
        return port

    def _record(self, entry: TrafficEntry) -> None:
        with self._lock:
            device = self._device_of(entry.port)
            self._lines.append(TrafficLine(device, entry))
            if len(self._lines) > self._capacity:
                cut = len(self._lines) - self._capacity
                del self._lines[:cut]
                self._dropped += cut

    def since(self, count: int) -> tuple[list[TrafficLine], int]:
        with self._lock:
            total = self._dropped + len(self._lines)
            start = max(0, count - self._dropped)
            return self._lines[start:], total
