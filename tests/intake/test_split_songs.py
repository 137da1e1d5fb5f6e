"""Two songs in one upload: split when the folders say which song is which, refused otherwise.

Real archives (zip by zipfile, tar.gz by tarfile through bsdtar), real WAVs, a real studio;
the CLI runs as its own process for the JSON case.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile

import pytest
import soundfile as sf

from hybrid.files.intake import IntakeRefused, intake_archive
from recall.store import load_sheet
from tests.intake.helpers import make_zip, tone, tree, wav_bytes


def song(folder: str, names: list[str], seconds: float, seed: int = 0) -> dict[str, bytes]:
    return {f"{folder}/{name}": wav_bytes(tone(seconds, seed=seed + i, freq_hz=110.0 * (i + 1)))
            for i, name in enumerate(names)}


def refused(archive, studio, sandbox, rule, **kw) -> IntakeRefused:
    before = tree(sandbox)
    with pytest.raises(IntakeRefused) as caught:
        intake_archive(archive, studio, **kw)
    assert caught.value.rule == rule, str(caught.value)
    assert tree(sandbox) == before, "a refused upload left something behind"
    return caught.value


def test_one_folder_per_song_numbered_on_its_own_becomes_two_songs(studio, uploads):
    members = {**song("Night Drive", ["1Kick.wav", "2Snare.wav", "3Bass.wav"], 0.5),
               **song("Day Walk", ["1Kick.wav", "2Keys.wav"], 0.7, seed=10),
               "__MACOSX/Day Walk/._1Kick.wav": b"junk"}
    report = intake_archive(make_zip(uploads / "EP stems.zip", members), studio)
    assert [report.song, *[r.song for r in report.also]] == ["Night Drive", "Day Walk"]
    for r, stems, frames in ((report, ["1Kick", "2Snare", "3Bass"], 24000), (report.also[0], ["1Kick", "2Keys"], 33600)):
        folder = studio / "songs" / r.song_dir.rsplit("/", 1)[-1]
        assert sorted(p.stem for p in (folder / "stems").iterdir()) == sorted(stems)
        assert {sf.info(str(p)).frames for p in (folder / "stems").iterdir()} == {frames}
        sheet = load_sheet(studio, folder.name)
        assert sheet.title == r.song and sorted(t.name for t in sheet.tracks) == sorted(stems)
        assert not r.refused and r.notes[0].startswith("One of 2 songs in this upload")
    # the same stem name in both folders is no clash: each song has its own 1Kick
    assert (studio / "songs" / "night-drive" / "stems" / "1Kick.wav").read_bytes() != \
        (studio / "songs" / "day-walk" / "stems" / "1Kick.wav").read_bytes()


def test_a_tar_gz_splits_the_same_way(studio, uploads):
    members = {**song("A Side", ["01 Drums.wav", "02 Bass.wav"], 0.5), **song("B Side", ["01 Drums.wav", "02 Vox.wav"], 0.6)}
    archive = uploads / "sides.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    report = intake_archive(archive, studio)
    assert report.extractor in ("bsdtar", "unar")
    assert [r.song for r in [report, *report.also]] == ["A Side", "B Side"]
    assert sorted(p.name for p in (studio / "songs" / "b-side" / "stems").iterdir()) == ["01 Drums.wav", "02 Vox.wav"]


def test_folders_per_instrument_numbered_each_from_one_stay_one_song(studio, uploads):
    # numbered from 1 in each folder, but one length and no name twice: one song in folders
    members = {**song("Drums", ["1Kick.wav", "2Snare.wav"], 0.5), **song("Music", ["1Bass.wav", "2Keys.wav"], 0.5, seed=5)}
    report = intake_archive(make_zip(uploads / "Night Drive.zip", members), studio)
    assert report.song == "Night Drive" and report.also == []
    assert sorted(p.name for p in (studio / "songs" / "night-drive" / "stems").iterdir()) == \
        ["1Bass.wav", "1Kick.wav", "2Keys.wav", "2Snare.wav"]


def test_two_songs_the_folders_do_not_separate_are_refused(studio, uploads, sandbox):
    # numbering that runs on across the folders: not one folder per song, and two lengths
    members = {**song("Song A", ["1Kick.wav", "2Snare.wav"], 0.5), **song("Song B", ["3Bass.wav", "4Keys.wav"], 0.7)}
    err = refused(make_zip(uploads / "two.zip", members), studio, sandbox, "two-songs")
    assert "'Song A', 'Song B'" in err.reason
    # stems outside the song folders: the folders do not say it all
    loose = {**song("Song A", ["1Kick.wav", "2Snare.wav"], 0.5), **song("Song B", ["1Kick.wav", "2Snare.wav"], 0.7),
             "Mix.wav": wav_bytes(tone(0.5))}
    refused(make_zip(uploads / "loose.zip", loose), studio, sandbox, "two-songs")
    # names without numbers, the same names in both folders
    plain = {**song("Song A", ["Kick.wav", "Snare.wav"], 0.5), **song("Song B", ["Kick.wav", "Snare.wav"], 0.5)}
    refused(make_zip(uploads / "plain.zip", plain), studio, sandbox, "two-songs")


def test_with_song_given_there_is_no_split_and_the_refusal_says_why(studio, uploads, sandbox):
    members = {**song("Song A", ["1Kick.wav", "2Snare.wav"], 0.5), **song("Song B", ["1Kick.wav", "2Snare.wav"], 0.7)}
    err = refused(make_zip(uploads / "two.zip", members), studio, sandbox, "two-songs", song="Night Drive")
    assert "would each be taken as a song without --song" in err.reason


def test_a_split_is_all_or_nothing(studio, uploads, sandbox):
    (studio / "songs" / "day-walk").mkdir(parents=True)   # the second song's folder is taken
    members = {**song("Night Drive", ["1Kick.wav", "2Snare.wav"], 0.5), **song("Day Walk", ["1Kick.wav", "2Keys.wav"], 0.7)}
    err = refused(make_zip(uploads / "ep.zip", members), studio, sandbox, "exists")
    assert "'Day Walk'" in err.reason and not (studio / "songs" / "night-drive").exists()
    # a stem of the second song fails its CRC: nothing of the first song lands either
    (studio / "songs" / "day-walk").rmdir()
    archive = make_zip(uploads / "ep-bad.zip", members, compression=zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    at = data.index(members["Day Walk/2Keys.wav"][2000:2064])
    data[at] ^= 0xFF
    archive.write_bytes(bytes(data))
    refused(archive, studio, sandbox, "corrupt")
    assert not (studio / "songs" / "night-drive").exists()


def test_cli_json_lists_every_song_of_the_upload(studio, uploads):
    members = {**song("Night Drive", ["1Kick.wav", "2Snare.wav"], 0.5), **song("Day Walk", ["1Kick.wav", "2Keys.wav"], 0.7)}
    archive = make_zip(uploads / "ep.zip", members)
    out = subprocess.run([sys.executable, "-m", "hybrid", "intake", str(archive), "--studio", str(studio), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["song"] == "Night Drive" and [s["song"] for s in data["also"]] == ["Day Walk"]
    assert data["summary"]["imported"] == 2 and data["also"][0]["summary"]["imported"] == 2
