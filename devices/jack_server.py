"""A private JACK server (dummy backend) for tests, benchmarks and the demo studio.

JACK carries both the audio (PortAudio's JACK host API) and the MIDI (rtmidi's JACK
API) on machines without a sound card. See shared TESTBED notes: the server must be
up before PortAudio initialises, and PortAudio must be terminated before it goes away.
"""

from __future__ import annotations

import collections
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

from devices.errors import DeviceError, DeviceTimeoutError
from devices.processes import process_exists

_logger = logging.getLogger(__name__)

T = TypeVar("T")
JACK_CALL_TIMEOUT_S = 10.0
"""Longest a call into the JACK server (open a client, list or connect ports) may take;
``$HYBRID_JACK_TIMEOUT_S`` overrides it."""

VIRTUAL_CLOCK_ENV = "HYBRID_JACK_VIRTUAL_CLOCK"
"""Set (to the server's name) by ``JackServer(virtual_clock=True).environ()``: see :func:`virtual_clock`."""
OFFLINE_ENV = "HYBRID_JACK_OFFLINE"
"""Set (to the server's name) by ``JackServer(offline=True).environ()``: see :func:`offline_clock`."""

INSTALL_HINT = (
    "install JACK 2 (Debian/Ubuntu: apt-get install jackd2 libportaudio2; "
    "or run scripts/setup)"
)


@dataclass
class JackServer:
    """``jackd -d dummy`` under a private name; use as a context manager.

    ``period_frames`` 256 is the smallest that ran without xruns with several Python
    clients on two cores.

    ``realtime`` (the default) runs the server with SCHED_FIFO priority
    ``realtime_priority`` when this process may (root, CAP_SYS_NICE or an rtprio limit);
    libjack then gives every client's process thread (the simulated gear's, PortAudio's,
    rtmidi's) SCHED_FIFO just below it. Why: with --no-realtime a client's process thread
    is an ordinary thread, and on a machine whose cores run other work (two busy loops
    and a large file writer) it was woken more than a period late: the demo printed
    4-16 xruns a pass at period 1024 (jackd named pure-C rtmidi clients "not finished,
    state = Triggered": never scheduled, not slow). With SCHED_FIFO: 0 (bench/demo_load.py).
    Where real-time scheduling is not allowed the server runs --no-realtime (jackd -R
    without the right reports spurious xruns); ``realtime_granted`` says which it got.

    ``virtual_clock`` makes it a simulated room's clock: jackd runs synchronous (``-S``),
    so every cycle waits until every client has run it, and a client that is late (a
    Python callback waiting for the interpreter on a busy machine) delays the cycle
    instead of losing it. No client's audio is skipped or repeated; what remains is the
    dummy driver noticing that it woke after its deadline ("JackTimedDriver::Process
    XRun"), which it reports as an xrun and which PortAudio passes on as an input
    overflow and output underflow. Streams on such a server count those as clock slips,
    not as lost audio (:func:`virtual_clock`); the pings around every pass still check
    that nothing moved. A real interface's clock does not wait: servers for real rooms
    and the tests of xrun detection keep ``virtual_clock`` off.

    ``offline`` (implies ``virtual_clock``) lets a simulated room print faster than real
    time: while a pass streams, the server freewheels (:func:`freewheeling`): it runs each
    cycle as soon as every client has finished the last, with no clock at all, and the
    print's callback waits for its own disk worker instead of playing silence. A pass then
    takes as long as the simulated gear's arithmetic, on an idle machine or a busy one.
    """

    name: str
    samplerate: int = 48000
    period_frames: int = 256
    max_ports: int = 256
    capture_channels: int = 16
    playback_channels: int = 16
    client_timeout_ms: int = 5000
    realtime: bool = True
    realtime_priority: int = 70
    virtual_clock: bool = False
    offline: bool = False
    realtime_granted: bool = field(default=False, init=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=200),
                                    init=False, repr=False)
    _drain: threading.Thread | None = field(default=None, init=False, repr=False)
    _xruns: list[int] = field(default_factory=lambda: [0, 0], init=False, repr=False)

    def start(self, timeout_s: float = 10.0, slot_wait_s: float = 0.0) -> JackServer:
        """Start jackd and wait until it accepts clients.

        JACK 2 runs at most 8 servers per machine; with ``slot_wait_s`` a start that
        finds them all taken waits that long for one to end (tests run side by side).
        """
        slot_deadline = time.monotonic() + slot_wait_s
        while True:
            try:
                return self._start_once(timeout_s)
            except _NoServerSlot as exc:
                if reclaim_dead_server_slots():
                    continue
                if time.monotonic() > slot_deadline:
                    raise DeviceError(
                        f"{exc}: JACK allows 8 servers on one machine; stop one "
                        "(pgrep -a jackd) and try again",
                        device=f"JACK server {self.name}", action="starting") from None
                time.sleep(0.5)

    def _start_once(self, timeout_s: float) -> JackServer:
        jackd = shutil.which("jackd")
        if jackd is None:
            raise DeviceError(f"jackd not found; {INSTALL_HINT}", device=f"JACK server {self.name}",
                              action="starting")
        if not os.path.isdir("/dev/shm") and os.name == "posix" and not _is_macos():
            raise DeviceError("/dev/shm is missing; JACK needs shared memory",
                              device=f"JACK server {self.name}", action="starting")
        self.realtime_granted = self.realtime and realtime_allowed(self.realtime_priority)
        scheduling = ["-R", "-P", str(self.realtime_priority)] if self.realtime_granted else ["--no-realtime"]
        cmd = [
            jackd, "-n", self.name, *scheduling, *(["-S"] if self.virtual_clock or self.offline else []),
            "-p", str(self.max_ports),
            # client timeout: on a loaded machine a Python client can stall for longer than
            # JACK's default 500 ms and would be thrown out of the graph
            "-t", str(self.client_timeout_ms),
            "-d", "dummy", "-r", str(self.samplerate), "-p", str(self.period_frames),
            "-C", str(self.capture_channels), "-P", str(self.playback_channels),
        ]
        env = dict(os.environ, JACK_NO_AUDIO_RESERVATION="1")
        self._process = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=env, start_new_session=True, preexec_fn=_die_with_parent_hook(),
        )
        # jackd logs every xrun to stderr; a pipe nobody reads fills up (64 KiB) and then
        # jackd blocks in write() with the whole graph stopped. Drain it all the time,
        # keeping the last lines for error messages.
        self._log = collections.deque(maxlen=200)
        self._xruns = [0, 0]
        self._drain = threading.Thread(target=_drain_lines, args=(self._process.stderr, self._log, self._xruns),
                                       name=f"jackd-log-{self.name}", daemon=True)
        self._drain.start()
        deadline = time.monotonic() + timeout_s
        import jack  # JACK-Client; imported here so the module loads without libjack

        # JACK-Client prints every refused connection while the server comes up: quiet it.
        jack.set_error_function(lambda _message: None)
        try:
            return self._wait_ready(jack, deadline, timeout_s)
        finally:
            jack.set_error_function(None)

    def _wait_ready(self, jack: Any, deadline: float, timeout_s: float) -> JackServer:
        process, drain = self._process, self._drain
        assert process is not None and drain is not None  # started by _start_once
        while True:
            if process.poll() is not None:
                drain.join(timeout=2)
                err = list(self._log)
                returncode, self._process = process.returncode, None
                if any("Too many servers" in line for line in err):
                    raise _NoServerSlot("too many JACK servers already running")
                last = err[-1] if err else f"exit code {returncode}"
                raise DeviceError(f"jackd exited at start: {last}", device=f"JACK server {self.name}",
                                  action="starting")
            try:
                probe = jack.Client("hybrid-probe", servername=self.name, no_start_server=True)
            except jack.JackError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise DeviceError(f"not ready after {timeout_s:.0f} s",
                                      device=f"JACK server {self.name}", action="starting") from None
                time.sleep(0.02)
                continue
            probe.close()
            return self

    def stop(self) -> None:
        proc, self._process = self._process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def xruns_logged(self) -> int:
        """Xruns jackd has reported since it started (its "JackEngine::XRun" lines: one per
        client that had not finished its cycle in time)."""
        return self._xruns[0]

    @property
    def late_cycles_logged(self) -> int:
        """Cycles the dummy driver ran after their deadline ("JackTimedDriver::Process XRun"):
        on a ``virtual_clock`` server, the clock slips; nothing was lost."""
        return self._xruns[1]

    def log_tail(self, count: int = 20) -> list[str]:
        """The last lines jackd printed (xruns, client errors), oldest first."""
        return list(self._log)[-count:]

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def environ(self) -> dict[str, str]:
        """Environment variables that make clients (PortAudio, rtmidi, JACK-Client) use this server."""
        env = {"JACK_DEFAULT_SERVER": self.name, "JACK_NO_START_SERVER": "1"}
        if self.virtual_clock or self.offline:
            env[VIRTUAL_CLOCK_ENV] = self.name
        if self.offline:
            env[OFFLINE_ENV] = self.name
        return env

    def __enter__(self) -> JackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def virtual_clock(hostapi: str) -> bool:
    """Whether a stream on PortAudio host API ``hostapi`` runs on a simulated room's clock:
    the JACK server this process's clients use (``$JACK_DEFAULT_SERVER``) was started by
    ``JackServer(virtual_clock=True)``, which names itself in ``$HYBRID_JACK_VIRTUAL_CLOCK``.
    There a late cycle is late, not lost, and the xrun flags PortAudio raises for it are
    clock slips (see ``JackServer``). False for every other host API and server."""
    return _server_in_use_is(VIRTUAL_CLOCK_ENV, hostapi)


def offline_clock(hostapi: str) -> bool:
    """Whether a stream on PortAudio host API ``hostapi`` may run its passes freewheeling: the
    JACK server in use was started by ``JackServer(offline=True)`` (``$HYBRID_JACK_OFFLINE``)."""
    return _server_in_use_is(OFFLINE_ENV, hostapi)


def _server_in_use_is(variable: str, hostapi: str) -> bool:
    """A JACK host API, and the server this process's clients use is the one ``$variable`` names."""
    name = os.environ.get(variable)
    return bool(name) and "jack" in hostapi.lower() and name == os.environ.get("JACK_DEFAULT_SERVER", "default")


@contextmanager
def freewheeling(name: str = "hybrid-freewheel") -> Iterator[None]:
    """The server in use freewheels while the block runs (JACK's offline mode: no clock, each
    cycle starts when every client has finished the last); back on its clock after.

    Only for a simulated room (:func:`offline_clock`): with freewheel on, no audio reaches
    a real interface. A second process freewheeling the same server ends it for both at
    the first exit; their streams then go on at the clock's pace (sync mode: a late
    client slips the clock, nothing is lost)."""
    import jack

    client = _freewheel_client(name)
    if client is None:          # the pass runs at the clock instead (sync mode: nothing is lost)
        yield
        return
    try:
        try:
            call_with_timeout(client.activate, doing="activating the freewheel client")
            call_with_timeout(lambda: client.set_freewheel(True), doing="starting to freewheel")
        except jack.JackError as exc:
            _at_the_clock(exc, 1)
            yield
            return
        try:
            yield
        finally:
            call_with_timeout(lambda: client.set_freewheel(False), doing="stopping freewheeling")
    finally:
        call_with_timeout(client.close, doing="closing the freewheel client")


FREEWHEEL_OPEN_ATTEMPTS = 3


def _freewheel_client(name: str) -> Any:
    """A client to freewheel the server with, or None when the server will not take one after
    ``FREEWHEEL_OPEN_ATTEMPTS`` tries (CI saw a transient ``server_error`` once): the caller's
    pass then runs at the simulated room's clock, slower but whole, and a warning says so (as
    when the client will not activate or freewheel)."""
    import jack

    failure: BaseException | None = None
    for attempt in range(FREEWHEEL_OPEN_ATTEMPTS):
        if attempt:
            time.sleep(0.1 * attempt)
        try:
            return call_with_timeout(lambda: jack.Client(name, no_start_server=True),
                                     doing="opening a client to freewheel the server")
        except jack.JackOpenError as exc:
            failure = exc
    _at_the_clock(failure, FREEWHEEL_OPEN_ATTEMPTS)
    return None


def _at_the_clock(failure: BaseException | None, tries: int) -> None:
    _logger.warning("the JACK server %r would not take a client to freewheel (%s, %d tries): this pass "
                    "runs at the clock", os.environ.get("JACK_DEFAULT_SERVER") or "default", failure, tries)


def realtime_allowed(priority: int = 70) -> bool:
    """Whether this process may give a thread SCHED_FIFO ``priority`` (tried on a thread of
    its own, which then ends: nothing else changes)."""
    if not hasattr(os, "sched_setscheduler"):
        return False
    allowed = [False]

    def attempt() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))  # 0: this thread
            allowed[0] = True
        except (OSError, ValueError):
            pass

    probe = threading.Thread(target=attempt, name="jack-rt-probe", daemon=True)
    probe.start()
    probe.join()
    return allowed[0]


def call_with_timeout(action: Callable[[], T], *, timeout_s: float | None = None,
                      doing: str, device: str | None = None) -> T:
    """Run ``action`` (a call that waits on the JACK server) and give up after ``timeout_s``
    with DeviceTimeoutError naming what was being done.

    The call runs on a thread of its own and is left behind if it never returns (libjack
    cannot be interrupted): the caller gets a clear error instead of a hang. Only for calls
    that release the GIL while they wait (JACK-Client's, which go through CFFI); a call
    that holds it (python-rtmidi's) would stop this thread too.
    """
    if timeout_s is None:
        timeout_s = float(os.environ.get("HYBRID_JACK_TIMEOUT_S", JACK_CALL_TIMEOUT_S))
    result: list[T] = []
    failure: list[BaseException] = []
    finished = threading.Event()

    def run() -> None:
        try:
            result.append(action())
        except BaseException as exc:  # handed to the caller
            failure.append(exc)
        finally:
            finished.set()

    threading.Thread(target=run, name=f"jack-call: {doing}", daemon=True).start()
    if not finished.wait(timeout_s):
        server = os.environ.get("JACK_DEFAULT_SERVER") or "default"
        raise DeviceTimeoutError(f"the JACK server {server!r} did not answer within {timeout_s:.0f} s "
                                 "(wedged or overloaded? try jack_lsp)", device=device or "JACK",
                                 action=doing)
    if failure:
        raise failure[0]
    return result[0]


AUDIO_NICE = -10
"""Niceness for the ordinary threads of an audio process (see ``favour_this_thread``)."""


def favour_this_thread(nice: int = AUDIO_NICE) -> bool:
    """Lower the calling thread's niceness to ``nice`` (threads it starts later inherit it);
    False where not allowed (it then stays as it was).

    Why: a JACK client's process thread is real-time, but a Python one needs the GIL, and
    the GIL is often held by an ordinary thread of the same process (the print worker, the
    gear's simulators). Preempted by other work while holding it, that thread kept the
    real-time callback waiting past its period: under load, and worse in a process started
    with ``nice -n 10`` (the tests), the demo printed xruns even with a real-time server.
    A thread at nice -10 gets the CPU back within a fraction of a millisecond.
    """
    if not hasattr(os, "setpriority"):
        return False
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) > nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)  # on Linux, PRIO_PROCESS with a thread id: that thread
    except OSError:
        return False
    return True


def favour_this_process(nice: int = AUDIO_NICE) -> bool:
    """``favour_this_thread`` for every thread of this process (threads started later by any
    of them inherit it); for processes whose Python threads all stand between a real-time
    JACK callback and the GIL (a JACK MIDI input's, the simulated gear's). False where not allowed."""
    if not hasattr(os, "setpriority") or not os.path.isdir("/proc/self/task"):
        return False
    changed = False
    for name in os.listdir("/proc/self/task"):
        try:
            tid = int(name)
            if os.getpriority(os.PRIO_PROCESS, tid) > nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
            changed = True
        except (OSError, ValueError):
            continue
    return changed


GIL_HOLDERS_BELOW = 5
"""How far below this process's lowest real-time (libjack) thread ``realtime_gil_holders``
puts every other thread."""


@dataclass
class RealtimeHolders:
    """What :func:`realtime_gil_holders` changed: ``priority`` given (0: nothing changed),
    ``threads`` moved, ``locked`` whether memory is locked; ``undo()`` puts it back."""

    priority: int = 0
    threads: int = 0
    locked: bool = False
    note: str = ""
    _saved: list[tuple[int, int, int]] = field(default_factory=list, repr=False)

    def undo(self) -> None:
        saved, self._saved = self._saved, []
        for tid, policy, prio in saved:
            try:
                os.sched_setscheduler(tid, policy, os.sched_param(prio))
            except OSError:
                continue  # the thread has ended
        if self.locked:
            _libc_call("munlockall")
            self.locked = False


def realtime_gil_holders(*, below: int = GIL_HOLDERS_BELOW, lock_memory: bool = False) -> RealtimeHolders:
    """Run every ordinary thread of this process under SCHED_FIFO just below its real-time
    JACK process threads (and, with ``lock_memory``, lock its memory); call once the JACK
    client is active.

    Why: a Python JACK client's real-time process thread needs the GIL every period, and
    the GIL is often held by an ordinary thread of the same process (the print worker,
    the gear's simulators and MIDI dispatchers, the main thread). At nice -10
    (``favour_this_process``) such a thread still shares its core with other work, and
    with both cores busy it was preempted while holding the GIL: the callbacks ran late
    (jackd: "PortAudio-01 was not finished, state = Triggered", the previous cycle still
    waiting for the GIL) and every pass of the demo was spoilt by xruns
    (bench/demo_load.py). Under SCHED_FIFO no ordinary (SCHED_OTHER) process can preempt
    them; below the process threads, they never delay a callback by priority.
    Threads started later by any of them inherit the policy. ``lock_memory`` locks what
    is mapped now (``mlockall(MCL_CURRENT)``), so no page evicted under memory pressure
    faults back in from disk while a thread holds the GIL. Off by default: on the 2-core
    test machine (24 GB, 22 free) no such fault was seen, and paging in the gear process's
    ~200 MB while its callbacks ran coincided with twice the start-up xruns (idle demo:
    jackd reported 84 a run against 46).

    The priority is relative to the real-time threads found in this process (libjack
    creates them at the server's priority minus a few), so with a ``--no-realtime``
    server, or where SCHED_FIFO is not allowed, nothing changes (``priority`` 0, ``note``
    says why) and ``favour_this_process``'s niceness is what remains.
    Only for processes whose ordinary threads never busy-wait: a FIFO thread that spins
    keeps the ordinary work of the machine off its core.
    """
    result = RealtimeHolders()
    if not hasattr(os, "sched_setscheduler") or not os.path.isdir("/proc/self/task"):
        result.note = "no SCHED_FIFO on this system"
        return result
    threads: list[int] = []
    rt_prios: list[int] = []
    for name in os.listdir("/proc/self/task"):
        try:
            tid = int(name)
            policy = os.sched_getscheduler(tid)
            prio = os.sched_getparam(tid).sched_priority
        except (OSError, ValueError):
            continue
        if policy in (os.SCHED_FIFO, os.SCHED_RR):
            rt_prios.append(prio)
        else:
            threads.append(tid)
    if not rt_prios:
        result.note = "no real-time JACK thread in this process (server --no-realtime?)"
        return result
    priority = max(1, min(rt_prios) - below)
    for tid in threads:
        try:
            policy = os.sched_getscheduler(tid)
            os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(priority))
        except OSError as exc:
            if not result.threads:
                result.note = f"SCHED_FIFO not allowed ({exc.strerror})"
                return result
            continue
        result._saved.append((tid, policy, 0))
        result.threads += 1
    result.priority = priority
    if lock_memory:
        result.locked = _libc_call("mlockall", 1) == 0  # MCL_CURRENT: what is mapped now
    return result


def _libc_call(name: str, *args: int) -> int:
    """``libc.name(*args)`` (-1 where there is no such call)."""
    import ctypes

    try:
        func = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return -1
    return int(func(*args))


def _drain_lines(stream: IO[bytes], lines: collections.deque[str], xruns: list[int]) -> None:
    """Read ``stream`` to its end, keeping the last lines (decoded) in ``lines`` and
    counting jackd's xrun reports in ``xruns[0]`` (a client late: its cycle lost, unless
    the server is synchronous) and the dummy driver's late wake-ups in ``xruns[1]``."""
    with stream:
        for raw in iter(stream.readline, b""):
            if b"JackEngine::XRun" in raw:
                xruns[0] += 1
            elif b"JackTimedDriver::Process XRun" in raw:
                xruns[1] += 1
            lines.append(raw.decode(errors="replace").rstrip())


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes jackd get SIGTERM when the starting process dies.

    Without it a test run or demo killed with SIGKILL leaves its server behind, and
    JACK's 8-server limit soon refuses new ones. Linux only, and only when starting
    from the main thread: the death signal follows the *thread* that forked, so a
    server started from a worker thread would die with the worker.
    """
    import sys
    import threading

    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def hook() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died between fork and prctl
            os._exit(1)

    return hook


_REGISTRY = "/dev/shm/jack-shm-registry"
_REGISTRY_MAGIC = 0x4A41434B  # "JACK"
_MAX_SERVERS = 8
_HEADER_FIELDS = 24  # magic u32, protocol u16 (+pad), type, size, hdr_len, entry_len (i32 each)


def reclaim_dead_server_slots(registry: str = _REGISTRY) -> int:
    """Free the JACK server slots held by servers whose process is gone; return how many.

    JACK 2 keeps 8 server slots in a shared-memory registry and reclaims a dead server's
    slot only when a server *of the same name* starts again. Our servers have unique
    names (tests and benches run side by side), so each server that died without
    cleaning up (SIGKILL, a crash) would hold its slot until reboot. This does what
    jackd does for a same-name slot: zero the entry of a process that no longer exists.
    Leaves the registry alone when its layout is not the one we know.
    """
    import struct

    try:
        fd = os.open(registry, os.O_RDWR)
    except OSError:
        return 0
    freed = 0
    try:
        header = os.pread(fd, _HEADER_FIELDS, 0)
        if len(header) < _HEADER_FIELDS:
            return 0
        magic, _protocol, _type, _size, hdr_len, _entry_len = struct.unpack("<IHxxiiii", header)
        stride, rest = divmod(hdr_len - _HEADER_FIELDS, _MAX_SERVERS)
        if magic != _REGISTRY_MAGIC or rest or stride < 8:
            return 0
        for slot in range(_MAX_SERVERS):
            offset = _HEADER_FIELDS + slot * stride
            (pid,) = struct.unpack("<i", os.pread(fd, 4, offset))
            if pid > 0 and not process_exists(pid):
                os.pwrite(fd, bytes(stride), offset)
                freed += 1
    finally:
        os.close(fd)
    return freed


class _NoServerSlot(Exception):
    """jackd refused to start because the machine's server slots are all taken."""


def _is_macos() -> bool:
    import sys

    return sys.platform == "darwin"
