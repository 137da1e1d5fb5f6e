"""Print passes: stems out through their analog loops at once, returns back, aligned to the sample fraction.

One pass is one duplex stream whose timeline is::

    | settle | ping (silence, sweep, capture) |  stems (longest N)  | tail | guard | ping (...) |
                                              ^ P: stem frame 0 leaves the outputs here

Every loop of the pass gets the ping before and after the stems, in the same stream as
the print; each loop side (channel pair) in its own slot of a staggered ping
(``hybrid.live.audio.ping``), so sides that hear each other are timed apart. Why in-stream rather than a separate measurement stream: the
latency we correct by is then the latency of *this* stream (some host APIs land on a
different buffer latency each time a stream opens), every loop is measured at once, and a
change between the two pings (clock drift, a dropout, a re-clocked interface, a patch
pulled mid-pass) is caught for exactly the audio we deliver. While audio streams the
process only copies (the callback) and reads/writes disk (the worker): the pings are
estimated after the stream stops, because a full estimate holds the interpreter long
enough to cost the callback its deadline. During the stream the ping before the stems
gets only a cheap look (did anything come back?), so an open loop still stops the pass
before the stems have played.

A pass with a multi-channel loop first pings every loop in one quick stream (0.3 s plus
40 ms per further side) and refuses, before anything plays, a loop that does not come
back or whose sides differ by more than the loop's tolerance (``SideTolerance``). An M/S
job plays its stem mid/side-encoded and decodes the aligned return.

Each return is recorded to a temp file, then aligned: print[n] = return(P + latency + n),
fraction included (``hybrid.live.audio.align``), polarity corrected, a stereo loop's sides
brought to their mean gain (``balance_sides``: each side's gain from its own ping), exactly the stem's length
(or plus the tail when asked), written to a temp WAV carrying the stem's BWF ``bext`` and
renamed into place only when the pass is good. A bad pass (xruns, latency moved, clipped
return, a dropout in a return (``hybrid.live.audio.checks``), failed ping) leaves its file as ``NAME.BAD.wav`` beside the wanted one, never under
the good name; an earlier good file there is left alone. Every problem is a typed
``hybrid.errors.Problem`` (a code and a text).

The first ping's own tail must not reach the print: a reverb or plate in a loop rings on
after the sweep, and the stems start right after the ping's capture. ``ping_gap_s`` leaves
that much more silence between them; after the stream, each return's last 20 ms before
the stems arrive is compared with the noise floor heard before the sweep, and a tail
still ringing there (more than 6 dB over the floor) makes the file bad (``PING_TAIL``),
with the gap the measured decay needs (``PrintedFile.ping_tail_s``), so the front ends
print it again with that gap (hybrid.app.print_job) and remember it per loop
(latency.toml ``tail_s``, read back before the next pass: hybrid.live.audio.song).

Xruns spoil a pass only inside the span that matters: from the first ping to the end of
the last ping's capture (the stems and their tails lie between). The stream records where
each xrun fell; those before the first ping (the stream starting) or after the last (the
stream stopping) are reported in ``PassResult.notes`` and leave the pass good.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from collections.abc import Callable, Sequence

import numpy as np
import soundfile as sf

from hybrid.live.audio.align import ChannelAligner
from hybrid.live.audio.checks import DropoutDetector
from hybrid.live.audio.ping import MAX_UNCERTAINTY_SAMPLES, LatencyResult, PingRoute, estimate, route_sends
from hybrid.live.audio.signals import CAPTURE_S, PREROLL_S, SLOT_S, SWEEP_S, ping_signal
from hybrid.live.audio.interface import InterfaceSettings, resolve_device
from hybrid.live.audio.stream import DuplexRun, Progress, StreamStats
from hybrid.live.audio.wavio import FORMATS, Bext, Levels, WavWriter, read_bext
from recall.errors import key_path
from hybrid.errors import (CLIPPED, DROPOUT, LATENCY_MOVED, OVER_FULL_SCALE, PING_FAILED, PING_TAIL,
                           POLARITY_FLIPPED, SIDES_DIFFER, XRUNS, HybridError, Problem, code_of, only)
from hybrid.tomlfile import regular_file
from recall.atomic import clean_stale_temps, commit, temp_name

BAD_SUFFIX = ".BAD"
_BLOCK = 65536


# --- What a pass is asked to do -------------------------------------------------------------
@dataclass(frozen=True)
class PrintJob:
    """One stem through one loop. Channels are 1-based, one out and one in per stem channel."""

    stem: Path
    output: Path
    out_channels: tuple[int, ...]
    in_channels: tuple[int, ...]
    loop: str | None = None             # the loop's name in the studio, for reports
    chain: tuple[str, ...] = ()         # devices in the loop, in signal order (planning, reports)
    ms: bool = False                    # a stereo stem M/S-encoded before the loop, decoded after
    sides: SideTolerance | None = None  # a multi-channel loop: how far its sides may differ

    @property
    def label(self) -> str:
        return self.loop or f"out {','.join(map(str, self.out_channels))} -> in {','.join(map(str, self.in_channels))}"

    def to_dict(self) -> dict:
        return {"stem": str(self.stem), "output": str(self.output), "out": list(self.out_channels),
                "in": list(self.in_channels), "loop": self.loop, "chain": list(self.chain), "ms": self.ms}


@dataclass(frozen=True)
class SideTolerance:
    """How far the sides of a multi-channel loop may differ before a pass is refused.

    Each side is aligned by its own latency and polarity whatever this says; a larger
    difference means a side goes through other gear or another converter than it should.
    ``where`` names the studio.toml key for the refusal line. ``check_gain`` False: the
    loop's gain follows the signal (recall.studio.Loop.level_dependent): its sides' gains
    are neither compared nor balanced.
    """

    max_skew_samples: float = 2.0
    max_gain_diff_db: float = 1.0
    where: str = ""
    check_gain: bool = True

    @classmethod
    def of(cls, studio, loop) -> SideTolerance:
        """The tolerance studio.toml's ``[loops.NAME]`` sets."""
        return cls(loop.max_skew_samples, loop.max_gain_diff_db,
                   where=f"{studio.file}: {key_path('loops', loop.name)}",
                   check_gain=not loop.level_dependent)


@dataclass(frozen=True)
class PrintOptions:
    """How to print. Times in seconds, tolerances in samples."""

    fmt: str = "pcm24"                          # "pcm24" | "float32"
    whole_samples: bool = False                 # align to the nearest sample only (like a DAW insert)
    correct_polarity: bool = True
    balance_sides: bool = True                  # a stereo loop's sides brought to their mean gain (L/R, not M/S)
    keep_tail: bool = False                     # keep the post-roll tail instead of trimming to the stem
    settle_s: float = 0.1                       # silence before the first ping (stream start)
    tail_s: float = 1.0                         # post-roll after the longest stem, for reverbs and delays
    latency_tolerance_samples: float = 0.1      # allowed change between the pings
    clip_level_dbfs: float = -0.01              # a return sample at or above this counts as clipped
    allow_clipping: bool = False                # deliver a pass whose returns clipped
    progress_interval_s: float = 0.1
    ping_gap_s: float = 0.0                     # silence after the first ping before the stems (ping tails)

    def check(self) -> None:
        if self.fmt not in FORMATS:
            raise HybridError(f"format {self.fmt!r}: expected one of {', '.join(FORMATS)}")
        for name in ("settle_s", "tail_s", "ping_gap_s"):
            if getattr(self, name) < 0:
                raise HybridError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.latency_tolerance_samples <= 0:
            raise HybridError(f"latency tolerance must be positive, got {self.latency_tolerance_samples}")


@dataclass(frozen=True)
class PingSettings:
    """The ping a pass embeds before and after the stems (``hybrid.live.audio.ping``'s sweep).

    ``capture_s`` bounds the longest round trip that can be measured (and so printed).
    """

    sweep_s: float = SWEEP_S
    level_dbfs: float = -12.0
    preroll_s: float = PREROLL_S
    capture_s: float = CAPTURE_S
    slot_s: float = SLOT_S
    max_uncertainty_samples: float = MAX_UNCERTAINTY_SAMPLES
    min_snr_db: float | None = None

    def signal(self, samplerate: int, slots: int = 1):
        return ping_signal(samplerate, sweep_s=self.sweep_s, level_dbfs=self.level_dbfs,
                           preroll_s=self.preroll_s, capture_s=self.capture_s, slots=max(1, slots),
                           slot_s=self.slot_s)


# --- What a pass reports ----------------------------------------------------------------------
@dataclass
class ChannelLatency:
    """The two pings of one channel pair and what was applied."""

    out_channel: int
    in_channel: int
    before: object | None = None        # a ping LatencyResult
    after: object | None = None
    applied_samples: float | None = None
    polarity: int = 1
    gain_db: float | None = None
    gain_correction_db: float = 0.0     # applied to this side to match the loop's other sides
    problem: str | None = None          # why a ping gave no result

    @property
    def change_samples(self) -> float | None:
        if self.before is None or self.after is None:
            return None
        return float(self.after.latency_samples - self.before.latency_samples)

    def to_dict(self) -> dict:
        def res(r):
            if r is None:
                return None
            snr = None if r.snr_db is None or not np.isfinite(r.snr_db) else round(float(r.snr_db), 1)
            return {"latency_samples": round(float(r.latency_samples), 4), "polarity": int(r.polarity),
                    "gain_db": round(float(r.gain_db), 2), "snr_db": snr,
                    "warnings": list(getattr(r, "warnings", ()))}
        change = self.change_samples
        return {"out": self.out_channel, "in": self.in_channel, "before": res(self.before),
                "after": res(self.after),
                "change_samples": None if change is None else round(change, 4),
                "applied_latency_samples": None if self.applied_samples is None else round(self.applied_samples, 4),
                "polarity": self.polarity,
                "gain_db": None if self.gain_db is None else round(self.gain_db, 2),
                "gain_correction_db": round(self.gain_correction_db, 3)}


@dataclass
class PrintedFile:
    """One job's outcome. ``path`` is where the file is: the wanted name if good, the BAD name if not."""

    job: PrintJob
    good: bool
    path: Path | None
    frames: int = 0
    samplerate: int = 0
    fmt: str = "pcm24"
    channels: list[ChannelLatency] = field(default_factory=list)
    levels: Levels | None = None
    return_clipped_samples: list[int] = field(default_factory=list)
    time_reference: int | None = None
    problems: list[str] = field(default_factory=list)
    ping_tail_s: float | None = None
    """With a ``PING_TAIL`` problem: the gap after the first ping its measured decay needs."""

    @property
    def skew_samples(self) -> float | None:
        """Latency of the last side minus the first's (a multi-channel loop), as applied."""
        applied = [c.applied_samples for c in self.channels]
        if len(applied) < 2 or any(a is None for a in applied):
            return None
        return float(applied[-1] - applied[0])

    def to_dict(self) -> dict:
        skew = self.skew_samples
        return {"stem": str(self.job.stem), "output": str(self.job.output), "loop": self.job.label,
                "skew_samples": None if skew is None else round(skew, 4), "ms": self.job.ms,
                "good": self.good, "path": None if self.path is None else str(self.path),
                "frames": self.frames, "samplerate": self.samplerate, "format": self.fmt,
                "time_reference": self.time_reference,
                "latency": [c.to_dict() for c in self.channels],
                "levels": None if self.levels is None else self.levels.to_dict(),
                "return_clipped_samples": sum(self.return_clipped_samples),
                "ping_tail_s": None if self.ping_tail_s is None else round(self.ping_tail_s, 2),
                "problems": self.problems}


@dataclass
class PassResult:
    """A pass: good only if every file is good and the stream had no xruns."""

    good: bool
    files: list[PrintedFile]
    stats: StreamStats
    device: str
    samplerate: int
    blocksize: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Reported, not spoiling: e.g. xruns outside the span that matters."""

    def to_dict(self) -> dict:
        return {"good": self.good, "device": self.device, "samplerate": self.samplerate,
                "blocksize": self.blocksize, "stream": self.stats.to_dict(),
                "problems": self.problems, "notes": self.notes, "files": [f.to_dict() for f in self.files]}


# --- The pass ---------------------------------------------------------------------------------
@dataclass
class Send:
    """A file played from the pass's stem frame 0 on ``out_cols`` (0-based), M/S-encoded if asked."""

    path: Path
    out_cols: list[int]
    ms: bool = False
    file: sf.SoundFile | None = None
    frames: int = 0
    channels: int = 0
    buf: np.ndarray | None = None

    def open(self) -> Send:
        regular_file(self.path)
        try:
            f = sf.SoundFile(self.path)
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            raise HybridError(f"cannot read as audio: {exc}", where=str(self.path)) from exc
        if f.frames <= 0:
            f.close()
            raise HybridError("the stem is empty (no frames)", where=str(self.path))
        self.file, self.frames, self.channels = f, f.frames, f.channels
        self.buf = np.zeros((_BLOCK, f.channels), dtype=np.float32)
        return self


@dataclass
class Return:
    """Inputs recorded in a pass and delivered as one aligned file at ``job.output``.

    ``routes[k]`` is the index (in the pass's ping routes) that times input channel k;
    ``frames`` the file's length before any tail; ``reference`` the sends whose sum is
    what this return should carry (for dropouts): channel for channel when ``per_channel``.
    """

    job: PrintJob
    routes: list[int]
    frames: int
    bext: Bext | None
    reference: list[Send]
    per_channel: bool = True
    ms: bool = False
    record_path: Path | None = None
    record: sf.SoundFile | None = None
    in_cols: list[int] = field(default_factory=list)
    clipped: np.ndarray | None = None

    @property
    def channels(self) -> int:
        return len(self.job.in_channels)


def print_pass(jobs: Sequence[PrintJob], settings: InterfaceSettings, options: PrintOptions = PrintOptions(),
               *, ping: PingSettings = PingSettings(),
               on_progress: Callable[[Progress], None] | None = None,
               cancel: threading.Event | None = None, known_sides: dict | None = None) -> PassResult:
    """Print ``jobs`` in one pass through ``settings.device``; every loop runs at once.

    Raises HybridError for bad input (unreadable stem, rate mismatch, channel clash, missing
    device), for a loop whose first ping fails, for a stereo loop whose sides differ by
    more than its tolerance (found by a quick ping of every loop before anything plays; skipped
    when ``known_sides`` (loop -> its sides as stored in latency.toml for this interface) already
    holds every such loop within its tolerance: the pass's own pings check them again),
    and when ``cancel`` is set while the pass
    streams (nothing is written then, not even a BAD file). Problems found
    after the stems have played (xruns, latency moved, clipping, a failed second ping) do
    not raise: they come back in the result, the pass is not good and no file takes a
    wanted name.
    """
    options.check()
    if not jobs:
        raise HybridError("nothing to print: no jobs in the pass")
    _check_channels(jobs)
    sends: list[Send] = []
    try:
        for job in jobs:
            sends.append(Send(Path(job.stem), [ch - 1 for ch in job.out_channels], ms=job.ms).open())
            if sends[-1].channels != len(job.out_channels):
                raise HybridError(f"the stem has {sends[-1].channels} channel(s) but the loop has "
                                  f"{len(job.out_channels)} (give one out and one in channel per stem channel, "
                                  f"e.g. --out 3,4 --in 3,4)", where=str(job.stem))
        routes: list[PingRoute] = []
        returns: list[Return] = []
        for job, send in zip(jobs, sends, strict=True):
            first = len(routes)
            routes += [PingRoute((o,), (i,), label=job.label)
                       for o, i in zip(job.out_channels, job.in_channels, strict=True)]
            returns.append(Return(job=job, routes=list(range(first, len(routes))), frames=send.frames,
                                  bext=read_bext(job.stem), reference=[send], ms=job.ms))
        return run_pass(sends, returns, routes, settings, options, ping, on_progress, cancel, known_sides)
    finally:
        for s in sends:
            if s.file is not None:
                s.file.close()


PASS_RETRIES = 2
"""A mix or master pass spoilt only by xruns between its pings (or its first ping's tail) is
played again up to this often before the next pass (:func:`again_if_spoilt`)."""


def again_if_spoilt(run: Callable[[PrintOptions], PassResult], options: PrintOptions,
                    retries: int = PASS_RETRIES) -> PassResult:
    """``run(options)``, again when xruns between the pings or the first ping's tail are all that
    spoilt it (a busy machine drops a period now and then), leaving the gap a tail was measured
    to need. One pass at a time: a long run of passes (a mix's variants, an album's masters)
    does not have to come through clean all at once."""
    for attempt in range(retries + 1):
        result = run(options)
        problems = [*result.problems, *(p for f in result.files for p in f.problems)]
        if result.good or attempt == retries or not only(problems, XRUNS, PING_TAIL):
            return result
        gap = max([options.ping_gap_s] + [f.ping_tail_s or 0.0 for f in result.files])
        if gap > options.ping_gap_s:
            options = replace(options, ping_gap_s=gap)
    return result


def _check_channels(jobs: Sequence[PrintJob]) -> None:
    seen_out: dict[int, str] = {}
    seen_in: dict[int, str] = {}
    outputs: dict[Path, str] = {}
    stems = {Path(j.stem).resolve() for j in jobs}
    for job in jobs:
        if len(job.out_channels) != len(job.in_channels) or not job.out_channels:
            raise HybridError(f"needs one input per output channel, got out {list(job.out_channels)} "
                              f"in {list(job.in_channels)}", where=job.label)
        if job.ms and len(job.out_channels) != 2:
            raise HybridError(f"M/S needs a stereo loop (two sides), got {len(job.out_channels)} channel(s)",
                              where=job.label)
        for ch in (*job.out_channels, *job.in_channels):
            if not isinstance(ch, int) or ch < 1:
                raise HybridError(f"channels are numbered from 1, got {ch!r}", where=job.label)
        for table, chans, side in ((seen_out, job.out_channels, "output"), (seen_in, job.in_channels, "input")):
            for ch in chans:
                if ch in table:
                    raise HybridError(f"{side} channel {ch} is used twice in one pass "
                                      f"({table[ch]} and {job.label}); plan them into separate passes",
                                      where=job.label)
                table[ch] = job.label
        out = Path(job.output).resolve()
        if out in outputs:
            raise HybridError(f"two jobs write the same file ({outputs[out]} and {job.label})",
                              where=str(job.output))
        if out in stems:
            raise HybridError("the print would overwrite a stem of this pass", where=str(job.output))
        outputs[out] = job.label
        if not out.parent.is_dir():
            raise HybridError("the output folder does not exist", where=str(job.output))


def check_sides(job: PrintJob, results: Sequence[LatencyResult]) -> str | None:
    """Why ``job``'s sides differ by more than its loop allows (None when they agree or it has one side)."""
    tol = job.sides
    if tol is None or len(results) < 2:
        return None
    lat = [r.latency_samples for r in results]
    gains = [r.gain_db for r in results]
    skew = max(lat) - min(lat)
    if skew > tol.max_skew_samples:
        return (f"the sides differ by {skew:.3f} samples of latency ({', '.join(f'{x:.3f}' for x in lat)}; "
                f"tolerance {tol.max_skew_samples:g}): a side patched through other gear or another converter?")
    spread = max(gains) - min(gains)
    if tol.check_gain and spread > tol.max_gain_diff_db:
        return (f"the sides differ by {spread:.2f} dB of gain ({', '.join(f'{g:+.2f}' for g in gains)} dB; "
                f"tolerance {tol.max_gain_diff_db:g} dB): a side's level or a cable?")
    return None


def _known_within(job: PrintJob, known: dict) -> bool:
    """The loop's sides as stored (latency.toml) are all there and within its tolerance."""
    sides = known.get(job.loop or "")
    return bool(sides) and len(sides) == len(job.in_channels) and check_sides(job, sides) is None


def preflight(returns: Sequence[Return], routes: Sequence[PingRoute], device, rate: int, blocksize: int,
              ping: PingSettings) -> None:
    """Ping every route of the pass in one quick stream before anything plays; refuse an
    open loop or a multi-channel loop whose sides differ by more than its tolerance."""
    from hybrid.live.audio.ping import measure_loops

    results = measure_loops(device.index, routes, rate, blocksize, rescan=False, level_dbfs=ping.level_dbfs,
                            sweep_s=ping.sweep_s, preroll_s=ping.preroll_s, capture_s=ping.capture_s,
                            slot_s=ping.slot_s, max_uncertainty_samples=ping.max_uncertainty_samples)
    for ret in returns:
        per = [r for k in sorted(set(ret.routes)) for r in results[k]]
        why = check_sides(ret.job, per)
        if why:
            where = ret.job.sides.where if ret.job.sides and ret.job.sides.where else ret.job.label
            raise HybridError(f"{ret.job.label}: {why}; nothing was played", where=where)


def run_pass(sends: list[Send], returns: list[Return], routes: list[PingRoute], settings: InterfaceSettings,
             options: PrintOptions, ping: PingSettings, on_progress, cancel,
             known_sides: dict | None = None) -> PassResult:
    """One duplex stream: pings on every route, the sends from P, the returns recorded and delivered.

    The engine under :func:`print_pass` (one send and one return per job) and the summing
    and mastering passes (``hybrid.live.audio.mix``: many sends, one stereo return).
    """
    try:
        return _run_pass(sends, returns, routes, settings, options, ping, on_progress, cancel, known_sides or {})
    finally:
        for r in returns:
            if r.record is not None and not r.record.closed:
                r.record.close()
            if r.record_path is not None:
                r.record_path.unlink(missing_ok=True)


def _run_pass(sends: list[Send], returns: list[Return], routes: list[PingRoute], settings: InterfaceSettings,
              options: PrintOptions, ping: PingSettings, on_progress, cancel, known_sides: dict) -> PassResult:
    rates = {s.file.samplerate for s in sends}
    if len(rates) > 1:
        raise HybridError(f"stems of one pass must share a sample rate, got {sorted(rates)} Hz "
                          f"({', '.join(f'{s.path.name}: {s.file.samplerate}' for s in sends)})")
    stem_rate = rates.pop()
    rate = settings.samplerate or stem_rate
    if rate != stem_rate:
        raise HybridError(f"the stems are {stem_rate} Hz but the interface runs at {rate} Hz; "
                          f"print at the stems' rate (no resampling in a print)", where=str(sends[0].path))
    device = resolve_device(settings.device, settings.hostapi)
    sided = [r.job for r in returns if r.job.sides is not None]
    if sided and not all(_known_within(job, known_sides) for job in sided):
        preflight(returns, routes, device, rate, settings.blocksize, ping)

    probe = ping.signal(rate, len(routes))
    ping_outs, ping_sends = route_sends(probe, routes)
    ping_out_cols = [o - 1 for o in ping_outs]
    window = probe.frames
    # With a gap for a ping's tail, the same silence before the first ping: the last pass's closing
    # ping rings out too, and the floor the tail is judged against is heard clean.
    settle = int(round(max(options.settle_s, options.ping_gap_s) * rate))
    ping_a = settle
    start = ping_a + window + int(round(options.ping_gap_s * rate))   # P: stem frame 0 on the outputs
    longest = max(s.frames for s in sends)
    tail = int(round(options.tail_s * rate))
    # Ping B waits for the slowest return of the stems (up to the ping's capture window)
    # so that their tails never fall into its noise-floor silence.
    ping_b = start + longest + tail + probe.max_latency_samples
    total = ping_b + window + max(settings.blocksize, 256)

    out_count = max([ch + 1 for s in sends for ch in s.out_cols] + ping_outs)
    in_count = max(ch for r in returns for ch in r.job.in_channels)
    ping_ins = sorted({i for r in routes for i in r.ins})
    in_index = {i: k for k, i in enumerate(ping_ins)}
    ping_rx = {name: np.zeros((window, len(in_index)), dtype=np.float32) for name in ("before", "after")}
    clip_level = 10.0 ** (options.clip_level_dbfs / 20.0)

    for r in returns:
        scratch = r.job.output.with_name(r.job.output.name + ".rec.w64")
        clean_stale_temps(scratch)  # recordings of passes that were killed
        r.record_path = temp_name(scratch)
        r.record = sf.SoundFile(str(r.record_path), "w", samplerate=rate, channels=r.channels, format="W64",
                                subtype="FLOAT")
        r.in_cols = [ch - 1 for ch in r.job.in_channels]
        r.clipped = np.zeros(r.channels, dtype=np.int64)

    rx_cols = [i - 1 for i in ping_ins]
    produced = [0]

    def produce(block: np.ndarray) -> int:
        pos, n = produced[0], len(block)
        block[:] = 0.0
        for lo in (ping_a, ping_b):                           # the pings, every route in its slot
            a, b = max(pos, lo), min(pos + n, lo + window)
            if a < b:
                block[a - pos:b - pos, ping_out_cols] = ping_sends[a - lo:b - lo]
        a, b = max(pos, start), min(pos + n, start + longest)
        if a < b:
            for s in sends:
                want = min(b, start + s.frames) - a
                if want > 0:
                    got = s.file.read(want, dtype="float32", always_2d=True, out=s.buf[:want])
                    if s.ms:
                        got = ms_encode(got)
                    block[a - pos:a - pos + len(got), s.out_cols] += got
        produced[0] = pos + n
        return n

    def consume(pos: int, block: np.ndarray) -> None:
        n = len(block)
        for name, lo in (("before", ping_a), ("after", ping_b)):
            a, b = max(pos, lo), min(pos + n, lo + window)
            if a < b:
                ping_rx[name][a - lo:b - lo] = block[a - pos:b - pos][:, rx_cols]
        for r in returns:
            part = block[:, r.in_cols]
            r.record.write(part)
            r.clipped += (np.abs(part) >= clip_level).sum(axis=0)

    latencies = [[ChannelLatency(route.outs[0], i) for i in route.ins] for route in routes]

    def _estimate(slot: int, received: np.ndarray):
        return estimate(probe.sent_for(slot), received, rate, max_latency_samples=probe.max_latency_samples,
                        min_snr_db=ping.min_snr_db, max_uncertainty_samples=ping.max_uncertainty_samples)

    def check_before() -> None:
        # Runs in the worker while audio streams: only a cheap look (a full estimate holds
        # the interpreter for tens of milliseconds and would cost the callbacks an xrun).
        # Nothing back within 60 dB of the send means a pulled or unpatched loop: stop now.
        for route in routes:
            sent_peak = float(np.max(np.abs(probe.sent))) / len(route.outs)
            for i in route.ins:
                back = float(np.max(np.abs(ping_rx["before"][:, in_index[i]])))
                if back < sent_peak * 1e-3:
                    level = f"{20 * np.log10(back):.1f} dBFS" if back > 0 else "digital silence"
                    raise HybridError(f"the ping before the pass failed: no return on input {i} ({level}); "
                                      f"the loop is open or not patched", where=f"{route.where} on {device.name}")

    run = DuplexRun(device, samplerate=rate, blocksize=settings.blocksize, out_channels=out_count,
                    in_channels=in_count, total_frames=total, produce=produce, consume=consume,
                    on_progress=on_progress, progress_interval_s=options.progress_interval_s,
                    checkpoints=[(start, check_before)], cancel=cancel)
    stats = run.run()
    for r in returns:
        r.record.close()

    for slot, route in enumerate(routes):
        for lat, i in zip(latencies[slot], route.ins, strict=True):
            try:
                lat.before = _estimate(slot, ping_rx["before"][:, in_index[i]])
            except HybridError as exc:
                xruns = f" ({stats.xruns} xrun(s) in the pass)" if stats.xruns else ""
                raise HybridError(f"the ping before the pass failed: {exc.reason}{xruns}",
                                  where=f"{route.where} on {device.name}") from exc

    pass_problems: list[str] = []
    notes: list[str] = []
    span_end = ping_b + window                                # the last ping's capture ends here
    inside = stats.xruns_within(ping_a, span_end)
    if inside:
        pass_problems.append(Problem(XRUNS, f"xruns in {inside} period(s) between the pings, "
                                            f"{stats.xrun_callbacks} in the pass ({_xrun_text(stats)})"))
    elif stats.xruns:
        where = ", ".join(f"{p / rate:.2f} s" for p in stats.xrun_frames[:8])
        notes.append(f"xruns in {stats.xrun_callbacks} period(s) outside the pings (at {where}; the pings span "
                     f"{ping_a / rate:.2f}-{span_end / rate:.2f} s): the printed audio is not affected")
    if stats.clock_slips:
        notes.append(f"the simulated room's clock slipped {stats.clock_slips} time(s) (a late cycle, waited "
                     f"for: no audio lost; the pings before and after the pass agree or it is refused)")
    for slot, route in enumerate(routes):
        for lat, i in zip(latencies[slot], route.ins, strict=True):
            try:
                lat.after = _estimate(slot, ping_rx["after"][:, in_index[i]])
            except HybridError as exc:
                lat.after = None
                lat.problem = f"the ping after the pass failed: {exc.reason}"

    tail_from = ping_a + probe.stop + (probe.slots - 1) * probe.slot_frames   # the last sweep has ended
    files = [_deliver(r, _return_latencies(r, routes, latencies), options, rate, start, stats, pass_problems,
                      on_progress, tail=((0, ping_a + probe.start), tail_from)) for r in returns]
    good = not pass_problems and all(f.good for f in files)
    return PassResult(good=good, files=files, stats=stats, device=device.name, samplerate=rate,
                      blocksize=settings.blocksize, problems=pass_problems, notes=notes)


def _return_latencies(ret: Return, routes: list[PingRoute], latencies: list[list[ChannelLatency]]):
    """The ChannelLatency of each of ``ret``'s input channels, from the route that times it."""
    out = []
    for k, ch in enumerate(ret.job.in_channels):
        slot = ret.routes[k]
        out.append(latencies[slot][list(routes[slot].ins).index(ch)])
    return out


def ms_encode(x: np.ndarray) -> np.ndarray:
    """Left/right to mid/side: M = (L + R) / 2, S = (L - R) / 2 (so a loop at unity peaks no higher)."""
    return np.stack([(x[:, 0] + x[:, 1]) * 0.5, (x[:, 0] - x[:, 1]) * 0.5], axis=1).astype(np.float32)


def ms_decode(x: np.ndarray) -> np.ndarray:
    """Mid/side back to left/right: L = M + S, R = M - S (the inverse of :func:`ms_encode`)."""
    return np.stack([x[:, 0] + x[:, 1], x[:, 0] - x[:, 1]], axis=1).astype(np.float32)


def _xrun_text(stats: StreamStats) -> str:
    parts = [f"{v} {k.replace('_', ' ')}" for k, v in stats.to_dict().items()
             if k not in ("xruns", "callbacks", "xrun_frames") and v]
    return ", ".join(parts)


def _latency_problems(lat: ChannelLatency, tol: float) -> list[str]:
    where = f"out {lat.out_channel} -> in {lat.in_channel}"
    if lat.problem:
        return [Problem(PING_FAILED, f"{where}: {lat.problem}")]
    out = []
    change = lat.change_samples
    if change is not None and abs(change) > tol:
        out.append(Problem(LATENCY_MOVED, f"{where}: latency moved from {lat.before.latency_samples:.3f} to "
                                          f"{lat.after.latency_samples:.3f} samples during the pass ({change:+.3f}; "
                                          f"tolerance ±{tol:g}): drift, a dropout or a re-clocked interface"))
    if lat.before.polarity != lat.after.polarity:
        out.append(Problem(POLARITY_FLIPPED, f"{where}: polarity flipped during the pass "
                                             f"({lat.before.polarity:+d} -> {lat.after.polarity:+d})"))
    return out


PING_TAIL_OVER_FLOOR_DB = 6.0
"""A return louder than its noise floor by this much just before the stems arrive still rings ..."""
PING_TAIL_BELOW_PING_DB = 60.0
"""... unless it is this far below the ping's own return (a reverb's RT60: gone for the ear) ..."""
PING_TAIL_MIN_DBFS = -100.0
"""... or quieter than this (a digitally silent loop has no floor to compare with)."""
_TAIL_BLOCK_S = 0.01
_TAIL_LAST_S = 0.02
_TAIL_GUARD_S = 0.002
_TAIL_FIT_BLOCKS = 10
FIRST_GAP_S = 1.0
"""The gap to try when the tail seen was too short to fit its decay (the next pass measures it)."""
MAX_PING_GAP_S = 10.0


def ping_tail(read: Callable[[int, int], np.ndarray], latency_samples: float, ping_span: tuple[int, int],
              tail_from: int, start: int, rate: int) -> tuple[float, float, float] | None:
    """``(tail dBFS, limit dBFS, more gap needed in s)`` when the first ping still rings in the
    return where the stems arrive (``start`` + latency), else None.

    Stream frames, shifted by the latency here: ``ping_span`` is the ping's window up to its
    sweep (the silence before it: the floor is its quietest 10 ms); ``tail_from`` the last
    sweep's end. The tail's last 20 ms must be no louder than the floor + 6 dB, or 60 dB under
    the sweep's return, or -100 dBFS. A floor that is itself dying away (the loop still rang
    from what went through it before: a reverb just after a print) is no floor: then only the
    last two count. The gap needed on top of the one there follows the tail's decay (dB per
    second over 10 ms blocks, a Theil-Sen line) down to that limit, half as long again; with
    too little tail to fit a decay, :data:`FIRST_GAP_S`.
    """
    lat = int(round(latency_samples))
    block = max(1, int(_TAIL_BLOCK_S * rate))

    def db(x: np.ndarray) -> float:
        rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0
        return 20.0 * np.log10(rms) if rms > 0 else -240.0

    def blocks(x: np.ndarray) -> list[float]:
        return [db(x[i:i + block]) for i in range(0, len(x) - block + 1, block)] or [db(x)]

    ping_db = db(read(ping_span[1] + lat, tail_from - ping_span[1]))
    # The tail stops short of the stems' arrival by a guard: an interpolating delay's filter
    # (the gear's converters, a fractional delay) rings a few samples ahead of a loud first note.
    tail = read(tail_from + lat, max(0, start - tail_from - int(_TAIL_GUARD_S * rate)))
    last_db = db(tail[-max(1, int(_TAIL_LAST_S * rate)):])
    levels = np.asarray(blocks(tail))
    half = len(levels) // 2          # the later half: past the reverb's build-up
    slope, fitted_end_db = _decay(levels[half:]) if len(levels) >= _TAIL_FIT_BLOCKS else (0.0, last_db)
    before = np.asarray(blocks(read(lat, ping_span[1])))
    floor_db = float(before.min())
    fit_blocks = int(round(FLOOR_FIT_S / _TAIL_BLOCK_S))
    if len(before) >= fit_blocks and _decay(before[-fit_blocks:])[0] < -_FLOOR_DECAY_DB_PER_S:
        # still ringing from before, up to the ping: that is no floor. If the tail has settled
        # (a hissing loop's tail dies into its hiss), what it settled on is; else it is not known.
        settled = len(levels) >= _TAIL_FIT_BLOCKS and slope > -_SETTLED_DB_PER_S
        floor_db = float(levels[half:].min()) if settled else -240.0
    limit_db = max(floor_db + PING_TAIL_OVER_FLOOR_DB, ping_db - PING_TAIL_BELOW_PING_DB, PING_TAIL_MIN_DBFS)
    if last_db <= limit_db:
        return None
    # where the decay has got to by the tail's end: a dropout in the last 20 ms reads quieter
    end_db = max(last_db, fitted_end_db)
    more = (end_db - limit_db) / -slope * 1.5 if slope < -1.0 else FIRST_GAP_S
    return last_db, limit_db, float(min(MAX_PING_GAP_S, max(0.25, more)))


_FLOOR_DECAY_DB_PER_S = 20.0
"""A floor falling faster than this is a tail from before (a reverb of RT60 3 s or shorter; white
noise's 10 ms levels give a few dB/s over 0.2 s, a crackle or hum a few more) ..."""
_SETTLED_DB_PER_S = 5.0
"""A tail whose later half falls slower than this has settled on the loop's floor (a hall of
RT60 12 s falls at 5 dB/s)."""
FLOOR_FIT_S = 0.2
"""... over the last this long before the ping (a tail that died away earlier leaves a floor);
with less silence before the ping than this, its quietest 10 ms is the floor."""


def _decay(levels_db: np.ndarray) -> tuple[float, float]:
    """``(dB per second, dB at the last block)`` of a line through 10 ms block levels, Theil-Sen
    (the median of the pairs' slopes), not least squares: a period lost under load (a block at
    -240 dB) would bend a least-squares line steeply down and ask for far too short a gap."""
    if len(levels_db) < 2:
        return 0.0, float(levels_db[-1]) if len(levels_db) else -240.0
    from scipy.stats import theilslopes

    t = np.arange(len(levels_db)) * _TAIL_BLOCK_S
    fit = theilslopes(levels_db, t)
    return float(fit.slope), float(fit.intercept + fit.slope * t[-1])


def _deliver(r: Return, chans: list[ChannelLatency], options: PrintOptions, rate: int, start: int,
             stats: StreamStats, pass_problems: list[str], on_progress,
             tail: tuple[tuple[int, int], int] | None = None) -> PrintedFile:
    job = r.job
    problems: list[str] = []
    for lat in chans:
        moved = _latency_problems(lat, options.latency_tolerance_samples)
        problems += moved
        # Both pings agree: their mean is the best estimate. Otherwise the one before the stems.
        after = lat.after if lat.after is not None and not moved else None
        lat.applied_samples = (float(lat.before.latency_samples) if after is None
                               else (float(lat.before.latency_samples) + float(after.latency_samples)) / 2)
        lat.polarity = int(lat.before.polarity)
        lat.gain_db = float(lat.before.gain_db) if after is None else (float(lat.before.gain_db)
                                                                       + float(after.gain_db)) / 2
    differ = check_sides(job, [lat.before for lat in chans]) if job.sides is not None else None
    if differ:
        problems.append(Problem(SIDES_DIFFER, differ))
    if options.balance_sides and job.sides is not None and job.sides.check_gain and not r.ms and len(chans) > 1:
        # A stereo unit's sides differ by their wiring and converters, not by intent: each side is
        # brought to the sides' mean gain, so the image sits where the gear put it. (M/S sides
        # differ on purpose; a summing bus's sides by the pans: neither is balanced.)
        mean_db = sum(lat.gain_db for lat in chans) / len(chans)
        for lat in chans:
            lat.gain_correction_db = mean_db - lat.gain_db
    clipped = [int(c) for c in r.clipped]
    if sum(clipped) and not options.allow_clipping:
        problems.append(Problem(CLIPPED, f"the return clipped ({sum(clipped)} samples at or above "
                                         f"{options.clip_level_dbfs:g} dBFS): lower the send or the gear's output"))
    frames = r.frames + (int(round(options.tail_s * rate)) if options.keep_tail else 0)
    clean_stale_temps(job.output)
    tmp = temp_name(job.output)
    reader = sf.SoundFile(r.record_path)
    refs = [sf.SoundFile(s.path) for s in r.reference]
    try:
        readers = [_column_reader(reader, k) for k in range(r.channels)]
        tail_s = None
        # Xruns between the pings move audio about in the recording (a period lost or repeated):
        # the pass is bad for them already, and a tail seen then is no measure of the gear.
        judged = tail is not None and not any(code_of(p) == XRUNS for p in pass_problems)
        for k, lat in enumerate(chans if judged else ()):
            rings = ping_tail(readers[k], lat.applied_samples, tail[0], tail[1], start, rate)
            if rings is not None:
                level, limit, more = rings
                tail_s = max(tail_s or 0.0, options.ping_gap_s + more)
                problems.append(Problem(PING_TAIL, f"in {lat.in_channel}: the first ping's tail still rings where "
                                                   f"the stems start ({level:.1f} dBFS, over {limit:.1f} dBFS): "
                                                   f"leave {options.ping_gap_s + more:.2f} s after the ping"))
        aligners = [ChannelAligner(readers[k], start + lat.applied_samples,
                                   whole_samples=options.whole_samples,
                                   polarity=lat.polarity if options.correct_polarity else 1)
                    for k, lat in enumerate(chans)]
        detectors = [DropoutDetector(k, rate) for k in range(r.channels)]
        gains = [float(10.0 ** (lat.gain_correction_db / 20.0)) for lat in chans]
        out = np.zeros((_BLOCK, r.channels), dtype=np.float32)
        ref_frames = max(s.frames for s in r.reference)
        with WavWriter(tmp, rate, r.channels, options.fmt, bext=r.bext) as writer:
            for pos in range(0, frames, _BLOCK):
                n = min(_BLOCK, frames - pos)
                for k, aligner in enumerate(aligners):
                    out[:n, k] = aligner.block(pos, n)
                    if gains[k] != 1.0:
                        out[:n, k] *= gains[k]
                writer.write(ms_decode(out[:n]) if r.ms else out[:n])
                if pos < ref_frames:      # dropouts: only where the sends play
                    m = min(n, ref_frames - pos)
                    sent = _reference_block(refs, r, m)
                    for k, (det, aligner) in enumerate(zip(detectors, aligners, strict=False)):
                        det.feed(sent[:, k], readers[k](aligner.whole + pos, m))
                if on_progress is not None:
                    on_progress(Progress(pos + n, frames, rate, [], [], stats.xruns, stage="aligning"))
        levels = writer.levels()
        over = sum(levels.clipped_samples) if options.fmt == "pcm24" else 0
        if over and not options.allow_clipping:
            problems.append(Problem(OVER_FULL_SCALE, f"the aligned print passes full scale ({over} samples clipped "
                                                     f"in 24-bit, peak {levels.file_peak_dbfs:+.2f} dBFS): print to "
                                                     f"float32 or lower the return"))
        for det in detectors:
            problems += [Problem(DROPOUT, d.describe(rate)) for d in det.finish()[:5]]
        good = not problems and not pass_problems
        final = job.output if good else _bad_name(job.output)
        commit(tmp, final)
        if good:  # a BAD file left by an earlier attempt no longer describes this stem
            _bad_name(job.output).unlink(missing_ok=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        reader.close()
        for f in refs:
            f.close()
    return PrintedFile(job=job, good=good, path=final, frames=frames, samplerate=rate, fmt=options.fmt,
                       channels=chans, levels=levels, return_clipped_samples=clipped,
                       time_reference=None if r.bext is None else r.bext.time_reference,
                       problems=problems + pass_problems, ping_tail_s=tail_s)


def _reference_block(refs: list[sf.SoundFile], r: Return, m: int) -> np.ndarray:
    """The next ``m`` frames of what ``r`` should carry, per channel: the send itself (M/S
    encoded when the loop is), or for many sends into one return their summed magnitude."""
    if r.per_channel:
        got = refs[0].read(m, dtype="float32", always_2d=True)
        got = ms_encode(got) if r.ms else got
        return np.pad(got, ((0, m - len(got)), (0, 0)))
    total = np.zeros(m, dtype=np.float32)
    for f in refs:
        got = f.read(m, dtype="float32", always_2d=True)
        total[:len(got)] += np.abs(got).sum(axis=1)
    return np.repeat(total[:, None], r.channels, axis=1)


def _column_reader(f: sf.SoundFile, column: int) -> Callable[[int, int], np.ndarray]:
    """``read(start, count)`` of one channel of a recording, zeros outside it."""
    total = f.frames

    def read(start: int, count: int) -> np.ndarray:
        out = np.zeros(count, dtype=np.float32)
        lo, hi = max(start, 0), min(start + count, total)
        if hi > lo:
            f.seek(lo)
            data = f.read(hi - lo, dtype="float32", always_2d=True)
            out[lo - start:hi - start] = data[:, column]
        return out

    return read


def _bad_name(path: Path) -> Path:
    """``Kick.wav`` -> ``Kick.BAD.wav``: beside the wanted file, never mistaken for it."""
    return path.with_name(f"{path.stem}{BAD_SUFFIX}{path.suffix or '.wav'}")
