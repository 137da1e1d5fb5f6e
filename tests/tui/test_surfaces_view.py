"""Pilot tests of the Surfaces view with a simulated MCU + XT on JACK MIDI: connect the open song,
strips as the surface shows them, a held fader, moves and confirmations as they happen, the
pending hand-set steps, banking, disconnecting (edits saved), and a surface that does not answer."""

from __future__ import annotations

import os

import pytest
from textual.widgets import DataTable, Static

from devices.midi_port import JACK_BACKEND
from devices.surfaces.sim import SimulatedMcu
from recall.store import load_sheet
from tests.tui.conftest import SIZE, make_app, offered, settle, until
from tui.views.surfaces import SurfacesView


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.fixture
def mcu(demo_jack):
    sim = SimulatedMcu(f"tui-mcu-{os.getpid()}", extenders=1, backend=JACK_BACKEND)
    yield sim
    sim.close()


def _add_surface(studio, ports: list[str]) -> None:
    quoted = ", ".join(f'"{p}"' for p in ports)
    with open(studio / "studio.toml", "a", encoding="utf-8") as fh:
        fh.write(f'\n[surfaces.Desk]\nkind = "mcu"\nports = [{quoted}]\n')


async def test_a_connected_mcu_shows_the_sheet_and_its_events_as_they_happen(studio, mcu):
    _add_surface(studio, mcu.port_specs)
    app = make_app(studio)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(app, pilot)
        app.open_song("night-drive", view="surfaces")
        await pilot.pause()
        view = app.query_one(SurfacesView)
        await pilot.press("c")
        assert await until(pilot, lambda: "Desk" in view.connections), \
            str(app.query_one("#surfaces-status", Static).render())
        connection = view.connections["Desk"]
        assert offered(app) == {"Disconnect", "Bank ◀", "Bank ▶", "Reload"}   # connected: no second Connect
        table = _rows(app.query_one("#surfaces-table", DataTable))
        assert table[0][0] == "[b]Desk[/b]" and "online" in table[0][3] and table[0][4] == "night-drive"
        strips = app.query_one("#surface-strips", DataTable)
        assert await until(pilot, lambda: strips.row_count == 16)  # an MCU and one XT: 16 strips
        first = connection.session.visible()[0][1]
        assert first is not None
        assert await until(pilot, lambda: _rows(strips)[0][1:3] == [first.device, first.parameter])
        assert mcu.strip_text(0)[0].strip()  # the surface itself shows a label there
        # a hand on the fader: held on screen, the move lands in the sheet and in the event log
        mcu.touch(0)
        assert await until(pilot, lambda: "held" in _rows(strips)[0][4])
        mcu.move(0, 0.25)
        mcu.touch(0, False)
        assert await until(pilot, lambda: any("sheet:" in e and first.device in e for e in view.events))
        assert await until(pilot, lambda: "held" not in _rows(strips)[0][4])
        # hand-set targets wait on the side until confirmed on the surface
        targets = [i for i, (_, slot) in enumerate(connection.session.visible()) if slot and slot.target]
        pending_before = len(connection.binding.pending_steps())
        if not targets:  # page until a hand-set unit is on the strips
            for _ in range(10):
                await pilot.press("right_square_bracket")
                targets = [i for i, (_, s) in enumerate(connection.session.visible()) if s and s.target]
                if targets:
                    break
        assert targets and pending_before > 0
        assert "set by hand" in _rows(strips)[targets[0]][5]
        mcu.press("select", targets[0])
        assert await until(pilot, lambda: len(connection.binding.pending_steps()) == pending_before - 1)
        assert await until(pilot, lambda: "confirmed" in _rows(strips)[targets[0]][5])
        assert any("confirmed" in e for e in view.events)
        bank = _rows(app.query_one("#surfaces-table", DataTable))[0][5]
        offset = connection.session.offset
        await pilot.press("left_square_bracket")  # one bank back: 16 strips to the left, or to the first
        back = max(0, offset - 16)
        assert await until(pilot, lambda: _rows(app.query_one("#surfaces-table", DataTable))[0][5]
                            .startswith(f"{back + 1}-"))
        assert bank != _rows(app.query_one("#surfaces-table", DataTable))[0][5]
        # disconnect: the edits are saved and the surface is free
        await pilot.press("d")
        assert await until(pilot, lambda: "Desk" not in view.connections and not view.busy)
        await settle(app, pilot)
        values = load_sheet(studio, "night-drive").values(first.device)
        assert values  # the fader's edit is in the saved sheet
        assert "disconnected" in str(app.query_one("#surfaces-status", Static).render())
        assert app.errors == []


async def test_a_surface_that_is_not_there_is_one_line_and_nothing_opens(studio, demo_jack):
    _add_surface(studio, [f"no-such-surface-{os.getpid()}"])
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_show("surfaces")
        await pilot.pause()
        view = app.query_one(SurfacesView)
        await pilot.press("c")  # no song open yet
        assert "open a song first" in str(app.query_one("#surfaces-status", Static).render())
        app.open_song("night-drive", view="surfaces")
        await pilot.pause()
        await pilot.press("c")
        assert await until(pilot, lambda: not view.busy)
        status = str(app.query_one("#surfaces-status", Static).render())
        assert "Desk" in status and "no-such-surface" in status and "Traceback" not in status
        assert view.connections == {} and app.errors == []


async def test_without_surfaces_the_view_says_how_to_add_one(studio):
    app = make_app(studio)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.action_show("surfaces")
        await pilot.pause()
        assert "[surfaces.Desk]" in str(app.query_one("#surfaces-status", Static).render())
        await pilot.press("c")   # not offered without a surface: the status still says how to add one
        assert "[surfaces.Desk]" in str(app.query_one("#surfaces-status", Static).render())
