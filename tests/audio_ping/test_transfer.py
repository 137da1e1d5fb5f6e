"""The loop's transfer function from a ping: excess phase and magnitude of known filters."""

from __future__ import annotations

import numpy as np
from scipy import signal

from hybrid.live.audio.signals import ping_signal
from hybrid.live.audio.transfer import loop_transfer

RATE = 48000


def _loop(x: np.ndarray, delay: int, sos=None, polarity: float = 1.0) -> np.ndarray:
    y = np.zeros(len(x) + 2 * delay)
    y[delay:delay + len(x)] = polarity * x
    return signal.sosfilt(sos, y) if sos is not None else y


def test_a_clean_delay_has_no_excess_phase_and_unity_gain():
    x = ping_signal(RATE).sent
    t = loop_transfer(x, _loop(x, 240), RATE, 240)
    assert np.all(np.abs(t.excess_phase_deg) < 1.0)
    assert np.all(np.abs(t.magnitude_db) < 0.1)


def test_an_inverted_high_passed_loop_reads_as_the_filter_says():
    x = ping_signal(RATE).sent
    sos = signal.butter(2, 40, "hp", fs=RATE, output="sos")
    t = loop_transfer(x, _loop(x, 100, sos, -1.0), RATE, 100)
    at = {f: i for i, f in enumerate(t.frequencies_hz)}
    near_40 = min(at, key=lambda f: abs(f - 40))
    _, h = signal.sosfreqz(sos, worN=[near_40, t.frequencies_hz[-1]], fs=RATE)
    expected = np.degrees(np.angle(-h))
    got = t.excess_phase_deg[[at[near_40], -1]]
    assert np.all(np.abs((got - expected + 180) % 360 - 180) < 12)
    assert abs(t.magnitude_db[at[near_40]] - 20 * np.log10(abs(h[0]))) < 1.0
