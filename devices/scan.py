"""Recognising units: what answers on which port, and which profiles fit the answer.

Each transport asks in its own way (:meth:`devices.transports.base.Transport.identify`):
MIDI sends the universal device inquiry and reads the maker's id from the reply; TCP
reads the banner a unit greets with; OSC asks each OSC profile's first address. MIDI
ports present are tried unasked; network units are tried at the URLs given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devices.errors import DeviceError
from devices.profile import Profile
from devices.transports import all_transports, url_scheme
from devices.transports.base import Identity


@dataclass
class ScanResult:
    found: list[Identity] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)
    """Ports tried where nothing answered."""
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"found": [i.to_dict() for i in self.found], "silent": list(self.silent),
                "problems": list(self.problems)}


def scan(profiles: list[Profile], ports: list[str] | None = None, *, timeout_s: float = 0.5) -> ScanResult:
    """Ask every port in ``ports`` (default: every MIDI port present) what it is."""
    result = ScanResult()
    tries: list[tuple[str, Any]] = []
    if ports is None:
        for transport in all_transports():
            try:
                tries += [(port, transport) for port in transport.scan_ports()]
            except DeviceError as exc:
                result.problems.append(f"{transport.name}: {exc.reason}")
    else:
        for port in ports:
            if url_scheme(port) is not None:
                try:
                    tries.append((port, _by_scheme(port)))
                except DeviceError as exc:
                    result.problems.append(f"{port}: {exc.reason}")
                continue
            cache: dict[str, Any] = {}
            owners = [t for t in all_transports() if t.machine_settable and t.presence(port, cache)[0]]
            if not owners:
                result.silent.append(port)
            tries += [(port, t) for t in owners]
    for port, transport in tries:
        identity = transport.identify(port, profiles, timeout_s)
        if identity is None:
            result.silent.append(port)
        else:
            result.found.append(identity)
    return result


def _by_scheme(port: str) -> Any:
    scheme = url_scheme(port)
    for transport in all_transports():
        if scheme in transport.schemes:
            return transport
    raise DeviceError(f"unknown port scheme {scheme}://", action="scanning")
