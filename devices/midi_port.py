"""MIDI ports by name through a mido backend: python-rtmidi, or JACK-Client on JACK.

The backend is passed explicitly (never mido's global ``set_backend``). Without one,
``MIDO_BACKEND`` decides; failing that, rtmidi's default API (CoreMIDI, ALSA, Windows),
except on Linux without an ALSA sequencer (containers, CI, this project's test
machines), where JACK MIDI goes through :mod:`devices.jack_midi` (rtmidi's JACK API
crashes or hangs closing an input under traffic, and holds the GIL while it waits for
the JACK server: see that module). rtmidi's JACK API stays selectable as
``MIDO_BACKEND=mido.backends.rtmidi/UNIX_JACK``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import mido

from devices.errors import AmbiguousPortError, DeviceError, DeviceTimeoutError, PortNotFoundError
from devices.monitor import IN, OUT, TrafficMonitor
from devices.wire import WireClock, shared_wire

RTMIDI_JACK_BACKEND = "mido.backends.rtmidi/UNIX_JACK"
#: The backend on JACK (Linux without ALSA): devices.jack_midi. It closes safely under
#: traffic and never drops output; its input once lost a cycle's events when the GIL was
#: late (surface touches went missing), which a real-time server (devices.jack_server)
#: and favoured GIL holders (jack_midi's favour_this_process) cured: the surface suite
#: passes on it (44 of 44) where it lost touches before.
JACK_BACKEND = "devices.jack_midi"
T = TypeVar("T")
_CHECK_EVERY_S = 0.25


def midi_backend(name: str | None = None) -> mido.Backend:
    """A loaded mido backend: ``name``, else ``$MIDO_BACKEND``, else the one that works here
    (rtmidi, on its JACK API on Linux without ALSA; :mod:`devices.jack_midi` on request)."""
    chosen = name or os.environ.get("MIDO_BACKEND")
    if not chosen:
        chosen = "mido.backends.rtmidi"
        if sys.platform.startswith("linux") and not os.path.exists("/dev/snd/seq"):
            chosen = JACK_BACKEND
    try:
        return mido.Backend(chosen, load=True, use_environ=False)
    except (ImportError, ValueError) as exc:
        raise DeviceError(f"cannot load MIDI backend {chosen!r}: {exc}", action="opening MIDI") from None


def list_ports(backend: mido.Backend | None = None, *, quiet: bool = False) -> dict[str, list[str]]:
    """``{"outputs": [...], "inputs": [...]}`` as the backend sees them (destinations and sources).

    ``quiet`` keeps the C libraries' own chatter (libjack prints to fd 2 when no server
    runs) off the terminal while listing.
    """
    backend = backend or midi_backend()
    try:
        with _quiet_fd2(quiet):
            return retry_busy(lambda: {"outputs": list(backend.get_output_names()),
                                       "inputs": list(backend.get_input_names())},
                              attempts=2 if quiet else 3)
    except DeviceError:
        raise
    except (OSError, RuntimeError, SystemError) as exc:  # rtmidi raises SystemError when no API works
        raise DeviceError(f"cannot list MIDI ports: {exc}", action="listing MIDI ports") from None


def close_ports(*ports: Any) -> None:
    """Close mido ports, ignoring a port whose server has already gone."""
    for port in ports:
        if port is not None:
            try:
                port.close()
            except (OSError, RuntimeError, SystemError):
                pass


BUSY_ERRORS: tuple[type[BaseException], ...] = (RuntimeError, SystemError, OSError)


def retry_busy(action: Callable[[], T], attempts: int = 5, pause_s: float = 0.05,
               errors: tuple[type[BaseException], ...] = BUSY_ERRORS) -> T:
    """Run ``action``, again after a pause (doubling) if the MIDI system was too busy to answer.

    The one retry helper of the device layer (gear and control surfaces). A JACK server
    under load can miss a new client's handshake (rtmidi then reports "JACK server not
    running?"); a second try a moment later succeeds. A real absence fails every attempt
    and is reported.
    """
    for attempt in range(attempts):
        try:
            return action()
        except TimeoutError:  # the server did not answer in time: trying again only waits longer
            raise
        except errors:
            if attempt == attempts - 1:
                raise
            time.sleep(pause_s * 2 ** attempt)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def _quiet_fd2(quiet: bool) -> Iterator[None]:
    if not quiet:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def find_port(wanted: str, names: list[str], *, direction: str = "output", device: str | None = None) -> str | None:
    """The one port called ``wanted``, or None; AmbiguousPortError listing the candidates when
    several fit equally well.

    The one port lookup of the device layer (gear and control surfaces). Tried in order,
    the first step that fits decides: the exact name; the exact client or port part
    (JACK names ports ``client:port``); the client without JACK's ``-01`` suffix for a
    second client of one name; a case-insensitive part of the name. ``hy-comp-cc`` never
    picks ``hy-comp-cc2``, and ``Comp`` refuses to choose between ``Bus Comp A`` and ``Bus Comp B``.
    """
    if wanted in names:
        return wanted

    def parts(name: str) -> tuple[str, str, str]:
        client, _, port = name.partition(":")
        base = client.rsplit("-", 1)[0] if client.rsplit("-", 1)[-1].isdigit() else client
        return client, port, base

    steps = (
        [n for n in names if wanted in parts(n)[:2]],
        [n for n in names if wanted == parts(n)[2]],
        [n for n in names if wanted.lower() in n.lower()],
    )
    for hits in steps:
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise AmbiguousPortError(f"MIDI {direction} port name {wanted!r} is ambiguous: matches "
                                     + ", ".join(repr(h) for h in hits) + "; give more of the name",
                                     candidates=hits, device=device, action="opening")
    return None


def match_port(wanted: str, names: list[str], *, direction: str = "output", device: str | None = None) -> str:
    """:func:`find_port`, refusing none as well: PortNotFoundError listing the ports present."""
    found = find_port(wanted, names, direction=direction, device=device)
    if found is None:
        raise PortNotFoundError(f"no MIDI {direction} port matches {wanted!r}; present: "
                                + (", ".join(names) or "none"), device=device, action="opening")
    return found


class MidiPort:
    """An output (and, when asked, an input) on one piece of gear, paced and monitored.

    ``clock`` paces sends (None = no pacing). Errors name ``device``.
    """

    def __init__(self, wanted: str, *, device: str, backend: mido.Backend | None = None,
                 clock: WireClock | None = None, monitor: TrafficMonitor | None = None,
                 want_input: bool = False):
        self.wanted = wanted
        self.device = device
        self.backend = backend or midi_backend()
        self.clock = clock
        self.monitor = monitor
        self.want_input = want_input
        self.output_name: str | None = None
        self.input_name: str | None = None
        self._out = None
        self._in = None
        self._queue: queue.Queue[mido.Message] = queue.Queue()
        self._listeners: list[Callable[[mido.Message], None]] = []
        self._lock = threading.Lock()
        self._checked_s = 0.0

    # ---- life cycle ----------------------------------------------------------------
    def open(self) -> MidiPort:
        ports = list_ports(self.backend)
        self.output_name = match_port(self.wanted, ports["outputs"], device=self.device)
        try:
            self._out = retry_busy(lambda: self.backend.open_output(self.output_name))
        except (OSError, RuntimeError, SystemError) as exc:
            self.close()
            raise DeviceError(f"cannot open MIDI port {self.output_name!r}: {exc}", device=self.device,
                              action="opening") from None
        self._checked_s = time.monotonic()
        if self.clock is not None:
            # Every device on this port shares the cable's booking.
            self.clock.wire = shared_wire(f"midi:{self.output_name}")
        if self.want_input:
            self.open_input("opening", ports["inputs"])
        return self

    def open_input(self, action: str, names: list[str] | None = None) -> None:
        """Open the gear's answering port, if not yet open (read-back and learning need it).

        Opened only when wanted: every input port opened is one more JACK client (and
        closing a JACK input is where rtmidi is most fragile under load).
        """
        if self._in is not None:
            return
        if names is None:
            names = list_ports(self.backend)["inputs"]
        self.input_name = find_port(self.wanted, names, direction="input", device=self.device)
        if self.input_name is None:
            raise DeviceError(f"no MIDI input port matches {self.wanted!r}, so the gear cannot answer; "
                              f"present: {', '.join(names) or 'none'}", device=self.device, action=action)
        try:
            self._in = retry_busy(lambda: self.backend.open_input(self.input_name, callback=self._received))
        except (OSError, RuntimeError, SystemError) as exc:
            raise DeviceError(f"cannot open MIDI input {self.input_name!r}: {exc}", device=self.device,
                              action=action) from None

    def close(self) -> None:
        close_ports(self._in, self._out)
        self._in = self._out = None

    @property
    def is_open(self) -> bool:
        return self._out is not None

    # ---- sending -------------------------------------------------------------------
    def send(self, msg: mido.Message, *, note: str = "") -> None:
        if self._out is None:
            raise DeviceError("port is not open", device=self.device, action=note or "sending")
        data = msg.bytes()
        # a port that places messages at a time (JACK MIDI) is given each one's slot on the wire
        timed = self.books_ahead
        when_s = None
        if self.clock is not None:
            when_s = self.clock.wait_turn(len(data), is_sysex=msg.type == "sysex", timed=timed)
        if time.monotonic() - self._checked_s > _CHECK_EVERY_S:
            self.check_present(note or "sending")
        try:
            if timed:
                self._out.send_at(msg, when_s)
            else:
                self._out.send(msg)
        except (OSError, RuntimeError, SystemError, ValueError) as exc:
            raise DeviceError(f"MIDI port {self.output_name!r} failed: {exc}", device=self.device,
                              action=note or "sending") from None
        if self.monitor is not None:
            self.monitor.record(OUT, self.output_name, data, note, at_s=when_s if timed else None)

    @property
    def books_ahead(self) -> bool:
        """Paced, on a port that places each message at its slot (JACK MIDI's ``send_at``)."""
        return self.clock is not None and hasattr(self._out, "send_at")

    def drain(self) -> None:
        """Check the port is still there (while the last bytes go out), then wait until they have."""
        self.check_present("sending")
        if self.clock is not None:
            self.clock.drain()

    def check_present(self, action: str) -> None:
        """Raise DeviceError if the gear's port has gone (unplugged, switched off, crashed)."""
        self._checked_s = time.monotonic()
        # devices.jack_midi knows its own port's connections without listing every port on the
        # server (a listing costs tens of ms on a busy server, twice per recall of a unit)
        count = getattr(self._out, "connection_count", None)
        if isinstance(count, int) and count > 0:
            return
        names = self._port_names(self._out)
        if count == 0 or (names is not None and self.output_name not in names):
            raise DeviceError(f"MIDI port {self.output_name!r} has gone (unplugged or switched off?)",
                              device=self.device, action=action)

    def _port_names(self, port: Any) -> list[str] | None:
        # The open port's own rtmidi client can list ports without registering a new client
        # (devices.jack_midi lists through an open port's client by itself).
        rt = getattr(port, "_rt", None)
        try:
            if rt is not None:
                return list(rt.get_ports())
            return list(self.backend.get_output_names())
        except (OSError, RuntimeError, SystemError):
            return None

    # ---- receiving -----------------------------------------------------------------
    def _received(self, msg: mido.Message) -> None:
        if self.monitor is not None:
            self.monitor.record(IN, self.input_name or "", msg.bytes())
        self._queue.put(msg)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(msg)

    def add_listener(self, callback: Callable[[mido.Message], None]) -> Callable[[], None]:
        self.open_input("listening")
        with self._lock:
            self._listeners.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)
        return remove

    def flush_input(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def receive(self, predicate: Callable[[mido.Message], bool], timeout_s: float, *, action: str) -> mido.Message:
        """The first incoming message for which ``predicate`` is true, or DeviceTimeoutError."""
        self.open_input(action)
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.check_present(action)
                raise DeviceTimeoutError(f"no answer within {timeout_s * 1000:.0f} ms",
                                         device=self.device, action=action)
            try:
                msg = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if predicate(msg):
                return msg
