"""Edit-buffer dumps kept with a song: ``songs/<slug>/dumps/<unit>.syx``, beside sheet.toml.

A unit recalled by dump (``[dump]`` in its profile) has its captured edit buffer saved as
a standard ``.syx`` file, with a text listing next to it (``<unit>.syx.txt``: the bytes in
hex rows, and the values of any parameters the profile maps into the dump) so a change
shows up in a diff. On recall the file is read, checked against the profile (size, byte
count, checksum) and only then sent; a bad file is refused with one line and nothing is
sent.
"""

from __future__ import annotations

from pathlib import Path

from devices.device import Device
from devices.dump import Dump, DumpError, capture, replay
from devices.errors import DeviceError
from recall.errors import RecallError
from recall.atomic import atomic_write_bytes, atomic_write_text

DUMPS_DIR = "dumps"


def dump_path(song_folder: str | Path, unit: str) -> Path:
    """Where ``unit``'s dump lives for the song in ``song_folder``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in unit).strip("-.") or "unit"
    return Path(song_folder) / DUMPS_DIR / f"{safe}.syx"


def save_dump(song_folder: str | Path, unit: str, dump: Dump, device: Device | None = None) -> Path:
    """Write the dump and its listing; returns the ``.syx`` path."""
    path = dump_path(song_folder, unit)
    atomic_write_bytes(path, dump.to_syx())
    listing = f"# {unit}: edit buffer dump ({len(dump.messages)} message(s))\n"
    if device is not None:
        listing += f"# profile {device.profile.id} ({device.profile.maker} {device.profile.model})\n"
    atomic_write_text(path.with_name(path.name + ".txt"), listing + dump.listing())
    return path


def load_dump(song_folder: str | Path, unit: str) -> Dump:
    path = dump_path(song_folder, unit)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RecallError("no dump captured for this unit; capture one first", file=str(path)) from None
    except OSError as exc:
        raise RecallError(f"cannot read: {exc.strerror}", file=str(path)) from None
    try:
        return Dump.from_syx(data)
    except DumpError as exc:
        raise RecallError(exc.reason, file=str(path)) from None


def capture_to_song(device: Device, song_folder: str | Path, unit: str, *, learn: bool = False,
                    timeout_s: float | None = None) -> Path:
    """Capture the unit's edit buffer (asked for, or sent from its front panel) and keep it."""
    try:
        dump = capture(device, learn=learn, timeout_s=timeout_s)
    except DeviceError as exc:
        raise RecallError(str(exc), key=unit) from None
    return save_dump(song_folder, unit, dump, device)


def recall_from_song(device: Device, song_folder: str | Path, unit: str) -> bool:
    """Send the kept dump back; True when the unit confirmed it (asked back and compared)."""
    dump = load_dump(song_folder, unit)
    try:
        return replay(device, dump)
    except DumpError as exc:
        raise RecallError(f"{exc.reason}", file=str(dump_path(song_folder, unit)), key=unit) from None
    except DeviceError as exc:
        raise RecallError(str(exc), key=unit) from None
