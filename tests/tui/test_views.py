"""Pilot tests of each view on the demo studio, without gear: songs, sheet editing, history, palette."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static, TabbedContent

from recall import store
from tui.views.sheet import SheetView, ValueEditor
from tui.widgets.panel import DevicePanel, ParamRow

from tests.tui.conftest import SIZE, make_app, offered, settle


def _text(widget) -> str:
    return str(widget.render())


async def test_songs_by_album_and_open_one(studio):
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.query_one("#songs-table", DataTable)
        assert table.row_count == 3
        titles = [str(table.get_row_at(i)[1]) for i in range(3)]
        assert titles == ["[b]Glass Harbour[/b]", "[b]Night Drive[/b]", "[b]Paper Moons[/b]"]
        assert str(table.get_row_at(0)[0]) == "Night Shift EP"  # album shown once, on its first song
        assert [str(table.get_row_at(i)[3]) for i in range(3)] == ["fundamentals", "vocals", "review"]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.song == "night-drive"
        assert app.query_one("#views", TabbedContent).active == "sheet"
        panels = [p.device_name for p in app.query(DevicePanel)]
        assert panels == ["VCA Comp", "Tape Sat", "Plate", "Channel EQ", "Pultec"]
        assert "Night Drive" in _text(app.query_one("#sheet-title", Static))


async def test_edit_a_value_validate_save_and_diff(studio):
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        app.open_song("night-drive")
        await pilot.pause()
        row = app.query(ParamRow).first()
        assert (row.device, row.param.name, row.value) == ("VCA Comp", "threshold", -18.0)
        row.focus()
        await pilot.press("right")
        assert row.value == -17.0 and row.changed
        assert "unsaved" in _text(app.query_one("#sheet-title", Static))
        await pilot.press("enter")
        assert isinstance(app.screen, ValueEditor)
        editor_input = app.screen.query_one(Input)
        editor_input.value = "-99"
        await pilot.press("enter")
        assert isinstance(app.screen, ValueEditor)  # refused, the editor stays with the reason
        assert "out of range" in _text(app.screen.query_one("#editor-error"))
        editor_input.value = "-24 dB"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ValueEditor)
        assert row.value == -24.0
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert store.load_sheet(studio, "night-drive").values("VCA Comp")["threshold"] == -24.0
        assert len(store.history(studio, "night-drive")) == 1
        view = app.query_one(SheetView)
        assert "unsaved" not in _text(app.query_one("#sheet-title", Static))
        view.action_diff_selected()
        await pilot.pause()
        diff = _text(app.query_one("#diff", Static))
        assert "threshold" in diff and "-18" in diff and "-24" in diff


async def test_stepped_and_switch_controls_nudge_by_detent(studio):
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        app.open_song("night-drive")
        await pilot.pause()
        rows = {(r.device, r.param.name): r for r in app.query(ParamRow)}
        ratio = rows[("VCA Comp", "ratio")]
        ratio.focus()
        await pilot.press("right", "right")
        assert ratio.value == "12:1"
        bypass = rows[("VCA Comp", "bypass")]
        bypass.focus()
        await pilot.press("left")
        assert bypass.value is True
        pultec = rows[("Pultec", "low_boost")]
        pultec.focus()
        await pilot.press("left")
        assert pultec.value == "3"
        await pilot.press("ctrl+z")  # revert: the sheet as saved
        await pilot.pause()
        fresh = {(r.device, r.param.name): r.value for r in app.query(ParamRow)}
        assert fresh[("VCA Comp", "ratio")] == "4:1" and fresh[("Pultec", "low_boost")] == "4"


async def test_command_palette_opens_a_song(studio):
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Paper Moons")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.song == "paper-moons"


async def test_a_broken_sheet_is_a_readable_row_not_a_crash(studio):
    (studio / "songs" / "paper-moons" / "sheet.toml").write_text("spec = 'hybrid-sheet/1'\n[song\n")
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        table = app.query_one("#songs-table", DataTable)
        stages = [str(table.get_row_at(i)[3]) for i in range(table.row_count)]
        assert any("broken sheet" in s for s in stages)
        assert "broken" in _text(app.query_one("#songs-status", Static))
        app.open_song("paper-moons")
        await settle(app, pilot)
        assert "sheet.toml" in _text(app.query_one("#sheet-title", Static))
        assert app.is_running


async def test_views_switch_by_number_keys(studio):
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        tabs = app.query_one("#views", TabbedContent)
        for key, view in zip("234561", ("sheet", "recall", "devices", "loops", "print", "songs"), strict=False):
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == view
        await settle(app, pilot)
        assert app.errors == []


async def test_a_new_song_starts_from_another_songs_settings_by_keys(studio):
    """Sheet ``t``: pick a song; its device settings and the chains of the stems both have come over,
    the new song's own tracks stay, the old text goes to history."""
    from textual.widgets import OptionList

    from tui.views.sheet import SongPicker

    store.create_song(studio, "Late Train", samplerate=48000,
                      tracks={"1Kick": "stems/1Kick.wav", "5Vox": "stems/5Vox.wav", "9Claps": "stems/9Claps.wav"})
    template = store.load_sheet(studio, "night-drive")
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_song("late-train")
        await pilot.pause()
        assert list(app.query(DevicePanel)) == []
        assert "From song" in offered(app)          # a sheet with no units yet still offers its keys
        await pilot.press("t")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, SongPicker)
        options = picker.query_one(OptionList)
        slugs = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert "late-train" not in slugs and "night-drive" in slugs
        options.highlighted = slugs.index("night-drive")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, SongPicker)
        assert [p.device_name for p in app.query(DevicePanel)]          # the template's units, shown
    sheet = store.load_sheet(studio, "late-train")
    chains = {t.name: t.inserts for t in sheet.tracks}
    wanted = {t.name: t.inserts for t in template.tracks}
    assert set(chains) == {"1Kick", "5Vox", "9Claps"}
    assert chains["1Kick"] == wanted["1Kick"] and chains["5Vox"] == wanted["5Vox"] and chains["9Claps"] == []
    assert sheet.all_values() == template.all_values()
    assert len(store.history(studio, "late-train")) == 1
    assert app.errors == []
