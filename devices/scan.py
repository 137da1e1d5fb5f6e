"""Recognising units: what answers on which port, and which profiles fit the answer.

Each transport asks in its own way (:meth:`devices.transports.base.Transport.identify`):
MIDI sends the universal device inquiry and reads the maker's id from the reply; TCP
reads the greeting a unit sends on connect (a Videohub's protocol preamble, a login
banner) and serial listens for the one it sends at power-up (Extron's copyright line);
OSC asks each OSC profile's first address. MIDI ports present are tried unasked;
network units and serial lines are tried at the ports given, all at once, each for at
most the timeout.
"""

from __future__ import annotations

import threading
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
    # Network and serial units are asked at once (each waits at most ``timeout_s`` for its
    # greeting); MIDI ports one after another (JACK clients are opened one at a time). The
    # report keeps the order the ports were given in.
    answers: list[Identity | None] = [None] * len(tries)

    def ask(k: int) -> None:
        port, transport = tries[k]
        try:
            answers[k] = transport.identify(port, profiles, timeout_s)
        except DeviceError as exc:
            result.problems.append(f"{port}: {exc.reason}")

    threads = [threading.Thread(target=ask, args=(k,), name=f"scan-{tries[k][0]}", daemon=True)
               for k in range(len(tries)) if tries[k][1].identifies_alongside]
    for t in threads:
        t.start()
    for k in range(len(tries)):
        if not tries[k][1].identifies_alongside:
            ask(k)
    for t in threads:
        t.join()
    for (port, _transport), identity in zip(tries, answers, strict=True):
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
