"""Walk-through order (signal flow, chain by chain) and the exported HTML/Markdown content."""

from __future__ import annotations

import base64
import re

import pytest

from recall.export import export_html, export_markdown
from recall.sheet import Insert
from recall.store import create_song, load_sheet, save_sheet
from recall.studio import load_studio
from recall.walkthrough import walkthrough
from tests.recall.studio_kit import PAPER_STUDIO, make_studio

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


@pytest.fixture
def song(tmp_path):
    studio = load_studio(make_studio(tmp_path / "room", PAPER_STUDIO))
    create_song(studio.root, "Night Drive", artist="The Examples", album="Demo EP", samplerate=48000,
                tracks={"1Kick": "stems/1Kick.wav", "2Snare": "stems/2Snare.wav", "3Bass": "stems/3Bass.wav"})
    sheet = load_sheet(studio, "night-drive")
    # values written in an order unlike the signal flow, to see the walk-through reorder them
    sheet.set_values("Pultec B", {"in": False, "gain": 1.5})
    sheet.set_values("Pultec A", {"gain": -4.5, "low_boost": "7", "low_freq": "100 Hz", "in": True})
    sheet.set_values("Pultec C", {"low_boost": "2"})
    sheet.set_inserts("1Kick", [Insert("A", ["Pultec A"])])
    sheet.set_inserts("2Snare", [Insert("B", ["Pultec C", "Pultec B"])])
    sheet.set_inserts("3Bass", [Insert("A", ["Pultec A"])])
    sheet.set_device_notes("Pultec A", "Boost & cut <trick>")
    sheet.set_device_photos("Pultec A", ["photos/pultec.png"])
    sheet.set_song(notes="Loud but open.", stage="vocals")
    sheet.check("Gain staging", True)
    sheet.check("Print vocals", False)
    (studio.root / "songs" / "night-drive" / "photos").mkdir()
    (studio.root / "songs" / "night-drive" / "photos" / "pultec.png").write_bytes(PNG_1PX)
    save_sheet(sheet, studio=studio)
    return studio, load_sheet(studio, "night-drive")


def test_walkthrough_follows_signal_flow_and_panel_order(song):
    studio, sheet = song
    steps = walkthrough(sheet, studio)
    assert [(s.device, s.parameter) for s in steps] == [
        ("Pultec A", "low_boost"), ("Pultec A", "low_freq"), ("Pultec A", "gain"), ("Pultec A", "in"),
        ("Pultec C", "low_boost"),
        ("Pultec B", "gain"), ("Pultec B", "in"),
    ]
    assert [s.number for s in steps] == list(range(1, 8))
    first = steps[0]
    assert first.chain == "1Kick > A" and first.detent == "7" and first.setting == "7"
    assert first.position == pytest.approx(0.7) and first.notes == "Boost & cut <trick>"
    assert steps[2].setting == "-4.5 dB" and steps[2].detent is None
    assert steps[2].position == pytest.approx(0.275)
    assert steps[6].setting == "out" and steps[6].detent == "out" and steps[6].chain == "2Snare > B"


def test_html_is_self_contained_with_knobs_at_their_positions(song):
    studio, sheet = song
    page = export_html(sheet, studio)
    assert page.startswith("<!DOCTYPE html>") and "@page { size: A4" in page
    assert "<script" not in page and not re.search(r'(src|href)="(https?:|/)', page)
    assert page.count('class="panel"') == 3
    # the Low Boost knob of Pultec A at detent 7 of 0..10
    panel_a = page.split('data-device="Pultec A"')[1].split("</section>")[0]
    boost = panel_a.split('data-param="low_boost"')[1].split("</div>")[0]
    assert 'data-position="0.7000"' in boost
    gain = panel_a.split('data-param="gain"')[1]
    assert 'data-position="0.2750"' in gain.split("</svg>")[0]
    assert 'class="lever" data-on="true"' in panel_a
    assert "Boost &amp; cut &lt;trick&gt;" in panel_a and "<trick>" not in page
    assert "data:image/png;base64," + base64.b64encode(PNG_1PX).decode() in panel_a
    panel_c = page.split('data-device="Pultec C"')[1].split("</section>")[0]
    assert panel_c.count('class="control unset"') == 3  # only low_boost is on the sheet
    assert "Loud but open." in page and "[x]</span> Gain staging" in page


def test_markdown_lists_values_chains_and_steps(song):
    studio, sheet = song
    md = export_markdown(sheet, studio)
    assert md.startswith("# Night Drive")
    assert "| 2Snare | B | Pultec C → Pultec B |" in md
    assert "| Low Freq | 100 Hz |" in md and "| Gain | -4.5 dB |" in md
    assert "1. **Pultec A** — Low Boost: 7 (1Kick > A)" in md
    assert "- [ ] Print vocals" in md and "![Pultec A](photos/pultec.png)" in md


def test_export_and_walkthrough_cli(song, cli, tmp_path):
    studio, _ = song
    out = cli("recall", "export", "night-drive", "--studio", str(studio.root), "--out", str(tmp_path / "x"), "--json")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "x" / "night-drive.html").read_text().count('class="panel"') == 3
    assert (tmp_path / "x" / "night-drive.md").is_file()
    out = cli("recall", "walkthrough", "night-drive", "--studio", str(studio.root), "--json")
    import json

    steps = json.loads(out.stdout)["steps"]
    assert out.returncode == 0 and steps[0]["device"] == "Pultec A" and len(steps) == 7
