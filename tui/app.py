"""The control-room app: one studio, the views of ``tui.views.VIEWS`` (Songs, Sheet, Recall, Devices, Loops,
Print, Mix, Intake, Surfaces, Album: digits 1-9 and 0, or F1-F10).

Keyboard first: the digits 1-9 and 0 (or F1-F10) switch views, every view lists its keys in
the footer, and ctrl+p opens the command palette (open a song, apply, measure, print).
The mouse works everywhere (tabs, rows, buttons). Focus follows the view that is shown
(a key, a click on a tab, the palette): the footer always lists the shown view's keys,
and they work.

All hardware and audio work goes through :class:`hybrid.app.session.StudioSession` in
thread workers that report back only by messages, so the UI never freezes; errors from
any layer's exception root are shown as one readable line (a notification and the
status line), never as a traceback.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from collections.abc import Iterator

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane, Tabs

from hybrid.app.session import StudioSession
from recall.paths import StudioPaths
from tui.commands import HybridCommands
from tui.errors import one_line
from tui.views import VIEWS
from tui.views.songs import SongsView

AUDIO_SWITCH_INTERVAL_S = 0.0005


def view_key(index: int) -> str:
    """The digit that shows the ``index``-th view (1-based): 1..9, then 0 for the tenth."""
    return str(index % 10)


class HybridApp(App[int]):
    """The control-room UI on one studio folder."""

    CSS_PATH = Path(__file__).parent / "styles" / "app.tcss"
    TITLE = "hybrid"
    COMMANDS = App.COMMANDS | {HybridCommands}
    BINDINGS = [
        *(Binding(view_key(i), f"show('{view.id}')", view.label, key_display=view_key(i), show=False)
          for i, view in enumerate(VIEWS, start=1) if i <= 10),
        *(Binding(f"f{i}", f"show('{view.id}')", view.label, show=False)
          for i, view in enumerate(VIEWS, start=1)),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True),  # the footer shows it on its right
    ]

    song: reactive[str | None] = reactive(None)
    """The slug of the song every view works on (chosen on the Songs view)."""

    def __init__(self, studio_dir: str | Path, *, rig_label: str | None = None,
                 session: StudioSession | None = None, clock: bool = True) -> None:
        super().__init__()
        self.clock = clock
        self.session = session or StudioSession(studio_dir)
        self.rig_label = rig_label
        self._switch_interval = sys.getswitchinterval()
        self._wanted_view = "songs"
        self._view_focus: dict[str, Any] = {}
        self.errors: list[str] = []
        """Every error line shown, oldest first."""
        self.sub_title = self.session.studio_name

    def compose(self) -> ComposeResult:
        yield Header(show_clock=self.clock)
        yield Static(id="context")
        with TabbedContent(id="views"):
            for index, view in enumerate(VIEWS, start=1):
                with TabPane(f"{view_key(index)} {view.label}", id=view.id):
                    yield view.cls(id=f"{view.id}-view")
        yield Footer()

    def on_mount(self) -> None:
        # Audio callbacks (PortAudio's, in this process) need the GIL within a JACK period
        # (5 ms at 256 frames); Python hands it over every 5 ms by default, so a repaint
        # could starve them into xruns. Hand it over more often while the UI runs.
        sys.setswitchinterval(AUDIO_SWITCH_INTERVAL_S)
        self.refresh_context()
        self.query_one(SongsView).focus_table()

    def on_unmount(self) -> None:
        sys.setswitchinterval(self._switch_interval)

    # -- the current song -----------------------------------------------------------------

    def open_song(self, slug: str, *, view: str = "sheet") -> None:
        """Make ``slug`` the current song and show ``view`` for it."""
        self.song = slug
        self.action_show(view)

    def watch_song(self, slug: str | None) -> None:
        self.refresh_context()
        for spec in VIEWS:
            for view in self.query(spec.cls):
                view.song_changed(slug)

    def refresh_context(self) -> None:
        context = self.query("#context")
        if not context:
            return
        parts = [f"[b]{self.session.studio_name}[/b]"]
        if self.song:
            summary = self.session.song_summary(self.song)
            parts.append(f"song [b reverse] {summary.title} [/] {summary.album or ''}"
                         f"  stage [b]{summary.stage or '-'}[/b]")
        else:
            parts.append("no song open (Songs: enter)")
        if self.rig_label:
            parts.append(self.rig_label)
        context.first(Static).update("   ".join(parts))

    # -- navigation -----------------------------------------------------------------------

    def view(self, view: str):
        """The widget of a registered view (``tui.views.VIEWS``) by its id."""
        return self.query_one(f"#{view}-view")

    def action_show(self, view: str) -> None:
        tabs = self.query_one("#views", TabbedContent)
        tabs.active = view
        self._wanted_view = view
        # Focus now (a widget focused in a hidden pane brings its pane forward), check again
        # after the refresh, and again when the tab is activated (below).
        self._focus_view(view)

    def _focus_view(self, view: str, tries: int = 3) -> None:
        """Focus the shown view's own widget, so its keys work and the footer lists them.

        Focus is applied later (a message), and a view may have nothing to focus until its
        content arrives: look again after the next refresh (a few times at most).
        """
        if self._wanted_view != view:
            return  # another key switched views meanwhile: focusing this one would switch back
        widget = self.view(view)
        if self.focused is not None and widget in self.focused.ancestors_with_self:
            return  # already there (a row the user picked stays picked)
        last = self._view_focus.get(view)
        if last is not None and last.is_attached and last.focusable:
            last.focus()   # back where the user was in this view
        elif (focus := getattr(widget, "focus_default", None)) is not None:
            focus()
        focused = self.focused
        if (focused is None or widget not in focused.ancestors_with_self) and tries > 0:
            self.call_after_refresh(self._focus_view, view, tries - 1)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Remember what was focused in each view, to return there when it is shown again."""
        for spec in VIEWS:
            if self.view(spec.id) in event.widget.ancestors_with_self:
                self._view_focus[spec.id] = event.widget
                return

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        view_id = event.pane.id
        view = self.view(view_id)
        refresh = getattr(view, "view_shown", None)
        if refresh is not None:
            refresh()
        tabs = self.query_one("#views", TabbedContent)
        if isinstance(self.focused, Tabs):
            self._wanted_view = view_id  # a click on a tab (it takes the focus): show it like its key
        elif view_id != self._wanted_view and tabs.active == view_id:
            # Not asked for: the tab bar's own first activation landing after a view was
            # already chosen (a song opened at start). The view asked for stays.
            tabs.active = self._wanted_view
            return
        self.call_after_refresh(self._focus_view, self._wanted_view)

    def run_view_action(self, view: str, action: str) -> None:
        """Show ``view`` and run one of its actions (from the command palette)."""
        self.action_show(view)
        getattr(self.view(view), f"action_{action}")()

    # -- errors ---------------------------------------------------------------------------

    def report_error(self, exc: BaseException, *, doing: str) -> None:
        """Show an error from any layer as one readable line (and remember it for tests and the log)."""
        line = f"{doing}: {one_line(exc)}"
        self.errors.append(line)
        self.notify(line, title="Error", severity="error", timeout=10)


def run(studio_dir: str | Path, *, rig_label: str | None = None, hands: Any = None) -> int:
    """Run the app on ``studio_dir`` until the user quits; returns the exit status.

    ``hands`` turns hand-set knobs when a walk-through step is confirmed (the demo rig).
    While the app runs, the process's C-level stderr (libjack, PortAudio and rtmidi print
    there directly) goes to ``STUDIO/.state/tui-stderr.log`` instead of over the screen.
    """
    session = StudioSession(studio_dir)
    session.hands = hands
    app = HybridApp(studio_dir, rig_label=rig_label, session=session)
    with stderr_to(StudioPaths(session.root).state / "tui-stderr.log"):
        result: Any = app.run()
    return int(result or 0)


@contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Send C-level writes to file descriptor 2 to ``path`` while the UI keeps the terminal.

    Textual draws on ``sys.__stderr__``; it gets a duplicate of the terminal's descriptor,
    and descriptor 2 itself points at the log. Both are restored afterwards.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    terminal_fd = os.dup(2)
    terminal = os.fdopen(terminal_fd, "w", buffering=1, encoding=getattr(sys.__stderr__, "encoding", None) or "utf-8")
    saved_dunder, saved_stderr = sys.__stderr__, sys.stderr
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
        sys.__stderr__ = terminal
        sys.stderr = terminal
        try:
            yield
        finally:
            terminal.flush()
            sys.__stderr__, sys.stderr = saved_dunder, saved_stderr
            os.dup2(terminal_fd, 2)
            terminal.close()
