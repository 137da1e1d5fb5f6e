"""Print passes through the simulated analog gear on a real JACK server via PortAudio."""

from __future__ import annotations

import threading

import pytest
import soundfile as sf

from hybrid.live.audio.printing import PrintJob, PrintOptions, print_pass
from hybrid.live.audio.wavio import read_bext
from hybrid.errors import HybridError

from .conftest import (FAST, FAST_PING, LOOP_FRAC, LOOP_FRAC2, LOOP_HOOKS, LOOP_HOT, PERIOD, RATE,
                       band_limited, print_clean, residual_db, write_stem, _settings)

START = int(0.02 * RATE) + int(0.16 * RATE)   # where the stem starts in a FAST pass: settle + ping
STEM_FRAMES = 12000               # a quarter of a second


def _job(tmp_path, name, loop, stem):
    return PrintJob(stem=stem, output=tmp_path / f"{name}.print.wav", out_channels=(loop,), in_channels=(loop,))


@pytest.fixture(scope="module")
def stems(tmp_path_factory):
    d = tmp_path_factory.mktemp("stems")
    a = band_limited(STEM_FRAMES, seed=1)
    b = band_limited(STEM_FRAMES, seed=2)
    write_stem(d / "1Kick.wav", a, time_reference=2 ** 32 + 480000)    # BWF, past 32 bits
    sf.write(d / "2Snare.wav", b, RATE, subtype="PCM_16")               # plain 16-bit, no bext
    return d, sf.read(d / "1Kick.wav", dtype="float64")[0], sf.read(d / "2Snare.wav", dtype="float64")[0]


def test_parallel_loops_print_aligned_to_a_fraction_of_a_sample(gear, stems, tmp_path):
    d, kick, snare = stems
    jobs = [_job(tmp_path, "kick", LOOP_FRAC, d / "1Kick.wav"), _job(tmp_path, "snare", LOOP_FRAC2, d / "2Snare.wav")]
    result = print_clean(jobs)
    assert result.good, result.problems + [p for f in result.files for p in f.problems]
    fk, fs_ = result.files

    # the measured round trips: the loop's delay plus one JACK period, polarity and gain
    assert fk.channels[0].applied_samples == pytest.approx(PERIOD + 37.25, abs=0.01)
    assert fk.channels[0].polarity == -1
    assert fs_.channels[0].applied_samples == pytest.approx(PERIOD + 100.3, abs=0.01)
    assert fs_.channels[0].gain_db == pytest.approx(-3.0, abs=0.05)

    # exactly the source's length, rate, format; the BWF time reference carried (or none)
    for f, src in ((fk, kick), (fs_, snare)):
        info = sf.info(f.path)
        assert f.path == f.job.output
        assert (info.frames, info.samplerate, info.channels, info.subtype) == (len(src), RATE, 1, "PCM_24")
    assert read_bext(fk.path).time_reference == 2 ** 32 + 480000
    assert read_bext(fs_.path) is None

    # lines up with the source: the residual after gain correction
    printed_k = sf.read(fk.path, dtype="float64")[0]
    printed_s = sf.read(fs_.path, dtype="float64")[0]
    res_k = residual_db(kick, printed_k)
    res_s = residual_db(snare, printed_s, fs_.channels[0].gain_db)
    assert res_k < -95 and res_s < -95, (res_k, res_s)           # measured -113 and -105 dB

    # the same loops aligned to whole samples only: what a DAW insert leaves
    whole = print_clean(jobs, PrintOptions(**{**FAST.__dict__, "whole_samples": True}))
    assert whole.good
    res_k_whole = residual_db(kick, sf.read(whole.files[0].path, dtype="float64")[0])
    res_s_whole = residual_db(snare, sf.read(whole.files[1].path, dtype="float64")[0], fs_.channels[0].gain_db)
    assert res_k_whole > -20 and res_s_whole > -20, (res_k_whole, res_s_whole)   # measured -13 and -11 dB
    assert res_k < res_k_whole - 80 and res_s < res_s_whole - 80


def test_stereo_stem_float_keep_tail_and_no_polarity(gear, tmp_path):
    x = band_limited(6000, channels=2, seed=3)
    stem = write_stem(tmp_path / "pad.wav", x, time_reference=777)
    job = PrintJob(stem=stem, output=tmp_path / "pad.print.wav", out_channels=(LOOP_FRAC, LOOP_HOOKS),
                   in_channels=(LOOP_FRAC, LOOP_HOOKS))
    opts = PrintOptions(**{**FAST.__dict__, "fmt": "float32", "keep_tail": True, "correct_polarity": False})
    result = print_clean([job], opts)
    assert result.good, result.files[0].problems
    y, rate = sf.read(result.files[0].path, dtype="float64", always_2d=True)
    assert sf.info(result.files[0].path).subtype == "FLOAT"
    assert y.shape == (6000 + int(0.02 * RATE), 2)
    assert read_bext(result.files[0].path).time_reference == 777
    # left came back inverted and was left so; right is a plain wire
    assert residual_db(-x[:, 0], y[:6000, 0]) < -80
    assert residual_db(x[:, 1], y[:6000, 1]) < -80


def _hook_at(frame: int, action):
    """An on_progress hook that fires ``action`` once the pass has reached ``frame``."""
    fired = threading.Event()

    def hook(p):
        if p.stage == "printing" and p.position_frames >= frame and not fired.is_set():
            fired.set()
            action()
    return hook, fired


def test_clipping_return_reported_and_refused_unless_allowed(gear, tmp_path):
    stem = write_stem(tmp_path / "loud.wav", band_limited(12000, peak=0.9, seed=4))
    job = PrintJob(stem=stem, output=tmp_path / "loud.print.wav", out_channels=(LOOP_HOT,), in_channels=(LOOP_HOT,))
    result = print_clean([job])
    f = result.files[0]
    assert not f.good and sum(f.return_clipped_samples) > 0
    assert any("return clipped" in p for p in f.problems)
    assert not job.output.exists()
    allowed = print_clean([job], PrintOptions(**{**FAST.__dict__, "allow_clipping": True, "fmt": "float32"}))
    g = allowed.files[0]
    assert g.good and g.path == job.output and sum(g.return_clipped_samples) > 0
    d = g.to_dict()
    assert d["levels"]["peak_dbfs"] == pytest.approx(0.0, abs=0.1)    # the converter's full scale
    assert -20 < d["levels"]["rms_dbfs"] < 0


def test_open_loop_stops_before_printing(gear, stems, tmp_path):
    d, _, _ = stems
    job = _job(tmp_path, "kick", LOOP_HOOKS, d / "1Kick.wav")
    gear.set_open(LOOP_HOOKS, True)
    try:
        with pytest.raises(HybridError, match="ping before the pass failed.*(open|silence)") as info:
            print_pass([job], _settings(), FAST, ping=FAST_PING)
    finally:
        gear.set_open(LOOP_HOOKS, False)
    assert f"out {LOOP_HOOKS} -> in {LOOP_HOOKS}" in str(info.value)
    assert list(tmp_path.iterdir()) == []       # no file, no temp left behind


def test_bad_input_is_one_clear_error(gear, stems, tmp_path):
    d, _, _ = stems
    stem = d / "1Kick.wav"
    (tmp_path / "junk.wav").write_bytes(b"RIFF....WAVEnope")
    cases = [
        (PrintJob(tmp_path / "junk.wav", tmp_path / "o.wav", (1,), (1,)), "junk.wav: cannot read as audio"),
        (PrintJob(stem, tmp_path / "o.wav", (1, 2), (1, 2)), "has 1 channel\\(s\\) but the loop has 2"),
        (PrintJob(stem, tmp_path / "no" / "o.wav", (1,), (1,)), "output folder does not exist"),
        (PrintJob(stem, tmp_path / "o.wav", (9,), (9,)), "needs 9 outputs and 9 inputs; the device has 4"),
    ]
    for job, message in cases:
        with pytest.raises(HybridError, match=message):
            print_pass([job], _settings(), FAST, ping=FAST_PING)
    with pytest.raises(HybridError, match="output channel 1 is used twice"):
        print_pass([PrintJob(stem, tmp_path / "a.wav", (1,), (1,)), PrintJob(stem, tmp_path / "b.wav", (1,), (2,))],
                   _settings(), FAST, ping=FAST_PING)
    from hybrid.live.audio.interface import InterfaceSettings
    with pytest.raises(HybridError, match="no such audio device"):
        print_pass([PrintJob(stem, tmp_path / "o.wav", (1,), (1,))], InterfaceSettings("no-such-gear"), FAST)
    with pytest.raises(HybridError, match="stems are 48000 Hz but the interface runs at 44100"):
        print_pass([PrintJob(stem, tmp_path / "o.wav", (1,), (1,))],
                   InterfaceSettings("hy-print-gear", samplerate=44100), FAST)
    assert list(tmp_path.iterdir()) == [tmp_path / "junk.wav"]


def test_cancel_stops_the_pass_and_keeps_nothing(gear, stems, tmp_path):
    d, _, _ = stems
    job = _job(tmp_path, "kick", LOOP_FRAC, d / "1Kick.wav")
    cancel = threading.Event()
    hook, fired = _hook_at(START + 2000, cancel.set)
    with pytest.raises(HybridError, match="cancelled at"):
        print_pass([job], _settings(), FAST, ping=FAST_PING, on_progress=hook, cancel=cancel)
    assert fired.is_set()
    assert list(tmp_path.iterdir()) == []
