"""Device profiles: one TOML file describes one model of gear (spec ``hybrid-device/1``).

A new piece of gear is a new profile, not new code. The file says who made it, how it
is reached (``midi``, ``serial`` or ``manual`` for hand-set units), its parameters in
panel order, how each is encoded, how it is read back, how its router commands look,
and (``[sound]``) what the simulated analog gear should sound like.

Everything is checked on load: a malformed profile is refused with one line naming the
file, the key path and what was expected.

A profile also says where it comes from (``version``, ``author``, ``[source]`` document
and page, ``firmware_tested``, and ``inferred`` for anything not printed by the maker),
may declare a console's repeated strips once (``[parameters."ch{01..32}.fader"]``), and
may say that a parameter exists only for some settings of another (``when``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from devices import safe_read
from devices.dump import DumpFormat, parse_dump
from devices.errors import ProfileError
from devices.midi_codec import parse_encoding
from devices.parameter import CONTROLS, KINDS, TAPERS, Parameter
from devices.sound_schema import load_sound
from devices.sysex import SysexTemplate
from devices.strips import expand_strips
from devices.text_codec import SerialEncoding, TextTemplate, decode_escapes, parse_serial_encoding
from devices.transports import transport as transport_of, transport_names

SPEC = "hybrid-device/1"
TRANSPORTS = transport_names()
DEVICE_KINDS = ("compressor", "equaliser", "reverb", "saturator", "patchbay", "router", "manual",
                "delay", "limiter", "gate", "preamp", "filter", "other")
LIBRARY = Path(__file__).resolve().parent / "library"
DIN_BYTES_PER_S = 3125.0


@dataclass(frozen=True)
class MidiSettings:
    """``[midi]``: channel, wire rate and pacing, SysEx defaults, dump."""

    channel: int = 1
    rate_bytes_per_s: float = DIN_BYTES_PER_S
    """Bytes per second the port carries: 3125 for a DIN cable; 0 for no limit (USB-native gear)."""
    min_gap_ms: float = 0.0
    """Silence the gear needs between two messages."""
    gap_after_sysex_ms: float = 0.0
    """Silence the gear needs after a SysEx message (to write its memory, say)."""
    device_id: int = 0x10
    reply_timeout_ms: float = 1000.0
    transmits: bool = False
    """The panel sends its moves out (lets a device learn from the gear)."""
    dump_request: SysexTemplate | None = None
    dump_reply: SysexTemplate | None = None
    sysex_checksum: str = "none"
    """Default checksum of SysEx templates: roland, sum7, xor or none."""
    sysex_checksum_start: int = 1
    null_after_nrpn: bool = False


@dataclass(frozen=True)
class SerialSettings:
    """``[serial]``: line settings, terminators, replies."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    timeout_ms: float = 500.0
    terminator: str = "\r"
    """Ends each command line (may be empty for protocols like SIS whose commands end in a verb)."""
    reply_terminator: str = "\r\n"
    wait_reply: bool = True
    """Wait for each reply (or the timeout) before the next command."""
    min_gap_ms: float = 0.0
    ack: TextTemplate | None = None
    error: TextTemplate | None = None
    error_messages: dict[str, str] = field(default_factory=dict)
    """Error code -> meaning, for the one-line error a person reads."""
    error_replies: dict[str, str] = field(default_factory=dict)
    """What the gear answers when: ``unknown_command``, ``out_of_range``, ``invalid_input``... (the simulator uses them)."""

    @property
    def bits_per_char(self) -> float:
        return 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits


@dataclass(frozen=True)
class RouterSpec:
    """``[router]``: a matrix's tie commands and their replies, as templates."""

    inputs: int
    outputs: int
    tie: TextTemplate
    tie_reply: TextTemplate
    untie: TextTemplate | None
    untie_reply: TextTemplate | None
    query: TextTemplate | None
    query_reply: TextTemplate | None
    port_base: int = 1
    """The number the unit gives its first port on the wire (Videohub: 0). Hybrid counts
    ports from 1 everywhere else; the templates see wire numbers."""

    def wire_port(self, number: int) -> int:
        """Hybrid's 1-based port number as the unit writes it."""
        return number - 1 + self.port_base

    def port_from_wire(self, number: int) -> int:
        return number + 1 - self.port_base


@dataclass(frozen=True)
class SourceDocument:
    """Where a profile's bytes come from: the maker's document and the page or section."""

    document: str
    page: str = ""
    url: str = ""

    def cite(self) -> str:
        return self.document + (f", {self.page}" if self.page else "")


@dataclass
class Profile:
    """One model of gear. ``parameters`` keep the panel order of the file."""

    id: str
    maker: str
    model: str
    kind: str
    transport: str
    parameters: dict[str, Parameter]
    readback: bool
    sound: dict[str, Any] | None
    source: Path
    description: str = ""
    midi: MidiSettings | None = None
    serial: SerialSettings | None = None
    router: RouterSpec | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    """Each transport table of the file, read by its transport (``settings["tcp"]``): the
    profile's own transport's, and others it may also be reached by (a serial unit's ``[tcp]``)."""
    version: str = ""
    author: str = ""
    sources: tuple[SourceDocument, ...] = ()
    firmware_tested: str = ""
    inferred: str = ""
    """What the profile infers rather than quotes from the maker (empty = all published)."""
    network_port: int | None = None
    """The TCP/UDP port the maker documents (a studio gives only the unit's ``host``)."""
    dump: DumpFormat | None = None
    """Recall by dump: how the unit's edit buffer looks as SysEx (``[dump]``)."""

    def applicable(self, state: dict[str, Any]) -> list[str]:
        """Names of the parameters that exist with the selectors at ``state`` (defaults fill gaps)."""
        full = {**self.defaults(), **state}
        return [name for name, p in self.parameters.items() if p.applies(full)]

    def applicable_to(self, values: dict[str, Any]) -> list[str]:
        """``applicable`` for values as a sheet holds them (text allowed; unparsable selectors count as unset)."""
        state: dict[str, Any] = {}
        for name in self.selectors():
            if name in values:
                try:
                    state[name] = self.parameters[name].parse(values[name])
                except ProfileError:
                    pass
        return self.applicable(state)

    def selectors(self) -> list[str]:
        """Parameters other parameters depend on, in panel order."""
        used = {name for p in self.parameters.values() for name in (p.when or {})}
        return [name for name in self.parameters if name in used]

    @property
    def recallable(self) -> bool:
        """False for hand-set units: their values are set by a person following the sheet."""
        return transport_of(self.transport).machine_settable

    @property
    def listens(self) -> bool:
        """The unit tells of its panel moves (a device can learn a setting from it)."""
        return transport_of(self.transport).listens(self)

    def defaults(self) -> dict[str, Any]:
        return {name: p.default for name, p in self.parameters.items()}

    def parameter(self, name: str) -> Parameter:
        try:
            return self.parameters[name]
        except KeyError:
            raise ProfileError(f"no parameter {name!r}; expected one of {', '.join(self.parameters)}",
                               file=self.id, key="parameters") from None

    def check_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """Parse and check every value (text allowed) before anything is sent."""
        return {name: self.parameter(name).parse(value) for name, value in values.items()}

    def role_number(self, role: str | float | int, state: dict[str, Any]) -> float:
        """A ``[sound]`` role as a number: a parameter's current value (its ``values`` entry
        or label number for a detent, 1/0 for a switch), or the number written in the profile."""
        if isinstance(role, (int, float)) and not isinstance(role, bool):
            return float(role)
        name = str(role)
        parameter = self.parameter(name)
        return parameter.number(state.get(name, parameter.default))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "maker": self.maker, "model": self.model, "kind": self.kind,
            "transport": self.transport, "readback": self.readback, "source": str(self.source),
            "description": self.description,
            "parameters": [p.to_dict() for p in self.parameters.values()],
            "router": {"inputs": self.router.inputs, "outputs": self.router.outputs,
                       "port_base": self.router.port_base} if self.router else None,
            "sound": self.sound,
            "version": self.version, "author": self.author, "firmware_tested": self.firmware_tested,
            "sources": [{"document": d.document, "page": d.page, "url": d.url} for d in self.sources],
            "inferred": self.inferred,
        }


# ---- loading --------------------------------------------------------------------------
class _Reader:
    """Typed access to a TOML table that names the key path in every complaint."""

    def __init__(self, file: str, table: dict[str, Any], path: str = "") -> None:
        self.file, self.table, self.path = file, table, path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, reason: str) -> NoReturn:
        raise ProfileError(reason, file=self.file, key=self.key(name))

    def get(self, name: str, types: Any, *, required: bool = False, default: Any = None,
            what: str | None = None) -> Any:
        if name not in self.table:
            if required:
                self.fail(name, f"missing; expected {what or _type_names(types)}")
            return default
        value = self.table[name]
        if isinstance(value, bool) and bool not in _as_tuple(types):
            self.fail(name, f"expected {what or _type_names(types)}, got {value!r}")
        if not isinstance(value, types):
            self.fail(name, f"expected {what or _type_names(types)}, got {value!r}")
        return value

    def choice(self, name: str, options: Sequence[str], *, required: bool = False, default: Any = None) -> Any:
        value = self.get(name, str, required=required, default=default, what="one of " + ", ".join(options))
        if value not in options:
            self.fail(name, f"expected one of {', '.join(options)}, got {value!r}")
        return value

    def number(self, name: str, *, default: Any = None, lo: float | None = None, hi: float | None = None,
               required: bool = False) -> Any:
        value = self.get(name, (int, float), default=default, required=required, what="a number")
        if value is not None and ((lo is not None and value < lo) or (hi is not None and value > hi)):
            self.fail(name, f"expected a number {lo if lo is not None else ''}..{hi if hi is not None else ''}, "
                            f"got {value!r}")
        return value

    def need(self, name: str) -> _Reader:
        """A sub-table that must be there."""
        table = self.get(name, dict, required=True, what="a table")
        return _Reader(self.file, table, self.key(name))

    def sub(self, name: str, *, required: bool = False) -> _Reader | None:
        table = self.get(name, dict, required=required, what="a table")
        return None if table is None else _Reader(self.file, table, self.key(name))

    def only(self, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for name in self.table:
            if name not in allowed:
                self.fail(name, "unknown key; expected one of " + ", ".join(sorted(allowed)))


def _as_tuple(types: Any) -> tuple[Any, ...]:
    return types if isinstance(types, tuple) else (types,)


def _type_names(types: Any) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
             dict: "a table", list: "a list"}
    return " or ".join(names.get(t, t.__name__) for t in _as_tuple(types))


_TOP_KEYS = {"spec", "id", "maker", "model", "kind", "transport", "description", "readback",
             "midi", "serial", "router", "parameters", "sound", "version", "author", "source",
             "firmware_tested", "inferred", "network_port", "dump", *TRANSPORTS}
_PARAM_KEYS = {"label", "unit", "kind", "range", "default", "labels", "values", "taper", "resolution",
               "midi", "serial", "dump", "when", "control", "concentric_with", "floor", "preset_names", *TRANSPORTS}


def load_profile(path: str | Path) -> Profile:
    """Read and check one profile file."""
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise ProfileError("no such profile file", file=file)
    try:
        data = safe_read.read_toml(path, file=file)
    except safe_read.FileRefused as exc:
        raise ProfileError(exc.reason, file=exc.file, key=exc.key) from None
    return profile_from_dict(data, source=path)


def profile_from_dict(data: dict[str, Any], *, source: Path) -> Profile:
    file = str(source)
    top = _Reader(file, data)
    spec = top.get("spec", str, required=True, what=f'"{SPEC}"')
    if spec != SPEC:
        top.fail("spec", f'expected "{SPEC}", got {spec!r}')
    top.only(_TOP_KEYS)
    profile_id = top.get("id", str, required=True, what="a profile id like \"hy-comp-cc\"")
    transport = top.choice("transport", TRANSPORTS, required=True)
    kind = top.choice("kind", DEVICE_KINDS, required=True)

    own = transport_of(transport)
    settings = {transport: own.load_settings(top.sub(transport), None)}
    for other in TRANSPORTS:       # other ways to reach it (a serial unit's [tcp]), read by their transport
        if other != transport and other in data:
            extra = transport_of(other)
            if extra.protocol != own.protocol:
                top.fail(other, f"a [{other}] table does not fit transport {transport!r}")
            settings[other] = extra.load_settings(top.sub(other), settings[transport])
    midi = settings.get("midi")
    serial = settings.get("serial")

    if isinstance(data.get("parameters"), dict):
        data = {**data, "parameters": expand_strips(data["parameters"], file=file)}
        top = _Reader(file, data)
    params_reader = top.sub("parameters", required=kind not in ("router",))
    parameters: dict[str, Parameter] = {}
    if params_reader is not None:
        for name in params_reader.table:
            parameters[name] = _load_parameter(params_reader, name, own, settings[transport])
        _check_conditions(params_reader, parameters)
        own.check_profile(params_reader, parameters, settings[transport])

    router = None
    if "router" in data:
        if not own.routes_by_text:
            top.fail("router", "a [router] table needs a text transport (serial or tcp)")
        router = _load_router(top.need("router"))
    elif kind == "router" and own.machine_settable:
        top.fail("router", "missing; a router profile describes its tie commands in [router]")

    readback = _readback(top, own, parameters, settings[transport], router)
    sound = load_sound(top.sub("sound"), parameters)
    return Profile(
        id=profile_id, maker=top.get("maker", str, default=""), model=top.get("model", str, default=profile_id),
        kind=kind, transport=transport, parameters=parameters, readback=readback, sound=sound,
        source=source, description=top.get("description", str, default=""), midi=midi, serial=serial,
        router=router, settings=settings, version=top.get("version", str, default=""), author=top.get("author", str, default=""),
        sources=_load_sources(top), firmware_tested=top.get("firmware_tested", str, default=""),
        inferred=top.get("inferred", str, default=""),
        network_port=_network_port(top),
        dump=parse_dump(data["dump"], file=file, transport=transport) if "dump" in data else None,
    )


def _network_port(top: _Reader) -> int | None:
    value = top.number("network_port", default=None, lo=1, hi=65535)
    if value is not None and value != int(value):
        top.fail("network_port", f"expected a whole port number, got {value!r}")
    return None if value is None else int(value)


def _load_sources(top: _Reader) -> tuple[SourceDocument, ...]:
    """``source = { document = "...", page = "..." }`` or a list of such tables."""
    raw = top.table.get("source")
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    out = []
    for i, item in enumerate(items):
        where = f"source[{i}]" if isinstance(raw, list) else "source"
        if not isinstance(item, dict):
            top.fail(where, 'expected a table like { document = "BigSky User Manual", page = "p. 23" }')
        reader = _Reader(top.file, item, where)
        reader.only({"document", "page", "url"})
        out.append(SourceDocument(document=reader.get("document", str, required=True, what="the document's title"),
                                  page=reader.get("page", str, default=""), url=reader.get("url", str, default="")))
    return tuple(out)


def _check_conditions(reader: _Reader, parameters: dict[str, Parameter]) -> None:
    """``when = { algorithm = ["Hall", "Plate"] }`` names a stepped control (or switch) before it."""
    order = list(parameters)
    for name, param in parameters.items():
        for selector, labels in (param.when or {}).items():
            where = f"{name}.when.{selector}"
            other = parameters.get(selector)
            if other is None:
                reader.fail(where, f"no parameter {selector!r}; expected a selector in this profile")
            if other.kind == "continuous":
                reader.fail(where, f"{selector!r} is continuous; a selector has detents")
            if order.index(selector) > order.index(name):
                reader.fail(where, f"{selector!r} comes after {name!r}; list the selector first")
            options = other.labels if other.kind == "stepped" else ["False", "True"]
            for label in labels:
                if label not in options:
                    reader.fail(where, f"{label!r} is not one of {', '.join(options)}")
        if param.concentric_with is not None and param.concentric_with not in parameters:
            reader.fail(f"{name}.concentric_with", f"no parameter {param.concentric_with!r}")


def _readback(top: _Reader, own: Any, parameters: dict[str, Parameter], settings: Any,
              router: RouterSpec | None) -> bool:
    possible = own.readback_possible(parameters, settings, router)
    wanted = top.get("readback", bool, default=possible)
    if wanted and not possible:
        top.fail("readback", "true, but not every parameter has a query or a place in the dump")
    return bool(wanted)


def _load_midi(reader: _Reader | None) -> MidiSettings:
    if reader is None:
        return MidiSettings()
    reader.only({"channel", "rate_bytes_per_s", "min_gap_ms", "gap_after_sysex_ms", "device_id",
                 "reply_timeout_ms", "transmits", "sysex", "dump"})
    args: dict[str, Any] = {}
    channel = reader.get("channel", int, default=1, what="a MIDI channel 1..16")
    if not 1 <= channel <= 16:
        reader.fail("channel", f"expected a MIDI channel 1..16, got {channel}")
    args["channel"] = channel
    args["rate_bytes_per_s"] = float(reader.number("rate_bytes_per_s", default=DIN_BYTES_PER_S, lo=0))
    args["min_gap_ms"] = float(reader.number("min_gap_ms", default=0, lo=0, hi=10000))
    args["gap_after_sysex_ms"] = float(reader.number("gap_after_sysex_ms", default=0, lo=0, hi=10000))
    args["device_id"] = int(reader.number("device_id", default=0x10, lo=0, hi=127))
    args["reply_timeout_ms"] = float(reader.number("reply_timeout_ms", default=1000, lo=1, hi=60000))
    args["transmits"] = reader.get("transmits", bool, default=False)
    sysex = reader.sub("sysex")
    defaults = {}
    if sysex is not None:
        sysex.only({"checksum", "checksum_start", "null_after_nrpn"})
        defaults = dict(sysex.table)
    args_defaults = {"checksum": defaults.get("checksum", "none"), "checksum_start": defaults.get("checksum_start", 1)}
    dump = reader.sub("dump")
    if dump is not None:
        dump.only({"request", "reply", "size"})
        size = int(dump.number("size", required=True, lo=1, hi=65536))
        args["dump_request"] = SysexTemplate.parse(dump.get("request", str, required=True),
                                                   file=reader.file, key=dump.key("request"), **_cs(args_defaults))
        args["dump_reply"] = SysexTemplate.parse(dump.get("reply", str, required=True), data_size=size,
                                                 file=reader.file, key=dump.key("reply"), **_cs(args_defaults))
        if "data" not in args["dump_reply"].tokens:
            dump.fail("reply", "a dump reply template needs a {data} block")
    args["sysex_checksum"] = args_defaults["checksum"]
    args["sysex_checksum_start"] = args_defaults["checksum_start"]
    args["null_after_nrpn"] = bool(defaults.get("null_after_nrpn", False))
    return MidiSettings(**args)


def _cs(defaults: dict[str, Any]) -> dict[str, Any]:
    return {"checksum_kind": defaults["checksum"], "checksum_start": defaults["checksum_start"]}


def _load_serial(reader: _Reader | None) -> SerialSettings:
    if reader is None:
        return SerialSettings()
    reader.only({"baudrate", "bytesize", "parity", "stopbits", "timeout_ms", "terminator", "reply_terminator",
                 "wait_reply", "min_gap_ms", "ack", "error", "error_messages", "error_replies"})
    args: dict[str, Any] = {}
    args["baudrate"] = int(reader.number("baudrate", default=9600, lo=50, hi=4_000_000))
    args["bytesize"] = reader.get("bytesize", int, default=8)
    if args["bytesize"] not in (5, 6, 7, 8):
        reader.fail("bytesize", "expected 5, 6, 7 or 8")
    args["parity"] = reader.choice("parity", ("N", "E", "O", "M", "S"), default="N")
    args["stopbits"] = reader.number("stopbits", default=1)
    if args["stopbits"] not in (1, 1.5, 2):
        reader.fail("stopbits", "expected 1, 1.5 or 2")
    args["timeout_ms"] = float(reader.number("timeout_ms", default=500, lo=1, hi=60000))
    args["terminator"] = decode_escapes(reader.get("terminator", str, default="\r"))
    args["reply_terminator"] = decode_escapes(reader.get("reply_terminator", str, default="\r\n"))
    if not args["reply_terminator"]:
        reader.fail("reply_terminator", "replies need a terminator to be read line by line")
    args["wait_reply"] = reader.get("wait_reply", bool, default=True)
    args["min_gap_ms"] = float(reader.number("min_gap_ms", default=0, lo=0, hi=10000))
    if "ack" in reader.table:
        args["ack"] = TextTemplate.parse(reader.get("ack", str), file=reader.file, key=reader.key("ack"))
    if "error" in reader.table:
        args["error"] = TextTemplate.parse(reader.get("error", str), file=reader.file, key=reader.key("error"),
                                           allowed=("code", "message"))
    messages = reader.get("error_messages", dict, default={})
    replies = reader.get("error_replies", dict, default={})
    for table, key in ((messages, "error_messages"), (replies, "error_replies")):
        for name, text in table.items():
            if not isinstance(text, str):
                reader.fail(f"{key}.{name}", "expected a string")
    args["error_messages"] = dict(messages)
    args["error_replies"] = dict(replies)
    return SerialSettings(**args)


def _load_router(reader: _Reader) -> RouterSpec:
    reader.only({"inputs", "outputs", "tie", "tie_reply", "untie", "untie_reply", "query", "query_reply",
                 "port_base"})
    ports = ("input", "output")

    def template(name: str, required: bool = False) -> TextTemplate | None:
        text = reader.get(name, str, required=required, what="a command template")
        return None if text is None else TextTemplate.parse(text, file=reader.file, key=reader.key(name),
                                                            allowed=ports)

    def needed(name: str) -> TextTemplate:
        found = template(name, True)
        assert found is not None     # required: a missing one has failed already
        return found

    spec = RouterSpec(
        inputs=int(reader.number("inputs", required=True, lo=1, hi=4096)),
        outputs=int(reader.number("outputs", required=True, lo=1, hi=4096)),
        tie=needed("tie"), tie_reply=needed("tie_reply"),
        untie=template("untie"), untie_reply=template("untie_reply"),
        query=template("query"), query_reply=template("query_reply"),
        port_base=int(reader.number("port_base", default=1, lo=0, hi=1)),
    )
    if (spec.query is None) != (spec.query_reply is None):
        reader.fail("query_reply", "query and query_reply go together")
    if spec.untie is not None and spec.untie_reply is None:
        reader.fail("untie_reply", "missing; expected the reply template to an untie")
    return spec


def _load_parameter(params: _Reader, name: str, own: Any, settings: Any) -> Parameter:
    reader = params.need(name)
    reader.only(_PARAM_KEYS)
    kind = reader.choice("kind", KINDS, required=True)
    taper = reader.choice("taper", TAPERS, default="linear")
    unit = reader.get("unit", str, default="")
    label = reader.get("label", str, default=name.replace("_", " ").title())
    param = Parameter(name=name, label=label, unit=unit, kind=kind, taper=taper)
    _load_panel_keys(reader, param)
    if kind == "stepped" and "preset_names" in reader.table:
        if "labels" in reader.table:
            reader.fail("preset_names", "give labels or preset_names, not both")
        reader.table = {**reader.table, "labels": _preset_names(reader)}
    if kind == "continuous":
        rng = reader.get("range", list, required=True, what="[minimum, maximum]")
        if len(rng) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng) \
                or not rng[0] < rng[1]:
            reader.fail("range", f"expected [minimum, maximum] with minimum < maximum, got {rng!r}")
        param.minimum, param.maximum = float(rng[0]), float(rng[1])
        if taper == "log" and param.minimum <= 0:
            reader.fail("taper", "a log taper needs a range above zero")
        param.resolution = reader.number("resolution", default=None, lo=0)
        param.floor_label = reader.get("floor", str, default=None, what='the label of the range\'s bottom, like "-inf"')
        for key in ("labels", "values"):
            if key in reader.table:
                reader.fail(key, "only stepped controls and switches have labels")
    else:
        if "range" in reader.table:
            reader.fail("range", f"a {kind} control has labels, not a range")
        labels = reader.get("labels", list, required=kind == "stepped", default=["off", "on"], what="a list of labels")
        if not labels or not all(isinstance(x, str) and x for x in labels) or len(set(labels)) != len(labels):
            reader.fail("labels", "expected a list of distinct, non-empty strings")
        if kind == "switch" and len(labels) != 2:
            reader.fail("labels", "a switch has two labels: [off, on]")
        param.labels = list(labels)
        values = reader.get("values", list, default=None)
        if values is not None:
            if len(values) != len(labels) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                     for v in values):
                reader.fail("values", f"expected {len(labels)} numbers, one per label")
            param.values = [float(v) for v in values]
        elif kind == "stepped":
            for label_text in labels:
                try:
                    param.number(label_text)
                except (ValueError, TypeError):
                    pass
    default = reader.table.get("default")
    try:
        param.default = param.parse(default) if default is not None else _implicit_default(param)
    except ProfileError as exc:
        reader.fail("default", exc.reason)

    for key in TRANSPORTS:        # the encoding tables of other transports do not belong here
        if key in reader.table and key != own.encoding_key and transport_of(key).encoding_key == key:
            reader.fail(key, f"a {key} encoding does not fit transport {own.name!r}"
                        if own.machine_settable else "a hand-set (manual) unit has no wire encoding")
    if not own.machine_settable and "dump" in reader.table:
        reader.fail("dump", "a hand-set (manual) unit has no wire encoding")
    param.encoding = own.load_encoding(reader, param, settings)
    return param


def load_midi_encoding(reader: _Reader, param: Parameter, midi: MidiSettings) -> Any:
    """A parameter's ``midi`` table (and its place in the dump); used by the MIDI transport."""
    kind = param.kind
    table = reader.table.get("midi")
    if table is None:
        reader.fail("midi", "missing; expected how this parameter is sent, e.g. { type = \"cc\", control = 20 }")
    param.encoding = parse_encoding(table, file=reader.file, key=reader.key("midi"),
                                    sysex_defaults={"checksum": midi.sysex_checksum,
                                                    "checksum_start": midi.sysex_checksum_start},
                                    null_after=midi.null_after_nrpn)
    if param.encoding.wire is not None and kind == "continuous":
        reader.fail("midi.wire", "only stepped controls and switches list wire numbers")
    if param.encoding.wire is not None and len(param.encoding.wire) != (len(param.labels)):
        reader.fail("midi.wire", f"expected {len(param.labels)} numbers, one per label")
    param.law = param.encoding.law
    _check_law(reader, param, param.encoding.wire_max)
    dump = reader.sub("dump")
    if dump is not None:
        dump.only({"offset", "size"})
        if midi.dump_reply is None:
            dump.fail("offset", "the profile has no [midi.dump] to place this in")
        param.dump = {"offset": int(dump.number("offset", required=True, lo=0)),
                      "size": int(dump.number("size", default=1, lo=1, hi=2))}
    return param.encoding


def load_text_encoding(reader: _Reader, key: str) -> SerialEncoding:
    """A parameter's text command table (``serial``, ``tcp``); used by the text transports."""
    table = reader.table.get(key)
    if table is None:
        reader.fail(key, 'missing; expected how this parameter is sent, e.g. { set = "DRV {value:.1f}" }')
    return parse_serial_encoding(table, file=reader.file, key=reader.key(key))


def check_midi_profile(reader: _Reader, parameters: dict[str, Parameter], midi: MidiSettings) -> None:
    """Across a MIDI profile's parameters: no two on one controller, dump places inside the dump."""
    _check_midi_collisions(reader, parameters)
    if midi.dump_reply is not None:
        size = midi.dump_reply.data_size
        for name, param in parameters.items():
            if param.dump is not None and param.dump["offset"] + param.dump["size"] > size:
                reader.fail(f"{name}.dump", f"offset + size exceeds the dump's {size} data bytes")


def _load_panel_keys(reader: _Reader, param: Parameter) -> None:
    """``control``, ``concentric_with`` and ``when``: how the panel shows it, and when it exists."""
    param.control = reader.get("control", str, default="")
    if param.control and param.control not in CONTROLS:
        reader.fail("control", f"expected one of {', '.join(CONTROLS)}, got {param.control!r}")
    if param.control in ("buttons", "toggle", "toggle3", "stepped") and param.kind == "continuous":
        reader.fail("control", f"a {param.control} has positions; this parameter is continuous")
    param.concentric_with = reader.get("concentric_with", str, default=None, what="a parameter name")
    when = reader.get("when", dict, default=None, what='a table like { algorithm = ["Hall", "Plate"] }')
    if when is not None:
        checked: dict[str, list[str]] = {}
        for selector, labels in when.items():
            if isinstance(labels, str):
                labels = [labels]
            if not isinstance(labels, list) or not labels or not all(isinstance(x, (str, bool)) for x in labels):
                reader.fail(f"when.{selector}", "expected a label or a list of labels")
            checked[selector] = [str(x) for x in labels]
        param.when = checked


def _preset_names(reader: _Reader) -> list[str]:
    """``preset_names = { first = 0, last = 99, width = 2, letters = "ABC" }`` -> 00A, 00B, ... 99C
    (``letter_first = true``: A000 ... A127, B000 ..., a bank letter before the numbers)."""
    spec = reader.sub("preset_names")
    assert spec is not None
    spec.only({"first", "last", "width", "letters", "letter_first"})
    first = int(spec.number("first", default=0, lo=0, hi=9999))
    last = int(spec.number("last", required=True, lo=first, hi=9999))
    width = int(spec.number("width", default=1, lo=1, hi=4))
    letters = spec.get("letters", str, default="")
    if len(set(letters)) != len(letters):
        spec.fail("letters", "expected distinct letters")
    if spec.get("letter_first", bool, default=False):     # A000..A127, B000.. (a table letter, then numbers)
        return [f"{letter}{n:0{width}d}" for letter in (letters or [""]) for n in range(first, last + 1)]
    return [f"{n:0{width}d}{letter}" for n in range(first, last + 1) for letter in (letters or [""])]


def _check_law(reader: _Reader, param: Parameter, wire_max: int) -> None:
    law = param.law
    if law is None:
        return
    if law.kind == "index" and param.kind != "stepped":
        reader.fail("midi.law", "an index law numbers the detents of a stepped control")
    if law.kind == "index" and len(param.labels) - 1 > wire_max:
        reader.fail("midi.law", f"{len(param.labels)} detents do not fit wire numbers 0..{wire_max}")
    if law.kind == "step" and param.kind == "continuous":
        assert param.minimum is not None and param.maximum is not None
        lo, hi = law.number_range()
        for end in (param.minimum, param.maximum):
            number = round((end - law.zero) / law.step)
            if not lo <= number <= hi:
                reader.fail("midi.law", f"{param.format(end)} is wire number {number}, outside {lo}..{hi}")
            if law.signed == "none" and number > wire_max:
                reader.fail("midi.law", f"{param.format(end)} is wire number {number}, above {wire_max}")


def _check_midi_collisions(reader: _Reader, parameters: dict[str, Parameter]) -> None:
    """Two parameters on one controller (or NRPN, or SysEx address) would fight: refuse."""
    seen: dict[Any, str] = {}
    for name, param in parameters.items():
        enc = param.encoding
        if enc.type == "cc":
            keys = [("cc", enc.control)]
        elif enc.type == "cc14":
            keys = [("cc", enc.control), ("cc", enc.lsb_control)]
        elif enc.type in ("nrpn", "rpn"):
            keys = [(enc.type, enc.number)]
        elif enc.type == "program":
            keys = [("program", 0)]
        else:
            fixed = tuple(t if isinstance(t, int) else None for t in enc.template.tokens)
            keys = [("sysex", fixed)]
        for key in keys:
            if key in seen:
                reader.fail(f"{name}.midi", f"{enc.describe()} is also used by parameters.{seen[key]}")
            seen[key] = name


def _implicit_default(param: Parameter) -> Any:
    if param.kind == "switch":
        return False
    if param.kind == "stepped":
        return param.labels[0]
    return param.minimum


# ---- the built-in library -----------------------------------------------------------------
def _find_in(folder: Path, profile_id: str) -> Profile | None:
    """The profile with ``profile_id`` in ``folder`` (bad files there are skipped; load_library reports them)."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.toml")):
        try:
            profile = load_profile(path)
        except ProfileError:
            continue
        if profile.id == profile_id:
            return profile
    return None


@lru_cache(maxsize=1)
def _builtin() -> dict[str, Profile]:
    return load_profiles_dir(LIBRARY)


def builtin_profiles() -> dict[str, Profile]:
    """The profiles shipped in ``devices/library``, by id."""
    return dict(_builtin())


def load_profiles_dir(folder: str | Path) -> dict[str, Profile]:
    """Every ``*.toml`` profile in ``folder``, by id; a broken file or a duplicate id is refused."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ProfileError("not a folder of profiles", file=str(folder))
    out: dict[str, Profile] = {}
    for path in sorted(folder.glob("*.toml")):
        profile = load_profile(path)
        if profile.id in out:
            raise ProfileError(f"id {profile.id!r} is also used by {out[profile.id].source.name}",
                               file=str(path), key="id")
        out[profile.id] = profile
    return out


@dataclass
class Library:
    """Profiles found along a library path, by id, and the files that were refused."""

    profiles: dict[str, Profile] = field(default_factory=dict)
    problems: list[ProfileError] = field(default_factory=list)
    overridden: dict[str, Path] = field(default_factory=dict)
    """Ids a later folder replaced: id -> the file that lost."""

    def report(self) -> list[str]:
        """One line per refused file, naming it and the reason."""
        return [str(problem) for problem in self.problems]


def user_profiles_dir() -> Path:
    """``$HYBRID_PROFILES``, else ``$XDG_CONFIG_HOME/hybrid/profiles`` (``~/.config/hybrid/profiles``)."""
    explicit = os.environ.get("HYBRID_PROFILES")
    if explicit:
        return Path(explicit)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "hybrid" / "profiles"


def library_path(studio_root: str | Path | None = None) -> list[Path]:
    """Where profiles are looked for, later folders winning: built-in, the user's, the studio's ``profiles/``."""
    out = [LIBRARY, user_profiles_dir()]
    if studio_root is not None:
        out.append(Path(studio_root) / "profiles")
    return out


def load_library(folders: list[Path] | None = None) -> Library:
    """Every profile along ``folders`` (default: ``library_path()``). A file that does not load
    is reported with its reason and the others still load; missing folders are skipped."""
    library = Library()
    for folder in folders if folders is not None else library_path():
        if not folder.is_dir():
            continue
        seen_here: dict[str, Path] = {}
        for path in sorted(folder.glob("*.toml")):
            try:
                profile = load_profile(path)
            except ProfileError as exc:
                library.problems.append(exc)
                continue
            if profile.id in seen_here:
                library.problems.append(ProfileError(
                    f"id {profile.id!r} is also used by {seen_here[profile.id].name}", file=str(path), key="id"))
                continue
            seen_here[profile.id] = path
            if profile.id in library.profiles:
                library.overridden[profile.id] = library.profiles[profile.id].source
            library.profiles[profile.id] = profile
    return library


def resolve_profile(name_or_path: str | Path, base_dir: str | Path | None = None) -> Profile:
    """A profile by id (the studio's ``profiles/``, then the user's folder, then built-in),
    or a profile file by path (relative to ``base_dir``)."""
    text = str(name_or_path)
    library = _builtin()
    if not text.endswith(".toml") and "/" not in text:
        for folder in reversed(library_path(base_dir)[1:]):
            found = _find_in(folder, text)
            if found is not None:
                return found
    if text in library:
        return library[text]
    path = Path(text)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    if path.suffix == ".toml" or path.exists():
        return load_profile(path)
    raise ProfileError(f"no built-in profile {text!r} and no such file; built-in: {', '.join(sorted(library))}",
                       file=text)
