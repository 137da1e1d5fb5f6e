"""The DSP under the deliverables: limiter, dither, resampler."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import resample_poly

from hybrid.files.deliver.dither import quantize_tpdf
from hybrid.files.deliver.limiter import LimiterSettings, gain_curve, interpolated_peak, release, trailing_minimum
from hybrid.files.deliver.resample import Resampler, SoxrConverter
from hybrid.files.loudness import measure_array

FS = 48000


def test_trailing_minimum_matches_brute_force():
    values = np.random.default_rng(0).random(200)
    for span in (0, 1, 2, 5, 40):
        expected = [values[max(0, n - span):n + 1].min() for n in range(len(values))]
        np.testing.assert_array_equal(trailing_minimum(values, span), expected)


def _hot_programme(seconds=2.0):
    n = np.arange(int(seconds * FS))
    x = 0.3 * np.sin(2 * np.pi * 110 * n / FS)
    for start in range(FS // 4, len(n) - 500, FS // 3):   # 5 kHz bursts with inter-sample peaks
        x[start:start + 480] += 0.9 * np.sin(2 * np.pi * 5000 * n[:480] / FS + 0.7) * np.hanning(480)
    return np.stack([x, -0.8 * x], axis=1)


def test_limiter_holds_true_peak_under_the_ceiling_and_leaves_the_rest_alone():
    x = _hot_programme()
    ceiling_db = -1.0
    assert measure_array(x, FS).true_peak_dbtp > 0.5
    gain = gain_curve(x, FS, 10 ** (ceiling_db / 20))
    y = x * gain[:, None]
    assert measure_array(y, FS).true_peak_dbtp <= ceiling_db + 1e-6
    assert np.all(np.diff(gain) < 0.05)                 # ramps, no steps
    quiet = interpolated_peak(x) < 0.5
    lookahead, hold = LimiterSettings().frames(FS)
    far = np.convolve(~quiet, np.ones(2 * (2 * lookahead + hold) + 1), "same") == 0
    np.testing.assert_allclose(gain[far], 1.0, atol=1e-12)   # far from any peak: untouched


def test_limiter_in_overlapping_chunks_equals_one_pass():
    x = _hot_programme()
    ceiling = 10 ** (-1.0 / 20)
    settings = LimiterSettings()
    whole, _ = release(gain_curve(x, FS, ceiling), FS, settings)
    margin = settings.margin_frames(FS)
    state = 0.0
    for start in range(0, len(x), 30000):
        stop = min(len(x), start + 30000)
        lo, hi = max(0, start - margin), min(len(x), stop + margin)
        part, state = release(gain_curve(x[lo:hi], FS, ceiling)[start - lo:stop - lo], FS, settings, state)
        np.testing.assert_allclose(part, whole[start:stop], atol=1e-12)


def test_release_is_exponential_in_db_and_matches_the_recursion():
    settings = LimiterSettings(release_ms=50.0)
    curve = np.ones(20000)
    curve[1000:1010] = 10 ** (-6 / 20)          # 6 dB of reduction for 10 samples
    curve[5000] = 10 ** (-1 / 20)
    out, _ = release(curve, FS, settings)
    d = np.exp(-1 / (0.05 * FS))
    reduction, expected = 0.0, []
    for value in curve:                         # the textbook recursion, one sample at a time
        reduction = max(-20 * np.log10(value), reduction * d)
        expected.append(10 ** (-reduction / 20))
    np.testing.assert_allclose(out, expected, rtol=1e-9)
    later = -20 * np.log10(out[1009 + 2400])    # one time constant (50 ms) after the peak
    assert later == pytest.approx(6 / np.e, rel=1e-3)
    assert np.all(out <= curve)                 # release never raises the gain above the attack curve


def test_tpdf_dither_makes_the_error_signal_independent():
    n = np.arange(FS)
    x = (10 ** (-90 / 20) * np.sin(2 * np.pi * 1000 * n / FS))[:, None]   # ~1 LSB at 16 bits
    rng = np.random.default_rng(1)
    dithered, _ = quantize_tpdf(x, 16, rng)
    plain, _ = quantize_tpdf(x, 16, rng, dither=False)
    error_d = dithered[:, 0] - x[:, 0] * 32768
    error_p = plain[:, 0] - x[:, 0] * 32768
    assert np.std(error_d) == pytest.approx(0.5, abs=0.03)            # 1/12 + 2/12 LSB^2
    assert abs(np.corrcoef(error_d, x[:, 0])[0, 1]) < 0.02
    assert abs(np.corrcoef(error_p, x[:, 0])[0, 1]) > 0.3              # truncation distortion
    loud = np.full((10, 1), 1.2)
    _, clipped = quantize_tpdf(loud, 16, rng)
    assert clipped == 10


@pytest.mark.parametrize("rate", [48000, 96000, 88200])
def test_resampler_to_cd_is_flat_rejects_aliases_and_chunks_exactly(rate):
    seconds = 2
    n = np.arange(seconds * rate)
    x = np.stack([np.sin(2 * np.pi * 1000 * n / rate), 0.5 * np.sin(2 * np.pi * 19500 * n / rate)], 1)
    r = Resampler(rate, 44100, chunk_frames=30000)
    out = np.concatenate(list(r.run(len(x), lambda a, b: x[a:b])))
    assert len(out) == r.output_frames(len(x)) == seconds * 44100
    whole = resample_poly(x, r.up, r.down, axis=0, window=r.filter)
    np.testing.assert_allclose(out, whole[:len(out)], atol=1e-12)
    m = np.arange(len(out))
    inner = slice(5000, -5000)
    for column, freq, amp in ((0, 1000, 1.0), (1, 19500, 0.5)):
        error = out[inner, column] - amp * np.sin(2 * np.pi * freq * m[inner] / 44100)
        assert 20 * np.log10(np.max(np.abs(error))) < -90
    alias = np.sin(2 * np.pi * 23000 * n / rate)[:, None]              # above the CD Nyquist
    folded = np.concatenate(list(r.run(len(alias), lambda a, b: alias[a:b])))
    assert 20 * np.log10(np.max(np.abs(folded[inner]))) < -95


@pytest.mark.parametrize("rate", [48000, 96000, 88200])
def test_soxr_converter_to_cd_is_flat_rejects_aliases_and_chunks_exactly(rate):
    """The converter the CD masters use (libsoxr VHQ), held to the reference converter's
    checks above and tighter: aliases 170 dB down (the reference: 95 dB)."""
    import soxr

    seconds = 2
    n = np.arange(seconds * rate)
    x = np.stack([np.sin(2 * np.pi * 1000 * n / rate), 0.5 * np.sin(2 * np.pi * 19500 * n / rate)], 1)
    c = SoxrConverter(rate, 44100, chunk_frames=30000)
    out = np.concatenate(list(c.run(len(x), lambda a, b: x[a:b])))
    assert len(out) == c.output_frames(len(x)) == seconds * 44100
    np.testing.assert_array_equal(out, soxr.resample(x, rate, 44100, quality="VHQ"))   # chunked = one pass
    m = np.arange(len(out))
    inner = slice(5000, -5000)
    for column, freq, amp, floor_db in ((0, 1000, 1.0, -150), (1, 19500, 0.5, -75)):
        error = out[inner, column] - amp * np.sin(2 * np.pi * freq * m[inner] / 44100)
        assert 20 * np.log10(np.max(np.abs(error))) < floor_db           # -75 dB: within 0.002 dB
    alias = np.sin(2 * np.pi * 23000 * n / rate)[:, None]              # above the CD Nyquist
    folded = np.concatenate(list(c.run(len(alias), lambda a, b: alias[a:b])))
    assert 20 * np.log10(np.max(np.abs(folded[inner]))) < -170
