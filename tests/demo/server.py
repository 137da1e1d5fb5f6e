"""One JACK dummy server for the demo and UI tests, at the demo's own period (1024 frames).

The demo's simulated gear runs DSP in a Python JACK client and the UI tests print through
it while the UI repaints; at the test fixture's 256 frames a machine shared with other test
runs overflows. The demo itself runs at 1024 (latency is measured and compensated anyway),
so these tests do too. One server for both test folders, stopped when the last user is done.
"""

from __future__ import annotations

import os

from devices.jack_server import JackServer
from devices.midi_port import JACK_BACKEND
from hybrid.live.audio.portaudio import release as release_portaudio

DEMO_PERIOD_FRAMES = 1024
_state: dict = {"server": None, "users": 0, "saved": {}}


def acquire() -> JackServer:
    if _state["server"] is None:
        server = JackServer(name=f"hybrid-demotest-{os.getpid()}", period_frames=DEMO_PERIOD_FRAMES,
                            offline=True)  # as the demo's own: the simulated room's clock, offline
        server.start(slot_wait_s=120)  # JACK's 8 server slots are shared with other test runs
        env = dict(server.environ(), MIDO_BACKEND=JACK_BACKEND)
        _state["saved"] = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        _state["server"] = server
    _state["users"] += 1
    return _state["server"]


def release() -> None:
    _state["users"] -= 1
    if _state["users"] > 0 or _state["server"] is None:
        return
    release_portaudio()  # before the server goes, or the process aborts at exit
    _state["server"].stop()
    _state["server"] = None
    for key, value in _state["saved"].items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
