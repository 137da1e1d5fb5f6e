"""Comparing and showing parameter values the way the gear sees them.

Two values of a continuous control are "the same" when they sit within 3/4 of a 7-bit
MIDI step of the control's travel (its taper applied): a read-back always comes back
quantised to the wire, and no one can see a smaller difference on a knob.
"""

from __future__ import annotations

import math
from typing import Any

TRAVEL_TOLERANCE = 0.75 / 127


def position(param: Any, value: Any) -> float:
    """Where the pointer sits, 0..1 of the control's travel (taper applied)."""
    if param.kind == "switch":
        return 1.0 if value else 0.0
    if param.kind == "stepped":
        n = len(param.labels)
        try:
            return param.labels.index(value) / (n - 1) if n > 1 else 0.0
        except ValueError:
            return 0.0
    lo, hi = float(param.minimum), float(param.maximum)
    v = min(max(float(value), lo), hi)
    if param.taper == "log" and lo > 0 and hi > lo:
        return math.log(v / lo) / math.log(hi / lo)
    return (v - lo) / (hi - lo) if hi > lo else 0.0


def same(param: Any, a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` put the control in the same place (see module docstring)."""
    if param is None or param.kind != "continuous":
        return bool(a == b) and type(a) is type(b)
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return bool(a == b)
    return abs(position(param, a) - position(param, b)) <= TRAVEL_TOLERANCE + 1e-12


def show(param: Any, value: Any) -> str:
    """The value as the panel prints it (``-4.5 dB``, ``4:1``, ``on``)."""
    if param is None:
        return str(value).lower() if isinstance(value, bool) else str(value)
    try:
        return str(param.format(value))
    except (TypeError, ValueError, IndexError):
        return str(value)


def tidy(param: Any, value: Any) -> Any:
    """A read-back value rounded for a hand-editable sheet: the fewest decimals that keep
    the control within a quarter of a 7-bit step of where the gear reported it."""
    if param is None or param.kind != "continuous" or isinstance(value, bool):
        return value
    v = float(value)
    target = position(param, v)
    for decimals in range(0, 5):
        r = round(v, decimals)
        if not float(param.minimum) <= r <= float(param.maximum):
            continue
        if abs(position(param, r) - target) <= 0.25 / 127:
            return float(r)
    return round(v, 4)
