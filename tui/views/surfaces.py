"""Surfaces: the studio's control surfaces (``[surfaces.NAME]`` in studio.toml) on the open song.

Connecting (``c``) opens the surface over MIDI and binds the open song's sheet to it
(recall.surface_binding): the strips show the sheet, moves edit it and the gear. The
view shows each surface's state and bank, what every strip of the bank shows right now
(device, parameter, value, a held fader, a hand-set target and whether it is
confirmed), the touches, moves and confirmations as they happen, and the hand-set
steps still waiting to be confirmed on the surface. ``[`` and ``]`` page the bank,
``d`` disconnects (pending edits are saved first). Opening and closing run in thread
workers (a silent surface takes its answer timeout); events arrive on the surface's
own threads and come here only as messages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, RichLog, Static

from devices.surfaces import SlotConfirm, SlotEdit, SurfaceSession
from devices.surfaces.driver import SurfaceStatus
from devices.surfaces.session import SurfaceProblem
from recall.studio import SurfaceConfig
from recall.surface_binding import SheetBinding, SheetChange
from tui.errors import UI_BOUNDARY, one_line

REFRESH_S = 0.25
"""How often the strips are redrawn while connected (the bank may change on the surface)."""


class Connection:
    """One connected surface: its session and the sheet bound to it."""

    def __init__(self, config: SurfaceConfig, song: str, session: SurfaceSession, binding: SheetBinding) -> None:
        self.config = config
        self.song = song
        self.session = session
        self.binding = binding

    def close(self) -> None:
        try:
            self.binding.close()
        finally:
            self.session.close()


class SurfacesView(Vertical):
    """Connected MCU/HUI surfaces, their bank and strips, events as they happen, pending targets."""

    PALETTE = (("Connect the selected control surface", "connect"),)

    BINDINGS = [
        Binding("c", "connect", "Connect"),
        Binding("d", "disconnect", "Disconnect"),
        Binding("left_square_bracket", "bank(-1)", "Bank ◀"),
        Binding("right_square_bracket", "bank(1)", "Bank ▶"),
        Binding("ctrl+r", "reload", "Reload"),
    ]

    @dataclass
    class Opened(Message):
        name: str
        connection: Connection | None
        error: BaseException | None = None

    @dataclass
    class Closed(Message):
        name: str
        error: BaseException | None = None

    @dataclass
    class Event(Message):
        """Something happened on a surface (posted from its threads)."""

        name: str
        text: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.connections: dict[str, Connection] = {}
        self.busy: set[str] = set()
        self.events: list[str] = []
        """Every event line shown, oldest first (for tests and the log)."""

    def compose(self) -> ComposeResult:
        yield Static("Control surfaces", classes="view-title")
        yield DataTable(id="surfaces-table", cursor_type="row")
        yield Static(id="surfaces-status", classes="status")
        with Horizontal(id="surfaces-body"):
            yield DataTable(id="surface-strips", cursor_type="row", zebra_stripes=True)
            with Vertical(id="surfaces-side"):
                yield Static("Waiting for confirmation on the surface", classes="side-label")
                yield Static(id="surface-pending", classes="side-box")
                yield Static("As it happens", classes="side-label")
                yield RichLog(id="surface-events", max_lines=500, wrap=False, markup=True)

    def on_mount(self) -> None:
        table = self.query_one("#surfaces-table", DataTable)
        for key, label in (("name", "Surface"), ("kind", "Protocol"), ("ports", "Ports"),
                           ("state", "State"), ("song", "Song"), ("bank", "Bank")):
            table.add_column(label, key=key)
        strips = self.query_one("#surface-strips", DataTable)
        for key, label in (("strip", "Strip"), ("device", "Device"), ("param", "Parameter"),
                           ("value", "Value"), ("hand", "Hand"), ("target", "Target")):
            strips.add_column(label, key=key)
        self.set_interval(REFRESH_S, self._refresh_live)
        self.reload()

    def on_unmount(self) -> None:
        for connection in list(self.connections.values()):
            connection.close()
        self.connections.clear()

    # -- the view protocol ------------------------------------------------------------------
    def focus_default(self) -> None:
        self.query_one("#surfaces-table", DataTable).focus()

    def view_shown(self) -> None:
        self.reload()

    def song_changed(self, slug: str | None) -> None:
        if self.connections and slug is not None:
            moved = [n for n, c in self.connections.items() if c.song != slug]
            if moved:
                self._status(f"{', '.join(moved)} still show {self.connections[moved[0]].song}: "
                             "d then c to show the open song")

    def check_action(self, action: str, _parameters: tuple[object, ...]) -> bool | None:
        """The footer offers only what works on the selected surface: Connect when it is not
        connected (and a song is open), Disconnect when it is, the bank keys with a surface connected."""
        name = self.selected() if self.is_mounted else None
        if action == "connect":
            return name is not None and name not in self.connections and name not in self.busy
        if action == "disconnect":
            return name is not None and name in self.connections and name not in self.busy
        if action == "bank":
            return bool(self.connections)
        return True

    @on(DataTable.RowHighlighted, "#surfaces-table")
    def _surface_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    # -- surfaces ---------------------------------------------------------------------------
    def configs(self) -> dict[str, SurfaceConfig]:
        return dict(self.app.session.studio.surfaces)

    def reload(self) -> None:
        table = self.query_one("#surfaces-table", DataTable)
        keep = table.cursor_row
        table.clear()
        configs = self.configs()
        for name, config in configs.items():
            table.add_row(*self._row(name, config), key=name)
        if configs:
            table.move_cursor(row=min(keep, len(configs) - 1))
            self._status("c connect the selected surface to the open song · d disconnect · [ ] bank")
        else:
            self._status("no \\[surfaces] in studio.toml: add e.g. [surfaces.Desk] kind = \"mcu\", "
                         "ports = [\"MCU\"] and reload (ctrl+r)")
        self._refresh_live()

    def _row(self, name: str, config: SurfaceConfig) -> tuple[str, ...]:
        connection = self.connections.get(name)
        if name in self.busy:
            state = "[yellow]opening…[/]"
        elif connection is None:
            state = "not connected"
        elif connection.session.online:
            state = "[b green]online[/]"
        else:
            state = "[b red]offline[/]"
        bank = ""
        song = ""
        if connection is not None:
            total = len(connection.session.slots)
            first = connection.session.offset + 1
            last = min(total, connection.session.offset + connection.session.bank_size)
            bank = f"{first}-{last} of {total}" if total else "empty"
            song = connection.song
        return (f"[b]{name}[/b]", config.kind.upper(), ", ".join(config.ports), state, song, bank)

    def selected(self) -> str | None:
        table = self.query_one("#surfaces-table", DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def shown(self) -> Connection | None:
        """The connection whose strips are drawn: the selected surface's, else the first."""
        name = self.selected()
        if name in self.connections:
            return self.connections[name]
        return next(iter(self.connections.values()), None)

    # -- connecting -------------------------------------------------------------------------
    def action_connect(self) -> None:
        name = self.selected()
        if name is None:
            self._status("no surface to connect: add one under \\[surfaces] in studio.toml")
            return
        song = self.app.song
        if not song:
            self._status("open a song first (Songs: enter): its sheet goes on the strips")
            return
        if name in self.connections or name in self.busy:
            self._status(f"{name} is already connected (d disconnects)")
            return
        self.busy.add(name)
        self.reload()
        self._status(f"opening {name}…")
        self._open(name, self.configs()[name], song)

    @work(thread=True, group="surfaces")
    def _open(self, name: str, config: SurfaceConfig, song: str) -> None:
        session: SurfaceSession | None = None
        try:
            session = SurfaceSession.open(config.kind, config.ports, name=name)
            binding = SheetBinding(self.app.session.studio, song, session)
            self._listen(name, session, binding)
            binding.start()
        except UI_BOUNDARY as exc:
            if session is not None:
                session.close()
            self.post_message(self.Opened(name, None, exc))
            return
        self.post_message(self.Opened(name, Connection(config, song, session, binding)))

    def _listen(self, name: str, session: SurfaceSession, binding: SheetBinding) -> None:
        """Every event of the surface as a line, posted to the view from the surface's threads."""
        post = self.post_message

        def edit(e: SlotEdit) -> None:
            if e.source == "fader" and not e.final:
                verb = "moving"
            else:
                verb = {"fader": "fader", "vpot": f"V-pot {e.delta:+d}", "button": "button"}[e.source]
            post(self.Event(name, f"{verb} · {e.slot.device} {e.slot.parameter}"))

        def confirm(e: SlotConfirm) -> None:
            post(self.Event(name, f"[green]confirmed[/] {e.slot.device} {e.slot.parameter} = {e.slot.value_text}"))

        def status(e: SurfaceStatus) -> None:
            colour = "green" if e.online else "b red"
            post(self.Event(name, f"[{colour}]{e.unit_name}: {e.reason}[/]"))

        def problem(e: SurfaceProblem) -> None:
            post(self.Event(name, f"[yellow]{e.unit_name}: {e.detail}[/]"))

        def change(c: SheetChange) -> None:
            post(self.Event(name, f"sheet: {c.device} {c.parameter} = {c.value}"))

        def error(text: str) -> None:
            post(self.Event(name, f"[b red]{text}[/]"))

        session.on_edit(edit)
        session.on_confirm(confirm)
        session.on_status(status)
        session.on_problem(problem)
        binding.on_change(change)
        binding.on_error(error)

    @on(Opened)
    def _opened(self, event: Opened) -> None:
        self.busy.discard(event.name)
        if event.connection is not None:
            self.connections[event.name] = event.connection
        self.reload()  # after the connection is known, so its row says online at once
        if event.connection is None:
            self._status(f"[b red]{event.name}: {one_line(event.error or RuntimeError('not opened'))}[/]")
        else:
            self._status(f"{event.name} shows {event.connection.song}: "
                         f"{len(event.connection.binding.slots)} controls · [ ] bank · d disconnect")
            for line in event.connection.binding.errors:
                self._log(event.name, f"[b red]{line}[/]")

    def action_disconnect(self) -> None:
        name = self.selected()
        connection = self.connections.pop(name, None) if name else None
        if connection is None:
            self._status("the selected surface is not connected")
            return
        self.busy.add(connection.config.name)
        self._status(f"closing {connection.config.name} (saving its edits)…")
        self._close(connection)

    @work(thread=True, group="surfaces")
    def _close(self, connection: Connection) -> None:
        try:
            connection.close()
        except UI_BOUNDARY as exc:
            self.post_message(self.Closed(connection.config.name, exc))
            return
        self.post_message(self.Closed(connection.config.name))

    @on(Closed)
    def _closed(self, event: Closed) -> None:
        self.busy.discard(event.name)
        self.reload()
        if event.error is not None:
            self._status(f"[b red]{event.name}: {one_line(event.error)}[/]")
        else:
            self._status(f"{event.name} disconnected; its edits are saved")

    def action_bank(self, direction: int) -> None:
        connection = self.shown()
        if connection is None:
            self._status("no surface connected")
            return
        if direction < 0:
            connection.session.bank_left()
        else:
            connection.session.bank_right()
        self._refresh_live()

    def action_reload(self) -> None:
        try:
            self.app.session.reload_studio()
        except UI_BOUNDARY as exc:
            self._status(f"[b red]{one_line(exc)}[/]")
            return
        self.reload()

    # -- live drawing -----------------------------------------------------------------------
    @on(Event)
    def _event(self, event: Event) -> None:
        self._log(event.name, event.text)

    def _log(self, name: str, text: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {name}: {text}"
        self.events.append(line)
        self.query_one("#surface-events", RichLog).write(line)

    def _refresh_live(self) -> None:
        table = self.query_one("#surfaces-table", DataTable)
        for name, config in self.configs().items():
            if name in table.rows:
                for column, value in zip(("state", "song", "bank"), self._row(name, config)[3:], strict=True):
                    table.update_cell(name, column, value, update_width=True)
        self._draw_strips(self.shown())

    def _draw_strips(self, connection: Connection | None) -> None:
        strips = self.query_one("#surface-strips", DataTable)
        pending = self.query_one("#surface-pending", Static)
        rows: list[tuple[Any, ...]] = []
        if connection is not None:
            held = connection.session.touched_strips
            for strip, (_index, slot) in enumerate(connection.session.visible()):
                if slot is None:
                    rows.append((str(strip + 1), "", "", "", "", ""))
                    continue
                target = ""
                if slot.target:
                    target = "[green]✓ confirmed[/]" if slot.confirmed else "[b yellow]set by hand[/]"
                rows.append((str(strip + 1), slot.device, slot.parameter, f"[b]{slot.value_text}[/b]",
                             "[b reverse] held [/]" if strip in held else "", target))
            waiting = connection.binding.pending_steps()
            pending.update("\n".join(f"{s.device} · {s.label}: [b]{s.setting}[/b]" for s in waiting[:12])
                           + (f"\n… {len(waiting) - 12} more" if len(waiting) > 12 else "")
                           if waiting else "[green]nothing waiting[/]")
        else:
            pending.update("no surface connected")
        if strips.row_count != len(rows):
            strips.clear()
            for i, row in enumerate(rows):
                strips.add_row(*row, key=f"strip-{i}")
            return
        for i, row in enumerate(rows):
            if tuple(strips.get_row_at(i)) != row:
                for column, value in zip(("strip", "device", "param", "value", "hand", "target"), row, strict=True):
                    strips.update_cell(f"strip-{i}", column, value, update_width=True)

    def _status(self, text: str) -> None:
        self.query_one("#surfaces-status", Static).update(text)
        self.refresh_bindings()   # the state that the status tells of decides the footer's keys
