"""Non-zip uploads through the packaged tools (lsar from unar, bsdtar from libarchive-tools).

No free tool creates .rar files, so the RAR 4 archives here are written by the tests to
the published format (stored members; see helpers.make_rar4), and read by the real
bsdtar and lsar. .7z and .tar uploads, which bsdtar creates, exercise the same path with
compression, hard links and devices.
"""

from __future__ import annotations

import io
import stat
import subprocess
import tarfile

import pytest

from hybrid.files.intake import IntakeRefused, intake_archive
from recall.store import load_sheet
from tests.intake.helpers import good_stems, make_rar4, tree


def refuse(archive, studio, sandbox, rule, extractor="auto"):
    before = tree(sandbox)
    with pytest.raises(IntakeRefused) as caught:
        intake_archive(archive, studio, song="Song", extractor=extractor)
    assert caught.value.rule == rule, str(caught.value)
    assert tree(sandbox) == before
    return caught.value


def make_tar(path, members: list[tarfile.TarInfo | tuple[str, bytes]]):
    with tarfile.open(path, "w") as tf:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tf.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tf.addfile(info, io.BytesIO(m[1]))
    return path


@pytest.mark.parametrize("extractor", ["auto", "unar"])
def test_rar_upload_becomes_a_song(studio, uploads, sandbox, extractor):
    stems = {f"Night Drive/{k}": v for k, v in good_stems().items()}
    archive = make_rar4(uploads / "Night Drive.rar", stems)
    before = tree(sandbox)
    report = intake_archive(archive, studio, extractor=extractor)
    assert report.extractor == ("bsdtar" if extractor == "auto" else "unar")
    assert not report.refused and [f.status for f in report.files] == ["pass"] * 4
    for f in report.files:  # byte for byte what the client sent
        name = f.member.split("/")[-1]
        assert (studio / "songs" / "night-drive" / f.file).read_bytes() == stems[f"Night Drive/{name}"]
    assert {t.name for t in load_sheet(studio, "night-drive").tracks} == {"1Kick", "2Snare", "3Bass", "4 Keys"}
    assert all(p.startswith("studio/songs/night-drive") for p in tree(sandbox) - before)


def test_rar_symlink_is_refused(studio, uploads, sandbox):
    members = dict(good_stems(), **{"5Vox.wav": b"/etc/passwd"})
    archive = make_rar4(uploads / "link.rar", members, modes={"5Vox.wav": stat.S_IFLNK | 0o777})
    assert refuse(archive, studio, sandbox, "link").member == "5Vox.wav"


def test_rar_encrypted_member_is_refused(studio, uploads, sandbox):
    archive = make_rar4(uploads / "locked.rar", good_stems(), encrypted={"2Snare.wav"})
    assert refuse(archive, studio, sandbox, "encrypted").member == "2Snare.wav"


@pytest.mark.parametrize("extractor", ["auto", "unar"])
def test_rar_traversal_is_refused(studio, uploads, sandbox, extractor):
    members = dict(good_stems(), **{"../../5Vox.wav": good_stems()["1Kick.wav"]})
    refuse(make_rar4(uploads / "evil.rar", members), studio, sandbox, "path", extractor)


def test_rar_lying_size_is_refused_by_unar(studio, uploads, sandbox):
    """The header lists 1000 bytes more than unar will unpack: never trusted, refused."""
    stems = good_stems()
    archive = make_rar4(uploads / "liar.rar", stems,
                        lie_sizes={"2Snare.wav": len(stems["2Snare.wav"]) + 1000})
    err = refuse(archive, studio, sandbox, "corrupt", "unar")
    assert err.member == "2Snare.wav"


@pytest.mark.parametrize("extractor", ["bsdtar", "unar"])
def test_rar_lying_size_is_refused(studio, uploads, extractor):
    """A member whose header claims 1000 bytes more than its data: bsdtar's tar stream
    would pad it with zeros; the archive's own checksum test refuses it on every path."""
    stems = good_stems()
    archive = make_rar4(uploads / "liar.rar", stems,
                        lie_sizes={"2Snare.wav": len(stems["2Snare.wav"]) + 1000})
    with pytest.raises(IntakeRefused) as info:
        intake_archive(archive, studio, song="Liar", extractor=extractor)
    assert info.value.rule == "corrupt" and info.value.member == "2Snare.wav"
    assert not (studio / "songs" / "liar").exists()


def test_unar_takes_over_when_bsdtar_cannot_read(studio, uploads, monkeypatch):
    """auto: a failing bsdtar listing hands the archive to unar (bsdtar swapped for /bin/false)."""
    import shutil as _shutil
    real_which = _shutil.which
    monkeypatch.setattr("hybrid.files.intake.ext_source.shutil.which",
                        lambda tool: "/bin/false" if tool == "bsdtar" else real_which(tool))
    report = intake_archive(make_rar4(uploads / "x.rar", good_stems()), studio, song="X")
    assert report.extractor == "unar" and len(report.files) == 4


def test_7z_made_by_bsdtar(studio, uploads, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name, data in good_stems().items():
        (src / name).write_bytes(data)
    archive = uploads / "Seven.7z"
    subprocess.run(["bsdtar", "--format", "7zip", "-cf", str(archive), "-C", str(src), "."], check=True)
    report = intake_archive(archive, studio)
    assert report.song == "Seven" and len([f for f in report.files if f.imported]) == 4


@pytest.mark.parametrize("kind", [tarfile.LNKTYPE, tarfile.SYMTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE])
def test_tar_links_and_devices_are_refused(studio, uploads, sandbox, kind):
    special = tarfile.TarInfo("5Vox.wav")
    special.type = kind
    special.linkname = "1Kick.wav" if kind in (tarfile.LNKTYPE, tarfile.SYMTYPE) else ""
    members = list(good_stems().items()) + [special]
    err = refuse(make_tar(uploads / "odd.tar", members), studio, sandbox, "link")
    assert err.member == "5Vox.wav"


def test_tar_absolute_name_is_refused(studio, uploads, sandbox):
    members = list(good_stems().items()) + [("/etc/5Vox.wav", b"RIFF")]
    refuse(make_tar(uploads / "abs.tar", members), studio, sandbox, "path")


def test_truncated_rar_is_refused(studio, uploads, sandbox):
    archive = make_rar4(uploads / "cut.rar", good_stems())
    archive.write_bytes(archive.read_bytes()[:-5000])
    refuse(archive, studio, sandbox, "corrupt")


def test_7z_bomb_is_refused_before_unpacking(studio, uploads, sandbox, tmp_path):
    """LZMA packs 24 MiB of zeros into a few KiB; the declared size trips the per-file cap."""
    from hybrid.files.intake import Limits
    from hybrid.files.intake.limits import MIB
    src = tmp_path / "src"
    src.mkdir()
    (src / "1Kick.wav").write_bytes(good_stems()["1Kick.wav"])
    with open(src / "2Snare.wav", "wb") as fh:
        fh.truncate(24 * MIB)
    archive = uploads / "bomb.7z"
    subprocess.run(["bsdtar", "--format", "7zip", "-cf", str(archive), "-C", str(src), "."], check=True)
    assert archive.stat().st_size < MIB
    before = tree(sandbox)
    with pytest.raises(IntakeRefused) as caught:
        intake_archive(archive, studio, song="Bomb", limits=Limits(max_file_bytes=8 * MIB))
    assert caught.value.rule == "bomb" and caught.value.member.endswith("2Snare.wav")
    assert tree(sandbox) == before
