"""Pilot test of the Mix view and the Album view's mastering pass: a song's stems through the simulated summing mixer (hybrid.simgear,
its own JACK client on the demo's server), every variant printed with L/R meters, the null
residual of ``instrumental`` against ``full``, loudness over time, a stem moved to another input
(checked as typed), and the mix deliverables."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, Label, Static

from tests.audio_print.conftest import RATE, band_limited, write_stem
from tests.audio_print.test_stereo_mix import SHEET as STEREO_MIX_SHEET
from tests.tui.conftest import make_app, offered, settle
from tests.tui.gear_process import gear_process
from tui.views.album import AlbumView
from tui.views.mix import InputEditor, MixView
from tui.widgets.loudness_plot import LoudnessPlot
from tui.widgets.meter import MeterBank

GEAR = "hy-tui-mix"

STUDIO = """spec = "hybrid-studio/1"
name = "Mix room"
[interface]
device = "{gear}"
samplerate = 48000
[summing]
outs = [1, 2, 3, 4]
ins = [5, 6]
[loops.ST]
out = [7, 8]
in = [7, 8]
[router]
device = "manual"
"""

SHEET = STEREO_MIX_SHEET.format(inserts="")   # the summing tests' song: four stems, full and instrumental


GEAR_CONFIG = """name = "{gear}"
server = "{server}"

[[loops]]
channels = [7, 8]
delay_samples = [37.25, 38.0]
gain_db = [0.0, -0.3]

[summing]
sends = [1, 2, 3, 4]
returns = [5, 6]
pans = [-0.5, 0.5, 0.0, 0.3]
trims_db = [0.0, -3.0, 0.0, -1.5]
crosstalk_db = -80.0
noise_dbfs = -110.0
delay_samples = [30.1, 30.6]
seed = 5
"""


@pytest.fixture(scope="module")
def summing_gear(demo_jack, tmp_path_factory):
    """The simulated summing mixer and a stereo mastering loop, as their own process (as in the
    demo): their JACK callbacks never wait for this process's UI to hand over the GIL."""
    config = tmp_path_factory.mktemp("mixgear") / "gear.toml"
    config.write_text(GEAR_CONFIG.format(gear=GEAR, server=demo_jack.name))
    with gear_process(config) as proc:
        yield proc


@pytest.fixture
def room(tmp_path):
    root = tmp_path / "Mix room"
    (root / "songs" / "mixed" / "stems").mkdir(parents=True)
    (root / "studio.toml").write_text(STUDIO.format(gear=GEAR))
    for k, name in enumerate(["1Kick", "2Snare", "3Bass", "5Vox"]):
        x = band_limited(RATE, seed=k, peak=0.25)
        if name == "5Vox":
            x[: int(0.6 * RATE)] = 0.0   # the vocal comes in late: a region where the variants must null
        write_stem(root / "songs" / "mixed" / "stems" / f"{name}.wav", x, time_reference=480000)
    (root / "songs" / "mixed" / "sheet.toml").write_text(SHEET)
    return root


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_print_the_variants_null_them_and_deliver(summing_gear, room):
    app = make_app(room)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        app.open_song("mixed", view="mix")
        await pilot.pause()
        view = app.query_one(MixView)
        assert "4 inputs on outputs 1, 2, 3, 4" in str(app.query_one("#mix-summing", Static).render())
        assert _rows(app.query_one("#mix-inputs", DataTable))[3] == ["5Vox", "4"]
        assert [r[0] for r in _rows(app.query_one("#mix-variants", DataTable))] == ["full", "instrumental"]
        # move the vocal: 9 is refused as typed (the mixer has 4 inputs), then back to 4
        app.query_one("#mix-inputs", DataTable).move_cursor(row=3)
        await pilot.press("e")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, InputEditor)
        editor.query_one(Input).value = "9"
        await pilot.pause()
        assert "from 1 to 4" in str(editor.query_one("#input-check", Label).render())
        await pilot.press("enter")
        assert app.screen is editor
        editor.query_one(Input).value = "4"
        await pilot.press("enter")
        await pilot.pause()
        meters = app.query_one("#mix-meters", MeterBank)   # the Print view has a MeterBank too
        ticks_before = meters.repaints
        # print every variant; a pass spoilt by a busy machine is printed again
        for _ in range(3):
            view.focus()
            await pilot.press("p")
            assert view.busy == "printing the mix"        # seconds of printing: meanwhile the footer
            assert "Stop" in offered(app) and "Print mix" not in offered(app)   # offers Stop, not Print
            await settle(app, pilot)
            rows = {r[0]: r for r in _rows(app.query_one("#mix-results", DataTable))}
            if all("good" in rows[v][1] for v in ("full", "instrumental")):
                break
        assert all("good" in rows[v][1] for v in ("full", "instrumental")), (rows, view.report_lines)
        assert float(rows["instrumental"][4]) < -50.0            # the null residual against full
        assert float(rows["full"][2]) < 0 and float(rows["full"][3]) < 0
        assert meters.repaints > ticks_before   # the bus's levels reached the Mix view's meters
        assert (room / "songs/mixed/mix/full.wav").is_file() and (room / "songs/mixed/mix/instrumental.wav").is_file()
        assert app.query_one("#mix-plot", LoudnessPlot)._momentary, [   # a 1 s mix: no 3 s short-term window yet
            (r.variant, r.path, r.integrated_lufs, bool(r.short_term_lufs)) for r in view.rows.values()]
        # the mix deliverables from the printed files
        await pilot.press("d")
        await settle(app, pilot)
        assert "done" in str(app.query_one("#mix-status", Static).render())
        assert list((room / "songs/mixed/deliver").glob("*Listening*.wav"))
        # the album's mastering pass: the full mix through the stereo loop ST, from the Album view
        album = room / "albums" / "ep"
        (album / "sheets").mkdir(parents=True)
        (album / "album.toml").write_text('spec = "hybrid-album/1"\ntitle = "EP"\n[[tracks]]\nsong = "mixed"\n'
                                          'file = "masters/mixed.wav"\n')
        (album / "mastering.toml").write_text('spec = "hybrid-mastering/1"\nchain = ["ST"]\ntail_s = 0.05\n')
        (album / "sheets" / "mixed.toml").write_text('spec = "hybrid-sheet/1"\n[song]\ntitle = "Mixed"\n'
                                                     'samplerate = 48000\n')
        app.action_show("album")
        await pilot.pause()
        albums = app.query_one(AlbumView)
        for _ in range(3):   # a pass spoilt by a busy machine is printed again
            albums.focus()
            await pilot.press("m")
            await settle(app, pilot)
            if albums.results and albums.results[0].startswith("good"):
                break
        assert albums.results and albums.results[0].startswith("good  mixed"), albums.results
        assert (album / "masters" / "mixed.wav").is_file()
        assert app.errors == []


async def test_a_variants_mutes_are_picked_checked_and_saved(room):
    """``m`` on a variant: the stems it mutes, at least one; ``full`` mutes none; saved through recall."""
    from recall.store import load_sheet
    from recall.studio import load_studio
    from textual.widgets import SelectionList

    from tui.views.mix import MuteEditor

    app = make_app(room)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(app, pilot)
        app.open_song("mixed", view="mix")
        await pilot.pause()
        variants = app.query_one("#mix-variants", DataTable)
        variants.focus()
        assert "Mutes" in offered(app)
        await pilot.press("m")                      # on full: refused with a line, no editor
        await pilot.pause()
        assert not isinstance(app.screen, MuteEditor)
        assert "full is every stem" in str(app.query_one("#mix-status", Static).render())
        variants.move_cursor(row=1)
        await pilot.press("m")
        await pilot.pause()
        editor = app.screen
        assert isinstance(editor, MuteEditor)
        picks = editor.query_one(SelectionList)
        assert picks.selected == ["5Vox"]
        picks.deselect("5Vox")                      # none left: refused as picked
        await pilot.pause()
        assert "at least one stem" in str(editor.query_one("#mute-check", Label).render())
        await pilot.press("enter")
        assert app.screen is editor
        picks.select("5Vox")
        picks.select("3Bass")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is not editor
        assert _rows(variants)[1] == ["instrumental", "3Bass, 5Vox"]
        app.query_one(MixView).focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "sheet saved" in str(app.query_one("#mix-status", Static).render())
    sheet = load_sheet(load_studio(room), "mixed")
    assert sheet.mix is not None and sheet.mix.variants["instrumental"] == ["3Bass", "5Vox"]
    assert app.errors == []
