"""Mastering passes: each song's mix through the album's stereo mastering chain, one master per song.

``albums/<album>/mastering.toml`` names the chain; a mastering sheet per album track holds
that song's settings for the chain's units (a recall sheet: ``[devices."X".values]``)::

    spec = "hybrid-mastering/1"
    chain = ["M-EQ", "M-COMP"]        # stereo loops of studio.toml, in signal order
    tail_s = 2.0                      # optional: the tail kept after each song (default: the print's)

    albums/<album>/sheets/<song>.toml # one per album track (album.toml [[tracks]] song)

``print_master`` checks everything before anything is recalled or plays: the chain's
loops exist and are stereo, every album track has its mix (``songs/<song>/mix/full.wav``)
and its sheet, every sheet names a song of the album and fits the studio. Then, song by
song: the sheet is recalled (``recall.apply.apply_sheet``; hand-set units come as a
walk-through, shown by ``on_steps``, which may wait for the person), and only when the
recall succeeded does the mix go through the chain, loop after loop (each a pass of
``hybrid.live.audio.printing``: both sides aligned by their own pings, heads kept from the
mix's frame 0, tails kept), at the session's rate. A song whose recall failed is not
printed (its old master is left alone) and the result says why.

Files: ``albums/<album>/masters/<song>.wav``; with ``record`` (``hybrid print --master``
does) each good master is recorded in album.toml as its track's ``file`` as soon as it is
printed (hybrid.files.deliver.album_edit.record_masters: atomic, comments kept, a
concurrent edit never overwritten), so ``hybrid deliver master`` takes them as they are.
Intermediate rounds live in ``masters/.rounds`` and go away. ``cancel`` stops the running
pass within a period: it keeps nothing, and the result says which masters were kept.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hybrid.errors import HybridError, PrintCancelled
from hybrid.live.audio.printing import (PassResult, PingSettings, PrintJob, PrintOptions, SideTolerance,
                                        again_if_spoilt, print_pass)
from hybrid.live.audio.song import known_sides, store_pass_latency
from hybrid.tomlfile import read_toml
from recall.errors import RecallError, key_path
from recall.paths import MASTERING_FILE, MASTERING_SHEETS_DIR

MASTERING_SPEC = "hybrid-mastering/1"
MASTERS_DIR = "masters"
ROUNDS_DIR = ".rounds"


@dataclass
class MasterPlan:
    album: str
    album_dir: Path
    chain: list[Any]                    # recall.studio.Loop, in signal order
    songs: list[str]
    mixes: dict[str, Path]
    sheets: dict[str, Any]              # recall.sheet.Sheet per song
    tail_s: float | None = None

    def to_dict(self) -> dict:
        return {"album": self.album, "chain": [loop.name for loop in self.chain], "songs": self.songs,
                "mixes": {k: str(v) for k, v in self.mixes.items()}}


@dataclass
class SongMaster:
    song: str
    good: bool
    path: Path | None
    recall: dict | None = None
    passes: list[PassResult] = field(default_factory=list)
    problem: str = ""

    def to_dict(self) -> dict:
        return {"song": self.song, "good": self.good, "path": None if self.path is None else str(self.path),
                "recall": self.recall, "problem": self.problem, "passes": [p.to_dict() for p in self.passes]}


@dataclass
class MasterResult:
    plan: MasterPlan
    songs: list[SongMaster] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)
    """Songs whose master album.toml now names (``record``)."""
    cancelled: str | None = None
    """Why the passes stopped early on request (the running pass kept nothing), else None."""

    @property
    def good(self) -> bool:
        return self.cancelled is None and bool(self.songs) and all(s.good for s in self.songs)

    @property
    def kept(self) -> list[Path]:
        return [s.path for s in self.songs if s.path is not None and s.path.is_file()]

    def to_dict(self) -> dict:
        return {"album": self.plan.album, "good": self.good, "plan": self.plan.to_dict(),
                "recorded": list(self.recorded), "cancelled": self.cancelled,
                "songs": [s.to_dict() for s in self.songs]}


def plan_master(studio, album: str) -> MasterPlan:
    """Read and check the album's mastering set-up; one line naming the file and key when it does not fit."""
    from recall.sheet import Sheet, validate_sheet

    album_dir = studio.root / "albums" / album
    album_file = album_dir / "album.toml"
    data = read_toml(album_file)
    tracks = data.get("tracks")
    if not isinstance(tracks, list) or not tracks:
        raise HybridError("tracks: expected [[tracks]] with song = ... in running order", where=str(album_file))
    songs: list[str] = []
    for i, t in enumerate(tracks):
        song = t.get("song") if isinstance(t, dict) else None
        if not isinstance(song, str) or not song:
            raise HybridError("expected song = \"<song folder>\"", where=f"{album_file}: tracks[{i}].song")
        songs.append(song)
    path = album_dir / MASTERING_FILE
    conf = read_toml(path)
    if conf.get("spec") != MASTERING_SPEC:
        raise HybridError(f'spec: expected "{MASTERING_SPEC}"', where=str(path))
    for key in conf:
        if key not in ("spec", "chain", "tail_s"):
            raise HybridError(f"{key}: unknown key (known: spec, chain, tail_s)", where=str(path))
    names = conf.get("chain")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise HybridError("chain: expected the mastering loops in signal order, e.g. [\"M-EQ\", \"M-COMP\"]",
                          where=str(path))
    chain = []
    for i, name in enumerate(names):
        loop = studio.loops.get(name)
        if loop is None:
            raise HybridError(f"no loop {name!r} in studio.toml (known: {', '.join(studio.loops) or 'none'})",
                              where=f"{path}: chain[{i}]")
        if loop.sides != 2:
            raise HybridError(f"loop {name!r} has {loop.sides} side(s); a mastering chain is stereo",
                              where=f"{path}: chain[{i}]")
        chain.append(loop)
    tail = conf.get("tail_s")
    if tail is not None and (isinstance(tail, bool) or not isinstance(tail, (int, float)) or not 0 <= tail <= 60):
        raise HybridError(f"tail_s: expected seconds 0..60, got {tail!r}", where=str(path))
    sheets_dir = album_dir / MASTERING_SHEETS_DIR
    for extra in sorted(sheets_dir.glob("*.toml")) if sheets_dir.is_dir() else []:
        if extra.stem not in songs:
            raise HybridError(f"a mastering sheet for {extra.stem!r}, which is not a track of the album "
                              f"(tracks: {', '.join(songs)})", where=str(extra))
    mixes: dict[str, Path] = {}
    sheets: dict[str, Any] = {}
    for song in songs:
        mix = studio.songs_dir / song / "mix" / "full.wav"
        if not mix.is_file():
            raise HybridError(f"song {song!r} has no mix to master (print it with hybrid print {song} --mix)",
                              where=str(mix))
        mixes[song] = mix
        sheet_path = sheets_dir / f"{song}.toml"
        if not sheet_path.is_file():
            raise HybridError(f"no mastering sheet for track {song!r} (the chain's settings for this song)",
                              where=str(sheet_path))
        sheet = Sheet.load(sheet_path)
        problems = validate_sheet(sheet, studio)
        if problems:
            raise RecallError(problems[0].reason, file=problems[0].file, key=problems[0].key)
        chain_units = {d for loop in chain for d in loop.devices}
        for dev in sheet.device_names:
            if chain_units and dev not in chain_units:
                raise HybridError(f"{dev!r} is not on the mastering chain ({', '.join(sorted(chain_units))})",
                                  where=f"{sheet_path}: {key_path('devices', dev)}")
        sheets[song] = sheet
    return MasterPlan(album=album, album_dir=album_dir, chain=chain, songs=songs, mixes=mixes, sheets=sheets,
                      tail_s=None if tail is None else float(tail))


def print_master(studio, album: str, settings, options: PrintOptions | None = None, *,
                 ping: PingSettings | None = None, recall=None, on_steps=None, on_pass=None, on_progress=None,
                 cancel=None, record: bool = False) -> MasterResult:
    """Every album track's mix through the chain, each after its own recall.

    ``recall(studio, sheet, song) -> ApplyReport`` defaults to ``recall.apply.apply_sheet``;
    ``on_steps(song, steps)`` gets the hand-set walk-through before that song prints.
    ``record``: each good master goes into album.toml as its track's ``file``.
    """
    options = options or PrintOptions()
    ping = ping or PingSettings()
    plan = plan_master(studio, album)
    if plan.tail_s is not None:
        options = replace(options, tail_s=plan.tail_s)
    options = replace(options, keep_tail=True)
    if recall is None:
        from recall.apply import apply_sheet

        def recall(st, sheet, song):
            return apply_sheet(st, sheet, slug=f"master-{album}-{song}")
    out_dir = plan.album_dir / MASTERS_DIR
    out_dir.mkdir(exist_ok=True)
    rounds = out_dir / ROUNDS_DIR
    result = MasterResult(plan=plan)
    try:
        for number, song in enumerate(plan.songs, start=1):
            if cancel is not None and cancel.is_set():
                result.cancelled = f"before master {number} of {len(plan.songs)} ({song}): cancelled"
                break
            report = recall(studio, plan.sheets[song], song)
            if not report.ok:
                from recall.apply import ApplyStatus

                failed = [f"{d.device} ({d.reason})" for d in report.devices if d.status == ApplyStatus.FAILED]
                result.songs.append(SongMaster(song, False, None, report.to_dict(), problem=(
                    "recall failed, not printed through a wrong chain: " + (", ".join(failed) or
                                                                             report.summary_line()))))
                continue
            if report.steps and on_steps is not None:
                on_steps(song, report.steps)
            if on_pass is not None:
                on_pass(number, len(plan.songs), song)
            try:
                done = _master_song(plan, song, out_dir, rounds, studio, settings, options, ping, on_progress,
                                    cancel, report.to_dict())
            except PrintCancelled as exc:
                result.cancelled = f"master {number} of {len(plan.songs)} ({song}): {exc.reason}"
                break
            result.songs.append(done)
            if record and done.good:
                from hybrid.files.deliver.album_edit import record_masters

                result.recorded += record_masters(studio.root, album, {song: f"{MASTERS_DIR}/{song}.wav"})
    finally:
        shutil.rmtree(rounds, ignore_errors=True)
    return result


def _master_song(plan: MasterPlan, song: str, out_dir: Path, rounds: Path, studio, settings,
                 options: PrintOptions, ping: PingSettings, on_progress, cancel, recall_dict) -> SongMaster:
    final = out_dir / f"{song}.wav"
    source = plan.mixes[song]
    passes: list[PassResult] = []
    for k, loop in enumerate(plan.chain):
        last = k == len(plan.chain) - 1
        if not last:
            rounds.mkdir(exist_ok=True)
        target = final if last else rounds / f"{song}.{k + 1}.wav"
        job = PrintJob(stem=source, output=target, out_channels=tuple(loop.out_channels),
                       in_channels=tuple(loop.in_channels), loop=loop.name, chain=tuple(loop.devices), ms=loop.ms,
                       sides=SideTolerance.of(studio, loop))
        outcome = again_if_spoilt(lambda opts, job=job: print_pass(
            [job], settings, opts, ping=ping, on_progress=on_progress, cancel=cancel,
            known_sides=known_sides(studio, settings)), options)
        store_pass_latency(studio, settings, outcome)
        passes.append(outcome)
        printed = outcome.files[0]
        if not printed.good:
            return SongMaster(song, False, printed.path, recall_dict, passes,
                              problem=f"pass through {loop.name} bad: {'; '.join(map(str, printed.problems))}")
        source = target
    return SongMaster(song, True, final, recall_dict, passes)
