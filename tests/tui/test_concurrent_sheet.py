"""The Sheet view when the sheet is saved in an editor (another process) while it is open:
ctrl+s merges and shows the other writer's change, or refuses naming the key, never
overwriting it."""

from __future__ import annotations

import subprocess
import sys

from textual.widgets import Static

from recall import store
from tui.widgets.panel import ParamRow

from tests.tui.conftest import SIZE, make_app

EDITOR = r"""
import sys
from pathlib import Path
path, old, new = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
text = path.read_text(encoding="utf-8")
assert old in text, old
path.write_text(text.replace(old, new, 1), encoding="utf-8")
"""


def editor_saves(path, old: str, new: str) -> None:
    out = subprocess.run([sys.executable, "-c", EDITOR, str(path), old, new], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr


async def _nudge_threshold(app, pilot) -> ParamRow:
    app.open_song("night-drive")
    await pilot.pause()
    row = next(r for r in app.query(ParamRow) if (r.device, r.param.name) == ("VCA Comp", "threshold"))
    assert row.value == -18.0
    row.focus()
    await pilot.press("right")
    assert row.value == -17.0
    return row


async def test_save_merges_an_edit_made_in_an_editor_and_shows_it(studio):
    path = store.sheet_path(studio, "night-drive")
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await _nudge_threshold(app, pilot)
        editor_saves(path, "decay = 1.8", "decay = 2.4")
        await pilot.press("ctrl+s")
        await pilot.pause()
        sheet = store.load_sheet(studio, "night-drive")
        assert sheet.values("VCA Comp")["threshold"] == -17.0 and sheet.values("Plate")["decay"] == 2.4
        assert app.errors == []
        rows = {(r.device, r.param.name): r for r in app.query(ParamRow)}
        assert rows[("Plate", "decay")].value == 2.4   # the view shows the merge, not its stale copy
        assert "unsaved" not in str(app.query_one("#sheet-title", Static).render())


async def test_save_refuses_when_the_editor_changed_the_same_value(studio):
    path = store.sheet_path(studio, "night-drive")
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await _nudge_threshold(app, pilot)
        editor_saves(path, "threshold = -18.0", "threshold = -30.0")
        on_disk = path.read_text()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert path.read_text() == on_disk
        assert len(app.errors) == 1
        assert 'devices."VCA Comp".values.threshold' in app.errors[0] and "-30.0" in app.errors[0] \
            and "-17.0" in app.errors[0]
        assert "unsaved" in str(app.query_one("#sheet-title", Static).render())
