"""The stereo gear models (hybrid.models.stereo) offline: linked compressor, M/S EQ, summing mixer."""

from __future__ import annotations

import numpy as np
import pytest

from hybrid.models.dsp import Band, Compressor
from hybrid.models.stereo import LinkedCompressor, MidSideEQ, SummingMixer, pan_gains

RATE = 48000


def _run(proc, x: np.ndarray, block: int = 256) -> np.ndarray:
    out = []
    for start in range(0, len(x), block):
        out.append(np.array(proc(np.array(x[start:start + block], dtype=float))))
    return np.concatenate(out)


def _tone(freq: float, seconds: float = 0.5, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return level * np.sin(2 * np.pi * freq * t)


def _rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(np.square(x))) + 1e-30)


def test_linked_compressor_gives_both_sides_the_louder_sides_gain():
    loud, quiet = _tone(1000.0, level=0.9), _tone(1000.0, level=0.05)
    stereo = LinkedCompressor(threshold_db=-20.0, ratio=4.0, attack_ms=1.0, release_ms=50.0, samplerate=RATE)
    out = _run(stereo, np.stack([loud, quiet], axis=1))
    mono = Compressor(threshold_db=-20.0, ratio=4.0, attack_ms=1.0, release_ms=50.0, samplerate=RATE)
    alone = _run(mono, loud)
    tail = slice(RATE // 4, None)
    # the loud side is compressed as the mono unit would; the quiet side by the same gain
    assert np.allclose(out[tail, 0], alone[tail], atol=1e-12)
    gain_left = _rms_db(out[tail, 0]) - _rms_db(loud[tail])
    gain_right = _rms_db(out[tail, 1]) - _rms_db(quiet[tail])
    assert gain_left < -8.0
    assert gain_right == pytest.approx(gain_left, abs=0.01)
    # an unlinked unit would have left the quiet side (26 dB below threshold) alone
    assert stereo.gain_reduction_db > 8.0


def test_ms_eq_boosts_mid_only_where_set_and_leaves_the_side_alone():
    eq = MidSideEQ(mid_bands=[Band("peak", 1000.0, 6.0, 1.0)], samplerate=RATE)
    tone = _tone(1000.0)
    mono = _run(eq, np.stack([tone, tone], axis=1))           # all mid
    eq.reset()
    wide = _run(eq, np.stack([tone, -tone], axis=1))          # all side
    tail = slice(RATE // 4, None)
    assert _rms_db(mono[tail, 0]) - _rms_db(tone[tail]) == pytest.approx(6.0, abs=0.1)
    assert np.allclose(wide, np.stack([tone, -tone], axis=1), atol=1e-12)


def test_ms_eq_without_bands_is_transparent_and_side_bands_act_on_the_difference():
    rng = np.random.default_rng(3)
    x = 0.3 * rng.standard_normal((RATE // 4, 2))
    assert np.allclose(_run(MidSideEQ(samplerate=RATE), x.copy()), x, atol=1e-12)
    eq = MidSideEQ(side_bands=[Band("peak", 2000.0, -12.0, 1.0)], samplerate=RATE)
    tone = _tone(2000.0)
    out = _run(eq, np.stack([tone, -tone], axis=1))
    tail = slice(RATE // 4, None)
    assert _rms_db(out[tail, 0]) - _rms_db(tone[tail]) == pytest.approx(-12.0, abs=0.2)


def test_pan_law_is_constant_power():
    for pan in (-1.0, -0.3, 0.0, 0.6, 1.0):
        left, right = pan_gains(pan)
        assert left ** 2 + right ** 2 == pytest.approx(1.0)
    assert pan_gains(0.0)[0] == pytest.approx(10 ** (-3.0103 / 20), abs=1e-4)
    assert pan_gains(-1.0) == pytest.approx((1.0, 0.0))
    with pytest.raises(ValueError, match="pan must be -1..1"):
        pan_gains(1.5)


def test_summing_mixer_pans_trims_and_delays_each_side():
    mixer = SummingMixer(3, pans=[-1.0, 1.0, 0.0], trims_db=[0.0, -6.0, 0.0], crosstalk_db=None,
                         delay_samples=(10.0, 20.5), samplerate=RATE)
    stems = np.zeros((4096, 3))
    stems[100, 0] = 1.0      # hard left at 0 dB
    stems[1000, 1] = 1.0     # hard right at -6 dB
    stems[2000, 2] = 1.0     # centre
    out = mixer.mix_offline(stems)
    assert np.argmax(np.abs(out[:500, 0])) == 110
    assert np.max(np.abs(out[:500, 1])) < 1e-9               # nothing of input 1 on the right
    right = out[900:1500, 1]
    # a fractional delay of 20.5: the energy-weighted centre sits at 1020.5
    centre = np.sum(np.arange(900, 1500) * right ** 2) / np.sum(right ** 2)
    assert centre == pytest.approx(1020.5, abs=0.05)
    assert np.sum(right) == pytest.approx(10 ** (-6 / 20), rel=1e-3)             # gain at DC
    assert np.sum(out[1900:2500, 0]) == pytest.approx(10 ** (-3.0103 / 20), rel=1e-3)


def test_summing_mixer_crosstalk_saturation_and_noise():
    tone = _tone(500.0, level=0.5)
    stems = np.stack([tone, np.zeros_like(tone)], axis=1)
    leaky = SummingMixer(2, pans=[-1.0, 1.0], crosstalk_db=-60.0, samplerate=RATE).mix_offline(stems)
    assert _rms_db(leaky[:, 1]) - _rms_db(leaky[:, 0]) == pytest.approx(-60.0, abs=0.1)
    loud = np.stack([_tone(500.0, level=0.9)] * 2, axis=1)
    clean = SummingMixer(2, crosstalk_db=None, samplerate=RATE).mix_offline(loud)
    driven = SummingMixer(2, crosstalk_db=None, drive_db=12.0, samplerate=RATE).mix_offline(loud)
    assert np.max(np.abs(driven)) < np.max(np.abs(clean)) - 0.1   # the bus rounds the peaks off
    small = SummingMixer(2, crosstalk_db=None, drive_db=12.0, samplerate=RATE).mix_offline(loud * 1e-3)
    assert np.allclose(small, clean * 1e-3, rtol=1e-3)             # unity for small signals
    hiss = SummingMixer(2, noise_dbfs=-90.0, seed=5, samplerate=RATE).mix_offline(np.zeros((RATE, 2)))
    assert _rms_db(hiss[:, 0]) == pytest.approx(-90.0, abs=0.3)
    assert abs(np.corrcoef(hiss[:, 0], hiss[:, 1])[0, 1]) < 0.05   # each side its own hiss


def test_summing_mixer_refuses_bad_controls():
    with pytest.raises(ValueError, match="pans needs 2 values"):
        SummingMixer(2, pans=[0.0])
    with pytest.raises(ValueError, match="finite"):
        SummingMixer(2, trims_db=[0.0, float("nan")])
    with pytest.raises(ValueError, match="delay_samples must be"):
        SummingMixer(2, delay_samples=(-1.0, 0.0))
    with pytest.raises(ValueError, match="crosstalk_db must be a finite"):
        SummingMixer(2, crosstalk_db=float("inf"))
