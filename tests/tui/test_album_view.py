"""Pilot tests of the Album view on the demo studio with an album of two masters: the running
order and its checks, editing with the value checked as typed, moving a track, saving, loudness
per track with the curve, building and verifying the DDP, and the approval set from it."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Label, Static

from tests.deliver.studio import music, write_wav
from tests.tui.conftest import make_app, settle
from tui.views.album import AlbumView, FieldEditor
from tui.widgets.loudness_plot import LoudnessPlot

ALBUM = '''title = "Night Shift EP"
performer = "The Examples"
master_id = "NSEP-2026"

[[tracks]]
song = "night-drive"
file = "masters/Night Drive.wav"
isrc = "GBXYZ2600001"

[[tracks]]
song = "glass-harbour"
file = "masters/Glass Harbour.wav"
pregap_s = 0
'''


def _album(studio) -> None:
    folder = studio / "albums" / "night-shift-ep"
    (folder / "masters").mkdir(parents=True)
    (folder / "album.toml").write_text(ALBUM, encoding="utf-8")
    write_wav(folder / "masters/Night Drive.wav", music(6.0, 44100, seed=1, level_db=-12), 44100, "PCM_24")
    write_wav(folder / "masters/Glass Harbour.wav", music(5.0, 44100, seed=2, level_db=-16), 44100, "PCM_24")


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def _status(app) -> str:
    return str(app.query_one("#album-status", Static).render())


async def test_running_order_edit_move_save_measure_build_and_approve(studio):
    _album(studio)
    app = make_app(studio)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(app, pilot)
        app.action_show("album")
        await pilot.pause()
        view = app.query_one(AlbumView)
        tracks = app.query_one("#album-tracks", DataTable)
        rows = _rows(tracks)
        assert [r[1] for r in rows] == ["night-drive", "glass-harbour"]
        assert rows[0][4] == "GBXYZ2600001" and rows[1][5] == "0"
        assert "ready to build" in str(app.query_one("#album-problems", Static).render())
        # edit the second track's ISRC: a bad value is refused as typed, a good one kept
        tracks.focus()
        tracks.move_cursor(row=1)
        await pilot.press("e")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, FieldEditor)
        field = editor.query_one("#field-input", Input)
        field.value = "GB-XYZ-26-1"
        await pilot.pause()
        assert "ISRC" in str(editor.query_one("#field-check", Label).render())
        await pilot.press("enter")           # refused: the editor stays
        assert app.screen is editor
        field.value = "GB-XYZ-26-00002"
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is not editor
        assert _rows(tracks)[1][4] == "GB-XYZ-26-00002" and view.doc.dirty
        # move it to the top: gapless first track breaks the Red Book rule, shown after saving
        await pilot.press("ctrl+up")
        await pilot.pause()
        assert [r[1] for r in _rows(tracks)] == ["glass-harbour", "night-drive"]
        await pilot.press("b")             # not before saving
        assert "save first" in _status(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "saved" in _status(app)
        problems = str(app.query_one("#album-problems", Static).render())
        assert "track 1 needs a pregap of at least 2 s" in problems
        await pilot.press("ctrl+down")     # back in order, saved: the album checks out again
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "ready to build" in str(app.query_one("#album-problems", Static).render())
        # loudness per track and the curve of the selected one
        await pilot.press("l")
        await settle(app, pilot)
        rows = _rows(tracks)
        assert all(r[7] not in ("", "-") for r in rows)
        assert float(rows[0][7]) > float(rows[1][7])      # -12 dB against -16 dB programme
        plot = app.query_one("#album-plot", LoudnessPlot)
        assert plot._short_term and "target -14 LUFS" in plot._caption
        # the CD master and DDP, verified; then the approval set from the image
        await pilot.press("b")
        await settle(app, pilot)
        assert view.busy is None and not _status(app).startswith("building the DDP: "), _status(app)
        assert (studio / "albums/night-shift-ep/deliver/DDP/IMAGE.DAT").is_file()
        await pilot.press("v")
        await settle(app, pilot)
        assert any(line.startswith("DDP verified") for line in view.results)
        await pilot.press("a")
        await settle(app, pilot)
        assert "approval set in" in _status(app)
        assert list((studio / "albums/night-shift-ep/approval").glob("*.zip"))
        assert app.errors == []


async def test_an_album_changed_on_disk_is_not_overwritten(studio):
    _album(studio)
    app = make_app(studio)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.action_show("album")
        await pilot.pause()
        view = app.query_one(AlbumView)
        view.doc.set(None, "title", "Night Shift (deluxe)")
        path = studio / "albums/night-shift-ep/album.toml"
        path.write_text(ALBUM.replace("NSEP-2026", "NSEP-2027"), encoding="utf-8")
        view.focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "changed on disk since it was read" in _status(app)
        assert "NSEP-2027" in path.read_text(encoding="utf-8")


async def test_a_broken_album_lists_every_problem_and_no_albums_says_where_to_write_one(studio):
    app = make_app(studio)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.action_show("album")
        await pilot.pause()
        assert "album.toml" in _status(app) and "no albums yet" in _status(app)
    folder = studio / "albums" / "bad"
    folder.mkdir(parents=True)
    (folder / "album.toml").write_text('title = "Bad"\nupc = "123"\n[[tracks]]\nfile = "missing.wav"\n'
                                       'isrc = "XX"\n', encoding="utf-8")
    app = make_app(studio)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.action_show("album")
        await pilot.pause()
        problems = str(app.query_one("#album-problems", Static).render())
        assert "upc" in problems and "isrc" in problems and "missing.wav" in problems
        assert problems.count("· ") >= 3
        await pilot.press("b")
        await settle(app, pilot)
        assert _status(app).startswith("building the DDP: ") and "upc" in _status(app)
        assert app.errors == []


async def test_a_single_of_the_open_song_is_made_by_keys_its_title_checked_as_typed(studio):
    """Album ``n``: a new album of the open song; a title CD-Text cannot carry is refused as typed."""
    from tui.views.album import SingleEditor

    _album(studio)
    app = make_app(studio)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(app, pilot)
        app.open_song("paper-moons", view="album")
        await pilot.pause()
        view = app.query_one(AlbumView)
        view.focus_default()
        await pilot.press("n")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, SingleEditor)
        assert editor.query_one(Input).value == "Paper Moons"           # the song's title to start from
        editor.query_one(Input).value = "Бумажные луны"
        await pilot.pause()
        assert "ISO 8859-1" in str(editor.query_one("#single-check", Label).render())
        await pilot.press("enter")
        assert app.screen is editor                                     # refused: nothing written
        editor.query_one(Input).value = "Paper Moons (Radio Edit)"
        await pilot.press("enter")
        await pilot.pause()
        assert view.album_name == "paper-moons-radio-edit", _status(app)
        assert [r[1] for r in _rows(app.query_one("#album-tracks", DataTable))] == ["paper-moons"]
        assert "paper-moons-radio-edit" in view.album_names()
    assert sorted(p.name for p in (studio / "albums").iterdir()) == ["night-shift-ep", "paper-moons-radio-edit"]
    assert app.errors == []
