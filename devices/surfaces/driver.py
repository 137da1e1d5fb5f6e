"""A control surface on its MIDI ports: its units, their input, and a liveness watch.

``Surface.open("mcu", ["MCU", "XT 1"])`` opens an MCU and one extender (one MIDI in/out
pair each), asks each unit to answer (MCU device query, HUI ping) and raises a clear
DeviceError for a unit that does not. A watch thread keeps asking: a HUI must be
pinged about once a second or it drops offline, and a unit that stops answering is
reported (``on_status``) as offline, then redrawn in full when it answers again (it
was probably power-cycled). Input is decoded on the MIDI thread and handed to the
``on_input`` callback with the unit's index.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from collections.abc import Callable, Sequence
from typing import Any

import mido

from devices.errors import DeviceError
from devices.surfaces import mcu
from devices.surfaces.codec import Alive, SurfaceInput, SurfaceReset, Unrecognised
from devices.surfaces.ports import InputPoller, midi_backend, open_input, open_output, port_names
from devices.surfaces.units import HuiUnit, McuUnit, SurfaceUnit

log = logging.getLogger(__name__)

KINDS = ("mcu", "hui")
MAX_MCU_EXTENDERS = 3
DEFAULT_HEARTBEAT_S = {"mcu": 2.0, "hui": 1.0}


@dataclass(frozen=True)
class SurfaceStatus:
    """A unit went offline or came back. ``reason`` is one line for a person."""

    unit: int
    unit_name: str
    online: bool
    reason: str


PortSpec = str | tuple[str, str]


class Surface:
    """The units of one surface (MCU + up to 3 XTs, or one or more HUIs)."""

    def __init__(self, kind: str, units: Sequence[SurfaceUnit], *, name: str,
                 heartbeat_s: float | None = None, timeout_s: float | None = None):
        self.kind = kind
        self.name = name
        self.units = list(units)
        self.heartbeat_s = heartbeat_s if heartbeat_s is not None else DEFAULT_HEARTBEAT_S[kind]
        self.timeout_s = timeout_s if timeout_s is not None else 2.5 * self.heartbeat_s
        now = time.monotonic()
        self._last_alive = [now] * len(self.units)
        self._query_sent: list[float | None] = [None] * len(self.units)
        self.online = [True] * len(self.units)
        self._input_callbacks: list[Callable[[int, SurfaceInput], None]] = []
        self._status_callbacks: list[Callable[[SurfaceStatus], None]] = []
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None
        self._poller = InputPoller(name)

    # --- opening ---------------------------------------------------------------------
    @classmethod
    def open(cls, kind: str, ports: Sequence[PortSpec], *, backend: str | None = None,
             name: str | None = None, heartbeat_s: float | None = None, timeout_s: float | None = None,
             answer_timeout_s: float = 1.0, require_answer: bool = True, **unit_options: Any) -> Surface:
        """Open ``kind`` ("mcu" or "hui") on ``ports``: one entry per unit, a port name
        (matched as a substring, for both directions) or ``(input_name, output_name)``.
        For an MCU the first unit is the MCU, the others its extenders (XT)."""
        if kind not in KINDS:
            raise DeviceError(f"unknown surface kind {kind!r}, expected one of {', '.join(KINDS)}",
                              device=name, action="opening")
        if not ports:
            raise DeviceError("no MIDI ports given", device=name or kind, action="opening")
        if kind == "mcu" and len(ports) > 1 + MAX_MCU_EXTENDERS:
            raise DeviceError(f"{len(ports) - 1} extenders given; an MCU takes at most {MAX_MCU_EXTENDERS}",
                              device=name or kind, action="opening")
        name = name or kind.upper()
        midi = midi_backend(backend)
        units: list[SurfaceUnit] = []
        surface = None
        try:
            inputs, outputs = port_names(midi)
            for index, spec in enumerate(ports):
                in_name, out_name = (spec, spec) if isinstance(spec, str) else spec
                label = _unit_label(kind, index, name)
                out_port = open_output(midi, out_name, device=label, available=outputs)
                unit: SurfaceUnit
                if kind == "mcu":
                    unit = McuUnit(label, out_port, device_id=mcu.MCU_ID if index == 0 else mcu.XT_ID,
                                   **unit_options)
                else:
                    unit = HuiUnit(label, out_port, **unit_options)
                units.append(unit)
            surface = cls(kind, units, name=name, heartbeat_s=heartbeat_s, timeout_s=timeout_s)
            for index, (unit, spec) in enumerate(zip(units, ports, strict=False)):
                in_name = spec if isinstance(spec, str) else spec[0]
                unit.in_port = open_input(midi, in_name, device=unit.name, available=inputs)
                surface._poller.add(unit.in_port, surface._input_handler(index))
            if require_answer:
                surface.check_alive(answer_timeout_s)
            surface.start_watch()
            return surface
        except BaseException:
            if surface is not None:
                surface.close(clear=False)
            else:
                for unit in units:
                    unit.close()
            raise

    # --- callbacks -------------------------------------------------------------------
    def on_input(self, callback: Callable[[int, SurfaceInput], None]) -> None:
        self._input_callbacks.append(callback)

    def on_status(self, callback: Callable[[SurfaceStatus], None]) -> None:
        self._status_callbacks.append(callback)

    def _input_handler(self, index: int) -> Callable[[mido.Message | bytes], None]:
        unit = self.units[index]

        def handle(msg: mido.Message | bytes) -> None:
            if isinstance(msg, bytes):
                events: list[SurfaceInput] = [Unrecognised(msg, "not a valid MIDI message")]
            else:
                events = unit.decode(msg)
            for event in events:
                if isinstance(event, Alive):
                    self._alive(index)
                    continue
                if isinstance(event, SurfaceReset):
                    log.info("%s reset itself; redrawing", unit.name)
                    unit.redraw()
                if isinstance(event, Unrecognised):
                    log.warning("%s sent %s", unit.name, event.describe())
                for callback in self._input_callbacks:
                    callback(index, event)

        return handle

    def _alive(self, index: int) -> None:
        unit = self.units[index]
        with self._lock:
            solicited = self._query_sent[index] is not None
            self._query_sent[index] = None
            self._last_alive[index] = time.monotonic()
            came_back = not self.online[index]
            self.online[index] = True
            self._answered.notify_all()
        if came_back or not solicited:
            unit.redraw()
        if came_back:
            self._report(SurfaceStatus(index, unit.name, True, "answering again; redrawn"))

    def _report(self, status: SurfaceStatus) -> None:
        (log.info if status.online else log.warning)("%s: %s", status.unit_name, status.reason)
        for callback in self._status_callbacks:
            callback(status)

    # --- liveness --------------------------------------------------------------------
    def _query(self, index: int) -> None:
        unit = self.units[index]
        with self._lock:
            if self._query_sent[index] is None:
                self._query_sent[index] = time.monotonic()
        unit.send_now(unit.alive_query())

    def check_alive(self, timeout_s: float = 1.0) -> None:
        """Ask every unit and wait for all answers; DeviceError naming the first silent one."""
        start = time.monotonic()
        with self._lock:
            asked = list(self._last_alive)
        for index in range(len(self.units)):
            self._query(index)
        deadline = start + timeout_s
        with self._lock:
            while True:
                silent = [i for i in range(len(self.units)) if self._last_alive[i] <= asked[i]]
                left = deadline - time.monotonic()
                if not silent or left <= 0:
                    break
                self._answered.wait(left)
        if silent:
            unit = self.units[silent[0]]
            what = "device query" if self.kind == "mcu" else "heartbeat ping"
            error = unit.send_error or "is it powered, connected and in " + (
                "Mackie Control mode?" if self.kind == "mcu" else "HUI mode?")
            raise DeviceError(f"no answer to the {what} within {timeout_s:g} s ({error})",
                              device=unit.name, action="checking the surface")

    def start_watch(self) -> None:
        if self._watch is None and self.heartbeat_s > 0:
            self._watch = threading.Thread(target=self._watch_loop, name=f"surface-watch {self.name}",
                                           daemon=True)
            self._watch.start()

    def _watch_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            now = time.monotonic()
            for index, unit in enumerate(self.units):
                with self._lock:
                    silent_s = now - self._last_alive[index]
                    went = self.online[index] and silent_s > self.timeout_s
                    if went:
                        self.online[index] = False
                if went:
                    self._report(SurfaceStatus(index, unit.name, False,
                                               f"no answer for {silent_s:.1f} s; surface offline"))
                self._query(index)

    def describe(self) -> list[dict[str, object]]:
        """Per unit: name, protocol, ports, online, seconds since it last answered."""
        now = time.monotonic()
        with self._lock:
            return [{"unit": unit.name, "protocol": unit.kind if self.kind == "hui" else
                     ("MCU" if i == 0 else "MCU XT"), "output": getattr(unit.out_port, "name", None),
                     "input": getattr(unit.in_port, "name", None), "strips": unit.strips,
                     "online": self.online[i], "last_answer_s": round(now - self._last_alive[i], 3)}
                    for i, unit in enumerate(self.units)]

    @property
    def strips(self) -> int:
        return sum(unit.strips for unit in self.units)

    def unit_strip(self, strip: int) -> tuple[SurfaceUnit, int]:
        for unit in self.units:
            if strip < unit.strips:
                return unit, strip
            strip -= unit.strips
        raise IndexError(f"strip {strip} beyond the surface's {self.strips} strips")

    def wait_idle(self, timeout_s: float = 2.0) -> bool:
        deadline = time.monotonic() + timeout_s
        return all(unit.wait_idle(max(0.0, deadline - time.monotonic())) for unit in self.units)

    def close(self, *, clear: bool = True, timeout_s: float = 1.0) -> None:
        """Stop the watch; with ``clear``, blank the displays and park the faders first."""
        self._stop.set()
        if self._watch is not None:
            self._watch.join(timeout_s)
        if clear:
            for unit in self.units:
                unit.clear()
            self.wait_idle(timeout_s)
        self._poller.close(timeout_s)
        for unit in self.units:
            unit.close(timeout_s)

    def __enter__(self) -> Surface:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _unit_label(kind: str, index: int, name: str) -> str:
    if kind == "mcu":
        return name if index == 0 else f"{name} XT {index}"
    return name if index == 0 else f"{name} #{index + 1}"
