"""The song list's index (recall.song_index): a listing read from it equals one read from the
sheets, follows every change made by any writer, survives a corrupt or unwritable index, and
keeps a broken sheet broken."""

from __future__ import annotations

import json

import pytest

from recall.store import create_song, list_songs, save_sheet, load_sheet
from recall.paths import StudioPaths
from recall.studio import load_studio
from tests.recall.studio_kit import PAPER_STUDIO, make_studio


@pytest.fixture
def root(tmp_path):
    root = make_studio(tmp_path / "room", PAPER_STUDIO)
    for title in ("Night Drive", "Glass Harbour", "Paper Moons"):
        create_song(root, title, artist="The Examples", album="Demo EP", samplerate=48000,
                    tracks={"1Kick": "stems/1Kick.wav", "3Bass": "stems/3Bass.wav"})
    return root


def _listed(root) -> list[dict]:
    return [s.to_dict() for s in list_songs(root)]


def test_a_listing_from_the_index_equals_one_from_the_sheets(root):
    first = _listed(root)                          # reads the sheets, writes the index
    index = StudioPaths(root).song_index
    assert index.is_file() and set(json.loads(index.read_text())["songs"]) == \
        {"night-drive", "glass-harbour", "paper-moons"}
    assert _listed(root) == first                   # from the index
    index.unlink()
    assert _listed(root) == first                   # rebuilt


def test_a_sheet_edited_outside_hybrid_is_read_again(root):
    _listed(root)
    sheet = root / "songs" / "paper-moons" / "sheet.toml"
    text = sheet.read_text(encoding="utf-8")
    sheet.write_text(text.replace('title = "Paper Moons"', 'title = "Paper Moonz"'), encoding="utf-8")  # same size
    titles = {s["slug"]: s["title"] for s in _listed(root)}
    assert titles["paper-moons"] == "Paper Moonz"


def test_a_save_through_hybrid_counts_its_new_version_and_a_removed_song_is_dropped(root):
    before = {s["slug"]: s for s in _listed(root)}
    studio = load_studio(root)
    sheet = load_sheet(studio, "night-drive")
    sheet.set_song(stage="vocals")
    save_sheet(sheet, studio=studio)
    after = {s["slug"]: s for s in _listed(root)}
    assert after["night-drive"]["stage"] == "vocals"
    assert after["night-drive"]["versions"] == before["night-drive"]["versions"] + 1
    (root / "songs" / "glass-harbour" / "sheet.toml").unlink()
    assert "glass-harbour" not in {s["slug"] for s in _listed(root)}
    assert "glass-harbour" not in json.loads(StudioPaths(root).song_index.read_text())["songs"]


def test_a_broken_sheet_stays_broken_when_listed_from_the_index(root):
    (root / "songs" / "glass-harbour" / "sheet.toml").write_bytes(b"spec = \"hybrid-sheet/1\"\n[song\n")
    first = {s["slug"]: s for s in _listed(root)}
    again = {s["slug"]: s for s in _listed(root)}
    assert not first["glass-harbour"]["ok"] and again["glass-harbour"] == first["glass-harbour"]
    assert again["night-drive"]["ok"]


@pytest.mark.parametrize("content", [
    b"not json at all", b"\xff\xfe", b"[1, 2]", b'{"version": 99, "songs": {}}',
    b'{"version": 1, "songs": {"night-drive": {"key": 1}}}',
    b'{"version": 1, "songs": {"night-drive": {"key": null, "fields": {"title": 5}}}}',
    b'{"version": 1, "songs": [' * 5000,
])
def test_a_corrupt_index_is_ignored_and_rebuilt(root, content):
    good = _listed(root)
    index = StudioPaths(root).song_index
    index.write_bytes(content)
    assert _listed(root) == good
    json.loads(index.read_text())                     # written again, whole


def test_a_lying_entry_with_the_right_key_is_not_trusted_for_its_types(root):
    good = _listed(root)
    index = StudioPaths(root).song_index
    data = json.loads(index.read_text())
    data["songs"]["night-drive"]["fields"]["tracks"] = "many"
    index.write_text(json.dumps(data))
    assert _listed(root) == good


def test_a_studio_whose_state_cannot_be_written_is_listed_without_an_index(root):
    state = StudioPaths(root).state
    if state.exists():
        for f in state.iterdir():
            f.unlink()
        state.rmdir()
    state.write_text("not a folder")              # nothing can be written under it
    assert len(_listed(root)) == 3
    assert state.read_text() == "not a folder"
