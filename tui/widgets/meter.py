"""Level meters for print passes: one bar per channel, peak and RMS in dBFS, held peaks.

Meters are fed at whatever rate the audio layer reports; the widget only stores the
latest figures (``set_levels``) and repaints on its own timer, so a burst of updates
costs one repaint (coalesced, as toolong does for its log lines).
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

FLOOR_DB = -60.0
REPAINT_HZ = 15


def db_fraction(level_db: float) -> float:
    """Position of ``level_db`` on a -60..0 dBFS scale, 0..1."""
    if level_db != level_db:  # NaN
        return 0.0
    return max(0.0, min(1.0, (level_db - FLOOR_DB) / -FLOOR_DB))


class MeterBank(Widget):
    """Horizontal bars, one per channel: name, bar (green/amber/red), peak dBFS, clip flag."""

    DEFAULT_CSS = """
    MeterBank { height: auto; }
    """

    channels: reactive[tuple[str, ...]] = reactive(tuple, layout=True)
    """Channel names, in the order the bars are drawn."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._peak_db: dict[str, float] = {}
        self._rms_db: dict[str, float] = {}
        self._held_db: dict[str, float] = {}
        self._clips: dict[str, int] = {}
        self._dirty = False
        self.repaints = 0

    def on_mount(self) -> None:
        self.set_interval(1 / REPAINT_HZ, self._tick)

    def set_channels(self, names: list[str]) -> None:
        self.channels = tuple(names)
        self._peak_db = {n: FLOOR_DB for n in names}
        self._rms_db = {n: FLOOR_DB for n in names}
        self._held_db = {n: FLOOR_DB for n in names}
        self._clips = {n: 0 for n in names}
        self._dirty = True

    def set_levels(self, peak_db: dict[str, float], rms_db: dict[str, float] | None = None,
                   clips: dict[str, int] | None = None) -> None:
        """Store the latest levels; the next timer tick paints them (many calls, one repaint)."""
        for name, value in peak_db.items():
            self._peak_db[name] = value
            self._held_db[name] = max(self._held_db.get(name, FLOOR_DB), value)
        for name, value in (rms_db or {}).items():
            self._rms_db[name] = value
        for name, value in (clips or {}).items():
            self._clips[name] = value
        self._dirty = True

    def _tick(self) -> None:
        if self._dirty:
            self._dirty = False
            self.repaints += 1
            self.refresh()

    def get_content_height(self, _container, _viewport, _width: int) -> int:
        return max(1, len(self.channels))

    def render(self) -> Text:
        width = max(10, self.size.width - 34)
        out = Text()
        if not self.channels:
            return Text("no channels", style="dim")
        for i, name in enumerate(self.channels):
            peak = self._peak_db.get(name, FLOOR_DB)
            rms = self._rms_db.get(name, FLOOR_DB)
            held = self._held_db.get(name, FLOOR_DB)
            filled = round(db_fraction(peak) * width)
            rms_cells = round(db_fraction(rms) * width)
            held_cell = min(width - 1, round(db_fraction(held) * width))
            out.append(f"{name[:12]:>12} ", style="bold")
            for cell in range(width):
                frac = cell / width
                colour = "green" if frac < 0.8 else ("yellow" if frac < 0.95 else "red")
                if cell < rms_cells:
                    out.append("█", style=f"bold {colour}")
                elif cell < filled:
                    out.append("▆", style=colour)
                elif cell == held_cell and held > FLOOR_DB:
                    out.append("│", style=f"bold {colour}")
                else:
                    out.append("·", style="grey30")
            clip = self._clips.get(name, 0)
            out.append(f" {peak:6.1f} dBFS ", style="bold")
            out.append(" CLIP " if clip else "      ", style="bold white on red" if clip else "")
            if i < len(self.channels) - 1:
                out.append("\n")
        return out
