"""Pilot tests of the Intake view: a real upload taken in from the control room, its report,
the note to the client, accept and refuse, a refused archive, the drop folder, completion."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Input, Static, TabbedContent

from tests.intake.helpers import good_stems, make_zip, tone, wav_bytes
from tests.tui.conftest import SIZE, make_app, offered, settle
from tui.views.intake import IntakeView, PathSuggester


def _status(app) -> str:
    return str(app.query_one("#intake-status", Static).render())


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def _take_in(app, pilot, path: Path) -> None:
    app.action_show("intake")
    await pilot.pause()
    field = app.query_one("#intake-path", Input)
    field.value = str(path)
    field.focus()
    await pilot.press("enter")
    await settle(app, pilot)


async def test_an_upload_with_problems_shows_the_fixes_and_the_note_then_is_accepted(studio, tmp_path):
    stems = good_stems()
    stems["5Vox.wav"] = wav_bytes(tone(0.5, seed=5), subtype="PCM_16")  # 16-bit: the rules ask for 24
    stems["guitar.wav"] = wav_bytes(tone(0.5, seed=6))                    # no track number
    archive = make_zip(tmp_path / "Blue Hour - STEMS.zip", stems)
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _take_in(app, pilot, archive)
        view = app.query_one(IntakeView)
        assert view.report is not None and not view.report.refused
        assert (studio / "songs" / "blue-hour" / "stems" / "5Vox.wav").is_file()
        rows = _rows(app.query_one("#intake-report", DataTable))
        vox = [r for r in rows if r[2] == "resolution"]
        assert vox and "fail" in vox[0][1] and vox[0][4] == "export it at 24-bit (or 32-bit float)"
        names = [r for r in rows if r[2] == "name"]
        assert names and "track number" in names[0][3]
        assert "5Vox.wav:" in view.note and "please export it at 24-bit" in view.note
        assert "Blue Hour" in view.note
        assert "1 fail" in _status(app)
        await pilot.press("w")
        saved = studio / "songs" / "blue-hour" / "intake" / "client-note.txt"
        assert saved.read_text(encoding="utf-8") == view.note
        await pilot.press("a")
        await pilot.pause()
        assert app.song == "blue-hour"
        assert app.query_one("#views", TabbedContent).active == "sheet"


async def test_refusing_a_taken_in_song_moves_it_out_of_songs_and_keeps_it(studio, tmp_path):
    archive = make_zip(tmp_path / "Tide.zip", good_stems())
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _take_in(app, pilot, archive)
        assert (studio / "songs" / "tide" / "sheet.toml").is_file()
        app.query_one(IntakeView).focus()
        await pilot.press("x")
        await pilot.pause()
        assert not (studio / "songs" / "tide").exists()
        kept = list((studio / ".refused").glob("tide-*"))
        assert len(kept) == 1 and (kept[0] / "stems" / "1Kick.wav").is_file()
        assert "nothing deleted" in _status(app)
        status = _status(app)
        assert "Refuse" not in offered(app) and "Accept" not in offered(app)   # nothing left to refuse
        await pilot.press("x")  # not offered: does nothing, crashes nothing
        assert _status(app) == status
        assert app.errors == []


async def test_a_refused_upload_leaves_the_studio_as_it_was_and_says_what_to_send(studio, tmp_path):
    archive = make_zip(tmp_path / "Broken.zip", {"notes.txt": b"no audio here"})
    before = sorted(p.name for p in (studio / "songs").iterdir())
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _take_in(app, pilot, archive)
        view = app.query_one(IntakeView)
        assert view.report is not None and view.report.refused
        assert "upload refused" in _status(app) and "no WAV stems" in _status(app)
        assert "send the stems as WAV files" in view.note
        assert sorted(p.name for p in (studio / "songs").iterdir()) == before
        assert app.errors == []


async def test_the_drop_folder_lists_archives_and_enter_takes_one_in(studio, tmp_path):
    inbox = studio / "inbox"
    inbox.mkdir()
    make_zip(inbox / "Lantern.zip", good_stems())
    (inbox / "readme.txt").write_text("not an archive")
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_show("intake")
        await pilot.pause()
        table = app.query_one("#intake-inbox", DataTable)
        assert [r[0] for r in _rows(table)] == ["Lantern.zip"]
        table.focus()
        await pilot.press("enter")
        await settle(app, pilot)
        assert (studio / "songs" / "lantern" / "sheet.toml").is_file()


async def test_a_path_that_is_not_an_archive_is_one_line(studio, tmp_path):
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await _take_in(app, pilot, tmp_path / "missing.zip")
        assert "not an archive file" in _status(app)
        assert app.errors == []


async def test_path_completion_offers_folders_and_archives(tmp_path):
    (tmp_path / "uploads").mkdir()
    make_zip(tmp_path / "uploads" / "Song A.zip", good_stems(0.1))
    (tmp_path / "uploads" / "Song A.txt").write_text("x")
    suggester = PathSuggester()
    assert await suggester.get_suggestion(str(tmp_path / "upl")) == str(tmp_path / "uploads") + "/"
    assert await suggester.get_suggestion(str(tmp_path / "uploads" / "So")) == str(tmp_path / "uploads" / "Song A.zip")
    assert await suggester.get_suggestion(str(tmp_path / "nothing-here" / "x")) is None


async def test_escape_cancels_a_running_intake_and_nothing_is_kept(studio, tmp_path):
    stems = {f"{i}Perc{i}.wav": wav_bytes(tone(5.0, seed=i)) for i in range(1, 41)}
    archive = make_zip(tmp_path / "Long Upload.zip", stems)
    before = sorted(p.name for p in (studio / "songs").iterdir())
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_show("intake")
        await pilot.pause()
        field = app.query_one("#intake-path", Input)
        field.value = str(archive)
        view = app.query_one(IntakeView)
        # take in and cancel in one go (as enter then escape, without the key queue between):
        # the worker's first progress call comes only after its first 720 kB stem is unpacked
        view.action_take_in()
        assert view.running
        view.action_cancel()
        await settle(app, pilot)
        view = app.query_one(IntakeView)
        assert view.report is not None and view.report.refused
        assert "cancelled by the engineer" in _status(app)
        assert sorted(p.name for p in (studio / "songs").iterdir()) == before
        assert not list(studio.glob(".intake-*"))
