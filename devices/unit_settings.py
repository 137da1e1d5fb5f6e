"""Per-unit settings: one profile, many units set up differently.

Two identical SysEx units on different device ids, a pedal whose CCs the user assigned
on its own menu, a router numbering its ports from 0, a network unit at its own
address: a studio writes these beside the unit (``[devices.NAME]`` in studio.toml) and
gets a copy of the profile with them applied, checked like the profile itself.

    device_id = 17             # SysEx device id 0..127 ({dev} in the templates)
    channel = 3                # MIDI channel 1..16
    cc = { mix = 21 }          # user-assigned controller numbers, by parameter
    port_base = 0              # the router's first port on the wire: 0 or 1
    host = "10.0.0.7"          # a network unit: its address ...
    network_port = 9990        # ... and port (default: the profile's network_port)
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from devices.errors import ProfileError
from devices.profile import Profile, _check_midi_collisions, _Reader

KEYS = ("device_id", "channel", "cc", "port_base", "host", "network_port")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*$")
URL_SCHEMES = {"serial": "socket", "tcp": "tcp", "osc": "osc.udp"}
"""The port URL scheme a network unit is reached by, per profile transport (serial text
protocols over IP go through a raw socket, as Extron SIS and Kramer Protocol 3000 allow)."""


@dataclass(frozen=True)
class UnitSettings:
    device_id: int | None = None
    channel: int | None = None
    cc: dict[str, int] = field(default_factory=dict)
    port_base: int | None = None
    host: str | None = None
    network_port: int | None = None

    @property
    def empty(self) -> bool:
        return self == UnitSettings()


def parse_unit_settings(table: dict[str, Any], *, file: str | None, key: str) -> UnitSettings:
    """The per-unit keys of ``table`` (other keys are the caller's), checked."""
    reader = _Reader(file or "", table, key)

    def integer(name: str, lo: int, hi: int) -> int | None:
        value = table.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            reader.fail(name, f"expected an integer {lo}..{hi}, got {value!r}")
        return int(value)

    cc_table = reader.get("cc", dict, default={}, what="a table like { mix = 21 }")
    cc: dict[str, int] = {}
    for name, number in cc_table.items():
        if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= 119:
            reader.fail(f"cc.{name}", f"expected a controller number 0..119, got {number!r}")
        cc[name] = number
    host = reader.get("host", str, default=None, what="a host name or IP address")
    if host is not None and not _valid_host(host):
        reader.fail("host", f"expected a host name or IP address, got {host!r}")
    return UnitSettings(device_id=integer("device_id", 0, 127), channel=integer("channel", 1, 16), cc=cc,
                        port_base=integer("port_base", 0, 1), host=host,
                        network_port=integer("network_port", 1, 65535))


def _valid_host(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return bool(_HOSTNAME.match(text))


def customise(profile: Profile, settings: UnitSettings, *, where: str) -> Profile:
    """A copy of ``profile`` for one unit; ``where`` names the unit in complaints."""
    if settings.empty:
        return profile
    midi = profile.midi
    if (settings.device_id is not None or settings.channel is not None or settings.cc) and midi is None:
        raise ProfileError(f"profile {profile.id!r} is not MIDI gear; device_id, channel and cc do not apply",
                           file=where)
    parameters = dict(profile.parameters)
    for name, number in settings.cc.items():
        param = parameters.get(name)
        if param is None:
            raise ProfileError(f"profile {profile.id!r} has no parameter {name!r}", file=where, key=f"cc.{name}")
        enc = param.encoding
        if getattr(enc, "type", None) != "cc":
            raise ProfileError(f"parameter {name!r} is not sent as a 7-bit CC", file=where, key=f"cc.{name}")
        parameters[name] = dataclasses.replace(param, encoding=dataclasses.replace(enc, control=number))
    if settings.cc:
        _check_midi_collisions(_Reader(where, {}, "cc"), parameters)
    changes: dict[str, Any] = {"parameters": parameters}
    if midi is not None:
        midi_changes: dict[str, Any] = {}
        if settings.device_id is not None:
            midi_changes["device_id"] = settings.device_id
        if settings.channel is not None:
            midi_changes["channel"] = settings.channel
        changes["midi"] = dataclasses.replace(midi, **midi_changes)
        changes["settings"] = {**profile.settings, "midi": changes["midi"]}
    if settings.port_base is not None:
        if profile.router is None:
            raise ProfileError(f"profile {profile.id!r} is not a router; port_base does not apply",
                               file=where, key="port_base")
        changes["router"] = dataclasses.replace(profile.router, port_base=settings.port_base)
    return dataclasses.replace(profile, **changes)


def port_url(profile: Profile, settings: UnitSettings, default_port: int | None, *, where: str) -> str | None:
    """The port URL for a unit given by ``host`` (and ``network_port``), else None."""
    if settings.host is None:
        if settings.network_port is not None:
            raise ProfileError("network_port without host", file=where, key="network_port")
        return None
    scheme = URL_SCHEMES.get(profile.transport)
    if scheme is None:
        raise ProfileError(f"profile {profile.id!r} speaks {profile.transport}; it has no network address",
                           file=where, key="host")
    number = settings.network_port or default_port
    if number is None:
        raise ProfileError(f"profile {profile.id!r} names no network_port; give one", file=where,
                           key="network_port")
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"{scheme}://{host}:{number}"
