"""Simulated MCU (+ extenders) and HUI surfaces on virtual MIDI ports (JACK MIDI here).

A simulator is what a person at the console would see and do: it parses every byte
the host sends, checks it the way the hardware would (SysEx header and device id, LCD
offsets, fader channels, ring positions, and that no motor is driven under a finger),
keeps the picture (LCD text per strip, fader positions, rings, LEDs), answers the
liveness queries, and sends touches, moves, V-pot turns and presses. Like the hardware,
it ignores motor moves under a finger, and counts it a fault when the host sends one
more than ``TOUCH_GRACE_S`` after the touch (before that the two crossed on the wire).

Protocol slips land in ``errors`` (a list of one-line strings): tests assert it stays
empty. ``answering = False`` makes the surface go silent, as an unplugged one would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import mido

from devices.surfaces import hui, mcu
from devices.surfaces.codec import FADER_MAX, STRIPS_PER_UNIT, fader_value
from devices.surfaces.ports import InputPoller, PolledInput, _retrying, midi_backend

TOUCH_GRACE_S = 0.1  # a host move sent before it could hear a touch is a crossing, not a fault


class _SimUnit:
    """One simulated unit: a virtual input (the host writes here) and output."""

    def __init__(self, owner: SimulatedSurface, index: int, port_name: str, codec: Any):
        self.owner = owner
        self.index = index
        self.port_name = port_name
        self.codec = codec
        self.faders = [0] * (STRIPS_PER_UNIT + 1)
        self.rings = [0] * STRIPS_PER_UNIT
        self.touched = [False] * (STRIPS_PER_UNIT + 1)
        self.touched_at = [0.0] * (STRIPS_PER_UNIT + 1)
        self.crossed_moves = 0
        self.fader_messages = 0
        self.messages = 0
        midi = owner.midi
        client = f"{port_name}".replace(" ", "-")
        self.out_port = _retrying(lambda: midi.open_output(port_name, virtual=True, client_name=f"{client}-tx"))
        self.in_port = PolledInput(midi, port_name, virtual=True, client_name=f"{client}-rx")
        owner._poller.add(self.in_port, self._receive)

    def _receive(self, msg: mido.Message | bytes) -> None:
        with self.owner._cond:
            self.messages += 1
            if isinstance(msg, bytes):
                self.error(f"not a valid MIDI message [{msg.hex(' ')}]")
            else:
                for command in self.codec.decode_host(msg):
                    self.apply(command)
            self.owner._cond.notify_all()

    # what each protocol's unit defines
    def apply(self, command: Any) -> None:
        raise NotImplementedError

    def strip_text(self, strip: int) -> tuple[str, str]:
        raise NotImplementedError

    def led(self, name: str, strip: int | None) -> str:
        raise NotImplementedError

    def reboot(self) -> None:
        raise NotImplementedError

    def motor_move_while_touched(self, strip: int, value: int) -> None:
        """The motor is off under a finger, so the move is ignored, as the hardware does.
        It is the host's fault only if it had time to hear the touch: a move already on
        the wire when the finger landed (within ``TOUCH_GRACE_S``) just crossed it."""
        if time.monotonic() - self.touched_at[strip] > TOUCH_GRACE_S:
            self.error(f"motor fader {strip} driven to {value} while touched")
        else:
            self.crossed_moves += 1

    def error(self, text: str) -> None:
        self.owner.errors.append(f"{self.port_name}: {text}")

    def send(self, *messages: mido.Message) -> None:
        for msg in messages:
            self.out_port.send(msg)

    def close(self) -> None:
        self.out_port.close()  # the input is closed by the owner's poller


class _SimMcuUnit(_SimUnit):
    def __init__(self, owner: SimulatedSurface, index: int, port_name: str, device_id: int) -> None:
        super().__init__(owner, index, port_name, mcu.McuCodec(device_id))
        self.lcd = [" "] * mcu.LCD_SIZE
        self.leds: dict[int, int] = {}
        self.serial = f"SIM{index:04d}".encode()

    def apply(self, command: Any) -> None:
        if isinstance(command, mcu.Violation):
            self.error(f"{command.reason} [{command.data.hex(' ')}]")
        elif isinstance(command, mcu.LcdWrite):
            for i, ch in enumerate(command.text):
                if not 0x20 <= ord(ch) < 0x80:
                    self.error(f"LCD character {ord(ch):#04x} at {command.offset + i:#04x} not printable")
                self.lcd[command.offset + i] = ch
        elif isinstance(command, mcu.FaderSet):
            self.fader_messages += 1
            if self.touched[command.strip]:
                self.motor_move_while_touched(command.strip, command.value)
                return
            self.faders[command.strip] = command.value
        elif isinstance(command, mcu.RingSet):
            self.rings[command.strip] = command.value
        elif isinstance(command, mcu.LedSet):
            self.leds[command.note] = command.velocity
        elif isinstance(command, mcu.DeviceQuery):
            self.owner.queries += 1
            if self.owner.answering:
                self.send(self.codec.host_connection_query(self.serial, b"\x01\x02\x03\x04"))
        elif isinstance(command, mcu.FadersToMinimum):
            self.faders = [0] * len(self.faders)
        elif isinstance(command, mcu.LedsOff):
            self.leds.clear()

    def strip_text(self, strip: int) -> tuple[str, str]:
        cells = []
        for row in range(mcu.LCD_ROWS):
            start = mcu.lcd_offset(row, strip)
            cells.append("".join(self.lcd[start:start + mcu.LCD_CELL]))
        return cells[0], cells[1]

    def led(self, name: str, strip: int | None) -> str:
        velocity = self.leds.get(mcu.button_note(name, strip), 0)
        return {mcu.LED_ON: "on", mcu.LED_BLINK: "blink"}.get(velocity, "off")

    def reboot(self) -> None:
        with self.owner._cond:
            self.lcd = [" "] * mcu.LCD_SIZE
            self.leds.clear()
            self.faders = [0] * len(self.faders)
            self.rings = [0] * len(self.rings)
        self.send(self.codec.host_connection_query(self.serial, b"\x05\x06\x07\x08"))


class _SimHuiUnit(_SimUnit):
    def __init__(self, owner: SimulatedSurface, index: int, port_name: str) -> None:
        super().__init__(owner, index, port_name, hui.HuiCodec())
        self.small = ["    "] * STRIPS_PER_UNIT
        self.large = [" "] * (2 * hui.LARGE_COLUMNS)
        self.leds: dict[tuple[int, int], bool] = {}

    def apply(self, command: Any) -> None:
        if isinstance(command, hui.Violation):
            self.error(f"{command.reason} [{command.data.hex(' ')}]")
        elif isinstance(command, hui.Ping):
            self.owner.queries += 1
            if self.owner.answering:
                self.send(self.codec.ping_reply())
        elif isinstance(command, hui.SmallText):
            self.small[command.strip] = command.text
        elif isinstance(command, hui.LargeText):
            start = command.slice * hui.LARGE_SLICE_CHARS
            self.large[start:start + hui.LARGE_SLICE_CHARS] = command.text
        elif isinstance(command, hui.FaderSet):
            self.fader_messages += 1
            if self.touched[command.strip]:
                self.motor_move_while_touched(command.strip, command.value)
                return
            self.faders[command.strip] = command.value
        elif isinstance(command, hui.RingSet):
            if command.strip < STRIPS_PER_UNIT:
                self.rings[command.strip] = command.value
        elif isinstance(command, hui.LedSet):
            self.leds[(command.zone, command.port)] = command.on

    def strip_text(self, strip: int) -> tuple[str, str]:
        width = 5
        top = "".join(self.large[strip * width:(strip + 1) * width])
        bottom = "".join(self.large[hui.LARGE_COLUMNS + strip * width:hui.LARGE_COLUMNS + (strip + 1) * width])
        return top, bottom

    def led(self, name: str, strip: int | None) -> str:
        return "on" if self.leds.get(hui.zone_port(name, strip)) else "off"

    def reboot(self) -> None:
        with self.owner._cond:
            self.small = ["    "] * STRIPS_PER_UNIT
            self.large = [" "] * (2 * hui.LARGE_COLUMNS)
            self.leds.clear()
            self.faders = [0] * len(self.faders)
            self.rings = [0] * len(self.rings)
        self.send(mido.Message("reset"))


class SimulatedSurface:
    """Base of the simulators: units, the shared lock, the person's actions by strip."""

    kind = "surface"

    def __init__(self, name: str, backend: str | None = None):
        self.name = name
        self.midi = midi_backend(backend)
        self._cond = threading.Condition()
        self.units: list[_SimUnit] = []
        self.errors: list[str] = []
        self.answering = True
        self.queries = 0
        self._poller = InputPoller(name)

    @property
    def port_specs(self) -> list[str]:
        """What to pass to ``Surface.open`` as ``ports`` (one name per unit)."""
        return [unit.port_name for unit in self.units]

    @property
    def strips(self) -> int:
        return STRIPS_PER_UNIT * len(self.units)

    def unit_strip(self, strip: int) -> tuple[_SimUnit, int]:
        if not 0 <= strip < self.strips:
            raise IndexError(f"strip {strip} outside 0..{self.strips - 1}")
        return self.units[strip // STRIPS_PER_UNIT], strip % STRIPS_PER_UNIT

    # --- what a person sees ------------------------------------------------------------
    def strip_text(self, strip: int) -> tuple[str, str]:
        """The two lines shown over strip ``strip`` (MCU LCD cell, HUI main display)."""
        unit, local = self.unit_strip(strip)
        with self._cond:
            return unit.strip_text(local)

    def fader(self, strip: int) -> int:
        unit, local = self.unit_strip(strip)
        return unit.faders[local]

    def ring(self, strip: int) -> int:
        unit, local = self.unit_strip(strip)
        return unit.rings[local]

    def led(self, name: str, strip: int | None = None, unit: int = 0) -> str:
        if strip is not None:
            sim_unit, strip = self.unit_strip(strip)
        else:
            sim_unit = self.units[unit]
        with self._cond:
            return sim_unit.led(name, strip)

    @property
    def fader_messages(self) -> int:
        return sum(unit.fader_messages for unit in self.units)

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 2.0) -> bool:
        """Wait until ``predicate()`` holds (checked on every message received)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    # --- what a person does ------------------------------------------------------------
    def touch(self, strip: int, touched: bool = True) -> None:
        unit, local = self.unit_strip(strip)
        with self._cond:
            unit.touched[local] = touched
            unit.touched_at[local] = time.monotonic()
        msgs = unit.codec.touch(local, touched)
        unit.send(*(msgs if isinstance(msgs, list) else [msgs]))

    def move(self, strip: int, position: float | int) -> None:
        """Move a fader by hand to ``position`` (0..1 float, or a 14-bit int)."""
        unit, local = self.unit_strip(strip)
        value = position if isinstance(position, int) else fader_value(position)
        if not 0 <= value <= FADER_MAX:
            raise ValueError(f"fader value {value} outside 0..{FADER_MAX}")
        with self._cond:
            unit.faders[local] = value
        msgs = unit.codec.move(local, value)
        unit.send(*(msgs if isinstance(msgs, list) else [msgs]))

    def turn(self, strip: int, ticks: int) -> None:
        unit, local = self.unit_strip(strip)
        unit.send(unit.codec.turn(local, ticks))

    def press(self, name: str, strip: int | None = None, *, unit: int = 0, release: bool = True) -> None:
        """Press (and by default release) a button: a strip button by ``strip``, or a
        global one (bank_left, bank_right, name_value ...) on unit ``unit``."""
        if strip is not None:
            sim_unit, local = self.unit_strip(strip)
        else:
            sim_unit, local = self.units[unit], None
        for pressed in ((True, False) if release else (True,)):
            msgs = sim_unit.codec.press(name, pressed, local)
            sim_unit.send(*(msgs if isinstance(msgs, list) else [msgs]))

    def send_raw(self, data: bytes, unit: int = 0) -> None:
        """Send arbitrary bytes, as a confused or broken surface might."""
        self.units[unit].send(mido.Message.from_bytes(list(data)))

    def reboot(self, unit: int = 0) -> None:
        """Power-cycle a unit: its picture goes blank and it announces itself."""
        self.units[unit].reboot()

    def close(self) -> None:
        self._poller.close()
        for unit in self.units:
            unit.close()

    def __enter__(self) -> SimulatedSurface:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SimulatedMcu(SimulatedSurface):
    """An MCU and ``extenders`` MCU XTs, each on its own pair of virtual ports."""

    kind = "mcu"

    def __init__(self, name: str = "sim-mcu", *, extenders: int = 0, backend: str | None = None):
        super().__init__(name, backend)
        if not 0 <= extenders <= 3:
            raise ValueError(f"extenders {extenders} outside 0..3")
        try:
            for index in range(1 + extenders):
                label = "MCU" if index == 0 else f"XT{index}"
                self.units.append(_SimMcuUnit(self, index, f"{name} {label}",
                                              mcu.MCU_ID if index == 0 else mcu.XT_ID))
        except BaseException:
            self.close()
            raise


class SimulatedHui(SimulatedSurface):
    """A HUI (8 strips) on one pair of virtual ports."""

    kind = "hui"

    def __init__(self, name: str = "sim-hui", *, backend: str | None = None):
        super().__init__(name, backend)
        self.hui = _SimHuiUnit(self, 0, f"{name} HUI")
        self.units.append(self.hui)

    def small_text(self, strip: int) -> str:
        _unit, local = self.unit_strip(strip)
        return self.hui.small[local]
