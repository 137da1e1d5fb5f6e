"""The views of the control-room app, registered in one place.

A view is one module here (a widget with ``BINDINGS``, optional ``focus_default()``,
``song_changed(slug)``, ``view_shown()``, and ``PALETTE``: ``(title, action)`` pairs
offered in the command palette) plus one line in :data:`VIEWS`. The app builds its tabs,
number keys (1..9 in this order) and palette entries from this list; nothing else
needs to know a view's name.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.views.album import AlbumView
from tui.views.devices import DevicesView
from tui.views.intake import IntakeView
from tui.views.loops import LoopsView
from tui.views.mix import MixView
from tui.views.printing import PrintView
from tui.views.recall import RecallView
from tui.views.sheet import SheetView
from tui.views.songs import SongsView
from tui.views.surfaces import SurfacesView


@dataclass(frozen=True)
class ViewSpec:
    """A registered view: its id (the tab's, and ``#<id>-view`` for the widget), label and class."""

    id: str
    label: str
    cls: type


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("songs", "Songs", SongsView),
    ViewSpec("sheet", "Sheet", SheetView),
    ViewSpec("recall", "Recall", RecallView),
    ViewSpec("devices", "Devices", DevicesView),
    ViewSpec("loops", "Loops", LoopsView),
    ViewSpec("print", "Print", PrintView),
    ViewSpec("mix", "Mix", MixView),
    ViewSpec("intake", "Intake", IntakeView),
    ViewSpec("surfaces", "Surfaces", SurfacesView),
    ViewSpec("album", "Album", AlbumView),
)
