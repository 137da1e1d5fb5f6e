"""The K-weighting filters derived for any rate: the published 48 kHz table, and the
same analogue response at other rates."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import sosfreqz

from hybrid.files.loudness import k_weighting_sos

# ITU-R BS.1770-4, tables 1 and 2 (48 kHz)
PUBLISHED_48K = np.array([
    [1.53512485958697, -2.69169618940638, 1.19839281085285, 1.0, -1.69065929318241, 0.73248077421585],
    [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621],
])


def test_48k_matches_the_published_coefficients():
    np.testing.assert_allclose(k_weighting_sos(48000), PUBLISHED_48K, atol=1e-6)


@pytest.mark.parametrize("fs", [32000, 44100, 88200, 96000, 192000])
def test_response_at_other_rates_follows_the_48k_curve(fs):
    freqs = np.array([20.0, 38.0, 100.0, 1000.0, 1681.0, 4000.0, 10000.0])
    _, reference = sosfreqz(PUBLISHED_48K, worN=freqs, fs=48000)
    _, derived = sosfreqz(k_weighting_sos(fs), worN=freqs, fs=fs)
    # below ~10 kHz the bilinear warping of either design is negligible
    np.testing.assert_allclose(20 * np.log10(np.abs(derived)), 20 * np.log10(np.abs(reference)),
                               atol=0.05)


def test_rates_below_8k_are_refused():
    with pytest.raises(ValueError, match="8 kHz"):
        k_weighting_sos(4000)
