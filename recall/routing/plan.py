"""Passes: which chains are live at once and the ties that make them (nothing is sent here).

Conflicts are found before anything is sent (:func:`route_pass` raises RecallProblems,
each problem naming the file, the key and why); :func:`plan_routes` groups a song's
chains into passes with the print planner's rules plus the router's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from recall.chain import Chain, Endpoint, song_chains
from recall.errors import Problem, RecallError, RecallProblems
from recall.routing.bay import INSERT, PAPER, PATCHBAY, Bay, bay_name, load_bay
from recall.sheet import Sheet, require_valid
from recall.studio import Studio


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

    def to_dict(self) -> dict[str, Any]:
        return {"from": str(self.source), "to": str(self.dest), "from_point": self.source_point,
                "to_point": self.dest_point, "chain": self.chain}


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
                                f"loop {chain.loop!r} is not on the {bay_name(bay)} (no [router.loops.{chain.loop}] "
                                f"in studio.toml) and is {have}"))
    if bay.kind == INSERT and len(chain.devices) > 1:
        problems.append(Problem(file, chain.key + ".devices",
                                f"{bay_name(bay)} gives a channel one insert slot: expected one unit per chain, "
                                f"got {len(chain.devices)} ({', '.join(chain.devices)})"))
    for j, dev in enumerate(chain.devices):
        if dev not in bay.devices:
            problems.append(Problem(file, f"{chain.key}.devices[{j}]",
                                    f"unit {dev!r} is not on the {bay_name(bay)} (no [router.devices.\"{dev}\"] "
                                    f"in studio.toml)"))
    return problems


def _in_patches(bay: Bay, loop: str) -> bool:
    return any(c[0] == loop for made in bay.patches.values() for c in made)


@dataclass
class RoutePass:
    """The routing of one pass: its chains, the ties, the patch to recall, or the hand steps."""

    index: int
    round: int
    chains: list[Chain]
    ties: list[Tie] = field(default_factory=list)
    patch: str | None = None
    """The stored patch to recall (program-change patchbay)."""

    def to_dict(self, bay: Bay | None = None) -> dict[str, Any]:
        out = {"pass": self.index, "round": self.round, "chains": [c.to_dict() for c in self.chains],
               "ties": [t.to_dict() for t in self.ties], "patch": self.patch}
        if bay is not None:
            out["ties_text"] = [t.text(bay) for t in self.ties]
            if bay.kind == PAPER:
                from recall.routing.paper import patch_steps  # paper steps build on passes

                out["steps"] = [s.to_dict() for s in patch_steps(bay, self)]
        return out


@dataclass
class RoutePlan:
    """A song's routing, pass by pass; ``bay`` says how each pass is set."""

    song: str
    bay: Bay
    passes: list[RoutePass]
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
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


def print_pass_fits(studio: Studio, bay: Bay | None = None) -> Callable[[Sequence[Any], Any], bool]:
    """``fits(pass_jobs, job)``: may ``job`` join a print pass already holding ``pass_jobs``?

    The router's own rule for the print planner (``hybrid.live.audio.planner``): on a
    program-change patchbay one stored patch must make every chain of a pass; elsewhere
    the same rules the planner already applies (loop, channels, unit once per pass)."""
    bay = bay or load_bay(studio)

    def fits(pass_jobs: Sequence[Any], job: Any) -> bool:
        return not _pass_problems(studio, bay, chains_for_jobs(studio, [*pass_jobs, job]), None)
    return fits
