"""Repeated strips: a console's channels declared once.

A parameter named with a range, ``"ch{01..32}.fader"``, stands for 32 parameters
``ch01.fader`` ... ``ch32.fader``. Inside its table, ``{n}`` is the strip's number as
written (``"01"``), ``{i}`` its index from 0; a string that is only ``"{i}+K"`` or
``"{n}+K"`` becomes the integer (a CC number per strip, say). The expansion keeps the
file's order, strip by strip.
"""

from __future__ import annotations

import re
from typing import Any

from devices.errors import ProfileError

_RANGE = re.compile(r"\{(\d+)\.\.(\d+)\}")
_SUM = re.compile(r"^\{([in])\}\s*([+-])\s*(\d+)$")
MAX_STRIPS = 1024


def strip_numbers(first: str, last: str) -> list[str]:
    """``"01", "32"`` -> ``["01", ..., "32"]`` (the width of the first number is kept)."""
    width = len(first) if first.startswith("0") else 1
    return [f"{k:0{width}d}" for k in range(int(first), int(last) + 1)]


def expand_strips(parameters: dict[str, Any], *, file: str | None) -> dict[str, Any]:
    """``parameters`` with every ranged name expanded; names must stay distinct."""
    out: dict[str, Any] = {}
    for name, table in parameters.items():
        found = list(_RANGE.finditer(name))
        if not found:
            _add(out, name, table, file)
            continue
        if len(found) > 1:
            raise ProfileError("one {first..last} range per name", file=file, key=f"parameters.{name}")
        first, last = found[0].group(1), found[0].group(2)
        if int(last) < int(first) or int(last) - int(first) + 1 > MAX_STRIPS:
            raise ProfileError(f"expected a range first..last with at most {MAX_STRIPS} strips",
                               file=file, key=f"parameters.{name}")
        for index, number in enumerate(strip_numbers(first, last)):
            expanded = name[:found[0].start()] + number + name[found[0].end():]
            _add(out, expanded, _substitute(table, number, index), file)
    return out


def _add(out: dict[str, Any], name: str, table: Any, file: str | None) -> None:
    if name in out:
        raise ProfileError("declared twice (a strip range overlaps another name)", file=file,
                           key=f"parameters.{name}")
    out[name] = table


def _substitute(value: Any, number: str, index: int) -> Any:
    if isinstance(value, str):
        total = _SUM.match(value)
        if total:
            base = index if total.group(1) == "i" else int(number)
            k = int(total.group(3))
            return base + k if total.group(2) == "+" else base - k
        return value.replace("{n}", number).replace("{i}", str(index))
    if isinstance(value, dict):
        return {_substitute(k, number, index): _substitute(v, number, index) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, number, index) for v in value]
    return value
