"""Hostile and broken zips: each is refused as a whole and leaves the studio as it was."""

from __future__ import annotations

import os
import subprocess
import zipfile

import pytest

from hybrid.files.intake import IntakeRefused, Limits, intake_archive
from hybrid.files.intake.limits import MIB, Budget
from hybrid.files.intake.report import Refusal
from recall.store import load_sheet
from tests.intake.helpers import (CHARDEV_MODE, as_deflate64, SYMLINK_MODE, good_stems, make_zip,
                                  forge_zip64_entry_count, patch_declared_size, point_entry_at_first, set_encrypted_flag, special_info, tree)


def refuse(archive, studio, sandbox, rule, **kw):
    """Intake must refuse with ``rule`` and change nothing anywhere in the sandbox."""
    before = tree(sandbox)
    with pytest.raises(IntakeRefused) as caught:
        intake_archive(archive, studio, song="Night Drive", **kw)
    assert caught.value.rule == rule, str(caught.value)
    assert caught.value.report.refused
    assert tree(sandbox) == before, "a refused upload left something behind"
    return caught.value


def test_good_upload_becomes_a_song(studio, uploads, sandbox):
    archive = make_zip(uploads / "Night Drive.zip", good_stems(), folder="Night Drive Stems/")
    before = tree(sandbox)
    calls = []
    report = intake_archive(archive, studio, progress=lambda *a: calls.append(a))
    assert calls[0] == ("unpack", "1Kick.wav", 1, 4) and calls[3][:3] == ("unpack", "4 Keys.wav", 4)
    assert calls[4:] == [("check", n, i, 4) for i, n in
                         enumerate(["1Kick.wav", "2Snare.wav", "3Bass.wav", "4 Keys.wav"], 1)]
    assert report.song == "Night Drive" and not report.refused
    song = studio / "songs" / "night-drive"
    assert sorted(p.name for p in (song / "stems").iterdir()) == [
        "1Kick.wav", "2Snare.wav", "3Bass.wav", "4 Keys.wav"]
    sheet = load_sheet(studio, "night-drive")
    assert {t.name: t.file for t in sheet.tracks} == {
        "1Kick": "stems/1Kick.wav", "2Snare": "stems/2Snare.wav", "3Bass": "stems/3Bass.wav",
        "4 Keys": "stems/4 Keys.wav"}
    assert report.samplerate == 48000
    assert all(f.status == "pass" for f in report.files), report.to_dict()
    added = tree(sandbox) - before
    assert all(p.startswith("studio/songs") for p in added), added  # nothing outside the song
    assert not list(studio.glob(".intake-*"))


@pytest.mark.parametrize("name", [
    "../1Kick.wav", "stems/../../1Kick.wav", "..\\..\\1Kick.wav", "/tmp/1Kick.wav",
    "\\1Kick.wav", "C:\\Users\\1Kick.wav", "C:1Kick.wav",
])
def test_unsafe_names_are_refused(studio, uploads, sandbox, name):
    members = list(good_stems().items()) + [(zipfile.ZipInfo(name), b"RIFF")]
    archive = make_zip(uploads / "evil.zip", members)
    err = refuse(archive, studio, sandbox, "path")
    assert err.member == name


@pytest.mark.parametrize("mode, rule", [(SYMLINK_MODE, "link"), (CHARDEV_MODE, "link")])
def test_links_and_devices_are_refused(studio, uploads, sandbox, mode, rule):
    members = list(good_stems().items()) + [(special_info("5Vox.wav", mode), b"/etc/passwd")]
    err = refuse(make_zip(uploads / "link.zip", members), studio, sandbox, rule)
    assert err.member == "5Vox.wav"


def test_encrypted_member_is_refused(studio, uploads, sandbox):
    members = dict(good_stems(), **{"5Vox.wav": b"\0" * 64})
    archive = make_zip(uploads / "locked.zip", members)
    set_encrypted_flag(archive, "5Vox.wav")
    err = refuse(archive, studio, sandbox, "encrypted")
    assert "password" in err.reason


def test_bomb_by_ratio_is_stopped_while_streaming(studio, uploads, sandbox):
    """bzip2 packs 16 MiB of zeros into ~50 bytes; the cap trips after the first MiB or so."""
    info = zipfile.ZipInfo("5Vox.wav")
    info.compress_type = zipfile.ZIP_BZIP2
    members = list(good_stems().items()) + [(info, bytes(16 * MIB))]
    err = refuse(make_zip(uploads / "bomb.zip", members), studio, sandbox, "bomb")
    assert "ratio" in err.reason and err.member == "5Vox.wav"


def test_bomb_with_lying_header_is_refused(studio, uploads, sandbox):
    """The header claims 1 KiB; 32 MiB of zeros follow. Never trusted: refused, nothing kept."""
    members = list(good_stems().items()) + [("5Vox.wav", bytes(32 * MIB))]
    archive = make_zip(uploads / "liar.zip", members)
    patch_declared_size(archive, "5Vox.wav", 1024)
    err = refuse(archive, studio, sandbox, "corrupt")
    assert err.member == "5Vox.wav" and "lying size" in err.reason


def test_declared_oversize_is_refused_before_unpacking(studio, uploads, sandbox):
    members = list(good_stems().items()) + [("5Vox.wav", bytes(3 * MIB))]
    err = refuse(make_zip(uploads / "big.zip", members), studio, sandbox, "bomb",
                 limits=Limits(max_file_bytes=2 * MIB))
    assert "declares" in err.reason


def test_total_and_count_caps(studio, uploads, sandbox):
    archive = make_zip(uploads / "many.zip", good_stems())
    err = refuse(archive, studio, sandbox, "bomb", limits=Limits(max_total_bytes=50_000))
    assert "in all" in err.reason
    err = refuse(archive, studio, sandbox, "bomb", limits=Limits(max_files=3))
    assert "entries" in err.reason


def test_entry_count_is_read_before_the_central_directory(uploads, tmp_path):
    """The cap is checked on the end record, before zipfile loads every entry (zip and zip64)."""
    from hybrid.files.intake.zip_source import ZipSource, declared_entry_count
    assert declared_entry_count(make_zip(tmp_path / "few.zip", good_stems())) == 4
    real64 = make_zip(tmp_path / "z64.zip", {f"{i}": b"" for i in range(65536)},
                      compression=zipfile.ZIP_STORED)  # 65536 entries need a zip64 end record
    assert declared_entry_count(real64) == 65536
    archive = make_zip(uploads / "many.zip", good_stems())
    forge_zip64_entry_count(archive, 10_000_000)
    assert declared_entry_count(archive) == 10_000_000
    with pytest.raises(Refusal, match="declares 10000000 entries"):
        ZipSource(archive, max_files=2000)


def test_budget_counts_real_bytes():
    """The streaming counter itself: per-file, total and ratio caps on bytes actually seen."""
    budget = Budget(Limits(max_file_bytes=10, max_total_bytes=15, max_ratio=4, ratio_floor_bytes=0))
    budget.start("a", compressed_size=100)
    budget.charge(10)
    with pytest.raises(Refusal, match="one file"):
        budget.charge(1)
    budget.start("b", compressed_size=100)
    with pytest.raises(Refusal, match="allowed .zip bomb or oversized upload"):
        budget.charge(6)
    budget = Budget(Limits(max_ratio=4, ratio_floor_bytes=0))
    budget.start("c", compressed_size=2)
    budget.charge(8)
    with pytest.raises(Refusal, match="ratio"):
        budget.charge(1)


def test_overlapping_entries_bomb_is_refused(studio, uploads, sandbox):
    archive = make_zip(uploads / "overlap.zip", good_stems())
    point_entry_at_first(archive, "3Bass.wav")
    refuse(archive, studio, sandbox, "bomb")


def test_nested_zip_is_not_unpacked(studio, uploads, sandbox):
    inner = make_zip(uploads / "inner.zip", {"5Vox.wav": good_stems()["1Kick.wav"]})
    members = dict(good_stems(), **{"more stems.zip": inner.read_bytes()})
    report = intake_archive(make_zip(uploads / "nested.zip", members), studio, song="Nested")
    nested = [f for f in report.files if f.member == "more stems.zip"][0]
    assert not nested.imported and nested.findings[0].rule == "nested"
    assert not (studio / "songs" / "nested" / "stems" / "5Vox.wav").exists()
    # only a nested archive: nothing to import, refused with a hint
    err = refuse(make_zip(uploads / "only-nested.zip", {"stems.zip": inner.read_bytes()}),
                 studio, sandbox, "empty")
    assert "nested" in err.reason


def test_duplicates_and_case_clashes_are_refused(studio, uploads, sandbox):
    stems = good_stems()
    dup = make_zip(uploads / "dup.zip", [("a/1Kick.wav", stems["1Kick.wav"]),
                                          ("b/1Kick.wav", stems["2Snare.wav"])])
    err = refuse(dup, studio, sandbox, "two-songs")  # the same stem in two folders: two songs
    assert "'a' and 'b' both hold 1Kick.wav" in err.reason
    case = make_zip(uploads / "case.zip", [("1Kick.wav", stems["1Kick.wav"]),
                                            ("1KICK.WAV", stems["2Snare.wav"])])
    refuse(case, studio, sandbox, "duplicate")
    nfd = make_zip(uploads / "nfd.zip", [("5Caf\u00e9.wav", stems["1Kick.wav"]),  # Windows: NFC
                                          ("5Cafe\u0301.wav", stems["2Snare.wav"])])  # macOS: NFD
    refuse(nfd, studio, sandbox, "duplicate")


def test_junk_is_ignored_and_other_files_skipped(studio, uploads):
    members = dict(good_stems(), **{"__MACOSX/._1Kick.wav": b"\0" * 10, ".DS_Store": b"x",
                                    "notes.pdf": b"%PDF", "5Vox.aif": b"FORM"})
    report = intake_archive(make_zip(uploads / "junk.zip", members), studio, song="Junk")
    assert sorted(report.ignored) == [".DS_Store", "__MACOSX/._1Kick.wav"]
    skipped = {f.member: f.findings[0] for f in report.files if not f.imported}
    assert skipped["notes.pdf"].level == "warn"
    assert skipped["5Vox.aif"].level == "fail" and "not WAV" in skipped["5Vox.aif"].message
    assert sorted(p.name for p in (studio / "songs" / "junk" / "stems").iterdir()) == [
        "1Kick.wav", "2Snare.wav", "3Bass.wav", "4 Keys.wav"]


def test_corrupt_and_non_archives_are_refused(studio, uploads, sandbox):
    archive = make_zip(uploads / "cut.zip", good_stems())
    archive.write_bytes(archive.read_bytes()[:-300])
    refuse(archive, studio, sandbox, "corrupt")
    junk = uploads / "stems.rar"
    junk.write_bytes(b"this is not an archive at all" * 10)
    refuse(junk, studio, sandbox, "corrupt")


def test_existing_song_is_not_touched(studio, uploads, sandbox):
    archive = make_zip(uploads / "Night Drive.zip", good_stems())
    intake_archive(archive, studio)
    sheet = (studio / "songs" / "night-drive" / "sheet.toml").read_bytes()
    refuse(archive, studio, sandbox, "exists")
    assert (studio / "songs" / "night-drive" / "sheet.toml").read_bytes() == sheet


def test_deflated_silence_is_not_a_bomb(studio, uploads):
    """A fully silent stem deflates ~1000:1: it must reach the silence rule, not the bomb guard."""
    from tests.intake.helpers import tone, wav_bytes
    silent = wav_bytes(tone(20.0) * 0)  # 20 s of digital silence, 2.9 MB
    report = intake_archive(make_zip(uploads / "quiet.zip", {"1Kick.wav": silent}), studio, song="Q")
    assert [f.level for f in report.files[0].findings if f.rule == "silence"] == ["fail"]


def _info_zip(archive, folder, *args):
    """Run Info-ZIP's ``zip`` (the tool behind many clients' uploads) in ``folder``."""
    subprocess.run(["zip", "-q", *args, str(archive), *sorted(os.listdir(folder))], cwd=folder,
                   check=True)
    return archive


def _stem_folder(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    for name, data in good_stems().items():
        (folder / name).write_bytes(data)
    return folder


def test_info_zip_password_archive_is_refused(studio, uploads, sandbox, tmp_path):
    archive = _info_zip(uploads / "locked.zip", _stem_folder(tmp_path), "-P", "secret")
    refuse(archive, studio, sandbox, "encrypted")


def test_info_zip_symlink_is_refused(studio, uploads, sandbox, tmp_path):
    folder = _stem_folder(tmp_path)
    os.symlink("/etc/passwd", folder / "5Vox.wav")
    archive = _info_zip(uploads / "link.zip", folder, "-y")  # -y stores the link itself
    assert refuse(archive, studio, sandbox, "link").member == "5Vox.wav"


def test_deflate64_zip_is_read_with_unar(studio, uploads):
    stems = good_stems()
    archive = make_zip(uploads / "Windows.zip", stems, level=0)
    as_deflate64(archive)
    with zipfile.ZipFile(archive) as zf, pytest.raises(NotImplementedError):
        zf.open("1Kick.wav")  # zipfile itself cannot
    report = intake_archive(archive, studio)
    assert report.extractor == "unar" and "Deflate64" in report.notes[-1]
    for name, data in stems.items():
        assert (studio / "songs" / "windows" / "stems" / name).read_bytes() == data
