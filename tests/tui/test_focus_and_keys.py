"""Focus follows the view that is shown, and every key the footer offers does what it says.

Issue 15: after a recall with a walk-through pending, switching to Print (6) left the
focus behind (``p`` did nothing, the footer showed only Quit); ``p`` on Songs opened
Print without printing. Real gear (the demo rig on JACK) where a key starts work.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static, TabbedContent

from tests.tui.conftest import SIZE, make_app, settle
from tui.views import VIEWS
from tui.views.printing import PrintView
from tui.views.recall import WalkBox

SONG = "night-drive"


def footer(app) -> dict[str, tuple[object, str]]:
    """What the footer offers now: key -> (the node whose action it runs, the action)."""
    return {key: (active.node, active.binding.action) for key, active in app.screen.active_bindings.items()
            if active.binding.show and active.enabled}


def labels(app) -> set[str]:
    return {active.binding.description for active in app.screen.active_bindings.values()
            if active.binding.show and active.enabled}


def _inside(app, view_id: str) -> bool:
    return app.focused is not None and app.view(view_id) in app.focused.ancestors_with_self


async def _printing_started(app, pilot, view: PrintView) -> None:
    for _ in range(200):             # the worker starts the child print process
        if view.latest is not None or view.report is not None:
            return
        await pilot.pause(0.05)
    raise AssertionError("the print never reported progress")


def _leftovers(prints) -> list[str]:
    """Temp files a print writes before it renames them into place."""
    return sorted(p.name for p in prints.iterdir() if p.name.startswith(".") and p.is_file()) if prints.is_dir() else []


async def test_focus_follows_print_after_a_recall_with_a_walk_through_pending(rig, rig_studio):
    prints = rig_studio / "songs" / SONG / "prints"
    before = {p.name for p in prints.glob("*.wav")} if prints.is_dir() else set()
    app = make_app(rig_studio)                 # no stand-in at the rack: the walk-through waits for a person
    async with app.run_test(size=SIZE) as pilot:
        app.open_song(SONG, view="recall")
        await pilot.pause()
        await pilot.press("a")
        await settle(app, pilot)
        assert isinstance(app.focused, WalkBox)         # the walk-through is pending and has the keys
        await pilot.press("6")
        await pilot.pause()
        await pilot.pause()
        assert app.query_one("#views", TabbedContent).active == "print"
        assert _inside(app, "print"), app.focused
        assert {"Print", "Plan", "Quit"} <= labels(app) and "Stop print" not in labels(app)
        view = app.query_one(PrintView)
        await pilot.press("p")                          # p prints, as the footer says
        await _printing_started(app, pilot, view)
        assert view.printing and "Stop print" in labels(app) and "Print" not in labels(app)
        await pilot.press("s")                          # and the footer's Stop print stops it
        await settle(app, pilot)
        assert not view.printing and view.report is not None
        assert view.report.cancelled, view.report
        status = str(app.query_one("#print-status", Static).render())
        assert "print stopped" in status and "files kept" in status
        assert _leftovers(prints) == []                 # nothing half-written, under any name
        after = {p.name for p in prints.glob("*.wav")}
        assert after - before <= {Path(k).name for k in view.report.kept}   # new files: only those kept
        assert {"Print", "Plan"} <= labels(app)
        assert app.errors == []


async def test_p_on_songs_opens_print_and_prints(rig, rig_studio):
    app = make_app(rig_studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.query_one("#songs-table", DataTable)
        table.move_cursor(row=table.get_row_index(SONG))
        assert "Print" in labels(app)
        await pilot.press("p")
        await pilot.pause()
        view = app.query_one(PrintView)
        assert app.query_one("#views", TabbedContent).active == "print"
        assert view.slug == SONG and view.printing
        await _printing_started(app, pilot, view)
        await pilot.pause()
        assert _inside(app, "print") and "Stop print" in labels(app)
        await pilot.press("s")
        await settle(app, pilot)
        assert view.report is not None and view.report.cancelled
        assert app.errors == []


async def test_every_view_offers_its_own_keys_and_each_runs_an_action(studio):
    """On every registered view, once shown, the focus is inside it, the footer lists its keys
    (not only the app's), and each offered key names an action its node has."""
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_song(SONG, view="songs")
        await settle(app, pilot)
        for spec in VIEWS:
            app.action_show(spec.id)      # what its number key does (a focused Input would take the digit)
            await pilot.pause()
            await pilot.pause()
            assert _inside(app, spec.id), (spec.id, app.focused)
            offered = footer(app)
            own = [key for key, (node, _) in offered.items() if node is not app and node is not app.screen]
            assert own, f"{spec.id}: the footer lists only the app's keys"
            for key, (node, action) in offered.items():
                name = action.split("(")[0]
                assert callable(getattr(node, f"action_{name}", None)), f"{spec.id}: {key} -> {action} on {node}"
        assert app.errors == []
