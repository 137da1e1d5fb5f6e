"""A braille line plot: a latency measurement's impulse response, readable in a terminal.

Each character cell holds a 2x4 dot matrix, so a 60x8 widget shows 120x32 points:
enough to see the peak, its polarity and any ringing around it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][col] bit of U+2800


def braille_lines(values: Sequence[float], width: int, height: int,
                  lo: float | None = None, hi: float | None = None) -> list[str]:
    """Render ``values`` as ``height`` lines of ``width`` braille characters."""
    if width <= 0 or height <= 0:
        return []
    cols, rows = width * 2, height * 4
    data = list(values)
    if not data:
        return [" " * width] * height
    lo = min(data) if lo is None else lo
    hi = max(data) if hi is None else hi
    span = (hi - lo) or 1.0
    cells = [[0] * width for _ in range(height)]
    prev_row = None
    for x in range(cols):
        index = min(len(data) - 1, int(x * len(data) / cols))
        y = rows - 1 - round((data[index] - lo) / span * (rows - 1))
        y = max(0, min(rows - 1, y))
        span_rows = range(min(y, prev_row), max(y, prev_row) + 1) if prev_row is not None else (y,)
        for yy in span_rows:  # join the dots so steep edges stay visible
            cells[yy // 4][x // 2] |= _DOTS[yy % 4][x % 2]
        prev_row = y
    return ["".join(chr(0x2800 + c) for c in row) for row in cells]


class Plot(Widget):
    """A titled braille plot of one series (e.g. an impulse response around its peak)."""

    DEFAULT_CSS = """
    Plot { height: 10; }
    """

    def __init__(self, *, id: str | None = None, caption: str = "no measurement yet") -> None:
        super().__init__(id=id)
        self._values: list[float] = []
        self._caption = caption

    def show(self, values: Sequence[float], caption: str) -> None:
        self._values = [float(v) for v in values]
        self._caption = caption
        self.refresh()

    def render(self) -> Text:
        width, height = max(1, self.size.width), max(2, self.size.height)
        out = Text(self._caption + "\n", style="bold")
        if not self._values:
            return out
        peak = max(abs(v) for v in self._values) or 1.0
        for line in braille_lines(self._values, width, height - 1, -peak, peak):
            out.append(line + "\n", style="cyan")
        out.rstrip()
        return out
