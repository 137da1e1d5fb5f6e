"""Transports as a registry: a port URL's scheme, or else the profile's ``transport``, picks one.

Modelled on pyserial's URL handlers and mido's backends. Each transport is one module
here that defines ``TRANSPORT`` (a :class:`devices.transports.base.Transport`): the
profile tables it reads, how a parameter is encoded, how a link to the unit is opened
(open, close, send, query, listen) and how the unit is simulated. Adding a transport is
that module, its simulator and one line in ``_MODULES``; nothing else in the code looks
at a transport's name.

Ports are URLs: ``tcp://HOST:PORT``, ``osc.udp://HOST:PORT``, ``osc.tcp://HOST:PORT``;
pyserial's own URLs (``socket://``, ``spy://``, ``loop://``, ``rfc2217://``); plain MIDI
port names and serial device paths keep working (they take the profile's transport).

Modules are imported on first use, so ``devices.profile`` can ask the registry while the
transport modules import the profile's settings types.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING

from devices.errors import DeviceError, ProfileError

if TYPE_CHECKING:
    from devices.transports.base import Transport

_MODULES: dict[str, str] = {
    "midi": "devices.transports.midi",
    "serial": "devices.transports.serial",
    "tcp": "devices.transports.tcp",
    "osc": "devices.transports.osc",
    "manual": "devices.transports.manual",
}
"""The registration: a profile's ``transport`` value -> the module that defines ``TRANSPORT``."""

_LOADED: dict[str, Transport] = {}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)


def transport_names() -> tuple[str, ...]:
    """Every registered transport, as a profile's ``transport`` names it."""
    return tuple(_MODULES)


def transport(name: str) -> Transport:
    """The registered transport called ``name`` (a profile's ``transport`` value)."""
    found = _LOADED.get(name)
    if found is not None:
        return found
    module_name = _MODULES.get(name)
    if module_name is None:
        raise ProfileError(f"unknown transport {name!r}; expected one of {', '.join(_MODULES)}", key="transport")
    loaded: Transport = importlib.import_module(module_name).TRANSPORT
    _LOADED[name] = loaded
    return loaded


def all_transports() -> list[Transport]:
    return [transport(name) for name in _MODULES]


def url_scheme(port: str) -> str | None:
    """``"tcp"`` for ``tcp://host:1``; None for a plain MIDI name or a device path."""
    found = _SCHEME.match(port.strip())
    return found.group(1).lower() if found else None


def transport_for_port(native: str, port: str | None) -> Transport:
    """The transport that opens ``port`` for a unit whose profile's transport is ``native``.

    A URL's scheme decides (a serial-protocol unit reached over ``tcp://`` talks TCP);
    a plain name or path goes to the profile's own transport. Refused, naming both, when
    the URL's transport cannot carry what the profile speaks.
    """
    own = transport(native)
    scheme = url_scheme(port) if port else None
    if scheme is None or scheme in own.schemes:
        return own
    for candidate in all_transports():
        if scheme in candidate.schemes:
            if candidate.protocol != own.protocol:
                raise DeviceError(f"port {port!r} is a {candidate.name} port, but the profile speaks "
                                  f"{own.protocol} over {own.name}", action="opening", code="wrong_transport")
            return candidate
    schemes = sorted({s + "://" for t in all_transports() for s in t.schemes})
    raise DeviceError(f"unknown port scheme {scheme + '://'!r} in {port!r}; expected one of {', '.join(schemes)}, "
                      "a MIDI port name or a serial device path", action="opening", code="wrong_transport")
