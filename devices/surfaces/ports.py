"""Opening MIDI ports by name through an explicitly chosen mido backend.

Surfaces appear under names such as ``MCU Pro USB v3.1 MIDI 1`` (ALSA) or
``a2j:MCU Pro [20] (capture): MCU Pro MIDI 1`` (JACK); a person types a part of it.
The backend is passed in, never set globally (mido's ``set_backend`` is import-time
global state): on a machine without ALSA it is ``mido.backends.rtmidi/UNIX_JACK``.
"""

from __future__ import annotations

import os

import mido

from devices.errors import DeviceError

try:  # python-rtmidi's own error root, raised through mido's rtmidi backend
    from rtmidi import RtMidiError as _RtMidiError
except ImportError:  # another backend: its errors are OSError/ValueError
    class _RtMidiError(Exception):
        pass

_OPEN_ERRORS = (OSError, RuntimeError, ValueError, _RtMidiError)
SEND_ERRORS = _OPEN_ERRORS  # what a send on a closed or vanished port raises

DEFAULT_BACKEND = "mido.backends.rtmidi"


def midi_backend(name: str | None = None) -> mido.Backend:
    """The mido backend ``name``, else ``$MIDO_BACKEND``, else rtmidi's default API."""
    chosen = name or os.environ.get("MIDO_BACKEND") or DEFAULT_BACKEND
    try:
        return mido.Backend(chosen, load=True)
    except (ImportError, AttributeError, ValueError) as exc:
        raise DeviceError(f"cannot load MIDI backend {chosen!r}: {exc}", action="opening MIDI") from exc


def port_names(backend: mido.Backend) -> tuple[list[str], list[str]]:
    """(input names, output names) of ``backend``; DeviceError if the MIDI system is not there."""
    try:
        return backend.get_input_names(), backend.get_output_names()
    except _OPEN_ERRORS as exc:
        raise DeviceError(f"cannot list MIDI ports ({backend.name}): {exc}", action="opening MIDI") from exc


def find_port(available: list[str], wanted: str, *, direction: str, device: str) -> str:
    """The one port in ``available`` that is ``wanted`` exactly, or contains it
    (case-insensitive). DeviceError listing the ports when none or several match."""
    if wanted in available:
        return wanted
    hits = [name for name in available if wanted.lower() in name.lower()]
    if len(hits) == 1:
        return hits[0]
    listing = ", ".join(repr(n) for n in available) or "none"
    if not hits:
        raise DeviceError(f"no MIDI {direction} port matching {wanted!r} (available: {listing})",
                          device=device, action="opening")
    raise DeviceError(f"MIDI {direction} port name {wanted!r} is ambiguous: matches "
                      + ", ".join(repr(h) for h in hits), device=device, action="opening")


def open_input(backend: mido.Backend, wanted: str, *, device: str, callback=None,
               available: list[str] | None = None):
    """An input port whose name matches ``wanted``; ``callback(msg)`` runs on the backend's
    thread. ``available``: the backend's input names, when the caller listed them already
    (listing costs a client connection on JACK)."""
    try:
        if available is None:
            available = backend.get_input_names()
        name = find_port(available, wanted, direction="input", device=device)
        return backend.open_input(name, callback=callback)
    except DeviceError:
        raise
    except _OPEN_ERRORS as exc:
        raise DeviceError(f"cannot open MIDI input {wanted!r}: {exc}", device=device, action="opening") from exc


def open_output(backend: mido.Backend, wanted: str, *, device: str, available: list[str] | None = None):
    """An output port whose name matches ``wanted`` (see ``open_input``)."""
    try:
        if available is None:
            available = backend.get_output_names()
        name = find_port(available, wanted, direction="output", device=device)
        return backend.open_output(name)
    except DeviceError:
        raise
    except _OPEN_ERRORS as exc:
        raise DeviceError(f"cannot open MIDI output {wanted!r}: {exc}", device=device, action="opening") from exc
