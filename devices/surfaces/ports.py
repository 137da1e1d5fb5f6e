"""Opening MIDI ports by name through an explicitly chosen mido backend, and reading
inputs by polling.

Surfaces appear under names such as ``MCU Pro USB v3.1 MIDI 1`` (ALSA) or
``a2j:MCU Pro [20] (capture): MCU Pro MIDI 1`` (JACK); a person types a part of it.
The backend is passed in, never set globally (mido's ``set_backend`` is import-time
global state): the device layer's choice (:func:`devices.midi_port.midi_backend`), on a
machine without ALSA :mod:`devices.jack_midi`.

Inputs are polled, never read through a callback. With rtmidi a callback runs Python
inside the MIDI thread (on JACK, inside JACK's process cycle, where it waits for the
GIL, and closing the port while a message is being delivered deadlocks; mido's rtmidi
input always installs such a callback), so an rtmidi input is an ``rtmidi.MidiIn``
without one, queueing in C++. Other backends (devices.jack_midi queues in Python and
never runs user code in JACK's thread) are read with mido's ``iter_pending()``. Either
way a poll costs at most one poll interval (1 ms) of latency.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import mido

from devices.errors import DeviceError
from devices.midi_port import match_port, retry_busy
from devices.midi_port import midi_backend as devices_midi_backend

log = logging.getLogger(__name__)

try:  # python-rtmidi's own error root, raised through mido's rtmidi backend
    from rtmidi import RtMidiError as _RtMidiError
except ImportError:  # another backend: its errors are OSError/ValueError
    class _RtMidiError(Exception):
        pass

_OPEN_ERRORS = (OSError, RuntimeError, ValueError, _RtMidiError)
SEND_ERRORS = _OPEN_ERRORS  # what a send on a closed or vanished port raises



T = TypeVar("T")
OPEN_ATTEMPTS = 4  # a JACK server under load sometimes drops a client while it connects


def _retrying(action: Callable[[], T]) -> T:
    """Run ``action()`` with the device layer's retry helper, on the errors a surface port raises."""
    return retry_busy(action, attempts=OPEN_ATTEMPTS, errors=_OPEN_ERRORS)


# The device layer's choice of backend, so surfaces and gear agree.
midi_backend = devices_midi_backend


def port_names(backend: mido.Backend) -> tuple[list[str], list[str]]:
    """(input names, output names) of ``backend``; DeviceError if the MIDI system is not there."""
    try:
        return _retrying(backend.get_input_names), _retrying(backend.get_output_names)
    except _OPEN_ERRORS as exc:
        raise DeviceError(f"cannot list MIDI ports ({backend.name}): {exc}", action="opening MIDI") from exc


def find_port(available: list[str], wanted: str, *, direction: str, device: str) -> str:
    """The one port in ``available`` that ``wanted`` names (the device layer's one lookup,
    :func:`devices.midi_port.find_port`); DeviceError listing the ports when none or several match."""
    return match_port(wanted, available, direction=direction, device=device)


def open_output(backend: mido.Backend, wanted: str, *, device: str, available: list[str] | None = None):
    """An output port whose name matches ``wanted`` (see ``open_input``)."""
    try:
        if available is None:
            available = port_names(backend)[1]
        name = find_port(available, wanted, direction="output", device=device)
        return _retrying(lambda: backend.open_output(name))
    except DeviceError:
        raise
    except _OPEN_ERRORS as exc:
        raise DeviceError(f"cannot open MIDI output {wanted!r}: {exc}", device=device, action="opening") from exc


class PolledInput:
    """A MIDI input read by ``pending()`` from a poller thread.

    For rtmidi backends the port is an ``rtmidi.MidiIn`` without a callback (see the module
    docstring); other backends go through mido's own port and ``iter_pending()``.
    """

    QUEUE_SIZE = 4096  # messages rtmidi keeps between two polls

    def __init__(self, backend: mido.Backend, name: str, *, virtual: bool = False,
                 client_name: str | None = None, device: str | None = None):
        self.name = name
        self._rt = None
        self._port = None
        try:
            _retrying(lambda: self._open(backend, name, virtual, client_name, device))
        except DeviceError:
            self.close()
            raise
        except _OPEN_ERRORS as exc:
            self.close()
            raise DeviceError(f"cannot open MIDI input {name!r}: {exc}", device=device, action="opening") from exc

    def _open(self, backend, name, virtual, client_name, device) -> None:
        self.close()
        if backend.module.__name__ == "mido.backends.rtmidi":
            import rtmidi

            api = getattr(rtmidi, f"API_{backend.api}") if backend.api else rtmidi.API_UNSPECIFIED
            self._rt = rtmidi.MidiIn(rtapi=api, name=client_name or "hybrid",
                                     queue_size_limit=self.QUEUE_SIZE)
            self._rt.ignore_types(sysex=False, timing=True, active_sense=True)
            if virtual:
                self._rt.open_virtual_port(name)
            else:
                ports = self._rt.get_ports()
                if name not in ports:
                    raise DeviceError(f"MIDI input {name!r} went away while opening", device=device,
                                      action="opening")
                self._rt.open_port(ports.index(name))
        else:
            self._port = backend.open_input(name, virtual=virtual, client_name=client_name) \
                if virtual else backend.open_input(name)

    def pending(self) -> list[mido.Message | bytes]:
        """Messages received since the last call; raw ``bytes`` for what does not parse."""
        if self._rt is None:
            return list(self._port.iter_pending()) if self._port is not None else []
        out: list[mido.Message | bytes] = []
        while True:
            item = self._rt.get_message()
            if item is None:
                return out
            data = item[0]
            try:
                out.append(mido.Message.from_bytes(data))
            except ValueError:
                out.append(bytes(data))

    def close(self) -> None:
        if self._rt is not None:
            self._rt.close_port()
            self._rt.delete()
            self._rt = None
        if self._port is not None:
            self._port.close()
            self._port = None


def open_input(backend: mido.Backend, wanted: str, *, device: str,
               available: list[str] | None = None) -> PolledInput:
    """A polled input whose name matches ``wanted``. ``available``: the backend's input
    names, when the caller listed them already (listing costs a client connection on JACK)."""
    if available is None:
        available = port_names(backend)[0]
    return PolledInput(backend, find_port(available, wanted, direction="input", device=device), device=device)


class InputPoller:
    """One thread that polls several inputs and hands each message to its handler.

    It polls every ``poll_s`` while messages flow and every ``idle_poll_s`` once nothing
    came for ``idle_after_s``: a hand on a fader sends a touch first, so the moves that
    matter are read at the fast rate, and an idle console costs little CPU.
    """

    def __init__(self, name: str, poll_s: float = 0.001, idle_poll_s: float = 0.004,
                 idle_after_s: float = 0.25):
        self.poll_s = poll_s
        self.idle_poll_s = max(poll_s, idle_poll_s)
        self.idle_after_s = idle_after_s
        self._inputs: list[tuple[PolledInput, Callable]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"midi-in {name}", daemon=True)
        self._thread.start()

    def add(self, port: PolledInput, handler: Callable[[mido.Message | bytes], None]) -> None:
        with self._lock:
            self._inputs.append((port, handler))

    def _run(self) -> None:
        last_busy = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                inputs = list(self._inputs)
            busy = False
            for port, handler in inputs:
                for msg in port.pending():
                    busy = True
                    try:
                        handler(msg)
                    except Exception:  # a handler bug must not silence the surface: log it, read on
                        log.exception("MIDI input handler for %s failed on %r", port.name, msg)
            now = time.monotonic()
            if busy:
                last_busy = now
            else:
                time.sleep(self.poll_s if now - last_busy < self.idle_after_s else self.idle_poll_s)

    def close(self, timeout_s: float = 1.0) -> None:
        """Stop polling and close the inputs (safe: no MIDI thread is inside Python)."""
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)
        with self._lock:
            inputs, self._inputs = self._inputs, []
        for port, _ in inputs:
            port.close()
