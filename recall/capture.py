"""Capture: read the gear back into a sheet, and learn settings from panel moves.

``read_gear`` asks every device that can answer (a dump or queries) what it is set to,
ports in parallel. ``capture_song`` writes what was read into a song's sheet (a new
song is created), saved with history like any other save. With ``learn_s`` it also
listens to MIDI gear for that long and records each knob the engineer turns, decoded
through the device's profile; the last position of each control wins.

Values read are rounded for people (recall.values.tidy) and remembered as the gear's
known state, so a following ``apply --changed`` sends nothing that already matches.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Iterable

from devices.device import Device
from devices.errors import DeviceError
from recall.apply import DeviceOpener, device_for, enter_device
from recall.diff import Change, diff_sheets
from recall.state import StudioState
from recall.store import create_song, load_sheet, save_sheet, sheet_path
from recall.studio import Studio, StudioDevice
from recall.values import show, tidy


@dataclass
class CaptureEvent:
    """``kind``: ``read`` (a device answered or failed), ``listening`` (learn mode is ready for
    knob moves on this device), ``learn`` (a control moved)."""

    kind: str
    device: str
    param: str | None = None
    value: Any = None
    error: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        if self.error:
            return f"{self.device:24s} failed     {self.error}"
        if self.kind == "learn":
            return f"{self.device:24s} learned    {self.param} = {self.value}"
        if self.kind == "listening":
            return f"{self.device:24s} listening  turn its knobs now"
        return f"{self.device:24s} read       {len(self.values)} parameters"


@dataclass
class CaptureResult:
    song: str
    file: str
    created: bool
    read: dict[str, dict[str, Any]] = field(default_factory=dict)
    learned: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    saved: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary_line(self) -> str:
        learned = sum(len(v) for v in self.learned.values())
        text = (f"{self.song}: read {len(self.read)} devices" + (f", learned {learned} controls" if learned else "")
                + (f", {len(self.failed)} failed" if self.failed else "")
                + f"; {len(self.changes)} changes " + ("saved" if self.saved else "(nothing to save)"))
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"song": self.song, "file": self.file, "created": self.created, "ok": self.ok,
                "read": self.read, "learned": self.learned, "failed": self.failed,
                "changes": [c.to_dict() for c in self.changes], "saved": self.saved,
                "summary": self.summary_line()}


def readable_devices(studio: Studio, names: Iterable[str] | None = None) -> list[StudioDevice]:
    """Studio devices that can be read back (all of them, or the named ones)."""
    if names is None:
        return [d for d in studio.devices.values() if d.readback]
    out = []
    for name in names:
        entry = studio.device(name)
        if entry.readback:
            out.append(entry)
    return out


def read_gear(studio: Studio, names: Iterable[str] | None = None, *,
              on_event: Callable[[CaptureEvent], None] | None = None,
              open_device: DeviceOpener | None = None,
              ) -> tuple[dict[str, dict[str, Any]], dict[str, DeviceError]]:
    """Read every readable device (or those of ``names`` that can be read), ports in parallel.

    Returns ``(readings, failures)``: values in the engineer's units per device, and
    the error of each device that could not be read.
    """
    opener = open_device or device_for
    devices = readable_devices(studio, names)
    by_port: dict[str, list[StudioDevice]] = {}
    for d in devices:
        by_port.setdefault((d.port or "").strip(), []).append(d)
    readings: dict[str, dict[str, Any]] = {}
    failures: dict[str, DeviceError] = {}
    lock = threading.Lock()

    def report(event: CaptureEvent) -> None:
        if on_event is not None:
            with lock:
                on_event(event)

    # Open one at a time, read ports in parallel, close one at a time (see recall.apply).
    sessions: dict[str, tuple[AbstractContextManager[Device], Device]] = {}
    for entry in devices:
        try:
            sessions[entry.name] = enter_device(opener, entry)
        except Exception as exc:  # noqa: BLE001 - one unit that will not open must not stop the others
            err = exc if isinstance(exc, DeviceError) else DeviceError(
                f"{type(exc).__name__}: {exc}", device=entry.name, action="opening")
            failures[entry.name] = err
            report(CaptureEvent("read", entry.name, error=str(err)))

    def run(entries: list[StudioDevice]) -> None:
        for entry in entries:
            if entry.name not in sessions:
                continue
            try:
                values = sessions[entry.name][1].read()
                params = entry.profile.parameters
                values = {k: tidy(params.get(k), v) for k, v in values.items()}
                with lock:
                    readings[entry.name] = values
                event = CaptureEvent("read", entry.name, values=values)
            except Exception as exc:  # noqa: BLE001 - one broken unit must not stop the others
                err = exc if isinstance(exc, DeviceError) else DeviceError(
                    f"{type(exc).__name__}: {exc}", device=entry.name, action="reading back")
                with lock:
                    failures[entry.name] = err
                event = CaptureEvent("read", entry.name, error=str(err))
            report(event)

    threads = [threading.Thread(target=run, args=(entries,), daemon=True) for entries in by_port.values()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, (cm, _dev) in sessions.items():
        failure = failures.get(name)
        try:
            cm.__exit__(type(failure) if failure else None, failure, None)
        except DeviceError:
            pass
    order = [d.name for d in devices]
    return ({k: readings[k] for k in order if k in readings}, {k: failures[k] for k in order if k in failures})


def learn(studio: Studio, names: Iterable[str] | None, duration_s: float, *,
          on_event: Callable[[CaptureEvent], None] | None = None,
          open_device: DeviceOpener | None = None,
          stop: threading.Event | None = None) -> tuple[dict[str, dict[str, Any]], dict[str, DeviceError]]:
    """Listen to MIDI gear for ``duration_s`` (or until ``stop`` is set); the last value of each
    control moved, per device, in the engineer's units."""
    opener = open_device or device_for
    if names is None:
        entries = [d for d in studio.devices.values()
                   if d.machine_settable and d.profile.listens]
    else:
        entries = [studio.device(n) for n in names]
        entries = [e for e in entries if e.machine_settable and e.profile.listens]
    learned: dict[str, dict[str, Any]] = {}
    failures: dict[str, DeviceError] = {}
    lock = threading.Lock()
    opened: list[AbstractContextManager[Device]] = []
    stops: list[Callable[[], None]] = []
    try:
        for entry in entries:
            try:
                cm, dev = enter_device(opener, entry)
            except DeviceError as exc:
                failures[entry.name] = exc
                continue
            except Exception as exc:  # noqa: BLE001
                failures[entry.name] = DeviceError(f"{type(exc).__name__}: {exc}", device=entry.name,
                                                   action="opening to learn")
                continue
            opened.append(cm)

            def on_move(param: str, value: Any, _entry: StudioDevice = entry) -> None:
                value = tidy(_entry.profile.parameters.get(param), value)
                with lock:
                    learned.setdefault(_entry.name, {})[param] = value
                    if on_event is not None:
                        on_event(CaptureEvent("learn", _entry.name, param=param,
                                              value=show(_entry.profile.parameters.get(param), value)))
            stops.append(dev.listen(on_move))
        if on_event is not None:
            for entry in entries:
                if entry.name not in failures:
                    on_event(CaptureEvent("listening", entry.name))
        (stop or threading.Event()).wait(duration_s)
    finally:
        for s in stops:
            s()
        for cm in opened:
            try:
                cm.__exit__(None, None, None)
            except DeviceError:
                pass
    order = [e.name for e in entries]
    return {k: learned[k] for k in order if k in learned}, failures


def capture_song(studio: Studio, song: str, *, devices: Iterable[str] | None = None,
                 learn_s: float | None = None, samplerate: int | None = None,
                 on_event: Callable[[CaptureEvent], None] | None = None,
                 open_device: DeviceOpener | None = None,
                 stop: threading.Event | None = None) -> CaptureResult:
    """Read the gear (and optionally learn panel moves) into ``song``'s sheet; a new song is created.

    The sheet is saved (with history) only when something was read or learned.
    """
    path = sheet_path(studio, song)
    created = False
    if not path.is_file():
        rate = samplerate or (studio.interface.samplerate if studio.interface else 48000)
        path = create_song(studio.root, song, samplerate=rate, tracks={})
        created = True
    sheet = load_sheet(studio, path.parent.name)
    before = sheet.copy()
    names = list(devices) if devices else None
    if names:
        for n in names:
            studio.device(n)  # unknown names are an error before anything is read
    readings, failures = read_gear(studio, names, on_event=on_event, open_device=open_device)
    learned: dict[str, dict[str, Any]] = {}
    if learn_s:
        learned, learn_failures = learn(studio, names, learn_s, on_event=on_event, open_device=open_device,
                                        stop=stop)
        for k, v in learn_failures.items():
            failures.setdefault(k, v)
    if names and not learn_s:
        for n in names:
            if n not in readings and n not in failures:
                failures[n] = DeviceError("cannot be read back (hand-set, no port, or no dump/queries)",
                                          device=n, action="capturing")
    state = StudioState(studio.state_dir)
    for dev, values in readings.items():
        sheet.set_values(dev, values)
        state.remember(dev, values, song=path.parent.name)
    for dev, values in learned.items():
        sheet.set_values(dev, values)
        state.remember(dev, values, song=path.parent.name)
    changes = diff_sheets(before, sheet, studio)
    saved = False
    if readings or learned:
        saved = save_sheet(sheet, path, studio=studio)
    return CaptureResult(song=path.parent.name, file=str(path), created=created, read=readings,
                         learned=learned, failed={k: str(v) for k, v in failures.items()},
                         changes=changes, saved=saved)
