"""The private JACK server: real-time scheduling for the server and its clients' process threads."""

from __future__ import annotations

import os
import threading
import time

import pytest

from devices.jack_server import JackServer, realtime_allowed

SCHED_FIFO = 1


def _policies(pid: int) -> dict[int, int]:
    """Thread id -> scheduling policy (field 41 of /proc/PID/task/TID/stat) of every thread of ``pid``."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(tid)] = int(fields[41 - 3])  # fields after "(comm)" start at field 3
    return out


@pytest.mark.parametrize("realtime", [True, False])
def test_server_and_client_threads_run_real_time_when_allowed(realtime):
    import jack

    allowed = realtime_allowed()
    server = JackServer(name=f"hybrid-rt-{os.getpid()}", realtime=realtime).start(slot_wait_s=120)
    try:
        assert server.realtime_granted is (realtime and allowed)
        server_fifo = SCHED_FIFO in _policies(server._process.pid).values()  # the driver thread
        assert server_fifo is server.realtime_granted
        client = jack.Client("rt-probe", servername=server.name, no_start_server=True)
        seen: list[int] = []
        client.set_process_callback(lambda _frames: seen.append(threading.get_native_id()) if not seen else None)
        client.activate()
        try:
            deadline = time.monotonic() + 5
            while not seen and time.monotonic() < deadline:
                time.sleep(0.01)
            assert seen, "the client's process callback never ran"
            assert (_policies(os.getpid())[seen[0]] == SCHED_FIFO) is server.realtime_granted
        finally:
            client.deactivate()
            client.close()
    finally:
        server.stop()


def test_realtime_allowed_leaves_the_caller_alone():
    before = _policies(os.getpid())[threading.get_native_id()]
    realtime_allowed()
    assert _policies(os.getpid())[threading.get_native_id()] == before


def test_a_call_that_never_returns_is_a_timeout_error_naming_what_was_done():
    from devices.errors import DeviceTimeoutError
    from devices.jack_server import call_with_timeout

    never = threading.Event()
    start = time.monotonic()
    with pytest.raises(DeviceTimeoutError) as info:
        call_with_timeout(never.wait, timeout_s=0.3, doing="listing JACK MIDI ports")
    assert time.monotonic() - start < 2.0
    assert "listing JACK MIDI ports" in str(info.value) and "did not answer within" in str(info.value)
    assert call_with_timeout(lambda: 42, timeout_s=1.0, doing="x") == 42
    with pytest.raises(ZeroDivisionError):
        call_with_timeout(lambda: 1 / 0, timeout_s=1.0, doing="x")


WEDGED = """
import os, sys, time
sys.path.insert(0, {root!r})
from devices.errors import DeviceError
from devices.midi_port import list_ports, midi_backend
start = time.monotonic()
try:
    list_ports(midi_backend("devices.jack_midi"))
    print("listed")
except DeviceError as exc:
    print(f"error after {{time.monotonic() - start:.1f}} s: {{exc}}")
sys.stdout.flush()
os._exit(0)   # a libjack call is still waiting on the stopped server: leave without it
"""


def test_listing_midi_ports_on_a_wedged_server_ends_in_one_line_not_a_hang(tmp_path):
    """A server that stops answering (SIGSTOP: as the one that wedged the suite) gives a clear
    error within the timeout, where rtmidi's listing blocked for minutes."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    script = tmp_path / "wedged.py"
    script.write_text(WEDGED.format(root=root))
    server = JackServer(name=f"hybrid-wedge-{os.getpid()}").start(slot_wait_s=120)
    try:
        os.kill(server._process.pid, signal.SIGSTOP)
        env = dict(os.environ, **server.environ(), HYBRID_JACK_TIMEOUT_S="2")
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    finally:
        os.kill(server._process.pid, signal.SIGCONT)
        server.stop()
    line = run.stdout.strip()
    assert line.startswith("error after "), run.stdout + run.stderr[-1000:]
    assert float(line.split()[2]) < 10.0
    assert "did not answer within 2 s" in line and "\n" not in line
