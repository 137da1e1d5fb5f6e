"""A device drawn as a panel of its controls, in the engineer's units.

Continuous controls show as a knob's travel (a bar with the pointer where the knob
points, log-tapered controls on a log scale), stepped controls as their row of detent
labels with the current one lit, switches as a lit or dark button. Values are large and
high-contrast so they read from across the room.

Each control is a focusable row: left/right nudge it (one detent, one step of the
travel, or flip a switch), enter asks for a typed value. The row validates through the
profile (``Parameter.parse``) and posts :class:`ParamRow.Changed`; the view saves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from devices.errors import DeviceError

TRAVEL_CELLS = 25
NUDGE_STEPS = 40  # continuous nudges: 1/40 of the travel


def travel_position(param: Any, value: float) -> float:
    """Where a continuous control points, 0..1 of its travel (log taper on a log scale)."""
    lo, hi = float(param.minimum), float(param.maximum)
    if hi == lo:
        return 0.0
    if getattr(param, "taper", "linear") == "log" and lo > 0 and value > 0:
        return max(0.0, min(1.0, math.log(value / lo) / math.log(hi / lo)))
    return max(0.0, min(1.0, (value - lo) / (hi - lo)))


def from_position(param: Any, position: float) -> float:
    lo, hi = float(param.minimum), float(param.maximum)
    position = max(0.0, min(1.0, position))
    if getattr(param, "taper", "linear") == "log" and lo > 0:
        return lo * (hi / lo) ** position
    return lo + (hi - lo) * position


def nudged(param: Any, value: Any, direction: int) -> Any:
    """The value one nudge away from ``value`` (a detent, a 1/40 step of travel, or a flip)."""
    if param.kind == "switch":
        return not bool(value)
    if param.kind == "stepped":
        labels = list(param.labels)
        index = labels.index(value) if value in labels else 0
        return labels[max(0, min(len(labels) - 1, index + direction))]
    position = travel_position(param, float(value))
    step = round(position * NUDGE_STEPS) + direction
    new = from_position(param, step / NUDGE_STEPS)
    resolution = getattr(param, "resolution", None)
    if resolution:
        new = round(new / resolution) * resolution
    return param.check(min(max(new, float(param.minimum)), float(param.maximum)))


def _panel_control(param: Any) -> str:
    return param.panel_control() if hasattr(param, "panel_control") else param.kind


def render_control(param: Any, value: Any) -> Text:
    """One control's visual, as the panel has it: a knob's travel, a stepped switch's detent row
    (with its unit), a bank of push buttons, a two- or three-way toggle, a concentric ring."""
    out = Text()
    if value is None:
        out.append("not on this sheet", style="dim italic")
        return out
    control = _panel_control(param)
    if control == "buttons":
        labels = list(param.labels) if param.kind == "stepped" else list(param.labels or ["off", "on"])
        current = value if param.kind == "stepped" else labels[1 if value else 0]
        for label in labels:
            lit = label == current
            out.append("[", style="grey50")
            out.append(f"{label:^4}", style="bold black on bright_yellow" if lit else "grey70")
            out.append("]", style="grey50")
        return out
    if control == "toggle3":
        for label in param.labels:
            lit = label == value
            out.append("▲ " if lit and label == param.labels[0] else "▼ " if lit and label == param.labels[-1]
                       else "● " if lit else "  ", style="bold bright_cyan")
            out.append(f"{label} ", style="bold bright_white" if lit else "grey50")
        return out
    if control == "concentric" and param.kind == "continuous":
        ring = "inner" if getattr(param, "concentric_with", None) else "outer"
        out.append(f"◎ {ring} ", style="grey50")
    if getattr(param, "control", "") == "stepped" and param.kind == "stepped" and param.unit:
        for label in param.labels:
            out.append(f" {label} ", style="bold black on bright_yellow" if label == value else "grey58")
        out.append(f" {param.unit}", style="grey50")
        return out
    if param.kind == "switch":
        labels = param.labels or ["off", "on"]
        on = bool(value)
        out.append(f" {labels[0].upper()} ", style="bold white on grey30" if not on else "grey50")
        out.append(" ")
        out.append(f" {labels[1].upper()} ", style="bold black on bright_green" if on else "grey50")
        return out
    if param.kind == "stepped":
        for label in param.labels:
            if label == value:
                out.append(f" {label} ", style="bold black on bright_yellow")
            else:
                out.append(f" {label} ", style="grey58")
        return out
    position = travel_position(param, float(value))
    pointer = round(position * (TRAVEL_CELLS - 1))
    out.append(param.format(param.minimum), style="grey50")
    out.append(" ")
    for cell in range(TRAVEL_CELLS):
        if cell == pointer:
            out.append("●", style="bold bright_cyan")
        elif cell < pointer:
            out.append("━", style="cyan")
        else:
            out.append("─", style="grey35")
    out.append(" ")
    out.append(param.format(param.maximum), style="grey50")
    return out


class ParamRow(Widget, can_focus=True):
    """One control of a device: label, big value, and its visual; nudge or type to edit."""

    BINDINGS = [
        Binding("left", "nudge(-1)", "Less", show=True),
        Binding("right", "nudge(1)", "More", show=True),
        Binding("enter", "edit", "Type value", show=True),
        Binding("up", "app.focus_previous", "Prev", show=False),
        Binding("down", "app.focus_next", "Next", show=False),
    ]

    DEFAULT_CSS = """
    ParamRow { height: 1; }
    """

    @dataclass
    class Changed(Message):
        """A control got a new, validated value (the view saves it to the sheet)."""

        row: ParamRow
        device: str
        param: str
        value: Any

    @dataclass
    class EditRequested(Message):
        row: ParamRow

    def __init__(self, device: str, param: Any, value: Any, *, editable: bool = True) -> None:
        super().__init__(classes="param-row")
        self.device = device
        self.param = param
        self.value = value
        self.editable = editable
        self.changed = False

    def render(self) -> Text:
        out = Text()
        out.append(f"{self.param.label[:14]:<14} ", style="bold")
        shown = self.param.format(self.value) if self.value is not None else "-"
        out.append(f"{shown:>10} ", style="bold reverse" if self.has_focus else "bold bright_white")
        out.append("* " if self.changed else "  ", style="bold bright_magenta")
        out.append_text(render_control(self.param, self.value))
        return out

    def set_value(self, value: Any, *, changed: bool = True) -> None:
        self.value = value
        self.changed = changed
        self.refresh()

    def action_nudge(self, direction: int) -> None:
        if not self.editable:
            return
        current = self.value if self.value is not None else self.param.default
        try:
            new = nudged(self.param, current, direction)
        except DeviceError as exc:
            self.app.report_error(exc, doing=f"{self.device} {self.param.label}")
            return
        if new != self.value:
            self.set_value(new)
            self.post_message(self.Changed(self, self.device, self.param.name, new))

    def action_edit(self) -> None:
        if self.editable:
            self.post_message(self.EditRequested(self))

    def on_focus(self) -> None:
        self.refresh()
        self.scroll_visible()

    def on_blur(self) -> None:
        self.refresh()


class DevicePanel(Vertical):
    """A device of the song: a title line (name, model, how it is set) and one row per control."""

    def __init__(self, name: str, profile: Any, values: dict[str, Any], *, how: str,
                 notes: str = "", id: str | None = None) -> None:
        super().__init__(classes="device-panel", id=id)
        self.device_name = name
        self.profile = profile
        self.values = values
        self.how = how
        self.notes = notes
        self.border_title = f"{name}"
        self.border_subtitle = f"{getattr(profile, 'maker', '')} {getattr(profile, 'model', '')} · {how}".strip()

    def compose(self) -> ComposeResult:
        applies = self.profile.applicable_to(self.values) if hasattr(self.profile, "applicable_to") \
            else list(self.profile.parameters)
        for pname, param in self.profile.parameters.items():
            if pname in applies:      # an algorithm's own controls only while it is selected
                yield ParamRow(self.device_name, param, self.values.get(pname))
        if self.notes:
            yield Static(f"[i]{self.notes}[/i]", classes="device-notes")

    def rows(self) -> list[ParamRow]:
        return list(self.query(ParamRow))
