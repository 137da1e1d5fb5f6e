"""A song's sheet on a control surface: the strips show it, moves edit it (and the gear).

    binding = SheetBinding(studio, "night-drive", session)   # session: devices.surfaces.SurfaceSession
    binding.start()
    ...
    binding.close()          # saves what is pending, closes the gear it opened

- Every parameter of every device on the sheet (signal-flow order, panel order within a
  device) becomes a ``Slot``: the parameter's label on the top line of the LCD, its value
  as the panel prints it on the bottom line, the device's name while the fader is
  touched, the position on the motor fader and the V-pot ring. Banks page through them.
- A fader move or V-pot turn becomes a value through the parameter's own travel (its
  taper, its detents), checked by the profile, and is written into the sheet at once.
  Saves are coalesced: one save per quiet ``save_delay_s`` (at most ``max_save_delay_s``
  after the first unsaved edit), through ``recall.store.save_sheet`` (checked, atomic,
  the previous text to history). A sheet edited on disk meanwhile (the TUI, a text
  editor) is merged key by key with the surface's edits, so neither is lost; a control
  both changed is not saved (the error names it, the surface goes back to the file's
  value); with nothing pending, a sheet saved elsewhere is reloaded and redrawn within
  ``disk_poll_s``.
- Machine-set gear gets the new value too, on one sender thread: the latest value per
  parameter wins (a fader storm never queues up behind the wire), each unit paced by its
  own wire (``Device``) and at most one send per ``gear_interval_s`` per unit. What was
  sent is remembered in the studio's gear state, as a recall would.
- Hand-set gear is shown as a target (``>value``, blinking SELECT); pressing SELECT or
  the V-pot confirms the step, which is ticked off in ``steps`` and reported to
  ``on_step`` callbacks.

Errors never stop the surface: a refused value or a unit that does not answer lands in
``errors`` (one line each, naming the device) and the sheet keeps its last good value.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable, Iterable

from devices.errors import DeviceError
from devices.surfaces import Slot, SlotConfirm, SlotEdit, SurfaceSession
from recall.apply import DevicePool
from recall.errors import RecallError, key_path
from recall.sheet import Sheet, normalise_value
from recall.state import StudioState
from recall.store import SheetConflict, load_sheet, save_sheet, sheet_path, song_dir
from recall.tomlio import read_text
from recall.studio import Studio, StudioDevice
from recall.values import position, show, tidy
from recall.walkthrough import Step, walkthrough

log = logging.getLogger(__name__)

NOT_ON_SURFACE = ("router", "patchbay")


@dataclass(frozen=True)
class SheetChange:
    """A value the surface wrote into the sheet (``time_ns``: when the surface's message arrived)."""

    device: str
    parameter: str
    value: Any
    time_ns: int


def slot_for(entry: StudioDevice, name: str, value: Any) -> Slot:
    """The strip for ``entry``'s parameter ``name`` showing ``value``."""
    param = entry.profile.parameters[name]
    kind = param.kind
    steps = len(param.labels) if kind == "stepped" else (2 if kind == "switch" else 0)
    bipolar = (kind == "continuous" and param.minimum is not None and param.maximum is not None
               and float(param.minimum) < 0 < float(param.maximum))
    return Slot(device=entry.name, parameter=param.label or name, value_text=show(param, value),
                position=min(1.0, max(0.0, position(param, value))), kind=kind, steps=steps,
                target=not entry.machine_settable, bipolar=bipolar, key=(entry.name, name))


def value_at(param: Any, pos: float, step: int | None) -> Any:
    """The parameter's value at ``pos`` (0..1 of its travel) or detent ``step``: the inverse of
    ``recall.values.position``, rounded as a hand-edited sheet would hold it."""
    if param.kind == "switch":
        return bool(step if step is not None else pos >= 0.5)
    if param.kind == "stepped":
        labels = list(param.labels)
        index = step if step is not None else round(pos * (len(labels) - 1))
        return labels[min(len(labels) - 1, max(0, index))]
    lo, hi = float(param.minimum), float(param.maximum)
    pos = min(1.0, max(0.0, float(pos)))
    if param.taper == "log" and lo > 0:
        raw = lo * math.exp(pos * math.log(hi / lo))
    else:
        raw = lo + pos * (hi - lo)
    return tidy(param, min(hi, max(lo, raw)))


class SheetBinding:
    """Binds one song's sheet to a ``SurfaceSession``; see the module docstring."""

    def __init__(self, studio: Studio, song: str, session: SurfaceSession, *,
                 devices: Iterable[str] | None = None, send_to_gear: bool = True,
                 pool: DevicePool | None = None, save_delay_s: float = 0.25, max_save_delay_s: float = 1.0,
                 gear_interval_s: float = 0.005, disk_poll_s: float = 0.5):
        self.studio = studio
        self.slug = song_dir(studio, song).name
        self.path = sheet_path(studio, self.slug)
        self.session = session
        self.send_to_gear = send_to_gear
        self.save_delay_s = save_delay_s
        self.max_save_delay_s = max_save_delay_s
        self.gear_interval_s = gear_interval_s
        self.disk_poll_s = disk_poll_s
        self._own_pool = pool is None
        self.pool = pool or DevicePool()
        self.state = StudioState(studio.state_dir)
        self._lock = threading.RLock()
        self.sheet: Sheet = load_sheet(studio, self.slug)
        self._disk_text = self.sheet.loaded_text if self.sheet.loaded_text is not None else read_text(self.path)
        self._only = list(devices) if devices is not None else None
        for name in self._only or ():
            studio.device(name)  # an unknown name is refused now, with the studio file
        self.slots: list[Slot] = []
        self.steps: list[Step] = []
        self.done: dict[tuple[str, str], Any] = {}
        """(device, parameter) -> the target confirmed on the surface."""
        self.errors: list[str] = []
        self._last_unreadable: str | None = None
        self.edits = 0
        self.saves = 0
        self.gear_messages = 0
        self._unsaved: dict[tuple[str, str], Any] = {}
        self._first_unsaved = 0.0
        self._last_edit = 0.0
        self._gear_pending: dict[str, dict[str, Any]] = {}
        self._sending = 0
        self._gear_cond = threading.Condition()
        self._save_cond = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._change_callbacks: list[Callable[[SheetChange], None]] = []
        self._step_callbacks: list[Callable[[Step], None]] = []
        self._error_callbacks: list[Callable[[str], None]] = []
        self._build()

    # --- callbacks --------------------------------------------------------------------------
    def on_change(self, callback: Callable[[SheetChange], None]) -> None:
        """``callback(SheetChange)`` after each value the surface wrote into the sheet."""
        self._change_callbacks.append(callback)

    def on_step(self, callback: Callable[[Step], None]) -> None:
        """``callback(Step)`` when a hand-set step is confirmed on the surface."""
        self._step_callbacks.append(callback)

    def on_error(self, callback: Callable[[str], None]) -> None:
        self._error_callbacks.append(callback)

    # --- the bank ---------------------------------------------------------------------------
    def _devices(self) -> list[StudioDevice]:
        names = self._only if self._only is not None else self.sheet.used_devices()
        out = []
        for name in names:
            entry = self.studio.devices.get(name)
            if entry is None or entry.profile.kind in NOT_ON_SURFACE or not entry.profile.parameters:
                continue
            out.append(entry)
        return out

    def _build(self) -> None:
        slots = []
        for entry in self._devices():
            values = self.sheet.values(entry.name)
            for name, param in entry.profile.parameters.items():
                try:
                    value = param.parse(values[name]) if name in values else param.default
                except (DeviceError, ValueError):
                    value = param.default
                slot = slot_for(entry, name, value)
                key = (entry.name, name)
                if slot.target and key in self.done:
                    if self.done[key] == value:
                        slot = dataclasses.replace(slot, confirmed=True)
                    else:
                        del self.done[key]   # the target moved: set it (and confirm it) again
                slots.append(slot)
        self.slots = slots
        self.steps = walkthrough(self.sheet, self.studio)
        self._index = {s.key: i for i, s in enumerate(slots)}

    def start(self) -> None:
        """Show the sheet, open the machine-set gear, and start listening."""
        with self._lock:
            self.session.set_slots(self.slots)
        self.session.on_edit(self._edit)
        self.session.on_confirm(self._confirm)
        if self.send_to_gear:
            entries = [e for e in self._devices() if e.machine_settable]
            for name, exc in self.pool.open_all(entries).items():
                self._error(f"{name}: cannot open ({exc}); surface edits go to the sheet only")
        for target, name in ((self._save_loop, "sheet-saver"), (self._gear_loop, "surface-gear")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    # --- edits --------------------------------------------------------------------------------
    def _edit(self, edit: SlotEdit) -> None:
        key = edit.slot.key
        if not isinstance(key, tuple) or key not in self._index:
            return
        device, name = key
        entry = self.studio.devices[device]
        param = entry.profile.parameters[name]
        try:
            value = normalise_value(param, value_at(param, edit.position, edit.step))
        except (DeviceError, ValueError, TypeError) as exc:
            self._error(f"{device}: {name}: {getattr(exc, 'reason', None) or exc}")
            return
        now = time.monotonic()
        with self._lock:
            self.sheet.set_value(device, name, value)
            self._unsaved[key] = value
            self._first_unsaved = self._first_unsaved or now
            self._last_edit = now
            self.edits += 1
        index = self._index[key]
        changes: dict[str, Any] = {"value_text": show(param, value)}
        if edit.source != "fader":
            changes["position"] = min(1.0, max(0.0, position(param, value)))
        if not entry.machine_settable and (device, name) in self.done:
            del self.done[(device, name)]  # a new target: it must be set (and confirmed) again
            changes["confirmed"] = False
        self.slots[index] = self.session.update_slot(index, **changes)
        change = SheetChange(device, name, value, edit.time_ns)
        for callback in self._change_callbacks:
            callback(change)
        if entry.machine_settable and self.send_to_gear:
            with self._gear_cond:
                self._gear_pending.setdefault(device, {})[name] = value
                self._gear_cond.notify()
        with self._save_cond:
            self._save_cond.notify()

    def _confirm(self, confirm: SlotConfirm) -> None:
        key = confirm.slot.key
        if not isinstance(key, tuple) or key not in self._index:
            return
        device, name = key
        param = self.studio.devices[device].profile.parameters[name]
        with self._lock:
            values = self.sheet.values(device)
            self.done[key] = param.parse(values[name]) if name in values else param.default
        self.slots[self._index[key]] = confirm.slot
        for step in self.steps:
            if (step.device, step.parameter) == key:
                for callback in self._step_callbacks:
                    callback(step)

    def pending_steps(self) -> list[Step]:
        """Walk-through steps not yet confirmed on the surface."""
        return [s for s in self.steps if (s.device, s.parameter) not in self.done]

    # --- saving -------------------------------------------------------------------------------
    def _save_loop(self) -> None:
        next_poll = time.monotonic() + self.disk_poll_s
        while not self._stop.is_set():
            with self._save_cond:
                self._save_cond.wait(0.05)
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + self.disk_poll_s
                self.reload_if_changed()
            with self._lock:
                if not self._unsaved:
                    continue
                now = time.monotonic()
                quiet = now - self._last_edit >= self.save_delay_s
                overdue = now - self._first_unsaved >= self.max_save_delay_s
            if quiet or overdue:
                self.flush()

    def reload_if_changed(self) -> bool:
        """Follow a sheet saved by someone else (the TUI, an editor): reload it and redraw.

        With surface edits not yet saved, nothing happens here: the next save merges them
        over the file (see :meth:`flush`)."""
        with self._lock:
            if self._unsaved:
                return False
            try:
                disk = read_text(self.path)
            except RecallError as exc:  # gone, special, too big, not UTF-8: keep the last good sheet
                if exc.reason != self._last_unreadable:
                    self._last_unreadable = exc.reason
                    self._error(f"{exc}; the surface keeps showing the last good sheet")
                return False
            self._last_unreadable = None
            if disk == self._disk_text:
                return False
            try:
                fresh = load_sheet(self.studio, self.slug)
            except RecallError as exc:
                self._error(f"{exc}; the surface keeps showing the last good sheet")
                self._disk_text = disk
                return False
            self.sheet = fresh
            self._disk_text = disk
            self._build()
            self.session.set_slots(self.slots, offset=self.session.offset)
            return True

    def flush(self) -> bool:
        """Save the surface's edits now. A sheet saved elsewhere meanwhile is merged key by key
        (recall.store.save_sheet); a control both changed is refused: the error names it, the
        file keeps the other writer's value and the surface shows it again."""
        with self._lock:
            if not self._unsaved:
                return False
            try:
                save_sheet(self.sheet, self.path, studio=self.studio)
            except SheetConflict as exc:
                self._error(f"not saved: {exc}; the surface shows the file's value")
                self._take_disk(exc)
                return False
            except RecallError as exc:
                self._error(f"not saved: {exc}; edits kept in memory")
                return False
            self._disk_text = self.sheet.loaded_text or ""
            self._unsaved.clear()
            self._first_unsaved = 0.0
            self.saves += 1
            if self.sheet.merged_from_disk:  # someone else's keys came in: redraw
                self._build()
                self.session.set_slots(self.slots, offset=self.session.offset)
            return True

    def _take_disk(self, conflict: SheetConflict) -> None:
        """After a refused save: the sheet from disk with the surface's edits that did not conflict."""
        lost = {p.key for p in conflict.problems}
        try:
            fresh = load_sheet(self.studio, self.slug)
        except RecallError as exc:
            self._error(f"{exc}; surface edits kept in memory until the file is fixed")
            return
        kept = {k: v for k, v in self._unsaved.items() if key_path("devices", k[0], "values", k[1]) not in lost}
        for (device, name), value in kept.items():
            fresh.set_value(device, name, value)
        self.sheet = fresh
        self._disk_text = fresh.loaded_text or ""
        self._unsaved = kept
        if not kept:
            self._first_unsaved = 0.0
        self._build()
        self.session.set_slots(self.slots, offset=self.session.offset)

    # --- the gear -------------------------------------------------------------------------------
    def _gear_loop(self) -> None:
        last_sent: dict[str, float] = {}
        while not self._stop.is_set():
            with self._gear_cond:
                if not self._gear_pending:
                    self._gear_cond.wait(0.05)
                    continue
                now = time.monotonic()
                ready = [d for d in self._gear_pending if now - last_sent.get(d, 0.0) >= self.gear_interval_s]
                if not ready:
                    wait = min(self.gear_interval_s - (now - last_sent.get(d, 0.0)) for d in self._gear_pending)
                    self._gear_cond.wait(max(0.0005, wait))
                    continue
                batch = {d: self._gear_pending.pop(d) for d in ready}
                self._sending += 1
            try:
                for device, values in batch.items():
                    self._send(device, values)
                    last_sent[device] = time.monotonic()
            finally:
                with self._gear_cond:
                    self._sending -= 1

    def _send(self, device: str, values: dict[str, Any]) -> None:
        entry = self.studio.devices[device]
        try:
            unit = self.pool.get(entry)
            sent = unit.apply(values)
        except DeviceError as exc:
            self.pool.discard(entry)
            self.state.forget(device)
            self._error(f"{exc} (the sheet has the new value; recall the song to set the unit)")
            return
        self.gear_messages += len(sent)
        try:
            self.state.remember(device, values, song=self.slug)
        except RecallError as exc:
            self._error(str(exc))

    def wait_idle(self, timeout_s: float = 2.0) -> bool:
        """Wait until the surface's edits are in the sheet and sent to the gear."""
        deadline = time.monotonic() + timeout_s
        if not self.session.wait_idle(timeout_s):
            return False
        while time.monotonic() < deadline:
            with self._gear_cond:
                if not self._gear_pending and not self._sending:
                    return True
            time.sleep(0.002)
        return False

    # --- life ---------------------------------------------------------------------------------
    def _error(self, text: str) -> None:
        log.error("%s", text)
        self.errors.append(text)
        for callback in self._error_callbacks:
            callback(text)

    def summary(self) -> dict[str, Any]:
        return {"song": self.slug, "controls": len(self.slots), "edits": self.edits, "saves": self.saves,
                "gear_messages": self.gear_messages, "confirmed": len(self.done),
                "pending_steps": [s.to_dict() for s in self.pending_steps()], "errors": list(self.errors)}

    def close(self) -> None:
        """Send what is pending, save, stop the threads, close the gear this binding opened."""
        self.wait_idle(1.0)
        self._stop.set()
        with self._gear_cond:
            self._gear_cond.notify_all()
        with self._save_cond:
            self._save_cond.notify_all()
        for t in self._threads:
            t.join(2.0)
        self.flush()
        if self._own_pool:
            self.pool.close()

    def __enter__(self) -> SheetBinding:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
