"""Sheet: every device of the song as a panel of controls; notes, insert chains, history, diff.

Edits (nudges and typed values) are validated by the device profile and collected in
the open sheet; ctrl+s saves it through recall (checked against the studio, the old
text kept in history). The diff pane compares the sheet with an earlier version or
with what the gear reports now (read in a worker, the UI keeps running).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.errors import UI_BOUNDARY, one_line
from tui.widgets.panel import DevicePanel, ParamRow



class ValueEditor(ModalScreen[Any]):
    """Type a value for one control; refused with the profile's reason until it is legal."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, row: ParamRow, parse) -> None:
        super().__init__()
        self.row = row
        self.parse = parse

    def compose(self) -> ComposeResult:
        param = self.row.param
        if param.kind == "continuous":
            hint = f"{param.format(param.minimum)} .. {param.format(param.maximum)}"
        elif param.kind == "stepped":
            hint = "one of " + ", ".join(param.labels)
        else:
            hint = " or ".join(param.labels or ["off", "on"])
        with Vertical(id="editor"):
            yield Label(f"[b]{self.row.device}[/b] · {param.label}", id="editor-title")
            yield Label(f"range: {hint}", id="editor-hint")
            current = param.format(self.row.value) if self.row.value is not None else ""
            yield Input(value=current, id="editor-input", select_on_focus=True)
            yield Label("enter to set, escape to cancel", id="editor-error")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            value = self.parse(self.row.device, self.row.param.name, event.value)
        except UI_BOUNDARY as exc:
            self.query_one("#editor-error", Label).update(f"[b red]{getattr(exc, 'reason', exc)}[/]")
            return
        self.dismiss(value)


class NotesEditor(ModalScreen[str | None]):
    """Edit the song's notes (one line; the sheet keeps multi-line notes written by hand)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, notes: str) -> None:
        super().__init__()
        self.notes = notes

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            yield Label("[b]Song notes[/b]")
            yield Input(value=self.notes, id="notes-input")
            yield Label("enter to keep, escape to cancel")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class SongPicker(ModalScreen[str | None]):
    """Pick the song whose settings a sheet starts from."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, target: str, songs: list[tuple[str, str]]) -> None:
        super().__init__()
        self.target = target
        self.songs = songs

    def compose(self) -> ComposeResult:
        with Vertical(id="editor"):
            yield Label(f"Start [b]{self.target}[/b] from the settings of", id="editor-title")
            yield OptionList(*[Option(title, id=slug) for slug, title in self.songs], id="song-pick")
            yield Label("devices, insert chains and \\[mix] of the stems both have, the checklist; "
                        "enter to take them, escape to cancel")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class SheetView(Vertical):
    """The open song's recall sheet."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save"),
        Binding("n", "edit_notes", "Notes"),
        Binding("h", "focus_history", "History"),
        Binding("d", "diff_selected", "Diff version"),
        Binding("g", "diff_gear", "Diff gear"),
        Binding("ctrl+z", "revert", "Revert"),
        Binding("t", "from_song", "From song"),
    ]
    PALETTE = (("Start this sheet from another song's settings", "from_song"), ("Save the sheet", "save"), ("Diff the sheet against the gear now", "diff_gear"))

    @dataclass
    class GearDiff(Message):
        """The gear was read; ``lines`` (or ``error``) for the diff pane."""

        slug: str
        lines: list[str]
        error: BaseException | None = None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.slug: str | None = None
        self.sheet = None
        self.dirty = False

    def compose(self) -> ComposeResult:
        yield Static("Sheet", classes="view-title", id="sheet-title")
        with Horizontal():
            yield VerticalScroll(id="panels")
            with Vertical(id="sheet-side"):
                yield Static(id="song-notes", classes="side-box")
                yield Static(id="inserts", classes="side-box")
                yield Label("History (enter or d: diff against the sheet now)", classes="side-label")
                yield OptionList(id="history")
                yield Static(id="diff", classes="side-box")

    def action_from_song(self) -> None:
        if not self.slug or self.sheet is None:
            self.app.notify("open a song first (Songs: enter)", severity="warning")
            return
        if self.dirty:
            self.app.notify("this sheet has unsaved edits: ctrl+s or ctrl+z first", severity="warning")
            return
        songs = [(s.slug, s.title) for s in self.app.session.known_songs() if s.slug != self.slug and s.ok]
        if not songs:
            self.app.notify("no other song to start from", severity="warning")
            return
        target = self.slug
        self.app.push_screen(SongPicker(self.sheet.title, songs), lambda source: self._copy_from(source, target))

    def _copy_from(self, source: str | None, target: str) -> None:
        if source is None or target != self.slug:
            return
        try:
            self.app.session.copy_from(source, target)
        except UI_BOUNDARY as exc:
            self.app.notify(one_line(exc), severity="error")
            return
        self.sheet = None
        self.load()
        self.app.notify(f"{target}: settings, insert chains and \\[mix] taken from {source} (the old sheet is in history)")

    def focus_default(self) -> None:
        rows = list(self.query(ParamRow))
        if rows:
            rows[0].focus()
        elif self.sheet is not None and not self.sheet.used_devices():
            # a sheet with no units yet: its history list, so the view's keys (t) work
            self.query_one("#history", OptionList).focus()

    def view_shown(self) -> None:
        if self.slug and self.sheet is None:
            self.load()

    def song_changed(self, slug: str | None) -> None:
        if slug == self.slug:
            return
        if self.dirty and self.slug:
            self.app.notify(f"unsaved edits to {self.slug} were left; reopen it and press ctrl+s next time",
                            severity="warning")
        self.slug = slug
        self.sheet = None
        self.dirty = False
        self.load()

    def load(self) -> None:
        panels = self.query_one("#panels", VerticalScroll)
        panels.remove_children()
        if not self.slug:
            self.query_one("#sheet-title", Static).update("Sheet: open a song on Songs (1)")
            return
        session = self.app.session
        try:
            self.sheet = session.sheet(self.slug)
        except UI_BOUNDARY as exc:
            self.query_one("#sheet-title", Static).update(f"[b red]{one_line(exc)}[/]")
            self.sheet = None
            return
        self.dirty = False
        sheet = self.sheet
        self._title()
        studio = session.studio
        new_panels = []
        for name in sheet.used_devices():
            entry = studio.devices.get(name)
            if entry is None:
                new_panels.append(Static(f"[b red]{name}: not a device of this studio[/]"))
                continue
            how = "machine-set" if entry.machine_settable else "hand-set"
            if entry.machine_settable:
                how += f" · {entry.profile.transport}"
                if entry.effective_channel is not None:
                    how += f" ch{entry.channel}"
            new_panels.append(DevicePanel(name, entry.profile, self._values(name),
                                          how=how, notes=sheet.device_notes(name)))
        panels.mount_all(new_panels)
        self._side()

    def _values(self, device: str) -> dict[str, Any]:
        profile = self.app.session.studio.devices[device].profile
        out = {}
        for pname, raw in self.sheet.values(device).items():
            param = profile.parameters.get(pname)
            if param is None:
                continue
            try:
                out[pname] = param.parse(raw)
            except ValueError:  # ProfileError is a ValueError: a value the profile refuses
                out[pname] = None
        return out

    def _title(self) -> None:
        sheet = self.sheet
        mark = "  [b magenta]● unsaved (ctrl+s)[/]" if self.dirty else ""
        self.query_one("#sheet-title", Static).update(
            f"[b]{sheet.title}[/b] · {sheet.artist} · {sheet.album} · {sheet.samplerate} Hz · "
            f"stage [b]{sheet.stage}[/b]{mark}")

    def _side(self) -> None:
        sheet = self.sheet
        self.query_one("#song-notes", Static).update(
            f"[b]Notes[/b] (n to edit)\n{sheet.notes or '[dim]none[/dim]'}")
        lines = ["[b]Insert chains[/b]"]
        for track in sheet.tracks:
            if track.inserts:
                chain = " → ".join(f"[b]{i.loop}[/b] {' › '.join(i.devices)}" for i in track.inserts)
                lines.append(f"{track.name}: {chain}")
            else:
                lines.append(f"[dim]{track.name}: dry[/dim]")
        self.query_one("#inserts", Static).update("\n".join(lines))
        history = self.query_one("#history", OptionList)
        history.clear_options()
        versions = self.app.session.history(self.slug)
        for version in reversed(versions):
            history.add_option(Option(f"{version.number:3d}  {version.saved_at or version.name}",
                                      id=str(version.number)))
        if not versions:
            history.add_option(Option("no earlier versions yet", id="none", disabled=True))
        self.query_one("#diff", Static).update("[b]Diff[/b]\n[dim]d: against a version · g: against the gear[/dim]")

    # -- edits ----------------------------------------------------------------------------

    @on(ParamRow.Changed)
    def _changed(self, event: ParamRow.Changed) -> None:
        event.stop()
        if self.sheet is None:
            return
        self.sheet.set_value(event.device, event.param, event.value)
        self.dirty = True
        self._title()

    @on(ParamRow.EditRequested)
    def _edit(self, event: ParamRow.EditRequested) -> None:
        event.stop()
        row = event.row

        def done(value: Any) -> None:
            if value is None:
                return
            param = row.param
            shown = param.parse(value) if param.kind != "switch" else bool(value)
            row.set_value(shown)
            row.post_message(ParamRow.Changed(row, row.device, param.name, value))

        self.app.push_screen(ValueEditor(row, self.app.session.parse_value), done)

    def action_save(self) -> None:
        if self.sheet is None or not self.slug:
            return
        try:
            changed = self.app.session.save_sheet(self.slug, self.sheet)
        except UI_BOUNDARY as exc:
            self.app.report_error(exc, doing=f"saving {self.slug}")
            return
        merged = list(self.sheet.merged_from_disk)
        if merged:  # the file was edited elsewhere since it was opened: show the merge
            self.load()
            self.app.notify("saved, with changes made elsewhere since it was opened: " + ", ".join(merged[:4])
                            + (f" and {len(merged) - 4} more" if len(merged) > 4 else ""), title=self.sheet.title
                            if self.sheet else self.slug)
            return
        self.dirty = False
        for row in self.query(ParamRow):
            row.changed = False
            row.refresh()
        self._title()
        self._side()
        self.app.notify("saved" if changed else "nothing changed", title=self.sheet.title)

    def action_revert(self) -> None:
        if self.slug:
            self.load()
            self.app.notify("edits dropped; the sheet as saved", title=self.slug)

    def action_edit_notes(self) -> None:
        if self.sheet is None:
            return

        def done(notes: str | None) -> None:
            if notes is None or notes == self.sheet.notes:
                return
            self.sheet.set_song(notes=notes)
            self.dirty = True
            self._title()
            self._side()

        self.app.push_screen(NotesEditor(self.sheet.notes), done)

    # -- history and diff -----------------------------------------------------------------

    def action_focus_history(self) -> None:
        self.query_one("#history", OptionList).focus()

    @on(OptionList.OptionSelected, "#history")
    def _history_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._show_version_diff(event.option.id)

    def action_diff_selected(self) -> None:
        history = self.query_one("#history", OptionList)
        if history.highlighted is None:
            history.highlighted = 0
        option = history.get_option_at_index(history.highlighted) if history.option_count else None
        if option is not None and option.id != "none":
            self._show_version_diff(option.id)
        else:
            self.app.notify("no earlier version to compare with", severity="warning")

    def _show_version_diff(self, ref: str | None) -> None:
        if not self.slug or ref in (None, "none"):
            return
        try:
            changes = self.app.session.diff_version(self.slug, ref)
        except UI_BOUNDARY as exc:
            self.app.report_error(exc, doing="diff")
            return
        self._show_diff(f"version {ref} → sheet now", [str(c) for c in changes])

    def _show_diff(self, title: str, lines: list[str]) -> None:
        text = Text(f"Diff: {title}\n", style="bold")
        if not lines:
            text.append("no differences", style="bold green")
        for line in lines:
            style = {"+": "green", "-": "red", "~": "yellow"}.get(line[:1], "")
            text.append(line + "\n", style=style)
        self.query_one("#diff", Static).update(text)

    def action_diff_gear(self) -> None:
        if not self.slug:
            return
        self.query_one("#diff", Static).update("[b]Diff: sheet → gear now[/b]\nreading the gear…")
        self._read_gear(self.slug)

    @work(thread=True, exclusive=True, group="gear-diff")
    def _read_gear(self, slug: str) -> None:
        try:
            changes = self.app.session.diff_gear(slug)
        except UI_BOUNDARY as exc:
            self.post_message(self.GearDiff(slug, [], exc))
            return
        self.post_message(self.GearDiff(slug, [str(c) for c in changes]))

    @on(GearDiff)
    def _gear_diff(self, event: GearDiff) -> None:
        if event.error is not None:
            self.query_one("#diff", Static).update(f"[b]Diff: sheet → gear now[/b]\n[b red]{one_line(event.error)}[/]")
            return
        self._show_diff("sheet → gear now", event.lines)
