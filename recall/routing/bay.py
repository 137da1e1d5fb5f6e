"""The studio's bay: ``[router]`` of studio.toml read into where each loop and unit sits.

See :mod:`recall.routing` for the three kinds (a serial matrix, a program-change
patchbay, a paper bay) and the keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devices.parameter import Parameter
from recall.chain import SOURCE_KINDS, Endpoint
from recall.errors import Problem, RecallError, RecallProblems, key_path
from recall.studio import Studio, StudioDevice
from recall.tomlio import plain

MATRIX, PATCHBAY, PAPER, INSERT = "matrix", "patchbay", "paper", "insert"
INSERT_SUFFIXES = ("insert.sel", "insert.on", "insert.pos")
"""A console's channel insert as its profile names it: ``chNN.insert.sel`` (the slot, by the
console's labels), ``chNN.insert.on``, ``chNN.insert.pos`` (optional, ``PRE``/``POST``)."""
INSERT_POSITIONS = ("PRE", "POST")

Patches = dict[str, list[tuple[str, tuple[str, ...]]]]
"""stored patch label -> the chains it makes: (loop, units in signal order)"""
Bad = Callable[[str, str], None]
"""``bad(key, reason)``: collects one problem of studio.toml."""


@dataclass
class Bay:
    """The studio's ``[router]``: what kind of router, and where each loop and unit sits on it."""

    kind: str
    """``matrix``, ``patchbay``, ``paper`` or ``insert`` (a console's channel inserts)."""
    device: str | None
    """The router's name in [devices]; None for a paper bay."""
    loops: dict[str, dict[str, Any]] = field(default_factory=dict)
    """loop -> {"send": point, "return": point}"""
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    """unit -> {"in": point, "out": point}"""
    patches: Patches = field(default_factory=dict)
    """stored patch label -> chains it makes: (loop, units)"""
    inputs: int = 0
    outputs: int = 0
    file: str | None = None
    strips: list[str] = field(default_factory=list)
    """An insert host's channels that have an insert (``ch01`` ...): loop points are 1-based into it."""
    slots: list[str] = field(default_factory=list)
    """An insert host's insert slots, by the console's labels (``FX1L`` ... ``AUX6``; OFF excluded)."""
    insert_pos: str = "PRE"
    """Where an insert host's inserts sit in the channel (``[router] insert_pos``)."""

    def point(self, end: Endpoint) -> Any:
        table = self.loops if end.is_loop else self.devices
        return table.get(end.name, {}).get(end.kind)

    def label(self, end: Endpoint) -> str:
        """How the point is written on the router: ``Send 3`` on paper, ``in 1`` on a matrix."""
        point = self.point(end)
        if point is None:
            return str(end)
        if self.kind == PAPER:
            return str(point) if isinstance(point, str) else f"point {point}"
        if self.kind == INSERT:
            return self.strip(point) if end.is_loop else str(point)
        side = "in" if end.kind in SOURCE_KINDS else "out"
        return f"{side} {point}"

    def strip(self, point: Any) -> str:
        """An insert host's channel for a loop's point (1-based)."""
        return self.strips[int(point) - 1]

    def has(self, end: Endpoint) -> bool:
        return self.point(end) is not None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "device": self.device, "loops": self.loops, "devices": self.devices,
                "patches": {k: [[loop, *units] for loop, units in v] for k, v in self.patches.items()}}


def load_bay(studio: Studio) -> Bay:
    """Read ``[router]`` of ``studio.toml`` (points, patches); every broken key at once."""
    file = str(studio.file)
    doc = studio.doc or {}
    table = plain(doc.get("router")) or {}
    problems: list[Problem] = []

    def bad(key: str, reason: str) -> None:
        problems.append(Problem(file, key, reason))

    router = studio.router
    entry: StudioDevice | None = None
    name: str | None = None
    if router.manual:
        kind = PAPER
    else:
        entry = studio.devices.get(router.device)
        if entry is None:
            raise RecallError(f"no device {router.device!r} in [devices]", file=file, key="router.device")
        pk = entry.profile.kind
        if entry.profile.router is not None:
            kind = MATRIX
        elif pk == "patchbay" and patch_param(entry) is not None:
            kind = PATCHBAY
        elif insert_strips(entry):
            kind = INSERT
        else:
            raise RecallError(f"{router.device!r} (profile {entry.profile.id}, kind {pk}) is not a router: "
                              "expected a matrix with [router] commands, a program-change patchbay or a "
                              "console with channel inserts (chNN.insert.sel)", file=file, key="router.device")
        name = router.device
    bay = Bay(kind=kind, device=name, file=file)
    spec = entry.profile.router if entry is not None else None
    if spec is not None:
        bay.inputs, bay.outputs = spec.inputs, spec.outputs
    known_keys = ("device", "loops", "devices", "patches") + (("insert_pos",) if kind == INSERT else ())
    if kind == INSERT and entry is not None:
        bay.strips = insert_strips(entry)
        sel = entry.profile.parameters[f"{bay.strips[0]}.insert.sel"]
        bay.slots = [label for label in sel.labels if label.upper() != "OFF"]
        pos = table.get("insert_pos", "PRE")
        if pos not in INSERT_POSITIONS:
            bad("router.insert_pos", f"expected one of {', '.join(INSERT_POSITIONS)}, got {pos!r}")
        else:
            bay.insert_pos = pos
    for key in table:
        if key not in known_keys:
            bad(key_path("router", str(key)), f"unknown key (known: {', '.join(known_keys)})")

    def points(section: str, sides: tuple[str, str], known: dict[str, Any]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        sec = table.get(section)
        if sec is None:
            return out
        if not isinstance(sec, dict):
            bad(key_path("router", section), "expected a table")
            return out
        for item, pts in sec.items():
            item = str(item)
            key = key_path("router", section, item)
            if item not in known:
                bad(key, f"no {section[:-1]} {item!r} in [{section}] (known: {', '.join(known) or 'none'})")
                continue
            if not isinstance(pts, dict):
                bad(key, f"expected a table with {sides[0]} and {sides[1]}")
                continue
            got: dict[str, Any] = {}
            for side in sides:
                if side not in pts:
                    bad(key_path("router", section, item, side), "missing (expected the point on the router)")
                    continue
                got[side] = _point(bay, plain(pts[side]), side, key_path("router", section, item, side), bad)
            for extra in pts:
                if extra not in sides:
                    bad(key_path("router", section, item, str(extra)), f"unknown key (known: {', '.join(sides)})")
            valid = {k: v for k, v in got.items() if v is not None}
            seen.append((section, item, valid))
            if len(valid) == 2:
                out[item] = got
        return out

    seen: list[tuple[str, str, dict[str, Any]]] = []

    if kind != PATCHBAY:
        bay.loops = points("loops", ("send", "return"), studio.loops)
        bay.devices = points("devices", ("in", "out"), studio.devices)
        _check_unique(bay, seen, bad)
        if kind == INSERT:
            _check_insert_pairs(bay, bad)
    else:
        for section in ("loops", "devices"):
            if section in table:
                bad(key_path("router", section), "a program-change patchbay has stored patches, not points: "
                    "describe them in [router.patches]")
        if entry is not None:
            bay.patches = _patches(studio, entry, table.get("patches"), bad)
    if problems:
        raise RecallProblems(problems)
    return bay


def _point(bay: Bay, value: Any, side: str, key: str, bad: Bad) -> Any:
    if bay.kind == INSERT:
        if side in ("send", "return"):
            count = len(bay.strips)
            if isinstance(value, str) and value in bay.strips:
                return bay.strips.index(value) + 1
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= count:
                bad(key, f"expected the console channel the loop comes in on and leaves from, 1..{count} "
                         f"(or {bay.strips[0]} .. {bay.strips[-1]}), got {value!r}")
                return None
            return value
        if not isinstance(value, str) or value not in bay.slots:
            bad(key, f"expected the insert slot the unit is wired to, one of {', '.join(bay.slots)}, got {value!r}")
            return None
        return value
    if bay.kind == MATRIX:
        count = bay.inputs if side in SOURCE_KINDS else bay.outputs
        what = "input" if side in SOURCE_KINDS else "output"
        if isinstance(value, bool) or not isinstance(value, int):
            bad(key, f"expected a matrix {what} number 1..{count}, got {value!r}")
            return None
        if not 1 <= value <= count:
            bad(key, f"{what} {value} is out of range; {bay.device!r} has {what}s 1..{count}")
            return None
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)) or (isinstance(value, str) and not value.strip()):
        bad(key, f"expected the label of a point on the bay (e.g. \"Send 3\") or its number, got {value!r}")
        return None
    return value.strip() if isinstance(value, str) else value


def _check_insert_pairs(bay: Bay, bad: Bad) -> None:
    """On a console a loop comes in and leaves on one channel, and a unit sits in one insert slot
    (its send and return): both points of each must be the same."""
    for section, table, (one, two) in (("loops", bay.loops, ("send", "return")), ("devices", bay.devices, ("in", "out"))):
        for name, pts in table.items():
            if pts.get(one) != pts.get(two):
                bad(key_path("router", section, name, two), f"expected the same point as {one} ({pts.get(one)!r}): "
                    f"on {bay.device!r} " + ("a loop is one channel" if section == "loops" else
                                            "a unit is wired to one insert slot (send and return)"))


def _check_unique(bay: Bay, declared: list[tuple[str, str, dict[str, Any]]], bad: Bad) -> None:
    """Two things wired to one matrix input (or one point of a bay) cannot both be right."""
    seen: dict[tuple[str, Any], str] = {}
    for section, name, pts in declared:
        for side, point in pts.items():
            half = "any" if bay.kind == PAPER else ("src" if side in SOURCE_KINDS else "dst")
            if (half, point) in seen:
                bad(key_path("router", section, name, side), f"point {point!r} is also {seen[(half, point)]}")
            else:
                seen[(half, point)] = str(Endpoint(side, name))


def insert_strips(entry: StudioDevice) -> list[str]:
    """The channels of a console profile that have an insert (``ch01`` ... in panel order):
    those with both ``<strip>.insert.sel`` (stepped) and ``<strip>.insert.on`` (a switch)."""
    params = entry.profile.parameters
    out = []
    for name, param in params.items():
        if name.endswith(".insert.sel") and param.kind == "stepped":
            strip = name[: -len(".insert.sel")]
            on = params.get(f"{strip}.insert.on")
            if on is not None and on.kind == "switch":
                out.append(strip)
    return out


def patch_param(entry: StudioDevice) -> Parameter | None:
    """The patchbay's stored-patch control: its first stepped parameter (labels = patch names)."""
    for param in entry.profile.parameters.values():
        if param.kind == "stepped":
            return param
    return None


def _patches(studio: Studio, entry: StudioDevice, table: Any, bad: Bad) -> Patches:
    param = patch_param(entry)
    out: Patches = {}
    if param is None:
        return out
    if table is None:
        bad("router.patches", f"missing: say which chains each stored patch of {entry.name!r} makes")
        return out
    if not isinstance(table, dict):
        bad("router.patches", "expected a table: patch label = [[loop, unit, ...], ...]")
        return out
    for label, chains in table.items():
        label = str(label)
        key = key_path("router", "patches", label)
        if label not in param.labels:
            bad(key, f"{entry.profile.id} has no stored patch {label!r} (known: {', '.join(param.labels)})")
            continue
        if not isinstance(chains, list):
            bad(key, "expected an array of chains: [[loop, unit, ...], ...]")
            continue
        made = []
        for i, chain in enumerate(chains):
            ckey = key_path("router", "patches", label, i)
            if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
                bad(ckey, "expected [loop, unit, ...] (strings)")
                continue
            loop, units = chain[0], tuple(chain[1:])
            if loop not in studio.loops:
                bad(ckey, f"no loop {loop!r} in [loops]")
                continue
            missing = [u for u in units if u not in studio.devices]
            if missing:
                bad(ckey, f"no device {missing[0]!r} in [devices]")
                continue
            made.append((loop, units))
        out[label] = made
    return out


def bay_name(bay: Bay) -> str:
    return "paper bay" if bay.kind == PAPER else f"router {bay.device!r}"
