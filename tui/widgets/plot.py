"""A braille line plot: a latency measurement's impulse response, readable in a terminal.

Each character cell holds a 2x4 dot matrix, so a 60x8 widget shows 120x32 points:
enough to see the peak, its polarity and any ringing around it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][col] bit of U+2800


def _dots(values: Sequence[float], cols: int, rows: int, lo: float, hi: float) -> list[tuple[int, int]]:
    """The (x, y) dots of ``values`` as a joined line on a ``cols`` x ``rows`` dot grid."""
    data = list(values)
    if not data:
        return []
    span = (hi - lo) or 1.0
    dots = []
    prev_row = None
    for x in range(cols):
        index = min(len(data) - 1, int(x * len(data) / cols))
        y = rows - 1 - round((data[index] - lo) / span * (rows - 1))
        y = max(0, min(rows - 1, y))
        span_rows = range(min(y, prev_row), max(y, prev_row) + 1) if prev_row is not None else (y,)
        dots.extend((x, yy) for yy in span_rows)  # join the dots so steep edges stay visible
        prev_row = y
    return dots


def braille_cells(layers: Sequence[Sequence[float]], width: int, height: int, lo: float,
                  hi: float) -> list[list[tuple[int, int]]]:
    """Several series on one grid: per cell ``(dot bits, index of the last layer with a dot there)``."""
    cells = [[(0, 0)] * width for _ in range(height)]
    for layer, values in enumerate(layers):
        for x, y in _dots(values, width * 2, height * 4, lo, hi):
            bits, _ = cells[y // 4][x // 2]
            cells[y // 4][x // 2] = (bits | _DOTS[y % 4][x % 2], layer)
    return cells


def braille_lines(values: Sequence[float], width: int, height: int,
                  lo: float | None = None, hi: float | None = None) -> list[str]:
    """Render ``values`` as ``height`` lines of ``width`` braille characters."""
    if width <= 0 or height <= 0:
        return []
    data = list(values)
    if not data:
        return [" " * width] * height
    lo = min(data) if lo is None else lo
    hi = max(data) if hi is None else hi
    return ["".join(chr(0x2800 + bits) for bits, _ in row) for row in braille_cells([data], width, height, lo, hi)]


class Plot(Widget):
    """A titled braille plot of one series (e.g. an impulse response around its peak)."""

    DEFAULT_CSS = """
    Plot { height: 10; }
    """

    def __init__(self, *, id: str | None = None, caption: str = "no measurement yet") -> None:
        super().__init__(id=id)
        self._values: list[float] = []
        self._caption = caption
        self._range: tuple[float, float] | None = None

    def show(self, values: Sequence[float], caption: str, *, value_range: tuple[float, float] | None = None) -> None:
        """Plot ``values``; the y axis spans ``value_range``, else +-the largest magnitude."""
        self._values = [float(v) for v in values]
        self._caption = caption
        self._range = value_range
        self.refresh()

    def render(self) -> Text:
        width, height = max(1, self.size.width), max(2, self.size.height)
        out = Text(self._caption + "\n", style="bold")
        if not self._values:
            return out
        peak = max(abs(v) for v in self._values) or 1.0
        lo, hi = self._range or (-peak, peak)
        for line in braille_lines(self._values, width, height - 1, lo, hi):
            out.append(line + "\n", style="cyan")
        out.rstrip()
        return out
