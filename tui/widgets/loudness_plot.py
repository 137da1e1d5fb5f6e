"""Loudness over time: short-term and momentary curves with the target line, in braille.

The y axis runs from ``floor_lufs`` to ``ceiling_lufs`` (quieter passages clip to the
floor); the short-term curve (3 s window) is drawn bright, the momentary (400 ms) dim,
the target as a dotted yellow line, so a glance says where a master sits against it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

from tui.widgets.plot import braille_cells

STYLES = ("dim cyan", "bold cyan", "bold yellow")
"""Per layer, drawn in this order (a later layer wins a shared cell): momentary, short-term, target."""


class LoudnessPlot(Widget):
    """Short-term and momentary loudness of a file against a target."""

    DEFAULT_CSS = """
    LoudnessPlot { height: 10; }
    """

    def __init__(self, *, id: str | None = None, floor_lufs: float = -40.0, ceiling_lufs: float = 0.0) -> None:
        super().__init__(id=id)
        self.floor_lufs = floor_lufs
        self.ceiling_lufs = ceiling_lufs
        self._momentary: list[float] = []
        self._short_term: list[float] = []
        self._target: float | None = None
        self._caption = "no loudness measured yet"

    def show(self, momentary_lufs: Sequence[float], short_term_lufs: Sequence[float], *,
             target_lufs: float | None, caption: str) -> None:
        """Curves sampled every 100 ms (silence as -inf is drawn on the floor)."""
        self._momentary = [self._clip(v) for v in momentary_lufs]
        self._short_term = [self._clip(v) for v in short_term_lufs]
        self._target = target_lufs
        self._caption = caption
        self.refresh()

    def _clip(self, value: float) -> float:
        return min(self.ceiling_lufs, max(self.floor_lufs, float(value)))

    def render(self) -> Text:
        width, height = max(1, self.size.width - 6), max(2, self.size.height)
        out = Text(self._caption + "\n", style="bold")
        if not self._short_term:
            return out
        layers: list[list[float]] = [self._momentary, self._short_term]
        if self._target is not None:
            layers.append([self._clip(self._target)] * max(2, len(self._short_term)))
        rows = height - 1
        cells = braille_cells(layers, width, rows, self.floor_lufs, self.ceiling_lufs)
        for r, row in enumerate(cells):
            lufs = self.ceiling_lufs - (self.ceiling_lufs - self.floor_lufs) * r / max(1, rows - 1)
            out.append(f"{lufs:5.0f} " if r in (0, rows - 1) or r == rows // 2 else "      ", style="dim")
            for bits, layer in row:
                out.append(chr(0x2800 + bits), style=STYLES[layer] if bits else "")
            out.append("\n")
        out.rstrip()
        return out
