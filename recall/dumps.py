"""Edit-buffer dumps kept with a song: ``songs/<slug>/dumps/<unit>.syx``, beside sheet.toml.

A unit recalled by dump (``[dump]`` in its profile) has its captured edit buffer saved as
a standard ``.syx`` file, with a text listing next to it (``<unit>.syx.txt``: the values
of the parameters the profile maps into the dump, one per line, then the bytes in hex
rows) so a change shows up in a diff. On recall (:func:`recall.apply.apply_sheet`, or
:func:`recall_from_song`) the file is read, checked against the profile (size, byte
count, checksum) and only then sent; a bad file is refused with one line and nothing is
sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devices.device import Device
from devices.dump import Dump, DumpError, capture, dump_problem, replay
from devices.errors import DeviceError
from devices.profile import Profile
from devices.transports.midi import values_in_dump_message
from recall.atomic import atomic_write_bytes, atomic_write_text
from recall.errors import RecallError
from recall.studio import Studio, StudioDevice

DUMPS_DIR = "dumps"


def dump_path(song_folder: str | Path, unit: str) -> Path:
    """Where ``unit``'s dump lives for the song in ``song_folder``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in unit).strip("-.") or "unit"
    return Path(song_folder) / DUMPS_DIR / f"{safe}.syx"


def dump_values(profile: Profile, dump: Dump, device_id: int | None = None) -> dict[str, Any]:
    """Parameter values the dump carries where the profile maps its bytes (``[midi.dump]`` reply
    and each parameter's ``dump = { offset }``); empty for an opaque dump (the M7's)."""
    out: dict[str, Any] = {}
    for message in dump.messages:
        found = values_in_dump_message(profile, message, device_id)
        if found:
            out.update(found)
    return out


def dump_listing(unit: str, dump: Dump, profile: Profile, device_id: int | None = None) -> str:
    """The diffable text form: a header, ``name = value`` per mapped parameter, then hex rows."""
    lines = [f"# {unit}: edit buffer dump ({len(dump.messages)} message(s))",
             f"# profile {profile.id} ({profile.maker} {profile.model})"]
    values = dump_values(profile, dump, device_id)
    if values:
        lines.append("# parameters (as the profile maps the bytes)")
        lines += [f"{name} = {profile.parameters[name].format(value)}" for name, value in values.items()]
    else:
        lines.append("# parameters: the profile does not map this dump's bytes; hex only")
    return "\n".join(lines) + "\n" + dump.listing()


def save_dump(song_folder: str | Path, unit: str, dump: Dump, device: Device | None = None) -> Path:
    """Write the dump and its listing; returns the ``.syx`` path."""
    path = dump_path(song_folder, unit)
    atomic_write_bytes(path, dump.to_syx())
    if device is not None:
        text = dump_listing(unit, dump, device.profile, device.device_id)
    else:
        text = f"# {unit}: edit buffer dump ({len(dump.messages)} message(s))\n" + dump.listing()
    atomic_write_text(path.with_name(path.name + ".txt"), text)
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


def checked_dump(song_folder: str | Path, entry: StudioDevice) -> Dump:
    """The kept dump of ``entry``, read and checked against its profile before any port opens;
    a file of the wrong size, count or checksum is refused (RecallError naming file, unit, port)."""
    fmt = entry.profile.dump
    if fmt is None:
        raise RecallError(f"profile {entry.profile.id} has no [dump]", key=entry.name)
    dump = load_dump(song_folder, entry.name)
    problem = dump_problem(fmt, dump, entry.effective_channel or 1)
    if problem is not None:
        raise RecallError(f"{entry.name} ({entry.port}): {problem}; expected a dump as profile "
                          f"{entry.profile.id} describes it; refused, nothing sent",
                          file=str(dump_path(song_folder, entry.name)))
    return dump


def kept_dumps(studio: Studio, song_folder: str | Path) -> dict[str, Path]:
    """Studio devices recalled by dump for this song: those whose profile has ``[dump]`` and for
    which the song keeps a dump file; ``{device: path}`` in studio order."""
    out: dict[str, Path] = {}
    for name, entry in studio.devices.items():
        if entry.profile.dump is None:
            continue
        path = dump_path(song_folder, name)
        if path.exists():
            out[name] = path
    return out


@dataclass
class DumpInfo:
    """One kept dump, as ``hybrid recall dump list`` shows it."""

    device: str
    file: str
    messages: int = 0
    size_bytes: int = 0
    values: dict[str, str] = field(default_factory=dict)
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device, "file": self.file, "messages": self.messages,
                "size_bytes": self.size_bytes, "values": dict(self.values), "problem": self.problem}


def describe_kept(studio: Studio, song_folder: str | Path) -> list[DumpInfo]:
    """Every kept dump of the song, checked, with the values the profile maps (by parameter)."""
    out = []
    for name, path in kept_dumps(studio, song_folder).items():
        entry = studio.devices[name]
        info = DumpInfo(device=name, file=str(path))
        try:
            dump = checked_dump(song_folder, entry)
        except RecallError as exc:
            info.problem = exc.reason
            out.append(info)
            continue
        info.messages = len(dump.messages)
        info.size_bytes = sum(len(m) for m in dump.messages)
        device_id = entry.profile.midi.device_id if entry.profile.midi is not None else None
        info.values = {k: entry.profile.parameters[k].format(v)
                       for k, v in dump_values(entry.profile, dump, device_id).items()}
        out.append(info)
    return out


def capture_to_song(device: Device, song_folder: str | Path, unit: str, *, learn: bool = False,
                    timeout_s: float | None = None) -> Path:
    """Capture the unit's edit buffer (asked for, or sent from its front panel) and keep it."""
    try:
        dump = capture(device, learn=learn, timeout_s=timeout_s)
    except DeviceError as exc:
        if exc.port is None:
            exc.port = device.port
        raise RecallError(str(exc)) from None
    return save_dump(song_folder, unit, dump, device)


def recall_from_song(device: Device, song_folder: str | Path, unit: str) -> bool:
    """Send the kept dump back; True when the unit confirmed it (asked back and compared)."""
    dump = load_dump(song_folder, unit)
    try:
        return replay(device, dump)
    except DumpError as exc:
        raise RecallError(f"{exc.reason}", file=str(dump_path(song_folder, unit)), key=unit) from None
    except DeviceError as exc:
        if exc.port is None:
            exc.port = device.port
        raise RecallError(str(exc), key=unit) from None
