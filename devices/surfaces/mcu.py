"""Mackie Control Universal (MCU) and its 8-strip extender (MCU XT): the wire format.

Host -> surface:
- motor fader: pitch bend on channel 0..7 (8 = master), 14-bit;
- V-pot LED ring: CC 0x30+strip, data = centre LED 0x40 | mode << 4 | position 0..11;
- LED: note on, velocity 0x7F on, 0x01 blink, 0x00 off;
- LCD: SysEx ``F0 00 00 66 <id> 12 <offset> <text> F7``, 2 rows x 56 characters, each
  strip owning 7 characters (row 2 starts at offset 0x38); id 0x14 MCU, 0x15 XT;
- device query ``F0 00 00 66 <id> 00 F7``, answered by a host-connection query
  ``F0 00 00 66 <id> 01 <serial 7> <challenge 4> F7`` (the MCU also sends it at boot);
- ``61`` all faders to minimum, ``62`` all LEDs off.

Surface -> host: pitch bend for fader moves, note 0x68+strip (velocity 0x7F/0x00) for
fader touch, CC 0x10+strip for V-pot turns (bit 6 set = counter-clockwise, bits 0-5 =
ticks), notes for buttons (velocity 0x7F press, 0x00 release).

The codec is pure: it builds ``mido.Message`` objects and parses them back, for the
driver (host side) and the simulator (surface side) alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import mido

from devices.surfaces.codec import (
    FADER_MAX, Alive, ButtonPress, FaderMove, FaderTouch, SurfaceInput, Unrecognised, VPotTurn,
)

MACKIE_HEADER = (0x00, 0x00, 0x66)
MCU_ID = 0x14
XT_ID = 0x15
LCD_COLUMNS = 56
LCD_ROWS = 2
LCD_CELL = 7  # characters per strip per row
LCD_SIZE = LCD_COLUMNS * LCD_ROWS  # offsets 0x00..0x6F

CMD_DEVICE_QUERY = 0x00
CMD_HOST_QUERY = 0x01
CMD_LCD = 0x12
CMD_FADERS_MIN = 0x61
CMD_LEDS_OFF = 0x62

FADER_TOUCH_BASE = 0x68  # 0x68..0x6F strips, 0x70 master
VPOT_CC_BASE = 0x10
RING_CC_BASE = 0x30
MASTER_STRIP = 8

LED_ON = 0x7F
LED_BLINK = 0x01
LED_OFF = 0x00

# buttons that repeat on every strip: name -> note of strip 0
STRIP_BUTTONS = {"rec": 0x00, "solo": 0x08, "mute": 0x10, "select": 0x18, "vpot": 0x20}
# buttons outside the strips that hybrid uses (the MCU has ~60 more; they arrive as note_XX)
GLOBAL_BUTTONS = {
    "bank_left": 0x2E, "bank_right": 0x2F, "channel_left": 0x30, "channel_right": 0x31,
    "flip": 0x32, "name_value": 0x34, "shift": 0x46, "save": 0x50, "undo": 0x51,
    "cancel": 0x52, "enter": 0x53,
}
_NOTE_TO_BUTTON: dict[int, tuple[str, int | None]] = {}
for _name, _base in STRIP_BUTTONS.items():
    for _strip in range(8):
        _NOTE_TO_BUTTON[_base + _strip] = (_name, _strip)
for _name, _note in GLOBAL_BUTTONS.items():
    _NOTE_TO_BUTTON[_note] = (_name, None)


def button_note(name: str, strip: int | None = None) -> int:
    """The note number of a button; ValueError naming the known buttons."""
    if name in STRIP_BUTTONS:
        if strip is None or not 0 <= strip < 8:
            raise ValueError(f"button {name!r} needs a strip 0..7, got {strip!r}")
        return STRIP_BUTTONS[name] + strip
    if name in GLOBAL_BUTTONS:
        return GLOBAL_BUTTONS[name]
    if name.startswith("note_"):
        return int(name[5:], 16)
    known = ", ".join([*STRIP_BUTTONS, *GLOBAL_BUTTONS])
    raise ValueError(f"unknown MCU button {name!r} (known: {known})")


def lcd_offset(row: int, strip: int) -> int:
    """Where strip ``strip`` (0..7) starts on LCD row ``row`` (0 or 1)."""
    if row not in (0, 1) or not 0 <= strip < 8:
        raise ValueError(f"LCD row {row} / strip {strip} outside rows 0..1, strips 0..7")
    return row * LCD_COLUMNS + strip * LCD_CELL


def lcd_chars(text: str) -> tuple[int, ...]:
    """LCD character codes; the MCU shows 7-bit ASCII, anything else becomes '?'."""
    return tuple(ord(c) if 0x20 <= ord(c) < 0x80 else 0x3F for c in text)


# --- host -> surface, decoded on the surface side (the simulator) ----------------------

@dataclass(frozen=True)
class LcdWrite:
    offset: int
    text: str


@dataclass(frozen=True)
class FaderSet:
    strip: int
    value: int


@dataclass(frozen=True)
class RingSet:
    strip: int
    value: int


@dataclass(frozen=True)
class LedSet:
    note: int
    velocity: int


@dataclass(frozen=True)
class DeviceQuery:
    pass


@dataclass(frozen=True)
class FadersToMinimum:
    pass


@dataclass(frozen=True)
class LedsOff:
    pass


@dataclass(frozen=True)
class Violation:
    """Bytes the host sent that a real MCU would reject or misdraw."""

    data: bytes
    reason: str


HostCommand = LcdWrite | FaderSet | RingSet | LedSet | DeviceQuery | FadersToMinimum | LedsOff | Violation


class McuCodec:
    """Encode and decode MCU / MCU XT messages for one unit (``device_id`` 0x14 or 0x15)."""

    strips = 8

    def __init__(self, device_id: int = MCU_ID):
        if device_id not in (MCU_ID, XT_ID):
            raise ValueError(f"MCU device id must be 0x14 (MCU) or 0x15 (XT), got {device_id:#04x}")
        self.device_id = device_id
        self._header = (*MACKIE_HEADER, device_id)

    # host -> surface -------------------------------------------------------------------
    def sysex(self, command: int, *data: int) -> mido.Message:
        return mido.Message("sysex", data=(*self._header, command, *data))

    def lcd(self, offset: int, text: str) -> mido.Message:
        """Write ``text`` at ``offset``; ValueError if it would run off the display."""
        if not 0 <= offset < LCD_SIZE or offset + len(text) > LCD_SIZE:
            raise ValueError(f"LCD write of {len(text)} chars at offset {offset:#04x} "
                             f"outside 0x00..{LCD_SIZE - 1:#04x}")
        return self.sysex(CMD_LCD, offset, *lcd_chars(text))

    def fader(self, strip: int, value: int) -> mido.Message:
        if not 0 <= strip <= MASTER_STRIP:
            raise ValueError(f"MCU fader strip {strip} outside 0..8")
        if not 0 <= value <= FADER_MAX:
            raise ValueError(f"fader value {value} outside 0..{FADER_MAX}")
        return mido.Message("pitchwheel", channel=strip, pitch=value - 8192)

    def ring(self, strip: int, value: int) -> mido.Message:
        if not 0 <= strip < 8:
            raise ValueError(f"MCU V-pot strip {strip} outside 0..7")
        return mido.Message("control_change", control=RING_CC_BASE + strip, value=value)

    def led(self, name: str, state: int, strip: int | None = None) -> mido.Message:
        """``state``: LED_ON, LED_BLINK or LED_OFF."""
        return mido.Message("note_on", note=button_note(name, strip), velocity=state)

    def device_query(self) -> mido.Message:
        return self.sysex(CMD_DEVICE_QUERY)

    def faders_to_minimum(self) -> mido.Message:
        return self.sysex(CMD_FADERS_MIN)

    def leds_off(self) -> mido.Message:
        return self.sysex(CMD_LEDS_OFF)

    # surface -> host, decoded by the driver --------------------------------------------
    def decode(self, msg: mido.Message) -> list[SurfaceInput]:
        """What the surface meant by ``msg``; never raises for odd input."""
        kind = msg.type
        if kind == "pitchwheel":
            return [FaderMove(msg.channel, msg.pitch + 8192)]
        if kind in ("note_on", "note_off"):
            pressed = kind == "note_on" and msg.velocity > 0
            if FADER_TOUCH_BASE <= msg.note <= FADER_TOUCH_BASE + MASTER_STRIP:
                return [FaderTouch(msg.note - FADER_TOUCH_BASE, pressed)]
            name, strip = _NOTE_TO_BUTTON.get(msg.note, (f"note_{msg.note:02x}", None))
            return [ButtonPress(name, pressed, strip)]
        if kind == "control_change":
            if VPOT_CC_BASE <= msg.control < VPOT_CC_BASE + 8:
                ticks = msg.value & 0x3F
                if ticks == 0:
                    return [Unrecognised(bytes(msg.bytes()), "V-pot turn of zero ticks")]
                return [VPotTurn(msg.control - VPOT_CC_BASE, -ticks if msg.value & 0x40 else ticks)]
            if msg.control == 0x3C:  # jog wheel: not used by hybrid, but not an error
                return [ButtonPress("jog", True)]
            return [Unrecognised(bytes(msg.bytes()), f"CC {msg.control:#04x} is not an MCU control")]
        if kind == "sysex":
            data = tuple(msg.data)
            if data[:3] != MACKIE_HEADER or len(data) < 5:
                return [Unrecognised(bytes(msg.bytes()), "SysEx without the Mackie header 00 00 66")]
            if data[3] != self.device_id:
                return [Unrecognised(bytes(msg.bytes()),
                                     f"SysEx for device id {data[3]:#04x}, expected {self.device_id:#04x}")]
            if data[4] == CMD_HOST_QUERY:
                if len(data) < 5 + 7:
                    return [Unrecognised(bytes(msg.bytes()), "host-connection query shorter than its 7-byte serial")]
                return [Alive(solicited=True, serial=bytes(data[5:12]))]
            return [Unrecognised(bytes(msg.bytes()), f"SysEx command {data[4]:#04x} not expected from a surface")]
        return [Unrecognised(bytes(msg.bytes()), f"{kind} is not part of the MCU protocol")]

    # surface side (the simulator) ------------------------------------------------------
    def move(self, strip: int, value: int) -> mido.Message:
        return self.fader(strip, value)

    def touch(self, strip: int, touched: bool) -> mido.Message:
        return mido.Message("note_on", note=FADER_TOUCH_BASE + strip, velocity=0x7F if touched else 0)

    def turn(self, strip: int, ticks: int) -> mido.Message:
        if ticks == 0 or abs(ticks) > 0x3F:
            raise ValueError(f"V-pot ticks {ticks} outside -63..-1, 1..63")
        value = abs(ticks) | (0x40 if ticks < 0 else 0)
        return mido.Message("control_change", control=VPOT_CC_BASE + strip, value=value)

    def press(self, name: str, pressed: bool, strip: int | None = None) -> mido.Message:
        return mido.Message("note_on", note=button_note(name, strip), velocity=0x7F if pressed else 0)

    def host_connection_query(self, serial: bytes, challenge: bytes = b"\x00\x00\x00\x00") -> mido.Message:
        return self.sysex(CMD_HOST_QUERY, *serial[:7].ljust(7, b"\x00"), *challenge[:4])

    def decode_host(self, msg: mido.Message) -> list[HostCommand]:
        """What the host asked the surface to do, checked the way the hardware would."""
        raw = bytes(msg.bytes())
        if msg.type == "pitchwheel":
            if msg.channel > MASTER_STRIP:
                return [Violation(raw, f"fader on channel {msg.channel}, MCU has 0..8")]
            return [FaderSet(msg.channel, msg.pitch + 8192)]
        if msg.type == "control_change":
            if RING_CC_BASE <= msg.control < RING_CC_BASE + 8:
                if msg.channel != 0:
                    return [Violation(raw, f"ring CC on MIDI channel {msg.channel + 1}, MCU listens on 1")]
                if msg.value & 0x0F > 11:
                    return [Violation(raw, f"ring position {msg.value & 0x0F} above 11")]
                return [RingSet(msg.control - RING_CC_BASE, msg.value)]
            if 0x40 <= msg.control <= 0x4B:  # time code / assignment digits: drawn, not checked
                return []
            return [Violation(raw, f"CC {msg.control:#04x} is not an MCU display control")]
        if msg.type == "note_on":
            if msg.velocity not in (LED_ON, LED_BLINK, LED_OFF):
                return [Violation(raw, f"LED velocity {msg.velocity:#04x}, expected 7f/01/00")]
            return [LedSet(msg.note, msg.velocity)]
        if msg.type == "sysex":
            data = tuple(msg.data)
            if data[:3] != MACKIE_HEADER or len(data) < 5:
                return [Violation(raw, "SysEx without the Mackie header 00 00 66")]
            if data[3] != self.device_id:
                return [Violation(raw, f"SysEx for device id {data[3]:#04x}, this unit is {self.device_id:#04x}")]
            command, body = data[4], data[5:]
            if command == CMD_LCD:
                if not body:
                    return [Violation(raw, "LCD write without an offset")]
                offset, text = body[0], body[1:]
                if offset >= LCD_SIZE or offset + len(text) > LCD_SIZE:
                    return [Violation(raw, f"LCD write of {len(text)} chars at {offset:#04x} runs past 0x6f")]
                return [LcdWrite(offset, "".join(chr(c) for c in text))]
            if command == CMD_DEVICE_QUERY:
                return [DeviceQuery()]
            if command == CMD_FADERS_MIN:
                return [FadersToMinimum()]
            if command == CMD_LEDS_OFF:
                return [LedsOff()]
            return [Violation(raw, f"SysEx command {command:#04x} not handled by this simulator")]
        return [Violation(raw, f"{msg.type} is not part of the MCU protocol")]
