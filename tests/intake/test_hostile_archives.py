"""Issue 15 item 4: every archive format through one streaming budget, checksums on every
path, lying sizes, entry caps while listing, empty names, two songs in one upload, the
float clipping rule, titles in any script, songs/ on another disk, short refusal lines.
Every hostile archive is built here, by the tools a client (or an attacker) would use."""

from __future__ import annotations

import io
import os
import resource
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from hybrid.files.intake import IntakeRefused, Limits, intake_archive
from hybrid.files.intake.ext_source import ExternalSource, _tool_refusal
from hybrid.files.intake.limits import MIB
from tests.intake.helpers import (good_stems, make_rar4, make_zip, patch_declared_size, tone, tree,
                                  wav_bytes)


def refused(archive, studio, sandbox, rule, **kw) -> IntakeRefused:
    before = tree(sandbox)
    with pytest.raises(IntakeRefused) as caught:
        intake_archive(archive, studio, song="Night Drive", **kw)
    assert caught.value.rule == rule, str(caught.value)
    assert tree(sandbox) == before, "a refused upload left something behind"
    assert len(str(caught.value)) < 600 and "\n" not in str(caught.value)
    return caught.value


def _flip(path: Path, start: int, count: int) -> None:
    data = bytearray(path.read_bytes())
    for i in range(start, min(start + count, len(data))):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                    zipfile.ZIP_LZMA])
def test_every_zip_method_imports_with_its_crc_checked(studio, uploads, method):
    report = intake_archive(make_zip(uploads / "s.zip", good_stems(), compression=method), studio,
                            song=f"Song {method}")
    assert not report.refused and [f.imported for f in report.files] == [True] * 4


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
@pytest.mark.parametrize("forged_size, rule", [(None, "bomb"), (1000, "corrupt")])
def test_bzip2_and_lzma_bombs_are_refused_in_small_steps(studio, uploads, tmp_path, method,
                                                          forged_size, rule):
    """A 200 MB silent member packed to a few KB (its declared size forged to 1000 bytes or
    not): refused as a bomb or a lying size after about a chunk, memory flat (measured in
    a forked child: zipfile's own bzip2 reader grew it by 396 MB in its first 1 MiB read)."""
    members = [("1Kick.wav", wav_bytes(tone(0.1))), ("5Vox.wav", bytes(200 * MIB))]
    archive = make_zip(uploads / "bomb.zip", members, compression=method)
    assert archive.stat().st_size < 100_000
    if forged_size is not None:
        patch_declared_size(archive, "5Vox.wav", forged_size)
    result = tmp_path / "result"
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            try:
                intake_archive(archive, studio, song="Bomb")
                got = "imported"
            except IntakeRefused as exc:
                got = exc.rule
            grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
            result.write_text(f"{got} {grown_kb}")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    got, grown_kb = result.read_text().split()
    assert got == rule
    assert int(grown_kb) < 40 * 1024, f"memory grew by {int(grown_kb) // 1024} MB"
    assert not (studio / "songs" / "bomb").exists()


def test_flipped_bytes_in_a_compressed_zip_member_are_refused(studio, uploads, sandbox):
    archive = make_zip(uploads / "bad.zip", good_stems(), compression=zipfile.ZIP_BZIP2)
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo("2Snare.wav")
    _flip(archive, info.header_offset + 30 + len("2Snare.wav") + 500, 40)
    err = refused(archive, studio, sandbox, "corrupt")
    assert err.member == "2Snare.wav"


@pytest.mark.parametrize("extractor", ["bsdtar", "unar"])
def test_rar_with_flipped_bytes_is_refused(studio, uploads, sandbox, extractor):
    archive = make_rar4(uploads / "flipped.rar", good_stems())
    _flip(archive, 40_000, 3000)  # inside a stored member's data: the headers stay valid
    err = refused(archive, studio, sandbox, "corrupt", extractor=extractor)
    assert "damaged" in err.reason and err.member


def _bsdtar(archive: Path, src: Path, fmt: str, *names: str) -> Path:
    subprocess.run(["bsdtar", *fmt.split(), "-cf", str(archive), "-C", str(src), *names], check=True)
    return archive


def _stem_folder(tmp_path: Path, stems: dict[str, bytes]) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for name, data in stems.items():
        (src / name).write_bytes(data)
    return src


@pytest.mark.parametrize("extractor", ["bsdtar", "unar"])
def test_damaged_7z_is_refused(studio, uploads, sandbox, tmp_path, extractor):
    src = _stem_folder(tmp_path, good_stems())
    archive = _bsdtar(uploads / "damaged.7z", src, "--format 7zip", *sorted(os.listdir(src)))
    _flip(archive, archive.stat().st_size // 2, 64)
    refused(archive, studio, sandbox, "corrupt", extractor=extractor)


def test_tar_xz_bomb_is_refused_by_the_whole_archive_ratio(studio, uploads, sandbox, tmp_path):
    """Solid formats have no per-member packed size: the archive's own size bounds the ratio."""
    archive = uploads / "bomb.tar.xz"
    with tarfile.open(archive, "w:xz") as tf:
        for name, data in [("1Kick.wav", wav_bytes(tone(0.1))), ("5Vox.wav", bytes(48 * MIB))]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    err = refused(archive, studio, sandbox, "bomb")
    assert "archive bomb" in err.reason


def test_entry_cap_is_applied_while_listing(studio, uploads, sandbox):
    """20,000 empty entries: the listing stops at the cap (the refusal comes from the
    line-by-line listing, not from counting a finished one)."""
    archive = uploads / "many.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for i in range(20_000):
            tf.addfile(tarfile.TarInfo(f"x/{i}.txt"), io.BytesIO(b""))
    err = refused(archive, studio, sandbox, "bomb", limits=Limits(max_files=2000))
    assert err.reason == "more than the 2000 entries allowed"


def test_sizes_come_from_the_archive_not_from_listing_text(uploads, tmp_path):
    """An owner name with a space shifted `bsdtar -tv`'s columns (size read as 0)."""
    stems = good_stems()
    archive = uploads / "owner.tar"
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tf:
        for name, data in stems.items():
            info = tarfile.TarInfo(name)
            info.size, info.uname, info.gname = len(data), "studio owner", "the group"
            tf.addfile(info, io.BytesIO(data))
    with ExternalSource(archive, "bsdtar", max_files=100) as source:
        sizes = {e.name: e.size for e in source.entries()}
    assert sizes == {name: len(data) for name, data in stems.items()}


def test_empty_and_nul_led_names_are_refused(studio, uploads, sandbox):
    archive = make_zip(uploads / "nul.zip", [*good_stems().items(), ("Xevil.wav", b"RIFF")])
    data = archive.read_bytes().replace(b"Xevil.wav", b"\x00evil.wav")  # local and central
    archive.write_bytes(data)
    err = refused(archive, studio, sandbox, "path")
    assert "empty name" in err.reason


def test_two_songs_in_one_upload_are_refused(studio, uploads, sandbox):
    a = {f"Song A/{n}": wav_bytes(tone(0.5, seed=i)) for i, n in enumerate(["1Kick.wav", "2Snare.wav"])}
    b = {f"Song B/{n}": wav_bytes(tone(0.7, seed=i)) for i, n in enumerate(["3Bass.wav", "4Keys.wav"])}
    err = refused(make_zip(uploads / "two.zip", {**a, **b}), studio, sandbox, "two-songs")
    assert "'Song A', 'Song B'" in err.reason
    same_names = {**a, **{f"Song B/{n}": wav_bytes(tone(0.5)) for n in ["1Kick.wav", "2Snare.wav"]}}
    refused(make_zip(uploads / "two-same.zip", same_names), studio, sandbox, "two-songs")


def test_folders_per_instrument_of_one_song_pass(studio, uploads):
    stems = {"Drums/1Kick.wav": wav_bytes(tone(0.5, seed=1)), "Drums/2Snare.wav": wav_bytes(tone(0.5, seed=2)),
             "Music/3Bass.wav": wav_bytes(tone(0.5, seed=3)), "Music/4Keys.wav": wav_bytes(tone(0.5, seed=4))}
    report = intake_archive(make_zip(uploads / "folders.zip", stems), studio, song="Folders")
    assert sum(f.imported for f in report.files) == 4


def test_float_stem_over_full_scale_warns_and_a_flat_top_at_full_scale_fails(studio, uploads):
    hot = tone(0.5, level=1.6)  # a float stem peaking +4 dBFS: legal in float, a warning
    flat = tone(0.5, level=1.6).clip(-1.0, 1.0)  # the same clipped flat at full scale
    report = intake_archive(make_zip(uploads / "float.zip", {
        "1Synth.wav": wav_bytes(hot, subtype="FLOAT"), "2Synth.wav": wav_bytes(flat, subtype="FLOAT")}),
        studio, song="Float")
    verdicts = {f.member: [x.level for x in f.findings if x.rule == "clipping"] for f in report.files}
    assert verdicts == {"1Synth.wav": ["warn"], "2Synth.wav": ["fail"]}


def test_titles_in_any_script_get_distinct_folders(studio, uploads):
    folders = set()
    for title in ["夜のドライブ", "朝のドライブ", "Ночь", "Ὀδύσσεια", "नमस्ते"]:
        report = intake_archive(make_zip(uploads / f"{title}.zip", good_stems()), studio)
        assert report.song == title
        folders.add(Path(report.song_dir).name)
    assert len(folders) == 5 and "song" not in folders


def test_songs_on_another_disk(studio, uploads):
    """songs/ a link to a folder on another file system (/dev/shm is tmpfs): the stems are
    staged on that disk, so the final rename works."""
    other = Path("/dev/shm") / f"hybrid-songs-{os.getpid()}"
    other.mkdir()
    try:
        assert os.stat(other).st_dev != os.stat(studio).st_dev
        songs = studio / "songs"
        if songs.exists():
            songs.rmdir()
        songs.symlink_to(other)
        report = intake_archive(make_zip(uploads / "x.zip", good_stems()), studio, song="Elsewhere")
        assert (other / "elsewhere" / "stems" / "1Kick.wav").is_file() and not report.refused
        assert not [p for p in other.iterdir() if p.name.startswith(".intake-")]
    finally:
        shutil.rmtree(other)


def test_refusal_lines_stay_short_and_readable():
    noise = "bsdtar: (null)\n" + '{"lsarContents": [' + "x" * 60_000 + "\n" + "bsdtar: Error exit delayed\n"
    assert str(_tool_refusal(noise)) == "upload refused: corrupt or unreadable archive (not an archive bsdtar can read)"
    long_line = "Truncated RAR file data " + "y" * 5000
    text = str(_tool_refusal(long_line))
    assert len(text) < 220 and "(null)" not in text


def test_a_60k_member_name_is_cut_in_the_refusal(studio, uploads, sandbox):
    name = "a" * 60_000 + "/../x.wav"
    archive = make_zip(uploads / "long.zip", [*good_stems().items(), (name, b"x")])
    err = refused(archive, studio, sandbox, "path")
    assert len(str(err)) < 600


def test_stems_are_not_all_in_memory(studio, uploads):
    """A sanity check of the budget on a plain upload: the stems land whole."""
    stems = good_stems(seconds=2.0)
    report = intake_archive(make_zip(uploads / "whole.zip", stems), studio, song="Whole")
    for name, data in stems.items():
        assert (Path(report.song_dir) / "stems" / name).read_bytes() == data
    assert np.isfinite([f.peak_dbfs for f in report.files]).all()
