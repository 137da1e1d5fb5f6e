"""Print: the plan of passes, then progress and per-channel meters, then the result per file.

Printing plays the song's stems out through their insert chains and records them back
in real time, so it runs in a thread worker. The audio layer reports progress many
times a second; the worker keeps only the latest report and posts a message only when
the previous one has been handled (coalesced), and the meters repaint on their own
timer, so the UI stays responsive whatever the report rate.

It prints through the session like every front end (hybrid.app.print_job: routing, xrun
retry, child process, latency store). While a print runs the footer offers ``s`` Stop
print instead of Print: the running pass stops within a period and keeps nothing (no
half-written file under its final name), and the result lists the files that were kept.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, ProgressBar, Static

from tui.errors import UI_BOUNDARY, one_line
from tui.widgets.meter import MeterBank



class PrintView(Vertical):
    """Print the open song's stems through their chains."""

    BINDINGS = [
        Binding("p", "print", "Print"),
        Binding("s", "stop", "Stop print"),
        Binding("l", "plan", "Plan"),
    ]
    PALETTE = (("Print the open song", "print"), ("Show the print plan", "plan"), ("Stop the print", "stop"))

    @dataclass
    class Tick(Message):
        """New progress is waiting in ``PrintView.latest`` (coalesced: one in flight at a time)."""

    @dataclass
    class Finished(Message):
        slug: str
        report: Any = None
        error: BaseException | None = None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.slug: str | None = None
        self.printing = False
        self.latest: Any = None
        self._tick_pending = threading.Event()
        self._cancel = threading.Event()
        self.report = None

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        """The footer offers Print when idle and Stop print while printing, never a key that does nothing."""
        if action == "print":
            return not self.printing
        if action == "stop":
            return self.printing
        return True

    def _set_printing(self, printing: bool) -> None:
        self.printing = printing
        self.refresh_bindings()

    def compose(self) -> ComposeResult:
        yield Static("Print", classes="view-title", id="print-title")
        yield Static(id="print-plan", classes="side-box")
        yield ProgressBar(id="print-progress", total=100, show_eta=False)
        yield Static(id="print-status", classes="status")
        yield MeterBank(id="meters")
        yield DataTable(id="print-results", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("file", "Printed file"), ("loop", "Loop"), ("peak", "Peak dBFS"),
                           ("rms", "RMS dBFS"), ("clips", "Clips"), ("drift", "Drift (samples)"),
                           ("verdict", "Result"), ("why", "Why")):
            table.add_column(label, key=key)

    def focus_default(self) -> None:
        self.query_one(DataTable).focus()

    def song_changed(self, slug: str | None) -> None:
        if slug != self.slug and not self.printing:
            self.slug = slug
            self.report = None
            self.query_one(DataTable).clear()
            self.action_plan()

    def view_shown(self) -> None:
        if not self.printing and self.report is None:
            self.action_plan()

    def action_plan(self) -> None:
        plan_box = self.query_one("#print-plan", Static)
        if not self.slug:
            self.query_one("#print-title", Static).update("Print: open a song on Songs (1)")
            plan_box.update("")
            return
        try:
            plan = self.app.session.print_plan(self.slug)
        except UI_BOUNDARY as exc:
            plan_box.update(f"[b red]no plan: {one_line(exc)}[/]")
            return
        title = self.app.session.song_summary(self.slug).title
        self.query_one("#print-title", Static).update(f"Print [b]{title}[/b]: p to print")
        lines = [f"[b]Plan[/b]: {len(plan.passes)} pass(es), {plan.length_s:.1f} s each at most"]
        for number, passage in enumerate(plan.passes, start=1):
            items = ", ".join(f"[b]{stem}[/b] via {' › '.join(loops)}" for stem, loops in passage)
            lines.append(f"  pass {number}: {items}")
        if plan.dry:
            lines.append(f"  [dim]dry, not printed: {', '.join(plan.dry)}[/dim]")
        plan_box.update("\n".join(lines))
        self.query_one(MeterBank).set_channels([stem for passage in plan.passes for stem, _ in passage][:16])

    def action_print(self) -> None:
        if not self.slug:
            self.app.notify("open a song first (Songs, enter)", severity="warning")
            return
        if self.printing:
            self.app.notify("a print is already running", severity="warning")
            return
        self.action_plan()
        self._cancel.clear()
        self._set_printing(True)
        self.report = None
        self.query_one(DataTable).clear()
        self.query_one(ProgressBar).update(total=100, progress=0)
        self.query_one("#print-status", Static).update("printing… (measuring loops first where stale)")
        self._print(self.slug)

    def action_stop(self) -> None:
        """Stop the running print: the pass stops within a period and keeps nothing."""
        if not self.printing:
            return
        self._cancel.set()
        self.query_one("#print-status", Static).update("stopping the print…")

    def _progress_from_worker(self, progress: Any) -> None:
        """Called on the worker thread, possibly hundreds of times a second: keep the latest."""
        self.latest = progress
        if not self._tick_pending.is_set():
            self._tick_pending.set()
            self.post_message(self.Tick())

    @work(thread=True, exclusive=True, group="print")
    def _print(self, slug: str) -> None:
        try:
            report = self.app.session.print_song(slug, on_progress=self._progress_from_worker,
                                                 separate_process=True, cancel=self._cancel)
        except UI_BOUNDARY as exc:
            self.post_message(self.Finished(slug, error=exc))
            return
        self.post_message(self.Finished(slug, report=report))

    @on(Tick)
    def _tick(self, _event: Tick) -> None:
        self._tick_pending.clear()
        p = self.latest
        if p is None:
            return
        self.query_one(ProgressBar).update(total=100, progress=round(100 * p.fraction))
        self.query_one("#print-status", Static).update(p.text())
        if p.peak_db:
            meters = self.query_one(MeterBank)
            if set(p.peak_db) - set(meters.channels):
                meters.set_channels(list(p.peak_db))
            meters.set_levels(p.peak_db, p.rms_db, p.clips)

    @on(Finished)
    def _finished(self, event: Finished) -> None:
        self._set_printing(False)
        if event.error is not None:
            self.query_one("#print-status", Static).update(f"[b red]print stopped: {one_line(event.error)}[/]")
            self.app.report_error(event.error, doing="print")
            return
        report = self.report = event.report
        self.query_one(ProgressBar).update(total=100, progress=100)
        table = self.query_one(DataTable)
        for f in report.files:
            verdict = Text(" GOOD " if f.good else " BAD ", style="bold black on bright_green" if f.good
                           else "bold white on red")
            drift = f"{f.drift_samples:+.3f}" if f.drift_samples is not None else "-"
            table.add_row(f.name, f.loop, f"{f.peak_dbfs:.1f}", f"{f.rms_dbfs:.1f}", str(f.clips), drift,
                          verdict, f.reason or "", key=f.name)
        good = sum(1 for f in report.files if f.good)
        again = " · printed again after xruns" if report.retried_for_xruns else ""
        if report.cancelled:
            kept = ", ".join(Path(k).name for k in report.kept) or "none"
            self.query_one("#print-status", Static).update(
                f"[b]print stopped[/b] ({report.cancelled}) · files kept: {kept}")
        else:
            self.query_one("#print-status", Static).update(
                f"[b]{good} of {len(report.files)}[/b] printed files good{again} · in {report.folder}")
        self.app.refresh_context()
