"""``hybrid deliver master``: album validation, CD masters, the DDP 2.00 fileset read back
by the parser, cue sheet, checksums, loudness report."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
import soundfile as sf

from hybrid.files.deliver.album import load_album
from hybrid.files.deliver.ddp import FRAMES_PER_SECTOR, SECTOR_BYTES, read_ddp
from hybrid.files.deliver.master import deliver_master, verify_delivery
from hybrid.errors import HybridError
from tests.deliver.studio import make_song, music, write_wav

ALBUM = '''spec = "hybrid-album/1"
title = "Demo EP"
performer = "The Examples"
upc = "5012345678900"
master_id = "DEMO-EP"

[[tracks]]
song = "night-drive"
isrc = "GB-XYZ-26-00001"

[[tracks]]
file = "masters/two.wav"
title = "Second Song"
isrc = "GBXYZ2600002"
pregap_s = 1.0

[[tracks]]
file = "masters/three.wav"
title = "Trois Chansons é"
performer = "Guest"
pregap_s = 0
'''


@pytest.fixture(scope="module")
def delivered(tmp_path_factory):
    root = tmp_path_factory.mktemp("studio")
    make_song(root, "night-drive", "Night Drive")
    write_wav(root / "songs/night-drive/master/Night Drive.wav", music(6.3, 48000, level_db=-20))
    write_wav(root / "albums/demo/masters/two.wav", music(5.1, 96000, level_db=-24, seed=3), 96000)
    write_wav(root / "albums/demo/masters/three.wav", music(4.5, 44100, level_db=-18, seed=4), 44100,
              "PCM_16")
    (root / "albums/demo/album.toml").write_text(ALBUM, encoding="utf-8")
    report = deliver_master(root, "demo")
    return root, report


def test_layout_of_the_deliverables(delivered):
    root, report = delivered
    out = root / "albums/demo/deliver"
    names = ["01 The Examples - Night Drive.wav", "02 The Examples - Second Song.wav",
             "03 Guest - Trois Chansons é.wav"]
    assert sorted(p.name for p in (out / "WAV").iterdir()) == names
    assert sorted(p.name for p in (out / "CD").iterdir()) == names
    assert sorted(p.name for p in (out / "DDP").iterdir()) == sorted(
        ["DDPID", "DDPMS", "PQDESCR", "CDTEXT.BIN", "IMAGE.DAT", "CHECKSUM.MD5", "IMAGE.cue", "IMAGE.toc"])
    # hi-res masters are bit-exact copies
    assert (out / "WAV" / names[1]).read_bytes() == (root / "albums/demo/masters/two.wav").read_bytes()
    for name, frames_in, rate in ((names[0], int(6.3 * 48000), 48000), (names[1], int(5.1 * 96000), 96000),
                                  (names[2], int(4.5 * 44100), 44100)):
        info = sf.info(out / "CD" / name)
        assert (info.samplerate, info.channels, info.subtype) == (44100, 2, "PCM_16")
        assert info.frames == math.ceil(frames_in * 44100 / rate)
    # a 44.1/16 master goes to CD untouched (no dither on samples already on the grid)
    source, _ = sf.read(root / "albums/demo/masters/three.wav", dtype="int16")
    cd, _ = sf.read(out / "CD" / names[2], dtype="int16")
    assert np.array_equal(source, cd)


def test_ddp_read_back_pq_cdtext_and_image(delivered):
    root, report = delivered
    ddp = read_ddp(root / "albums/demo/deliver/DDP")
    assert ddp.ident == {"level": "DDP 2.00", "upc": "5012345678900", "master_id": "DEMO-EP", "type": "CD"}
    assert [p.file for p in ddp.packets] == ["CDTEXT.BIN", "PQDESCR", "IMAGE.DAT"]
    assert ddp.pre2 == 150
    # intended timings, computed here from the running order: 2 s pregap, tracks padded to a
    # sector before a gap; track 3 (pregap 0) follows track 2 gaplessly, its mark on the sector
    # at or before the join
    f1, f2, f3 = math.ceil(6.3 * 44100), math.ceil(5.1 * 44100), math.ceil(4.5 * 44100)
    t1 = math.ceil(f1 / FRAMES_PER_SECTOR)
    start2 = 150 + t1 + 75
    join3 = start2 * FRAMES_PER_SECTOR + f2
    start3 = join3 // FRAMES_PER_SECTOR
    leadout = math.ceil((join3 + f3) / FRAMES_PER_SECTOR)
    got = [(e.track, e.index, e.sector, e.isrc) for e in ddp.pq]
    assert got == [("00", 0, 0, ""), ("01", 0, 0, "GBXYZ2600001"), ("01", 1, 150, ""),
                   ("02", 0, 150 + t1, "GBXYZ2600002"), ("02", 1, start2, ""),
                   ("03", 1, start3, ""), ("AA", 1, leadout, ""), ("AA", 1, leadout, "")]
    assert ddp.pq[0].upc == "5012345678900"
    assert ddp.image_sectors == leadout
    assert ddp.image.stat().st_size == leadout * SECTOR_BYTES
    assert ddp.cdtext_blocks[0].titles == ["Demo EP", "Night Drive", "Second Song", "Trois Chansons é"]
    assert ddp.cdtext_blocks[0].performers == ["The Examples", "The Examples", "The Examples", "Guest"]
    assert ddp.cdtext_blocks[0].isrcs == ["GBXYZ2600001", "GBXYZ2600002", ""]
    # the image is 16-bit little-endian: track 3 (a 44.1/16 master) appears byte for byte,
    # straight after track 2's last sample (no silence inserted at the gapless join)
    source, _ = sf.read(root / "albums/demo/masters/three.wav", dtype="int16")
    raw = ddp.image.read_bytes()
    at = join3 * 4
    assert raw[at:at + source.size * 2] == source.astype("<i2").tobytes()
    cd2, _ = sf.read(root / "albums/demo/deliver/CD/02 The Examples - Second Song.wav", dtype="int16")
    assert raw[at - 8:at] == cd2[-2:].astype("<i2").tobytes()
    assert raw[:150 * SECTOR_BYTES] == bytes(150 * SECTOR_BYTES)      # track 1 pregap


def test_checksums_cue_and_report(delivered):
    root, report = delivered
    ddp_dir = root / "albums/demo/deliver/DDP"
    lines = (ddp_dir / "CHECKSUM.MD5").read_text().splitlines()
    assert [line[34:] for line in lines] == ["DDPID", "DDPMS", "CDTEXT.BIN", "PQDESCR", "IMAGE.DAT"]
    for line in lines:
        assert hashlib.md5((ddp_dir / line[34:]).read_bytes()).hexdigest() == line[:32]
    cue = (ddp_dir / "IMAGE.cue").read_bytes().decode("latin-1")
    assert 'FILE "IMAGE.DAT" BINARY' in cue and "CATALOG 5012345678900" in cue
    assert "INDEX 00 00:00:00" in cue and "INDEX 01 00:02:00" in cue and "ISRC GBXYZ2600002" in cue
    saved = json.loads((root / "albums/demo/deliver/album-report.json").read_text())
    assert saved["ddp"]["checksums"]["IMAGE.DAT"] == lines[-1][:32]
    assert len(saved["ddp"]["verified"]) == 9
    album = saved["album_integrated_lufs"]
    for track in saved["tracks"]:
        assert track["delta_from_album_lu"] == pytest.approx(track["cd_integrated_lufs"] - album, abs=0.02)
        assert track["cd_integrated_lufs"] == pytest.approx(track["integrated_lufs"], abs=0.1)
    assert [t["dithered"] for t in saved["tracks"]] == [True, True, False]
    assert "DDP 2.00 verified" in (root / "albums/demo/deliver/album-report.txt").read_text()


def test_verify_catches_a_changed_byte_and_a_rerun_is_identical(delivered):
    root, report = delivered
    assert len(verify_delivery(root, "demo")) == 9
    image = root / "albums/demo/deliver/DDP/IMAGE.DAT"
    blob = bytearray(image.read_bytes())
    blob[200 * SECTOR_BYTES + 7] ^= 0x01
    image.write_bytes(bytes(blob))
    with pytest.raises(HybridError, match="IMAGE.DAT: MD5|image differs"):
        verify_delivery(root, "demo")
    again = deliver_master(root, "demo")     # deterministic dither: same bytes, same checksums
    assert again["ddp"]["checksums"] == report["ddp"]["checksums"]
    assert (root / "albums/demo/deliver.previous/DDP/IMAGE.DAT").exists()


def _album(tmp_path, body: str, tracks: list[str], seconds=(5.0,)):
    folder = tmp_path / "albums" / "bad"
    folder.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(seconds):
        write_wav(folder / f"t{i + 1}.wav", music(s, 44100), 44100)
    (folder / "album.toml").write_text(body + "".join(tracks), encoding="utf-8")
    return tmp_path


def _track(file="t1.wav", extra=""):
    return f'\n[[tracks]]\nfile = "{file}"\ntitle = "T"\n{extra}\n'


@pytest.mark.parametrize("body, tracks, expected", [
    ('title = "A"\nupc = "5012345678901"\n', [_track()], r"upc: '5012345678901': check digit is 1, expected 0"),
    ('title = "A"\nupc = "12345"\n', [_track()], r"upc: .*expected 12 \(UPC-A\) or 13 \(EAN-13\) digits"),
    ('title = "A"\n', [_track(extra='isrc = "GB-XY-26-0001"')], r"tracks\[0\] \(track 1\)\.isrc: .*expected CC-XXX-YY-NNNNN"),
    ('title = "A"\n', [_track(file="missing.wav")], r"tracks\[0\] \(track 1\)\.file: .*missing.wav: no such file"),
    ('title = "A"\n', [_track(), _track(file="t2.wav")], r"tracks\[1\] \(track 2\)\.file: t2.wav is 3.00 s; a CD track is at least 4 s"),
    ('title = "A"\n', [_track(extra="pregap_s = 1.5")], r"track 1 needs a pregap of at least 2 s"),
    ('title = "A"\n', [_track(extra='performer = "日本"')], r"performer: character '日' is not in ISO 8859-1"),
    ('title = "A"\n', [_track(extra='isrc = "GBXYZ2600001"'), _track(extra='isrc = "GBXYZ2600001"')],
     r"tracks\[1\] \(track 2\)\.isrc: GBXYZ2600001 is also track 1's ISRC"),
    ('title = "A"\n', [_track()] * 100, r"tracks: 100 tracks, a CD holds at most 99"),
    ('title = "A"\n', ['\n[[tracks]]\nsong = "ghost"\n'], r"tracks\[0\] \(track 1\)\.song: no song 'ghost'"),
    ('title = "A"\n', [_track(extra=f'message = "{"m" * 150}"\nsongwriter = "{"s" * 150}"')] * 12,
     r"cdtext: the 'en' block needs \d+ packs; a block holds 256 \(253 of text, \d+ bytes too many"),
    ('title = "A"\n[cdtext.xx]\ntitle = "B"\n', [_track()], r"cdtext.xx: unknown language"),
])
def test_album_errors_name_the_file_key_and_expectation(tmp_path, body, tracks, expected):
    seconds = (5.0, 3.0) if "t2.wav" in "".join(tracks) else (5.0,)
    studio = _album(tmp_path, body, tracks, seconds)
    with pytest.raises(HybridError, match=expected) as info:
        load_album(studio, "bad")
    assert str(info.value).startswith(str(studio / "albums/bad/album.toml"))


def test_cli_reports_and_refuses(cli, delivered, tmp_path):
    root, _ = delivered
    out = cli("deliver", "master", "demo", "--studio", str(root), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["leadout"] == json.loads(
        (root / "albums/demo/deliver/album-report.json").read_text())["leadout"]
    out = cli("deliver", "verify", "demo", "--studio", str(root))
    assert out.returncode == 0 and "DDP verified" in out.stdout and "MD5 of 5 files" in out.stdout
    studio = _album(tmp_path, 'title = "A"\nupc = "5012345678901"\n', [_track()])
    out = cli("deliver", "master", "bad", "--studio", str(studio))
    assert out.returncode == 1
    assert "album.toml: upc:" in out.stderr and "expected 0" in out.stderr
    assert not (studio / "albums/bad/deliver").exists()
