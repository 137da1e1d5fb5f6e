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

MATRIX, PATCHBAY, PAPER = "matrix", "patchbay", "paper"

Patches = dict[str, list[tuple[str, tuple[str, ...]]]]
"""stored patch label -> the chains it makes: (loop, units in signal order)"""
Bad = Callable[[str, str], None]
"""``bad(key, reason)``: collects one problem of studio.toml."""


@dataclass
class Bay:
    """The studio's ``[router]``: what kind of router, and where each loop and unit sits on it."""

    kind: str
    """``matrix``, ``patchbay`` or ``paper``."""
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
        side = "in" if end.kind in SOURCE_KINDS else "out"
        return f"{side} {point}"

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
        else:
            raise RecallError(f"{router.device!r} (profile {entry.profile.id}, kind {pk}) is not a router: "
                              "expected a matrix with [router] commands or a program-change patchbay",
                              file=file, key="router.device")
        name = router.device
    bay = Bay(kind=kind, device=name, file=file)
    spec = entry.profile.router if entry is not None else None
    if spec is not None:
        bay.inputs, bay.outputs = spec.inputs, spec.outputs
    for key in table:
        if key not in ("device", "loops", "devices", "patches"):
            bad(key_path("router", str(key)), "unknown key (known: device, loops, devices, patches)")

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
