"""Recall: apply the song to the gear with live progress per device, then walk through the rest.

Apply runs in a thread worker (one at a time); each device's progress arrives as a
message and updates its row: set, verified, failed (with why), needs a hand. When it
is done, the walk-through lists the hand-set controls (and any machine-set device that
failed) in signal order, shown one step at a time in large type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, ProgressBar, Static

from hybrid.app.rows import DeviceProgress
from recall.status import ApplyStatus
from tui.errors import UI_BOUNDARY, one_line, shown
from tui.widgets.panel import render_control
from tui.widgets.plot import Plot


STATUS_STYLE = {
    ApplyStatus.PENDING: "grey62",
    ApplyStatus.SENDING: "bold bright_cyan",
    ApplyStatus.VERIFYING: "bold bright_cyan",
    ApplyStatus.SET: "bold bright_white",
    ApplyStatus.VERIFIED: "bold black on bright_green",
    ApplyStatus.UNCHANGED: "bold green",
    ApplyStatus.DONE_EARLIER: "bold green",
    ApplyStatus.FAILED: "bold white on red",
    ApplyStatus.NEEDS_HAND: "bold black on bright_yellow",
    ApplyStatus.SKIPPED: "grey62",
}


def status_text(status: ApplyStatus) -> Text:
    """A status cell: the people's word in the status's colours."""
    return Text(status.label, STATUS_STYLE[status])


class WalkBox(Static, can_focus=True):
    """The current walk-through step; focused while walking so enter/space confirm it."""

    BINDINGS = [
        Binding("enter,space", "done", "Done, next"),
        Binding("backspace,left", "back", "Back"),
        Binding("s,right", "skip", "Skip"),
    ]

    def _view(self) -> RecallView:
        return next(a for a in self.ancestors if isinstance(a, RecallView))

    def action_done(self) -> None:
        self._view().action_step_done()

    def action_back(self) -> None:
        self._view().action_step_back()

    def action_skip(self) -> None:
        self._view().action_step_skip()


class RecallView(Vertical):
    """Apply the open song's recall, then the walk-through of hand-set gear."""

    BINDINGS = [
        Binding("a", "apply", "Apply"),
        Binding("c", "apply_changed", "Apply changed"),
        Binding("w", "walk", "Walk-through"),
        Binding("v", "listen", "Verify by ear"),
        Binding("f", "fingerprint", "Store sound"),
    ]
    PALETTE = (("Apply the recall of the open song", "apply"), ("Apply only what changed", "apply_changed"),
               ("Walk through the hand-set gear", "walk"))

    @dataclass
    class Progress(Message):
        """One device moved on (from the apply worker)."""

        progress: DeviceProgress

    @dataclass
    class Finished(Message):
        """The apply is over: its report, or the error that stopped it."""

        slug: str
        report: Any = None
        error: BaseException | None = None

    @dataclass
    class Listened(Message):
        """Verify by ear (or storing the fingerprints) is over."""

        slug: str
        verdict: Any = None
        stored: int | None = None
        error: BaseException | None = None
        refused: tuple[str, ...] = ()
        """Chains that could not be stored (one line each; the others were)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.slug: str | None = None
        self.verdict = None
        self.listening = False
        self.steps: list = []
        self.step_index = 0
        self.step_done: set[int] = set()
        self.report = None
        self.applying = False

    def compose(self) -> ComposeResult:
        yield Static("Recall", classes="view-title", id="recall-title")
        yield DataTable(id="recall-table", cursor_type="row")
        yield ProgressBar(id="recall-progress", total=1, show_eta=False)
        yield Static(id="recall-summary", classes="status")
        yield WalkBox(id="walk", classes="walk-box")
        yield Static(id="verify", classes="side-box")
        yield Plot(id="verify-plot", caption="")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Device", key="device", width=14)
        table.add_column("Model", key="model", width=26)
        table.add_column("How", key="how", width=14)
        table.add_column("Status", key="status", width=16)
        table.add_column("Detail", key="detail")
        self._fill()

    def focus_default(self) -> None:
        self.query_one(DataTable).focus()

    def song_changed(self, slug: str | None) -> None:
        if slug != self.slug:
            self.slug = slug
            self.steps = []
            self.step_done = set()
            self.report = None
            self._fill()

    def view_shown(self) -> None:
        if not self.applying and self.report is None:
            self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        walk = self.query_one("#walk", Static)
        if not self.slug:
            self.query_one("#recall-title", Static).update("Recall: open a song on Songs (1)")
            walk.update("")
            return
        session = self.app.session
        try:
            sheet = session.sheet(self.slug)
        except UI_BOUNDARY as exc:
            self.query_one("#recall-title", Static).update(f"[b red]{one_line(exc)}[/]")
            return
        self.query_one("#recall-title", Static).update(
            f"Recall [b]{sheet.title}[/b]: [b]a[/b] apply · [b]c[/b] only what changed · [b]w[/b] walk-through")
        for name in sheet.used_devices():
            entry = session.studio.devices.get(name)
            if entry is None:
                table.add_row(name, "?", "?", status_text(ApplyStatus.FAILED),
                              "not a device of this studio", key=name)
                continue
            how = "machine-set" if entry.machine_settable else "hand-set"
            status = ApplyStatus.PENDING if entry.machine_settable else ApplyStatus.NEEDS_HAND
            table.add_row(name, f"{entry.profile.model}", how, status_text(status), "",
                          key=name)
        self.query_one("#recall-summary", Static).update("")
        walk.update("[b]Walk-through[/b]: after an apply the hand-set steps show here, one at a time "
                    "(w starts it now)")
        self.query_one("#verify", Static).update(
            "[b]Verify by ear[/b]: v measures each chain against how it sounded when stored "
            "(f stores it now)")

    # -- apply ----------------------------------------------------------------------------

    def action_apply(self) -> None:
        self._start_apply(changed_only=False)

    def action_apply_changed(self) -> None:
        self._start_apply(changed_only=True)

    def _start_apply(self, *, changed_only: bool) -> None:
        if not self.slug:
            self.app.notify("open a song first (Songs, enter)", severity="warning")
            return
        if self.applying:
            self.app.notify("an apply is already running", severity="warning")
            return
        self._fill()
        self.applying = True
        self.steps = []
        self.query_one("#recall-summary", Static).update("applying…")
        bar = self.query_one(ProgressBar)
        bar.update(total=max(1, self.query_one(DataTable).row_count), progress=0)
        self._apply(self.slug, changed_only)

    @work(thread=True, exclusive=True, group="apply")
    def _apply(self, slug: str, changed_only: bool) -> None:
        try:
            report = self.app.session.apply(slug, on_progress=lambda p: self.post_message(self.Progress(p)),
                                            changed_only=changed_only)
        except UI_BOUNDARY as exc:
            self.post_message(self.Finished(slug, error=exc))
            return
        self.post_message(self.Finished(slug, report=report))

    @on(Progress)
    def _progress(self, event: Progress) -> None:
        p = event.progress
        table = self.query_one(DataTable)
        try:
            table.update_cell(p.device, "status", status_text(p.status))
            # the Detail column grows with what it must say (a fixed width cut it to "6 para")
            table.update_cell(p.device, "detail", p.detail or "", update_width=True)
        except KeyError:
            return
        if p.final:
            self.query_one(ProgressBar).advance(1)

    @on(Finished)
    def _finished(self, event: Finished) -> None:
        self.applying = False
        if event.slug != self.slug:
            return
        bar = self.query_one(ProgressBar)
        bar.update(progress=bar.total)
        if event.error is not None:
            self.query_one("#recall-summary", Static).update(f"[b red]apply stopped: {one_line(event.error)}[/]")
            self.app.report_error(event.error, doing="apply")
            return
        report = self.report = event.report
        verdict = "[b black on bright_green] RECALLED [/]" if report.ok else "[b white on red] INCOMPLETE [/]"
        self.query_one("#recall-summary", Static).update(
            f"{verdict}  {report.summary_line()}  · {len(report.steps)} steps by hand")
        self.steps = list(report.steps)
        self.step_index = 0
        self.step_done = set()
        self._show_step()
        if self.steps:
            self.query_one(WalkBox).focus()
        self.app.refresh_context()

    # -- the walk-through -----------------------------------------------------------------

    def action_walk(self) -> None:
        if not self.slug:
            return
        extra = [r.device for r in self.report.devices if r.status == ApplyStatus.FAILED] if self.report else []
        try:
            self.steps = self.app.session.walkthrough(self.slug, extra=extra)
        except UI_BOUNDARY as exc:
            self.app.report_error(exc, doing="walk-through")
            return
        self.step_index = 0
        self.step_done = set()
        self._show_step()
        self.query_one(WalkBox).focus()

    def _show_step(self) -> None:
        walk = self.query_one("#walk", Static)
        if not self.steps:
            walk.update("[b]Walk-through[/b]: nothing to set by hand for this song")
            return
        if self.step_index >= len(self.steps):
            done = len(self.step_done)
            walk.update(f"[b black on bright_green] WALK-THROUGH DONE [/]  {done} of {len(self.steps)} "
                        "steps confirmed  (w: start again)")
            return
        step = self.steps[self.step_index]
        param = self.app.session.studio.devices[step.device].profile.parameters[step.parameter]
        text = Text()
        text.append(f"Step {step.number} of {len(self.steps)}", style="bold")
        if step.chain:
            text.append(f"   signal: {step.chain}", style="grey70")
        text.append("\n")
        text.append(f" {step.device} ", style="bold black on bright_white")
        text.append("  ")
        text.append(f"{step.label}", style="bold")
        text.append("  →  ")
        text.append(f" {step.setting} ", style="bold black on bright_yellow")
        text.append("\n\n")
        text.append_text(render_control(param, step.target))
        if step.notes:
            text.append(f"\n\nnote: {step.notes}", style="italic")
        text.append("\n\nenter: done, next · backspace: back · s: skip", style="grey62")
        walk.update(text)

    def action_step_done(self) -> None:
        if self.steps and self.step_index < len(self.steps):
            with shown(self.app, f"step {self.steps[self.step_index].number}"):
                self.app.session.confirm_step(self.steps[self.step_index])
            self.step_done.add(self.step_index)
            self.step_index += 1
            self._show_step()

    def action_step_skip(self) -> None:
        if self.steps and self.step_index < len(self.steps):
            self.step_index += 1
            self._show_step()

    def action_step_back(self) -> None:
        if self.steps and self.step_index > 0:
            self.step_index -= 1
            self.step_done.discard(self.step_index)
            self._show_step()

    # -- verify by ear --------------------------------------------------------------------

    def action_listen(self) -> None:
        self._start_listen(store=False)

    def action_fingerprint(self) -> None:
        self._start_listen(store=True)

    def _start_listen(self, *, store: bool) -> None:
        if not self.slug:
            self.app.notify("open a song first (Songs, enter)", severity="warning")
            return
        if self.listening:
            self.app.notify("already listening", severity="warning")
            return
        self.listening = True
        what = "storing how each chain sounds" if store else "listening to each chain"
        self.query_one("#verify", Static).update(f"[b]Verify by ear[/b]: {what}…")
        self._listen(self.slug, store)

    @work(thread=True, exclusive=True, group="listen")
    def _listen(self, slug: str, store: bool) -> None:
        session = self.app.session
        try:
            if store or not session.fingerprinted(slug):
                refused: list = []
                stored = len(session.fingerprint(slug, failed=refused))
                self.post_message(self.Listened(slug, stored=stored, refused=tuple(one_line(e) for e in refused)))
            else:
                self.post_message(self.Listened(slug, verdict=session.verify_by_ear(slug)))
        except UI_BOUNDARY as exc:
            self.post_message(self.Listened(slug, error=exc))

    @on(Listened)
    def _listened(self, event: Listened) -> None:
        self.listening = False
        box = self.query_one("#verify", Static)
        if event.error is not None:
            box.update(f"[b]Verify by ear[/b]: [b red]{one_line(event.error)}[/]")
            return
        if event.stored is not None:
            text = (f"[b]Verify by ear[/b]: stored how {event.stored} chain(s) sound now; "
                    "v checks them after the next recall")
            if event.refused:
                text += "".join(f"\n  [b red]not stored[/]: {line}" for line in event.refused)  # one_line: escaped
            box.update(text)
            return
        self.verdict = verdict = event.verdict
        lines = ["[b]Verify by ear[/b]: " + ("[b black on bright_green] AS STORED [/]" if verdict.ok
                                             else "[b white on red] CHANGED [/]")]
        for chain in verdict.chains:
            mark = "[green]as stored[/]" if chain.ok else "[b red]changed[/]"
            line = f"  {chain.key.label}: {mark}"
            if chain.error:
                line += f" ({chain.error})"
            elif not chain.ok and chain.suspect is not None:
                line += f" · suspect: [b]{chain.suspect.text}[/b]"
            lines.append(line)
        box.update("\n".join(lines))
        worst = next((c for c in verdict.chains if not c.ok and c.comparison is not None), None)
        shown = worst or next((c for c in verdict.chains if c.comparison is not None), None)
        if shown is not None:
            data = shown.plot_data().get("bands") or {}
            deviation = data.get("deviation_db") or []
            if deviation:
                self.query_one("#verify-plot", Plot).show(
                    deviation, f"{shown.key.label}: deviation per 1/3 octave, "
                               f"{min(data.get('centres_hz', [20])):.0f} Hz .. {max(data.get('centres_hz', [20000])):.0f} Hz")
