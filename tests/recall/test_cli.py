"""The recall commands as a user runs them: --json output, exit status, one-line errors."""

from __future__ import annotations

import json

import pytest

from recall.store import create_song, load_sheet, save_sheet
from recall.studio import load_studio
from tests.recall.studio_kit import PAPER_STUDIO, make_studio


@pytest.fixture
def studio(tmp_path):
    studio = load_studio(make_studio(tmp_path / "room", PAPER_STUDIO))
    create_song(studio.root, "Night Drive", album="Demo EP", samplerate=48000, tracks={"1Kick": "stems/1Kick.wav"})
    for boost in ("3", "6"):
        sheet = load_sheet(studio, "night-drive")
        sheet.set_values("Pultec A", {"low_boost": boost})
        save_sheet(sheet, studio=studio)
    return studio


def run(cli, studio, *args):
    out = cli("recall", *args, "--studio", str(studio.root), "--json")
    return out, (json.loads(out.stdout) if out.stdout.strip() else None)


def test_list_show_history_diff(cli, studio):
    out, data = run(cli, studio, "list")
    assert out.returncode == 0 and [s["slug"] for s in data["songs"]] == ["night-drive"]
    assert data["songs"][0]["versions"] == 2 and data["songs"][0]["stage"] == "preparation"
    out, data = run(cli, studio, "show", "Night Drive")
    assert out.returncode == 0 and data["sheet"]["devices"]["Pultec A"]["values"] == {"low_boost": "6"}
    out, data = run(cli, studio, "history", "night-drive")
    assert [v["number"] for v in data["versions"]] == [1, 2]
    out, data = run(cli, studio, "diff", "night-drive")
    assert out.returncode == 0
    assert [(c["key"], c["old"], c["new"]) for c in data["changes"]] == [
        ('devices."Pultec A".values.low_boost', "3", "6")]
    out, data = run(cli, studio, "diff", "night-drive", "1", "current")
    assert {c["kind"] for c in data["changes"]} == {"added"}
    text = cli("recall", "diff", "night-drive", "--studio", str(studio.root))
    assert text.stdout.strip() == '~ devices."Pultec A".values.low_boost: 3 -> 6'


def test_copy_and_errors(cli, studio):
    out, data = run(cli, studio, "copy", "night-drive", "Second Song")
    assert out.returncode == 0 and data["file"].endswith("songs/second-song/sheet.toml")
    assert load_sheet(studio, "second-song").values("Pultec A") == {"low_boost": "6"}
    out = cli("recall", "show", "no-such-song", "--studio", str(studio.root))
    assert out.returncode == 1 and out.stderr.count("\n") == 1 and "no song 'no-such-song'" in out.stderr
    out = cli("recall", "list", "--studio", str(studio.root / "nope"))
    assert out.returncode == 1 and "no such studio folder" in out.stderr
    # a hand edit that names a device the studio lacks: every problem on stderr, non-zero exit
    path = studio.root / "songs" / "night-drive" / "sheet.toml"
    path.write_text(path.read_text() + '\n[devices."Fairchild".values]\ninput = 3.0\n')
    out, data = run(cli, studio, "show", "night-drive")
    assert out.returncode == 1 and data["problems"][0]["key"] == "devices.Fairchild"
    assert "hybrid: error:" in out.stderr and "Traceback" not in out.stderr
    out, data = run(cli, studio, "apply", "night-drive")
    assert out.returncode == 1 and "devices.Fairchild" in out.stderr
