"""The ping through real PortAudio streams on a JACK dummy server, against the simulated gear.

Known answer: the loop's own delay plus one JACK period (what the stream sees with
blocksize=0), plus the block size when one is fixed.
"""

from __future__ import annotations

import pytest

from hybrid.live.audio.ping import measure_loop
from hybrid.errors import HybridError

from .conftest import FRAC, GEAR, HIGHPASS, HOOKS, INVERTED, NOISY, PERIOD


def ping(loop, **kw):
    """A shorter ping than the default (0.2 s sweep): the same estimator, a quicker suite."""
    return measure_loop(GEAR, loop, loop, sweep_s=0.2, preroll_s=0.05, capture_s=0.05, **kw)


@pytest.mark.parametrize("loop, delay, polarity", [(FRAC, 37.25, 1), (INVERTED, 100.3, -1)])
def test_fractional_delay_and_polarity(gear, loop, delay, polarity):
    result = ping(loop)
    assert result.latency_samples == pytest.approx(delay + PERIOD, abs=0.01)
    assert result.polarity == polarity
    assert result.gain_db == pytest.approx(0.0, abs=0.1)
    assert result.confidence > 0.9
    assert result.samplerate == 48000


def test_fixed_blocksize_is_part_of_the_latency(gear):
    result = ping(FRAC, blocksize=512)
    assert result.latency_samples == pytest.approx(37.25 + PERIOD + 512, abs=0.01)


def test_transformer_highpass_and_noise_do_not_move_the_figure(gear):
    hpf = ping(HIGHPASS)
    assert hpf.latency_samples == pytest.approx(100.3 + PERIOD, abs=0.01)
    noisy = ping(NOISY)
    assert noisy.latency_samples == pytest.approx(100.3 + PERIOD, abs=0.01)
    assert noisy.noise_floor_dbfs == pytest.approx(-60.0, abs=1.0)
    assert noisy.snr_db == pytest.approx(-15.0 + 60.0, abs=3.0)   # sweep RMS is 3 dB under its -12 dBFS peak


def test_open_loop_is_refused(gear):
    gear.set_open(HOOKS, True)
    try:
        with pytest.raises(HybridError, match="no return: the loop is open"):
            ping(HOOKS)
    finally:
        gear.set_open(HOOKS, False)


def test_open_input_carrying_digital_silence_is_refused(gear):
    gear.set_open(FRAC, True)   # no noise on this loop: the input is exactly zero
    try:
        with pytest.raises(HybridError, match="digital silence"):
            ping(FRAC)
    finally:
        gear.set_open(FRAC, False)


def test_hot_return_is_refused_as_clipping(gear):
    gear.set_hot(HOOKS, 20.0)   # -12 dBFS sweep + 20 dB: clips the input converter
    try:
        with pytest.raises(HybridError, match="clips"):
            ping(HOOKS)
        gear.set_hot(HOOKS, 10.0)   # -2 dBFS: measured, but flagged
        result = ping(HOOKS)
        assert any("hot return" in w for w in result.warnings)
        assert result.latency_samples == pytest.approx(50 + PERIOD, abs=0.01)
    finally:
        gear.set_hot(HOOKS, 0.0)


def test_too_noisy_is_refused(gear):
    gear.loop(HOOKS).noise.set_level(-25.0)
    try:
        with pytest.raises(HybridError, match="too noisy"):
            ping(HOOKS)
    finally:
        gear.loop(HOOKS).noise.set_level(-90.0)


def test_delay_changed_at_run_time_and_a_slip_are_seen(gear):
    try:
        gear.set_delay(HOOKS, 63.7)
        assert ping(HOOKS).latency_samples == pytest.approx(63.7 + PERIOD, abs=0.01)
        slipped = gear.dropout(HOOKS, 2.0, slip=True)   # 96 samples of silence, then later for good
        assert slipped == 96
        assert ping(HOOKS).latency_samples == pytest.approx(63.7 + 96 + PERIOD, abs=0.01)
    finally:
        gear.set_delay(HOOKS, 50.0)


def test_unknown_device_and_channel_are_clear_errors(gear):
    with pytest.raises(HybridError, match="no such audio device"):
        measure_loop("no-such-interface", 1, 1, rescan=False)
    with pytest.raises(HybridError, match="output channel 99 out of range"):
        measure_loop(GEAR, 99, 1)
