"""Insert routing: a song's insert chains become ties on the studio's router.

A chain is one insert of one track: ``loop send -> unit A -> unit B -> loop return``.
Each hop is a *tie* from a source point (a loop's send, a unit's output) to a
destination point (a unit's input, a loop's return). ``studio.toml`` says where those
points sit on the router:

    [router]
    device = "Matrix"            # a router of [devices] (a serial matrix, a MIDI patchbay) or "manual"

    [router.loops.A]             # where loop A's interface output and input land
    send = 1                     # matrix: the input its interface output is wired to
    return = 1                   # matrix: the output wired to its interface input

    [router.devices."1176 #2"]   # where the unit's input and output land
    in = 2                       # matrix: the output that feeds the unit's input
    out = 2                      # matrix: the input its output is wired to

- A serial matrix (``kind = "router"``, e.g. hy-matrix-sis): points are the matrix's
  1-based input/output numbers; ties are set with ``Device.tie`` and read back with
  ``Device.ties`` where the profile has a query.
- A paper bay (``device = "manual"``): points are the labels printed on the bay
  (``send = "Send 3"``, ``in = "1176 #2 In"``); ties become hand steps in the
  walk-through ("patch Send 3 -> 1176 #2 In").
- A MIDI program-change patchbay (``kind = "patchbay"``, e.g. hy-patchbay-pc) recalls
  stored patches; the studio says which chains each stored patch makes, by the label
  of the unit's patch control:

      [router.patches]
      "Vocal chain" = [["A", "1176 #2", "Pultec"]]      # loop, then units in signal order
      "Drum crush"  = [["A", "Crusher"], ["B", "1176 #2"]]

  a pass recalls the first patch that makes every chain it needs.

A loop that is not on the router is hard-wired: its chain must be the gear listed in
``[loops.X] devices`` (nothing to patch). A chain that lists no units uses the loop's
hard-wired gear, as the print planner does.

Conflicts are found before anything is sent (:func:`route_pass` raises
RecallProblems, each problem naming the file, the key and why): a unit in two chains
of one pass, two chains on one loop, more chains than the studio has loops, a unit or
loop that is not on the router, no stored patch that makes a pass's chains.

:func:`plan_routes` groups a song's chains into passes with the print planner's rules
(``hybrid.live.audio.planner``: round k prints the k-th insert of each track; first-fit in
track order; a loop, a channel or a unit once per pass), plus the router's own: on a
program-change patchbay all chains of a pass must come from one stored patch.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Iterable, Sequence

from devices.errors import DeviceError
from recall.apply import (FAILED, GOOD, NEEDS_HAND, SENDING, SET, UNCHANGED, VERIFIED, VERIFYING, ApplyEvent,
                          DeviceReport, _Emitter, device_for)
from recall.errors import Problem, RecallError, RecallProblems, key_path
from recall.sheet import Sheet, require_valid
from recall.studio import Studio, StudioDevice
from recall.walkthrough import Step, walkthrough

MATRIX, PATCHBAY, PAPER = "matrix", "patchbay", "paper"
MIDI_CLOSE_LINGER_S = 0.05
SOURCE_KINDS = ("send", "out")
DEST_KINDS = ("in", "return")


# --- the studio's bay -------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """A jack on the router: a loop's ``send``/``return`` or a unit's ``in``/``out``."""

    kind: str
    name: str

    @property
    def is_loop(self) -> bool:
        return self.kind in ("send", "return")

    def __str__(self) -> str:
        return f"loop {self.name} {self.kind}" if self.is_loop else f"{self.name} {self.kind}"


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
    patches: dict[str, list[tuple[str, tuple[str, ...]]]] = field(default_factory=dict)
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

    def to_dict(self) -> dict:
        return {"kind": self.kind, "device": self.device, "loops": self.loops, "devices": self.devices,
                "patches": {k: [[loop, *units] for loop, units in v] for k, v in self.patches.items()}}


def load_bay(studio: Studio) -> Bay:
    """Read ``[router]`` of ``studio.toml`` (points, patches); every broken key at once."""
    file = str(studio.file)
    doc = studio.doc or {}
    table = _plain(doc.get("router")) or {}
    problems: list[Problem] = []

    def bad(key: str, reason: str) -> None:
        problems.append(Problem(file, key, reason))

    router = studio.router
    if router.manual:
        kind, name, entry = PAPER, None, None
    else:
        entry = studio.devices.get(router.device)
        if entry is None:
            raise RecallError(f"no device {router.device!r} in [devices]", file=file, key="router.device")
        pk = entry.profile.kind
        if entry.profile.router is not None:
            kind = MATRIX
        elif pk == "patchbay" and _patch_param(entry) is not None:
            kind = PATCHBAY
        else:
            raise RecallError(f"{router.device!r} (profile {entry.profile.id}, kind {pk}) is not a router: "
                              "expected a matrix with [router] commands or a program-change patchbay",
                              file=file, key="router.device")
        name = router.device
    bay = Bay(kind=kind, device=name, file=file)
    if kind == MATRIX:
        bay.inputs, bay.outputs = entry.profile.router.inputs, entry.profile.router.outputs
    for key in table:
        if key not in ("device", "loops", "devices", "patches"):
            bad(key_path("router", str(key)), "unknown key (known: device, loops, devices, patches)")

    def points(section: str, names: Iterable[str], sides: tuple[str, str], known: dict) -> dict:
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
                got[side] = _point(bay, _plain(pts[side]), side, key_path("router", section, item, side), bad)
            for extra in pts:
                if extra not in sides:
                    bad(key_path("router", section, item, str(extra)), f"unknown key (known: {', '.join(sides)})")
            valid = {k: v for k, v in got.items() if v is not None}
            seen.append((section, item, valid))
            if len(valid) == 2:
                out[item] = got
        return out

    seen: list[tuple[str, str, dict]] = []

    if kind != PATCHBAY:
        bay.loops = points("loops", studio.loops, ("send", "return"), studio.loops)
        bay.devices = points("devices", studio.devices, ("in", "out"), studio.devices)
        _check_unique(bay, seen, bad)
    else:
        for section in ("loops", "devices"):
            if section in table:
                bad(key_path("router", section), "a program-change patchbay has stored patches, not points: "
                    "describe them in [router.patches]")
        bay.patches = _patches(studio, entry, table.get("patches"), bad)
    if problems:
        raise RecallProblems(problems)
    return bay


def _point(bay: Bay, value: Any, side: str, key: str, bad) -> Any:
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


def _check_unique(bay: Bay, declared: list[tuple[str, str, dict]], bad) -> None:
    """Two things wired to one matrix input (or one point of a bay) cannot both be right."""
    seen: dict[tuple[str, Any], str] = {}
    for section, name, pts in declared:
        for side, point in pts.items():
            half = "any" if bay.kind == PAPER else ("src" if side in SOURCE_KINDS else "dst")
            if (half, point) in seen:
                bad(key_path("router", section, name, side), f"point {point!r} is also {seen[(half, point)]}")
            else:
                seen[(half, point)] = str(Endpoint(side, name))


def _patch_param(entry: StudioDevice):
    for param in entry.profile.parameters.values():
        if param.kind == "stepped":
            return param
    return None


def _patches(studio: Studio, entry: StudioDevice, table: Any, bad) -> dict:
    param = _patch_param(entry)
    out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
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


# --- chains --------------------------------------------------------------------------------
@dataclass
class Chain:
    """One insert of one track: ``loop send -> units -> loop return``."""

    track: str
    insert: int
    """0-based position in the track's insert list (= the print round)."""
    loop: str
    devices: tuple[str, ...]
    out_channel: int = 0
    in_channel: int = 0
    hard_wired: bool = False
    """True when the chain is the loop's own wiring: nothing to patch."""

    @property
    def key(self) -> str:
        return key_path("tracks", self.track, "inserts", self.insert)

    @property
    def text(self) -> str:
        return " -> ".join([f"loop {self.loop} send", *self.devices, f"loop {self.loop} return"])

    def hops(self) -> list[tuple[Endpoint, Endpoint]]:
        """The ties the chain needs, source to destination, in signal order."""
        points = [Endpoint("send", self.loop)]
        for dev in self.devices:
            points += [Endpoint("in", dev), Endpoint("out", dev)]
        points.append(Endpoint("return", self.loop))
        return [(points[i], points[i + 1]) for i in range(0, len(points), 2)]

    def to_dict(self) -> dict:
        return {"track": self.track, "insert": self.insert, "loop": self.loop, "devices": list(self.devices),
                "hard_wired": self.hard_wired, "key": self.key}


@dataclass(frozen=True)
class Tie:
    """One connection to make: ``source`` (a send or a unit's out) to ``dest`` (a unit's in or a return)."""

    source: Endpoint
    dest: Endpoint
    source_point: Any
    dest_point: Any
    chain: str = ""
    """``track > loop`` it serves."""

    def text(self, bay: Bay) -> str:
        return f"{bay.label(self.source)} -> {bay.label(self.dest)}"

    def to_dict(self) -> dict:
        return {"from": str(self.source), "to": str(self.dest), "from_point": self.source_point,
                "to_point": self.dest_point, "chain": self.chain}


def song_chains(sheet: Sheet, studio: Studio) -> list[Chain]:
    """Every insert of every track, in track order (the sheet must fit the studio)."""
    out = []
    for track in sheet.tracks:
        for i, ins in enumerate(track.inserts):
            loop = studio.loops.get(ins.loop)
            units = tuple(ins.devices) or tuple(loop.devices if loop else ())
            out.append(Chain(track=track.name, insert=i, loop=ins.loop, devices=units,
                             out_channel=loop.out_channel if loop else 0, in_channel=loop.in_channel if loop else 0))
    return out


def chain_problems(chain: Chain, bay: Bay, studio: Studio, file: str | None) -> list[Problem]:
    """Why ``chain`` cannot be made on this router (empty when it can); sets ``hard_wired``."""
    loop = studio.loops[chain.loop]
    problems = []
    if len(set(chain.devices)) != len(chain.devices):
        twice = next(d for d in chain.devices if chain.devices.count(d) > 1)
        problems.append(Problem(file, chain.key + ".devices", f"unit {twice!r} appears twice in one chain"))
        return problems
    if bay.kind == PATCHBAY:
        chain.hard_wired = chain.devices == tuple(loop.devices) and not _in_patches(bay, chain.loop)
        if not chain.hard_wired and not any((chain.loop, chain.devices) in made for made in bay.patches.values()):
            problems.append(Problem(file, chain.key, f"no stored patch of {bay.device!r} makes {chain.text} "
                                    f"(add it to [router.patches] in studio.toml)"))
        return problems
    wired = chain.devices == tuple(loop.devices) and loop.devices
    on_bay = chain.loop in bay.loops
    if wired and (not on_bay or not all(d in bay.devices for d in chain.devices)):
        chain.hard_wired = True
        return problems
    if not on_bay:
        have = f"hard-wired to {', '.join(loop.devices)}" if loop.devices else "not wired to any gear"
        problems.append(Problem(file, chain.key + ".loop",
                                f"loop {chain.loop!r} is not on the {_bay_name(bay)} (no [router.loops.{chain.loop}] "
                                f"in studio.toml) and is {have}"))
    for j, dev in enumerate(chain.devices):
        if dev not in bay.devices:
            problems.append(Problem(file, f"{chain.key}.devices[{j}]",
                                    f"unit {dev!r} is not on the {_bay_name(bay)} (no [router.devices.\"{dev}\"] "
                                    f"in studio.toml)"))
    return problems


def _in_patches(bay: Bay, loop: str) -> bool:
    return any(c[0] == loop for made in bay.patches.values() for c in made)


def _bay_name(bay: Bay) -> str:
    return "paper bay" if bay.kind == PAPER else f"router {bay.device!r}"


# --- passes -------------------------------------------------------------------------------
@dataclass
class RoutePass:
    """The routing of one pass: its chains, the ties, the patch to recall, or the hand steps."""

    index: int
    round: int
    chains: list[Chain]
    ties: list[Tie] = field(default_factory=list)
    patch: str | None = None
    """The stored patch to recall (program-change patchbay)."""

    def to_dict(self, bay: Bay | None = None) -> dict:
        out = {"pass": self.index, "round": self.round, "chains": [c.to_dict() for c in self.chains],
               "ties": [t.to_dict() for t in self.ties], "patch": self.patch}
        if bay is not None:
            out["ties_text"] = [t.text(bay) for t in self.ties]
            if bay.kind == PAPER:
                out["steps"] = [s.to_dict() for s in patch_steps(bay, self)]
        return out


@dataclass
class RoutePlan:
    """A song's routing, pass by pass; ``bay`` says how each pass is set."""

    song: str
    bay: Bay
    passes: list[RoutePass]
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"song": self.song, "router": self.bay.kind, "router_device": self.bay.device,
                "passes": [p.to_dict(self.bay) for p in self.passes], "skipped": self.skipped}


def route_pass(studio: Studio, chains: Sequence[Chain], *, bay: Bay | None = None, index: int = 1,
               round: int = 1, file: str | None = None) -> RoutePass:
    """The ties that make ``chains`` live at once; RecallProblems before anything is sent when they
    cannot be (see the module docstring for the conflicts)."""
    bay = bay or load_bay(studio)
    problems = _pass_problems(studio, bay, chains, file)
    if problems:
        raise RecallProblems(problems)
    rp = RoutePass(index=index, round=round, chains=list(chains))
    if bay.kind == PATCHBAY:
        rp.patch = _patch_for(bay, chains)
        return rp
    for chain in chains:
        if chain.hard_wired:
            continue
        for src, dst in chain.hops():
            rp.ties.append(Tie(src, dst, bay.point(src), bay.point(dst), chain=f"{chain.track} > {chain.loop}"))
    return rp


def _pass_problems(studio: Studio, bay: Bay, chains: Sequence[Chain], file: str | None) -> list[Problem]:
    problems: list[Problem] = []
    if len(chains) > len(studio.loops):
        problems.append(Problem(file, "tracks", f"{len(chains)} inserts at once need {len(chains)} loops; "
                                f"the studio has {len(studio.loops)} ({', '.join(studio.loops) or 'none'})"))
    for chain in chains:
        if chain.loop not in studio.loops:
            problems.append(Problem(file, chain.key + ".loop", f"no loop {chain.loop!r} in the studio"))
            continue
        problems += chain_problems(chain, bay, studio, file)
    by_loop: dict[str, Chain] = {}
    by_unit: dict[str, Chain] = {}
    by_channel: dict[tuple[str, int], Chain] = {}
    for chain in chains:
        if chain.loop in by_loop:
            problems.append(Problem(file, chain.key + ".loop", f"loop {chain.loop!r} already carries "
                                    f"{by_loop[chain.loop].track}'s insert in this pass"))
        by_loop.setdefault(chain.loop, chain)
        for side, ch in (("out", chain.out_channel), ("in", chain.in_channel)):
            if ch and (side, ch) in by_channel and by_channel[(side, ch)].loop != chain.loop:
                problems.append(Problem(file, chain.key + ".loop", f"interface {side}put {ch} already carries "
                                        f"{by_channel[(side, ch)].track}'s insert in this pass"))
            by_channel.setdefault((side, ch), chain)
        for j, dev in enumerate(chain.devices):
            other = by_unit.get(dev)
            if other is not None and other is not chain:
                problems.append(Problem(file, f"{chain.key}.devices[{j}]", f"unit {dev!r} is already in "
                                        f"{other.track}'s chain ({other.text}) in this pass"))
            by_unit.setdefault(dev, chain)
    if not problems and bay.kind == PATCHBAY and _patch_for(bay, chains) is None:
        problems.append(Problem(file, "tracks", f"no stored patch of {bay.device!r} makes all of: "
                                + "; ".join(c.text for c in chains if not c.hard_wired)))
    return problems


def _patch_for(bay: Bay, chains: Sequence[Chain]) -> str | None:
    """The first stored patch that makes every patched chain (hard-wired ones need none)."""
    need = {(c.loop, c.devices) for c in chains if not c.hard_wired}
    if not need:
        return None
    for label, made in bay.patches.items():
        if need <= set(made):
            return label
    return None


def plan_routes(studio: Studio, sheet: Sheet, *, song: str = "", together: bool = False) -> RoutePlan:
    """The song's chains grouped into passes, each with its ties (see the module docstring).

    ``together=True`` puts every chain in one pass (a mix session: all inserts live at
    once) and raises RecallProblems when they cannot share it.
    """
    require_valid(sheet, studio)
    bay = load_bay(studio)
    chains = song_chains(sheet, studio)
    skipped = {t.name: "no insert on this track" for t in sheet.tracks if not t.inserts}
    problems = []
    for chain in chains:
        problems += chain_problems(chain, bay, studio, sheet.file)
    if problems:
        raise RecallProblems(problems)
    if together:
        return RoutePlan(song=song, bay=bay, skipped=skipped,
                         passes=[route_pass(studio, chains, bay=bay, file=sheet.file)] if chains else [])
    passes: list[RoutePass] = []
    rounds = sorted({c.insert for c in chains})
    for rnd in rounds:
        groups: list[list[Chain]] = []
        for chain in (c for c in chains if c.insert == rnd):
            for group in groups:
                if not _pass_problems(studio, bay, [*group, chain], sheet.file):
                    group.append(chain)
                    break
            else:
                groups.append([chain])
        for group in groups:
            passes.append(route_pass(studio, group, bay=bay, index=len(passes) + 1, round=rnd + 1, file=sheet.file))
    return RoutePlan(song=song, bay=bay, passes=passes, skipped=skipped)


def chains_for_jobs(studio: Studio, jobs: Iterable[Any]) -> list[Chain]:
    """Chains for the print planner's jobs (``hybrid.live.audio.printing.PrintJob``: ``loop``, ``chain``,
    ``stem``), so a session can route each planned pass just before it plays."""
    out = []
    for job in jobs:
        loop = studio.loops.get(job.loop) if job.loop else None
        if loop is None:
            raise RecallError(f"print job {getattr(job, 'stem', '?')} has no loop of this studio", file=str(studio.file))
        out.append(Chain(track=str(getattr(job, "stem", job.loop)), insert=0, loop=loop.name,
                         devices=tuple(job.chain), out_channel=loop.out_channel, in_channel=loop.in_channel))
    return out


def route_print_pass(studio: Studio, jobs: Iterable[Any], *, index: int = 1, bay: Bay | None = None,
                     on_event: Callable[[Any], None] | None = None,
                     open_device: Callable[[StudioDevice], Any] | None = None) -> RouteResult:
    """Route one planned print pass just before it plays (``hybrid.live.audio.song.print_song``'s
    ``on_pass(number, total, planned)`` -> ``route_print_pass(studio, planned.jobs, index=number)``).

    Raises RecallProblems when the pass's chains cannot be made (nothing is sent) and
    RecallError when the router failed, so no pass plays through a wrong patch. A paper bay
    returns its steps (report status ``needs-hand``): show them and wait for the person.
    """
    bay = bay or load_bay(studio)
    rp = route_pass(studio, chains_for_jobs(studio, jobs), bay=bay, index=index)
    result = apply_routes(studio, rp, bay=bay, on_event=on_event, open_device=open_device)
    if not result.ok:
        raise RecallError(f"pass {index} not routed: {result.report.reason}", file=str(studio.file),
                          key="router.device")
    return result


def print_pass_fits(studio: Studio, bay: Bay | None = None) -> Callable[[Sequence[Any], Any], bool]:
    """``fits(pass_jobs, job)``: may ``job`` join a print pass already holding ``pass_jobs``?

    The router's own rule for the print planner (``hybrid.live.audio.planner``): on a
    program-change patchbay one stored patch must make every chain of a pass; elsewhere
    the same rules the planner already applies (loop, channels, unit once per pass)."""
    bay = bay or load_bay(studio)

    def fits(pass_jobs: Sequence[Any], job: Any) -> bool:
        return not _pass_problems(studio, bay, chains_for_jobs(studio, [*pass_jobs, job]), None)
    return fits


# --- a paper bay: hand steps ---------------------------------------------------------------
def patch_steps(bay: Bay, rp: RoutePass, *, first: int = 1) -> list[Step]:
    """The walk-through steps that make a pass on a paper bay ("patch Send 3 -> 1176 #2 In")."""
    steps = []
    for tie in rp.ties:
        src, dst = bay.label(tie.source), bay.label(tie.dest)
        steps.append(Step(number=first + len(steps), device="Patchbay", parameter=f"patch {tie.source}",
                          label=f"patch {src}", target=dst, setting=dst, detent=None, kind="patch",
                          position=0.0, chain=tie.chain,
                          notes=f"{tie.source} -> {tie.dest}"))
    return steps


def walkthrough_with_patching(sheet: Sheet, studio: Studio, rp: RoutePass | None = None, **kwargs) -> list[Step]:
    """The song's walk-through with the paper bay's patching first (patch, then set the knobs).

    ``rp`` is the pass to patch (default: every chain of the song at once)."""
    steps = walkthrough(sheet, studio, **kwargs)
    bay = load_bay(studio)
    if bay.kind != PAPER:
        return steps
    if rp is None:
        plan = plan_routes(studio, sheet, together=True)
        rp = plan.passes[0] if plan.passes else None
    patches = patch_steps(bay, rp) if rp is not None else []
    for i, step in enumerate(steps):
        step.number = len(patches) + i + 1
    return patches + steps


# --- applying -------------------------------------------------------------------------------
@dataclass
class RouteResult:
    """How setting one pass went: the router's DeviceReport (the same as a recall's) and the steps."""

    pass_index: int
    report: DeviceReport
    """recall.apply.DeviceReport for the router (status verified/set/failed/needs-hand)."""
    ties: list[Tie]
    steps: list = field(default_factory=list)
    patch: str | None = None
    read_back: dict[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report.status in GOOD or self.report.status == NEEDS_HAND

    def to_dict(self, bay: Bay | None = None) -> dict:
        return {"pass": self.pass_index, "ok": self.ok, "router": self.report.to_dict(),
                "ties": [t.to_dict() for t in self.ties], "patch": self.patch,
                "ties_text": [t.text(bay) for t in self.ties] if bay else [],
                "steps": [s.to_dict() for s in self.steps],
                "read_back": {str(k): v for k, v in sorted(self.read_back.items())}}


def apply_routes(studio: Studio, rp: RoutePass, *, bay: Bay | None = None, verify: bool = True,
                 song: str = "", on_event: Callable[[Any], None] | None = None,
                 open_device: Callable[[StudioDevice], Any] | None = None) -> RouteResult:
    """Set the ties of one pass on the router and read them back; progress as recall's ApplyEvents.

    The router's outcome lands in a ``DeviceReport`` like any unit's in a recall
    (``verified`` after a good read-back, ``set`` without one, ``needs-hand`` on a paper
    bay with its steps, ``failed`` with the reason). A tie the read-back does not show is
    sent once more, then judged. Never raises for a router that fails: the report says it.
    """

    bay = bay or load_bay(studio)
    emit = _Emitter(on_event, song)
    name = bay.device or "Patchbay"
    report = DeviceReport(device=name, port=studio.devices[bay.device].port if bay.device else None)
    result = RouteResult(pass_index=rp.index, report=report, ties=list(rp.ties), patch=rp.patch)
    emit(ApplyEvent("start", song=song))
    t0 = time.perf_counter()
    try:
        if bay.kind == PAPER:
            result.steps = patch_steps(bay, rp)
            report.status = NEEDS_HAND if result.steps else UNCHANGED
            report.reason = (f"patch by hand: {len(result.steps)} cords" if result.steps
                             else "nothing to patch (hard-wired loops)")
            return result
        if not rp.ties and rp.patch is None:
            report.status = UNCHANGED
            report.reason = "nothing to patch (hard-wired loops)"
            return result
        entry = studio.devices[bay.device]
        if not entry.machine_settable:
            report.status = FAILED
            report.reason = f"{bay.device!r} has no port in studio.toml: it cannot be set from here"
            return result
        cm = (open_device or device_for)(entry)
        report.status = SENDING
        emit.device(report)
        failure = None
        device = cm.__enter__()
        try:
            if bay.kind == PATCHBAY:
                param = _patch_param(entry)
                device.set(param.name, rp.patch)
                report.sent = {param.name: rp.patch}
                report.messages = len(device.plan({param.name: rp.patch}))
                report.status = SET
                report.reason = f"recalled stored patch {rp.patch!r} (no read-back)"
                if open_device is None:
                    # we close the port right away: give the transport a moment to carry the
                    # last message (a JACK MIDI port closed within its cycle can drop it)
                    time.sleep(MIDI_CLOSE_LINGER_S)
            else:
                _tie_all(device, rp, report, result, verify, emit)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            try:
                cm.__exit__(type(failure) if failure else None, failure, None)
            except DeviceError:
                pass
    except DeviceError as exc:
        report.status = FAILED
        report.reason = str(exc)
    finally:
        report.elapsed_s = time.perf_counter() - t0
        emit.device(report, done=True)
        emit(ApplyEvent("finish", song=song))
    return result


def _tie_all(device, rp: RoutePass, report, result: RouteResult, verify: bool, emit) -> None:
    for tie in rp.ties:
        device.tie(tie.source_point, tie.dest_point)
        report.sent[f"out {tie.dest_point}"] = f"in {tie.source_point}"
    report.messages = len(rp.ties)
    if not verify or device.profile.router.query is None:
        report.status = SET
        report.reason = "set (no read-back)"
        return
    report.status = VERIFYING
    emit.device(report)
    read = device.ties()
    wrong = [t for t in rp.ties if read.get(t.dest_point) != t.source_point]
    if wrong:
        for tie in wrong:  # one resend of what did not take, then judge
            device.tie(tie.source_point, tie.dest_point)
        report.resent = [f"out {t.dest_point}" for t in wrong]
        read = device.ties()
        wrong = [t for t in rp.ties if read.get(t.dest_point) != t.source_point]
    result.read_back = read
    for tie in wrong:
        have = read.get(tie.dest_point)
        report.mismatches[f"out {tie.dest_point}"] = (f"in {tie.source_point}", f"in {have}" if have else "nothing")
    if wrong:
        report.status = FAILED
        report.reason = "read back differs: " + ", ".join(
            f"output {t.dest_point} fed by {read.get(t.dest_point) or 'nothing'} (wanted input {t.source_point})"
            for t in wrong)
    else:
        report.status = VERIFIED
        report.reason = f"{len(rp.ties)} ties read back"


def _plain(value: Any) -> Any:
    unwrap = getattr(value, "unwrap", None)
    return unwrap() if unwrap else value
