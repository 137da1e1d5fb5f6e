"""The demo rig: a private JACK server, the gear simulators and the simulated analog chains.

``hybrid demo`` gives a newcomer the whole product with no hardware. The rig brings up,
in this order (each stage needs the one before):

1. a private ``jackd -d dummy`` (audio and MIDI), and the process environment that
   makes PortAudio, rtmidi and JACK-Client reach it;
2. the gear process (:mod:`hybrid.app.demo.gear`): a simulator per device of the studio
   (virtual JACK MIDI ports, a pseudo-terminal for serial gear, a panel for the
   hand-set unit) and the simulated analog gear, a JACK client whose loops sound like
   the simulators' knobs. The pty paths it reports are written into the studio file
   so recall finds the serial gear.

``stop()`` undoes it in reverse: the gear process quits (killed if it hangs), PortAudio
is terminated before the JACK server goes away (else the process aborts at exit), and
no process is left behind.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devices.errors import DeviceError
from devices.jack_server import INSTALL_HINT, JackServer
from devices.midi_port import JACK_BACKEND
from hybrid.errors import HybridError
from hybrid.live.audio.portaudio import release as release_portaudio
from recall.paths import StudioPaths

MIDO_JACK_BACKEND = JACK_BACKEND
GEAR_START_TIMEOUT_S = 30.0
GEAR_REPLY_TIMEOUT_S = 5.0
JACK_SLOT_WAIT_S = 15.0
GEAR_LOG = "demo-gear.log"  # in the studio's .state folder
"""How long to wait for one of JACK's 8 server slots to come free (other demos, test runs)."""


@dataclass
class DemoRig:
    """Everything the demo studio runs on; a context manager.

    ``studio_dir`` is a folder written by :func:`hybrid.app.demo.studio.build_demo_studio`.
    """

    studio_dir: Path
    server: JackServer | None = None
    """A running JACK server to use (tests share theirs); None: the rig starts its own."""
    jack_name: str | None = None
    """The name of a running JACK server to use instead (``hybrid demo --jack NAME``)."""
    server_name: str = field(default_factory=lambda: f"hybrid-demo-{os.getpid()}")
    samplerate: int = 48000
    period_frames: int = 1024
    """Larger than the tests' 256: the demo runs beside whatever else the machine does, and
    its latency is measured and compensated anyway, so robustness against xruns wins."""
    offline: bool = True
    """The rig's own server prints offline (``JackServer.offline``): passes and pings run as
    fast as the simulated gear's arithmetic allows, freewheeling, never against a clock
    (the whole headless demo on a quiet machine: 158 s at the clock, 54 s offline). False: at the room's clock,
    meters moving as in a real room (``hybrid demo --real-time``)."""
    gear_process: subprocess.Popen | None = field(default=None, init=False)
    simulators: list[str] = field(default_factory=list, init=False)
    loops: int = field(default=0, init=False)
    _saved_env: dict[str, str | None] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _owns_server: bool = field(default=False, init=False)

    def start(self) -> DemoRig:
        try:
            self._start_server()
            self._start_gear()
        except BaseException:
            self.stop()
            raise
        return self

    # -- stages ---------------------------------------------------------------------------

    def _start_server(self) -> None:
        _quiet_libjack()
        if self.server is None and self.jack_name:
            self.server = _external_server(self.jack_name)
        if self.server is not None:
            if not (self.server.running or self.jack_name):
                raise HybridError(f"the JACK server {self.server.name} is not running", where="hybrid demo")
            self.server_name = self.server.name
            self.samplerate = self.server.samplerate
            self.period_frames = self.server.period_frames
            self._set_environ()
            return
        # the simulated room's clock waits for a late cycle (see JackServer.virtual_clock)
        server = JackServer(name=self.server_name, samplerate=self.samplerate,
                            period_frames=self.period_frames, virtual_clock=True, offline=self.offline)
        if shutil.which("jackd") is None:
            raise HybridError(f"no JACK server to run the demo on: jackd is not installed; {INSTALL_HINT}",
                              where="hybrid demo")
        try:
            server.start(slot_wait_s=JACK_SLOT_WAIT_S)
        except DeviceError as exc:
            raise HybridError(f"cannot start a JACK server for the demo: {exc.reason}",
                              where="hybrid demo") from exc
        self.server = server
        self._owns_server = True
        self._set_environ()

    def _set_environ(self) -> None:
        env = dict(self.server.environ(), MIDO_BACKEND=MIDO_JACK_BACKEND)
        for key, value in env.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _start_gear(self) -> None:
        from hybrid.app.demo.studio import record_serial_ports

        root = Path(__file__).resolve().parents[3]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
        log_path = StudioPaths(self.studio_dir).state / GEAR_LOG
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("w")
        self.gear_process = subprocess.Popen(
            [sys.executable, "-m", "hybrid.app.demo.gear", str(self.studio_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True, env=env,
            start_new_session=True,  # ctrl+c in the UI must not kill it under our feet: we stop it
        )
        ready = self._read_reply(GEAR_START_TIMEOUT_S, doing="starting the simulated gear")
        if "error" in ready:
            raise HybridError(f"simulated gear did not start: {ready['error']}", where="hybrid demo")
        self.simulators = list(ready.get("simulators", []))
        self.loops = int(ready.get("loops", 0))
        record_serial_ports(Path(self.studio_dir), ready.get("serial", {}))
        self._power_on()

    def _power_on(self) -> None:
        """The simulated gear just powered on at its defaults: what recall remembers of the
        gear's state (and of an interrupted apply) from an earlier demo run no longer holds."""
        from recall.state import StudioState
        from hybrid.app.demo.studio import SONGS

        state = StudioState(StudioPaths(self.studio_dir).state)
        for name in self.simulators:
            state.forget(name)
        for song in SONGS:
            if state.journal(song.slug):
                state.finish_journal(song.slug, complete=True)

    def _read_reply(self, timeout_s: float, *, doing: str) -> dict:
        proc = self.gear_process
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise HybridError(f"{doing}: the gear process exited ({proc.returncode}); "
                                  f"{self._log_tail()}", where="hybrid demo")
            left = deadline - time.monotonic()
            if left <= 0:
                raise HybridError(f"{doing}: no answer from the gear process after {timeout_s:.0f} s",
                                  where="hybrid demo")
            ready, _, _ = select.select([proc.stdout], [], [], min(left, 0.2))
            if ready:
                line = proc.stdout.readline()
                if line:
                    try:
                        return json.loads(line)
                    except json.JSONDecodeError:
                        continue

    def _log_tail(self) -> str:
        try:
            lines = (StudioPaths(self.studio_dir).state / GEAR_LOG).read_text().strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1] if lines else "no output"

    # -- the person at the rack -------------------------------------------------------------

    def turn_knob(self, device: str, param: str, value: Any) -> Any:
        """Turn a knob on a simulated unit's front panel (the demo's stand-in for a person)."""
        return self._ask({"set": [device, param, value]}, doing=f"turning {device} {param}")

    def panel(self, device: str) -> dict:
        """Where every knob of a simulated unit is now."""
        return self._ask({"state": device}, doing=f"reading {device}'s panel")

    def _ask(self, request: dict, *, doing: str) -> Any:
        with self._lock:
            proc = self.gear_process
            if proc is None or proc.poll() is not None:
                raise HybridError(f"{doing}: the simulated gear is not running", where="hybrid demo")
            proc.stdin.write(json.dumps(request, default=str) + "\n")
            proc.stdin.flush()
            reply = self._read_reply(GEAR_REPLY_TIMEOUT_S, doing=doing)
        if "error" in reply:
            raise HybridError(f"{doing}: {reply['error']}", where="simulated gear")
        return reply.get("ok")

    def label(self) -> str:
        """One line for a status bar: the server and what runs on it."""
        offline = " offline" if self.server is not None and self.server.offline else ""
        return (f"demo rig: JACK {self.samplerate // 1000} kHz/{self.period_frames}{offline} · "
                f"{len(self.simulators)} simulated units · {self.loops} loops")

    def pids(self) -> list[int]:
        """Processes the rig started (JACK server, gear process), for checks that none outlive it."""
        out = []
        if self._owns_server and self.server is not None and self.server._process is not None:
            out.append(self.server._process.pid)
        if self.gear_process is not None:
            out.append(self.gear_process.pid)
        return out

    # -- teardown -------------------------------------------------------------------------

    def stop(self) -> None:
        """Tear down in reverse order; safe to call twice and after a failed start."""
        proc, self.gear_process = self.gear_process, None
        if proc is not None:
            _stop_process(proc)
        log = getattr(self, "_log", None)
        if log is not None:
            log.close()
        if self._owns_server:
            release_portaudio()  # PortAudio holds JACK clients; it must let go before the server stops
            server, self.server = self.server, None
            self._owns_server = False
            if server is not None:
                server.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()

    def __enter__(self) -> DemoRig:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _stop_process(proc: subprocess.Popen) -> None:
    """Ask the gear process to quit, then terminate, then kill: it never outlives the rig."""
    if proc.poll() is None:
        try:
            proc.stdin.write('{"quit": true}\n')
            proc.stdin.flush()
            proc.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None and not stream.closed:
            try:
                stream.close()
            except OSError:
                pass


def _external_server(name: str) -> JackServer:
    """A JackServer describing a server someone else runs (checked by connecting to it)."""
    import jack

    try:
        probe = jack.Client("hybrid-demo-probe", servername=name, no_start_server=True)
    except jack.JackError as exc:
        raise HybridError(f"no JACK server named {name!r} is running ({exc})", where="hybrid demo --jack") from None
    server = JackServer(name=name, samplerate=probe.samplerate, period_frames=probe.blocksize)
    probe.close()
    return server


def _quiet_libjack() -> None:
    """Keep libjack's console chatter ("Cannot connect to server socket" while the server
    comes up, port notices) off the terminal: it would scribble over the control-room UI.
    Failures still surface as exceptions from the calls that failed."""
    import jack

    jack.set_error_function(lambda _message: None)
    jack.set_info_function(lambda _message: None)
