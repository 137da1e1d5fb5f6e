"""Numbers in the views' tables: one formatter, so a missing value reads the same everywhere."""

from __future__ import annotations

MISSING = "-"
"""What a cell shows for a value not measured (yet)."""


def fixed(value: float | None, digits: int = 1, *, missing: str = MISSING) -> str:
    """``value`` with ``digits`` decimals, or ``missing`` when there is none."""
    return missing if value is None else f"{value:.{digits}f}"
