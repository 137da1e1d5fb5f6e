"""DDP images checked as a plant's loader reads them (tests/deliver/ddp_reference.py, an
independent reader written from the published layouts): numeric PQ fields, sector
alignment, CD-Text CRCs, and every byte of audio against the 44.1 kHz/16-bit masters
read with the standard library's ``wave``. Gapless albums, continuous masters with
index marks and a hidden pregap track, flags, the disc-length limit, truncated and
mono masters."""

from __future__ import annotations

import json
import struct
import subprocess

import numpy as np
import pytest
import soundfile as sf

from hybrid.errors import HybridError
from hybrid.files.deliver.album import load_album
from hybrid.files.deliver.ddp import Mark, layout_from_marks
from hybrid.files.deliver.master import deliver_master, verify_delivery
from tests.deliver import ddp_reference as ref
from tests.deliver.studio import music, write_wav

SECTOR_FRAMES = 588


def _album(root, name, body):
    folder = root / "albums" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "album.toml").write_text(body, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def gapless(tmp_path_factory):
    """A continuous piece split in three 44.1/16 files, joined with pregap 0."""
    root = tmp_path_factory.mktemp("gapless")
    piece = music(15.0, 44100, level_db=-16, seed=7)
    cuts = [0, 220500 + 123, 441000 + 401, len(piece)]         # joins off the sector grid
    folder = _album(root, "live", '''title = "Live"
performer = "Band"
upc = "5012345678900"
[[tracks]]
file = "a.wav"
title = "A"
isrc = "GBXYZ2600011"
[[tracks]]
file = "b.wav"
title = "B"
pregap_s = 0
[[tracks]]
file = "c.wav"
title = "C"
pregap_s = 0
''')
    for name, lo, hi in zip("abc", cuts, cuts[1:], strict=False):
        write_wav(folder / f"{name}.wav", piece[lo:hi], 44100, "PCM_16")
    report = deliver_master(root, "live")
    return root, folder, cuts, report


def test_gapless_joins_keep_every_sample_and_marks_sit_on_sectors(gapless):
    root, folder, cuts, _ = gapless
    ddp = ref.load(folder / "deliver/DDP")            # refuses non-numeric fields
    masters = b"".join(ref.wav_pcm(folder / f"{n}.wav") for n in "abc")
    pcm = ddp.pcm()
    start = 150 * SECTOR_FRAMES * 4
    assert pcm[:start] == bytes(start)                               # track 1's 2 s pregap
    assert pcm[start:start + len(masters)] == masters                # no sample inserted at the joins
    assert pcm[start + len(masters):] == bytes(len(pcm) - start - len(masters))   # final padding only
    assert len(pcm) % ref.SECTOR == 0
    marks = ddp.marks()
    assert marks[(1, 1)] == 150
    for track, join in ((2, cuts[1]), (3, cuts[2])):
        assert marks[(track, 1)] == (150 * SECTOR_FRAMES + join) // SECTOR_FRAMES
        assert (2, 0) not in marks and (3, 0) not in marks
    assert ddp.leadout() == ddp.sectors == -(-(150 * SECTOR_FRAMES + cuts[3]) // SECTOR_FRAMES)
    assert [p.upc for p in ddp.pq if p.track == "00"] == ["5012345678900"]
    assert [p.isrc for p in ddp.pq if p.track == "01"][0] == "GBXYZ2600011"
    assert all(p.cb1 == 0x01 for p in ddp.pq if p.track not in ("00", "AA"))
    assert ref.cdtext_strings(ddp.cdtext_packs, 0x80)[:4] == ["Live", "A", "B", "C"]


def test_pq_text_has_numeric_hours_as_a_loader_expects(gapless):
    _, folder, _, _ = gapless
    blob = (folder / "deliver/DDP/PQDESCR").read_bytes()
    for i in range(0, len(blob), 64):
        assert blob[i + 8:i + 16].isdigit() and blob[i + 8:i + 10] == b"00"
    (folder / "deliver/DDP/PQDESCR").write_bytes(blob[:8] + b"  " + blob[10:])
    with pytest.raises(ref.LoaderRefusal, match="HRS"):
        ref.load(folder / "deliver/DDP")
    with pytest.raises(HybridError, match="hours"):
        verify_delivery(folder.parent.parent, "live")
    (folder / "deliver/DDP/PQDESCR").write_bytes(blob)
    assert verify_delivery(folder.parent.parent, "live")


@pytest.fixture(scope="module")
def continuous(tmp_path_factory):
    root = tmp_path_factory.mktemp("continuous")
    whole = music(30.0, 44100, level_db=-18, seed=9)
    folder = _album(root, "set", '''title = "Set"
performer = "DJ"
master = "set.wav"
genre = "Dance"
disc_id = "SET-1"
songwriter = "W"
[[tracks]]
title = "Hidden intro, then one"
start = "00:05:10"
indexes = [2.0, "00:04:00"]
copy_permitted = true
[[tracks]]
title = "Two"
start = 15.0
pregap_s = 1.0
pre_emphasis = true
composer = "C"
[[tracks]]
title = "Three"
start = "00:22:37"
pregap_s = 0
message = "Thanks"
[cdtext.de]
title = "Satz"
tracks = [{ title = "Eins" }, { title = "Zwei" }]
''')
    write_wav(folder / "set.wav", whole, 44100, "PCM_16")
    report = deliver_master(root, "set")
    return root, folder, report


def test_continuous_master_marks_indexes_hidden_pregap_and_flags(continuous):
    root, folder, report = continuous
    ddp = ref.load(folder / "deliver/DDP")
    master = ref.wav_pcm(folder / "set.wav")
    first = round((5 + 10 / 75) * 44100)                    # track 1 index 01 in the master
    lead = max(0, 150 * SECTOR_FRAMES - first)              # silence so that index 01 >= 00:02:00
    lead += -(lead + first) % SECTOR_FRAMES
    pcm = ddp.pcm()
    assert pcm[:lead * 4] == bytes(lead * 4)
    assert pcm[lead * 4:lead * 4 + len(master)] == master   # the hidden intro plays in the pregap
    marks = ddp.marks()
    one = (lead + first) // SECTOR_FRAMES
    assert marks[(1, 0)] == 0 and marks[(1, 1)] == one >= 150
    assert marks[(1, 2)] == (lead + first + 2 * 44100) // SECTOR_FRAMES
    assert marks[(1, 3)] == (lead + first + 4 * 44100) // SECTOR_FRAMES
    assert marks[(2, 0)] == (lead + 14 * 44100) // SECTOR_FRAMES
    assert marks[(2, 1)] == (lead + 15 * 44100) // SECTOR_FRAMES
    assert (3, 0) not in marks and marks[(3, 1)] == (lead + round((22 + 37 / 75) * 44100)) // SECTOR_FRAMES
    cb1 = {int(p.track): p.cb1 for p in ddp.pq if p.track not in ("00", "AA")}
    assert cb1 == {1: 0x21, 2: 0x11, 3: 0x01}              # copy permitted; pre-emphasis; neither
    assert ref.cdtext_strings(ddp.cdtext_packs, 0x80, block=0)[:4] == [
        "Set", "Hidden intro, then one", "Two", "Three"]
    assert ref.cdtext_strings(ddp.cdtext_packs, 0x80, block=1)[:4] == ["Satz", "Eins", "Zwei", "Three"]
    assert ref.cdtext_strings(ddp.cdtext_packs, 0x83)[:3] == ["", "", "C"]
    assert ref.cdtext_strings(ddp.cdtext_packs, 0x85)[:4] == ["", "", "", "Thanks"]
    assert ref.cdtext_strings(ddp.cdtext_packs, 0x86)[0] == "SET-1"
    genre = b"".join(p[4:16] for p in ddp.cdtext_packs if p[0] == 0x87)
    assert genre[:2] == (8).to_bytes(2, "big")              # Dance
    sizes = [p for p in ddp.cdtext_packs if p[0] == 0x8F]
    assert len(sizes) == 6 and sizes[2][4 + 4:4 + 6] == bytes([0x09, 0x08])   # en, de
    assert len(report["tracks"][0]["indexes"]) == 2 and report["tracks"][1]["indexes"] == []
    assert report["continuous"] and len(report["tracks"]) == 3
    cue = (folder / "deliver/DDP/IMAGE.cue").read_text(encoding="latin-1")
    assert cue.startswith("REM little-endian samples; for cdrdao use IMAGE.toc")
    assert "FLAGS DCP" in cue and "FLAGS PRE" in cue and "INDEX 03" in cue
    assert verify_delivery(root, "set")


def test_a_hidden_track_from_its_own_file_plays_before_track_1(tmp_path):
    folder = _album(tmp_path, "h", '''title = "H"
[[tracks]]
file = "one.wav"
title = "One"
pregap_file = "hidden.wav"
''')
    write_wav(folder / "hidden.wav", music(7.3, 44100, seed=1), 44100, "PCM_16")
    write_wav(folder / "one.wav", music(5.0, 44100, seed=2), 44100, "PCM_16")
    deliver_master(tmp_path, "h")
    ddp = ref.load(folder / "deliver/DDP")
    hidden, one = ref.wav_pcm(folder / "hidden.wav"), ref.wav_pcm(folder / "one.wav")
    start = ddp.marks()[(1, 1)] * ref.SECTOR
    assert ddp.marks()[(1, 0)] == 0 and start >= 150 * ref.SECTOR
    pcm = ddp.pcm()
    assert pcm[start - len(hidden):start] == hidden and pcm[start:start + len(one)] == one
    assert pcm[:start - len(hidden)] == bytes(start - len(hidden))


def test_a_truncated_wav_is_refused_naming_the_file(tmp_path):
    folder = _album(tmp_path, "t", 'title = "T"\n[[tracks]]\nfile = "cut.wav"\ntitle = "Cut"\n')
    path = write_wav(folder / "cut.wav", music(10.0, 44100), 44100, "PCM_16")
    blob = path.read_bytes()
    path.write_bytes(blob[:len(blob) // 2])                  # header says 10 s, 5 s remain
    with pytest.raises(HybridError, match=r"cut.wav.*truncated: the WAV header declares 1764000 bytes"):
        load_album(tmp_path, "t")


def _sparse_wav(path, frames):
    """A 44.1/16 stereo WAV of ``frames`` frames of silence, written sparsely."""
    data = frames * 4
    header = (b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 2, 44100,
              44100 * 4, 4, 16) + b"data" + struct.pack("<I", data))
    with open(path, "wb") as out:
        out.write(header)
        out.truncate(len(header) + data)


@pytest.mark.parametrize("leadout, fits", [((79 * 60 + 59) * 75 + 74, True), (80 * 60 * 75, False),
                                           ((79 * 60 + 58) * 75, True)])
def test_disc_length_is_held_to_what_80_minute_blanks_report(tmp_path, leadout, fits):
    folder = _album(tmp_path, "long", 'title = "L"\n[[tracks]]\nfile = "long.wav"\ntitle = "Long"\n')
    _sparse_wav(folder / "long.wav", (leadout - 150) * SECTOR_FRAMES)
    if fits:
        assert load_album(tmp_path, "long").tracks[0].frames == (leadout - 150) * SECTOR_FRAMES
    else:
        with pytest.raises(HybridError, match=r"lead-out would start at 80:00:00.*79:59:74"):
            load_album(tmp_path, "long")
    with pytest.raises(ValueError, match="79:59:74"):
        layout_from_marks([Mark(1, 1, 150 * SECTOR_FRAMES)], 80 * 60 * 75, None)


def test_a_mono_master_gives_identical_left_and_right(tmp_path):
    folder = _album(tmp_path, "m", 'title = "M"\n[[tracks]]\nfile = "mono.wav"\ntitle = "Mono"\n')
    write_wav(folder / "mono.wav", music(5.0, 48000, seed=3)[:, :1], 48000, "PCM_24")
    deliver_master(tmp_path, "m")
    cd, rate = sf.read(folder / "deliver/CD/01 Mono.wav", dtype="int16")
    assert rate == 44100 and np.count_nonzero(cd[:, 0]) > 0.9 * len(cd)
    np.testing.assert_array_equal(cd[:, 0], cd[:, 1])


def test_album_normalisation_keeps_relative_levels(tmp_path, cli):
    folder = _album(tmp_path, "n", '''title = "N"
[[tracks]]
file = "loud.wav"
title = "Loud"
[[tracks]]
file = "quiet.wav"
title = "Quiet"
''')
    write_wav(folder / "loud.wav", music(8.0, 48000, level_db=-20, seed=4), 48000)
    write_wav(folder / "quiet.wav", music(8.0, 48000, level_db=-26, seed=5), 48000)
    plain = deliver_master(tmp_path, "n")
    report = deliver_master(tmp_path, "n", normalize_lufs=-16.0)
    assert report["album_integrated_lufs"] == pytest.approx(-16.0, abs=0.1)
    gains = {t["gain_db"] for t in report["tracks"]}
    assert len(gains) == 1
    before = plain["tracks"][0]["cd_integrated_lufs"] - plain["tracks"][1]["cd_integrated_lufs"]
    after = report["tracks"][0]["cd_integrated_lufs"] - report["tracks"][1]["cd_integrated_lufs"]
    assert after == pytest.approx(before, abs=0.05)
    assert "normalised to -16 LUFS" in (folder / "deliver/album-report.txt").read_text()
    saved = json.loads((folder / "deliver/album-report.json").read_text())
    assert saved["album_gain_db"] == pytest.approx(gains.pop(), abs=0.01)
    with pytest.raises(HybridError, match=r"true peak at .* dBTP, over the -1 dBTP ceiling; the loudest "
                                          r"target that keeps every peak under it is"):
        deliver_master(tmp_path, "n", normalize_lufs=-3.0)
    out = cli("deliver", "master", "n", "--studio", str(tmp_path), "--normalize-lufs", "-18", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["album_integrated_lufs"] == pytest.approx(-18.0, abs=0.1)


def test_cdrdao_reads_the_image_in_the_right_byte_order_with_the_marks(continuous):
    """The real cdrdao (scripts/setup installs it) reads IMAGE.toc: its samples are the
    image's little-endian samples, its tracks start at the PQ marks, flags as set."""
    _, folder, _ = continuous
    ddp_dir = folder / "deliver/DDP"
    ddp = ref.load(ddp_dir)
    shown = subprocess.run(["cdrdao", "show-toc", "IMAGE.toc"], cwd=ddp_dir, capture_output=True, text=True,
                           timeout=60)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout + shown.stderr
    marks = ddp.marks()
    for track in (1, 2, 3):
        first = marks.get((track, 0), marks[(track, 1)])
        assert f"TRACK  {track}" in text
        assert f"START  {_msf(first)}(" in text or f"START  {_msf(marks[(track, 1)])}(" in text
    assert "COPY PERMITTED" in text and "PRE-EMPHASIS" in text
    data = subprocess.run(["cdrdao", "show-data", "IMAGE.toc"], cwd=ddp_dir, capture_output=True, text=True,
                          timeout=120)
    rows = [line.split() for line in data.stdout.splitlines() if line.strip().endswith(tuple("0123456789"))
            and ":" in line]
    samples = np.frombuffer(ddp.pcm()[:2000 * 4 + 150 * 2352 * 4], dtype="<i2").reshape(-1, 2)
    shown_samples = [(int(r[1]), int(r[2])) for r in rows[:20000] if r[0].rstrip(":").isdigit()]
    start = ddp.marks()[(1, 1)] * 588          # cdrdao numbers a track's samples from its data start
    nonzero = [(i, s) for i, s in enumerate(shown_samples) if s != (0, 0)][:50]
    assert nonzero, "cdrdao showed only silence"
    for i, pair in nonzero:
        assert pair == tuple(int(v) for v in samples[i]), (i, pair, start)


def _msf(sector: int) -> str:
    minutes, rest = divmod(sector, 4500)
    return f"{minutes:02d}:{rest // 75:02d}:{rest % 75:02d}"
