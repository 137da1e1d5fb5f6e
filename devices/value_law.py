"""Value laws: how the engineer's value becomes the integer a unit wants on its wire.

The default law spreads a control's range over the wire range (``0..wire_max``,
linear or log as its taper says). Real units often want something else, and each law
here is one a maker's chart prints:

- ``step``: ``wire = (value - zero) / step`` ("add 40 to the parameter value to derive
  BPM": zero = 40, step = 1), optionally signed;
- ``index``: a stepped control's detent number (preset 42C is detent 128);
- ``points``: piecewise linear through ``[position, value]`` points, position being
  ``wire / wire_max`` (the X32 fader's four segments);
- ``table``: one value per wire number (a unit's log table of attack times).

Signed numbers go into the wire field as ``twos`` (two's complement), ``sign-magnitude``
(top bit = minus) or ``offset`` (offset binary: ``n + 2**(bits-1)``), ``bits`` wide.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

from devices.errors import ProfileError

LAWS = ("spread", "step", "index", "points", "table")
SIGNED = ("none", "twos", "sign-magnitude", "offset")


@dataclass(frozen=True)
class ValueLaw:
    """One law; ``kind`` names it, the other fields are its constants."""

    kind: str = "spread"
    zero: float = 0.0
    step: float = 1.0
    points: tuple[tuple[float, float], ...] = ()
    table: tuple[float, ...] = ()
    signed: str = "none"
    bits: int = 7

    @property
    def field_max(self) -> int:
        return (1 << self.bits) - 1

    # ---- signed numbers in a field ----------------------------------------------------
    def pack(self, number: int) -> int:
        """A signed ``number`` as the unsigned field the unit reads."""
        if self.signed == "none":
            return number
        half = 1 << (self.bits - 1)
        if self.signed == "twos":
            return number & self.field_max
        if self.signed == "offset":
            return number + half
        return (half | -number) if number < 0 else number          # sign-magnitude

    def unpack(self, field: int) -> int:
        """The signed number an unsigned ``field`` stands for (inverse of ``pack``)."""
        if self.signed == "none":
            return field
        half = 1 << (self.bits - 1)
        if self.signed == "twos":
            return field - (1 << self.bits) if field & half else field
        if self.signed == "offset":
            return field - half
        return -(field & (half - 1)) if field & half else field     # sign-magnitude

    def number_range(self) -> tuple[int, int]:
        """The signed numbers the field can carry."""
        half = 1 << (self.bits - 1)
        if self.signed == "none":
            return 0, self.field_max
        if self.signed == "sign-magnitude":
            return -(half - 1), half - 1
        return -half, half - 1

    # ---- the law itself ----------------------------------------------------------
    def to_wire(self, value: float, wire_max: int) -> int:
        """The field for a checked numeric ``value`` (detent index for ``index``)."""
        if self.kind == "step":
            number = round((value - self.zero) / self.step)
            lo, hi = self.number_range()
            number = max(lo, min(hi, number))
            return self.pack(number)
        if self.kind == "index":
            return int(value)
        if self.kind == "points":
            return max(0, min(wire_max, round(self._position(value) * wire_max)))
        if self.kind == "table":
            return min(range(len(self.table)), key=lambda i: abs(self.table[i] - value))
        raise AssertionError(self.kind)

    def from_wire(self, field: int, wire_max: int) -> float:
        if self.kind == "step":
            return self.zero + self.unpack(field) * self.step
        if self.kind == "index":
            return float(field)
        if self.kind == "points":
            return self._value_at(max(0, min(wire_max, field)) / wire_max)
        if self.kind == "table":
            return self.table[max(0, min(len(self.table) - 1, field))]
        raise AssertionError(self.kind)

    def _position(self, value: float) -> float:
        values = [v for _, v in self.points]
        if value <= values[0]:
            return self.points[0][0]
        if value >= values[-1]:
            return self.points[-1][0]
        i = bisect.bisect_right(values, value) - 1
        (p0, v0), (p1, v1) = self.points[i], self.points[i + 1]
        return p0 + (p1 - p0) * (value - v0) / (v1 - v0)

    def _value_at(self, position: float) -> float:
        positions = [p for p, _ in self.points]
        if position <= positions[0]:
            return self.points[0][1]
        if position >= positions[-1]:
            return self.points[-1][1]
        i = bisect.bisect_right(positions, position) - 1
        (p0, v0), (p1, v1) = self.points[i], self.points[i + 1]
        return v0 + (v1 - v0) * (position - p0) / (p1 - p0)

    def describe(self) -> str:
        if self.kind == "step":
            sign = "" if self.signed == "none" else f", {self.signed} {self.bits}-bit"
            return f"wire = (value - {self.zero:g}) / {self.step:g}{sign}"
        if self.kind == "points":
            return "piecewise " + " ".join(f"{p:g}:{v:g}" for p, v in self.points)
        return self.kind


def parse_law(table: dict[str, Any], *, file: str | None, key: str, field_bits: int) -> ValueLaw | None:
    """The law written in an encoding table (``law = "step"`` with its constants), or None."""
    kind = table.get("law")
    if kind is None:
        for name in ("zero", "step", "points", "table", "signed"):
            if name in table:
                raise ProfileError(f"{name!r} belongs to a value law; add law = \"step\", \"points\" or \"table\"",
                                   file=file, key=f"{key}.{name}")
        return None
    if kind not in LAWS:
        raise ProfileError(f"expected one of {', '.join(LAWS)}, got {kind!r}", file=file, key=f"{key}.law")
    if kind == "spread":
        return None

    def number(name: str, default: float) -> float:
        value = table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ProfileError(f"expected a finite number, got {value!r}", file=file, key=f"{key}.{name}")
        return float(value)

    signed = table.get("signed", "none")
    if signed not in SIGNED:
        raise ProfileError(f"expected one of {', '.join(SIGNED)}, got {signed!r}", file=file, key=f"{key}.signed")
    if signed != "none" and kind != "step":
        raise ProfileError("only a step law carries signed numbers", file=file, key=f"{key}.signed")
    law = ValueLaw(kind=kind, signed=signed, bits=field_bits)
    if kind == "step":
        step = number("step", 1.0)
        if step == 0:
            raise ProfileError("a step of 0 maps every value to one wire number", file=file, key=f"{key}.step")
        return ValueLaw(kind=kind, zero=number("zero", 0.0), step=step, signed=signed, bits=field_bits)
    if kind == "points":
        points = _pairs(table.get("points"), file=file, key=f"{key}.points")
        return ValueLaw(kind=kind, points=points, bits=field_bits)
    if kind == "table":
        values = table.get("table")
        if not isinstance(values, list) or len(values) < 2 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            raise ProfileError("expected a list of at least two numbers, one per wire number",
                               file=file, key=f"{key}.table")
        return ValueLaw(kind=kind, table=tuple(float(v) for v in values), bits=field_bits)
    return law


def _pairs(value: Any, *, file: str | None, key: str) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise ProfileError("expected at least two [position, value] points", file=file, key=key)
    out: list[tuple[float, float]] = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in item)):
            raise ProfileError(f"expected [position, value] pairs of numbers, got {item!r}", file=file, key=key)
        out.append((float(item[0]), float(item[1])))
    positions = [p for p, _ in out]
    values = [v for _, v in out]
    if positions[0] != 0.0 or positions[-1] != 1.0 or any(b <= a for a, b in zip(positions, positions[1:], strict=False)):
        raise ProfileError("positions must rise from 0 to 1", file=file, key=key)
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise ProfileError("values must rise with the position", file=file, key=key)
    return tuple(out)


def check_table_fits(law: ValueLaw, wire_max: int, *, file: str | None, key: str) -> None:
    if law.kind == "table" and len(law.table) - 1 > wire_max:
        raise ProfileError(f"{len(law.table)} table entries do not fit wire numbers 0..{wire_max}",
                           file=file, key=key)
