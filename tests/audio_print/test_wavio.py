"""Our WAV writer: libsndfile reads back what we wrote, and the BWF time reference survives."""

import struct

import numpy as np
import pytest
import soundfile as sf

from hybrid.live.audio.wavio import Bext, WavWriter, read_bext
from hybrid.errors import HybridError


@pytest.mark.parametrize("channels", [1, 2, 6])
@pytest.mark.parametrize("fmt", ["pcm24", "float32"])
def test_soundfile_reads_back_what_we_wrote(tmp_path, fmt, channels):
    rng = np.random.default_rng(channels)
    x = (rng.uniform(-0.9, 0.9, (12345, channels))).astype(np.float32)
    path = tmp_path / "out.wav"
    with WavWriter(path, 44100, channels, fmt, bext=Bext.new(2 ** 33 + 17, description="print")) as w:
        w.write(x[:1000])
        w.write(np.asfortranarray(x[1000:]))      # any memory layout
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.frames) == (44100, channels, 12345)
    assert info.subtype == ("PCM_24" if fmt == "pcm24" else "FLOAT")
    y, _ = sf.read(path, dtype="float64", always_2d=True)
    tol = 0.5 / 8388608 if fmt == "pcm24" else 0.0
    assert np.max(np.abs(y - x)) <= tol + 1e-12
    bext = read_bext(path)
    assert bext.time_reference == 2 ** 33 + 17 and bext.description == "print"


def test_pcm24_clips_and_counts(tmp_path):
    x = np.array([[0.5], [1.5], [-2.0], [0.0]], dtype=np.float32)
    with WavWriter(tmp_path / "c.wav", 48000, 1, "pcm24") as w:
        w.write(x)
    y, _ = sf.read(tmp_path / "c.wav", dtype="int32")
    assert list(y >> 8) == [4194304, 8388607, -8388608, 0]
    levels = w.levels()
    assert levels.clipped_samples == [2]
    assert levels.file_peak_dbfs == pytest.approx(20 * np.log10(2.0))


def test_levels_of_a_sine(tmp_path):
    t = np.arange(48000) / 48000
    x = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)[:, None]
    with WavWriter(tmp_path / "s.wav", 48000, 1, "float32") as w:
        w.write(x)
    d = w.levels().to_dict()
    assert d["peak_dbfs"] == pytest.approx(-6.02, abs=0.01)
    assert d["rms_dbfs"] == pytest.approx(-9.03, abs=0.01)
    assert d["clipped_samples"] == 0


def test_bext_of_files_without_one_and_of_garbage(tmp_path):
    sf.write(tmp_path / "plain.wav", np.zeros(100), 48000, subtype="PCM_16")
    assert read_bext(tmp_path / "plain.wav") is None
    (tmp_path / "junk.wav").write_bytes(b"not a wav at all")
    assert read_bext(tmp_path / "junk.wav") is None
    with pytest.raises(HybridError, match="missing.wav"):
        read_bext(tmp_path / "missing.wav")


def test_bext_chunk_copied_verbatim(tmp_path):
    src = Bext.new(123456789, description="Kick, take 3", originator="ProTools",
                   coding_history="A=PCM,F=48000,W=24,M=mono\r\n")
    with WavWriter(tmp_path / "a.wav", 48000, 1, "pcm24", bext=src) as w:
        w.write(np.zeros((10, 1), np.float32))
    back = read_bext(tmp_path / "a.wav")
    assert back.raw == src.raw
    assert (back.originator, back.coding_history) == ("ProTools", "A=PCM,F=48000,W=24,M=mono\r\n")
    low, high = struct.unpack_from("<II", back.raw, 338)
    assert low + (high << 32) == 123456789


def test_refuses_unknown_format(tmp_path):
    with pytest.raises(HybridError, match="pcm24, float32"):
        WavWriter(tmp_path / "x.wav", 48000, 1, "mp3")
