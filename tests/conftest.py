"""Shared fixtures: a private JACK dummy server per test session, pseudo-terminal pairs.

Tests that need audio or MIDI take ``jack_server``; it sets JACK_DEFAULT_SERVER and
JACK_NO_START_SERVER for the whole process so PortAudio, rtmidi and JACK-Client all
reach it, and MIDO_BACKEND (unless set) to the JACK MIDI backend (devices.jack_midi). PortAudio is terminated before the server goes away (else the process aborts).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices.jack_server import JackServer
from devices.midi_port import JACK_BACKEND

ROOT = Path(__file__).resolve().parent.parent

# One BLAS thread per test process and per process it starts (they inherit the environment):
# OpenBLAS's worker threads spin on the small products the analyses do, and on two shared cores
# that made them ~30x slower in CPU (verify's tone analysis: 30 ms -> 1 ms a call) and took
# cycles from the JACK clients. Set before anything here imports numpy.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


@pytest.fixture(scope="session")
def jack_server():
    """A running ``jackd -d dummy`` (48 kHz, period 256) private to this test session."""
    yield from private_jack_server("hybrid-test")


def private_jack_server(prefix: str, **settings):
    """A JACK dummy server named ``<prefix>-<pid>`` (``settings``: JackServer's), this process's
    default until the generator ends: the body of the ``jack_server`` fixtures."""
    server = JackServer(name=f"{prefix}-{os.getpid()}", **settings)
    server.start(slot_wait_s=300)
    saved = {k: os.environ.get(k) for k in server.environ()}
    os.environ.update(server.environ())
    os.environ.setdefault("MIDO_BACKEND", JACK_BACKEND)
    try:
        yield server
    finally:
        if "sounddevice" in sys.modules:
            sys.modules["sounddevice"]._terminate()
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def pty_pair():
    """``(master_fd, slave_path)``: the simulator side and the path pyserial opens."""
    master, slave = os.openpty()
    path = os.ttyname(slave)
    try:
        yield master, path
    finally:
        for fd in (master, slave):
            try:
                os.close(fd)
            except OSError:
                pass


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120, cwd=None,
            input: str | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m hybrid ARGS`` in a subprocess, as a user would run ``hybrid``."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH")]))
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "hybrid", *args], capture_output=True, text=True,
        env=full_env, timeout=timeout, cwd=cwd, input=input,
    )


@pytest.fixture
def cli():
    """The ``run_cli`` helper as a fixture."""
    return run_cli
