"""Intake: a client's upload becomes a song, from the control room.

Pick the archive by typing its path (tab completes folders and archive names) or from
the studio's drop folder (``STUDIO/inbox/``, listed and refreshed on show). Taking it in
runs in a thread worker with a progress bar (unpacking, then checking each stem) and
can be cancelled (``escape``): the pipeline removes everything it unpacked. The report
lists every file with its verdict and, for each broken rule, the fix to ask the client
for; under it, the ready-to-send note to the client. Then accept (open the new song) or
refuse (the song moves out of ``songs/`` to ``STUDIO/.refused/``; nothing is deleted).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import DataTable, Input, ProgressBar, Static

from hybrid.errors import HybridError
from hybrid.files.intake import IntakeRefused, IntakeReport, Refusal, intake_archive
from hybrid.files.intake.client_note import FIXES, client_note
from hybrid.files.intake.limits import size_text
from hybrid.files.intake.withdraw import refuse_song
from recall.atomic import atomic_write_text
from recall.paths import SongPaths, StudioPaths
from tui.errors import UI_BOUNDARY, one_line

ARCHIVE_SUFFIXES = (".zip", ".rar", ".7z", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".zst")
LEVEL_STYLE = {"pass": "green", "info": "cyan", "warn": "yellow", "fail": "b red", "skip": "magenta"}


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


class PathSuggester(Suggester):
    """Completes a path: the first folder or archive in its folder that starts with what was typed."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        typed = Path(value).expanduser()
        folder, stem = (typed, "") if value.endswith("/") else (typed.parent, typed.name)
        try:
            names = sorted(p for p in folder.iterdir() if p.name.startswith(stem) and not p.name.startswith(".")
                           and (p.is_dir() or is_archive(p)))
        except OSError:
            return None
        if not names:
            return None
        best = names[0]
        completed = value[:len(value) - len(stem)] + best.name
        return completed + "/" if best.is_dir() else completed


class IntakeView(Vertical):
    """Take a client's archive into a new song; read its report; accept or refuse."""

    BINDINGS = [
        Binding("enter", "take_in", "Take in", show=True),
        Binding("escape", "cancel", "Cancel", show=True),
        Binding("a", "accept", "Accept"),
        Binding("x", "refuse", "Refuse"),
        Binding("w", "save_note", "Save note"),
        Binding("ctrl+r", "reload", "Reload inbox"),
    ]
    PALETTE = (("Take in a client's upload", "take_in"),)

    @dataclass
    class Progress(Message):
        stage: str
        name: str
        done: int
        total: int

    @dataclass
    class Finished(Message):
        report: IntakeReport | None
        error: BaseException | None = None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.report: IntakeReport | None = None
        """The last intake's report (refused or not)."""
        self.note = ""
        """The note to the client for :attr:`report`."""
        self.running = False
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        yield Static("Intake: a client's upload becomes a song", classes="view-title")
        with Horizontal(id="intake-pick"):
            yield Input(placeholder="path of the client's archive (.zip, .rar, .7z, .tar.gz); tab completes",
                        suggester=PathSuggester(), id="intake-path")
        yield DataTable(id="intake-inbox", cursor_type="row")
        yield ProgressBar(id="intake-progress", total=1, show_eta=False)
        yield Static(id="intake-status", classes="status")
        yield DataTable(id="intake-report", cursor_type="row", zebra_stripes=True)
        yield Static(id="intake-note", classes="side-box")

    def on_mount(self) -> None:
        inbox = self.query_one("#intake-inbox", DataTable)
        inbox.add_columns("Drop folder (inbox/)", "Size", "Modified")
        report = self.query_one("#intake-report", DataTable)
        for key, label in (("file", "File"), ("status", "Verdict"), ("rule", "Rule"),
                           ("finding", "Finding"), ("fix", "Ask the client")):
            report.add_column(label, key=key)
        self._status("type a path or pick an archive from inbox/, then enter")
        self.reload()

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        """The footer offers only what works now: Take in when idle, Cancel while taking in,
        Accept and Refuse once a song was taken in, Save note once there is a report."""
        if action == "take_in":
            return not self.running
        if action == "cancel":
            return self.running
        if action in ("accept", "refuse"):
            return not self.running and self.report is not None and bool(self.report.song_dir)
        if action == "save_note":
            return not self.running and self.report is not None
        return True

    # -- the view protocol ------------------------------------------------------------------
    def focus_default(self) -> None:
        self.query_one("#intake-path", Input).focus()

    def view_shown(self) -> None:
        self.reload()

    def song_changed(self, slug: str | None) -> None:
        pass

    # -- the drop folder --------------------------------------------------------------------
    @property
    def inbox(self) -> Path:
        return StudioPaths(self.app.session.root).inbox

    def reload(self) -> None:
        table = self.query_one("#intake-inbox", DataTable)
        table.clear()
        try:
            archives = sorted((p for p in self.inbox.iterdir() if is_archive(p)),
                              key=lambda p: p.stat().st_mtime, reverse=True) if self.inbox.is_dir() else []
        except OSError as exc:
            self._status(f"[b red]{self.inbox}: {exc.strerror or exc}[/]")
            return
        for path in archives:
            stat = path.stat()
            table.add_row(path.name, size_text(stat.st_size),
                          time.strftime("%Y-%m-%d %H:%M", time.localtime(stat.st_mtime)), key=str(path))
        table.display = bool(archives)

    @on(DataTable.RowSelected, "#intake-inbox")
    def _inbox_picked(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.query_one("#intake-path", Input).value = str(event.row_key.value)
        self.action_take_in()

    @on(Input.Submitted, "#intake-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_take_in()

    # -- taking it in -----------------------------------------------------------------------
    def action_take_in(self) -> None:
        if self.running:
            self._status("an intake is running: escape cancels it")
            return
        text = self.query_one("#intake-path", Input).value.strip()
        if not text:
            inbox = self.query_one("#intake-inbox", DataTable)
            if inbox.row_count and inbox.display:
                text = str(inbox.coordinate_to_cell_key(inbox.cursor_coordinate).row_key.value)
        if not text:
            self._status("[b]type the archive's path first[/b] (or drop it into inbox/)")
            return
        path = Path(text).expanduser()
        if not is_archive(path):
            self._status(f"[b red]{path}: not an archive file (expected {', '.join(ARCHIVE_SUFFIXES)})[/]")
            return
        self.running = True
        self._cancel.clear()
        bar = self.query_one("#intake-progress", ProgressBar)
        bar.update(total=None, progress=0)
        self._status(f"taking in {path.name}…  (escape cancels)")
        self._run(path)

    @work(thread=True, exclusive=True, group="intake")
    def _run(self, path: Path) -> None:
        def progress(stage: str, name: str, done: int, total: int) -> None:
            if self._cancel.is_set():
                raise Refusal("cancelled by the engineer; nothing was imported", rule="interrupted")
            self.post_message(self.Progress(stage, name, done, total))

        try:
            report = intake_archive(path, self.app.session.root, progress=progress)
        except IntakeRefused as exc:
            self.post_message(self.Finished(exc.report, exc))
            return
        except UI_BOUNDARY as exc:
            self.post_message(self.Finished(None, exc))
            return
        self.post_message(self.Finished(report))

    @on(Progress)
    def _progress(self, event: Progress) -> None:
        bar = self.query_one("#intake-progress", ProgressBar)
        bar.update(total=max(1, event.total) * 2, progress=event.done + (event.total if event.stage == "check" else 0))
        verb = "unpacking" if event.stage == "unpack" else "checking"
        self._status(f"{verb} {event.done}/{event.total} {event.name}  (escape cancels)")

    @on(Finished)
    def _finished(self, event: Finished) -> None:
        self.running = False
        bar = self.query_one("#intake-progress", ProgressBar)
        bar.update(total=1, progress=1)
        if event.report is None:
            self._status(f"[b red]{one_line(event.error or HybridError('intake failed'))}[/]")
            return
        self.show_report(event.report)
        self.query_one("#intake-report", DataTable).focus()  # a, x, w act on it; the path field would eat them
        if event.error is not None:
            self._status(f"[b red]{one_line(event.error)}[/]  · w saves the note to the client")
        else:
            s = event.report.summary()
            self._status(f"song [b]{event.report.song}[/b]: {s['imported']} stems ({s['pass']} pass, "
                         f"{s['warn']} warn, [b red]{s['fail']} fail[/]), {s['skipped']} skipped · "
                         "a accept · x refuse · w save the note")
            self.reload()

    def show_report(self, report: IntakeReport) -> None:
        """Fill the report table and the client note from ``report``."""
        self.report = report
        table = self.query_one("#intake-report", DataTable)
        table.clear()
        for f in report.files:
            name = f.file or f.member
            style = LEVEL_STYLE.get(f.status, "")
            problems = [x for x in f.findings if x.level != "pass"]
            if not problems:
                table.add_row(name, f"[{style}]{f.status}[/]", "", "all rules pass", "")
            for i, finding in enumerate(problems):
                level_style = LEVEL_STYLE.get(finding.level, "")
                table.add_row(name if i == 0 else "", f"[{level_style}]{finding.level}[/]", finding.rule,
                              finding.message, FIXES.get(finding.rule, "") if finding.level in ("warn", "fail")
                              else "")
        self.note = client_note(report, studio_name=self.app.session.studio_name)
        self.query_one("#intake-note", Static).update(f"[b]Note to the client[/b]\n{self.note}")

    def action_cancel(self) -> None:
        if self.running:
            self._cancel.set()
            self._status("cancelling… the unpacked files are being removed")

    # -- after the report -------------------------------------------------------------------
    def _song_dir(self) -> Path | None:
        if self.report is None or self.report.refused or not self.report.song_dir:
            self._status("no song was taken in: nothing to accept or refuse")
            return None
        return Path(self.report.song_dir)

    def action_accept(self) -> None:
        song_dir = self._song_dir()
        if song_dir is None:
            return
        self.app.open_song(song_dir.name)

    def action_refuse(self) -> None:
        song_dir = self._song_dir()
        if song_dir is None:
            return
        try:
            moved = refuse_song(self.app.session.root, song_dir)
        except UI_BOUNDARY as exc:
            self._status(f"[b red]{one_line(exc)}[/]")
            return
        assert self.report is not None
        self.report.song_dir = None
        self._status(f"refused: the song moved to {moved} (nothing deleted) · w saves the note to the client")

    def action_save_note(self) -> None:
        if self.report is None:
            self._status("take an archive in first")
            return
        target = self._note_path()
        try:
            atomic_write_text(target, self.note)
        except OSError as exc:
            self._status(f"[b red]{target}: {exc.strerror or exc}[/]")
            return
        self._status(f"note saved: {target}")

    def _note_path(self) -> Path:
        assert self.report is not None
        if self.report.song_dir:
            return SongPaths(Path(self.report.song_dir)).intake_note
        return StudioPaths(self.app.session.root).refused / f"{Path(self.report.archive).name}.client-note.txt"

    def action_reload(self) -> None:
        self.reload()

    def _status(self, text: str) -> None:
        self.query_one("#intake-status", Static).update(text)
        self.refresh_bindings()   # the state that the status tells of decides the footer's keys

