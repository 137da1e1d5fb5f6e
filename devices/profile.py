"""Device profiles: one TOML file describes one model of gear (spec ``hybrid-device/1``).

A new piece of gear is a new profile, not new code. The file says who made it, how it
is reached (``midi``, ``serial`` or ``manual`` for hand-set units), its parameters in
panel order, how each is encoded, how it is read back, how its router commands look,
and (``[sound]``) what the simulated analog gear should sound like.

Everything is checked on load: a malformed profile is refused with one line naming the
file, the key path and what was expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from devices import safe_read
from devices.errors import ProfileError
from devices.midi_codec import parse_encoding
from devices.parameter import KINDS, TAPERS, Parameter
from devices.sysex import SysexTemplate
from devices.text_codec import SerialEncoding, TextTemplate, decode_escapes, parse_serial_encoding

SPEC = "hybrid-device/1"
TRANSPORTS = ("midi", "serial", "manual")
DEVICE_KINDS = ("compressor", "equaliser", "reverb", "saturator", "patchbay", "router", "manual",
                "delay", "limiter", "gate", "preamp", "filter", "other")
SOUND_MODELS = ("compressor", "eq", "reverb", "saturator", "none")
BAND_TYPES = ("lowshelf", "peak", "highshelf", "highpass", "lowpass")
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
    error_messages: dict = field(default_factory=dict)
    """Error code -> meaning, for the one-line error a person reads."""
    error_replies: dict = field(default_factory=dict)
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
    sound: dict | None
    source: Path
    description: str = ""
    midi: MidiSettings | None = None
    serial: SerialSettings | None = None
    router: RouterSpec | None = None

    @property
    def recallable(self) -> bool:
        """False for hand-set units: their values are set by a person following the sheet."""
        return self.transport != "manual"

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
        parameter = self.parameter(role)
        return parameter.number(state.get(role, parameter.default))

    def to_dict(self) -> dict:
        return {
            "id": self.id, "maker": self.maker, "model": self.model, "kind": self.kind,
            "transport": self.transport, "readback": self.readback, "source": str(self.source),
            "description": self.description,
            "parameters": [p.to_dict() for p in self.parameters.values()],
            "router": {"inputs": self.router.inputs, "outputs": self.router.outputs} if self.router else None,
            "sound": self.sound,
        }


# ---- loading --------------------------------------------------------------------------
class _Reader:
    """Typed access to a TOML table that names the key path in every complaint."""

    def __init__(self, file: str, table: dict, path: str = ""):
        self.file, self.table, self.path = file, table, path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, reason: str):
        raise ProfileError(reason, file=self.file, key=self.key(name))

    def get(self, name: str, types, *, required: bool = False, default=None, what: str | None = None):
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

    def choice(self, name: str, options, *, required: bool = False, default=None):
        value = self.get(name, str, required=required, default=default, what="one of " + ", ".join(options))
        if value not in options:
            self.fail(name, f"expected one of {', '.join(options)}, got {value!r}")
        return value

    def number(self, name: str, *, default=None, lo=None, hi=None, required=False) -> float:
        value = self.get(name, (int, float), default=default, required=required, what="a number")
        if value is not None and ((lo is not None and value < lo) or (hi is not None and value > hi)):
            self.fail(name, f"expected a number {lo if lo is not None else ''}..{hi if hi is not None else ''}, "
                            f"got {value!r}")
        return value

    def sub(self, name: str, *, required: bool = False) -> _Reader | None:
        table = self.get(name, dict, required=required, what="a table")
        return None if table is None else _Reader(self.file, table, self.key(name))

    def only(self, allowed) -> None:
        for name in self.table:
            if name not in allowed:
                self.fail(name, "unknown key; expected one of " + ", ".join(sorted(allowed)))


def _as_tuple(types):
    return types if isinstance(types, tuple) else (types,)


def _type_names(types) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
             dict: "a table", list: "a list"}
    return " or ".join(names.get(t, t.__name__) for t in _as_tuple(types))


_TOP_KEYS = {"spec", "id", "maker", "model", "kind", "transport", "description", "readback",
             "midi", "serial", "router", "parameters", "sound"}
_PARAM_KEYS = {"label", "unit", "kind", "range", "default", "labels", "values", "taper", "resolution",
               "midi", "serial", "dump"}


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


def profile_from_dict(data: dict, *, source: Path) -> Profile:
    file = str(source)
    top = _Reader(file, data)
    spec = top.get("spec", str, required=True, what=f'"{SPEC}"')
    if spec != SPEC:
        top.fail("spec", f'expected "{SPEC}", got {spec!r}')
    top.only(_TOP_KEYS)
    profile_id = top.get("id", str, required=True, what="a profile id like \"hy-comp-cc\"")
    transport = top.choice("transport", TRANSPORTS, required=True)
    kind = top.choice("kind", DEVICE_KINDS, required=True)

    midi = _load_midi(top.sub("midi")) if transport == "midi" else None
    serial = _load_serial(top.sub("serial")) if transport == "serial" else None
    for other, wanted in (("midi", "midi"), ("serial", "serial")):
        if other in data and transport != wanted:
            top.fail(other, f"a [{other}] table does not fit transport {transport!r}")

    params_reader = top.sub("parameters", required=kind not in ("router",))
    parameters: dict[str, Parameter] = {}
    if params_reader is not None:
        for name in params_reader.table:
            parameters[name] = _load_parameter(params_reader, name, transport, midi)

    if transport == "midi":
        _check_midi_collisions(params_reader, parameters)

    router = None
    if "router" in data:
        if transport != "serial":
            top.fail("router", "a [router] table needs transport \"serial\"")
        router = _load_router(top.sub("router"))
    elif kind == "router" and transport != "manual":
        top.fail("router", "missing; a router profile describes its tie commands in [router]")

    readback = _readback(top, transport, parameters, midi, router)
    sound = _load_sound(top.sub("sound"), parameters)
    if midi is not None and midi.dump_reply is not None:
        size = midi.dump_reply.data_size
        for name, param in parameters.items():
            if param.dump is not None and param.dump["offset"] + param.dump["size"] > size:
                params_reader.fail(f"{name}.dump", f"offset + size exceeds the dump's {size} data bytes")
    return Profile(
        id=profile_id, maker=top.get("maker", str, default=""), model=top.get("model", str, default=profile_id),
        kind=kind, transport=transport, parameters=parameters, readback=readback, sound=sound,
        source=source, description=top.get("description", str, default=""), midi=midi, serial=serial,
        router=router,
    )


def _readback(top: _Reader, transport, parameters, midi, router) -> bool:
    if transport == "manual":
        possible = False
    elif transport == "serial":
        possible = all(isinstance(p.encoding, SerialEncoding) and p.encoding.query for p in parameters.values()) \
            and (router is None or router.query is not None)
    else:
        possible = midi.dump_request is not None and bool(parameters) and \
            all(p.dump is not None for p in parameters.values())
    wanted = top.get("readback", bool, default=possible)
    if wanted and not possible:
        top.fail("readback", "true, but not every parameter has a query or a place in the dump")
    return wanted


def _load_midi(reader: _Reader | None) -> MidiSettings:
    if reader is None:
        return MidiSettings()
    reader.only({"channel", "rate_bytes_per_s", "min_gap_ms", "gap_after_sysex_ms", "device_id",
                 "reply_timeout_ms", "transmits", "sysex", "dump"})
    args: dict = {}
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


def _cs(defaults: dict) -> dict:
    return {"checksum_kind": defaults["checksum"], "checksum_start": defaults["checksum_start"]}


def _load_serial(reader: _Reader | None) -> SerialSettings:
    if reader is None:
        return SerialSettings()
    reader.only({"baudrate", "bytesize", "parity", "stopbits", "timeout_ms", "terminator", "reply_terminator",
                 "wait_reply", "min_gap_ms", "ack", "error", "error_messages", "error_replies"})
    args: dict = {}
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
    reader.only({"inputs", "outputs", "tie", "tie_reply", "untie", "untie_reply", "query", "query_reply"})
    ports = ("input", "output")

    def template(name, required=False):
        text = reader.get(name, str, required=required, what="a command template")
        return None if text is None else TextTemplate.parse(text, file=reader.file, key=reader.key(name),
                                                            allowed=ports)

    spec = RouterSpec(
        inputs=int(reader.number("inputs", required=True, lo=1, hi=4096)),
        outputs=int(reader.number("outputs", required=True, lo=1, hi=4096)),
        tie=template("tie", True), tie_reply=template("tie_reply", True),
        untie=template("untie"), untie_reply=template("untie_reply"),
        query=template("query"), query_reply=template("query_reply"),
    )
    if (spec.query is None) != (spec.query_reply is None):
        reader.fail("query_reply", "query and query_reply go together")
    if spec.untie is not None and spec.untie_reply is None:
        reader.fail("untie_reply", "missing; expected the reply template to an untie")
    return spec


def _load_parameter(params: _Reader, name: str, transport: str, midi: MidiSettings | None) -> Parameter:
    reader = params.sub(name)
    reader.only(_PARAM_KEYS)
    kind = reader.choice("kind", KINDS, required=True)
    taper = reader.choice("taper", TAPERS, default="linear")
    unit = reader.get("unit", str, default="")
    label = reader.get("label", str, default=name.replace("_", " ").title())
    param = Parameter(name=name, label=label, unit=unit, kind=kind, taper=taper)
    if kind == "continuous":
        rng = reader.get("range", list, required=True, what="[minimum, maximum]")
        if len(rng) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng) \
                or not rng[0] < rng[1]:
            reader.fail("range", f"expected [minimum, maximum] with minimum < maximum, got {rng!r}")
        param.minimum, param.maximum = float(rng[0]), float(rng[1])
        if taper == "log" and param.minimum <= 0:
            reader.fail("taper", "a log taper needs a range above zero")
        param.resolution = reader.number("resolution", default=None, lo=0)
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

    if transport == "midi":
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
        dump = reader.sub("dump")
        if dump is not None:
            dump.only({"offset", "size"})
            if midi.dump_reply is None:
                dump.fail("offset", "the profile has no [midi.dump] to place this in")
            param.dump = {"offset": int(dump.number("offset", required=True, lo=0)),
                          "size": int(dump.number("size", default=1, lo=1, hi=2))}
    elif transport == "serial":
        table = reader.table.get("serial")
        if table is None:
            reader.fail("serial", 'missing; expected how this parameter is sent, e.g. { set = "DRV {value:.1f}" }')
        param.encoding = parse_serial_encoding(table, file=reader.file, key=reader.key("serial"))
    else:
        for key in ("midi", "serial", "dump"):
            if key in reader.table:
                reader.fail(key, "a hand-set (manual) unit has no wire encoding")
    return param


def _check_midi_collisions(reader: _Reader, parameters: dict[str, Parameter]) -> None:
    """Two parameters on one controller (or NRPN, or SysEx address) would fight: refuse."""
    seen: dict = {}
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


def _implicit_default(param: Parameter):
    if param.kind == "switch":
        return False
    if param.kind == "stepped":
        return param.labels[0]
    return param.minimum


def _load_sound(reader: _Reader | None, parameters: dict[str, Parameter]) -> dict | None:
    if reader is None:
        return None
    reader.only({"model", "roles", "bands", "noise_dbfs", "bypass"})
    model = reader.choice("model", SOUND_MODELS, required=True)
    roles = dict(reader.get("roles", dict, default={}))

    def check_role(where: str, value, *, switch: bool = False):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            reader.fail(where, "expected a parameter name or a number")
        if isinstance(value, str):
            if value not in parameters:
                reader.fail(where, f"no parameter {value!r}; expected one of {', '.join(parameters)}")
            if switch and parameters[value].kind != "switch":
                reader.fail(where, f"parameter {value!r} is not a switch")
        elif isinstance(value, float) and not math.isfinite(value):
            reader.fail(where, "expected a finite number")

    for role, value in roles.items():
        check_role(f"roles.{role}", value, switch=role == "bypass")
    for key in ("noise_dbfs", "bypass"):
        if key in reader.table:
            check_role(key, reader.table[key], switch=key == "bypass")
            roles.setdefault(key, reader.table[key])
    bands = reader.get("bands", list, default=[])
    checked_bands = []
    for i, band in enumerate(bands):
        where = f"bands[{i}]"
        if not isinstance(band, dict):
            reader.fail(where, "expected a table like { type = \"peak\", freq_hz = \"hmf_freq\", ... }")
        if band.get("type") not in BAND_TYPES:
            reader.fail(f"{where}.type", f"expected one of {', '.join(BAND_TYPES)}, got {band.get('type')!r}")
        if "freq_hz" not in band:
            reader.fail(f"{where}.freq_hz", "missing; expected a parameter name or a number")
        for key, value in band.items():
            if key == "type":
                continue
            if key not in ("freq_hz", "gain_db", "q", "enabled"):
                reader.fail(f"{where}.{key}", "unknown key; expected freq_hz, gain_db, q or enabled")
            check_role(f"{where}.{key}", value)
        checked_bands.append(dict(band))
    if model == "eq" and not checked_bands:
        reader.fail("bands", "an eq model needs at least one band")
    out = {"model": model, "roles": roles, "bands": checked_bands}
    for key in ("noise_dbfs", "bypass"):
        if key in roles:
            out[key] = roles[key]
    return out


# ---- the built-in library -----------------------------------------------------------------
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


def resolve_profile(name_or_path: str | Path, base_dir: str | Path | None = None) -> Profile:
    """A built-in profile by id, or a profile file by path (relative to ``base_dir``)."""
    text = str(name_or_path)
    library = _builtin()
    if text in library:
        return library[text]
    path = Path(text)
    if base_dir is not None and not path.is_absolute():
        path = Path(base_dir) / path
    if path.suffix == ".toml" or path.exists():
        return load_profile(path)
    raise ProfileError(f"no built-in profile {text!r} and no such file; built-in: {', '.join(sorted(library))}",
                       file=text)
