"""Snapshots of the control room at a fixed size, on the demo studio (deterministic content: no
clock, fresh studio, synthesised stems). Update with ``pytest --snapshot-update`` after a deliberate change."""

from __future__ import annotations

from tests.tui.conftest import SIZE, make_app


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
