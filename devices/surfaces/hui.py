"""Mackie HUI: the wire format (one HUI = 8 strips).

HUI hijacks channel-1 messages:
- heartbeat: the host pings with note on ``90 00 00`` about once a second; the surface
  answers ``90 00 7F``. A HUI that stops hearing pings drops offline; a host that stops
  hearing replies knows the surface has gone.
- switches and LEDs by zone and port: host -> surface ``B0 0C <zone>`` then
  ``B0 2C <port | 0x40 on>``; surface -> host ``B0 0F <zone>`` then ``B0 2F <port | 0x40
  pressed>``. Zones 0..7 are the strips (port 0 fader touch, 1 select, 2 mute, 3 solo,
  4 auto, 5 V-pot select, 6 insert, 7 rec-arm); zone 0x0A is bank/channel navigation.
- faders: ``B0 <strip> <hi>`` then ``B0 <0x20+strip> <lo>``, 14-bit, both directions.
- V-pots: surface -> host ``B0 <0x40+strip> <delta>`` (bit 6 set = clockwise, bits 0-5
  = ticks); host -> surface LED ring ``B0 <0x10+strip> <ring byte>`` (as on the MCU).
- text: ``F0 00 00 66 05 00 10 <strip> <4 chars> F7`` for the 4-character strip displays,
  ``F0 00 00 66 05 00 12 <slice 0..7> <10 chars> F7`` for the 2 x 40 main display
  (slices 0..3 the top row, 4..7 the bottom row).
- the surface sends a System Reset ``FF`` when it restarts.
"""

from __future__ import annotations

from dataclasses import dataclass

import mido

from devices.surfaces.codec import (
    FADER_MAX, Alive, ButtonPress, FaderMove, FaderTouch, SurfaceInput, SurfaceReset, Unrecognised,
    VPotTurn,
)

HUI_HEADER = (0x00, 0x00, 0x66, 0x05, 0x00)
CMD_SMALL_DISPLAY = 0x10
CMD_LARGE_DISPLAY = 0x12
SMALL_DISPLAY_CHARS = 4
LARGE_SLICE_CHARS = 10
LARGE_SLICES = 8
LARGE_COLUMNS = 40

ZONE_TO_SURFACE = 0x0C
PORT_TO_SURFACE = 0x2C
ZONE_TO_HOST = 0x0F
PORT_TO_HOST = 0x2F
RING_CC_BASE = 0x10
VPOT_CC_BASE = 0x40
FADER_LO_BASE = 0x20

STRIP_PORTS = {"touch": 0, "select": 1, "mute": 2, "solo": 3, "auto": 4, "vpot": 5, "insert": 6, "rec": 7}
_PORT_TO_STRIP_BUTTON = {port: name for name, port in STRIP_PORTS.items()}
NAV_ZONE = 0x0A
GLOBAL_BUTTONS = {"channel_left": (NAV_ZONE, 0), "bank_left": (NAV_ZONE, 1),
                  "channel_right": (NAV_ZONE, 2), "bank_right": (NAV_ZONE, 3)}
_ZONE_PORT_TO_GLOBAL = {zp: name for name, zp in GLOBAL_BUTTONS.items()}


def zone_port(name: str, strip: int | None = None) -> tuple[int, int]:
    """(zone, port) of a switch; ValueError naming the known ones."""
    if name in STRIP_PORTS:
        if strip is None or not 0 <= strip < 8:
            raise ValueError(f"HUI switch {name!r} needs a strip 0..7, got {strip!r}")
        return strip, STRIP_PORTS[name]
    if name in GLOBAL_BUTTONS:
        return GLOBAL_BUTTONS[name]
    if name.startswith("zone_"):  # zone_ZZ_port_P, as decode() names unknown switches
        _, zone, _, port = name.split("_")
        return int(zone, 16), int(port)
    raise ValueError(f"unknown HUI switch {name!r} (known: {', '.join([*STRIP_PORTS, *GLOBAL_BUTTONS])})")


def hui_chars(text: str) -> tuple[int, ...]:
    return tuple(ord(c) if 0x20 <= ord(c) < 0x7E else 0x3F for c in text)


# --- host -> surface, decoded by the simulator -----------------------------------------

@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class SmallText:
    strip: int
    text: str


@dataclass(frozen=True)
class LargeText:
    slice: int
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
    zone: int
    port: int
    on: bool


@dataclass(frozen=True)
class Violation:
    data: bytes
    reason: str


HostCommand = Ping | SmallText | LargeText | FaderSet | RingSet | LedSet | Violation


class HuiCodec:
    """Encode HUI messages, and decode them with the little state HUI needs (the
    selected zone, the fader high byte waiting for its low byte)."""

    strips = 8

    def __init__(self) -> None:
        self._zone_from_surface: int | None = None
        self._zone_from_host: int | None = None
        self._hi_from_surface: dict[int, int] = {}
        self._hi_from_host: dict[int, int] = {}

    # host -> surface -------------------------------------------------------------------
    def sysex(self, *data: int) -> mido.Message:
        return mido.Message("sysex", data=(*HUI_HEADER, *data))

    def ping(self) -> mido.Message:
        return mido.Message("note_on", note=0, velocity=0)

    def small_text(self, strip: int, text: str) -> mido.Message:
        if not 0 <= strip < 8 or len(text) != SMALL_DISPLAY_CHARS:
            raise ValueError(f"HUI strip display {strip} takes exactly 4 chars, got {text!r}")
        return self.sysex(CMD_SMALL_DISPLAY, strip, *hui_chars(text))

    def large_text(self, slice_index: int, text: str) -> mido.Message:
        if not 0 <= slice_index < LARGE_SLICES or len(text) != LARGE_SLICE_CHARS:
            raise ValueError(f"HUI display slice {slice_index} (0..7) takes exactly 10 chars, got {text!r}")
        return self.sysex(CMD_LARGE_DISPLAY, slice_index, *hui_chars(text))

    def fader(self, strip: int, value: int) -> list[mido.Message]:
        if not 0 <= strip < 8:
            raise ValueError(f"HUI fader strip {strip} outside 0..7")
        if not 0 <= value <= FADER_MAX:
            raise ValueError(f"fader value {value} outside 0..{FADER_MAX}")
        return [mido.Message("control_change", control=strip, value=value >> 7),
                mido.Message("control_change", control=FADER_LO_BASE + strip, value=value & 0x7F)]

    def ring(self, strip: int, value: int) -> mido.Message:
        if not 0 <= strip < 12:
            raise ValueError(f"HUI V-pot {strip} outside 0..11")
        return mido.Message("control_change", control=RING_CC_BASE + strip, value=value)

    def led(self, name: str, on: bool, strip: int | None = None) -> list[mido.Message]:
        zone, port = zone_port(name, strip)
        return [mido.Message("control_change", control=ZONE_TO_SURFACE, value=zone),
                mido.Message("control_change", control=PORT_TO_SURFACE, value=port | (0x40 if on else 0))]

    # surface -> host, decoded by the driver --------------------------------------------
    def decode(self, msg: mido.Message) -> list[SurfaceInput]:
        raw = bytes(msg.bytes())
        if msg.type in ("note_on", "note_off"):
            if msg.note == 0 and msg.type == "note_on" and msg.velocity == 0x7F and msg.channel == 0:
                return [Alive(solicited=True)]
            return [Unrecognised(raw, "note other than the ping reply 90 00 7f")]
        if msg.type == "reset":
            return [SurfaceReset()]
        if msg.type != "control_change":
            return [Unrecognised(raw, f"{msg.type} is not part of the HUI protocol")]
        if msg.channel != 0:
            return [Unrecognised(raw, f"CC on MIDI channel {msg.channel + 1}; HUI uses channel 1 only")]
        control, value = msg.control, msg.value
        if control == ZONE_TO_HOST:
            self._zone_from_surface = value
            return []
        if control == PORT_TO_HOST:
            zone, self._zone_from_surface = self._zone_from_surface, None
            if zone is None:
                return [Unrecognised(raw, "switch port without a zone select before it")]
            port, pressed = value & 0x0F, bool(value & 0x40)
            if zone < 8:
                name = _PORT_TO_STRIP_BUTTON.get(port)
                if name == "touch":
                    return [FaderTouch(zone, pressed)]
                if name is not None:
                    return [ButtonPress(name, pressed, zone)]
            name = _ZONE_PORT_TO_GLOBAL.get((zone, port), f"zone_{zone:02x}_port_{port}")
            return [ButtonPress(name, pressed)]
        if control < 8:
            self._hi_from_surface[control] = value
            return []
        if FADER_LO_BASE <= control < FADER_LO_BASE + 8:
            strip = control - FADER_LO_BASE
            hi = self._hi_from_surface.pop(strip, None)
            if hi is None:
                return [Unrecognised(raw, f"fader {strip} low byte without its high byte")]
            return [FaderMove(strip, (hi << 7) | value)]
        if VPOT_CC_BASE <= control < VPOT_CC_BASE + 8:
            ticks = value & 0x3F
            if ticks == 0:
                return [Unrecognised(raw, "V-pot turn of zero ticks")]
            return [VPotTurn(control - VPOT_CC_BASE, ticks if value & 0x40 else -ticks)]
        if control == 0x0D:  # jog wheel
            return [ButtonPress("jog", True)]
        return [Unrecognised(raw, f"CC {control:#04x} is not a HUI control")]

    # surface side (the simulator) ------------------------------------------------------
    def ping_reply(self) -> mido.Message:
        return mido.Message("note_on", note=0, velocity=0x7F)

    def move(self, strip: int, value: int) -> list[mido.Message]:
        return self.fader(strip, value)

    def switch(self, zone: int, port: int, on: bool) -> list[mido.Message]:
        return [mido.Message("control_change", control=ZONE_TO_HOST, value=zone),
                mido.Message("control_change", control=PORT_TO_HOST, value=port | (0x40 if on else 0))]

    def touch(self, strip: int, touched: bool) -> list[mido.Message]:
        return self.switch(strip, STRIP_PORTS["touch"], touched)

    def press(self, name: str, pressed: bool, strip: int | None = None) -> list[mido.Message]:
        return self.switch(*zone_port(name, strip), pressed)

    def turn(self, strip: int, ticks: int) -> mido.Message:
        if ticks == 0 or abs(ticks) > 0x3F:
            raise ValueError(f"V-pot ticks {ticks} outside -63..-1, 1..63")
        return mido.Message("control_change", control=VPOT_CC_BASE + strip,
                            value=abs(ticks) | (0x40 if ticks > 0 else 0))

    def decode_host(self, msg: mido.Message) -> list[HostCommand]:
        raw = bytes(msg.bytes())
        if msg.type == "note_on":
            if msg.note == 0 and msg.velocity == 0:
                return [Ping()]
            return [Violation(raw, "note other than the ping 90 00 00")]
        if msg.type == "sysex":
            data = tuple(msg.data)
            if data[:5] != HUI_HEADER or len(data) < 6:
                return [Violation(raw, "SysEx without the HUI header 00 00 66 05 00")]
            command, body = data[5], data[6:]
            if command == CMD_SMALL_DISPLAY:
                if len(body) != 1 + SMALL_DISPLAY_CHARS or body[0] > 7:
                    return [Violation(raw, "strip display needs <strip 0..7> and exactly 4 chars")]
                return [SmallText(body[0], "".join(map(chr, body[1:])))]
            if command == CMD_LARGE_DISPLAY:
                if len(body) != 1 + LARGE_SLICE_CHARS or body[0] >= LARGE_SLICES:
                    return [Violation(raw, "main display needs <slice 0..7> and exactly 10 chars")]
                return [LargeText(body[0], "".join(map(chr, body[1:])))]
            return [Violation(raw, f"HUI SysEx command {command:#04x} not handled by this simulator")]
        if msg.type != "control_change" or msg.channel != 0:
            return [Violation(raw, f"{msg.type} on channel {getattr(msg, 'channel', 0) + 1} is not HUI")]
        control, value = msg.control, msg.value
        if control == ZONE_TO_SURFACE:
            self._zone_from_host = value
            return []
        if control == PORT_TO_SURFACE:
            zone, self._zone_from_host = self._zone_from_host, None
            if zone is None:
                return [Violation(raw, "LED port without a zone select before it")]
            return [LedSet(zone, value & 0x0F, bool(value & 0x40))]
        if control < 8:
            self._hi_from_host[control] = value
            return []
        if FADER_LO_BASE <= control < FADER_LO_BASE + 8:
            hi = self._hi_from_host.pop(control - FADER_LO_BASE, None)
            if hi is None:
                return [Violation(raw, f"fader {control - FADER_LO_BASE} low byte without its high byte")]
            return [FaderSet(control - FADER_LO_BASE, (hi << 7) | value)]
        if RING_CC_BASE <= control < RING_CC_BASE + 12:
            if value & 0x0F > 11:
                return [Violation(raw, f"ring position {value & 0x0F} above 11")]
            return [RingSet(control - RING_CC_BASE, value)]
        return [Violation(raw, f"CC {control:#04x} is not a HUI display control")]
