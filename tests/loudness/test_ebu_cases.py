"""EBU Tech 3341 (cases 1-6, 9) and Tech 3342 (cases 1-4) on synthesized signals,
and true-peak cases with known inter-sample peaks."""

from __future__ import annotations

import numpy as np
import pytest

from hybrid.files.loudness import LoudnessMeter, measure_array
from tests.loudness.signals import FS, faded, sequence, tone

TOLERANCE_LU = 0.1


@pytest.mark.parametrize("level", [-23.0, -33.0])
def test_3341_cases_1_and_2_momentary_short_term_integrated(level):
    result = measure_array(tone(level, 20.0), FS)
    assert result.integrated_lufs == pytest.approx(level, abs=TOLERANCE_LU)
    assert result.momentary_max_lufs == pytest.approx(level, abs=TOLERANCE_LU)
    assert result.short_term_max_lufs == pytest.approx(level, abs=TOLERANCE_LU)


@pytest.mark.parametrize("case, parts", [
    (3, [(-36, 10), (-23, 60), (-36, 10)]),
    (4, [(-72, 10), (-36, 10), (-23, 60), (-36, 10), (-72, 10)]),
    (5, [(-26, 20), (-20, 20.1), (-26, 20)]),
])
def test_3341_cases_3_to_5_gating(case, parts):
    result = measure_array(sequence(*parts), FS)
    assert result.integrated_lufs == pytest.approx(-23.0, abs=TOLERANCE_LU), f"case {case}"


def test_3341_case_6_five_channels_weights_surrounds():
    # L, R, C, Ls, Rs at -28, -28, -24, -30, -30 dBFS
    levels = [-28.0, -28.0, -24.0, -30.0, -30.0]
    signal = np.concatenate([tone(level, 20.0, channels=1) for level in levels], axis=1)
    assert measure_array(signal, FS).integrated_lufs == pytest.approx(-23.0, abs=TOLERANCE_LU)


def test_3341_case_6_with_a_silent_lfe_channel():
    levels = [-28.0, -28.0, -24.0, None, -30.0, -30.0]  # L R C LFE Ls Rs
    columns = [tone(level, 20.0, channels=1) if level is not None else np.zeros((20 * FS, 1))
               for level in levels]
    # The LFE is not counted even when it carries signal.
    columns[3] = tone(-10.0, 20.0, channels=1)
    signal = np.concatenate(columns, axis=1)
    assert measure_array(signal, FS).integrated_lufs == pytest.approx(-23.0, abs=TOLERANCE_LU)


def test_3341_case_9_short_term_constant_after_3_s():
    signal = sequence(*[(-20.0, 1.34), (-30.0, 1.66)] * 5)
    meter = LoudnessMeter(FS, 2)
    meter.process(signal)
    short_term = meter.short_term_lufs()
    assert len(short_term) > 100
    assert short_term.min() == pytest.approx(-23.0, abs=TOLERANCE_LU)
    assert short_term.max() == pytest.approx(-23.0, abs=TOLERANCE_LU)
    # the momentary meter, by contrast, follows the 10 dB steps
    assert meter.momentary_lufs().max() - meter.momentary_lufs().min() > 8.0


@pytest.mark.parametrize("case, parts, expected_lu", [
    (1, [(-20, 20), (-30, 20)], 10.0),
    (2, [(-20, 20), (-15, 20)], 5.0),
    (3, [(-40, 20), (-20, 20)], 20.0),
    (4, [(-50, 20), (-35, 20), (-20, 20), (-35, 20), (-50, 20)], 15.0),
])
def test_3342_loudness_range(case, parts, expected_lu):
    result = measure_array(sequence(*parts), FS)
    assert result.loudness_range_lu == pytest.approx(expected_lu, abs=1.0), f"case {case}"


@pytest.mark.parametrize("fs", [44100, 96000])
def test_other_rates_read_the_same_as_48k(fs):
    result = measure_array(tone(-23.0, 20.0, fs=fs), fs)
    assert result.integrated_lufs == pytest.approx(-23.0, abs=TOLERANCE_LU)


@pytest.mark.parametrize("fraction, phase_deg, level_dbfs", [
    (1 / 4, 45.0, -6.0),
    (1 / 6, 60.0, -6.0),
    (1 / 8, 67.5, -6.0),
    (1 / 4, 45.0, 3.0),    # samples just under full scale, true peak +3 dBTP
])
@pytest.mark.parametrize("fs", [48000, 44100])
def test_true_peak_of_tones_with_inter_sample_peaks(fraction, phase_deg, level_dbfs, fs):
    n = np.arange(fs)
    wave = 10 ** (level_dbfs / 20) * np.sin(2 * np.pi * fraction * n + np.deg2rad(phase_deg))
    signal = faded(np.stack([wave, wave], axis=1), fs // 100)
    result = measure_array(signal, fs)
    assert level_dbfs - 0.4 <= result.true_peak_dbtp <= level_dbfs + 0.2
    sample_peak = level_dbfs + 20 * np.log10(np.max(np.abs(np.sin(2 * np.pi * fraction * n[:100]
                                                                   + np.deg2rad(phase_deg)))))
    assert result.sample_peak_dbfs == pytest.approx(sample_peak, abs=0.01)
    assert result.true_peak_dbtp > result.sample_peak_dbfs + 0.5


def test_true_peak_is_per_channel_and_found_across_block_boundaries():
    fs = 48000
    n = np.arange(fs)
    left = 0.5 * np.sin(2 * np.pi * n / 4 + np.pi / 4)
    right = 0.25 * np.sin(2 * np.pi * 997 * n / fs)
    signal = faded(np.stack([left, right], axis=1), 480)
    meter = LoudnessMeter(fs, 2)
    for start in range(0, fs, 1001):       # odd block size: peaks straddle boundaries
        meter.process(signal[start:start + 1001])
    result = meter.result()
    assert result.true_peak_per_channel_dbtp[0] == pytest.approx(-6.02, abs=0.1)
    assert result.true_peak_per_channel_dbtp[1] == pytest.approx(-12.04, abs=0.1)


def test_silence_and_too_short_programmes_are_undefined_not_minus_infinity():
    silent = measure_array(np.zeros((5 * FS, 2)), FS)
    assert silent.integrated_lufs is None and silent.true_peak_dbtp is None
    assert silent.loudness_range_lu is None and silent.momentary_max_lufs is None
    short = measure_array(tone(-20.0, 0.3), FS)
    assert short.integrated_lufs is None and short.short_term_max_lufs is None
    assert short.sample_peak_dbfs == pytest.approx(-20.0, abs=0.01)


@pytest.mark.parametrize("fs", [48000, 44100])
def test_3341_case_13_momentary_maximum_of_a_burst_anywhere(fs):
    """Tech 3341 case 13: the momentary maximum of a 400 ms burst must read its level
    wherever the burst falls (20 positions, most off the 100 ms grid)."""
    for k in range(20):
        offset = round((0.1 + k * 0.0173) * fs)
        burst = tone(-23.0, 0.4, fs=fs)
        signal = np.concatenate([np.zeros((offset, 2)), burst, np.zeros((fs, 2))])
        meter = LoudnessMeter(fs, 2)
        for start in range(0, len(signal), 4097):          # odd feeding: steps straddle blocks
            meter.process(signal[start:start + 4097])
        assert meter.result().momentary_max_lufs == pytest.approx(-23.0, abs=TOLERANCE_LU), f"burst {k + 1}"


def test_short_term_maximum_of_a_3_s_burst_anywhere():
    for k in (0, 7, 13):
        offset = round((0.1 + k * 0.0173) * FS)
        signal = np.concatenate([np.zeros((offset, 2)), tone(-23.0, 3.0), np.zeros((FS, 2))])
        assert measure_array(signal, FS).short_term_max_lufs == pytest.approx(-23.0, abs=TOLERANCE_LU)
