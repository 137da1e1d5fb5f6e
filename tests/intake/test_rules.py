"""The preparation rules, one broken at a time on real WAVs inside real zips."""

from __future__ import annotations

import numpy as np
import pytest

from hybrid.files.intake import intake_archive
from hybrid.files.intake.audio_checks import BLOCK_FRAMES
from tests.intake.helpers import SR, good_stems, make_zip, tone, wav_bytes, with_bext


def run(uploads, studio, extra: dict[str, bytes], *, base: bool = True, song: str = "Song"):
    members = dict(good_stems()) if base else {}
    members.update(extra)
    return intake_archive(make_zip(uploads / "up.zip", members), studio, song=song)


def findings(report, member: str) -> dict[str, str]:
    f = next(f for f in report.files if f.member == member)
    return {x.rule: x.level for x in f.findings}


def one(report, member: str):
    return next(f for f in report.files if f.member == member)


def test_every_rule_passes_on_a_good_upload(uploads, studio):
    report = run(uploads, studio, {})
    kick = findings(report, "1Kick.wav")
    assert kick == {"format": "pass", "samplerate": "pass", "resolution": "pass", "silence": "pass",
                    "clipping": "pass", "name": "pass", "one-rate": "pass", "one-length": "pass"}
    assert findings(report, "4 Keys.wav")["mono-as-stereo"] == "pass"
    assert report.summary() == {"imported": 4, "pass": 4, "info": 0, "warn": 0, "fail": 0,
                                "skipped": 0, "ignored": 0}


def test_16_bit_fails_but_is_kept(uploads, studio):
    report = run(uploads, studio, {"5Vox.wav": wav_bytes(tone(0.5), subtype="PCM_16")})
    f = one(report, "5Vox.wav")
    assert f.imported and f.status == "fail" and findings(report, "5Vox.wav")["resolution"] == "fail"
    assert (studio / "songs" / "song" / "stems" / "5Vox.wav").is_file()


def test_32_bit_integer_warns(uploads, studio):
    report = run(uploads, studio, {"5Vox.wav": wav_bytes(tone(0.5), subtype="PCM_32")})
    assert findings(report, "5Vox.wav")["resolution"] == "warn"


def test_low_and_mixed_sample_rates(uploads, studio):
    low = wav_bytes(tone(0.5, sr=32000), sr=32000)
    report = run(uploads, studio, {"5Vox.wav": low})
    got = findings(report, "5Vox.wav")
    assert got["samplerate"] == "fail" and got["one-rate"] == "fail"
    assert report.samplerate == SR


def test_44k1_is_accepted(uploads, studio):
    stems = {n: wav_bytes(tone(0.5, sr=44100), sr=44100) for n in ("1Kick.wav", "2Snare.wav")}
    report = run(uploads, studio, stems, base=False)
    assert report.samplerate == 44100 and all(f.status == "pass" for f in report.files)


def test_rf64_is_a_wav(uploads, studio):
    report = run(uploads, studio, {"5Vox.wav": wav_bytes(tone(0.5), fmt="RF64")})
    assert findings(report, "5Vox.wav")["format"] == "pass"


def test_lengths_must_match(uploads, studio):
    report = run(uploads, studio, {"5Vox.wav": wav_bytes(tone(0.5 + 100 / SR))})
    assert findings(report, "5Vox.wav")["one-length"] == "fail"
    assert "+100" in [x.message for x in one(report, "5Vox.wav").findings if x.rule == "one-length"][0]


def test_bwf_start_must_match(uploads, studio):
    stems = {name: with_bext(data, 48000 * 3600) for name, data in good_stems().items()
             if name != "3Bass.wav"}
    stems["3Bass.wav"] = with_bext(wav_bytes(tone(0.5, seed=3)), 48000 * 3600 + 480)
    report = run(uploads, studio, stems, base=False)
    assert one(report, "1Kick.wav").time_reference == 48000 * 3600
    assert findings(report, "1Kick.wav")["start"] == "pass"
    assert findings(report, "3Bass.wav")["start"] == "fail"


@pytest.mark.parametrize("name, rule, level", [
    ("Audio 1", "name", "warn"), ("Track 07", "name", "warn"), ("bounce", "name", "warn"),
    ("Kick", "name", "warn"), ("5Drums", "drums", "warn"), ("5DrumBus", "drums", "warn"),
    ("5 Kit", "drums", "warn"), ("5 Vox Delay", "effects", "info"), ("5FX", "effects", "info"),
])
def test_naming_rules(uploads, studio, name, rule, level):
    report = run(uploads, studio, {f"{name}.wav": wav_bytes(tone(0.5))})
    assert findings(report, f"{name}.wav")[rule] == level


@pytest.mark.parametrize("name", ["6 Kick Drum", "7 Drum Room", "02 Snare", "3Bass"])
def test_good_names_pass(uploads, studio, name):
    report = run(uploads, studio, {f"{name}.wav": wav_bytes(tone(0.5))}, base=False)
    got = findings(report, f"{name}.wav")
    assert got["name"] == "pass" and "drums" not in got


def test_silence(uploads, studio):
    quiet = tone(0.5, level=0) * 0 + 1e-6  # -120 dBFS: silent for practical purposes
    report = run(uploads, studio, {"5Vox.wav": wav_bytes(quiet, subtype="FLOAT"),
                                   "6Gtr.wav": wav_bytes(tone(0.5) * 0)})
    assert findings(report, "5Vox.wav")["silence"] == "fail"
    assert findings(report, "6Gtr.wav")["silence"] == "fail"
    assert one(report, "6Gtr.wav").to_dict()["peak_dbfs"] is None  # -inf is not JSON


@pytest.mark.parametrize("start", [1000, BLOCK_FRAMES - 2])  # inside a block, across two blocks
def test_clipping_runs(uploads, studio, start):
    x = tone(3.0, level=0.5)
    x[start:start + 4, 0] = 1.0
    y = tone(3.0, level=0.5)
    y[500, 0] = 1.0  # one full-scale sample is a peak, not clipping
    y[900:903, 0] = -1.0  # three in a row: below the 4-sample rule
    stems = {"1Kick.wav": wav_bytes(x), "2Snare.wav": wav_bytes(y)}
    report = run(uploads, studio, stems, base=False)
    assert findings(report, "1Kick.wav")["clipping"] == "fail"
    assert findings(report, "2Snare.wav")["clipping"] == "pass"


def test_clipping_at_24_bit_positive_full_scale(uploads, studio):
    x = tone(0.5, level=0.5)
    x[100:110, 0] = 8388607 / 8388608  # the largest positive 24-bit code
    report = run(uploads, studio, {"1Kick.wav": wav_bytes(x)}, base=False)
    assert findings(report, "1Kick.wav")["clipping"] == "fail"


def test_float_over_full_scale_warns(uploads, studio):
    x = tone(0.5, level=0.5)
    x[100, 0] = 1.5
    report = run(uploads, studio, {"1Kick.wav": wav_bytes(x, subtype="FLOAT")}, base=False)
    assert findings(report, "1Kick.wav")["clipping"] == "warn"


def test_mono_saved_as_stereo_warns(uploads, studio):
    mono = tone(0.5)
    report = run(uploads, studio, {"5Vox.wav": wav_bytes(np.hstack([mono, mono]))})
    assert findings(report, "5Vox.wav")["mono-as-stereo"] == "warn"
    assert one(report, "5Vox.wav").status == "warn"


def test_not_wav_inside_a_wav_name_is_skipped(uploads, studio):
    aiff = wav_bytes(tone(0.5), fmt="AIFF")
    report = run(uploads, studio, {"5Vox.wav": aiff, "6Gtr.wav": b"RIFF\0\0\0\0garbage"})
    for member in ("5Vox.wav", "6Gtr.wav"):
        f = one(report, member)
        assert not f.imported and findings(report, member)["format"] == "fail"
    assert not (studio / "songs" / "song" / "stems" / "5Vox.wav").exists()
    assert "5Vox" not in (studio / "songs" / "song" / "sheet.toml").read_text()


def test_truncated_wav_fails(uploads, studio):
    cut = wav_bytes(tone(0.5))[:-3000]
    report = run(uploads, studio, {"5Vox.wav": cut})
    got = findings(report, "5Vox.wav")
    assert got["integrity"] == "fail"
    assert "integrity" not in findings(report, "1Kick.wav")


def test_rf64_layout_is_read(tmp_path):
    from hybrid.files.intake.riff import read_layout
    path = tmp_path / "x.wav"
    path.write_bytes(wav_bytes(tone(0.5), fmt="RF64"))
    layout = read_layout(path)
    assert layout.data_bytes == int(0.5 * SR) * 3 and layout.missing_bytes == 0 and layout.trailing_bytes == 0
