"""Devices: every unit and port of the room with its connection state, and the traffic monitor.

The status table is refreshed on demand (r) and when the view is shown, in a worker
(opening ports can take a moment); the traffic monitor shows every MIDI and serial
byte hybrid sends or receives, each way, polled from the session's traffic log a few
times a second so a burst of messages costs one repaint.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, RichLog, Static

from tui.errors import UI_BOUNDARY

POLL_S = 0.25

STATE_STYLE = {
    "connected": "bold black on bright_green",
    "missing": "bold white on red",
    "hand-set": "bold black on bright_yellow",
    "error": "bold white on red",
}


class DevicesView(Vertical):
    """The room's gear: profile, transport, port and whether hybrid can reach it."""

    BINDINGS = [
        Binding("r", "refresh_status", "Check ports"),
        Binding("t", "toggle_traffic", "Pause traffic"),
        Binding("x", "clear_traffic", "Clear traffic"),
    ]
    PALETTE = (("Check device ports", "refresh_status"),)

    @dataclass
    class Status(Message):
        rows: list
        error: BaseException | None = None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._traffic_seen = 0
        self.paused = False

    def compose(self) -> ComposeResult:
        yield Static("Devices and ports", classes="view-title")
        yield DataTable(id="devices-table", cursor_type="row")
        yield Static("Traffic (t pause · x clear)", classes="side-label", id="traffic-label")
        yield RichLog(id="traffic", max_lines=2000, wrap=False, markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("name", "Device"), ("model", "Model"), ("kind", "Kind"),
                           ("transport", "Transport"), ("port", "Port"), ("state", "State"),
                           ("detail", "Detail")):
            table.add_column(label, key=key)
        self._fill([])
        self.set_interval(POLL_S, self._poll_traffic)

    def focus_default(self) -> None:
        self.query_one(DataTable).focus()

    def song_changed(self, slug: str | None) -> None:
        pass

    def view_shown(self) -> None:
        self.action_refresh_status()

    def _fill(self, rows: list) -> None:
        table = self.query_one(DataTable)
        table.clear()
        if not rows:
            for entry in self.app.session.studio.devices.values():
                table.add_row(entry.name, entry.profile.model, entry.profile.kind, entry.profile.transport,
                              entry.port or "-", Text("…", style="grey62"), "", key=entry.name)
            return
        for row in rows:
            table.add_row(row.name, row.model, row.kind, row.transport, row.port or "-",
                          Text(f" {row.state} ", STATE_STYLE.get(row.state, "")), row.detail, key=row.name)

    def action_refresh_status(self) -> None:
        self._check()

    @work(thread=True, exclusive=True, group="device-status")
    def _check(self) -> None:
        try:
            rows = self.app.session.device_status()
        except UI_BOUNDARY as exc:
            self.post_message(self.Status([], exc))
            return
        self.post_message(self.Status(rows))

    @on(Status)
    def _status(self, event: Status) -> None:
        if event.error is not None:
            self.app.report_error(event.error, doing="checking ports")
            return
        self._fill(event.rows)

    def _poll_traffic(self) -> None:
        if self.paused:
            return
        entries, self._traffic_seen = self.app.session.traffic.since(self._traffic_seen)
        if not entries:
            return
        log = self.query_one(RichLog)
        for entry in entries[-500:]:
            arrow = "→" if entry.direction == "out" else "←"
            line = Text()
            line.append(entry.clock(), style="grey62")
            line.append(f" {entry.device[:12]:<12} ", style="bold")
            line.append(f"{arrow} ", style="bright_cyan" if entry.direction == "out" else "bright_green")
            line.append(entry.hex())
            if entry.note:
                line.append(f"  {entry.note}", style="grey62")
            log.write(line)

    def action_toggle_traffic(self) -> None:
        self.paused = not self.paused
        self.query_one("#traffic-label", Static).update(
            "Traffic [b yellow]PAUSED[/] (t resume · x clear)" if self.paused else "Traffic (t pause · x clear)")

    def action_clear_traffic(self) -> None:
        self.query_one(RichLog).clear()
