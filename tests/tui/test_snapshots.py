"""Snapshots of the control room at a fixed size, on the demo studio (deterministic content: no
clock, fresh studio, synthesised stems). Update with ``pytest --snapshot-update`` after a deliberate change."""

from __future__ import annotations

import pytest

from tests.tui.conftest import SIZE, make_app, mix_and_master_room


async def _songs_read(pilot):
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_songs_view(snap_compare, studio):
    assert snap_compare(make_app(studio), terminal_size=SIZE, run_before=_songs_read)


def test_sheet_view(snap_compare, studio):
    async def open_song(pilot):
        pilot.app.open_song("glass-harbour")
        await pilot.pause()

    assert snap_compare(make_app(studio), terminal_size=SIZE, run_before=open_song)


def test_recall_view_before_apply(snap_compare, studio):
    async def open_recall(pilot):
        pilot.app.open_song("paper-moons", view="recall")
        await pilot.pause()

    assert snap_compare(make_app(studio), terminal_size=SIZE, run_before=open_recall)


# The control room at the two sizes it must read at: a laptop's 100x30 and a big screen's 200x60.
SIZES = {"100x30": (100, 30), "200x60": (200, 60)}


def _show(view: str, song: str | None = None):
    async def run(pilot):
        await pilot.app.workers.wait_for_complete()
        if song:
            pilot.app.open_song(song, view=view)
        else:
            pilot.app.action_show(view)
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    return run


@pytest.mark.parametrize("size", SIZES)
def test_songs_at_two_sizes(snap_compare, studio, size):
    assert snap_compare(make_app(studio), terminal_size=SIZES[size], run_before=_songs_read)


@pytest.mark.parametrize("size", SIZES)
def test_recall_at_two_sizes(snap_compare, studio, size):
    assert snap_compare(make_app(studio), terminal_size=SIZES[size], run_before=_show("recall", "night-drive"))


async def _show_intake(pilot):
    """The Intake view with its path field focused and its cursor steady: a blinking cursor is
    drawn or not depending on when the picture is taken (the snapshots differed run to run)."""
    from textual.widgets import Input

    await _show("intake")(pilot)
    field = pilot.app.query_one("#intake-path", Input)
    field.cursor_blink = False
    for _ in range(100):
        if pilot.app.focused is field:
            break
        await pilot.pause(0.02)
    assert pilot.app.focused is field
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_intake_at_two_sizes(snap_compare, studio, size):
    assert snap_compare(make_app(studio), terminal_size=SIZES[size], run_before=_show_intake)


@pytest.mark.parametrize("size", SIZES)
def test_album_at_two_sizes(snap_compare, studio, size):
    from tests.tui.test_album_view import _album

    _album(studio)
    assert snap_compare(make_app(studio), terminal_size=SIZES[size], run_before=_show("album"))


@pytest.mark.parametrize("size", SIZES)
def test_mix_at_two_sizes(snap_compare, built_studio, tmp_path, size):
    """The demo's mix room (summing mixer, each song's [mix]), before any mix is printed."""
    room = mix_and_master_room(built_studio, tmp_path / "Demo Room")
    assert snap_compare(make_app(room), terminal_size=SIZES[size], run_before=_show("mix", "glass-harbour"))


@pytest.mark.parametrize("size", SIZES)
def test_surfaces_at_two_sizes(snap_compare, studio, size):
    """A studio with one MCU and an extender in studio.toml, not connected yet."""
    with open(studio / "studio.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[surfaces.Desk]\nkind = "mcu"\nports = ["MCU Pro", "MCU XT"]\n')
    assert snap_compare(make_app(studio), terminal_size=SIZES[size], run_before=_show("surfaces", "night-drive"))
