"""What every control-surface protocol has in common: the inputs a surface reports,
the LED-ring display modes, text and fader-scale helpers.

A codec (``devices.surfaces.mcu``, ``devices.surfaces.hui``) turns these into MIDI
bytes and back. Codecs are pure: no ports, no threads, so the simulators and the
drivers share one definition of the wire format and a test can check either side.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

FADER_MAX = 0x3FFF  # 14-bit fader scale used by both MCU (pitch bend) and HUI (CC pair)
RING_POSITIONS = 11  # LEDs around a V-pot; ring value 1..11, 0 = all off
STRIPS_PER_UNIT = 8


class RingMode(enum.IntEnum):
    """How a V-pot's LED ring draws a value (both protocols use bits 4-5 for it)."""

    DOT = 0  # one LED: a position (a stepped selector, a frequency)
    BOOST_CUT = 1  # from the centre out: a bipolar value (gain, pan)
    WRAP = 2  # filled from the left: a level (threshold, mix)
    SPREAD = 3  # from the centre both ways: a width (Q)


def ring_byte(mode: RingMode, position: int, centre_led: bool = False) -> int:
    """The LED-ring data byte: ``0x40`` centre LED, ``mode << 4``, position 0..11."""
    if not 0 <= position <= RING_POSITIONS:
        raise ValueError(f"ring position {position} outside 0..{RING_POSITIONS}")
    return (0x40 if centre_led else 0) | (int(mode) << 4) | position


def parse_ring_byte(value: int) -> tuple[RingMode, int, bool]:
    """Inverse of :func:`ring_byte`; ValueError for a position above 11."""
    position = value & 0x0F
    if position > RING_POSITIONS:
        raise ValueError(f"ring position {position} outside 0..{RING_POSITIONS}")
    return RingMode((value >> 4) & 0x03), position, bool(value & 0x40)


def ring_position(normalized: float) -> int:
    """A 0..1 value as a ring position 1..11 (never 0: a shown value lights an LED)."""
    clamped = min(1.0, max(0.0, normalized))
    return 1 + round(clamped * (RING_POSITIONS - 1))


def fader_value(normalized: float) -> int:
    """0..1 -> 0..16383."""
    return round(min(1.0, max(0.0, normalized)) * FADER_MAX)


def fader_normalized(value14: int) -> float:
    """0..16383 -> 0..1."""
    return min(FADER_MAX, max(0, value14)) / FADER_MAX


def display_text(text: str, width: int) -> str:
    """``text`` in exactly ``width`` characters the surface LCDs can show.

    Accents are stripped (the LCD character sets are 7-bit ASCII at heart), other
    non-ASCII becomes ``?``; too-long text is abbreviated the way engineers write on
    console tape: drop inner lower-case vowels first, then truncate.
    """
    folded = unicodedata.normalize("NFKD", text)
    chars = []
    for ch in folded:
        if unicodedata.combining(ch):
            continue
        chars.append(ch if 0x20 <= ord(ch) < 0x7F else "?")
    text = "".join(chars).strip()
    text = abbreviate(text, width)
    return text.ljust(width)[:width]


def abbreviate(text: str, width: int) -> str:
    """Shorten ``text`` to ``width``: inner lower-case vowels go first (from the end),
    then spaces, then the tail. ``Threshold`` -> ``Thrshl`` at 6."""
    if len(text) <= width:
        return text
    chars = list(text)
    i = len(chars) - 1
    while len(chars) > width and i > 0:
        if chars[i] in "aeiou" and chars[i - 1] != " ":
            del chars[i]
        i -= 1
    shortened = "".join(chars)
    if len(shortened) > width:
        shortened = shortened.replace(" ", "")
    return shortened[:width]


# --- what a surface reports -------------------------------------------------------------

@dataclass(frozen=True)
class FaderMove:
    """A fader moved by hand to ``value`` (0..16383). ``strip`` is 0..7 on its unit."""

    strip: int
    value: int


@dataclass(frozen=True)
class FaderTouch:
    """A touch-sensitive fader cap was touched (``touched``) or let go."""

    strip: int
    touched: bool


@dataclass(frozen=True)
class VPotTurn:
    """A V-pot turned by ``ticks`` detents (negative = counter-clockwise)."""

    strip: int
    ticks: int


@dataclass(frozen=True)
class ButtonPress:
    """A button pressed or released. ``strip`` is None for buttons outside the strips.

    ``name`` is the house name (``select``, ``mute``, ``vpot``, ``bank_right`` ...).
    """

    name: str
    pressed: bool
    strip: int | None = None


@dataclass(frozen=True)
class Alive:
    """The surface answered a liveness query (HUI ping reply, MCU host-connection query).

    ``solicited`` is False when the surface announced itself unasked (it just booted).
    """

    solicited: bool = True
    serial: bytes = b""


@dataclass(frozen=True)
class SurfaceReset:
    """The surface reset itself (HUI sends 0xFF): everything it showed is gone."""


@dataclass(frozen=True)
class Unrecognised:
    """Bytes from the surface that this codec does not understand, and why."""

    data: bytes
    reason: str

    def describe(self) -> str:
        return f"{self.data.hex(' ')}: {self.reason}"


SurfaceInput = FaderMove | FaderTouch | VPotTurn | ButtonPress | Alive | SurfaceReset | Unrecognised
