"""Mix: the open song through the analog summing mixer, its variants, and the mix deliverables.

Shows the studio's ``[summing]`` and the sheet's ``[mix]``: which stem plays on which
summing input and which stems each variant mutes (``e`` moves the selected stem to
another input, checked against the summing mixer's inputs; ``m`` picks the stems the
selected variant mutes, ``full`` muting none and a variant at least one; ``ctrl+s`` saves
the sheet through recall). ``p`` prints every variant in consecutive passes (hybrid.live.audio.mix,
in a thread worker, ``s`` stops it within a period) with the bus's L/R meters; the
results list each variant's file, integrated loudness, true peak and its null residual
against ``full``, and the selected variant's loudness over time is drawn against the
target. ``d`` writes the mix deliverables (full, instrumental, a loudness-matched
listening copy) and shows their loudness report.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, ProgressBar, SelectionList, Static

from hybrid.files.loudness.files import measure_curves
from recall.sheet import MIX_FULL
from tui.errors import UI_BOUNDARY, one_line
from tui.numbers import fixed
from tui.widgets.loudness_plot import LoudnessPlot
from tui.widgets.meter import MeterBank

TARGET_LUFS = -14.0
"""The listening copy's target, drawn on the loudness plot."""


@dataclass
class VariantRow:
    variant: str
    good: bool | None
    path: str | None
    integrated_lufs: float | None = None
    true_peak_dbtp: float | None = None
    null_residual_db: float | None = None
    note: str = ""
    momentary_lufs: list[float] | None = None
    short_term_lufs: list[float] | None = None


class InputEditor(ModalScreen[int | None]):
    """Type the summing input a stem plays on (1..inputs)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, stem: str, current: int, inputs: int) -> None:
        super().__init__()
        self.stem = stem
        self.current = current
        self.inputs = inputs

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            yield Label(f"[b]{self.stem}[/b] plays on summing input", id="editor-title")
            yield Input(value=str(self.current), id="input-number", select_on_focus=True)
            yield Label(f"1 .. {self.inputs}; enter to set, escape to cancel", id="input-check")

    def _check(self, text: str) -> int | None:
        try:
            number = int(text.strip())
        except ValueError:
            return None
        return number if 1 <= number <= self.inputs else None

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        ok = self._check(event.value) is not None
        self.query_one("#input-check", Label).update(
            "[green]ok[/]" if ok else f"[b red]expected a summing input from 1 to {self.inputs}[/]")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        number = self._check(event.value)
        if number is not None:
            self.dismiss(number)


class MuteEditor(ModalScreen[list[str] | None]):
    """Pick the stems a variant mutes (space toggles, enter sets): at least one, or the
    variant is ``full`` again."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"),
                Binding("enter", "set", "Set", priority=True)]   # before the list takes enter as a toggle

    def __init__(self, variant: str, stems: list[str], muted: list[str]) -> None:
        super().__init__()
        self.variant = variant
        self.stems = stems
        self.muted = muted

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            yield Label(f"[b]{self.variant}[/b] mutes", id="editor-title")
            yield SelectionList[str](*[(stem, stem, stem in self.muted) for stem in self.stems], id="mute-list")
            yield Label("space toggles a stem; enter to set, escape to cancel", id="mute-check")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    @on(SelectionList.SelectedChanged)
    def _changed(self, _event: SelectionList.SelectedChanged) -> None:
        chosen = self.query_one(SelectionList).selected
        self.query_one("#mute-check", Label).update(
            f"[green]mutes {len(chosen)} of {len(self.stems)}[/]" if chosen else
            "[b red]a variant mutes at least one stem (full is every stem)[/]")

    def action_set(self) -> None:
        chosen = [stem for stem in self.stems if stem in self.query_one(SelectionList).selected]
        if chosen:
            self.dismiss(chosen)


class MixView(Vertical):
    """The open song's summing prints and mix deliverables."""

    PALETTE = (("Print the mix variants", "print_mix"), ("Write the mix deliverables", "deliver"))

    BINDINGS = [
        Binding("p", "print_mix", "Print mix"),
        Binding("s", "stop", "Stop"),
        Binding("e", "edit_input", "Input"),
        Binding("m", "edit_mutes", "Mutes"),
        Binding("ctrl+s", "save", "Save"),
        Binding("l", "measure", "Loudness"),
        Binding("d", "deliver", "Deliverables"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    @dataclass
    class Level(Message):
        peak_db: dict[str, float]
        rms_db: dict[str, float]
        position: float

    @dataclass
    class PassStarted(Message):
        number: int
        total: int
        variant: str

    @dataclass
    class Finished(Message):
        what: str
        rows: list[VariantRow]
        lines: list[str]
        error: BaseException | None = None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.slug: str | None = None
        self.sheet: Any = None
        self.rows: dict[str, VariantRow] = {}
        self.busy: str | None = None
        self.report_lines: list[str] = []
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        yield Static("Mix: summing prints and deliverables", classes="view-title", id="mix-title")
        yield Static(id="mix-summing", classes="status")
        with Horizontal(id="mix-tables"):
            yield DataTable(id="mix-inputs", cursor_type="row")
            yield DataTable(id="mix-variants", cursor_type="row")
        yield ProgressBar(id="mix-progress", total=1, show_eta=False)
        yield MeterBank(id="mix-meters")
        yield DataTable(id="mix-results", cursor_type="row", zebra_stripes=True)
        yield LoudnessPlot(id="mix-plot")
        yield Static(id="mix-status", classes="status")

    def on_mount(self) -> None:
        inputs = self.query_one("#mix-inputs", DataTable)
        inputs.add_column("Stem", key="stem")
        inputs.add_column("Summing input", key="input")
        variants = self.query_one("#mix-variants", DataTable)
        variants.add_column("Variant", key="variant")
        variants.add_column("Mutes", key="mutes")
        results = self.query_one("#mix-results", DataTable)
        for key, label in (("variant", "Variant"), ("state", "Print"), ("lufs", "LUFS"), ("tp", "dBTP"),
                           ("null", "Null vs full dB"), ("note", "Note")):
            results.add_column(label, key=key)
        self.query_one(MeterBank).set_channels(["L", "R"])
        self._fill()

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        """The footer offers only what works now: Stop while the mix prints; the rest with a song
        whose sheet has a [mix] open and nothing running (Input also needs the studio's [summing])."""
        if action == "stop":
            return self.busy == "printing the mix"
        if action == "reload":
            return not self.busy
        if action in ("print_mix", "edit_input", "edit_mutes", "save", "measure", "deliver"):
            if self.busy or self.sheet is None or self.sheet.mix is None:
                return False
            if action in ("print_mix", "edit_input"):
                return self.app.session.studio.summing is not None
        return True

    # -- the view protocol ------------------------------------------------------------------
    def focus_default(self) -> None:
        self.query_one("#mix-inputs", DataTable).focus()

    def view_shown(self) -> None:
        if not self.busy:
            self._fill()

    def song_changed(self, slug: str | None) -> None:
        if slug != self.slug:
            self.slug = slug
            self.rows = {}
            self.report_lines = []
            self._fill()

    # -- drawing ----------------------------------------------------------------------------
    def _fill(self) -> None:
        try:
            self._fill_tables()
        finally:
            self.refresh_bindings()   # a song with or without a [mix]: the footer's keys follow

    def _fill_tables(self) -> None:
        title = self.query_one("#mix-title", Static)
        inputs = self.query_one("#mix-inputs", DataTable)
        variants = self.query_one("#mix-variants", DataTable)
        inputs.clear()
        variants.clear()
        if not self.slug:
            self.sheet = None
            title.update("Mix: open a song on Songs (1)")
            self._draw_results()
            return
        session = self.app.session
        summing = session.studio.summing
        if summing is None:
            self.query_one("#mix-summing", Static).update(
                "[b]no \\[summing] in studio.toml[/b]: outs = \\[...] (interface outputs feeding the mixer's "
                "inputs 1..N), ins = \\[L, R]")
        else:
            bus = f" · bus loop {summing.bus}" if summing.bus else ""
            self.query_one("#mix-summing", Static).update(
                f"summing mixer: {len(summing.outs)} inputs on outputs {', '.join(map(str, summing.outs))}"
                f" · bus back on inputs {summing.ins[0]}/{summing.ins[1]}{bus}")
        try:
            self.sheet = session.sheet(self.slug)
        except UI_BOUNDARY as exc:
            self.sheet = None
            title.update(f"[b red]{one_line(exc)}[/]")
            return
        title.update(f"Mix [b]{self.sheet.title}[/b]: p print the variants · d deliverables · e move a stem · m mutes")
        mix = self.sheet.mix
        if mix is None:
            self._status("this song's sheet has no \\[mix] table: \\[mix] inputs = { \"1Kick\" = 1, ... }")
        else:
            for stem, number in mix.inputs.items():
                inputs.add_row(stem, str(number), key=stem)
            for name, muted in mix.variants.items():
                variants.add_row(name, ", ".join(muted) or "-", key=name)
                self.rows.setdefault(name, VariantRow(name, None, None))
        self._draw_results()

    def _draw_results(self) -> None:
        table = self.query_one("#mix-results", DataTable)
        table.clear()
        for row in self.rows.values():
            state = "-" if row.good is None else ("[b green]good[/]" if row.good else "[b red]bad[/]")
            table.add_row(row.variant, state, fixed(row.integrated_lufs), fixed(row.true_peak_dbtp),
                          fixed(row.null_residual_db, missing=""),
                          row.note, key=row.variant)
        self._draw_plot()

    @on(DataTable.RowHighlighted, "#mix-results")
    def _result_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._draw_plot()

    def _draw_plot(self) -> None:
        table = self.query_one("#mix-results", DataTable)
        plot = self.query_one(LoudnessPlot)
        row = None
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            row = self.rows.get(str(key))
        if row is None or not (row.short_term_lufs or row.momentary_lufs):
            plot.show([], [], target_lufs=None, caption="loudness over time: l measures the mix files")
            return
        plot.show(row.momentary_lufs or [], row.short_term_lufs, target_lufs=TARGET_LUFS,
                  caption=f"{row.variant}: short-term (bright), momentary (dim), target {TARGET_LUFS:.0f} LUFS")

    # -- editing ----------------------------------------------------------------------------
    def action_edit_input(self) -> None:
        table = self.query_one("#mix-inputs", DataTable)
        summing = self.app.session.studio.summing
        if self.sheet is None or table.row_count == 0 or summing is None:
            self._status("nothing to edit: the song needs a \\[mix] and the studio a \\[summing]")
            return
        stem = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        current = self.sheet.mix.inputs[stem]
        self.app.push_screen(InputEditor(stem, current, len(summing.outs)),
                             lambda number: self._set_input(stem, number))

    def _set_input(self, stem: str, number: int | None) -> None:
        if number is None or self.sheet is None:
            return
        self.sheet.doc["mix"]["inputs"][stem] = number
        self.query_one("#mix-inputs", DataTable).update_cell(stem, "input", str(number))
        self._status(f"{stem} -> input {number}; ctrl+s saves the sheet")

    def action_edit_mutes(self) -> None:
        table = self.query_one("#mix-variants", DataTable)
        if self.sheet is None or self.sheet.mix is None or table.row_count == 0:
            self._status("nothing to edit: the song needs a \\[mix]")
            return
        variant = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if variant == MIX_FULL:
            self._status("full is every stem: it mutes nothing (pick another variant)")
            return
        mix = self.sheet.mix
        self.app.push_screen(MuteEditor(variant, list(mix.inputs), mix.variants.get(variant, [])),
                             lambda muted: self._set_mutes(variant, muted))

    def _set_mutes(self, variant: str, muted: list[str] | None) -> None:
        if muted is None or self.sheet is None:
            return
        import tomlkit

        variants = self.sheet.doc["mix"].setdefault("variants", tomlkit.table())
        if variant not in variants:
            variants[variant] = tomlkit.table()
        variants[variant]["mute"] = muted
        self.query_one("#mix-variants", DataTable).update_cell(variant, "mutes", ", ".join(muted))
        self.rows[variant] = VariantRow(variant, None, None)   # its last print no longer matches the sheet
        self._draw_results()
        self._status(f"{variant} mutes {', '.join(muted)}; ctrl+s saves the sheet")

    def action_reload(self) -> None:
        """Read the sheet again (after its [mix] was written in an editor, say)."""
        if self.busy:
            self._status(f"{self.busy} is running")
            return
        self._fill()
        self._status("sheet read again")

    def action_save(self) -> None:
        if self.sheet is None:
            return
        try:
            saved = self.app.session.save_sheet(self.slug, self.sheet)
        except UI_BOUNDARY as exc:
            self._status(f"[b red]{one_line(exc)}[/]")
            return
        self._status("sheet saved" if saved else "nothing to save")

    # -- printing ---------------------------------------------------------------------------
    def _begin(self, what: str) -> bool:
        if not self.slug:
            self._status("open a song first (Songs: enter)")
            return False
        if self.busy:
            self._status(f"{self.busy} is running (s stops a print)")
            return False
        self.busy = what
        self._cancel.clear()
        self._status(f"{what}…")
        return True

    def action_print_mix(self) -> None:
        if self._begin("printing the mix"):
            self.query_one("#mix-progress", ProgressBar).update(total=None, progress=0)
            self._print(self.slug or "")

    def action_stop(self) -> None:
        if self.busy == "printing the mix":
            self._cancel.set()
            self._status("stopping the mix print within a period…")

    @work(thread=True, exclusive=True, group="mix")
    def _print(self, slug: str) -> None:
        """The variants in the print process (hybrid.app.print_process): the stream's callback
        never waits for the UI's rendering to hand over the GIL."""
        from hybrid.app.print_job import PrintRequest
        from hybrid.app.print_process import run_print

        session = self.app.session
        studio = session.studio
        ins = studio.summing.ins if studio.summing is not None else (1, 2)

        def on_pass(number: int, total: int, variant: str) -> None:
            self.post_message(self.PassStarted(number, total, variant))

        def on_progress(p: Any) -> None:
            peaks, rms = list(p.peak_dbfs), list(p.rms_dbfs)
            if not peaks:
                return
            pick = [ins[0] - 1, ins[1] - 1] if len(peaks) >= max(ins) else [0, min(1, len(peaks) - 1)]
            self.post_message(self.Level({"L": peaks[pick[0]], "R": peaks[pick[1]]},
                                         {"L": rms[pick[0]], "R": rms[pick[1]]},
                                         p.position_frames / max(1, p.total_frames)))

        try:
            with session.audio_lock:
                result = run_print(session.root, PrintRequest(slug, mix=True), on_pass=on_pass,
                                   on_progress=on_progress, cancel=self._cancel)
        except UI_BOUNDARY as exc:
            self.post_message(self.Finished("printing the mix", [], [], exc))
            return
        rows = []
        for v in result.variants:
            note = v.null_note or ("null above the limit" if v.null_flagged else "")
            if not v.good:
                bad = [str(problem) for p in v.passes for problem in [*p.problems, *(x for f in p.files
                                                                                     for x in f.problems)]]
                note = "; ".join(dict.fromkeys(bad)) or note or "bad pass"
            rows.append(VariantRow(v.variant, v.good and not v.null_flagged, None if v.path is None else str(v.path),
                                   null_residual_db=v.null_residual_db, note=note))
        _measure_rows(rows)
        lines = [f"{r.variant}: {'good' if r.good else 'BAD'}" for r in rows]
        self.post_message(self.Finished("printing the mix", rows, lines))

    @on(PassStarted)
    def _pass_started(self, event: PassStarted) -> None:
        self._status(f"mix pass {event.number}/{event.total}: {event.variant} (s stops)")

    @on(Level)
    def _level(self, event: Level) -> None:
        self.query_one(MeterBank).set_levels(event.peak_db, event.rms_db)
        self.query_one("#mix-progress", ProgressBar).update(total=1000, progress=int(event.position * 1000))

    def action_measure(self) -> None:
        if self._begin("measuring the mix files"):
            self._measure(self.slug or "")

    @work(thread=True, exclusive=True, group="mix")
    def _measure(self, slug: str) -> None:
        from recall import store

        folder = store.song_paths(self.app.session.studio, slug).mix
        rows = []
        for name, known in self.rows.items():
            path = folder / f"{name}.wav"
            rows.append(VariantRow(name, known.good, str(path) if path.is_file() else None,
                                   null_residual_db=known.null_residual_db, note=known.note))
        _measure_rows(rows)
        self.post_message(self.Finished("measuring the mix files", rows, []))

    def action_deliver(self) -> None:
        if self._begin("writing the mix deliverables"):
            self._deliver(self.slug or "")

    @work(thread=True, exclusive=True, group="mix")
    def _deliver(self, slug: str) -> None:
        from hybrid.files.deliver.mix import deliver_mix, mix_report_text

        try:
            report = deliver_mix(self.app.session.root, slug)
        except UI_BOUNDARY as exc:
            self.post_message(self.Finished("writing the mix deliverables", [], [], exc))
            return
        self.post_message(self.Finished("writing the mix deliverables", [], mix_report_text(report).splitlines()))

    @on(Finished)
    def _finished(self, event: Finished) -> None:
        self.busy = None
        self.query_one("#mix-progress", ProgressBar).update(total=1, progress=1)
        if event.error is not None:
            self._status(f"[b red]{event.what}: {one_line(event.error)}[/]")
            return
        for row in event.rows:
            self.rows[row.variant] = row
        self.report_lines = event.lines
        self._draw_results()
        if event.lines:
            self._status(f"{event.what}: done · " + " · ".join(event.lines[:4]))
        else:
            self._status(f"{event.what}: done")

    def _status(self, text: str) -> None:
        self.query_one("#mix-status", Static).update(text)
        self.refresh_bindings()   # the state that the status tells of decides the footer's keys


def _measure_rows(rows: list[VariantRow]) -> None:
    """Loudness, true peak and the curves of each row's file (in a worker thread); a file that
    cannot be measured gets its one line in the row's note (the other rows are still measured)."""
    for row in rows:
        if not row.path:
            continue
        try:
            curves = measure_curves(row.path)
        except UI_BOUNDARY as exc:
            row.note = "; ".join(filter(None, [row.note, f"not measured: {one_line(exc)}"]))
            continue
        row.integrated_lufs = curves.result.integrated_lufs
        row.true_peak_dbtp = curves.result.true_peak_dbtp
        row.momentary_lufs = curves.momentary_lufs
        row.short_term_lufs = curves.short_term_lufs
