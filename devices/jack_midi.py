"""A mido backend for JACK MIDI on JACK-Client (``mido.Backend("devices.jack_midi")``).

Why not python-rtmidi's JACK API (``mido.backends.rtmidi/UNIX_JACK``), which hybrid used
before on machines without ALSA (containers, CI, the test machines):

- Closing an rtmidi JACK *input* is unsafe while its client is active: RtMidi's
  ``MidiInJack::closePort()`` unregisters the port with no synchronisation with the
  client's process thread, and python-rtmidi's Python callback (mido always installs
  one) needs the GIL inside JACK's process thread while ``close_port()`` holds the GIL
  in the main thread, waiting on the server. Result: occasional segfaults and hangs on
  close under load (``rt_close_stress.py``: exit 139 or a hang in about 1 run of 3).
- An rtmidi JACK output closed right after a send sometimes drops the last message
  (the routing code waited 50 ms before closing as a workaround), and rtmidi drops
  whatever does not fit in one period's MIDI buffer.
- python-rtmidi holds the GIL while it waits for the JACK server, so a process that
  also runs a Python JACK client can deadlock; JACK-Client (CFFI) releases the GIL
  around every libjack call.

How this backend avoids those:

- Names stay what the code and tests expect: a virtual port ``N`` opened with
  ``client_name=X`` gets a client of its own and is ``X:N`` (JACK renames a second
  client ``X-01``, as with rtmidi). Non-virtual ports (the gear hybrid talks to) all
  live on one shared client per process, ``mido:output-1``, ``mido:input-2``...,
  connected to the named port: one process callback a period instead of one per port
  (16 idle ports: about 8x less CPU, ``bench/jack_midi_clients.py``).
- A port is never unregistered under a running process callback: a port leaving the
  shared client first leaves the list its process callback walks, and is unregistered
  once a later cycle has ended; a client's last port closes it with ``deactivate()``
  (libjack waits for the cycle in flight; CFFI has released the GIL, so a callback
  waiting for it finishes) and then ``close()``.
- The process callback is C (``devices/_jack_midi_ring.c``, built once with cffi by
  ``devices.jack_midi_ring``) and only moves bytes: ``send()`` puts an event into the
  port's jack_ringbuffer and the next cycle writes it, whatever does not fit in the
  period's buffer stays queued for the next one (never dropped); incoming events (with
  their frame time) go into the input port's ring, the callback writes a byte to the
  input's pipe, and the input's dispatcher thread pulls them, parses them and calls the
  user's callback or fills the port's queue. No Python, and no user code, runs in JACK's
  process thread: it never waits for the GIL (issue 15: a Python callback late for its
  cycle lost that cycle's MIDI under load; ``bench/jack_midi_load.py``, two busy loops:
  86 and 183 messages lost per 10,000 with the Python callback in two runs, 0 with C). A port's ring
  is freed only once two cycles have ended since it left its slot.
- Where the C callback cannot be built (no compiler or Python headers) the backend logs
  one line and runs the same logic as a Python process callback (deques instead of
  rings); ``HYBRID_JACK_MIDI_CALLBACK=python`` forces it (benchmarks); ``callback_kind()``
  says which runs.
- A non-virtual open returns once two cycles have run with the new connection (the
  server applies it from a later cycle on; a message sent before would go nowhere).
- An output flushes before it closes: it waits (bounded) until the process thread has
  written every queued event and two more cycles have passed, so the destination has
  read them.
- Errors (no server, unknown port, server gone) are ``OSError``, which the device layer
  already turns into DeviceError.

With the Python fallback every process callback needs the GIL once a period. A client
late for its cycle (a thread holding the GIL, a starved CPU) is an xrun, and JACK itself
then loses or repeats that cycle's MIDI (measured: a 20 kB SysEx parsed by mido holds the
GIL for 13 ms, more than two 256-frame periods). So opening the first port lowers Python's GIL switch interval to ``SWITCH_INTERVAL_S`` (from 5 ms, about one
period): a waiting process thread gets the GIL within half a millisecond. That is a
process-wide setting, taken on purpose; every Python JACK client in the process gains.
For the same reason it lowers the niceness of the process's threads to
``devices.jack_server.AUDIO_NICE`` (where allowed): on a busy machine (or in a test run
started with ``nice``) a thread preempted while holding the GIL kept the real-time
process thread waiting for whole periods and input events were lost (the surface suite
lost touches: 3 of 44 failed under two busy loops and a file writer); favoured, 44 of 44.
Every libjack call that waits on the server (open a client, list, connect, close) goes
through ``devices.jack_server.call_with_timeout``: a wedged server is a TimeoutError
(an OSError) naming what was being done, never a hang.
"""

from __future__ import annotations

import collections
import logging
import os
import queue
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import jack
import mido
from mido import ports

from devices import jack_midi_ring
from devices.jack_server import call_with_timeout, favour_this_process

# JACK-Client's own CFFI handles: the process callbacks call libjack's MIDI buffer
# functions directly (one C call per event, no Port-method overhead, bytes copied once),
# which keeps a full buffer's worth of events well inside one period.
_lib, _ffi = jack._lib, jack._ffi

FLUSH_TIMEOUT_S = 1.0
"""Longest an output's close waits for its queued events to be written."""
SWITCH_INTERVAL_S = 0.0005
_DRAIN_CYCLES = 2
MAX_EVENTS_PER_CYCLE = 256
YIELD_EVERY_BYTES = 256
"""The input dispatcher hands the GIL over after parsing about this much (a fraction of a
millisecond of mido's Python parser): 32 SysEx of 1000 bytes parsed in one go held it
~30 ms, many JACK periods, and the process callbacks waiting for it were late (xruns, lost
events)."""
"""Outgoing events written in one cycle at most (the rest wait for the next): a Python
process callback filling a whole 32 kB buffer with 3-byte events ran longer than a
256-frame period, the server reported an xrun and the destination read a half-written
buffer. 256 events a period is still ~48,000 a second at 48 kHz, far above any MIDI
cable."""
MAX_BYTES_PER_CYCLE = 16384
_DEFAULT_CLIENT = {"input": "mido-in", "output": "mido-out"}
SHARED_CLIENT_NAME = "mido"
"""The client carrying this process's non-virtual ports (``mido:output-1``...)."""
_ACTIVE_SENSING = 0xFE
INPUT_RING_BYTES = 1 << 20
"""Each input port's ring (C callback): ~95,000 3-byte events waiting for the dispatcher."""
OUTPUT_RING_BYTES = 1 << 18
OUTPUT_RECORD_MAX = 1 << 16
"""A message longer than this goes into an output's ring in several records (a long SysEx;
JACK carries it in pieces anyway, and the receiving side reassembles it)."""
CALLBACK_ENV = "HYBRID_JACK_MIDI_CALLBACK"
"""``python`` forces the Python process callback (benchmarks, diagnosis); default: C."""
_RECORD_HEAD = struct.Struct("=II")
_log = logging.getLogger(__name__)
_ring_state: list[tuple[Any, Any] | None] = []


def _ring() -> tuple[Any, Any] | None:
    """(ffi, lib) of the C process callback, or None: the Python one (logged once)."""
    if not _ring_state:
        if os.environ.get(CALLBACK_ENV, "c").lower() == "python":
            _ring_state.append(None)
        else:
            loaded = jack_midi_ring.load()
            if loaded is None:
                _log.warning("hybrid: JACK MIDI runs its Python process callback (C callback not built: %s)",
                             jack_midi_ring.failure())
            _ring_state.append(loaded)
    return _ring_state[0]


def callback_kind() -> str:
    """``"C"`` when the JACK process callbacks of this process are the C ring, else ``"python"``."""
    return "C" if _ring() is not None else "python"


def _address(pointer: Any) -> int:
    """A JACK-Client CFFI pointer as a plain address (for the ring module's own ffi)."""
    return int(_ffi.cast("uintptr_t", pointer))



def _server_key() -> str:
    return os.environ.get("JACK_DEFAULT_SERVER") or "default"


OPEN_RETRIES = 3
"""Tries to open a client when the server answers with a communication error (ServerError:
seen under two busy loops when a client named like one just closed opened at once)."""


def _open_client(name: str) -> jack.Client:
    """A new JACK client; DeviceTimeoutError (an OSError) if the server does not answer."""
    attempt = 1
    while True:
        try:
            return call_with_timeout(lambda: jack.Client(name, no_start_server=True),
                                     doing=f"opening JACK client {name!r}")
        except jack.JackError as exc:
            status = getattr(exc, "status", None)
            transient = status is not None and status.server_error and not status.server_failed
            if not transient or attempt >= OPEN_RETRIES:
                raise OSError(f"cannot reach the JACK server {_server_key()!r} ({exc})") from None
        time.sleep(0.05 * attempt)
        attempt += 1


# ---- listing ----------------------------------------------------------------------------

def get_devices(**_kwargs: Any) -> list[dict[str, Any]]:
    """Every JACK MIDI port as mido's device dicts: sources are inputs, destinations outputs.

    Full JACK names (``client:port``), in JACK's order, as rtmidi's JACK API lists them.
    An open port's own client does the listing when there is one (registering a client
    just to list costs a server round trip and a client slot).
    """
    client, temporary = _listing_client()
    try:
        sources, destinations = call_with_timeout(
            lambda: ([p.name for p in client.get_ports(is_midi=True, is_output=True)],
                     [p.name for p in client.get_ports(is_midi=True, is_input=True)]),
            doing="listing JACK MIDI ports")
    finally:
        if temporary:
            client.close()
    return ([{"name": n, "is_input": True, "is_output": False} for n in sources]
            + [{"name": n, "is_input": False, "is_output": True} for n in destinations])


def _listing_client() -> tuple[jack.Client, bool]:
    key = _server_key()
    with _hosts_lock:
        for host in _hosts:
            if host.server == key and host.gone is None and host.client is not None:
                return host.client, False
    return _open_client("mido-list"), True


def get_input_names(**_kwargs: Any) -> list[str]:
    return [d["name"] for d in get_devices() if d["is_input"]]


def get_output_names(**_kwargs: Any) -> list[str]:
    return [d["name"] for d in get_devices() if d["is_output"]]


def get_ioport_names(**_kwargs: Any) -> list[str]:
    """Always empty on JACK, as with rtmidi: a JACK port is a source or a destination."""
    outputs = set(get_output_names())
    return [name for name in get_input_names() if name in outputs]


# ---- JACK clients -----------------------------------------------------------------------

class _Host:
    """One active JACK client and the ports it carries, with one process callback for all.

    The shared host (``shared=True``, one per server and process) carries every
    non-virtual port: their names matter to nobody, and one Python process callback a
    period costs far less than one per port (bench/jack_midi_clients.py). A virtual
    port gets a host of its own, named as asked (JACK renames a second ``X`` to ``X-01``).

    A port leaves a running host in two steps: out of the tuple the process callback
    reads, then, once a later cycle has ended (so no cycle can still be using it),
    unregistered. The last port leaving retires the client: ``deactivate()`` (libjack
    waits for the cycle in flight; CFFI has released the GIL) and ``close()``.
    """

    def __init__(self, name: str, shared: bool):
        self.shared = shared
        self.server = _server_key()
        self.members: tuple[_JackPort, ...] = ()
        self._py_cycles = 0
        self.gone: str | None = None
        self.process_thread: int | None = None
        self.event = _ffi.new("jack_midi_event_t*")
        self._lock = threading.Lock()
        self._next_port = 1
        self._free_slots: list[int] = []
        self._slot_count = 0
        self.client = _open_client(name)
        self.ring_mod = _ring()
        self.ring: Any = None
        try:
            if self.ring_mod is not None:
                rffi, rlib = self.ring_mod
                self.ring = rlib.ring_host_new(rffi.cast("void*", _address(self.client._ptr)),
                                               MAX_EVENTS_PER_CYCLE, MAX_BYTES_PER_CYCLE)
                if self.ring == rffi.NULL or rlib.ring_host_install(self.ring) != 0:
                    raise jack.JackError("cannot install the C process callback")
            else:
                self.client.set_process_callback(self._process)
            self.client.set_shutdown_callback(self._shutdown)
            self.client.activate()
        except jack.JackError as exc:
            self.client.close()
            self._free_ring_host()
            raise OSError(f"cannot activate JACK client {name!r}: {exc}") from None

    @property
    def cycles(self) -> int:
        """Process cycles this client has ended."""
        if self.ring is not None and self.ring_mod is not None:
            return int(self.ring_mod[1].ring_host_cycles(self.ring))
        return self._py_cycles

    def _free_ring_host(self) -> None:
        if self.ring is not None and self.ring_mod is not None:
            self.ring_mod[1].ring_host_free(self.ring)
        self.ring = None

    def plug(self, jport: Any, is_input: bool, wake_fd: int) -> tuple[Any, int]:
        """A ring for ``jport`` in a free slot of the C callback: (ring port, slot)."""
        assert self.ring_mod is not None
        rffi, rlib = self.ring_mod
        size = INPUT_RING_BYTES if is_input else OUTPUT_RING_BYTES
        rport = rlib.ring_port_new(rffi.cast("void*", _address(jport._ptr)), int(is_input), size, wake_fd)
        if rport == rffi.NULL:
            raise OSError(f"cannot allocate a MIDI ring for {jport.name!r}")
        with self._lock:
            if self._free_slots:
                slot = self._free_slots.pop()
            elif self._slot_count < rlib.RING_MAX_PORTS:
                slot = self._slot_count
                self._slot_count += 1
            else:
                rlib.ring_port_free(rport)
                raise OSError(f"more than {rlib.RING_MAX_PORTS} MIDI ports on one JACK client")
            rlib.ring_host_set_slot(self.ring, slot, rport)
        return rport, slot

    def unplug(self, slot: int) -> None:
        """Empty ``slot``: cycles starting from now on no longer see its port."""
        assert self.ring_mod is not None
        self.ring_mod[1].ring_host_set_slot(self.ring, slot, self.ring_mod[0].NULL)

    def release_slot(self, slot: int) -> None:
        """``slot`` may take a new port (two cycles have ended since ``unplug``)."""
        with self._lock:
            self._free_slots.append(slot)

    # JACK's process thread: each member moves its bytes; nothing here may raise.
    def _process(self, frames: int) -> None:
        self.process_thread = threading.get_ident()
        for member in self.members:
            try:
                member._process(frames)
            except Exception as exc:  # an exception into JACK would stop the callback for good
                member._failed = f"process callback failed: {exc}"
        self._py_cycles += 1

    def _shutdown(self, _status: Any, reason: str) -> None:
        self.gone = reason or "JACK server shut down"

    def register(self, direction: str, short_name: str | None) -> Any:
        """A new MIDI port on this client (``short_name`` None: the next free ``input-N``)."""
        with self._lock:
            if short_name is None:
                short_name = f"{direction}-{self._next_port}"
                self._next_port += 1
            ports_of = self.client.midi_inports if direction == "input" else self.client.midi_outports
            try:
                return ports_of.register(short_name)
            except jack.JackError as exc:
                raise OSError(f"cannot register JACK MIDI port {short_name!r}: {exc}") from None

    def attach(self, member: _JackPort) -> None:
        with self._lock:
            self.members = self.members + (member,)

    def has_port(self, short_name: str) -> bool:
        return any(p.shortname == short_name for p in
                   list(self.client.midi_inports) + list(self.client.midi_outports))

    def wait_cycles(self, cycles: int, deadline: float) -> bool:
        """Wait until ``cycles`` more process cycles have ended; False on timeout or shutdown."""
        target = self.cycles + cycles
        while self.cycles < target:
            if self.gone is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True

    def detach(self, member: _JackPort, jport: Any, slot: int | None = None) -> bool:
        """Take ``member`` off this client; True once no process cycle can touch its port
        (its ring may then be freed)."""
        with _hosts_lock:
            with self._lock:
                if member not in self.members:
                    return False
                self.members = tuple(m for m in self.members if m is not member)
                last = not self.members
                if last:
                    _hosts.discard(self)
        if slot is not None:
            self.unplug(slot)
        if self.gone is not None:
            if last:
                _abandon(self.client)
            return False
        in_process_thread = threading.get_ident() == self.process_thread
        if last:
            if in_process_thread:
                # Closed from JACK's own thread (garbage collection of a dropped port):
                # deactivating here would wait for this very cycle. Hand it to a thread.
                threading.Thread(target=_retire, args=(self.client,), daemon=True).start()
                return False
            _retire(self.client)
            self._free_ring_host()  # deactivated: no cycle runs any more
            return True
        if jport is None:
            return False
        if in_process_thread:
            threading.Thread(target=self._unregister, args=(jport, None), daemon=True).start()
            return False
        return self._unregister(jport, slot)

    def _unregister(self, jport: Any, slot: int | None) -> bool:
        # A cycle ending after the member left the tuple (or its slot) may have started
        # before; the one after that started after it left: from then on no process
        # callback can touch the port.
        if not self.wait_cycles(2, time.monotonic() + FLUSH_TIMEOUT_S) or self.gone is not None:
            return False
        with self._lock:
            jport.unregister()
        if slot is not None:
            self.release_slot(slot)
        return True


def _retire(client: jack.Client) -> None:
    def retire() -> None:
        client.deactivate()
        client.close()

    # a wedged server must not hang a close: the client is left behind instead
    call_with_timeout(retire, doing="closing a JACK MIDI client")


def _abandon(client: jack.Client) -> None:
    """Forget a client whose server has gone, without calling into libjack.

    libjack frees a dead server's clients itself once this process opens a new client
    ("Jack server was closed but clients are still allocated, cleanup..."); deactivating
    or closing one afterwards crashed the process (segfault).
    """
    client._ptr = _ffi.NULL


_hosts: set[_Host] = set()
_hosts_lock = threading.Lock()


def _shared_host(member: _JackPort) -> _Host:
    """This server's shared host, ``member`` already attached (so no close retires it meanwhile)."""
    key = _server_key()
    with _hosts_lock:
        for host in _hosts:
            if host.shared and host.server == key and host.gone is None:
                break
        else:
            host = _Host(SHARED_CLIENT_NAME, shared=True)
            _hosts.add(host)
        host.attach(member)
        return host


def _own_host(member: _JackPort, client_name: str) -> _Host:
    host = _Host(client_name, shared=False)
    with _hosts_lock:
        _hosts.add(host)
        host.attach(member)
    return host


# ---- ports ------------------------------------------------------------------------------

class _JackPort:
    """What an input and an output share: a port on a host client, its life and errors."""

    _direction = ""

    def _process(self, frames: int) -> None:
        """Move this port's bytes in JACK's process thread (each direction defines it)."""
        raise NotImplementedError

    def _open_jack(self, name: str | None, virtual: bool, client_name: str | None) -> None:
        self._host = None
        self._jport = None
        self._failed: str | None = None
        self._device_type = "JACK-Client"
        if client_name is not None:
            virtual = True  # as mido's rtmidi backend: a client name means a virtual port
        if virtual and not name:
            raise OSError("virtual port must have a name")
        if sys.getswitchinterval() > SWITCH_INTERVAL_S:
            sys.setswitchinterval(SWITCH_INTERVAL_S)
            favour_this_process()  # the GIL's holders: not to be preempted while the callback waits
        self._port_ptr = None  # the process callback skips this member until it has a port
        self._rport: Any = None  # the port's ring (C callback)
        self._slot: int | None = None
        self._ring_free = False  # True once no process cycle can touch the ring
        host = _own_host(self, client_name or _DEFAULT_CLIENT[self._direction]) if virtual else _shared_host(self)
        jport = target = None
        try:
            if not virtual:
                target = self._target(host.client, name)
            jport = host.register(self._direction, name if virtual else None)
            self._host, self._jport = host, jport
            if host.ring is not None:
                self._rport, self._slot = host.plug(jport, self._direction == "input", self._wake_fd())
            else:
                self._port_ptr = jport._ptr
            if target is not None:
                pair = (target, jport) if self._direction == "input" else (jport, target)
                try:
                    call_with_timeout(lambda: host.client.connect(*pair), doing=f"connecting to {target!r}")
                except jack.JackError as exc:
                    raise OSError(f"cannot connect to JACK MIDI port {target!r}: {exc}") from None
                # The server applies a new connection from a later cycle on: an event
                # written before then would go nowhere. Let two cycles pass.
                host.wait_cycles(_DRAIN_CYCLES, time.monotonic() + FLUSH_TIMEOUT_S)
        except BaseException:
            self._host = self._jport = None
            self._ring_free = host.detach(self, jport, self._slot)
            self._free_ring()
            raise
        self.name = name if virtual else target

    @property
    def _gone(self) -> str | None:
        host = self._host
        if host is not None and host.gone is not None:
            return host.gone
        return self._failed

    @property
    def _client(self) -> Any:
        return self._host.client if self._host is not None else None

    @property
    def _cycles(self) -> int:
        return self._host.cycles if self._host is not None else 0

    def _target(self, client: jack.Client, name: str | None) -> str:
        wanted = dict(is_input=True) if self._direction == "output" else dict(is_output=True)
        names = call_with_timeout(lambda: [p.name for p in client.get_ports(is_midi=True, **wanted)],
                                  doing="listing JACK MIDI ports")
        if name is None:
            if not names:
                raise OSError("no ports available")
            return str(names[0])
        if name not in names:
            raise OSError(f"unknown port {name!r}")
        return name

    @property
    def connection_count(self) -> int | None:
        """How many ports this port is connected to now: a local look at JACK's graph, no port
        listing. A named port's client going away drops its connection (0). None when closed."""
        jport = self._jport
        if jport is None or self._gone is not None:
            return None
        try:
            return int(jport.number_of_connections)
        except jack.JackError:
            return None

    def _check_alive(self) -> None:
        if self._gone is not None:
            raise OSError(f"JACK MIDI port {self.name!r} is gone: {self._gone}")

    def _in_process_thread(self) -> bool:
        return self._host is not None and threading.get_ident() == self._host.process_thread

    def _close_jack(self) -> None:
        with _hosts_lock:  # two threads closing one port: only the first leaves the host
            host, jport = self._host, self._jport
            self._host = None
        if host is not None:
            self._ring_free = host.detach(self, jport, self._slot)

    def _wake_fd(self) -> int:
        """The file descriptor the C callback writes to after new input (-1: none)."""
        return -1

    def _free_ring(self) -> None:
        """Free the port's ring once no cycle can touch it (else it is left allocated)."""
        rport, self._rport = self._rport, None
        if rport is not None and self._ring_free:
            ring = _ring()
            assert ring is not None
            ring[1].ring_port_free(rport)

    def _wait_cycles(self, cycles: int, deadline: float) -> bool:
        host = self._host
        return host is not None and host.wait_cycles(cycles, deadline)


class Input(_JackPort, ports.BaseInput):  # type: ignore[misc]  # mido's bases are untyped
    """A JACK MIDI input; messages go to ``callback`` or to the queue ``receive()`` reads."""

    _locking = False
    _direction = "input"

    def _open(self, virtual: bool = False, client_name: str | None = None,
              callback: Callable[[mido.Message], None] | None = None, **_kwargs: Any) -> None:
        self._incoming: collections.deque[bytes] = collections.deque()
        self._wake = threading.Event()
        self._stopping = False
        self._queue: queue.Queue[mido.Message] = queue.Queue()
        self._callback: Callable[[mido.Message], None] | None = None
        self._callback_lock = threading.RLock()
        self._sysex: bytearray | None = None
        self.callback = callback
        self._dispatcher = threading.Thread(target=self._dispatch, daemon=True,
                                            name=f"jack-midi-in {self.name}")
        self._event = _ffi.new("jack_midi_event_t*")
        self._release_lock = threading.Lock()
        self._pipe: tuple[int, int] | None = None
        if _ring() is not None:
            self._pipe = os.pipe()
            os.set_blocking(self._pipe[1], False)  # the C callback must never block on it
        try:
            self._open_jack(self.name, virtual, client_name)
        except BaseException:
            self._close_pipe()
            raise
        if self._rport is not None:
            self._dispatcher = threading.Thread(target=self._dispatch_ring, daemon=True)
        else:
            self._close_pipe()
        self._dispatcher.name = f"jack-midi-in {self.name}"
        self._dispatcher.start()

    def _wake_fd(self) -> int:
        return self._pipe[1] if self._pipe is not None else -1

    def _close_pipe(self) -> None:
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            os.close(pipe[0])
            os.close(pipe[1])

    def _release(self) -> None:
        """Free the ring and its pipe once the port has left JACK and the dispatcher is done."""
        with self._release_lock:
            if self._ring_free:
                self._free_ring()
                self._close_pipe()

    # JACK's process thread: copy the bytes, wake the dispatcher, nothing else.
    def _process(self, frames: int) -> None:
        if self._port_ptr is None:
            return
        buf = _lib.jack_port_get_buffer(self._port_ptr, frames)
        count = _lib.jack_midi_get_event_count(buf)
        if count:
            event, append, get = self._event, self._incoming.append, _lib.jack_midi_event_get
            as_bytes = _ffi.buffer
            for i in range(count):
                if get(event, buf, i) == 0:
                    append(as_bytes(event.buffer, event.size)[:])  # bytes, copied once
            self._wake.set()

    def _dispatch(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            parsed_bytes = 0
            while self._incoming:
                data = self._incoming.popleft()
                parsed_bytes += len(data) + 32      # mido parses in Python, about 1 us a byte
                if parsed_bytes >= YIELD_EVERY_BYTES:
                    parsed_bytes = 0
                    time.sleep(0)  # let a JACK process thread waiting for the GIL have it now
                self._deliver(data)
            if self._stopping:
                return

    def _dispatch_ring(self) -> None:
        """The dispatcher with the C callback: woken through the pipe, it pulls whole
        records (``=II`` size and frame time, then the bytes) out of the port's ring."""
        ring, pipe, rport = _ring(), self._pipe, self._rport
        assert ring is not None and pipe is not None
        rffi, rlib = ring
        buf = rffi.new("unsigned char[]", INPUT_RING_BYTES)
        head = _RECORD_HEAD.size
        try:
            while True:
                os.read(pipe[0], 4096)  # blocks with the GIL released
                while True:
                    got = rlib.ring_port_pull(rport, buf, INPUT_RING_BYTES)
                    if not got:
                        break
                    data = rffi.buffer(buf, got)[:]
                    offset = 0
                    while offset < got:
                        size, _frame = _RECORD_HEAD.unpack_from(data, offset)
                        self._deliver(data[offset + head:offset + head + size])
                        offset += head + size
                if self._stopping:
                    return
        finally:
            if self._stopping:
                self._release()

    def _deliver(self, data: bytes) -> None:
        for msg in self._parse(data):
            with self._callback_lock:  # a callback being swapped in gets it, not the queue
                try:
                    (self._callback or self._queue.put)(msg)
                except Exception:  # a callback's bug must not stop the input
                    traceback.print_exc()

    @property
    def lost(self) -> int:
        """Events the C callback dropped because this input's ring was full (0: none)."""
        ring, rport = _ring(), self._rport
        return int(ring[1].ring_port_lost(rport)) if ring is not None and rport is not None else 0

    def _parse(self, data: bytes) -> list[mido.Message]:
        """Messages in one JACK event; a SysEx longer than a period's buffer comes in pieces."""
        if self._sysex is not None:
            self._sysex += data
            if data[-1:] != b"\xf7":
                return []
            data, self._sysex = bytes(self._sysex), None
        elif data[:1] == b"\xf0" and data[-1:] != b"\xf7":
            self._sysex = bytearray(data)
            return []
        if not data or data[0] == _ACTIVE_SENSING:
            return []
        try:
            return [mido.Message.from_bytes(data)]
        except ValueError:
            return []  # not a valid message: ignored, as mido's rtmidi backend does

    @property
    def callback(self) -> Callable[[mido.Message], None] | None:
        return self._callback

    @callback.setter
    def callback(self, func: Callable[[mido.Message], None] | None) -> None:
        with self._callback_lock:
            if func:
                while True:  # the new callback gets what queued up meanwhile
                    try:
                        func(self._queue.get_nowait())
                    except queue.Empty:
                        break
            self._callback = func

    def receive(self, block: bool = True) -> mido.Message | None:
        """The next message (None when ``block`` is false and none is there)."""
        self._check_callback()
        if not block:
            return self.poll()
        while True:
            try:
                return self._queue.get(timeout=0.1)
            except queue.Empty:
                if self.closed:
                    raise OSError("port closed during receive()") from None

    def poll(self) -> mido.Message | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    receive.__doc__ = ports.BaseInput.receive.__doc__
    poll.__doc__ = ports.BaseInput.poll.__doc__

    def _close(self) -> None:
        self._close_jack()
        self._stopping = True
        self._wake.set()
        with self._release_lock:  # the dispatcher may be closing the pipe meanwhile
            if self._pipe is not None:
                try:
                    os.write(self._pipe[1], b"\0")
                except BlockingIOError:
                    pass  # full: the dispatcher is awake anyway
        if self._dispatcher.is_alive() and threading.current_thread() is not self._dispatcher:
            self._dispatcher.join(FLUSH_TIMEOUT_S)
        if not self._dispatcher.is_alive():
            self._release()
        # else the dispatcher releases the ring on its way out (a callback closing its port)


class Output(_JackPort, ports.BaseOutput):  # type: ignore[misc]  # mido's bases are untyped
    """A JACK MIDI output; ``send()`` queues, the next process cycle writes."""

    _direction = "output"

    def _open(self, virtual: bool = False, client_name: str | None = None, **_kwargs: Any) -> None:
        # (due frame or None, bytes): the Python process callback's queue (no C callback)
        self._outgoing: collections.deque[tuple[int | None, bytes]] = collections.deque()
        self._push_lock = threading.Lock()
        self._pushed = 0
        self._open_jack(self.name, virtual, client_name)

    def send(self, msg: mido.Message) -> None:
        """Queue ``msg`` for the next process cycle (its bytes are copied now)."""
        self._queue(msg, None)

    def send_at(self, msg: mido.Message, when_s: float) -> None:
        """Queue ``msg`` to go out at ``when_s`` (``time.monotonic()``), placed at that frame.

        The process cycle writes it at the offset within its period that matches ``when_s``
        (JACK frame time), so messages booked ahead keep the wire's spacing however late the
        sending thread wakes; a time already past goes out in the next cycle. Every event is
        placed one period later than its time, the latency of any JACK output: a cycle has
        already been written when its frames are current, and the spacing of the first
        period's events would otherwise be lost.
        """
        client = self._client
        if client is None:
            raise ValueError("send() called on closed port")
        # Not clamped to now: a slot that began a moment ago (the first message of a burst,
        # booked just before this call) keeps its place, one period on, like the rest.
        ring = _ring()
        if ring is not None:     # both clocks read in C, with no thread switch between them
            frame = int(ring[1].ring_frame_at(client._ptr, when_s))
        else:
            frame = client.frame_time + round((when_s - time.monotonic()) * client.samplerate)
        self._queue(msg, (frame + client.blocksize) & 0xFFFFFFFF)

    def _queue(self, msg: mido.Message, due_frame: int | None) -> None:
        if not isinstance(msg, mido.Message):
            raise TypeError("argument to send() must be a Message")
        if self.closed:
            raise ValueError("send() called on closed port")
        self._check_alive()
        data = bytes(msg.bytes())
        if self._rport is None:
            self._outgoing.append((due_frame, data))  # a deque append is thread-safe: no lock
            return
        with self._push_lock:  # one writer at a time into the ring
            for start in range(0, len(data), OUTPUT_RECORD_MAX):
                self._push(data[start:start + OUTPUT_RECORD_MAX], due_frame if start == 0 else None)

    def _push(self, record: bytes, due_frame: int | None) -> None:
        """Put one record into the ring, waiting (bounded) while the ring is full."""
        ring, rport = _ring(), self._rport
        if ring is None or rport is None:
            raise ValueError("send() called on closed port")
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        timed, due = (0, 0) if due_frame is None else (1, due_frame)
        while not ring[1].ring_port_push(rport, record, len(record), timed, due):
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"JACK MIDI port {self.name!r}: the process cycle took nothing "
                                   f"for {FLUSH_TIMEOUT_S:.0f} s (server wedged?)")
            time.sleep(0.0005)
        self._pushed += 1

    def _send(self, msg: mido.Message) -> None:
        self.send(msg)

    # JACK's process thread: write what fits, keep the rest for the next cycle; a timed
    # event waits for the cycle that holds its frame (as the C callback does).
    def _process(self, frames: int) -> None:
        if self._port_ptr is None:
            return
        buf = _lib.jack_port_get_buffer(self._port_ptr, frames)
        _lib.jack_midi_clear_buffer(buf)
        pending = self._outgoing
        if pending:
            room_of, write = _lib.jack_midi_max_event_size, _lib.jack_midi_event_write
            client = self._client
            now = client.last_frame_time if client is not None else 0
            events = written = floor = 0
            while pending and events < MAX_EVENTS_PER_CYCLE and written < MAX_BYTES_PER_CYCLE:
                due, data = pending[0]
                at = floor
                if due is not None:
                    ahead = ((due - now + 0x80000000) & 0xFFFFFFFF) - 0x80000000  # frame times wrap
                    if ahead >= frames:
                        break
                    at = max(floor, ahead)
                room = room_of(buf)
                if len(data) > room:
                    if events or room < 2:
                        break
                    # Larger than a whole empty buffer: a SysEx goes in pieces.
                    data, pending[0] = data[:room], (None, data[room:])
                    write(buf, at, data, len(data))
                    break
                write(buf, at, data, len(data))
                floor = at
                pending.popleft()
                events += 1
                written += len(data)

    @property
    def pending(self) -> int:
        """Events queued but not yet written to JACK."""
        ring, rport = _ring(), self._rport
        if ring is not None and rport is not None:
            return max(0, self._pushed - int(ring[1].ring_port_done(rport)))
        return len(self._outgoing)

    def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> bool:
        """Wait until every queued event has reached the destination's cycle; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.pending:
            if self._gone is not None or self._client is None or time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return self._wait_cycles(_DRAIN_CYCLES, deadline)

    def _close(self) -> None:
        if self._client is not None and not self._in_process_thread():
            self.flush()
        self._close_jack()
        with self._push_lock:  # no send() is writing into the ring now
            self._free_ring()


class IOPort(ports.IOPort):  # type: ignore[misc]  # mido's bases are untyped
    """An input and an output under one name (two clients, as with rtmidi's backend)."""

    def __init__(self, name: str | None = None, virtual: bool = False,
                 callback: Callable[[mido.Message], None] | None = None, autoreset: bool = False,
                 **kwargs: Any) -> None:
        inp = Input(name, virtual=virtual, callback=callback, **kwargs)
        try:
            out = Output(name, virtual=virtual, autoreset=autoreset, **kwargs)
        except BaseException:
            inp.close()
            raise
        super().__init__(inp, out)
