"""Loops: every insert loop's round trip (latency, polarity, gain, stale or not); measure them.

Measuring plays a test signal out of the loop and records it back, so it runs in a
thread worker; each result updates its row and the plot shows the measured impulse
response around its peak (polarity and ringing visible at a glance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from tui.errors import UI_BOUNDARY, one_line
from tui.widgets.plot import Plot



class LoopsView(Vertical):
    """Latency per loop, measured on demand."""

    BINDINGS = [
        Binding("m", "measure_one", "Measure"),
        Binding("M", "measure_all", "Measure all"),
        Binding("r", "reload", "Reload"),
    ]
    PALETTE = (("Measure all loops", "measure_all"),)

    @dataclass
    class Measured(Message):
        loop: str
        result: Any = None
        error: BaseException | None = None

    @dataclass
    class AllDone(Message):
        count: int

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.measuring: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static("Insert loops: round-trip latency", classes="view-title")
        yield DataTable(id="loops-table", cursor_type="row")
        yield Static(id="loops-status", classes="status")
        with Horizontal(id="loop-plots"):
            yield Plot(id="loop-plot")
            yield Plot(id="loop-phase", caption="excess phase: measure a loop")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("loop", "Loop"), ("route", "Out → In"), ("gear", "Gear"),
                           ("latency", "Latency (samples)"), ("ms", "ms"), ("polarity", "Polarity"),
                           ("gain", "Gain dB"), ("snr", "SNR dB"), ("state", "State")):
            table.add_column(label, key=key)
        self.reload()

    def focus_default(self) -> None:
        self.query_one(DataTable).focus()

    def song_changed(self, slug: str | None) -> None:
        pass

    def view_shown(self) -> None:
        if not self.measuring:
            self.reload()

    def reload(self) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        try:
            states = self.app.session.loop_states()
        except UI_BOUNDARY as exc:
            self.query_one("#loops-status", Static).update(f"[b red]{one_line(exc)}[/]")
            return
        for st in states:
            table.add_row(*self._cells(st), key=st.name)
        if states:
            table.move_cursor(row=min(keep, len(states) - 1))
        self.query_one("#loops-status", Static).update(
            f"{len(states)} loops · m measure the selected one · M measure all")

    @staticmethod
    def _cells(st) -> list:
        if st.latency_samples is None:
            lat, ms, pol, gain, snr = "-", "-", "-", "-", "-"
        else:
            lat = Text(f"{st.latency_samples:.3f}", style="bold bright_white")
            ms = f"{st.latency_ms:.3f}"
            pol = Text("normal" if st.polarity > 0 else "INVERTED",
                       style="green" if st.polarity > 0 else "bold black on bright_yellow")
            gain = f"{st.gain_db:+.2f}"
            snr = f"{st.snr_db:.0f}" if st.snr_db is not None else "-"
        state = Text(f" {st.state} ", style={"fresh": "bold black on bright_green",
                                             "stale": "bold black on bright_yellow",
                                             "never measured": "grey62",
                                             "measuring": "bold bright_cyan"}.get(st.state, "bold white on red"))
        return [Text(st.name, style="bold"), f"{st.out_channel} → {st.in_channel}",
                " › ".join(st.devices) or "-", lat, ms, pol, gain, snr, state]

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_measure_one(self) -> None:
        loop = self._selected()
        if loop:
            self._start([loop])

    def action_measure_all(self) -> None:
        self._start([st.name for st in self.app.session.loop_states()])

    def action_reload(self) -> None:
        self.reload()

    def _start(self, loops: list[str]) -> None:
        if self.measuring:
            self.app.notify("a measurement is already running", severity="warning")
            return
        self.measuring = set(loops)
        table = self.query_one(DataTable)
        for loop in loops:
            table.update_cell(loop, "state", Text(" measuring ", style="bold bright_cyan"))
        self.query_one("#loops-status", Static).update(f"measuring {', '.join(loops)}…")
        self._measure(loops)

    @work(thread=True, exclusive=True, group="measure")
    def _measure(self, loops: list[str]) -> None:
        for loop in loops:
            try:
                result = self.app.session.measure_loop(loop)
            except UI_BOUNDARY as exc:
                self.post_message(self.Measured(loop, error=exc))
                continue
            self.post_message(self.Measured(loop, result=result))
        self.post_message(self.AllDone(len(loops)))

    @on(Measured)
    def _measured(self, event: Measured) -> None:
        self.measuring.discard(event.loop)
        if event.error is not None:
            self.app.report_error(event.error, doing=f"loop {event.loop}")
            self.query_one(DataTable).update_cell(event.loop, "state", Text(" failed ", style="bold white on red"))
            self.query_one("#loops-status", Static).update(f"[b red]loop {event.loop}: {one_line(event.error)}[/]")
            return
        st = event.result
        table = self.query_one(DataTable)
        for key, cell in zip(("loop", "route", "gear", "latency", "ms", "polarity", "gain", "snr", "state"),
                             self._cells(st), strict=False):
            table.update_cell(event.loop, key, cell, update_width=True)
        if st.impulse is not None and len(st.impulse):
            self.query_one("#loop-plot", Plot).show(st.impulse, f"loop {st.name}: impulse response around the peak "
                                      f"({st.latency_samples:.3f} samples, "
                                      f"{'normal' if st.polarity > 0 else 'inverted'} polarity)")
        if st.transfer is not None:
            phase = st.transfer.excess_phase_deg
            self.query_one("#loop-phase", Plot).show(
                phase, f"excess phase, {st.transfer.frequencies_hz[0]:.0f} Hz .. "
                       f"{st.transfer.frequencies_hz[-1] / 1000:.0f} kHz (log), ±180°: {phase[0]:+.0f}° .. {phase[-1]:+.0f}°",
                value_range=(-180.0, 180.0))

    @on(AllDone)
    def _all_done(self, event: AllDone) -> None:
        self.measuring = set()
        self.query_one("#loops-status", Static).update(f"measured {event.count} loop(s)")
