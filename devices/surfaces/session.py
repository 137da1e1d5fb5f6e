"""A bank of parameter slots shown on a surface, and the edits a person makes there.

The surface knows nothing of songs: whoever binds it (``hybrid``'s recall binding)
hands it a list of ``Slot`` s -- a label (device and parameter), the value as the
engineer reads it, a position 0..1 -- and listens:

    session = SurfaceSession.open("mcu", ["MCU Pro", "XT"], backend="devices.jack_midi")
    session.set_slots(slots)
    session.on_edit(lambda edit: ...)      # a fader moved / V-pot turned / switch pressed
    session.on_confirm(lambda c: ...)      # a hand-set target was confirmed on the surface
    session.update_slot(3, value_text="4:1", position=0.4)   # the sheet changed: redraw it

The strips show ``8 * units`` slots at a time; bank and channel buttons page through.
A strip shows the parameter name on the top line and the value on the bottom line
(the device name while its fader is touched, or all of them after NAME/VALUE); the
motor fader and the V-pot ring show the position. A ``target`` slot is hand-set gear
being recalled: its value line reads ``>value`` and its SELECT LED blinks until the
step is confirmed with SELECT or a V-pot push.

Edits are delivered on one dispatcher thread, never on the MIDI thread; when the
binder is slower than the hand, pending moves of one fader collapse into the latest.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, TypeVar
from collections.abc import Callable, Sequence

from devices.errors import DeviceError
from devices.surfaces.codec import (
    ButtonPress, FaderMove, FaderTouch, RingMode, SurfaceInput, Unrecognised, VPotTurn, fader_normalized,
    fader_value, ring_byte, ring_position,
)
from devices.surfaces.driver import PortSpec, Surface, SurfaceStatus
from devices.surfaces.units import SurfaceUnit

log = logging.getLogger(__name__)

SLOT_KINDS = ("continuous", "stepped", "switch")
VPOT_STEP = 1 / 100  # position change per V-pot tick on a continuous control


class SurfaceError(DeviceError):
    """A surface was misused or misbehaved (bad slot, unknown strip, dead port)."""


@dataclass(frozen=True)
class Slot:
    """One parameter on one strip."""

    device: str
    """The device's name in the room, e.g. ``1176 #2`` (shown while the fader is touched)."""
    parameter: str
    """The parameter's label, e.g. ``Ratio`` (the strip's top line)."""
    value_text: str = ""
    """The value in the engineer's units, e.g. ``4:1``, ``-12.0 dB`` (the bottom line)."""
    position: float = 0.0
    """0..1 along the control's travel: fader and ring position."""
    kind: str = "continuous"
    """``continuous``, ``stepped`` (detents) or ``switch``."""
    steps: int = 0
    """Number of detents of a stepped control (2 for a switch)."""
    target: bool = False
    """Hand-set gear being recalled: show the target, confirm with SELECT / V-pot push."""
    confirmed: bool = False
    """A target that the person has confirmed as set."""
    bipolar: bool = False
    """Draw the ring from the centre (gain, pan)."""
    editable: bool = True
    """False: the surface shows it but moves and turns do not edit it."""
    key: Any = None
    """The binder's handle for this slot (e.g. ``("1176 #2", "ratio")``); never shown."""

    def __post_init__(self) -> None:
        if self.kind not in SLOT_KINDS:
            raise SurfaceError(f"slot kind {self.kind!r}, expected one of {', '.join(SLOT_KINDS)}",
                               device=self.device, action=f"slot {self.parameter}")
        if not 0.0 <= self.position <= 1.0:
            raise SurfaceError(f"position {self.position} outside 0..1", device=self.device,
                               action=f"slot {self.parameter}")
        if self.kind == "stepped" and self.steps < 2:
            raise SurfaceError(f"a stepped slot needs steps >= 2, got {self.steps}", device=self.device,
                               action=f"slot {self.parameter}")

    @property
    def step_count(self) -> int:
        return 2 if self.kind == "switch" else self.steps

    @property
    def step(self) -> int | None:
        """The detent index of a stepped or switch slot, None for a continuous one."""
        if self.kind == "continuous":
            return None
        return round(self.position * (self.step_count - 1))


@dataclass(frozen=True)
class SlotEdit:
    """The person changed a slot on the surface."""

    index: int
    """Index into the list given to ``set_slots``."""
    slot: Slot
    """The slot after the edit (its ``position`` is the new one; ``value_text`` is stale)."""
    position: float
    step: int | None
    """The new detent of a stepped/switch slot."""
    delta: int
    """V-pot ticks (summed when collapsed), 0 for a fader or button."""
    source: str
    """``fader``, ``vpot`` or ``button``."""
    final: bool
    """False while a fader is still held; True on release and for turns and presses."""
    time_ns: int = field(default=0, compare=False)
    """``time.perf_counter_ns()`` when the surface's message arrived."""


@dataclass(frozen=True)
class SlotConfirm:
    """A hand-set target was confirmed on the surface."""

    index: int
    slot: Slot
    time_ns: int = field(default=0, compare=False)


@dataclass(frozen=True)
class SurfaceProblem:
    """The surface sent something this program does not understand."""

    unit_name: str
    detail: str


_Event = SlotEdit | SlotConfirm | SurfaceStatus | SurfaceProblem
"""What the dispatcher thread hands to the callbacks, in order."""
E = TypeVar("E", SlotEdit, SlotConfirm, SurfaceStatus, SurfaceProblem)

class SurfaceSession:
    """A ``Surface`` showing a bank of ``Slot`` s; see the module docstring."""

    def __init__(self, surface: Surface):
        self.surface = surface
        self._lock = threading.RLock()
        self._slots: list[Slot] = []
        self.offset = 0
        self.show_devices = False
        self._touched: set[int] = set()
        self._moved_while_touched: dict[int, SlotEdit] = {}
        self._edit_callbacks: list[Callable[[SlotEdit], None]] = []
        self._confirm_callbacks: list[Callable[[SlotConfirm], None]] = []
        self._status_callbacks: list[Callable[[SurfaceStatus], None]] = []
        self._problem_callbacks: list[Callable[[SurfaceProblem], None]] = []
        self.problems: deque[SurfaceProblem] = deque(maxlen=100)
        self.events_delivered = 0
        self.events_collapsed = 0
        self._queue: queue.Queue[_Event] = queue.Queue()
        self._stop = threading.Event()
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="surface-events", daemon=True)
        self._dispatcher.start()
        surface.on_input(self._handle_input)
        surface.on_status(lambda status: self._queue.put(status))
        self._draw_all()

    @classmethod
    def open(cls, kind: str, ports: Sequence[PortSpec], **options: Any) -> SurfaceSession:
        """Open a surface (see ``Surface.open`` for the options) and show an empty bank."""
        return cls(Surface.open(kind, ports, **options))

    # --- callbacks ---------------------------------------------------------------------
    def on_edit(self, callback: Callable[[SlotEdit], None]) -> None:
        self._edit_callbacks.append(callback)

    def on_confirm(self, callback: Callable[[SlotConfirm], None]) -> None:
        self._confirm_callbacks.append(callback)

    def on_status(self, callback: Callable[[SurfaceStatus], None]) -> None:
        self._status_callbacks.append(callback)

    def on_problem(self, callback: Callable[[SurfaceProblem], None]) -> None:
        self._problem_callbacks.append(callback)

    # --- the bank ----------------------------------------------------------------------
    @property
    def slots(self) -> list[Slot]:
        with self._lock:
            return list(self._slots)

    @property
    def bank_size(self) -> int:
        return self.surface.strips

    @property
    def touched_strips(self) -> set[int]:
        """The strips whose fader a hand holds right now (0 = leftmost)."""
        with self._lock:
            return set(self._touched)

    def set_slots(self, slots: Sequence[Slot], *, offset: int = 0) -> None:
        """Show a new list of slots (a new song, a new device), from ``offset``."""
        for i, slot in enumerate(slots):
            if not isinstance(slot, Slot):
                raise SurfaceError(f"slot {i} is a {type(slot).__name__}, expected Slot", action="set_slots")
        with self._lock:
            self._slots = list(slots)
            self._moved_while_touched.clear()
            self.offset = self._clamp_offset(offset)
            self._draw_all()

    def update_slot(self, index: int, slot: Slot | None = None, **changes: Any) -> Slot:
        """Replace slot ``index`` or change some of its fields; redraw it if it is shown."""
        with self._lock:
            if not 0 <= index < len(self._slots):
                raise SurfaceError(f"slot index {index} outside 0..{len(self._slots) - 1}", action="update_slot")
            base = slot if slot is not None else self._slots[index]
            try:
                new = dataclasses.replace(base, **changes) if changes else base
            except TypeError as exc:
                raise SurfaceError(str(exc), action=f"update_slot {index}") from exc
            self._slots[index] = new
            strip = index - self.offset
            if 0 <= strip < self.bank_size:
                self._draw_strip(strip)
            return new

    def bank(self, offset: int) -> None:
        """Show slots from ``offset`` on (clamped to the list)."""
        with self._lock:
            new = self._clamp_offset(offset)
            if new != self.offset:
                self.offset = new
                self._moved_while_touched.clear()
                self._draw_all()

    def bank_right(self, strips: int | None = None) -> None:
        self.bank(self.offset + (strips or self.bank_size))

    def bank_left(self, strips: int | None = None) -> None:
        self.bank(self.offset - (strips or self.bank_size))

    def _clamp_offset(self, offset: int) -> int:
        """Banks never run past the end: the last bank shows the last ``bank_size`` slots."""
        return max(0, min(offset, len(self._slots) - self.bank_size))

    def visible(self) -> list[tuple[int, Slot | None]]:
        """(slot index, slot or None) per strip, left to right."""
        with self._lock:
            out = []
            for strip in range(self.bank_size):
                index = self.offset + strip
                out.append((index, self._slots[index] if index < len(self._slots) else None))
            return out

    # --- drawing -------------------------------------------------------------------------
    def _draw_all(self) -> None:
        for strip in range(self.bank_size):
            self._draw_strip(strip)

    def _draw_strip(self, strip: int) -> None:
        unit, local = self.surface.unit_strip(strip)
        index = self.offset + strip
        slot = self._slots[index] if index < len(self._slots) else None
        if slot is None:
            unit.set_strip_text(local, "", "")
            unit.set_fader(local, 0)
            unit.set_ring(local, 0)
            unit.set_led("select", local, "off")
            return
        name = slot.device if (self.show_devices or strip in self._touched) else slot.parameter
        value = slot.value_text
        if slot.target and not slot.confirmed:
            value = ">" + value
        unit.set_strip_text(local, name, value)
        unit.set_fader(local, fader_value(slot.position))
        unit.set_ring(local, _ring_for(slot))
        if slot.target:
            led = "on" if slot.confirmed else "blink"
        elif slot.kind == "switch":
            led = "on" if slot.position >= 0.5 else "off"
        else:
            led = "off"
        unit.set_led("select", local, led)

    # --- input ---------------------------------------------------------------------------
    def _handle_input(self, unit_index: int, event: SurfaceInput) -> None:
        """On the MIDI thread: update the model and the picture at once, queue the edits."""
        now_ns = time.perf_counter_ns()
        if isinstance(event, Unrecognised):
            self._queue.put(SurfaceProblem(self.surface.units[unit_index].name, event.describe()))
            return
        base = sum(u.strips for u in self.surface.units[:unit_index])
        unit = self.surface.units[unit_index]
        with self._lock:
            if isinstance(event, FaderTouch):
                self._fader_touch(unit, base, event, now_ns)
            elif isinstance(event, FaderMove):
                self._fader_move(unit, base, event, now_ns)
            elif isinstance(event, VPotTurn):
                self._vpot_turn(base, event, now_ns)
            elif isinstance(event, ButtonPress) and event.pressed:
                self._button(base, event, now_ns)

    def _slot_at(self, strip: int) -> tuple[int, Slot | None]:
        index = self.offset + strip
        return index, (self._slots[index] if 0 <= index < len(self._slots) else None)

    def _fader_touch(self, unit: SurfaceUnit, base: int, event: FaderTouch, now_ns: int) -> None:
        if event.strip >= unit.strips:
            return  # the master fader: not part of the bank
        strip = base + event.strip
        if event.touched:
            self._touched.add(strip)
            unit.set_touched(event.strip, True)
            self._draw_strip(strip)
            return
        self._touched.discard(strip)
        pending = self._moved_while_touched.pop(strip, None)
        if pending is not None:
            index, slot = self._slot_at(strip)
            if slot is not None and index == pending.index:
                self._queue.put(dataclasses.replace(pending, slot=slot, final=True, time_ns=now_ns))
        self._draw_strip(strip)  # the sheet may have snapped the value (a detent): go there
        unit.set_touched(event.strip, False)

    def _fader_move(self, unit: SurfaceUnit, base: int, event: FaderMove, now_ns: int) -> None:
        if event.strip >= unit.strips:
            return
        strip = base + event.strip
        index, slot = self._slot_at(strip)
        unit.fader_moved_by_hand(event.strip, event.value)
        if slot is None or not slot.editable:
            if strip not in self._touched:
                self._draw_strip(strip)  # a non-touch fader nudged: put it back
            return
        position = fader_normalized(event.value)
        if slot.kind != "continuous":
            steps = slot.step_count - 1
            step = round(position * steps)
            if step == slot.step:
                return
            position = step / steps
        new = dataclasses.replace(slot, position=position)
        self._slots[index] = new
        unit.set_ring(event.strip, _ring_for(new))
        touched = strip in self._touched
        edit = SlotEdit(index, new, position, new.step, 0, "fader", final=not touched, time_ns=now_ns)
        if touched:
            self._moved_while_touched[strip] = edit
        else:
            self._draw_strip(strip)
        self._queue.put(edit)

    def _vpot_turn(self, base: int, event: VPotTurn, now_ns: int) -> None:
        strip = base + event.strip
        index, slot = self._slot_at(strip)
        if slot is None or not slot.editable:
            return
        if slot.kind == "continuous":
            position = min(1.0, max(0.0, slot.position + event.ticks * VPOT_STEP))
        else:
            steps = slot.step_count - 1
            step = min(steps, max(0, (slot.step or 0) + event.ticks))
            position = step / steps
        if position == slot.position:
            return
        new = dataclasses.replace(slot, position=position)
        self._slots[index] = new
        self._draw_strip(strip)
        self._queue.put(SlotEdit(index, new, position, new.step, event.ticks, "vpot", True, now_ns))

    def _button(self, base: int, event: ButtonPress, now_ns: int) -> None:
        name = event.name
        if name in ("bank_left", "bank_right"):
            (self.bank_left if name == "bank_left" else self.bank_right)()
            return
        if name in ("channel_left", "channel_right"):
            self.bank(self.offset + (-1 if name == "channel_left" else 1))
            return
        if name == "name_value":
            self.show_devices = not self.show_devices
            self._draw_all()
            return
        if event.strip is None or name not in ("select", "vpot"):
            return
        strip = base + event.strip
        index, slot = self._slot_at(strip)
        if slot is None:
            return
        if slot.target and not slot.confirmed:
            new = dataclasses.replace(slot, confirmed=True)
            self._slots[index] = new
            self._draw_strip(strip)
            self._queue.put(SlotConfirm(index, new, now_ns))
        elif slot.kind == "switch" and slot.editable and not slot.target:
            position = 0.0 if slot.position >= 0.5 else 1.0
            new = dataclasses.replace(slot, position=position)
            self._slots[index] = new
            self._draw_strip(strip)
            self._queue.put(SlotEdit(index, new, position, new.step, 0, "button", True, now_ns))

    # --- delivery ------------------------------------------------------------------------
    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            batch = [first]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                for event in self._collapse(batch):
                    self._deliver(event)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _collapse(self, batch: list[_Event]) -> list[_Event]:
        """Pending fader edits of one slot collapse into the latest (V-pot ticks sum), so a
        binder slower than the hand never falls behind it. Order between different kinds
        of edit of one slot is kept."""
        out: list[_Event] = []
        latest: dict[tuple[int, str], int] = {}
        for event in batch:
            if isinstance(event, SlotEdit):
                for other in [k for k in latest if k[0] == event.index and k[1] != event.source]:
                    del latest[other]
                key = (event.index, event.source)
                at = latest.get(key)
                earlier = out[at] if at is not None else None
                if at is not None and event.source in ("fader", "vpot") and isinstance(earlier, SlotEdit) and (
                        event.source == "vpot" or not earlier.final):
                    out[at] = dataclasses.replace(event, delta=earlier.delta + event.delta)
                    self.events_collapsed += 1
                    continue
                latest[key] = len(out)
            out.append(event)
        return out

    def _deliver(self, event: _Event) -> None:
        if isinstance(event, SlotEdit):
            self._call(self._edit_callbacks, event)
        elif isinstance(event, SlotConfirm):
            self._call(self._confirm_callbacks, event)
        elif isinstance(event, SurfaceStatus):
            self._call(self._status_callbacks, event)
        else:
            self.problems.append(event)
            log.warning("%s: %s", event.unit_name, event.detail)
            self._call(self._problem_callbacks, event)
        self.events_delivered += 1

    def _call(self, callbacks: Sequence[Callable[[E], None]], event: E) -> None:
        for callback in callbacks:
            try:
                callback(event)
            except DeviceError as exc:  # the binder refused the edit: say so, keep serving the surface
                log.error("%s callback failed: %s", type(event).__name__, exc)
                self.problems.append(SurfaceProblem(self.surface.name, f"{type(event).__name__}: {exc}"))
            except Exception as exc:  # any other root (RecallError...) or a bug: the surface stays alive
                log.exception("%s callback failed", type(event).__name__)
                self.problems.append(SurfaceProblem(self.surface.name,
                                                    f"{type(event).__name__}: {type(exc).__name__}: {exc}"))

    # --- life ----------------------------------------------------------------------------
    @property
    def online(self) -> bool:
        return all(self.surface.online)

    def check_alive(self, timeout_s: float = 1.0) -> None:
        self.surface.check_alive(timeout_s)

    def wait_idle(self, timeout_s: float = 2.0) -> bool:
        """Wait until the queued edits are delivered and the surface shows the model."""
        deadline = time.monotonic() + timeout_s
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._queue.all_tasks_done.wait(left)
        return self.surface.wait_idle(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        self._stop.set()
        self._dispatcher.join(1.0)
        self.surface.close()

    def __enter__(self) -> SurfaceSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


SurfaceBank = SurfaceSession


def _ring_for(slot: Slot) -> int:
    if slot.kind == "switch":
        return ring_byte(RingMode.WRAP, 11) if slot.position >= 0.5 else 0
    mode = RingMode.BOOST_CUT if slot.bipolar else (RingMode.DOT if slot.kind == "stepped" else RingMode.WRAP)
    return ring_byte(mode, ring_position(slot.position), centre_led=slot.target and not slot.confirmed)
