"""``hybrid deliver approve``: the approval set comes from the DDP image (WAVs cut at the PQ
marks, PQ sheet, upload zip), for hybrid's DDPs and for one laid out by hand the way
other tools write them (space-padded numbers, other file names, no CD-Text, no
checksum file)."""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile

import numpy as np
import pytest
import soundfile as sf

from hybrid.errors import HybridError
from hybrid.files.deliver.approve import make_approval
from hybrid.files.deliver.master import deliver_master
from tests.deliver.studio import music, write_wav

SECTOR = 2352


@pytest.fixture(scope="module")
def approved(tmp_path_factory):
    root = tmp_path_factory.mktemp("approve")
    folder = root / "albums" / "set"
    folder.mkdir(parents=True)
    (folder / "album.toml").write_text('''title = "Set"
performer = "DJ"
upc = "5012345678900"
master_id = "SET-2026"
master = "set.wav"
[[tracks]]
title = "One"
start = 6.0
isrc = "GBXYZ2600021"
indexes = [3.0]
[[tracks]]
title = "Two"
start = 14.0
pregap_s = 1.2
copy_permitted = true
''', encoding="utf-8")
    write_wav(folder / "set.wav", music(24.0, 44100, seed=5), 44100, "PCM_16")
    deliver_master(root, "set")
    report = make_approval(root, "set")
    return root, folder, report


def test_track_wavs_are_cut_from_the_image_at_the_pq_marks(approved):
    root, folder, report = approved
    image = (folder / "deliver/DDP/IMAGE.DAT").read_bytes()
    out = folder / "approval"
    pcm = []
    for track in report["tracks"]:
        data, rate = sf.read(out / track["file"], dtype="int16")
        assert rate == 44100
        pcm.append(data.astype("<i2").tobytes())
        assert hashlib.md5((out / track["file"]).read_bytes()).hexdigest() == track["md5"]
    pq = (folder / "deliver/DDP/PQDESCR").read_bytes()
    starts = {(pq[i + 4:i + 6].decode(), pq[i + 6:i + 8].decode()): int(pq[i + 10:i + 12]) * 4500
              + int(pq[i + 12:i + 14]) * 75 + int(pq[i + 14:i + 16]) for i in range(0, len(pq), 64)}
    one, two0, two1, leadout = starts[("01", "01")], starts[("02", "00")], starts[("02", "01")], starts[("AA", "01")]
    assert pcm[0] == image[one * SECTOR:two0 * SECTOR]
    assert pcm[1] == image[two1 * SECTOR:leadout * SECTOR]
    # track 1's pregap holds the first 6 s of the set (a hidden intro): its own WAV
    hidden = report["tracks"][0]["pregap_file"]
    assert hidden and sf.read(out / hidden, dtype="int16")[0].astype("<i2").tobytes() == image[:one * SECTOR]
    # track 2's pregap holds audio too (a continuous set): also its own WAV
    assert report["tracks"][1]["pregap_file"]
    assert report["tracks"][1]["copy_permitted"] and not report["tracks"][0]["copy_permitted"]


def test_pq_sheet_in_csv_text_and_html_for_a4(approved):
    _, folder, report = approved
    out = folder / "approval"
    rows = list(csv.DictReader((out / "PQ sheet.csv").read_text(encoding="utf-8").splitlines()))
    assert [(r["track"], r["index"]) for r in rows] == [("01", "00"), ("01", "01"), ("01", "02"),
                                                      ("02", "00"), ("02", "01")]
    assert rows[1]["isrc"] == "GBXYZ2600021" and rows[1]["title"] == "One" and rows[4]["flags"] == "copy permitted"
    assert rows[3]["length"] == "00:01:15" and rows[4]["gap"] == "00:01:15"
    text = (out / "PQ sheet.txt").read_text(encoding="utf-8")
    assert "UPC/EAN:          5012345678900" in text and "SET-2026" in text and report["checksums"]["IMAGE.DAT"] in text
    page = (out / "PQ sheet.html").read_text(encoding="utf-8")
    assert "@page { size: A4 portrait" in page and "GBXYZ2600021" in page and page.count("<tr>") > 8
    assert json.loads((out / "approval.json").read_text())["zip"]["file"] == "SET-2026.zip"


def test_the_upload_zip_holds_the_fileset_and_its_checksums(approved):
    _, folder, report = approved
    with zipfile.ZipFile(folder / "approval" / "SET-2026.zip") as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"SET-2026/{n}" for n in ["DDPID", "DDPMS", "CDTEXT.BIN", "PQDESCR", "IMAGE.DAT",
                                                          "CHECKSUM.MD5"])
        manifest = archive.read("SET-2026/CHECKSUM.MD5").decode().splitlines()
        for line in manifest:
            digest, name = line[:32], line[34:]
            assert hashlib.md5(archive.read(f"SET-2026/{name}")).hexdigest() == digest
            assert (folder / "deliver/DDP" / name).read_bytes() == archive.read(f"SET-2026/{name}")


def _foreign_ddp(folder, pcm: bytes, marks):
    """A DDP laid out by hand as other writers do: numbers padded with spaces, the image
    called AUDIO.IMG and the PQ stream PQ.BIN, no CD-Text, no checksum file."""
    folder.mkdir(parents=True)
    sectors = len(pcm) // SECTOR
    (folder / "DDPID").write_bytes(("DDP 2.00" + "4006381333931" + " " * 17 + "FOREIGN-1".ljust(48)
                                    + " " + "CD").ljust(128).encode())

    def ms(kind, length, name, sub="", mode=""):
        return ("VVVM" + kind + " " * 8 + str(length).rjust(8) + "       0" + sub.ljust(8) + mode.ljust(2)
                + ("7" if mode else " ") + ("0" if mode else " ") + " " * 13 + " " * 4 + " " * 12
                + " 17" + name.ljust(17)).ljust(128).encode()

    def pq(track, index, sector, isrc=""):
        m, rest = divmod(sector, 4500)
        s, f = divmod(rest, 75)
        return ("VVVS" + track + f"{index:02d}" + "  " + f"{m:02d}{s:02d}{f:02d}" + "01" + "  "
                + isrc.ljust(12) + "".ljust(13)).ljust(64).encode()

    packets = [pq("00", 0, 0)] + [pq(f"{t:02d}", i, s, isrc) for t, i, s, isrc in marks] \
        + [pq("AA", 1, sectors)] * 2
    (folder / "PQ.BIN").write_bytes(b"".join(packets))
    (folder / "AUDIO.IMG").write_bytes(pcm)
    (folder / "DDPMS").write_bytes(ms("S0", len(b"".join(packets)), "PQ.BIN", sub="PQ DESCR")
                                   + ms("D0", sectors, "AUDIO.IMG", mode="DA"))


def test_a_ddp_made_by_another_tool_gives_an_approval_set(tmp_path):
    rng = np.random.default_rng(3)
    pcm = bytes(150 * SECTOR) + (rng.integers(-3000, 3000, size=(400 * 588, 2)).astype("<i2").tobytes())
    _foreign_ddp(tmp_path / "FOREIGN", pcm, [(1, 0, 0, "USRC17607839"), (1, 1, 150, ""), (2, 1, 330, "")])
    report = make_approval(None, str(tmp_path / "FOREIGN"))
    out = tmp_path / "FOREIGN approval"
    assert [t["file"] for t in report["tracks"]] == ["01 Track 1.wav", "02 Track 2.wav"]
    first, _ = sf.read(out / "01 Track 1.wav", dtype="int16")
    assert first.astype("<i2").tobytes() == pcm[150 * SECTOR:330 * SECTOR]
    assert report["tracks"][0]["isrc"] == "USRC17607839" and report["upc"] == "4006381333931"
    assert report["tracks"][0]["pregap_file"] is None          # a silent pregap gets no WAV
    with zipfile.ZipFile(out / "FOREIGN-1.zip") as archive:
        assert "FOREIGN-1/AUDIO.IMG" in archive.namelist() and "FOREIGN-1/CHECKSUM.MD5" in archive.namelist()


def test_a_changed_fileset_is_refused(tmp_path, approved):
    root, folder, _ = approved
    ddp = folder / "deliver/DDP"
    copy = tmp_path / "DDP"
    copy.mkdir()
    for item in ddp.iterdir():
        copy.joinpath(item.name).write_bytes(item.read_bytes())
    blob = bytearray((copy / "IMAGE.DAT").read_bytes())
    blob[5000] ^= 1
    (copy / "IMAGE.DAT").write_bytes(bytes(blob))
    with pytest.raises(HybridError, match=r"IMAGE.DAT: MD5 .* differs from CHECKSUM.MD5"):
        make_approval(None, str(copy))
    assert not (tmp_path / "DDP approval").exists()


def test_cli_approve(cli, approved, tmp_path):
    root, folder, _ = approved
    out = cli("deliver", "approve", "set", "--studio", str(root), "--out", str(tmp_path / "set"), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["zip"]["file"] == "SET-2026.zip"
    out = cli("deliver", "approve", str(tmp_path / "nothing"))
    assert out.returncode == 1 and "not a DDP folder" in out.stderr and "Traceback" not in out.stderr
