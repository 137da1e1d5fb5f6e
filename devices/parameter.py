"""One control on a piece of gear: its range in the engineer's units and its taper.

A parameter maps between what the engineer reads on the panel (``-4.5 dB``,
``2.2 kHz``, ``4:1``, ``on``) and a wire number ``0..wire_max`` that a codec puts in a
message. Values in the engineer's units are: a float for continuous controls, the detent
label (str) for stepped controls, a bool for switches.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from devices.errors import ProfileError
from devices.value_law import ValueLaw

KINDS = ("continuous", "stepped", "switch")
TAPERS = ("linear", "log")
CONTROLS = ("knob", "fader", "buttons", "toggle", "toggle3", "concentric", "stepped", "switch", "meter_select")
"""How the panel presents a control, for the TUI panel and the HTML export: a knob, a fader,
a bank of buttons (one lit), a two- or three-way toggle, one ring of a concentric knob, a
stepped (detented) switch with printed labels, a plain switch."""

# unit -> (base unit, factor to base). Lets "2.2 kHz" parse for a Hz control, "800 us"
# for a ms control, "1.2 s" for a ms control.
_UNITS: dict[str, tuple[str, float]] = {
    "hz": ("hz", 1.0), "khz": ("hz", 1e3),
    "s": ("s", 1.0), "ms": ("s", 1e-3), "us": ("s", 1e-6), "µs": ("s", 1e-6),
    "db": ("db", 1.0), "%": ("%", 1.0),
}
_NUMBER = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([^\d\s].*?)?\s*$")
_SWITCH_WORDS = {
    "on": True, "true": True, "yes": True, "1": True, "in": True,
    "off": False, "false": False, "no": False, "0": False, "out": False,
}


@dataclass
class Parameter:
    """A control of a device model, as described in a profile's ``[parameters.NAME]``."""

    name: str
    """Key in the profile and in recall sheets (e.g. ``hmf_freq``)."""
    label: str
    """What the panel prints (e.g. ``HMF Freq``)."""
    unit: str = ""
    """The engineer's unit: ``dB``, ``Hz``, ``ms``, ``s``, ``%`` or empty."""
    kind: str = "continuous"
    minimum: float | None = None
    maximum: float | None = None
    default: Any = None
    labels: list[str] = field(default_factory=list)
    """Detent labels of a stepped control; ``[off, on]`` labels of a switch."""
    values: list[float] | None = None
    """The number each detent stands for, when its label is not a plain number (``"4:1"`` -> 4)."""
    taper: str = "linear"
    """How the wire range spreads over the value range: ``linear`` or ``log`` (frequencies, times)."""
    resolution: float | None = None
    """Smallest step worth showing (format rounds to it); continuous only."""
    encoding: Any = None
    """The transport-specific encoding table (``midi`` or ``serial``) as written in the profile."""
    dump: dict[str, int] | None = None
    """Where the value sits in a parameter dump (``offset``, ``size``), if the profile has one."""
    law: ValueLaw | None = None
    """How a value becomes a wire number when the spread over ``0..wire_max`` is not it."""
    when: dict[str, list[str]] | None = None
    """The parameter exists only when each named selector stands at one of the listed labels."""
    control: str = ""
    """The panel's control (see CONTROLS); empty = a knob for continuous, stepped/switch otherwise."""
    concentric_with: str | None = None
    """The parameter sharing this knob's shaft (the outer ring of a concentric pair)."""
    floor_label: str | None = None
    """What the bottom of a continuous range reads on the panel (``-inf`` on a fader)."""

    def bounds(self) -> tuple[float, float]:
        """``(minimum, maximum)`` of a continuous control."""
        if self.minimum is None or self.maximum is None:
            raise ProfileError("has no range (not a continuous control)", key=f"parameter {self.name}")
        return float(self.minimum), float(self.maximum)

    def applies(self, state: dict[str, Any]) -> bool:
        """Whether this parameter exists with the selectors at ``state`` (missing = default)."""
        if not self.when:
            return True
        return all(str(state.get(name)) in labels for name, labels in self.when.items())

    # ---- engineer's values -------------------------------------------------------------
    def parse(self, value: Any) -> Any:
        """Turn text (``"-4.5 dB"``, ``"2.2k"``, ``"4:1"``, ``"on"``) or a number into a checked value."""
        where = f"parameter {self.name}"
        if self.kind == "switch":
            if isinstance(value, bool):
                return value
            if isinstance(value, (int, float)) and value in (0, 1):
                return bool(value)
            text = str(value).strip().lower()
            if self.labels:
                lowered = [label.lower() for label in self.labels]
                if text in lowered:
                    return bool(lowered.index(text))
            if text in _SWITCH_WORDS:
                return _SWITCH_WORDS[text]
            raise ProfileError(f"expected {self._expected()}, got {value!r}", key=where)
        if self.kind == "stepped":
            return self.check(self._parse_stepped(value))
        if isinstance(value, bool):
            raise ProfileError(f"expected {self._expected()}, got {value!r}", key=where)
        if isinstance(value, (int, float)):
            if self.floor_label is not None and math.isinf(value) and value < 0:
                return self.minimum
            return self.check(float(value))
        if self.floor_label is not None and str(value).strip().lower().replace(" ", "") in (
                self.floor_label.lower(), f"{self.floor_label}{self.unit}".lower().replace(" ", "")):
            return self.minimum
        return self.check(self._parse_number(str(value)))

    def check(self, value: Any) -> Any:
        """Return ``value`` if it is legal for this control, else raise ProfileError naming the range."""
        where = f"parameter {self.name}"
        if self.kind == "switch":
            if not isinstance(value, bool):
                raise ProfileError(f"expected {self._expected()}, got {value!r}", key=where)
            return value
        if self.kind == "stepped":
            if not isinstance(value, str) or value not in self.labels:
                raise ProfileError(f"expected {self._expected()}, got {value!r}", key=where)
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ProfileError(f"expected {self._expected()}, got {value!r}", key=where)
        value = float(value)
        lo, hi = self.bounds()
        slack = (hi - lo) * 1e-9
        if value < lo - slack or value > hi + slack:
            raise ProfileError(f"{self._fmt_num(value)} is out of range; expected {self._expected()}",
                               key=where)
        return min(max(value, lo), hi)

    def format(self, value: Any) -> str:
        """The value as the panel (and a recall sheet) would print it."""
        if self.kind == "switch":
            labels = self.labels or ["off", "on"]
            return labels[1] if value else labels[0]
        if self.kind == "stepped":
            return str(value)
        if self.floor_label is not None and float(value) <= self.bounds()[0]:
            return f"{self.floor_label} {self.unit}".strip()
        return self._fmt_num(float(value))

    def number(self, value: Any) -> float:
        """A value as a plain number: the detent's ``values`` entry (or label number), 1/0 for a switch."""
        if self.kind == "switch":
            return 1.0 if value else 0.0
        if self.kind == "stepped":
            index = self.labels.index(value)
            if self.values is not None:
                return float(self.values[index])
            found = _NUMBER.match(value.replace(",", ""))
            if found:
                return float(found.group(1))
            found = re.search(r"[-+]?\d+(?:\.\d+)?", value)
            if found:
                return float(found.group(0))
            return float(index)
        return float(value)

    # ---- wire mapping --------------------------------------------------------------
    def index(self, value: Any) -> int:
        """Detent index of a stepped value, 0/1 of a switch."""
        if self.kind == "switch":
            return 1 if value else 0
        return self.labels.index(value)

    def to_wire(self, value: Any, wire_max: int, wire: list[int] | None = None) -> int:
        """The wire number (0..wire_max) for a checked value.

        Stepped controls and switches spread their detents evenly over the wire range
        unless ``wire`` lists the number of each detent.
        """
        if self.law is not None:
            if self.kind == "continuous":
                return self.law.to_wire(float(value), wire_max)
            if self.law.kind == "index":
                return self.law.to_wire(self.index(value), wire_max)
            return self.law.to_wire(self.number(value), wire_max)
        if self.kind in ("stepped", "switch"):
            count = len(self.labels) if self.kind == "stepped" else 2
            index = self.index(value)
            if wire is not None:
                return int(wire[index])
            if count == 1:
                return 0
            return round(index * wire_max / (count - 1))
        position = self._position(float(value))
        return max(0, min(wire_max, round(position * wire_max)))

    def from_wire(self, number: int, wire_max: int, wire: list[int] | None = None) -> Any:
        """The value a wire number stands for (the inverse of ``to_wire``, to the nearest step)."""
        if self.law is not None:
            return self._from_law(self.law.from_wire(number, wire_max))
        if self.kind in ("stepped", "switch"):
            count = len(self.labels) if self.kind == "stepped" else 2
            if wire is not None:
                index = min(range(count), key=lambda i: abs(int(wire[i]) - number))
            elif count == 1:
                index = 0
            else:
                index = round(max(0, min(wire_max, number)) * (count - 1) / wire_max)
            return bool(index) if self.kind == "switch" else self.labels[index]
        position = max(0, min(wire_max, number)) / wire_max
        lo, hi = self.bounds()
        if self.taper == "log":
            return lo * (hi / lo) ** position
        return lo + (hi - lo) * position

    def _from_law(self, number: float) -> Any:
        if self.kind == "continuous":
            lo, hi = self.bounds()
            assert lo is not None and hi is not None
            return min(max(number, lo), hi)
        count = len(self.labels) if self.kind == "stepped" else 2
        if self.law is not None and self.law.kind == "index":
            index = max(0, min(count - 1, int(number)))
        else:
            options = [self.labels[i] for i in range(count)] if self.kind == "stepped" else [False, True]
            index = min(range(count), key=lambda i: abs(self.number(options[i]) - number))
        return bool(index) if self.kind == "switch" else self.labels[index]

    def quantize(self, value: Any, wire_max: int, wire: list[int] | None = None) -> Any:
        """The value the gear ends up at after a trip over a ``wire_max`` wire (what read-back gives)."""
        return self.from_wire(self.to_wire(value, wire_max, wire), wire_max, wire)

    def _position(self, value: float) -> float:
        lo, hi = self.bounds()
        if self.taper == "log":
            return math.log(value / lo) / math.log(hi / lo)
        return (value - lo) / (hi - lo)

    # ---- helpers -------------------------------------------------------------------
    def _parse_stepped(self, value: Any) -> str:
        if isinstance(value, str):
            text = value.strip()
            if text in self.labels:
                return text
            for label in self.labels:
                if label.lower() == text.lower() or label.replace(" ", "").lower() == text.replace(" ", "").lower():
                    return label
            try:
                number = self._parse_number(text)
            except ProfileError:
                raise ProfileError(f"expected {self._expected()}, got {value!r}",
                                   key=f"parameter {self.name}") from None
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            raise ProfileError(f"expected {self._expected()}, got {value!r}", key=f"parameter {self.name}")
        for label in self.labels:   # by the number it stands for ("8" -> "8:1"; 6.8 -> "5")
            if math.isclose(self.number(label), number, rel_tol=1e-9, abs_tol=1e-9):
                return label
        for label in self.labels:   # by the number printed on the panel (5 -> "5")
            printed = _NUMBER.match(label)
            if printed and math.isclose(float(printed.group(1)), number, rel_tol=1e-9, abs_tol=1e-9):
                return label
        raise ProfileError(f"{value!r} is not a detent; expected {self._expected()}",
                           key=f"parameter {self.name}")

    def _parse_number(self, text: str) -> float:
        found = _NUMBER.match(text.replace(",", ""))
        if not found:
            raise ProfileError(f"expected {self._expected()}, got {text!r}", key=f"parameter {self.name}")
        number = float(found.group(1))
        suffix = (found.group(2) or "").strip()
        if not suffix:
            return number
        mine = _UNITS.get(self.unit.lower())
        given = _UNITS.get(suffix.lower())
        if given is None and suffix.lower() == "k" and mine is not None:
            given = (mine[0], 1e3 * mine[1]) if mine[0] == "hz" else None
        if given is None and suffix.lower() == self.unit.lower():
            return number
        if given is None or mine is None or given[0] != mine[0]:
            raise ProfileError(f"unit {suffix!r} does not fit; expected {self._expected()}",
                               key=f"parameter {self.name}")
        return number * given[1] / mine[1]

    def _fmt_num(self, value: float) -> str:
        if self.resolution:
            value = round(value / self.resolution) * self.resolution
        unit = self.unit
        if unit == "Hz" and abs(value) >= 1000:
            value, unit = value / 1000, "kHz"
        # Three significant digits as a panel reads (2.2 kHz, -4.5 dB, 120 ms), whole numbers
        # in full (1500 ms), never "-0".
        text = f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"
        if text in ("-0", "-0.0"):
            text = "0"
        return f"{text} {unit}".strip()

    def _expected(self) -> str:
        if self.kind == "switch":
            labels = self.labels or ["off", "on"]
            return f"{labels[0]} or {labels[1]}"
        if self.kind == "stepped":
            return "one of " + ", ".join(self.labels)
        lo, hi = self.bounds()
        return f"{self._fmt_num(lo)} .. {self._fmt_num(hi)}"

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "label": self.label, "unit": self.unit, "kind": self.kind,
               "default": self.default, "taper": self.taper}
        if self.kind == "continuous":
            out.update(minimum=self.minimum, maximum=self.maximum)
        else:
            out["labels"] = list(self.labels)
        if self.values is not None:
            out["values"] = list(self.values)
        if self.when:
            out["when"] = {k: list(v) for k, v in self.when.items()}
        out["control"] = self.panel_control()
        if self.concentric_with:
            out["concentric_with"] = self.concentric_with
        return out

    def panel_control(self) -> str:
        """The control the panel really has (explicit, or the plain one for the kind)."""
        if self.control:
            return self.control
        return {"continuous": "knob", "stepped": "stepped", "switch": "switch"}[self.kind]
