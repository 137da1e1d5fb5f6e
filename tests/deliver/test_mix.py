"""``hybrid deliver mix``: mix and instrumental copied bit-exact under consistent names,
a listening copy on target under the ceiling, clear refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from hybrid.files.deliver.mix import deliver_mix
from hybrid.files.deliver.song import find_mix_files, load_song
from hybrid.errors import HybridError
from hybrid.files.loudness import measure_file
from tests.deliver.studio import make_song, music, write_wav

FS = 48000


@pytest.fixture
def studio(tmp_path):
    folder = make_song(tmp_path, "night-drive", "Night Drive")
    write_wav(folder / "mix" / "Night Drive v3.wav", music(12, level_db=-20, transient_db=-2))
    write_wav(folder / "mix" / "Night Drive v3 Instrumental.wav", music(12, level_db=-22, seed=1))
    return tmp_path


def test_mix_instrumental_and_listening_copy(studio):
    report = deliver_mix(studio, "night-drive", target_lufs=-14, ceiling_dbtp=-1)
    deliver = studio / "songs" / "night-drive" / "deliver"
    names = sorted(p.name for p in deliver.iterdir())
    assert names == ["The Examples - Night Drive (Instrumental).wav",
                     "The Examples - Night Drive (Listening -14 LUFS).wav",
                     "The Examples - Night Drive (Mix).wav",
                     "delivery-report.json", "delivery-report.txt"]
    mix_dir = studio / "songs" / "night-drive" / "mix"
    assert (deliver / names[2]).read_bytes() == (mix_dir / "Night Drive v3.wav").read_bytes()
    assert (deliver / names[0]).read_bytes() == (mix_dir / "Night Drive v3 Instrumental.wav").read_bytes()

    listening = measure_file(deliver / names[1])
    assert listening.integrated_lufs == pytest.approx(-14.0, abs=0.1)
    assert listening.true_peak_dbtp <= -1.0
    assert sf.info(deliver / names[1]).subtype == "PCM_24"
    # the bursts needed limiting: gain alone would have gone over the ceiling
    assert report["listening"]["limiting_db"] > 0.5
    assert report["listening"]["gain_db"] == pytest.approx(-14.0 - report["files"][0]["integrated_lufs"], abs=0.3)
    saved = json.loads((deliver / "delivery-report.json").read_text())
    assert saved["listening"]["name"] == names[1]
    assert "Listening -14 LUFS" in (deliver / "delivery-report.txt").read_text()


def test_quiet_target_needs_no_limiter_and_is_gain_only(studio):
    report = deliver_mix(studio, "night-drive", target_lufs=-30, ceiling_dbtp=-1)
    assert report["listening"]["limiting_db"] == 0.0
    deliver = studio / "songs" / "night-drive" / "deliver"
    copy, _ = sf.read(deliver / "The Examples - Night Drive (Listening -30 LUFS).wav")
    source, _ = sf.read(studio / "songs" / "night-drive" / "mix" / "Night Drive v3.wav")
    gain = np.sum(copy * source) / np.sum(source * source)
    assert 20 * np.log10(gain) == pytest.approx(report["listening"]["gain_db"], abs=0.01)
    # a pure gain (plus 24-bit TPDF dither): the residual is within 2 LSB
    assert np.max(np.abs(copy - source * gain)) < 2.5 / 2 ** 23


def test_beyond_the_limiting_policy_the_closest_copy_is_delivered_with_the_figures(studio):
    report = deliver_mix(studio, "night-drive", target_lufs=-6, ceiling_dbtp=-1, max_limiting_db=3)
    listening = report["listening"]
    assert not listening["target_reached"] and listening["needed_limiting_db"] > 3
    assert listening["limiting_db"] <= 3.05
    assert listening["integrated_lufs"] < -6.5
    deliver = studio / "songs" / "night-drive" / "deliver"
    name = f"The Examples - Night Drive (Listening {listening['integrated_lufs']:.1f} LUFS).wav"
    assert listening["name"] == name and (deliver / name).is_file()
    assert measure_file(deliver / name).true_peak_dbtp <= -1.0
    assert any(f"-6 LUFS under -1 dBTP needs {listening['needed_limiting_db']:.1f} dB of peak limiting" in w
               and "the limit is 3 dB" in w and "closest copy" in w for w in report["warnings"])
    assert not [p for p in (studio / "songs" / "night-drive").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("level_db, transient_db, seed", [
    (-27.0, -1.0, 2),     # -18.9 LUFS, +0.9 dBTP (the mix): 4.9 dB of gain, 6.8 dB of limiting
    (-30.0, 2.0, 2),      # -17.7 LUFS, +3.0 dBTP: 7.7 dB of limiting
    (-35.0, -7.0, 3),     # -25.9 LUFS, -5.9 dBTP: 11.9 dB of gain
])
def test_ordinary_mixes_reach_the_target_within_0_1_lu(tmp_path, level_db, transient_db, seed):
    folder = make_song(tmp_path, "song", "Song")
    write_wav(folder / "mix" / "Song.wav", music(20, level_db=level_db, transient_db=transient_db, seed=seed))
    mix = measure_file(folder / "mix" / "Song.wav")
    report = deliver_mix(tmp_path, "song", target_lufs=-14, ceiling_dbtp=-1)
    listening = report["listening"]
    copy = measure_file(folder / "deliver" / "The Examples - Song (Listening -14 LUFS).wav")
    assert listening["target_reached"]
    assert copy.integrated_lufs == pytest.approx(-14.0, abs=0.1)
    assert copy.true_peak_dbtp <= -1.0
    assert -14.0 - mix.integrated_lufs > 3.5 and listening["limiting_db"] > 3.0


def test_identification_by_name_and_by_deliver_table(tmp_path):
    folder = make_song(tmp_path, "a", "A")
    for name in ("A full.wav", "A alt.wav", "A inst.wav"):
        write_wav(folder / "mix" / name, music(1))
    mix, inst = find_mix_files(load_song(tmp_path, "a"))
    assert (mix.name, inst.name) == ("A full.wav", "A inst.wav")

    folder = make_song(tmp_path, "b", "B", extra='\n[deliver]\nmix = "mix/take 2.wav"\n')
    for name in ("take 1.wav", "take 2.wav"):
        write_wav(folder / "mix" / name, music(1))
    mix, inst = find_mix_files(load_song(tmp_path, "b"))
    assert mix.name == "take 2.wav" and inst is None

    folder = make_song(tmp_path, "c", "C")
    for name in ("take 1.wav", "take 2.wav"):
        write_wav(folder / "mix" / name, music(1))
    with pytest.raises(HybridError, match=r"cannot tell the full mix among: take 1.wav, take 2.wav.*\[deliver\]"):
        find_mix_files(load_song(tmp_path, "c"))


def test_bad_inputs_get_one_line(cli, tmp_path):
    folder = make_song(tmp_path, "x", "X", extra='\n[deliver]\nmix = "../../escape.wav"\n')
    with pytest.raises(HybridError, match=r"deliver\.mix: '../../escape.wav' is outside the song folder"):
        deliver_mix(tmp_path, "x")
    with pytest.raises(HybridError, match="no sheet.toml"):
        deliver_mix(tmp_path, "nope")
    with pytest.raises(HybridError, match="single folder name"):
        deliver_mix(tmp_path, "../x")
    (folder / "sheet.toml").write_text((folder / "sheet.toml").read_text().split("[deliver]")[0])
    (folder / "mix" / "X.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    out = cli("deliver", "mix", "x", "--studio", str(tmp_path))
    assert out.returncode == 1 and "X.wav" in out.stderr and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1


def test_cli_json(cli, studio):
    out = cli("deliver", "mix", "night-drive", "--studio", str(studio), "--target-lufs", "-16",
              "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["listening"]["name"] == "The Examples - Night Drive (Listening -16 LUFS).wav"
    assert abs(data["listening"]["integrated_lufs"] + 16) <= 0.1
