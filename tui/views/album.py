"""Album: the running order of an album master, its codes and CD-Text, loudness, the DDP.

Pick an album (``albums/<album>/album.toml``); its tracks are listed in running order
with gaps, ISRCs, lengths and, once measured (``l``), integrated loudness, true peak and
loudness range per track and for the album, with the selected track's short-term and
momentary loudness drawn against the target. ``e`` edits a field of the selected track
(``E`` of the album) with the value checked as it is typed; ``ctrl+up``/``ctrl+down``
move a track; ``ctrl+s`` saves (atomic, and never over a change made to the file
meanwhile). ``b`` builds the CD master and the DDP and verifies it, ``v`` verifies it
again, ``a`` writes the client's approval set from the DDP. Every problem is a line in
the view, as the CLI says it; long work runs in thread workers (``escape`` cancels a
measurement between tracks).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Select, Static

from hybrid.files.deliver.album import Album, AlbumProblems, cdtext_problem, load_album
from hybrid.files.deliver.album_edit import ALBUM_FIELDS, TRACK_FIELDS, AlbumDoc, check_field, new_album
from hybrid.files.loudness.files import measure_curves
from recall.paths import StudioPaths
from tui.errors import UI_BOUNDARY, one_line
from tui.numbers import fixed
from tui.widgets.loudness_plot import LoudnessPlot

DEFAULT_TARGET_LUFS = -14.0
"""The target line on the loudness plot (a streaming reference level)."""


@dataclass
class TrackLoudness:
    integrated_lufs: float | None
    true_peak_dbtp: float | None
    range_lu: float | None
    momentary_lufs: list[float]
    short_term_lufs: list[float]


def problem_lines(exc: BaseException) -> list[str]:
    """An error as the lines the view lists: each of an album.toml's problems, or its one line."""
    if isinstance(exc, AlbumProblems):
        return [f"{exc.where}: {problem}" for problem in exc.problems]
    return [one_line(exc)]


def _length(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:05.2f}"


class FieldEditor(ModalScreen[tuple[str, str] | None]):
    """Choose a field and type its value; each keystroke is checked, enter keeps a good value."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, fields: tuple[str, ...], current: dict[str, str], field: str) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.current = current
        self.field = field

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            yield Label(f"[b]{self.title_text}[/b]", id="editor-title")
            yield Select([(f, f) for f in self.fields], value=self.field, allow_blank=False, id="field-select")
            yield Input(value=self.current.get(self.field, ""), id="field-input", select_on_focus=True)
            yield Label("enter to set (empty removes it), escape to cancel", id="field-check")

    def on_mount(self) -> None:
        self.query_one("#field-input", Input).focus()

    @on(Select.Changed, "#field-select")
    def _field_changed(self, event: Select.Changed) -> None:
        self.field = str(event.value)
        self.query_one("#field-input", Input).value = self.current.get(self.field, "")

    @on(Input.Changed, "#field-input")
    def _typed(self, event: Input.Changed) -> None:
        _, why = check_field(self.field, event.value)
        self.query_one("#field-check", Label).update(f"[b red]{why}[/]" if why else "[green]ok[/] · enter to set")

    @on(Input.Submitted, "#field-input")
    def _submitted(self, event: Input.Submitted) -> None:
        _, why = check_field(self.field, event.value)
        if why:
            self.query_one("#field-check", Label).update(f"[b red]{why}[/]")
            return
        self.dismiss((self.field, event.value))


class SingleEditor(ModalScreen[str | None]):
    """Type the title of a new single of the open song (checked as CD-Text as typed)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, song: str, title: str, like: str | None) -> None:
        super().__init__()
        self.song = song
        self.title_text = title
        self.like = like

    def compose(self) -> ComposeResult:
        like = f"; mastering chain and sheet from [b]{self.like}[/b]" if self.like else ""
        with Vertical(id="editor"):
            yield Label(f"A new single of [b]{self.song}[/b]{like}", id="editor-title")
            yield Input(value=self.title_text, id="single-title", select_on_focus=True)
            yield Label("the album's title; enter to create it, escape to cancel", id="single-check")

    def on_mount(self) -> None:
        self.query_one("#single-title", Input).focus()

    def _why(self, text: str) -> str | None:
        return cdtext_problem(text.strip()) if text.strip() else "the album needs a title"

    @on(Input.Changed, "#single-title")
    def _typed(self, event: Input.Changed) -> None:
        why = self._why(event.value)
        self.query_one("#single-check", Label).update(f"[b red]{why}[/]" if why else "[green]ok[/] · enter to create")

    @on(Input.Submitted, "#single-title")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._why(event.value) is None:
            self.dismiss(event.value.strip())


class AlbumView(Vertical):
    """An album's running order, codes and loudness; the CD master, DDP and approval set."""

    PALETTE = (("Print the album's mastering passes", "print_masters"), ("Measure the album's loudness", "measure"), ("Build and verify the album's DDP", "build"),
               ("Write the approval set from the DDP", "approve"))

    BINDINGS = [
        Binding("e", "edit_track", "Edit track"),
        Binding("n", "new_single", "New single"),
        Binding("E", "edit_album", "Edit album"),
        Binding("ctrl+up", "move(-1)", "Move up"),
        Binding("ctrl+down", "move(1)", "Move down"),
        Binding("ctrl+s", "save", "Save"),
        Binding("l", "measure", "Loudness"),
        Binding("m", "print_masters", "Print masters"),
        Binding("y", "steps_done", "Hand-set done"),
        Binding("b", "build", "Build DDP"),
        Binding("v", "verify", "Verify DDP"),
        Binding("a", "approve", "Approval set"),
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    @dataclass
    class Measured(Message):
        album: str
        index: int
        loudness: TrackLoudness | None
        error: BaseException | None = None

    @dataclass
    class StepsWaiting(Message):
        """A song's hand-set mastering units must be set before it prints (y when done)."""

        song: str
        steps: list[str]

    @dataclass
    class Done(Message):
        """A build, verification or approval finished (``lines`` to show) or failed."""

        what: str
        lines: list[str]
        error: BaseException | None = None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.album_name: str | None = None
        self.album: Album | None = None
        self.doc: AlbumDoc | None = None
        self.problems: list[str] = []
        self.loudness: dict[int, TrackLoudness] = {}
        self.busy: str | None = None
        self._cancel = threading.Event()
        self._steps_done = threading.Event()
        self.waiting_steps: list[str] = []
        self.target_lufs = DEFAULT_TARGET_LUFS
        self.results: list[str] = []
        """The last build's, verification's or approval's report lines."""

    def compose(self) -> ComposeResult:
        yield Static("Albums: running order, codes, loudness, DDP", classes="view-title")
        with Horizontal(id="album-body"):
            yield DataTable(id="albums-table", cursor_type="row")
            with Vertical(id="album-main"):
                yield Static(id="album-head", classes="status")
                yield DataTable(id="album-tracks", cursor_type="row", zebra_stripes=True)
                yield Static(id="album-problems", classes="side-box")
                yield LoudnessPlot(id="album-plot")
        yield Static(id="album-status", classes="status")

    def on_mount(self) -> None:
        self.query_one("#albums-table", DataTable).add_columns("Album")
        tracks = self.query_one("#album-tracks", DataTable)
        for key, label in (("n", "#"), ("song", "Song"), ("title", "Title"), ("performer", "Performer"),
                           ("isrc", "ISRC"), ("gap", "Gap s"), ("length", "Length"), ("lufs", "LUFS"),
                           ("tp", "dBTP"), ("lra", "LRA")):
            tracks.add_column(label, key=key)
        self.reload()

    CANCELLABLE = ("measuring loudness", "printing the mastering passes")
    """The long work that escape stops (a DDP build or verification runs to its end)."""

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        """The footer offers only what works now: while work runs, its cancel (and y when a
        mastering pass waits for hand-set units); otherwise the album's keys, once one is open."""
        if action == "steps_done":
            return bool(self.waiting_steps)
        if action == "cancel":
            return self.busy in self.CANCELLABLE
        if action == "reload":
            return not self.busy
        if action == "new_single":
            return not self.busy and self.app.song is not None
        if self.busy or self.album_name is None:
            return False
        if action in ("edit_track", "edit_album", "move", "save"):
            return self.doc is not None
        if action == "measure":
            return self.album is not None
        return True

    # -- the view protocol ------------------------------------------------------------------
    def focus_default(self) -> None:
        self.query_one("#album-tracks" if self.album_name else "#albums-table", DataTable).focus()

    def view_shown(self) -> None:
        self.reload()

    def song_changed(self, _slug: str | None) -> None:
        self.refresh_bindings()   # "New single" needs an open song

    # -- reading ----------------------------------------------------------------------------
    @property
    def albums_dir(self) -> Path:
        return StudioPaths(self.app.session.root).albums

    def album_names(self) -> list[str]:
        try:
            return sorted(p.parent.name for p in self.albums_dir.glob("*/album.toml"))
        except OSError:
            return []

    def reload(self) -> None:
        table = self.query_one("#albums-table", DataTable)
        names = self.album_names()
        table.clear()
        for name in names:
            table.add_row(name, key=name)
        if not names:
            self._status(f"no albums yet: write {self.albums_dir}/<album>/album.toml "
                         "(keys in hybrid.files.deliver.album)")
            return
        if self.album_name not in names:
            self.album_name = names[0]
        table.move_cursor(row=names.index(self.album_name))
        self.open_album(self.album_name)

    @on(DataTable.RowHighlighted, "#albums-table")
    def _album_highlighted(self, event: DataTable.RowHighlighted) -> None:
        name = str(event.row_key.value)
        if name != self.album_name:
            self.open_album(name)

    def open_album(self, name: str) -> None:
        """Read ``name``'s album.toml for editing and check it as a delivery would."""
        if self.doc is not None and self.doc.dirty and self.doc.name != name:
            self._status(f"[b]{self.doc.name} has unsaved changes[/b]: ctrl+s saves them, or ctrl+r drops them")
            return
        self.album_name = name
        self.loudness = {}
        try:
            self.doc = AlbumDoc(self.app.session.root, name)
        except UI_BOUNDARY as exc:
            self.doc = None
            self.album = None
            self.problems = [one_line(exc)]
            self._fill()
            return
        self.check()

    def check(self) -> None:
        """The delivery's checks on the saved file (every problem, one line each)."""
        assert self.album_name is not None
        try:
            self.album = load_album(self.app.session.root, self.album_name)
            self.problems = []
        except UI_BOUNDARY as exc:
            self.album = None
            self.problems = problem_lines(exc)
        self._fill()

    def _fill(self) -> None:
        tracks = self.query_one("#album-tracks", DataTable)
        keep = tracks.cursor_row
        tracks.clear()
        head = self.query_one("#album-head", Static)
        if self.doc is None:
            head.update(f"[b]{self.album_name}[/b]")
        else:
            upc = self.doc.get(None, "upc") or "no UPC"
            title = self.doc.get(None, "title") or self.album_name
            total = sum(t.duration_s + t.pregap_s for t in self.album.tracks) if self.album else None
            unsaved = "  [b yellow]unsaved[/]" if self.doc.dirty else ""
            album_loud = self._album_loudness()
            head.update(f"[b]{title}[/b] · {self.doc.get(None, 'performer') or '-'} · {upc}"
                        f" · {len(self.doc.tracks)} tracks"
                        + (f" · {_length(total)}" if total is not None else "") + album_loud + unsaved)
            by_number = {t.number: t for t in self.album.tracks} if self.album else {}
            for i, table in enumerate(self.doc.tracks):
                track = by_number.get(i + 1)
                loud = self.loudness.get(i)
                tracks.add_row(
                    str(i + 1), str(table.get("song", "")),
                    str(table.get("title", track.title if track else "")),
                    str(table.get("performer", track.performer if track else "")),
                    str(table.get("isrc", "")) or "[dim]none[/]",
                    str(table.get("pregap_s", track.pregap_s if track else "")),
                    _length(track.duration_s) if track else "?",
                    fixed(loud.integrated_lufs) if loud else "", fixed(loud.true_peak_dbtp) if loud else "",
                    fixed(loud.range_lu) if loud else "", key=str(i))
            if tracks.row_count:
                tracks.move_cursor(row=min(keep, tracks.row_count - 1))
        self.refresh_bindings()   # an album open or not, readable or not: the footer's keys follow
        problems = self.query_one("#album-problems", Static)
        if self.problems:
            problems.update("[b red]Problems[/]\n" + "\n".join(f"· {p}" for p in self.problems))
        else:
            problems.update("[green]album.toml checks out: ready to build[/]")
        self._draw_plot()

    def _album_loudness(self) -> str:
        if not self.loudness:
            return ""
        values = [v.integrated_lufs for v in self.loudness.values() if v.integrated_lufs is not None]
        peaks = [v.true_peak_dbtp for v in self.loudness.values() if v.true_peak_dbtp is not None]
        if not values:
            return ""
        return f" · tracks {min(values):.1f} to {max(values):.1f} LUFS, peak {max(peaks):.1f} dBTP"

    def selected(self) -> int | None:
        tracks = self.query_one("#album-tracks", DataTable)
        if tracks.row_count == 0:
            return None
        return tracks.cursor_row

    @on(DataTable.RowHighlighted, "#album-tracks")
    def _track_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._draw_plot()

    def _draw_plot(self) -> None:
        index = self.selected()
        plot = self.query_one(LoudnessPlot)
        loud = self.loudness.get(index) if index is not None else None
        if loud is None:
            plot.show([], [], target_lufs=None, caption="loudness over time: l measures the tracks")
            return
        plot.show(loud.momentary_lufs, loud.short_term_lufs, target_lufs=self.target_lufs,
                  caption=f"track {index + 1}: short-term (bright) and momentary (dim) loudness, "
                          f"target {self.target_lufs:.0f} LUFS (yellow)")

    # -- editing ----------------------------------------------------------------------------
    def action_edit_track(self) -> None:
        index = self.selected()
        if self.doc is None or index is None:
            self._status("no track to edit")
            return
        current = {f: self.doc.get(index, f) for f in TRACK_FIELDS}
        self.app.push_screen(FieldEditor(f"Track {index + 1}", TRACK_FIELDS, current, "isrc"),
                             lambda result: self._edited(index, result))

    def action_new_single(self) -> None:
        """A new album of the open song alone, like the album selected (its chain and sheets)."""
        song = self.app.song
        if not song:
            self._status("open a song first (Songs: enter): a single is made of the open song")
            return
        try:
            title = self.app.session.song_summary(song).title or song
        except UI_BOUNDARY as exc:
            self._status(f"[b red]{one_line(exc)}[/]")
            return
        self.app.push_screen(SingleEditor(song, title, self.album_name),
                             lambda chosen: self._new_single(song, chosen, self.album_name))

    def _new_single(self, song: str, title: str | None, like: str | None) -> None:
        if title is None:
            return
        try:
            name = new_album(self.app.session.root, title, [song], like=like)
        except UI_BOUNDARY as exc:
            self._status(f"[b red]{one_line(exc)}[/]")
            return
        self.album_name = name
        self.reload()
        self._status(f"albums/{name}: {song}" + (f", mastering chain and sheet from {like}" if like else ""))

    def action_edit_album(self) -> None:
        if self.doc is None:
            self._status("no album open")
            return
        current = {f: self.doc.get(None, f) for f in ALBUM_FIELDS}
        self.app.push_screen(FieldEditor(f"Album {self.album_name}", ALBUM_FIELDS, current, "upc"),
                             lambda result: self._edited(None, result))

    def _edited(self, index: int | None, result: tuple[str, str] | None) -> None:
        if result is None or self.doc is None:
            return
        key, text = result
        try:
            self.doc.set(index, key, text)
        except UI_BOUNDARY as exc:
            self._status(f"[b red]{one_line(exc)}[/]")
            return
        self._status(f"{key} set; ctrl+s saves")
        self._fill()

    def action_move(self, delta: int) -> None:
        index = self.selected()
        if self.doc is None or index is None:
            return
        try:
            new = self.doc.move(index, delta)
        except UI_BOUNDARY as exc:
            self._status(f"[b red]{one_line(exc)}[/]")
            return
        moved = {(new if i == index else i + (1 if new <= i < index else -1 if index < i <= new else 0)): v
                 for i, v in self.loudness.items()}
        self.loudness = moved
        self._fill()
        self.query_one("#album-tracks", DataTable).move_cursor(row=new)
        self._status(f"track {index + 1} is now track {new + 1}; ctrl+s saves")

    def action_save(self) -> None:
        if self.doc is None:
            return
        try:
            saved = self.doc.save()
        except UI_BOUNDARY as exc:
            self._status(f"[b red]{one_line(exc)}[/]")
            return
        self._status(f"saved {self.doc.path}" if saved else "nothing to save")
        self.check()

    def action_reload(self) -> None:
        if self.doc is not None:
            self.doc.dirty = False
        self.reload()

    # -- long work --------------------------------------------------------------------------
    def _start(self, what: str) -> bool:
        if self.busy:
            self._status(f"{self.busy} is running (escape cancels a measurement)")
            return False
        if self.album_name is None:
            self._status("no album open")
            return False
        if self.doc is not None and self.doc.dirty:
            self._status("save first (ctrl+s): the delivery reads album.toml from disk")
            return False
        self.busy = what
        self._cancel.clear()
        self._status(f"{what}…")
        return True

    def action_cancel(self) -> None:
        if self.busy:
            self.waiting_steps = []
            self._cancel.set()
            self._status(f"cancelling {self.busy}…")

    def action_measure(self) -> None:
        if self.album is None:
            self._status("fix the problems first: the masters must be readable to measure them")
            return
        if self._start("measuring loudness"):
            self._measure(self.album_name or "", [t.file for t in self.album.tracks])

    @work(thread=True, exclusive=True, group="album")
    def _measure(self, album: str, files: list[Path | None]) -> None:
        for index, path in enumerate(files):
            if self._cancel.is_set():
                break
            if path is None:
                self.post_message(self.Measured(album, index, None))
                continue
            try:
                curves = measure_curves(path)
                result = curves.result
                loud = TrackLoudness(result.integrated_lufs, result.true_peak_dbtp, result.loudness_range_lu,
                                     curves.momentary_lufs, curves.short_term_lufs)
            except UI_BOUNDARY as exc:
                self.post_message(self.Measured(album, index, None, exc))
                continue
            self.post_message(self.Measured(album, index, loud))
        self.post_message(self.Done("measuring loudness", []))

    @on(Measured)
    def _measured(self, event: Measured) -> None:
        if event.album != self.album_name:
            return
        if event.error is not None:
            self.problems.append(f"track {event.index + 1}: {one_line(event.error)}")
        elif event.loudness is not None:
            self.loudness[event.index] = event.loudness
        self._fill()

    def action_print_masters(self) -> None:
        if self._start("printing the mastering passes"):
            self._print_masters(self.album_name or "")

    @work(thread=True, exclusive=True, group="album")
    def _print_masters(self, album: str) -> None:
        from hybrid.errors import HybridError

        session = self.app.session

        def on_steps(song: str, steps: list[Any]) -> None:
            self._steps_done.clear()
            self.post_message(self.StepsWaiting(song, [str(step) for step in steps]))
            while not self._steps_done.wait(0.1):
                if self._cancel.is_set():
                    raise HybridError(f"stopped before {song}: its hand-set units were not confirmed",
                                      where=f"album {album}")

        def on_pass(number: int, total: int, song: str) -> None:
            self.post_message(self.Done(f"master {number}/{total}: {song}", ["running"]))

        try:
            result, _retried = session.print_master(album, on_steps=on_steps, on_pass=on_pass,
                                                    cancel=self._cancel)  # in the print process
        except UI_BOUNDARY as exc:
            self.post_message(self.Done("printing the mastering passes", [], exc))
            return
        lines = [f"{'good' if s.good else 'BAD'}  {s.song}: {s.path or s.problem}" for s in result.songs]
        self.post_message(self.Done("printing the mastering passes", lines))

    @on(StepsWaiting)
    def _steps_waiting(self, event: StepsWaiting) -> None:
        self.waiting_steps = event.steps
        self.query_one("#album-problems", Static).update(
            f"[b]{event.song}: set by hand before it prints[/b]\n" + "\n".join(f"· {s}" for s in event.steps)
            + "\n[b]y[/b] when they are set · escape stops")
        self._status(f"{event.song}: set the hand-set units, then y")

    def action_steps_done(self) -> None:
        if self.waiting_steps:
            self.waiting_steps = []
            self._steps_done.set()
            self._status("printing…")

    def action_build(self) -> None:
        if self._start("building the DDP"):
            self._deliver("build", self.album_name or "")

    def action_verify(self) -> None:
        if self._start("verifying the DDP"):
            self._deliver("verify", self.album_name or "")

    def action_approve(self) -> None:
        if self._start("writing the approval set"):
            self._deliver("approve", self.album_name or "")

    @work(thread=True, exclusive=True, group="album")
    def _deliver(self, what: str, album: str) -> None:
        from hybrid.files.deliver.approve import make_approval
        from hybrid.files.deliver.master import deliver_master, master_report_text, verify_delivery

        root = self.app.session.root
        try:
            if what == "build":
                report: Any = deliver_master(root, album)
                lines = master_report_text(report).splitlines()
            elif what == "verify":
                lines = [f"DDP verified: {check}" for check in verify_delivery(root, album)]
            else:
                report = make_approval(root, album)
                lines = [f"approval set in {report['folder']}: {len(report['tracks'])} track WAVs cut at the "
                         f"PQ marks, PQ sheet (HTML, text, CSV), {report['zip']['file']} (MD5 {report['zip']['md5']})"]
        except UI_BOUNDARY as exc:
            self.post_message(self.Done(what, [], exc))
            return
        self.post_message(self.Done(what, lines))

    @on(Done)
    def _done(self, event: Done) -> None:
        if event.lines == ["running"]:      # a mastering pass began
            self._status(f"{event.what} (escape stops)")
            return
        what = self.busy or event.what
        self.busy = None
        if event.error is not None:
            self._status(f"[b red]{what}: {one_line(event.error)}[/]")
            self.problems = problem_lines(event.error)
            self._fill()
            return
        self.results = event.lines
        shown = event.lines[-1] if event.lines else f"{what}: done"
        self._status(f"[green]{shown}[/]" + (f"  ({len(event.lines)} lines in the report)" if len(event.lines) > 1
                                               else ""))
        if event.lines:
            self.query_one("#album-problems", Static).update("\n".join(event.lines[-12:]))

    def _status(self, text: str) -> None:
        self.query_one("#album-status", Static).update(text)
        self.refresh_bindings()   # the state that the status tells of decides the footer's keys
