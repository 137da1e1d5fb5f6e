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
