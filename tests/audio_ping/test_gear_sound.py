"""The simulated gear's processing follows its parameters, heard through a real stream."""

from __future__ import annotations

import numpy as np
import pytest

from hybrid.live.audio.interface import resolve_device
from hybrid.live.audio.ping import run_duplex
from hybrid.live.audio.signals import PingSignal

from .conftest import COMPRESSOR, EQ, GEAR, RATE


def tone_through(loop: int, freq_hz: float, level_dbfs: float, seconds: float = 0.3, device: str = GEAR) -> float:
    """Play a sine on ``loop`` of ``device`` and return the level change (dB) of its settled return."""
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    sent = (10 ** (level_dbfs / 20) * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)
    signal = PingSignal(sent=sent, samplerate=RATE, start=0, stop=n)
    device = resolve_device(device)
    for _ in range(3):   # a pass with xruns may have lost samples: play it again
        received, xruns = run_duplex(device.index, signal, loop, loop, RATE, 0, device.name)
        if not xruns:
            break
    settled = slice(n // 2, n)   # past the attack and the loop's delay
    rms_out = np.sqrt(np.mean(received[settled].astype(float) ** 2))
    rms_in = np.sqrt(np.mean(sent[settled].astype(float) ** 2))
    return 20 * np.log10(rms_out / rms_in)


def test_compressor_compresses_by_threshold_and_ratio(gear):
    comp = gear.loop(COMPRESSOR).processors[0]
    try:
        comp.set(threshold_db=0.0)
        assert tone_through(COMPRESSOR, 1000.0, -6.0) == pytest.approx(0.0, abs=0.3)   # under threshold
        comp.set(threshold_db=-30.0, ratio=4.0)
        # peaks at -6 dBFS are 24 dB over: 4:1 leaves 6 dB of it, i.e. 18 dB of reduction
        assert tone_through(COMPRESSOR, 1000.0, -6.0) == pytest.approx(-18.0, abs=1.0)
        comp.set(ratio=2.0, makeup_db=6.0)
        assert tone_through(COMPRESSOR, 1000.0, -6.0) == pytest.approx(-12.0 + 6.0, abs=1.0)
    finally:
        comp.set(threshold_db=0.0, ratio=4.0, makeup_db=0.0)


def test_eq_band_boosts_and_cuts_where_it_is_set(gear):
    eq = gear.loop(EQ).processors[0]
    try:
        eq.set_band(0, freq_hz=1000.0, gain_db=9.0)
        assert tone_through(EQ, 1000.0, -20.0) == pytest.approx(9.0, abs=0.3)
        assert tone_through(EQ, 8000.0, -20.0) == pytest.approx(0.0, abs=0.6)   # well away from the band
        eq.set_band(0, gain_db=-9.0)
        assert tone_through(EQ, 1000.0, -20.0) == pytest.approx(-9.0, abs=0.3)
    finally:
        eq.set_band(0, gain_db=0.0)
