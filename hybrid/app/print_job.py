"""A print through the session: one request, routed, retried after xruns, in a child process, cancellable.

Every front end prints this way: ``hybrid print SONG`` (hybrid.cli.print_cmd), the main
job (``hybrid demo --no-tui``) and the TUI's Print view all call
:meth:`hybrid.app.session.StudioSession.print_song`, which runs :func:`print_request`:

- a :class:`PrintRequest` says what to print and how (options, ping, interface overrides,
  whether a paper bay's cords wait for a person). It is plain data, pickled to the child;
- :func:`perform` is the one place a request meets the live layer
  (``hybrid.live.audio.song.print_song``: routing each pass, the latency store);
  it runs in the child print process (hybrid.app.print_process) or in this process;
- a print whose only fault was xruns between the pings is run again, up to
  ``XRUN_RETRIES`` times (decided on problem codes, never on text);
- ``cancel`` (a threading.Event) stops the running pass within a period: it keeps
  nothing, no half-written file is left, and the report lists the files kept.

To print something new (a mix, a master), give the request a kind and branch in
:func:`perform`; the session, the child process and the front ends stay as they are.
A mix (``mix=True``) or an album's mastering passes (``album=NAME``) run through
:func:`run_request`: the same child process, cancel and xrun retry, and for a master the
hand-set walk-through of each song sent back to the front end (``on_steps``) before it plays.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hybrid.app.rows import PrintedStem, PrintProgress, PrintReport
from hybrid.errors import PING_TAIL, XRUNS, HybridError, code_of, only
from hybrid.live.audio.printing import PingSettings, PrintOptions
from recall.paths import SongPaths

XRUN_RETRIES = 2
TAIL_RETRIES = 3
"""A print whose first ping's tail rang into the stems is run again with the gap that tail was
measured to need, up to this often (a first guess, then the measured decay), on top of the xrun retries."""
"""A print spoilt only by xruns is run again up to this often (machines shared with other work
drop a period now and then); the delivered files always come from a pass with none that matter."""


@dataclass(frozen=True)
class PrintRequest:
    """What to print and how. Picklable: it crosses to the print process as it is."""

    song: str
    options: PrintOptions = field(default_factory=PrintOptions)
    ping: PingSettings = field(default_factory=PingSettings)
    device: str | None = None          # overrides of the studio's [interface]
    hostapi: str | None = None
    samplerate: int | None = None
    blocksize: int | None = None
    wait_for_cords: bool = False
    """A paper bay's cords: wait before each pass until the front end confirms them."""
    mix: bool = False
    """Print the song's mix variants through the summing mixer (hybrid.live.audio.mix) instead
    of its stems through their inserts; the result is then a MixResult."""
    variants: list[str] | None = None
    """With ``mix``: the variants to print (None: every variant of the sheet's [mix])."""
    album: str | None = None
    """Print this album's mastering passes (hybrid.live.audio.master) instead; ``song`` is
    then unused (""). The result is a MasterResult; each printed master is recorded in the
    album's album.toml."""

    @property
    def label(self) -> str:
        """What the request prints, for error lines: ``album NAME`` or ``song NAME``."""
        return f"album {self.album}" if self.album else f"song {self.song}"

    def settings(self, studio):
        from hybrid.live.audio.song import interface_of

        return interface_of(studio).override(device=self.device, hostapi=self.hostapi,
                                             samplerate=self.samplerate, blocksize=self.blocksize)


def perform(studio, request: PrintRequest, *, on_pass: Callable[..., None] | None = None,
            on_progress: Callable[[Any], None] | None = None, on_route: Callable[..., None] | None = None,
            on_steps: Callable[..., None] | None = None, cancel: threading.Event | None = None):
    """Run ``request`` on ``studio`` (recall's Studio) in this process; a SongPrintResult
    (a MixResult for a ``mix`` request: ``on_pass(number, total, variant)``; a MasterResult
    for an ``album`` request: ``on_pass(number, total, song)``, ``on_steps(song, steps)``)."""
    from hybrid.live.audio.song import print_song
    from recall import store

    if request.album:
        from hybrid.live.audio.master import print_master

        return print_master(studio, request.album, request.settings(studio), request.options, ping=request.ping,
                            on_steps=on_steps, on_pass=on_pass, on_progress=on_progress, cancel=cancel,
                            record=True)
    sheet = store.load_sheet(studio, request.song)
    if request.mix:
        from hybrid.live.audio.mix import print_mix

        return print_mix(studio, sheet, store.song_dir(studio, request.song), request.song,
                         request.settings(studio), request.options, variants=request.variants, ping=request.ping,
                         on_pass=on_pass, on_progress=on_progress, cancel=cancel)
    return print_song(studio, sheet, store.song_dir(studio, request.song), request.song,
                      request.settings(studio), request.options, ping=request.ping,
                      on_pass=on_pass, on_progress=on_progress, on_route=on_route, cancel=cancel)


def print_request(session, request: PrintRequest, *,
                  on_progress: Callable[[PrintProgress], None] | None = None,
                  on_pass: Callable[..., None] | None = None,
                  on_route: Callable[..., None] | None = None,
                  xrun_retries: int = XRUN_RETRIES, separate_process: bool = True,
                  cancel: threading.Event | None = None) -> PrintReport:
    """Print ``request`` for ``session`` (a StudioSession); see the module docstring.

    ``on_route(number, total, RouteResult)`` comes before a routed pass plays; with
    ``request.wait_for_cords`` the pass waits until it returns (raise HybridError to
    stop). ``on_pass(number, total, planned)`` and ``on_progress`` report as it goes.
    """
    from hybrid.app.print_process import run_print

    slug = request.song
    plan = session.print_plan_of(slug)
    routing: list[str] = []
    current: dict[str, Any] = {"number": 0, "total": plan.passes, "names": {}}
    clips: dict[str, int] = {}

    def pass_started(number: int, total: int, planned) -> None:
        current["number"], current["total"] = number, total
        current["names"] = {job.in_channels[0] - 1: Path(job.stem).stem.split(".round")[0]
                            for job in planned.jobs}
        if on_pass is not None:
            on_pass(number, total, planned)

    def routed(number: int, total: int, result) -> None:
        routing.append(f"pass {number} of {total}: {result.report.device} {result.report.status} "
                       f"({result.report.reason})")
        routing.extend(f"  {step}" for step in result.steps)
        if on_route is not None:
            on_route(number, total, result)

    def relay(progress) -> None:
        if on_progress is None:
            return
        names = current["names"]
        peak = {names[i]: v for i, v in enumerate(progress.peak_dbfs) if i in names}
        rms = {names[i]: v for i, v in enumerate(progress.rms_dbfs) if i in names}
        for name, value in peak.items():
            if value >= -0.01:
                clips[name] = clips.get(name, 0) + 1
        on_progress(PrintProgress(number=max(1, current["number"]), passes=current["total"],
                                  fraction_of_pass=progress.fraction, stage=progress.stage,
                                  position_s=progress.position_s, xruns=progress.xruns,
                                  peak_db=peak, rms_db=rms, clips=dict(clips)))

    retried = tails = 0
    notes: list[str] = []
    if not separate_process:
        session.find_interface(request.settings(session.studio))
    while True:
        routing.clear()  # a print run again reports its own routing
        with session.audio_lock:
            if separate_process:
                result = run_print(session.root, request, on_pass=pass_started, on_progress=relay,
                                   on_route=routed, cancel=cancel)
            else:
                result = perform(session.studio, request, on_pass=pass_started, on_progress=relay,
                                 on_route=routed, cancel=cancel)
        outcomes = [f for outcome in result.passes for f in outcome.files
                    if ".rounds" not in Path(f.job.output).parts]
        files = [printed_stem(f) for f in outcomes]
        notes.extend(note for outcome in result.passes for note in outcome.notes)
        rang = any(code_of(p) == PING_TAIL for f in outcomes for p in f.problems)
        if (result.cancelled or not spoilt_only_by_xruns(outcomes)
                or (tails >= TAIL_RETRIES if rang else retried >= xrun_retries)):
            break
        # the machine was busy for a moment, or a ping's tail rang on: one more go (each its own count)
        tails, retried = (tails + 1, retried) if rang else (tails, retried + 1)
        why = ("the first ping's tail rang into the stems: printed again with the gap it needs (latency.toml "
               "[tails])" if rang else "xruns between the pings: printed again")
        notes.append(f"attempt {retried + tails} spoilt by {why}")
    return PrintReport(song=slug, folder=str(SongPaths(session.song_dir(slug)).prints), files=files,
                       passes=len(result.passes), dry=sorted(result.plan.skipped), retried_for_xruns=retried,
                       routing=list(routing), cancelled=result.cancelled, kept=[str(p) for p in result.kept],
                       notes=notes, result=result)


def run_request(session, request: PrintRequest, *, on_pass: Callable[..., None] | None = None,
                on_progress: Callable[[Any], None] | None = None, on_steps: Callable[..., None] | None = None,
                xrun_retries: int = XRUN_RETRIES, separate_process: bool = True,
                cancel: threading.Event | None = None) -> tuple[Any, int]:
    """A mix or master ``request`` for ``session``: ``(MixResult | MasterResult, attempts spoilt by xruns)``.

    Like :func:`print_request`: in the print process unless ``separate_process`` is False,
    under the session's audio lock, cancellable, and run again (up to ``xrun_retries``)
    when xruns between the pings are all that spoilt it. ``on_steps(song, steps)`` gets a
    master song's hand-set walk-through before it plays; it returns when they are set
    (raise HybridError to stop).
    """
    from hybrid.app.print_process import run_print

    if not (request.mix or request.album):
        raise HybridError("run_request prints a mix or a master; a song's stems print through print_song",
                          where=request.label)
    retried = 0
    while True:
        with session.audio_lock:
            if separate_process:
                result = run_print(session.root, request, on_pass=on_pass or _ignore,
                                   on_progress=on_progress or _ignore, on_steps=on_steps, cancel=cancel)
            else:
                result = perform(session.studio, request, on_pass=on_pass, on_progress=on_progress,
                                 on_steps=on_steps, cancel=cancel)
        if getattr(result, "cancelled", None) or retried >= xrun_retries or not _spoilt_by_xruns(result):
            return result, retried
        retried += 1
        gap = max([request.options.ping_gap_s] + [f.ping_tail_s or 0.0 for f in _files(result)])
        if gap > request.options.ping_gap_s:      # a ping's tail rang into the print: leave it that long
            request = replace(request, options=replace(request.options, ping_gap_s=gap))


def _ignore(*_args: Any) -> None:
    return None


def _groups(result) -> list:
    groups = getattr(result, "variants", None)
    return list(groups if groups is not None else getattr(result, "songs", []))


def _files(result) -> list:
    return [f for g in _groups(result) for p in g.passes for f in p.files]


def _spoilt_by_xruns(result) -> bool:
    """A mix or master result whose bad passes went bad only through xruns (or a ping's tail)."""
    groups = _groups(result)
    bad = [p for g in groups if not g.good for p in g.passes if not p.good]
    if not bad or any(not g.passes for g in groups if not g.good):
        return False
    return all(only([*p.problems, *(x for f in p.files for x in f.problems)], *AGAIN) for p in bad)


AGAIN = (XRUNS, PING_TAIL)
"""What a print is run again for: the machine was busy, or the first ping's tail rang into the
stems (the next attempt leaves the gap that tail was measured to need)."""


def spoilt_only_by_xruns(printed) -> bool:
    """True when some printed files are bad and xruns (or a ping's tail) are all that is wrong with them."""
    bad = [f for f in printed if not f.good]
    return bool(bad) and all(only(f.problems, *AGAIN) for f in bad)


def printed_stem(f) -> PrintedStem:
    """A row for one ``hybrid.live.audio.printing.PrintedFile``."""
    lat = f.channels[0] if f.channels else None
    levels = f.levels
    return PrintedStem(
        name=Path(f.job.output).name, loop=f.job.label, path=None if f.path is None else str(f.path),
        good=bool(f.good),
        peak_dbfs=levels.file_peak_dbfs if levels else float("-inf"),
        rms_dbfs=levels.file_rms_dbfs if levels else float("-inf"),
        clips=int(sum(f.return_clipped_samples)),
        drift_samples=None if lat is None or lat.change_samples is None else round(lat.change_samples, 4),
        latency_samples=None if lat is None or lat.applied_samples is None else round(lat.applied_samples, 4),
        polarity=lat.polarity if lat else 1,
        reason="; ".join(f.problems),
        codes=tuple(code_of(p) for p in f.problems),
    )
