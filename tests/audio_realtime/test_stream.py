"""The duplex stream engine on the print server: ring shortfalls counted, progress from the worker."""

from __future__ import annotations

import threading
import time

import numpy as np

from hybrid.live.audio.interface import resolve_device
from hybrid.live.audio.stream import DuplexRun

from tests.audio_print.conftest import GEAR, LOOP_HOOKS, RATE


def _run(total, produce, consume, **kw):
    return DuplexRun(resolve_device(GEAR), samplerate=RATE, blocksize=0, out_channels=LOOP_HOOKS,
                     in_channels=LOOP_HOOKS, total_frames=total, produce=produce, consume=consume, **kw).run()


def test_progress_is_coalesced_from_the_worker_with_meters(gear):
    total = RATE // 2
    tone = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(total) / RATE)).astype(np.float32)
    pos = [0]

    def produce(block):
        n = len(block)
        block[:] = 0.0
        block[:, 0] = tone[pos[0]:pos[0] + n]          # output 1 only
        pos[0] += n
        return n

    reports, threads = [], set()

    def on_progress(p):
        reports.append(p)
        threads.add(threading.current_thread().name)

    stats = _run(total, produce, lambda p, b: None, on_progress=on_progress, progress_interval_s=0.1)
    positions = [p.position_frames for p in reports]
    assert positions == sorted(positions) and positions[-1] == total
    assert 3 <= len(reports) <= 12                    # ~0.5 s at 0.1 s: coalesced, not per block
    assert threads == {"hybrid-print-worker"}
    loud = [p for p in reports if p.peak_dbfs[0] > -7]
    assert loud and all(abs(p.peak_dbfs[0] - (-6.02)) < 0.1 for p in loud)    # loop 1 returns the tone
    assert all(p.peak_dbfs[1] == float("-inf") for p in reports)              # nothing sent on 2
    assert stats.callbacks > 0


def test_ring_underruns_and_overruns_are_counted(gear):
    """A producer slower than real time (a stalled disk) underruns the play ring; a consumer
    that stalls overruns the record ring. Both count as xruns of the run."""
    total = RATE // 2

    def slow_produce(block):
        time.sleep(0.05)                               # 4096 frames (85 ms of audio) every 50 ms + overhead
        block[:] = 0.0
        return min(len(block), 1024)

    stats = _run(total, slow_produce, lambda p, b: None, ring_seconds=0.0, chunk_frames=4096)
    assert stats.ring_underruns > 0 and stats.xruns >= stats.ring_underruns

    stall = threading.Event()

    def slow_consume(position, block):
        if not stall.is_set():
            stall.set()
            time.sleep(0.6)                            # longer than the ring holds

    stats = _run(total, lambda b: (b.fill(0.0), len(b))[1], slow_consume, ring_seconds=0.0, chunk_frames=4096)
    assert stats.ring_overruns > 0 and stats.xruns >= stats.ring_overruns


def test_the_callbacks_gil_holders_run_real_time_below_it_while_the_stream_runs(gear, print_server):
    """While the stream runs every ordinary thread of the process (the worker, the caller)
    is SCHED_FIFO a few steps below libjack's process thread, and the collector is off;
    afterwards all is as before. Where real time is not allowed (a --no-realtime server,
    no CAP_SYS_NICE) nothing changes."""
    import gc
    import os

    from devices.jack_server import GIL_HOLDERS_BELOW

    def policies() -> dict[int, tuple[int, int]]:
        out = {}
        for name in os.listdir("/proc/self/task"):
            try:
                out[int(name)] = (os.sched_getscheduler(int(name)), os.sched_getparam(int(name)).sched_priority)
            except OSError:
                continue
        return out

    seen = {}

    def look():
        seen["threads"] = policies()
        seen["gc"] = gc.isenabled()
        seen["worker"] = threading.get_native_id()

    main = threading.get_native_id()
    before = policies()[main]
    _run(RATE // 2, lambda b: (b.fill(0.0), len(b))[1], lambda p, b: None, checkpoints=[(RATE // 4, look)])
    fifo = {tid: prio for tid, (policy, prio) in seen["threads"].items() if policy == os.SCHED_FIFO}
    if print_server.realtime_granted:
        callback_prio = max(fifo.values())
        assert seen["threads"][main] == (os.SCHED_FIFO, callback_prio - GIL_HOLDERS_BELOW)
        assert seen["threads"][seen["worker"]] == (os.SCHED_FIFO, callback_prio - GIL_HOLDERS_BELOW)
        assert seen["gc"] is False
    else:
        assert seen["threads"][main][0] != os.SCHED_FIFO
    assert policies()[main] == before and gc.isenabled()
