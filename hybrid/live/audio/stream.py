"""A duplex PortAudio stream that plays a timeline and records its returns, disk to disk.

Three parties, one rule each:
- the audio callback only copies frames: play ring -> output buffer, input buffer ->
  record ring, and bumps counters. It allocates no buffers, takes no locks, logs and
  raises nothing, so a slow disk can never make it miss its deadline;
- a worker thread keeps the play ring full (``produce``) and the record ring drained
  (``consume``), and sends coalesced progress (position, per-channel meters);
- the calling thread starts and stops the stream, watches for a stalled device and
  re-raises the worker's errors.

Xruns counted per run: PortAudio's callback status flags (input overflow/underflow,
output underflow/overflow), play-ring underruns (the callback found too few frames) and
record-ring overruns (no room for the input). The stream records where each one fell
(``StreamStats.xrun_frames``, timeline positions); the printing layer decides which
span of the timeline matters (:meth:`StreamStats.xruns_within`) and never delivers a
pass with an xrun inside it.

On a simulated room's clock (``devices.jack_server.virtual_clock``: a JACK dummy server in
sync mode, where a late cycle is waited for, not lost) PortAudio's flags mean only that
the clock slipped: they are counted as ``clock_slips`` and spoil nothing (the pings
around a pass still check that no audio moved). The ring checks count as always.

On a simulated room that prints offline (``devices.jack_server.offline_clock``) the server
freewheels while the stream runs: there is no deadline, so the callback waits for the
worker (the play ring fed, room in the record ring) instead of counting an underrun, and
wakes it after every block; a pass then runs as fast as the room's arithmetic allows.

A cancel (``cancel`` set from any thread) is seen by the callback itself: that block is
silence and the stream is aborted, so audio stops within one period.

The stream opens channels 1..max needed on both sides; ``produce`` writes frames laid out
for those output channels and ``consume`` receives frames of those input channels.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Callable

import numpy as np

from devices.gc_pause import gc_paused
from devices.jack_server import freewheeling, offline_clock, realtime_gil_holders, virtual_clock
from hybrid.live.audio.interface import ResolvedDevice
from hybrid.live.audio.ring import FrameRing
from hybrid.errors import HybridError, PrintCancelled

SWITCH_INTERVAL_S = 0.0005
Produce = Callable[[np.ndarray], int]          # fill block (n, out_ch) from its start; return frames written
Consume = Callable[[int, np.ndarray], None]    # (timeline position, frames (n, in_ch))


@dataclass
class Progress:
    """A progress report, sent at most every ``interval_s`` from the worker thread (never the callback).

    ``peak_dbfs``/``rms_dbfs`` hold one meter per input channel of the stream, index k for
    input channel k+1, over the audio recorded since the previous report (empty while
    ``stage`` is "aligning"). -inf is digital silence.
    """

    position_frames: int
    total_frames: int
    samplerate: int
    peak_dbfs: list[float]
    rms_dbfs: list[float]
    xruns: int
    stage: str = "printing"     # "printing" while the stream runs, "aligning" while files are written

    @property
    def position_s(self) -> float:
        return self.position_frames / self.samplerate

    @property
    def fraction(self) -> float:
        return self.position_frames / self.total_frames if self.total_frames else 1.0


@dataclass
class StreamStats:
    """What happened on the stream during one run."""

    frames: int
    callbacks: int = 0
    input_overflows: int = 0
    input_underflows: int = 0
    output_underflows: int = 0
    output_overflows: int = 0
    ring_underruns: int = 0
    ring_overruns: int = 0
    blocksize_seen: int = 0
    xrun_frames: list[int] = field(default_factory=list)
    """Timeline positions of the callbacks that had an xrun (the first 64 of them)."""
    xrun_callbacks: int = 0
    """How many callbacks had an xrun (one callback may count several kinds)."""
    clock_slips: int = 0
    """Callbacks whose PortAudio flags reported a late cycle of a simulated room's clock (not xruns)."""
    callback_cost_s: np.ndarray | None = field(default=None, repr=False)

    @property
    def xruns(self) -> int:
        return (self.input_overflows + self.input_underflows + self.output_underflows
                + self.output_overflows + self.ring_underruns + self.ring_overruns)

    def xruns_within(self, first_frame: int, end_frame: int) -> int:
        """Callbacks with an xrun that may have touched frames ``first_frame..end_frame-1``.

        A flag reported at position p means the glitch happened between the previous
        callback and this one, so a block either side of p counts. Xruns beyond the 64
        whose positions were kept count as inside (nobody knows where they fell).
        """
        block = max(self.blocksize_seen, 1)
        inside = sum(1 for p in self.xrun_frames if p - block < end_frame and p + block > first_frame)
        return inside + max(0, self.xrun_callbacks - len(self.xrun_frames))

    def to_dict(self) -> dict:
        return {"xruns": self.xruns, "input_overflows": self.input_overflows,
                "input_underflows": self.input_underflows, "output_underflows": self.output_underflows,
                "output_overflows": self.output_overflows, "ring_underruns": self.ring_underruns,
                "ring_overruns": self.ring_overruns, "callbacks": self.callbacks,
                "clock_slips": self.clock_slips,
                "xrun_frames": list(self.xrun_frames)}


class DuplexRun:
    """Play ``total_frames`` of a timeline on ``out_channels`` and record as many on ``in_channels``.

    ``run()`` blocks until every frame is recorded and consumed, then returns the stats.
    ``checkpoints`` are ``(frame, fn)``: the worker calls ``fn()`` once that many frames are
    consumed (e.g. to check the ping before the pass); an exception from it aborts the run.
    Setting ``cancel`` (from any thread, e.g. a UI's stop button) stops the run with a
    HybridError within 50 ms.
    ``measure_cost`` keeps the wall time of each callback (for the bench).
    """

    def __init__(self, device: ResolvedDevice, *, samplerate: int, blocksize: int,
                 out_channels: int, in_channels: int, total_frames: int,
                 produce: Produce, consume: Consume,
                 on_progress: Callable[[Progress], None] | None = None,
                 progress_interval_s: float = 0.1, ring_seconds: float = 2.0,
                 chunk_frames: int = 4096, measure_cost: bool = False, latency: str | float = "high",
                 checkpoints: list[tuple[int, Callable[[], None]]] | None = None,
                 cancel: threading.Event | None = None):
        if out_channels > device.max_outputs or in_channels > device.max_inputs:
            raise HybridError(
                f"needs {out_channels} outputs and {in_channels} inputs; the device has "
                f"{device.max_outputs} and {device.max_inputs}", where=f"device {device.name}")
        self.device = device
        self.samplerate = int(samplerate)
        self.blocksize = int(blocksize)
        self.out_channels = out_channels
        self.in_channels = in_channels
        self.total = int(total_frames)
        self._produce = produce
        self._consume = consume
        self._on_progress = on_progress
        self._interval = progress_interval_s
        self._latency = latency
        self._chunk = int(chunk_frames)
        ring_frames = max(int(ring_seconds * samplerate), 4 * self._chunk, 8 * max(blocksize, 1024))
        self._play = FrameRing(ring_frames, out_channels)
        self._rec = FrameRing(ring_frames, in_channels)
        self._play_block = np.zeros((self._chunk, out_channels), dtype=np.float32)
        self._rec_block = np.zeros((self._chunk, in_channels), dtype=np.float32)
        self._checkpoints = sorted(checkpoints or [], key=lambda c: c[0])
        self._cancel = cancel
        self._produced = 0
        self._consumed = 0
        self._stats = StreamStats(frames=self.total)
        self._costs = np.zeros(1 << 20, dtype=np.float64) if measure_cost else None
        self._cost_n = 0
        self._fed_total = False   # the producer has written the whole timeline
        self._error: BaseException | None = None
        self._done = threading.Event()
        # Callback counters (stored by the callback only).
        self._cb_frames = 0
        self._cb_calls = 0
        self._in_over = self._in_under = self._out_under = self._out_over = 0
        self._underruns = self._overruns = 0
        self._cb_block = 0
        self._xrun_at = np.zeros(64, dtype=np.int64)   # timeline positions of the first xrun callbacks
        self._xrun_n = 0
        self._xrun_calls = 0
        self._cancelled_at: int | None = None          # timeline position where the callback saw cancel
        self._virtual_clock = virtual_clock(device.hostapi)
        self._slips = 0
        self._offline = offline_clock(device.hostapi)
        self._turn = threading.Event()     # offline: the callback wakes the worker
        self._fed = threading.Event()      # offline: the worker tells the waiting callback

    @property
    def callbacks(self) -> int:
        """Audio callbacks that have played and recorded a block so far."""
        return self._cb_calls

    @property
    def cancelled_at_frame(self) -> int | None:
        """The timeline position where the callback saw ``cancel`` and aborted the stream, if it did."""
        return self._cancelled_at

    # The audio callback: copies and counters only. -------------------------------
    def _callback(self, indata, outdata, frames, _time, status) -> None:
        t0 = time.perf_counter() if self._costs is not None else 0.0
        if self._cancel is not None and self._cancel.is_set():
            outdata.fill(0.0)
            self._cancelled_at = self._cb_frames
            raise self._abort   # stop now: no further block plays
        if self._offline:
            self._await_worker(frames)
        hit = False
        if status and self._virtual_clock:
            self._slips += 1            # the simulated room's clock waited for a late cycle
        elif status:
            if status.input_overflow:
                self._in_over += 1
                hit = True
            if status.input_underflow:
                self._in_under += 1
                hit = True
            if status.output_underflow:
                self._out_under += 1
                hit = True
            if status.output_overflow:
                self._out_over += 1
                hit = True
        got = self._play.read_into(outdata)
        if got < frames:
            outdata[got:] = 0.0
            if not self._fed_total or self._play.frames_read < self.total:
                self._underruns += 1
                hit = True
        remaining = self.total - self._rec.frames_written
        if remaining > 0:
            want = frames if frames < remaining else remaining
            if self._rec.write(indata[:want]) < want:
                self._overruns += 1
                hit = True
        if hit:
            if self._xrun_n < 64:
                self._xrun_at[self._xrun_n] = self._cb_frames
                self._xrun_n += 1
            self._xrun_calls += 1
        self._cb_frames += frames
        self._cb_calls += 1
        self._cb_block = frames
        if self._costs is not None and self._cost_n < len(self._costs):
            self._costs[self._cost_n] = time.perf_counter() - t0
            self._cost_n += 1
        if self._offline:
            self._turn.set()

    def _await_worker(self, frames: int) -> None:
        """Offline only (the server freewheels, no cycle has a deadline): wait until the
        worker has fed this block and left room to record it."""
        while not self._done.is_set():
            fed = self._fed_total or self._play.available() >= frames
            room = self._rec.frames_written >= self.total or self._rec.space() >= frames
            if fed and room:
                return
            self._turn.set()
            self._fed.wait(0.01)
            self._fed.clear()

    # The worker thread. -------------------------------------------------------
    def _feed(self) -> None:
        while self._produced < self.total and self._play.space() >= self._chunk:
            want = min(self._chunk, self.total - self._produced)
            block = self._play_block[:want]
            n = self._produce(block)
            if n <= 0:
                raise HybridError(f"the timeline ended early at frame {self._produced} of {self.total}")
            self._play.write(block[:n])
            self._produced += n
        if self._produced >= self.total:
            self._fed_total = True

    def _drain(self, peak: np.ndarray, sumsq: np.ndarray, count: list[int]) -> None:
        while self._rec.available() > 0:
            n = self._rec.read_into(self._rec_block)
            block = self._rec_block[:n]
            np.maximum(peak, np.abs(block).max(axis=0), out=peak)
            sumsq += np.square(block, dtype=np.float64).sum(axis=0)
            count[0] += n
            self._consume(self._consumed, block)
            self._consumed += n

    def _worker(self) -> None:
        from devices.jack_server import favour_this_thread

        favour_this_thread()  # it holds the GIL the real-time callback needs: not to be preempted
        peak = np.zeros(self.in_channels)
        sumsq = np.zeros(self.in_channels)
        count = [0]
        last = time.monotonic()
        period_s = max(self._chunk / 4, 256) / self.samplerate
        try:
            while self._consumed < self.total:
                self._feed()
                self._drain(peak, sumsq, count)
                while self._checkpoints and self._consumed >= self._checkpoints[0][0]:
                    self._checkpoints.pop(0)[1]()   # may raise HybridError to abort the run
                now = time.monotonic()
                if self._on_progress is not None and (now - last >= self._interval or self._consumed >= self.total):
                    self._report(peak, sumsq, count[0])
                    peak[:] = 0.0
                    sumsq[:] = 0.0
                    count[0] = 0
                    last = now
                if self._offline:
                    self._fed.set()
                if self._consumed < self.total:
                    if self._offline:
                        self._turn.wait(period_s)
                        self._turn.clear()
                    else:
                        self._done.wait(period_s)
                    if self._done.is_set():
                        return
        except BaseException as exc:   # handed to the calling thread, which re-raises it
            self._error = exc
        finally:
            self._done.set()

    def _report(self, peak: np.ndarray, sumsq: np.ndarray, count: int) -> None:
        with np.errstate(divide="ignore"):
            peak_db = [float(v) for v in 20 * np.log10(peak)]
            rms_db = [float(v) for v in 10 * np.log10(sumsq / max(count, 1))]
        self._on_progress(Progress(self._consumed, self.total, self.samplerate, peak_db, rms_db,
                                   self._xruns_now()))

    def _xruns_now(self) -> int:
        return (self._in_over + self._in_under + self._out_under + self._out_over
                + self._underruns + self._overruns)

    # The calling thread. ------------------------------------------------------
    def run(self, stall_timeout_s: float = 3.0) -> StreamStats:
        import sounddevice as sd

        from hybrid.live.audio.portaudio import stream_error

        self._abort = sd.CallbackAbort
        self._feed()   # prime the play ring before the first callback
        # The callback needs the GIL within a block period; CPython only forces a busy
        # thread to hand it over every switch interval (5 ms by default: a whole JACK
        # period at 256 frames). Shorten it while the stream runs, restore it afterwards.
        saved_switch = sys.getswitchinterval()
        sys.setswitchinterval(min(saved_switch, SWITCH_INTERVAL_S))
        worker = threading.Thread(target=self._worker, name="hybrid-print-worker", daemon=True)
        try:
            stream = sd.Stream(
                device=(self.device.index, self.device.index), samplerate=self.samplerate,
                blocksize=self.blocksize, channels=(self.in_channels, self.out_channels),
                dtype="float32", latency=self._latency, callback=self._callback,
            )
        except sd.PortAudioError as exc:
            raise stream_error(exc, f"cannot open the stream at {self.samplerate} Hz, block "
                                    f"{self.blocksize or 'host default'}",
                               where=f"device {self.device.name}") from exc
        holders = None
        collector = contextlib.ExitStack()
        try:
            worker.start()
            with stream, (freewheeling() if self._offline else contextlib.nullcontext()):
                # The callback's GIL holders (this thread, the worker) under SCHED_FIFO below
                # the callback; the collector off (its full passes took 10-140 ms in the print
                # process, measured while it imports and plans: that long inside the stream is
                # a late callback); all undone after the run.
                holders = realtime_gil_holders()
                gc.freeze()
                collector.enter_context(gc_paused())
                last_frames, last_change = -1, time.monotonic()
                while not self._done.wait(0.05):
                    if self._cancel is not None and self._cancel.is_set():
                        # The callback stops the audio at its next block; give it two periods
                        # (a stalled stream never calls it), then make sure.
                        period_s = max(self._cb_block, self.blocksize, 256) / self.samplerate
                        deadline = time.monotonic() + 2 * period_s
                        while self._cancelled_at is None and time.monotonic() < deadline:
                            time.sleep(0.001)
                        stream.abort()
                        at = self._cancelled_at if self._cancelled_at is not None else self._cb_frames
                        raise PrintCancelled(f"cancelled at {at / self.samplerate:.1f} s of "
                                             f"{self.total / self.samplerate:.1f} s; nothing of this pass "
                                             f"was kept", where=f"device {self.device.name}")
                    if self._cb_frames != last_frames:
                        last_frames, last_change = self._cb_frames, time.monotonic()
                    elif time.monotonic() - last_change > stall_timeout_s:
                        raise HybridError(
                            f"the audio stream stalled (no audio for {stall_timeout_s:.0f} s at frame "
                            f"{self._consumed} of {self.total}); was the device unplugged or the server stopped?",
                            where=f"device {self.device.name}")
        except sd.PortAudioError as exc:
            raise stream_error(exc, "stream failed", where=f"device {self.device.name}") from exc
        finally:
            self._done.set()
            worker.join(timeout=10)
            sys.setswitchinterval(saved_switch)
            if holders is not None:
                holders.undo()
            collector.close()
            gc.unfreeze()
        if self._error is not None:
            if isinstance(self._error, HybridError):
                raise self._error
            raise HybridError(f"print worker failed: {self._error}",
                              where=f"device {self.device.name}") from self._error
        s = self._stats
        s.callbacks = self._cb_calls
        s.input_overflows, s.input_underflows = self._in_over, self._in_under
        s.output_underflows, s.output_overflows = self._out_under, self._out_over
        s.ring_underruns, s.ring_overruns = self._underruns, self._overruns
        s.blocksize_seen = self._cb_block
        s.xrun_frames = [int(v) for v in self._xrun_at[:self._xrun_n]]
        s.xrun_callbacks = self._xrun_calls
        s.clock_slips = self._slips
        if self._costs is not None:
            s.callback_cost_s = self._costs[:self._cost_n].copy()
        return s
