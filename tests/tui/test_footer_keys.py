"""The footer offers only the keys that work now in the Mix, Album, Intake and Surfaces views, and
their errors are one readable line in the view. No audio here: the keys that print are checked
while they print in test_mix_view and tests/tui_flows/test_whole_flow."""

from __future__ import annotations

from textual.widgets import Static

from tests.intake.helpers import good_stems, make_zip
from tests.tui.conftest import SIZE, make_app, offered, settle
from tests.tui.test_album_view import _album
from tests.tui.test_mix_view import SHEET as MIX_SHEET, STUDIO as MIX_STUDIO
from tests.tui.test_surfaces_view import _add_surface

PLAIN_SHEET = 'spec = "hybrid-sheet/1"\n[song]\ntitle = "Plain"\nsamplerate = 48000\n'


def _text(app, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def one_line(text: str) -> bool:
    return bool(text.strip()) and "\n" not in text.strip() and "Traceback" not in text and "internal error" not in text


async def test_mix_offers_its_keys_only_for_a_song_with_a_mix(tmp_path):
    root = tmp_path / "Mix room"
    for slug, sheet in (("mixed", MIX_SHEET), ("plain", PLAIN_SHEET)):
        (root / "songs" / slug).mkdir(parents=True)
        (root / "songs" / slug / "sheet.toml").write_text(sheet)
    (root / "songs" / "broken").mkdir()
    (root / "songs" / "broken" / "sheet.toml").write_bytes(b'spec = "hybrid-sheet/1"\n[song\n\xff')
    (root / "studio.toml").write_text(MIX_STUDIO.format(gear="hy-tui-keys"))
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.open_song("plain", view="mix")
        await pilot.pause()
        assert offered(app) == {"Reload"}                 # nothing to print, edit or deliver
        assert "no [mix] table" in _text(app, "#mix-status")
        await pilot.press("p")                            # a key the footer does not offer does nothing
        assert "no [mix] table" in _text(app, "#mix-status")
        app.open_song("mixed", view="mix")
        await pilot.pause()
        assert offered(app) == {"Print mix", "Input", "Mutes", "Save", "Loudness", "Deliverables", "Reload"}
        await pilot.resize_terminal(100, 30)                     # the small layout: the status stays on screen
        await pilot.pause()
        status = app.query_one("#mix-status", Static).region
        assert status.height >= 1 and status.bottom <= app.size.height - 1, (status, app.size)
        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        await pilot.press("d")                            # deliverables before any mix was printed
        await settle(app, pilot)
        status = _text(app, "#mix-status")
        assert status.startswith("writing the mix deliverables: ") and one_line(status), status
        assert "mixed" in status
        app.open_song("broken", view="mix")
        await pilot.pause()
        title = _text(app, "#mix-title")
        assert "sheet.toml" in title and one_line(title), title
        assert offered(app) == {"Reload"}
        assert app.errors == []


async def test_album_offers_its_keys_once_an_album_is_open(studio):
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_show("album")
        await pilot.pause()
        assert offered(app) == {"Reload"}                 # no album yet
        _album(studio)
        await pilot.press("ctrl+r")
        await pilot.pause()
        keys = offered(app)
        assert {"Edit track", "Edit album", "Move up", "Move down", "Save", "Loudness", "Print masters",
                "Build DDP", "Verify DDP", "Approval set", "Reload"} == keys
        await pilot.press("v")                            # verify before any DDP was built
        await settle(app, pilot)
        status = _text(app, "#album-status")
        assert status.startswith("verify") and one_line(status), status
        assert "Build DDP" in offered(app) and "Cancel" not in offered(app)
        assert app.errors == []


async def test_intake_offers_accept_and_refuse_only_for_a_song_taken_in(studio, tmp_path):
    archive = make_zip(tmp_path / "Blue Hour - STEMS.zip", good_stems())
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_show("intake")
        await pilot.pause()
        # the path field has the focus: its enter takes the archive in (the status says so; the
        # footer shows only the view's keys that the field does not take)
        assert offered(app) == {"Reload inbox"}
        assert "then enter" in _text(app, "#intake-status")
        await pilot.press("a")                            # typed into the path field, not an accept
        app.query_one("#intake-path").value = str(archive)
        await pilot.press("enter")
        await settle(app, pilot)
        assert {"Accept", "Refuse", "Save note", "Reload inbox"} == offered(app)   # the report has the focus
        await pilot.press("x")
        await pilot.pause()
        assert "refused" in _text(app, "#intake-status")
        assert "Accept" not in offered(app) and "Refuse" not in offered(app) and "Save note" in offered(app)
        assert app.errors == []


async def test_surfaces_offer_connect_for_a_surface_not_connected(studio, demo_jack):
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_show("surfaces")
        await pilot.pause()
        assert offered(app) == {"Reload"}                 # no surface in studio.toml
        await pilot.press("c")
        assert "no [surfaces] in studio.toml" in _text(app, "#surfaces-status")   # the key reads as typed
        _add_surface(studio, ["no-such-surface-keys"])
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert offered(app) == {"Connect", "Reload"}      # not connected: no Disconnect, no bank keys
        await pilot.press("c")                            # no song open
        status = _text(app, "#surfaces-status")
        assert "open a song first" in status and one_line(status)
        assert app.errors == []


def test_a_mix_file_that_cannot_be_measured_is_a_note_in_its_row(tmp_path):
    """A printed variant whose file is gone when the view measures it: one line in its row's note,
    and the other rows are still measured (the print worker used to die on it with a traceback)."""
    from tests.audio_print.conftest import RATE, band_limited, write_stem
    from tui.views.mix import VariantRow, _measure_rows

    write_stem(tmp_path / "instrumental.wav", band_limited(RATE, seed=1, peak=0.25))
    rows = [VariantRow("full", False, str(tmp_path / "gone.wav"), note="bad pass"),
            VariantRow("instrumental", True, str(tmp_path / "instrumental.wav"))]
    _measure_rows(rows)
    assert rows[0].note.startswith("bad pass; not measured: ") and "gone.wav" in rows[0].note, rows[0].note
    assert "\n" not in rows[0].note and rows[0].integrated_lufs is None
    assert rows[1].integrated_lufs is not None and rows[1].note == ""
