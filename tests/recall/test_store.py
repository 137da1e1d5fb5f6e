"""Sheets on disk: create, round trip with comments, history, diff, validation, copy, atomic save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recall.diff import diff_sheets
from recall.errors import RecallError, RecallProblems
from recall.sheet import Insert, Sheet, validate_sheet
from recall.store import (copy_sheet, create_song, history, list_songs, load_sheet, read_version,
                          save_sheet, slugify)
from recall.studio import load_studio
from tests.recall.studio_kit import PAPER_STUDIO, make_studio

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def studio(tmp_path):
    return load_studio(make_studio(tmp_path / "room", PAPER_STUDIO))


def _song(studio, title="Night Drive", **kw):
    return create_song(studio.root, title, artist="The Examples", album="Demo EP", samplerate=48000,
                       tracks={"1Kick": "stems/1Kick.wav", "2Snare": "stems/2Snare.wav", "3Bass": "stems/3Bass.wav"},
                       **kw)


def test_create_song_writes_the_contract_keys(studio):
    path = _song(studio)
    assert path == studio.root / "songs" / "night-drive" / "sheet.toml"
    import tomllib

    data = tomllib.loads(path.read_text())
    assert data["spec"] == "hybrid-sheet/1"
    assert data["song"] == {"title": "Night Drive", "artist": "The Examples", "album": "Demo EP",
                            "samplerate": 48000, "stage": "preparation"}
    assert data["tracks"]["1Kick"] == {"file": "stems/1Kick.wav"}
    assert list(data["tracks"]) == ["1Kick", "2Snare", "3Bass"]
    with pytest.raises(RecallError, match="already exists"):
        _song(studio)
    assert slugify("Café del Mar (Remix)!") == "cafe-del-mar-remix"


def test_hand_edits_and_comments_survive_a_save(studio):
    path = _song(studio)
    text = path.read_text().replace(
        "[song]", "# The client wants it loud.\n[song]  # keep this\n", 1)
    text += '\n# hand-written section\n[devices."Pultec A".values]\ngain = 2.0   # by ear\nlow_boost = "3"\n'
    path.write_text(text)
    sheet = load_sheet(studio, "night-drive")
    sheet.set_value("Pultec A", "low_boost", "7")
    sheet.set_song(stage="vocals")
    assert save_sheet(sheet, studio=studio)
    after = path.read_text()
    for kept in ("# The client wants it loud.", "# keep this", "# hand-written section", "gain = 2.0   # by ear"):
        assert kept in after
    assert 'low_boost = "7"' in after and 'stage = "vocals"' in after
    # the previous text is in history, byte for byte
    versions = history(studio, "night-drive")
    assert len(versions) == 1 and versions[0].path.read_text() == text
    # saving the same text makes no new version
    assert not save_sheet(load_sheet(studio, "night-drive"), studio=studio)
    assert len(history(studio, "night-drive")) == 1


def test_history_and_diff_between_versions(studio):
    _song(studio)
    for boost in ("2", "5", "9"):
        sheet = load_sheet(studio, "night-drive")
        sheet.set_values("Pultec A", {"low_boost": boost, "gain": -4.5})
        save_sheet(sheet, studio=studio)
    versions = history(studio, "night-drive")
    assert [v.number for v in versions] == [1, 2, 3]
    first, latest_earlier = read_version(studio, "night-drive", "1"), read_version(studio, "night-drive", "-1")
    assert first.values("Pultec A") == {} and latest_earlier.values("Pultec A")["low_boost"] == "5"
    changes = diff_sheets(latest_earlier, read_version(studio, "night-drive", "current"), studio)
    assert [(c.key, c.old, c.new) for c in changes] == [('devices."Pultec A".values.low_boost', "5", "9")]
    changes = diff_sheets(first, read_version(studio, "night-drive", versions[2].name), studio)
    assert {c.key: c.kind for c in changes} == {'devices."Pultec A".values.low_boost': "added",
                                                'devices."Pultec A".values.gain': "added"}
    with pytest.raises(RecallError, match="no version '7'"):
        read_version(studio, "night-drive", "7")


def test_validation_names_file_key_and_reason_and_keeps_the_good_file(studio):
    path = _song(studio)
    good = path.read_text()
    sheet = load_sheet(studio, "night-drive")
    sheet.set_values("Pultec A", {"gain": 14.0, "volume": 3.0, "low_freq": "45 Hz"})
    sheet.set_values("Fairchild", {"input": 1.0})
    sheet.set_inserts("1Kick", [Insert("Z", ["Pultec A", "Ghost"])])
    problems = validate_sheet(sheet, studio)
    got = {p.key: p.reason for p in problems}
    assert "out of range" in got['devices."Pultec A".values.gain']
    assert "no parameter 'volume'" in got['devices."Pultec A".values.volume']
    assert "not a detent" in got['devices."Pultec A".values.low_freq']
    assert "no device 'Fairchild'" in got["devices.Fairchild"]
    assert "no loop 'Z'" in got["tracks.1Kick.inserts[0].loop"]
    assert "no device 'Ghost'" in got["tracks.1Kick.inserts[0].devices[1]"]
    assert all(p.file == str(path) for p in problems)
    with pytest.raises(RecallProblems):
        save_sheet(sheet, studio=studio)
    assert path.read_text() == good and history(studio, "night-drive") == []


def test_broken_file_on_disk_points_to_last_good_version(studio, cli):
    path = _song(studio)
    sheet = load_sheet(studio, "night-drive")
    sheet.set_value("Pultec A", "gain", 1.0)
    save_sheet(sheet, studio=studio)
    path.write_text(path.read_text().replace("samplerate = 48000", 'samplerate = "fast"').replace(
        'stage = "preparation"', 'stage = "mastering"'))
    with pytest.raises(RecallProblems) as err:
        load_sheet(studio, "night-drive")
    keys = [p.key for p in err.value.problems]
    assert keys == ["song.samplerate", "song.stage"]
    assert "last good version: history/" in str(err.value)
    out = cli("recall", "show", "night-drive", "--studio", str(studio.root))
    assert out.returncode == 1 and "song.samplerate" in out.stderr and "Traceback" not in out.stderr
    # the song list reports it instead of dropping it
    _song(studio, "Second Song")
    summaries = {s.slug: s for s in list_songs(studio)}
    assert not summaries["night-drive"].ok and summaries["second-song"].ok
    assert summaries["night-drive"].problems[0].key == "song.samplerate"


def test_copy_from_another_song(studio):
    _song(studio)
    src = load_sheet(studio, "night-drive")
    src.set_values("Pultec A", {"low_boost": "4", "gain": 3.0})
    src.set_device_notes("Pultec A", "album EQ")
    src.set_device_photos("Pultec A", ["photos/pultec.jpg"])
    (studio.root / "songs" / "night-drive" / "photos").mkdir()
    (studio.root / "songs" / "night-drive" / "photos" / "pultec.jpg").write_bytes(b"\xff\xd8jpeg")
    src.set_inserts("2Snare", [Insert("A", ["Pultec A"])])
    src.check("Gain staging", True)
    save_sheet(src, studio=studio)
    create_song(studio.root, "Second Song", samplerate=44100, tracks={"2Snare": "stems/2Snare.wav"})
    path = copy_sheet(studio, "night-drive", "second-song")
    dst = Sheet.load(path)
    assert dst.title == "Second Song" and dst.samplerate == 44100
    assert dst.values("Pultec A") == {"low_boost": "4", "gain": 3.0}
    assert dst.device_notes("Pultec A") == "album EQ"
    assert (path.parent / "photos" / "pultec.jpg").read_bytes() == b"\xff\xd8jpeg"
    assert dst.tracks[0].inserts == [Insert("A", ["Pultec A"])]
    assert [(c.item, c.done) for c in dst.checklist] == [("Gain staging", False)]
    assert len(history(studio, "second-song")) == 1
    new = copy_sheet(studio, "night-drive", "Third Song")
    third = Sheet.load(new)
    assert third.title == "Third Song" and third.album == "Demo EP" and third.tracks == []
    assert third.values("Pultec A")["gain"] == 3.0


def test_copy_takes_the_mix_for_the_stems_both_songs_have(studio):
    from recall.sheet import Mix

    _song(studio)
    src = load_sheet(studio, "night-drive")
    src.set_mix(Mix(inputs={"1Kick": 1, "2Snare": 2}, variants={"full": [], "no-kick": ["1Kick"],
                                                                "no-snare": ["2Snare", "1Kick"]},
                    null_limit_db=-60.0))
    save_sheet(src, studio=studio)
    create_song(studio.root, "Second Song", samplerate=44100, tracks={"2Snare": "stems/2Snare.wav"})
    dst = Sheet.load(copy_sheet(studio, "night-drive", "second-song"))
    # no kick here: its input goes, a variant that muted only the kick goes, the other keeps the snare
    assert dst.mix == Mix(inputs={"2Snare": 2}, variants={"full": [], "no-snare": ["2Snare"]}, null_limit_db=-60.0)
    assert "[mix.variants.no-snare]" in dst.dumps() and "no-kick" not in dst.dumps()


def test_list_songs_sorted_with_stage(studio):
    _song(studio, "B Side")
    create_song(studio.root, "A Side", album="Demo EP", samplerate=48000, tracks={})
    sheet = load_sheet(studio, "a-side")
    sheet.set_song(stage="review")
    save_sheet(sheet)
    (studio.root / "songs" / "a-side" / "prints").mkdir()
    (studio.root / "songs" / "a-side" / "prints" / "1Kick.wav").write_bytes(b"RIFF")
    songs = list_songs(studio)
    assert [s.title for s in songs] == ["A Side", "B Side"]
    assert songs[0].stage == "review" and songs[0].last_printed and songs[1].last_printed is None


SAVER = r"""
import sys
from pathlib import Path
from recall.sheet import Sheet
from recall.store import save_sheet
path = Path(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    sheet = Sheet.load(path)
    sheet.set_song(notes=("note %d " % i) * 4000)
    save_sheet(sheet, path)
    i += 1
    print("saved", i, flush=True)
"""


def test_a_killed_save_leaves_old_or_new_never_a_mix(studio):
    path = _song(studio)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for saves_first, delay_s in ((2, 0.0), (2, 0.003), (2, 0.011)):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, env=env,
                                cwd=ROOT)
        assert proc.stdout.readline().strip() == b"ready"
        # wait for whole saves (however busy the machine), then kill somewhere inside the next one
        for _ in range(saves_first):
            assert proc.stdout.readline().startswith(b"saved")
        time.sleep(delay_s)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        sheet = Sheet.load(path)  # parses: never a torn file
        notes = sheet.notes
        if notes:
            n = notes.split()[1]
            assert notes == f"note {n} " * 4000
        for version in history(studio, "night-drive")[-3:]:
            Sheet.load(version.path)
    assert len(history(studio, "night-drive")) > 3
