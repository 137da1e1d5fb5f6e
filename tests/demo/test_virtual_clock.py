"""The simulated room's clock (JackServer(virtual_clock=True)): a late cycle is waited for,
not lost; and offline (JackServer(offline=True), the demo's): a pass runs freewheeling, with
no clock to slip at all. Their counterpart on a real clock, where the same stall spoils a
pass, is tests/audio_realtime/test_mid_pass.py."""

from __future__ import annotations

import os
import threading

import numpy as np

import jack
import pytest

from devices.jack_server import OFFLINE_ENV, VIRTUAL_CLOCK_ENV, offline_clock, virtual_clock
from hybrid.live.audio.interface import resolve_device
from hybrid.live.audio.portaudio import rescan
from hybrid.live.audio.stream import DuplexRun
from hybrid.simgear import LoopSpec, SimGear

RATE = 48000


def _hog_the_interpreter() -> None:
    """Hold the GIL about 0.3 s (huge multiplications in C): every Python JACK callback of
    this process, the stream's and the gear's, misses several 21 ms periods."""
    big = (1 << 800_000) - 1
    threading.Thread(target=lambda: [big * big for _ in range(3)]).start()


def test_the_demo_server_is_a_virtual_clock_offline_and_nothing_else_is(demo_jack):
    assert demo_jack.offline and os.environ[VIRTUAL_CLOCK_ENV] == demo_jack.name == os.environ[OFFLINE_ENV]
    assert virtual_clock("JACK Audio Connection Kit") and offline_clock("JACK Audio Connection Kit")
    assert not virtual_clock("ALSA") and not offline_clock("ALSA")   # a real interface's host API never is
    saved = os.environ["JACK_DEFAULT_SERVER"]
    os.environ["JACK_DEFAULT_SERVER"] = "someone-elses-server"
    try:
        assert not virtual_clock("JACK Audio Connection Kit")
        assert not offline_clock("JACK Audio Connection Kit")
    finally:
        os.environ["JACK_DEFAULT_SERVER"] = saved


def _stalled_pass(demo_jack, tag: str):
    """Three seconds of noise through a plain loop, the interpreter held for 0.3 s after the
    first second: (stats, sent, got)."""
    total = 3 * RATE
    rng = np.random.default_rng(7)
    sent = (rng.uniform(-0.5, 0.5, total)).astype(np.float32)
    got = np.zeros(total, dtype=np.float32)
    pos = [0]
    fired = threading.Event()

    def produce(block: np.ndarray) -> int:
        n = min(len(block), total - pos[0])
        block[:n, 0] = sent[pos[0]:pos[0] + n]
        pos[0] += n
        return n

    def consume(at: int, block: np.ndarray) -> None:
        got[at:at + len(block)] = block[:, 0]

    def on_progress(progress) -> None:
        if progress.position_frames >= RATE and not fired.is_set():
            fired.set()
            _hog_the_interpreter()

    name = f"vclock-gear-{tag}-{os.getpid()}"
    with SimGear([LoopSpec()], name=name, servername=demo_jack.name):
        rescan()
        run = DuplexRun(resolve_device(name), samplerate=RATE, blocksize=0, out_channels=1, in_channels=1,
                        total_frames=total, produce=produce, consume=consume, on_progress=on_progress,
                        progress_interval_s=0.01)
        stats = run.run()
    rescan()
    assert fired.is_set()
    return stats, sent, got


def _every_sample_returned(sent: np.ndarray, got: np.ndarray) -> None:
    """The wire returns what was sent, one fixed delay later, every sample of it."""
    total = len(sent)
    head = RATE // 2
    corr = np.correlate(got[:head + 4096], sent[:head], mode="valid")
    delay = int(np.argmax(corr))
    assert 0 < delay <= 4096
    np.testing.assert_allclose(got[delay:], sent[:total - delay], atol=1e-6)


def test_a_stalled_cycle_slips_the_clock_and_loses_no_sample(demo_jack, monkeypatch):
    monkeypatch.delenv(OFFLINE_ENV)          # this pass on the clock (sync mode), not freewheeling
    stats, sent, got = _stalled_pass(demo_jack, "clock")
    assert stats.clock_slips > 0, "the stall did not make the dummy driver late: nothing was tested"
    assert stats.xruns == 0, stats.to_dict()
    _every_sample_returned(sent, got)


@pytest.fixture
def freewheel_watch(demo_jack):
    """Every freewheel change the server announces, as JACK reports it to a client."""
    seen: list[bool] = []
    client = jack.Client(f"fw-watch-{os.getpid()}", no_start_server=True)
    client.set_freewheel_callback(seen.append)
    client.activate()
    yield seen
    client.deactivate()
    client.close()


def test_offline_a_pass_freewheels_and_a_stall_slips_nothing(demo_jack, freewheel_watch):
    """Offline the server freewheels for the pass (no clock: the graph waits for every
    client, the stream's callback for its disk worker), then returns to its clock."""
    stats, sent, got = _stalled_pass(demo_jack, "offline")
    assert freewheel_watch[:1] == [True] and freewheel_watch[-1:] == [False], freewheel_watch
    assert stats.clock_slips == 0 and stats.xruns == 0, stats.to_dict()
    _every_sample_returned(sent, got)


def test_a_server_that_will_not_take_the_freewheel_client_leaves_the_pass_at_the_clock(monkeypatch, caplog):
    """CI once saw the server refuse the freewheel client (``server_error``) and the demo end in
    a traceback. Asked of a server that is not there at all, freewheeling tries three times,
    says so in one warning and lets the pass run at the clock (its server's sync mode)."""
    from devices.jack_server import FREEWHEEL_OPEN_ATTEMPTS, freewheeling

    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"hybrid-no-such-server-{os.getpid()}")
    ran = []
    with caplog.at_level("WARNING", logger="devices.jack_server"):
        with freewheeling():
            ran.append(True)
    assert ran == [True]
    [warning] = [r.getMessage() for r in caplog.records]
    assert "would not take a client to freewheel" in warning and f"{FREEWHEEL_OPEN_ATTEMPTS} tries" in warning
    assert "runs at the clock" in warning
