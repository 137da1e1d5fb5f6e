"""Print passes: stems out through their analog loops at once, returns back, aligned to the sample fraction.

One pass is one duplex stream whose timeline is::

    | settle | ping (silence, sweep, capture) |  stems (longest N)  | tail | guard | ping (...) |
                                              ^ P: stem frame 0 leaves the outputs here

Every loop of the pass gets the ping at the same time, before and after the stems, in the
same stream as the print. Why in-stream rather than a separate measurement stream: the
latency we correct by is then the latency of *this* stream (some host APIs land on a
different buffer latency each time a stream opens), every loop is measured at once, and a
change between the two pings (clock drift, a dropout, a re-clocked interface, a patch
pulled mid-pass) is caught for exactly the audio we deliver. While audio streams the
process only copies (the callback) and reads/writes disk (the worker): the pings are
estimated after the stream stops, because a full estimate holds the interpreter long
enough to cost the callback its deadline. During the stream the ping before the stems
gets only a cheap look (did anything come back?), so an open loop still stops the pass
before the stems have played.

Each return is recorded to a temp file, then aligned: print[n] = return(P + latency + n),
fraction included (``hybrid.live.audio.align``), polarity corrected, exactly the stem's length
(or plus the tail when asked), written to a temp WAV carrying the stem's BWF ``bext`` and
renamed into place only when the pass is good. A bad pass (xruns, latency moved, clipped
return, a dropout in a return (``hybrid.live.audio.checks``), failed ping) leaves its file as ``NAME.BAD.wav`` beside the wanted one, never under
the good name; an earlier good file there is left alone. Every problem is a typed
``hybrid.errors.Problem`` (a code and a text).

Xruns spoil a pass only inside the span that matters: from the first ping to the end of
the last ping's capture (the stems and their tails lie between). The stream records where
each xrun fell; those before the first ping (the stream starting) or after the last (the
stream stopping) are reported in ``PassResult.notes`` and leave the pass good.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Sequence

import numpy as np
import soundfile as sf

from hybrid.live.audio.align import ChannelAligner
from hybrid.live.audio.checks import DropoutDetector
from hybrid.live.audio.ping import estimate
from hybrid.live.audio.signals import ping_signal
from hybrid.live.audio.interface import InterfaceSettings, resolve_device
from hybrid.live.audio.stream import DuplexRun, Progress, StreamStats
from hybrid.live.audio.wavio import FORMATS, Bext, Levels, WavWriter, read_bext
from hybrid.errors import (CLIPPED, DROPOUT, LATENCY_MOVED, OVER_FULL_SCALE, PING_FAILED, POLARITY_FLIPPED,
                           XRUNS, HybridError, Problem)
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

    @property
    def label(self) -> str:
        return self.loop or f"out {','.join(map(str, self.out_channels))} -> in {','.join(map(str, self.in_channels))}"

    def to_dict(self) -> dict:
        return {"stem": str(self.stem), "output": str(self.output), "out": list(self.out_channels),
                "in": list(self.in_channels), "loop": self.loop, "chain": list(self.chain)}


@dataclass(frozen=True)
class PrintOptions:
    """How to print. Times in seconds, tolerances in samples."""

    fmt: str = "pcm24"                          # "pcm24" | "float32"
    whole_samples: bool = False                 # align to the nearest sample only (like a DAW insert)
    correct_polarity: bool = True
    keep_tail: bool = False                     # keep the post-roll tail instead of trimming to the stem
    settle_s: float = 0.1                       # silence before the first ping (stream start)
    tail_s: float = 1.0                         # post-roll after the longest stem, for reverbs and delays
    latency_tolerance_samples: float = 0.1      # allowed change between the pings
    clip_level_dbfs: float = -0.01              # a return sample at or above this counts as clipped
    allow_clipping: bool = False                # deliver a pass whose returns clipped
    progress_interval_s: float = 0.1

    def check(self) -> None:
        if self.fmt not in FORMATS:
            raise HybridError(f"format {self.fmt!r}: expected one of {', '.join(FORMATS)}")
        for name in ("settle_s", "tail_s"):
            if getattr(self, name) < 0:
                raise HybridError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.latency_tolerance_samples <= 0:
            raise HybridError(f"latency tolerance must be positive, got {self.latency_tolerance_samples}")


@dataclass(frozen=True)
class PingSettings:
    """The ping a pass embeds before and after the stems (``hybrid.live.audio.ping``'s sweep).

    ``capture_s`` bounds the longest round trip that can be measured (and so printed).
    """

    sweep_s: float = 0.5
    level_dbfs: float = -12.0
    preroll_s: float = 0.1
    capture_s: float = 0.35
    min_snr_db: float = 20.0

    def signal(self, samplerate: int):
        return ping_signal(samplerate, sweep_s=self.sweep_s, level_dbfs=self.level_dbfs,
                           preroll_s=self.preroll_s, capture_s=self.capture_s)


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
                "gain_db": None if self.gain_db is None else round(self.gain_db, 2)}


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

    def to_dict(self) -> dict:
        return {"stem": str(self.job.stem), "output": str(self.job.output), "loop": self.job.label,
                "good": self.good, "path": None if self.path is None else str(self.path),
                "frames": self.frames, "samplerate": self.samplerate, "format": self.fmt,
                "time_reference": self.time_reference,
                "latency": [c.to_dict() for c in self.channels],
                "levels": None if self.levels is None else self.levels.to_dict(),
                "return_clipped_samples": sum(self.return_clipped_samples),
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
class _Stem:
    job: PrintJob
    file: sf.SoundFile
    frames: int
    channels: int
    bext: Bext | None
    buf: np.ndarray
    record_path: Path | None = None
    record: sf.SoundFile | None = None
    in_cols: list[int] = field(default_factory=list)
    clipped: np.ndarray | None = None


def print_pass(jobs: Sequence[PrintJob], settings: InterfaceSettings, options: PrintOptions = PrintOptions(),
               *, ping: PingSettings = PingSettings(),
               on_progress: Callable[[Progress], None] | None = None,
               cancel: threading.Event | None = None) -> PassResult:
    """Print ``jobs`` in one pass through ``settings.device``; every loop runs at once.

    Raises HybridError for bad input (unreadable stem, rate mismatch, channel clash, missing
    device), for a loop whose first ping fails, and when ``cancel`` is set while the pass
    streams (nothing is written then, not even a BAD file). Problems found
    after the stems have played (xruns, latency moved, clipping, a failed second ping) do
    not raise: they come back in the result, the pass is not good and no file takes a
    wanted name.
    """
    options.check()
    if not jobs:
        raise HybridError("nothing to print: no jobs in the pass")
    _check_channels(jobs)
    stems = [_open_stem(job) for job in jobs]
    try:
        return _run_pass(stems, settings, options, ping, on_progress, cancel)
    finally:
        for s in stems:
            s.file.close()
            if s.record is not None and not s.record.closed:
                s.record.close()
            if s.record_path is not None:
                s.record_path.unlink(missing_ok=True)


def _check_channels(jobs: Sequence[PrintJob]) -> None:
    seen_out: dict[int, str] = {}
    seen_in: dict[int, str] = {}
    outputs: dict[Path, str] = {}
    stems = {Path(j.stem).resolve() for j in jobs}
    for job in jobs:
        if len(job.out_channels) != len(job.in_channels) or not job.out_channels:
            raise HybridError(f"needs one input per output channel, got out {list(job.out_channels)} "
                              f"in {list(job.in_channels)}", where=job.label)
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


def _open_stem(job: PrintJob) -> _Stem:
    regular_file(job.stem)
    try:
        f = sf.SoundFile(job.stem)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise HybridError(f"cannot read as audio: {exc}", where=str(job.stem)) from exc
    if f.frames <= 0:
        f.close()
        raise HybridError("the stem is empty (no frames)", where=str(job.stem))
    if f.channels != len(job.out_channels):
        f.close()
        raise HybridError(f"the stem has {f.channels} channel(s) but the loop has {len(job.out_channels)} "
                          f"(give one out and one in channel per stem channel, e.g. --out 3,4 --in 3,4)",
                          where=str(job.stem))
    return _Stem(job=job, file=f, frames=f.frames, channels=f.channels, bext=read_bext(job.stem),
                 buf=np.zeros((_BLOCK, f.channels), dtype=np.float32))


def _run_pass(stems: list[_Stem], settings: InterfaceSettings, options: PrintOptions, ping: PingSettings,
              on_progress, cancel) -> PassResult:
    rates = {s.file.samplerate for s in stems}
    if len(rates) > 1:
        raise HybridError(f"stems of one pass must share a sample rate, got {sorted(rates)} Hz "
                          f"({', '.join(f'{s.job.stem.name}: {s.file.samplerate}' for s in stems)})")
    stem_rate = rates.pop()
    rate = settings.samplerate or stem_rate
    if rate != stem_rate:
        raise HybridError(f"the stems are {stem_rate} Hz but the interface runs at {rate} Hz; "
                          f"print at the stems' rate (no resampling in a print)", where=str(stems[0].job.stem))
    device = resolve_device(settings.device, settings.hostapi)

    probe = ping.signal(rate)
    sig = probe.sent                                          # silence, sweep, capture silence
    window = len(sig)
    settle = int(round(options.settle_s * rate))
    ping_a = settle
    start = ping_a + window                                   # P: stem frame 0 on the outputs
    longest = max(s.frames for s in stems)
    tail = int(round(options.tail_s * rate))
    # Ping B waits for the slowest return of the stems (up to the ping's capture window)
    # so that their tails never fall into its noise-floor silence.
    ping_b = start + longest + tail + probe.max_latency_samples
    total = ping_b + window + max(settings.blocksize, 256)

    out_count = max(ch for s in stems for ch in s.job.out_channels)
    in_count = max(ch for s in stems for ch in s.job.in_channels)
    pairs = [(o, i) for s in stems for o, i in zip(s.job.out_channels, s.job.in_channels, strict=False)]
    in_index = {i: k for k, i in enumerate(sorted({i for _, i in pairs}))}
    ping_rx = {name: np.zeros((window, len(in_index)), dtype=np.float32) for name in ("before", "after")}
    clip_level = 10.0 ** (options.clip_level_dbfs / 20.0)

    for s in stems:
        scratch = s.job.output.with_name(s.job.output.name + ".rec.w64")
        clean_stale_temps(scratch)  # recordings of passes that were killed
        s.record_path = temp_name(scratch)
        s.record = sf.SoundFile(str(s.record_path), "w", samplerate=rate, channels=s.channels, format="W64", subtype="FLOAT")
        s.in_cols = [ch - 1 for ch in s.job.in_channels]
        s.clipped = np.zeros(s.channels, dtype=np.int64)

    out_cols = [[ch - 1 for ch in s.job.out_channels] for s in stems]
    in_cols_pairs = [in_index[i] for _, i in pairs]
    rx_cols = [i - 1 for i in sorted(in_index)]
    out_cols_pairs = [o - 1 for o, _ in pairs]
    produced = [0]

    def produce(block: np.ndarray) -> int:
        pos, n = produced[0], len(block)
        block[:] = 0.0
        for lo in (ping_a, ping_b):                           # the pings, on every loop at once
            a, b = max(pos, lo), min(pos + n, lo + len(sig))
            if a < b:
                block[a - pos:b - pos, out_cols_pairs] = sig[a - lo:b - lo, None]
        a, b = max(pos, start), min(pos + n, start + longest)
        if a < b:
            for s, cols in zip(stems, out_cols, strict=False):
                want = min(b, start + s.frames) - a
                if want > 0:
                    got = s.file.read(want, dtype="float32", always_2d=True, out=s.buf[:want])
                    block[a - pos:a - pos + len(got), cols] = got
        produced[0] = pos + n
        return n

    def consume(pos: int, block: np.ndarray) -> None:
        n = len(block)
        for name, lo in (("before", ping_a), ("after", ping_b)):
            a, b = max(pos, lo), min(pos + n, lo + window)
            if a < b:
                ping_rx[name][a - lo:b - lo] = block[a - pos:b - pos][:, rx_cols]
        for s in stems:
            part = block[:, s.in_cols]
            s.record.write(part)
            s.clipped += (np.abs(part) >= clip_level).sum(axis=0)

    latencies = {pair: ChannelLatency(pair[0], pair[1]) for pair in pairs}

    def _estimate(received: np.ndarray):
        return estimate(sig, received, rate, max_latency_samples=probe.max_latency_samples,
                        min_snr_db=ping.min_snr_db)

    sent_peak = float(np.max(np.abs(sig)))

    def check_before() -> None:
        # Runs in the worker while audio streams: only a cheap look (a full estimate holds
        # the interpreter for tens of milliseconds and would cost the callbacks an xrun).
        # Nothing back within 60 dB of the send means a pulled or unpatched loop: stop now.
        for pair, col in zip(pairs, in_cols_pairs, strict=False):
            back = float(np.max(np.abs(ping_rx["before"][:, col])))
            if back < sent_peak * 1e-3:
                level = f"{20 * np.log10(back):.1f} dBFS" if back > 0 else "digital silence"
                raise HybridError(f"the ping before the pass failed: no return ({level}); "
                                  f"the loop is open or not patched",
                                  where=f"loop out {pair[0]} -> in {pair[1]} on {device.name}")

    run = DuplexRun(device, samplerate=rate, blocksize=settings.blocksize, out_channels=out_count,
                    in_channels=in_count, total_frames=total, produce=produce, consume=consume,
                    on_progress=on_progress, progress_interval_s=options.progress_interval_s,
                    checkpoints=[(start, check_before)], cancel=cancel)
    stats = run.run()
    for s in stems:
        s.record.close()

    for pair, col in zip(pairs, in_cols_pairs, strict=False):
        where = f"loop out {pair[0]} -> in {pair[1]} on {device.name}"
        try:
            latencies[pair].before = _estimate(ping_rx["before"][:, col])
        except HybridError as exc:
            xruns = f" ({stats.xruns} xrun(s) in the pass)" if stats.xruns else ""
            raise HybridError(f"the ping before the pass failed: {exc.reason}{xruns}", where=where) from exc

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
    for pair, col in zip(pairs, in_cols_pairs, strict=False):
        lat = latencies[pair]
        try:
            lat.after = _estimate(ping_rx["after"][:, col])
        except HybridError as exc:
            lat.after = None
            lat.problem = f"the ping after the pass failed: {exc.reason}"

    files = [_deliver(s, latencies, options, rate, start, stats, pass_problems, on_progress)
             for s in stems]
    good = not pass_problems and all(f.good for f in files)
    return PassResult(good=good, files=files, stats=stats, device=device.name, samplerate=rate,
                      blocksize=settings.blocksize, problems=pass_problems, notes=notes)


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


def _deliver(s: _Stem, latencies: dict, options: PrintOptions, rate: int, start: int, stats: StreamStats,
             pass_problems: list[str], on_progress) -> PrintedFile:
    job = s.job
    chans = [latencies[(o, i)] for o, i in zip(job.out_channels, job.in_channels, strict=False)]
    problems: list[str] = []
    for lat in chans:
        moved = _latency_problems(lat, options.latency_tolerance_samples)
        problems += moved
        # Both pings agree: their mean is the best estimate. Otherwise the one before the stems.
        after = lat.after if lat.after is not None and not moved else None
        lat.applied_samples = (float(lat.before.latency_samples) if after is None
                               else (float(lat.before.latency_samples) + float(after.latency_samples)) / 2)
        lat.polarity = int(lat.before.polarity)
        lat.gain_db = float(lat.before.gain_db)
    clipped = [int(c) for c in s.clipped]
    if sum(clipped) and not options.allow_clipping:
        problems.append(Problem(CLIPPED, f"the return clipped ({sum(clipped)} samples at or above "
                                         f"{options.clip_level_dbfs:g} dBFS): lower the send or the gear's output"))
    frames = s.frames + (int(round(options.tail_s * rate)) if options.keep_tail else 0)
    clean_stale_temps(job.output)
    tmp = temp_name(job.output)
    reader = sf.SoundFile(s.record_path)
    send = sf.SoundFile(job.stem)
    try:
        readers = [_column_reader(reader, k) for k in range(s.channels)]
        aligners = [ChannelAligner(readers[k], start + lat.applied_samples,
                                   whole_samples=options.whole_samples,
                                   polarity=lat.polarity if options.correct_polarity else 1)
                    for k, lat in enumerate(chans)]
        detectors = [DropoutDetector(k, rate) for k in range(s.channels)]
        out = np.zeros((_BLOCK, s.channels), dtype=np.float32)
        with WavWriter(tmp, rate, s.channels, options.fmt, bext=s.bext) as writer:
            for pos in range(0, frames, _BLOCK):
                n = min(_BLOCK, frames - pos)
                for k, aligner in enumerate(aligners):
                    out[:n, k] = aligner.block(pos, n)
                writer.write(out[:n])
                if pos < s.frames:      # dropouts: only where the stem plays
                    m = min(n, s.frames - pos)
                    sent = send.read(m, dtype="float32", always_2d=True)
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
        send.close()
    return PrintedFile(job=job, good=good, path=final, frames=frames, samplerate=rate, fmt=options.fmt,
                       channels=chans, levels=levels, return_clipped_samples=clipped,
                       time_reference=None if s.bext is None else s.bext.time_reference,
                       problems=problems + pass_problems)


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
