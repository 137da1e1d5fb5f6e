"""The simulated gear's DSP, offline: the reference delay is exact, the reverb's tail follows decay_s."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from hybrid.live.audio.ping import estimate
from hybrid.live.audio.signals import ping_signal
from hybrid.models.dsp import Band, Equaliser, FractionalDelay, Reverb
from hybrid.simgear.loop import LoopChannel, LoopSpec

RATE = 48000


def blocks(proc, x, size=256):
    return np.concatenate([proc(x[i:i + size].copy()) for i in range(0, len(x), size)])


@pytest.mark.parametrize("delay", [37.25, 100.3, 1000.9])
def test_fractional_delay_is_one_delay_at_every_frequency(delay):
    impulse = np.zeros(4096)
    impulse[0] = 1.0
    response = blocks(FractionalDelay(delay, samplerate=RATE), impulse)
    freqs = np.linspace(0.005, 0.42, 200) * 2 * np.pi
    _, group_delay = signal.group_delay((response, [1.0]), w=freqs)
    assert np.max(np.abs(group_delay - delay)) < 1e-4
    _, h = signal.freqz(response, worN=freqs)
    assert np.max(np.abs(20 * np.log10(np.abs(h)))) < 0.001


def test_reverb_tail_follows_decay_time():
    impulse = np.zeros(3 * RATE)
    impulse[0] = 1.0

    def rt60(decay_s):
        tail = blocks(Reverb(decay_s=decay_s, predelay_ms=0.0, mix=1.0, samplerate=RATE), impulse)
        energy = np.cumsum(tail[::-1] ** 2)[::-1]
        decay_db = 10 * np.log10(energy / energy[0])
        t20 = np.argmax(decay_db < -5) / RATE, np.argmax(decay_db < -25) / RATE
        return 3 * (t20[1] - t20[0])   # T20 extrapolated to 60 dB

    assert rt60(0.8) == pytest.approx(0.8, rel=0.25)
    assert rt60(2.0) == pytest.approx(2.0, rel=0.25)


def test_estimator_through_gear_that_is_not_a_wire():
    """Offline through the same chains: a reverb's tail and a compressor do not move the figure."""
    from hybrid.models.dsp import Compressor

    ping = ping_signal(RATE, sweep_s=0.3, capture_s=0.1)
    for processors in ([Reverb(decay_s=1.5, predelay_ms=10.0, mix=0.3)],
                       [Compressor(threshold_db=-30.0, ratio=4.0, attack_ms=1.0, release_ms=50.0)],
                       [Equaliser([Band("highpass", 30.0, 0.0, 0.707), Band("lowshelf", 100.0, 4.0)])],
                       # a bell bends the phase by ~0.3 sample of group delay: the
                       # minimum-phase stage takes it out
                       [Equaliser([Band("peak", 5000.0, 9.0, 1.0)])],
                       [Equaliser([Band("peak", 1000.0, -9.0, 1.0), Band("highshelf", 8000.0, 6.0)])]):
        loop = LoopChannel(LoopSpec(delay_samples=200.6, processors=processors), RATE)
        received = np.zeros(ping.frames)
        for i in range(0, ping.frames, 256):
            block = ping.sent[i:i + 256].astype(float)
            loop.process(block, received[i:i + 256])
        result = estimate(ping.sent, received, RATE)
        assert result.latency_samples == pytest.approx(200.6, abs=0.01), processors[0].kind
