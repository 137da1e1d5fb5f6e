"""Print a whole song: every track through its insert chain, loops in parallel, in planned passes.

The song's sheet (recall) says which loop each track goes through (``[[tracks.X.inserts]]``,
in signal order); the studio says which channels a loop is on. Jobs are grouped by
``hybrid.live.audio.planner`` so loops run at once and no unit serves two tracks in a pass.
A track with several inserts is printed in rounds: round k sends round k-1's print
through the k-th insert (intermediate files in ``prints/.rounds/``, removed at the end).

Prints land in ``songs/<song>/prints/`` under the stem's name (docs/CONTRACTS.md). A bad
pass does not stop the song: its files are left as ``NAME.BAD.wav``, its tracks drop out
of later rounds, and the result says so. The gear is assumed recalled (the session does
that before it calls this).

Routing: when the studio has a router (a router device in ``[router]``, or a paper bay
with points; the template's bare ``device = "manual"`` means every loop is hard-wired),
the passes follow the router's rule too (``recall.routing.print_pass_fits``) and each
pass is routed just before it plays (``recall.routing.route_print_pass``). A router that
fails stops the song before that pass plays (RecallError naming the pass and
``router.device``): no pass plays through a wrong patch. A paper bay's hand steps go to
``on_route``; whoever calls this shows them and waits for the person where it can.

Each good pass's pings are stored per loop in ``latency.toml`` (hybrid.live.audio.latency_store);
a loop whose pings disagreed is marked stale there with the figures.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from collections.abc import Callable

from hybrid.live.audio import latency_store
from hybrid.live.audio.interface import InterfaceSettings
from hybrid.live.audio.planner import PlannedPass, plan_passes
from hybrid.live.audio.printing import (PassResult, PingSettings, PrintJob, PrintOptions, SideTolerance,
                                        print_pass)
from hybrid.live.audio.stream import Progress
from hybrid.errors import LATENCY_MOVED, POLARITY_FLIPPED, XRUNS, HybridError, PrintCancelled, code_of
from recall.chain import track_chains
from recall.paths import ROUNDS_DIR, SongPaths
from recall.errors import key_path



@dataclass
class SongPlan:
    """Rounds of passes, and the tracks left out (no insert), with why."""

    song: str
    rounds: list[list[PlannedPass]]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def passes(self) -> int:
        return sum(len(r) for r in self.rounds)

    def to_dict(self) -> dict:
        return {"song": self.song, "passes": self.passes, "skipped": self.skipped,
                "rounds": [[p.to_dict() for p in r] for r in self.rounds]}


@dataclass
class SongPrintResult:
    """Every pass that ran, and the tracks that did not come out good."""

    song: str
    plan: SongPlan
    passes: list[PassResult] = field(default_factory=list)
    failed_tracks: dict[str, str] = field(default_factory=dict)
    cancelled: str | None = None
    """Why the song stopped early on request (the running pass kept nothing), else None."""

    @property
    def good(self) -> bool:
        return self.cancelled is None and not self.failed_tracks and all(p.good for p in self.passes)

    @property
    def kept(self) -> list[Path]:
        """The printed files on disk after this print (good ones under their names, bad ones as
        ``NAME.BAD.wav``); intermediate rounds are never kept."""
        return [Path(f.path) for p in self.passes for f in p.files
                if f.path is not None and ROUNDS_DIR not in Path(f.path).parts and Path(f.path).is_file()]

    def to_dict(self) -> dict:
        return {"song": self.song, "good": self.good, "skipped": self.plan.skipped,
                "failed_tracks": self.failed_tracks, "cancelled": self.cancelled,
                "kept": [str(k) for k in self.kept], "passes": [p.to_dict() for p in self.passes]}


def interface_of(studio) -> InterfaceSettings:
    """The studio's ``[interface]`` as print settings (recall's Studio)."""
    iface = studio.interface
    if iface is None:
        raise HybridError("the studio has no [interface] (device, samplerate, blocksize)", where=str(studio.file))
    return InterfaceSettings(device=iface.device, hostapi=iface.hostapi, samplerate=iface.samplerate,
                             blocksize=iface.blocksize)


def router_bay(studio):
    """The studio's router bay (``recall.routing.Bay``) when there is anything to route, else None."""
    from recall.routing import PAPER, load_bay

    bay = load_bay(studio)
    if bay.kind == PAPER and not bay.loops and not bay.devices:
        return None
    return bay


def pass_rule(studio, bay=None):
    """``fits(pass_jobs, job)`` for :func:`plan_song` when the studio has a router, else None."""
    from recall.routing import print_pass_fits

    bay = bay or router_bay(studio)
    return None if bay is None else print_pass_fits(studio, bay)


def plan_song(studio, sheet, song_dir: Path, song: str, *,
              fits: Callable[[list[PrintJob], PrintJob], bool] | None = None) -> SongPlan:
    """The rounds of passes that print ``sheet``'s tracks through their inserts.

    ``fits``: an extra rule for who may share a pass (``hybrid.live.audio.planner.plan_passes``);
    :func:`pass_rule` gives the router's."""
    paths = SongPaths(song_dir)
    prints, rounds_dir = paths.prints, paths.rounds
    per_round: list[list[PrintJob]] = []
    skipped: dict[str, str] = {}
    chains = track_chains(sheet, studio)
    for track in sheet.tracks:
        if not track.inserts:
            skipped[track.name] = "no insert on this track"
            continue
        stem = song_dir / track.file
        if not stem.is_file():
            raise HybridError(f"track {track.name!r}: stem not found", where=str(stem))
        final = prints / (Path(track.file).stem + ".wav")
        source = stem
        wide = any((studio.loops.get(i.loop) is not None and studio.loops[i.loop].sides > 1) or i.side or i.ms
                   for i in track.inserts)
        channels = _channels_of(stem) if wide else 1   # a mono loop's print checks the stem itself
        for k, (chain, insert) in enumerate(zip(chains[track.name], track.inserts, strict=True)):
            loop = studio.loops.get(chain.loop)
            if loop is None:
                raise HybridError(f"track {track.name!r}: no loop {chain.loop!r} in the studio "
                                  f"(known: {', '.join(studio.loops) or 'none'})", where=str(studio.file))
            last = k == len(track.inserts) - 1
            output = final if last else rounds_dir / f"{Path(track.file).stem}.round{k + 1}.wav"
            outs, ins, ms = insert_channels(sheet, track.name, k, insert, loop, channels)
            sides = None
            if len(outs) > 1:
                sides = SideTolerance.of(studio, loop)
            job = PrintJob(stem=source, output=output, out_channels=outs, in_channels=ins, loop=loop.name,
                           chain=chain.devices, ms=ms, sides=sides)
            while len(per_round) <= k:
                per_round.append([])
            per_round[k].append(job)
            source = output
    return SongPlan(song=song, rounds=[plan_passes(jobs, fits) for jobs in per_round], skipped=skipped)


def _channels_of(stem: Path) -> int:
    import soundfile as sf

    try:
        return int(sf.info(str(stem)).channels)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise HybridError(f"cannot read as audio: {exc}", where=str(stem)) from exc


def insert_channels(sheet, track: str, index: int, insert, loop, channels: int):
    """``(outs, ins, ms)`` for a ``channels``-channel stem through ``insert``'s loop.

    A stem as wide as the loop goes through every side; a mono stem through one side of
    a wider loop names it (``side``); M/S (the insert's or the loop's ``ms``) needs a
    stereo stem on a stereo loop. Anything else is refused with the sheet's key.
    """
    where = f"{sheet.file}: {key_path('tracks', track, 'inserts', index)}"
    sides = loop.sides
    if insert.side is not None:
        if channels != 1:
            raise HybridError(f"side = {insert.side}: only a mono stem goes through one side "
                              f"(this one has {channels} channels)", where=where)
        if not 1 <= insert.side <= sides:
            raise HybridError(f"side = {insert.side}: loop {loop.name!r} has side(s) 1..{sides}", where=where)
        if insert.ms:
            raise HybridError("ms = true needs a stereo stem through both sides, not one side", where=where)
        s = insert.side - 1
        return (loop.out_channels[s],), (loop.in_channels[s],), False
    if channels == 1 and sides > 1:
        raise HybridError(f"a mono stem through the {sides}-side loop {loop.name!r}: say which side "
                          "(side = \"L\" or \"R\")", where=where)
    if channels != sides:
        raise HybridError(f"a {channels}-channel stem through the {sides}-side loop {loop.name!r}: "
                          "expected a loop as wide as the stem", where=where)
    ms = bool(insert.ms or loop.ms)
    if ms and channels != 2:
        raise HybridError("ms = true needs a stereo stem on a stereo loop", where=where)
    return tuple(loop.out_channels), tuple(loop.in_channels), ms


_OPTIONS = PrintOptions()
_PING = PingSettings()


def print_song(studio, sheet, song_dir: Path, song: str, settings: InterfaceSettings,
               options: PrintOptions = _OPTIONS, *, ping: PingSettings = _PING,
               on_pass: Callable[[int, int, PlannedPass], None] | None = None,
               on_progress: Callable[[Progress], None] | None = None,
               on_route: Callable[[int, int, Any], None] | None = None,
               store_latency: bool = True, cancel=None) -> SongPrintResult:
    """Run :func:`plan_song`'s passes; ``on_pass(number, total, planned)`` before each.

    With a router, each pass is routed first (``recall.routing.route_print_pass``), then
    ``on_route(number, total, RouteResult)`` (a paper bay's ``.steps`` to patch by hand:
    show them and wait for the person there), then ``on_pass``; then the pass plays. A
    router that fails raises RecallError before the pass plays. ``cancel`` (a
    threading.Event) stops the running pass within a period and ends the song: the
    result's ``cancelled`` says so, the running pass kept nothing, and the passes done by
    then keep their files (``kept``).
    """
    bay = router_bay(studio)
    plan = plan_song(studio, sheet, song_dir, song, fits=pass_rule(studio, bay))
    result = SongPrintResult(song=song, plan=plan)
    if not plan.rounds:
        return result
    (SongPaths(song_dir).prints).mkdir(exist_ok=True)
    if len(plan.rounds) > 1:
        SongPaths(song_dir).rounds.mkdir(exist_ok=True)
    failed_stems: set[Path] = set()        # files that did not come out good: later rounds skip them
    number = 0
    try:
        for round_passes in plan.rounds:
            for planned in round_passes:
                number += 1
                jobs = [j for j in planned.jobs if j.stem not in failed_stems]
                for j in planned.jobs:
                    if j.stem in failed_stems:
                        failed_stems.add(j.output)
                if not jobs:
                    continue
                if cancel is not None and cancel.is_set():
                    result.cancelled = f"before pass {number} of {plan.passes}: cancelled"
                    return result
                if bay is not None:
                    from recall.routing import route_print_pass

                    routed = route_print_pass(studio, jobs, index=number, bay=bay)
                    if on_route is not None:
                        on_route(number, plan.passes, routed)
                if on_pass is not None:
                    on_pass(number, plan.passes, planned)
                try:
                    outcome = print_pass(jobs, settings, _with_ping_gap(studio, options, jobs), ping=ping,
                                         on_progress=on_progress, cancel=cancel,
                                         known_sides=known_sides(studio, settings))
                except PrintCancelled as exc:
                    result.cancelled = f"pass {number} of {plan.passes}: {exc}"
                    return result
                result.passes.append(outcome)
                for f in outcome.files:
                    if not f.good:
                        failed_stems.add(f.job.output)
                        result.failed_tracks[f.job.stem.name] = "; ".join(f.problems)
                if store_latency:
                    store_pass_latency(studio, settings, outcome)
    finally:
        shutil.rmtree(SongPaths(song_dir).rounds, ignore_errors=True)
    return result


def _with_ping_gap(studio, options: PrintOptions, jobs) -> PrintOptions:
    """``options`` with the ping gap the pass's loops were measured to need (latency.toml [tails])."""
    try:
        known = latency_store.tails(studio.root)
    except HybridError:
        return options           # a broken latency.toml is reported where it is stored; the check still guards
    gap = max([options.ping_gap_s] + [known.get(j.loop or "", 0.0) for j in jobs])
    return options if gap == options.ping_gap_s else replace(options, ping_gap_s=gap)


def _one_side(studio, job: PrintJob) -> bool:
    """A mono print through one side of a wider loop: its figure is not the loop's."""
    loop = studio.loops.get(job.loop or "")
    return loop is not None and loop.sides > 1


def _key(settings: InterfaceSettings, samplerate: int | None) -> latency_store.LatencyKey:
    return latency_store.LatencyKey(device=settings.device, samplerate=samplerate, blocksize=settings.blocksize)


def known_sides(studio, settings: InterfaceSettings) -> dict[str, tuple]:
    """Each multi-channel loop's sides as latency.toml holds them for this interface (current
    entries only): what a pass reads back to skip its quick ping of the sides before it plays."""
    try:
        entries = latency_store.load(studio.root)
    except HybridError:
        return {}                # a broken latency.toml: the pass pings the sides itself
    key = _key(settings, settings.samplerate)
    return {name: e.sides for name, e in entries.items()
            if e.sides and not e.stale_reason and not e.key.differences(key, compare_route=False)}


def store_pass_latency(studio, settings: InterfaceSettings, outcome: PassResult) -> None:
    """Good pings of a pass's studio loops into latency.toml (a stereo loop with every side and
    its skew), a loop whose pings disagreed marked stale, a ping's measured tail kept per loop."""
    key = _key(settings, outcome.samplerate)
    studio_dir = studio.root
    for f in outcome.files:
        if f.job.loop and f.ping_tail_s is not None:
            latency_store.store_tail(studio_dir, f.job.loop, f.ping_tail_s)
        if f.job.loop not in studio.loops or len(f.channels) != studio.loops[f.job.loop].sides:
            continue                 # not a studio loop (the summing bus), or one side of a wider loop
        moved = [p for p in f.problems if code_of(p) in (LATENCY_MOVED, POLARITY_FLIPPED)]
        if moved:
            latency_store.invalidate(studio_dir, f.job.loop, moved[0])
        elif all(c.before is not None for c in f.channels) and not any(code_of(p) == XRUNS for p in outcome.problems):
            sides = [c.before for c in f.channels] if len(f.channels) > 1 else None
            latency_store.store(studio_dir, f.job.loop, f.channels[0].before, key, sides=sides)
