"""The studio: one folder, ``studio.toml`` (interface, devices, loops, router) plus songs.

``load_studio(dir)`` reads and checks the whole file in one pass and reports every
broken key (file, key path, reason) at once, so a tech fixes the file in one go. Each
device's profile is resolved through ``devices.profile.resolve_profile`` (a built-in id
or a path relative to the studio folder).

The schema is in docs/CONTRACTS.md ("studio.toml"). Keys this module does not know are
kept in ``Studio.doc`` for other parts (routing, surfaces) and listed in
``Studio.warnings`` rather than refused, so a newer file still loads.

This is the only reader of studio.toml (``read_studio_file`` parses it). Each top-level
table has one ``_Checker`` method (``interface``, ``devices``, ``loops``, ``router``,
``surfaces``) that checks it and builds its model; a new table is one more method, its
name in ``_Checker.studio``'s known keys and a field on ``Studio``. A part that needs one
table without loading the gear reads it through a section reader (``load_interface``,
``load_loops``), which runs the same method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devices.errors import DeviceError, ProfileError
from devices.profile import Profile, resolve_profile
from devices.unit_settings import KEYS as UNIT_KEYS
from devices.unit_settings import customise, parse_unit_settings, port_url
from recall.errors import Problem, RecallError, RecallProblems, key_path
from recall.paths import StudioPaths
from recall.tomlio import read_toml, save_text, write_toml, plain as _plain, type_name as _type_name

STUDIO_SPEC = "hybrid-studio/1"
SAMPLERATES = (44100, 48000, 88200, 96000, 176400, 192000)


@dataclass
class Interface:
    """The audio interface as PortAudio lists it (a JACK client name on JACK)."""

    device: str
    hostapi: str | None = None
    samplerate: int = 48000
    blocksize: int = 0
    samplerate_given: bool = True
    """False when studio.toml leaves the rate out (48000 then; a print may follow its stems instead)."""

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device, "hostapi": self.hostapi, "samplerate": self.samplerate,
                "blocksize": self.blocksize}


@dataclass
class StudioDevice:
    """One piece of gear in this room: its name here ("1176 #2"), profile, port and channel.

    ``port`` None means the unit is hand-set (no cable to the computer), whatever its
    profile could do; a ``manual`` profile is always hand-set.
    """

    name: str
    profile: Profile
    port: str | None = None
    channel: int | None = None
    """MIDI channel 1..16; None = the profile's own channel."""

    @property
    def machine_settable(self) -> bool:
        return self.port is not None and self.profile.recallable

    @property
    def readback(self) -> bool:
        return self.machine_settable and bool(self.profile.readback)

    @property
    def effective_channel(self) -> int | None:
        if self.profile.midi is None:
            return None
        if self.channel is not None:
            return self.channel
        midi = getattr(self.profile, "midi", None)
        return getattr(midi, "channel", 1) if midi is not None else 1

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "profile": self.profile.id, "kind": self.profile.kind,
                "transport": self.profile.transport, "port": self.port, "channel": self.effective_channel,
                "machine_settable": self.machine_settable, "readback": self.readback}


@dataclass
class Loop:
    """An insert loop: interface output channel(s) -> gear -> interface input channel(s) (1-based).

    A stereo (or wider) loop lists its sides in order, ``out = [9, 10]``, ``in = [9, 10]``;
    ``out_channel``/``in_channel`` are then its first side. ``ms``: a stereo stem goes
    through it mid/side (encoded before, decoded after). ``max_skew_samples`` and
    ``max_gain_diff_db``: how far its sides may differ before a print is refused.
    ``level_dependent``: its gain follows the signal (a compressor or limiter linked across
    its sides): a ping on one side sets the gain the next side's ping meets, so the sides'
    gains are neither compared nor balanced (latency and polarity still are, per side).
    """

    name: str
    out_channel: int
    in_channel: int
    devices: list[str] = field(default_factory=list)
    out_channels: tuple[int, ...] = ()
    in_channels: tuple[int, ...] = ()
    ms: bool = False
    max_skew_samples: float = 2.0
    max_gain_diff_db: float = 1.0
    level_dependent: bool = False

    def __post_init__(self) -> None:
        if not self.out_channels:
            self.out_channels = (self.out_channel,)
        if not self.in_channels:
            self.in_channels = (self.in_channel,)

    @property
    def sides(self) -> int:
        return len(self.out_channels)

    def to_dict(self) -> dict[str, Any]:
        wide = self.sides > 1
        return {"name": self.name, "out": list(self.out_channels) if wide else self.out_channel,
                "in": list(self.in_channels) if wide else self.in_channel,
                "devices": list(self.devices), "ms": self.ms}


@dataclass
class Summing:
    """``[summing]``: an analog summing mixer (or a console's mix bus) fed by interface outputs.

    ``outs[k]`` feeds its input k+1; its stereo bus comes back on ``ins`` (L, R). ``device``:
    a unit of [devices] holding its pans/trims; ``bus``: a stereo loop after the bus.
    """

    outs: tuple[int, ...]
    ins: tuple[int, int]
    device: str | None = None
    bus: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"outs": list(self.outs), "ins": list(self.ins), "device": self.device, "bus": self.bus}


@dataclass
class Router:
    """What patches gear into loops: a device of this room, or ``manual`` (a paper bay)."""

    device: str = "manual"

    @property
    def manual(self) -> bool:
        return self.device == "manual"


SURFACE_KINDS = ("mcu", "hui")
MAX_MCU_UNITS = 4  # an MCU and up to three XT extenders


@dataclass
class SurfaceConfig:
    """A control surface of this room (``[surfaces.NAME]``): a Mackie Control with its
    extenders, or a HUI; one MIDI port name (substring) per unit, left to right."""

    name: str
    kind: str
    """``mcu`` or ``hui``."""
    ports: list[str]
    """The MCU's port then its XTs', left to right; a HUI has one."""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "ports": list(self.ports)}


@dataclass
class Studio:
    """A loaded studio folder. ``problems`` is non-empty only when loaded with ``strict=False``."""

    root: Path
    name: str
    interface: Interface | None
    devices: dict[str, StudioDevice]
    loops: dict[str, Loop]
    router: Router
    doc: Any = None
    summing: Summing | None = None
    warnings: list[Problem] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    surfaces: dict[str, SurfaceConfig] = field(default_factory=dict)

    @property
    def paths(self) -> StudioPaths:
        """Every file and folder of this studio (recall.paths)."""
        return StudioPaths(self.root)

    @property
    def file(self) -> Path:
        return self.paths.studio_file

    @property
    def songs_dir(self) -> Path:
        return self.paths.songs

    @property
    def state_dir(self) -> Path:
        return self.paths.state

    def device(self, name: str) -> StudioDevice:
        try:
            return self.devices[name]
        except KeyError:
            raise RecallError(f"no device {name!r} in this studio (known: {', '.join(self.devices) or 'none'})",
                              file=str(self.file), key=key_path("devices", name)) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root), "name": self.name,
            "interface": self.interface.to_dict() if self.interface else None,
            "devices": [d.to_dict() for d in self.devices.values()],
            "loops": [loop.to_dict() for loop in self.loops.values()],
            "router": self.router.device,
            "summing": self.summing.to_dict() if self.summing else None,
            "surfaces": [s.to_dict() for s in self.surfaces.values()],
            "warnings": [w.to_dict() for w in self.warnings],
            "problems": [p.to_dict() for p in self.problems],
        }


def load_studio(directory: str | Path, *, strict: bool = True) -> Studio:
    """Read ``directory/studio.toml``; every broken key is reported (RecallProblems).

    With ``strict=False`` a studio is returned whenever the file parses, broken devices
    and loops left out and listed in ``Studio.problems`` (for a UI that shows the rest).
    """
    root, doc = read_studio_file(directory)
    checker = _Checker(str(StudioPaths(root).studio_file))
    studio = checker.studio(root, doc)
    if checker.problems and strict:
        raise RecallProblems(checker.problems)
    studio.problems = checker.problems
    studio.warnings = checker.warnings
    return studio


def read_studio_file(directory: str | Path) -> tuple[Path, Any]:
    """``(studio folder resolved, parsed studio.toml)``: the one place studio.toml is read."""
    root = Path(directory).expanduser().resolve()
    path = StudioPaths(root).studio_file
    if not root.is_dir():
        raise RecallError("no such studio folder (create one with `hybrid init DIR`)", file=str(root))
    if not path.is_file():
        raise RecallError("no studio.toml here (create one with `hybrid init DIR`)", file=str(path))
    return root, read_toml(path)


def load_interface(directory: str | Path) -> Interface:
    """Only ``[interface]`` of studio.toml, checked as :func:`load_studio` checks it (for the
    audio side, which needs no gear); RecallError when it is missing, RecallProblems when broken."""
    root, doc = read_studio_file(directory)
    file = str(StudioPaths(root).studio_file)
    checker = _Checker(file)
    if doc.get("interface") is None:
        raise RecallError("missing [interface] table (device, samplerate, blocksize)", file=file, key="interface")
    interface = checker.interface(doc.get("interface"))
    if checker.problems or interface is None:
        raise RecallProblems(checker.problems or [Problem(file, "interface", "expected a table")])
    return interface


def load_loops(directory: str | Path) -> dict[str, Loop]:
    """Only ``[loops]`` of studio.toml, checked as :func:`load_studio` checks them (a loop's
    devices must be named in [devices]; their profiles are not loaded)."""
    root, doc = read_studio_file(directory)
    checker = _Checker(str(StudioPaths(root).studio_file))
    loops = checker.loops(doc.get("loops"), doc.get("devices") or {})
    if checker.problems:
        raise RecallProblems(checker.problems)
    return loops


def load_loop(directory: str | Path, name: str) -> Loop:
    """One loop of :func:`load_loops`; RecallError naming the known loops when it is not there."""
    loops = load_loops(directory)
    if name not in loops:
        raise RecallError(f"no loop {name!r} (known: {', '.join(sorted(loops)) or 'none'})",
                          file=str(StudioPaths(Path(directory).expanduser().resolve()).studio_file),
                          key=key_path("loops", name))
    return loops[name]


class _Checker:
    """Walks a parsed studio.toml, building the model and collecting problems."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []

    def bad(self, key: str, reason: str) -> None:
        self.problems.append(Problem(self.file, key, reason))

    def warn(self, key: str, reason: str) -> None:
        self.warnings.append(Problem(self.file, key, reason))

    def table(self, value: Any, key: str) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.bad(key, f"expected a table, got {_type_name(value)}")
            return None
        return value

    def typed(self, table: dict[str, Any], name: str, kind: type, key: str, *, required: bool = False,
              default: Any = None) -> Any:
        if name not in table:
            if required:
                self.bad(key_path(*_split(key), name), f"missing (expected {_kind_name(kind)})")
            return default
        value = _plain(table[name])
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            self.bad(key_path(*_split(key), name), f"expected {_kind_name(kind)}, got {_type_name(value)}")
            return default
        return value

    def unknown(self, table: dict[str, Any], known: set[str], key: str) -> None:
        for name in table:
            if name not in known:
                self.warn(key_path(*_split(key), name) if key else key_path(name),
                          f"unknown key (known: {', '.join(sorted(known))})")

    def studio(self, root: Path, doc: Any) -> Studio:
        spec = doc.get("spec")
        if spec is None:
            self.bad("spec", f'missing (expected "{STUDIO_SPEC}")')
        elif spec != STUDIO_SPEC:
            self.bad("spec", f'unsupported spec {spec!r} (expected "{STUDIO_SPEC}")')
        name = self.typed(doc, "name", str, "", default=root.name) or root.name
        self.unknown(doc, {"spec", "name", "interface", "devices", "loops", "router", "surfaces", "summing"}, "")
        interface = self.interface(doc.get("interface"))
        devices = self.devices(root, doc.get("devices"))
        loops = self.loops(doc.get("loops"), doc.get("devices") or {})
        router = self.router(doc.get("router"), doc.get("devices") or {})
        surfaces = self.surfaces(doc.get("surfaces"))
        summing = self.summing(doc.get("summing"), loops, doc.get("devices") or {})
        return Studio(root=root, name=str(name), interface=interface, devices=devices, loops=loops,
                      router=router, doc=doc, surfaces=surfaces, summing=summing)

    def interface(self, value: Any) -> Interface | None:
        table = self.table(value, "interface")
        if table is None:
            return None
        device = self.typed(table, "device", str, "interface", required=True)
        hostapi = self.typed(table, "hostapi", str, "interface")
        rate = self.typed(table, "samplerate", int, "interface", default=48000)
        if rate not in SAMPLERATES:
            self.bad("interface.samplerate", f"{rate} Hz is not a studio rate (expected one of "
                     f"{', '.join(map(str, SAMPLERATES))})")
        rate_given = "samplerate" in table
        block = self.typed(table, "blocksize", int, "interface", default=0)
        if block < 0:
            self.bad("interface.blocksize", f"{block} is negative (expected 0 for the host's own, or frames)")
        self.unknown(table, {"device", "hostapi", "samplerate", "blocksize"}, "interface")
        return Interface(device=device or "", hostapi=hostapi, samplerate=rate, blocksize=block,
                         samplerate_given=rate_given)

    def devices(self, root: Path, value: Any) -> dict[str, StudioDevice]:
        table = self.table(value, "devices")
        out: dict[str, StudioDevice] = {}
        if table is None:
            return out
        for name, entry in table.items():
            key = key_path("devices", name)
            entry = self.table(entry, key)
            if entry is None:
                continue
            before = len(self.problems)
            profile_ref = self.typed(entry, "profile", str, key, required=True)
            port = self.typed(entry, "port", str, key)
            channel = self.typed(entry, "channel", int, key, default=None)
            if channel is not None and not 1 <= channel <= 16:
                self.bad(key_path("devices", name, "channel"), f"{channel} is out of range (expected 1..16)")
            self.unknown(entry, {"profile", "port", "channel", *UNIT_KEYS}, key)
            profile = None
            if profile_ref:
                try:
                    profile = resolve_profile(profile_ref, base_dir=root)
                except DeviceError as exc:
                    self.bad(key_path("devices", name, "profile"), f"cannot use profile {profile_ref!r}: {exc}")
            if profile is not None and any(k in entry for k in UNIT_KEYS):
                try:   # per-unit settings: a copy of the profile for this unit (device id, CCs, ...)
                    unit = parse_unit_settings(entry, file=None, key=key)
                    profile = customise(profile, unit, where=key)
                    port = port_url(profile, unit, profile.network_port, where=key) or port
                except ProfileError as exc:
                    where = exc.key or ""
                    self.bad(where if where.startswith(key) else f"{key}.{where}".rstrip("."), exc.reason)
                    profile = None
            if port is not None and not port.strip():
                self.bad(key_path("devices", name, "port"), "empty (leave it out for hand-set gear)")
            if profile is not None and len(self.problems) == before:
                if port is not None and not profile.recallable:
                    self.warn(key_path("devices", name, "port"),
                              f"profile {profile.id!r} is hand-set only; the port is ignored")
                out[name] = StudioDevice(name=name, profile=profile, port=port, channel=channel)
        return out

    def loops(self, value: Any, declared: dict[str, Any]) -> dict[str, Loop]:
        table = self.table(value, "loops")
        out: dict[str, Loop] = {}
        if table is None:
            return out
        used_out: dict[int, str] = {}
        for name, entry in table.items():
            key = key_path("loops", name)
            entry = self.table(entry, key)
            if entry is None:
                continue
            before = len(self.problems)
            outs = self.channels(entry, "out", key)
            ins = self.channels(entry, "in", key)
            if outs and ins and len(outs) != len(ins):
                self.bad(key_path("loops", name, "in"), f"{len(ins)} input(s) for {len(outs)} output(s) "
                         "(expected one return per side, in the same order)")
            for ch in outs:
                if ch in used_out:
                    self.bad(key_path("loops", name, "out"), f"output {ch} is already loop {used_out[ch]!r}")
                used_out.setdefault(ch, name)
            gear = self.typed(entry, "devices", list, key, default=[])
            for i, dev in enumerate(gear):
                if not isinstance(dev, str):
                    self.bad(key_path("loops", name, "devices", i), f"expected a device name, got {_type_name(dev)}")
                elif dev not in declared:
                    self.bad(key_path("loops", name, "devices", i), f"no device {dev!r} in [devices]")
            ms = self.typed(entry, "ms", bool, key, default=False)
            if ms and len(outs) != 2:
                self.bad(key_path("loops", name, "ms"), "M/S needs a stereo loop (out = [L, R], in = [L, R])")
            skew = self.number(entry, "max_skew_samples", key, 2.0)
            gain = self.number(entry, "max_gain_diff_db", key, 1.0)
            dynamic = self.typed(entry, "level_dependent", bool, key, default=False)
            self.unknown(entry, {"out", "in", "devices", "ms", "max_skew_samples", "max_gain_diff_db",
                                 "level_dependent"}, key)
            if len(self.problems) == before and outs and ins:
                out[name] = Loop(name=name, out_channel=outs[0], in_channel=ins[0], devices=[str(d) for d in gear],
                                 out_channels=outs, in_channels=ins, ms=bool(ms), max_skew_samples=skew,
                                 max_gain_diff_db=gain, level_dependent=bool(dynamic))
        return out

    def channels(self, entry: dict[str, Any], name: str, key: str) -> tuple[int, ...]:
        """A 1-based channel, or a list of them (a loop's sides, a mixer's inputs), all distinct."""
        where = key_path(*_split(key), name)
        if name not in entry:
            self.bad(where, "missing (expected a channel number, or a list like [9, 10])")
            return ()
        value = _plain(entry[name])
        items = value if isinstance(value, list) else [value]
        if not items:
            self.bad(where, "empty (expected one or more channel numbers)")
            return ()
        out: list[int] = []
        for ch in items:
            if isinstance(ch, bool) or not isinstance(ch, int):
                self.bad(where, f"expected a channel number or a list of them, got {_type_name(ch)}")
                return ()
            if ch < 1:
                self.bad(where, f"{ch} is not a channel (expected 1 or more)")
                return ()
            if ch in out:
                self.bad(where, f"channel {ch} is listed twice")
                return ()
            out.append(ch)
        return tuple(out)

    def number(self, entry: dict[str, Any], name: str, key: str, default: float) -> float:
        if name not in entry:
            return default
        value = _plain(entry[name])
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e6:
            self.bad(key_path(*_split(key), name), f"expected a number 0 or more, got {value!r}")
            return default
        return float(value)

    def summing(self, value: Any, loops: dict[str, Loop], declared: dict[str, Any]) -> Summing | None:
        table = self.table(value, "summing")
        if table is None:
            return None
        before = len(self.problems)
        outs = self.channels(table, "outs", "summing")
        ins = self.channels(table, "ins", "summing")
        if ins and len(ins) != 2:
            self.bad("summing.ins", f"expected the stereo bus's two inputs [L, R], got {len(ins)}")
        device = self.typed(table, "device", str, "summing")
        if device is not None and device not in declared:
            self.bad("summing.device", f"no device {device!r} in [devices]")
        bus = self.typed(table, "bus", str, "summing")
        if bus is not None:
            if bus not in loops:
                self.bad("summing.bus", f"no loop {bus!r} in [loops] (known: {', '.join(loops) or 'none'})")
            elif loops[bus].sides != 2:
                self.bad("summing.bus", f"loop {bus!r} has {loops[bus].sides} side(s); the bus loop is stereo")
        for loop in loops.values():
            for ch in loop.out_channels:
                if ch in outs:
                    self.bad("summing.outs", f"output {ch} is already loop {loop.name!r}")
        self.unknown(table, {"outs", "ins", "device", "bus"}, "summing")
        if len(self.problems) != before or not outs or len(ins) != 2:
            return None
        return Summing(outs=outs, ins=(ins[0], ins[1]), device=device, bus=bus)

    def router(self, value: Any, declared: dict[str, Any]) -> Router:
        table = self.table(value, "router")
        if table is None:
            return Router()
        device = self.typed(table, "device", str, "router", default="manual") or "manual"
        if device != "manual" and device not in declared:
            self.bad("router.device", f"no device {device!r} in [devices] (or \"manual\" for a paper bay)")
            device = "manual"
        return Router(device=device)


    def surfaces(self, value: Any) -> dict[str, SurfaceConfig]:
        table = self.table(value, "surfaces")
        out: dict[str, SurfaceConfig] = {}
        for name, entry in (table or {}).items():
            key = key_path("surfaces", name)
            entry = self.table(entry, key)
            if entry is None:
                continue
            before = len(self.problems)
            kind = self.typed(entry, "kind", str, key, required=True, default="")
            if kind and kind not in SURFACE_KINDS:
                self.bad(key_path("surfaces", name, "kind"), f"{kind!r}, expected one of {', '.join(SURFACE_KINDS)}")
            ports = self.typed(entry, "ports", list, key, required=True, default=[])
            if "ports" in entry and not ports:
                self.bad(key_path("surfaces", name, "ports"), "empty (expected one MIDI port name per unit)")
            for i, port in enumerate(ports):
                if not isinstance(port, str) or not port.strip():
                    self.bad(key_path("surfaces", name, "ports", i), f"expected a MIDI port name, got {_type_name(port)}")
            limit = 1 if kind == "hui" else MAX_MCU_UNITS
            if len(ports) > limit:
                self.bad(key_path("surfaces", name, "ports"),
                         f"{len(ports)} ports; a {kind.upper()} has at most {limit} unit(s)")
            self.unknown(entry, {"kind", "ports"}, key)
            if len(self.problems) == before:
                out[name] = SurfaceConfig(name=name, kind=kind, ports=[str(p) for p in ports])
        return out


def _split(key: str) -> list[str]:
    """Undo key_path for the simple cases we build (parts are re-quoted by key_path)."""
    if not key:
        return []
    parts, cur, quoted, i = [], "", False, 0
    while i < len(key):
        c = key[i]
        if c == '"':
            quoted = not quoted
        elif c == "\\" and quoted and i + 1 < len(key):
            i += 1
            cur += key[i]
        elif c == "." and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    parts.append(cur)
    return parts


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false",
            list: "an array", dict: "a table"}.get(kind, kind.__name__)


STUDIO_TEMPLATE = '''\
# A hybrid studio: the room, its gear and how it is wired.
# Songs live in songs/<song>/sheet.toml (one recall sheet each, with their history).
# Schema: docs/CONTRACTS.md ("studio.toml"). Edit by hand; hybrid keeps your comments.
spec = "hybrid-studio/1"
name = "{name}"

# The audio interface, as PortAudio lists it (on JACK: the JACK client name).
# [interface]
# device = "hybrid-gear"
# hostapi = "JACK Audio Connection Kit"   # optional
# samplerate = 48000
# blocksize = 0                           # frames per block; 0 = the host's own

# Every piece of gear, by its name in this room. `hybrid devices list` shows the
# built-in profiles; a profile may also be a path to a .toml relative to this folder.
# Leave out `port` for gear set by hand: it still gets a sheet and a walk-through.
# [devices."1176 #2"]
# profile = "hy-comp-cc"
# port = "hy-comp-cc"      # MIDI port name (substring), serial path or pyserial URL
# channel = 1              # MIDI channel 1..16
#
# [devices."Pultec"]
# profile = "hy-manual-eq"

# Insert loops: interface output -> gear -> interface input (1-based channels).
# [loops.A]
# out = 3
# in = 3
# devices = ["1176 #2"]   # gear hard-wired on this loop, in signal order

# A stereo loop: its sides in order; `ms = true` sends a stereo stem through it mid/side.
# [loops.BUS]
# out = [9, 10]
# in = [9, 10]
# max_skew_samples = 2.0   # how far the sides may differ before a print is refused
# max_gain_diff_db = 1.0

# An analog summing mixer (or a console's mix bus): `hybrid print SONG --mix`.
# [summing]
# outs = [1, 2, 3, 4, 5, 6, 7, 8]   # interface outputs feeding its inputs 1..N, in order
# ins = [1, 2]                      # interface inputs its stereo bus comes back on (L, R)
# device = "Summing"                # optional: a unit above holding its pans/trims
# bus = "BUS"                       # optional: a stereo loop after the bus

# Control surfaces: a Mackie Control (its MIDI port, then its XT extenders'), or a HUI.
# [surfaces.Desk]
# kind = "mcu"
# ports = ["MCU", "XT"]

# What patches gear into loops: a device above, or "manual" for a paper patchbay.
[router]
device = "manual"
'''


def init_studio(directory: str | Path, *, name: str | None = None) -> Path:
    """Create an empty studio folder with a commented studio.toml; refuses an existing studio."""
    root = Path(directory).expanduser().resolve()
    paths = StudioPaths(root)
    path = paths.studio_file
    if path.exists():
        raise RecallError("a studio already exists here", file=str(path))
    if root.exists() and not root.is_dir():
        raise RecallError("exists and is not a folder", file=str(root))
    title = (name or root.name).replace("\\", "\\\\").replace('"', '\\"')
    try:
        paths.songs.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RecallError(f"cannot create: {exc.strerror or exc}", file=str(paths.songs)) from None
    save_text(path, STUDIO_TEMPLATE.format(name=title))
    return path


def set_ports(directory: str | Path, ports: dict[str, str]) -> None:
    """Set ``[devices.NAME] port`` for each named device (e.g. the pty a simulator opened), keeping
    the file's comments and layout; RecallError for a device the file does not declare."""
    if not ports:
        return
    root, doc = read_studio_file(directory)
    path = StudioPaths(root).studio_file
    devices = doc.get("devices")
    for name, port in ports.items():
        if not isinstance(devices, dict) or not isinstance(devices.get(name), dict):
            raise RecallError(f"no device {name!r} in [devices]", file=str(path), key=key_path("devices", name))
        devices[name]["port"] = port
    write_toml(path, doc)
