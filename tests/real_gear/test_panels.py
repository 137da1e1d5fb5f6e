"""Hand-set classics drawn as the panel has them, in the TUI panel widget and the HTML export; an
algorithm's own controls shown only when it is selected (export, walk-through, TUI panel)."""

from __future__ import annotations

import pytest

from devices.profile import builtin_profiles
from recall.export import export_html
from recall.sheet import Insert
from recall.store import create_song, load_sheet
from recall.studio import load_studio
from recall.walkthrough import walkthrough
from tests.recall.studio_kit import make_studio
from tui.widgets.panel import render_control

ROOM = '''
[devices."1176"]
profile = "ua-1176ln"
[devices.CL1B]
profile = "tubetech-cl1b"
[devices."1073"]
profile = "neve-1073"
[devices."2500"]
profile = "api-2500"
[loops.A]
out = 3
in = 3
devices = ["1073", "1176", "CL1B", "2500"]
'''


@pytest.fixture(scope="module")
def lib():
    return builtin_profiles()


def test_tui_draws_buttons_toggles_and_rings(lib):
    ratio = lib["ua-1176ln"].parameters["ratio"]
    text = render_control(ratio, "8").plain
    assert text.count("[") == 5 and " 8  " in text            # five push buttons, 8 among them
    timing = render_control(lib["tubetech-cl1b"].parameters["timing"], "Fix/man").plain
    assert "Fixed" in timing and "▼ Fix/man" in timing        # the lever down on the third position
    ring = render_control(lib["neve-1073"].parameters["mid_gain"], 4.0).plain
    assert "inner" in ring
    hpf = render_control(lib["neve-1073"].parameters["hpf"], "80").plain
    assert hpf.rstrip().endswith("Hz") and " 80 " in hpf      # a stepped switch with its labels and unit


def test_export_and_walkthrough_show_the_real_controls_and_only_what_applies(tmp_path):
    studio = load_studio(make_studio(tmp_path / "room", ROOM))
    create_song(studio.root, "Song", samplerate=48000, tracks={"1Vox": "stems/1Vox.wav"})
    sheet = load_sheet(studio, "song")
    sheet.set_values("1176", {"ratio": "12", "meter": "GR", "attack": 5})
    sheet.set_values("CL1B", {"timing": "Fixed", "attack": 20, "release": 1.0, "meter": "Output"})
    sheet.set_values("1073", {"mid_freq": "3.2", "mid_gain": 4.0, "hpf": "80"})
    sheet.set_values("2500", {"release": "200 ms", "variable_release": 1.0, "knee": "SOFT"})
    sheet.set_inserts("1Vox", [Insert("A", ["1073", "1176", "CL1B", "2500"])])
    page = export_html(sheet, studio)
    assert 'class="buttons"' in page and 'data-label="12"' in page and 'class="button lit"' in page
    assert 'class="toggle3"' in page and 'class="concentric"' in page and 'data-ring="inner"' in page
    assert 'class="stepped"' in page
    # CL 1B in "Fixed": its attack and release knobs do nothing (p. 4) and are not shown; API 2500's
    # variable release only exists with RELEASE at VARIABLE.
    assert 'data-param="attack"' in page                           # the 1176's attack
    cl1b = page[page.index('data-device="CL1B"'):page.index('data-device="2500"')]
    assert 'data-param="attack"' not in cl1b and 'data-param="meter"' in cl1b
    assert 'data-param="variable_release"' not in page
    steps = {(s.device, s.parameter) for s in walkthrough(sheet, studio)}
    assert ("CL1B", "meter") in steps and ("CL1B", "attack") not in steps
    assert ("2500", "variable_release") not in steps and ("2500", "knee") in steps
    sheet.set_values("2500", {"release": "VARIABLE"})
    assert ("2500", "variable_release") in {(s.device, s.parameter) for s in walkthrough(sheet, studio)}
