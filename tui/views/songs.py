"""Songs: the studio's songs by album, with their stage and when last recalled and printed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from recall.store import SongSummary
from tui.errors import UI_BOUNDARY, one_line


def when(moment: str | None) -> str:
    """An ISO time (``2026-11-21T13:40:00Z``) as the control room reads it: local, to the minute."""
    if not moment:
        return "-"
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return moment
    return parsed.astimezone().strftime("%Y-%m-%d %H:%M")


class SongsView(Vertical):
    """A table of every song; enter opens the song on the Sheet view."""

    BINDINGS = [
        Binding("enter", "open_song", "Open"),
        Binding("r", "recall_song", "Recall"),
        Binding("p", "print_song", "Print"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    _reading = False

    def compose(self) -> ComposeResult:
        yield Static("Songs", classes="view-title")
        yield DataTable(id="songs-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="songs-status", classes="status")

    @dataclass
    class Loaded(Message):
        """The studio's songs were read (in a worker: 500 sheets take a moment)."""

        songs: list
        error: BaseException | None = None

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Album", "Title", "Artist", "Stage", "Tracks", "Last recalled", "Last printed")
        self.query_one("#songs-status", Static).update("reading the songs…")
        self.reload()

    def focus_table(self) -> None:
        self.query_one(DataTable).focus()

    focus_default = focus_table

    def reload(self) -> None:
        """Read the songs in a worker; the first paint does not wait for hundreds of sheets."""
        if self._reading:
            return
        self._reading = True
        self._read_songs()

    @work(thread=True, exclusive=True, group="songs")
    def _read_songs(self) -> None:
        try:
            songs = self.app.session.songs()
        except UI_BOUNDARY as exc:
            self.post_message(self.Loaded([], exc))
            return
        self.post_message(self.Loaded(songs))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self._reading = False
        if event.error is not None:
            self.query_one("#songs-status", Static).update(f"[b red]{one_line(event.error)}[/]")
            return
        self._fill(event.songs)

    def _fill(self, songs: list) -> None:
        table = self.query_one(DataTable)
        keep = table.cursor_row
        table.clear()
        album = None
        for song in songs:
            shown_album = song.album if song.album != album else ""
            album = song.album
            stage = song.stage or "-"
            if song.problems:
                stage = "[b red]broken sheet[/]"
            table.add_row(shown_album or ("" if album else "(no album)"), f"[b]{song.title}[/b]",
                          song.artist, stage, str(song.tracks), when(song.last_recalled),
                          when(song.last_printed), key=song.slug)
        if songs:
            table.move_cursor(row=min(keep, len(songs) - 1))
        broken = [s for s in songs if s.problems]
        status = f"{len(songs)} songs · enter open · r recall · p print"
        if broken:
            status += f" · [b red]{len(broken)} broken: {broken[0].problems[0]}[/]"
        self.query_one("#songs-status", Static).update(status)

    def view_shown(self) -> None:
        self.reload()

    def song_changed(self, slug: str | None) -> None:
        pass

    def selected(self) -> SongSummary | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.app.session.song_summary(key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.app.open_song(event.row_key.value)

    def action_open_song(self) -> None:
        song = self.selected()
        if song:
            self.app.open_song(song.slug)

    def action_recall_song(self) -> None:
        song = self.selected()
        if song:
            self.app.open_song(song.slug, view="recall")

    def action_print_song(self) -> None:
        """Open the song on Print and print it (what the footer's "Print" says)."""
        song = self.selected()
        if song:
            self.app.open_song(song.slug, view="print")
            self.app.view("print").action_print()

    def action_reload(self) -> None:
        self.reload()
