"""K-weighting (ITU-R BS.1770-4) designed for any sample rate.

BS.1770 tabulates the two biquads only at 48 kHz. Tables at other rates are not
published, and re-using the 48 kHz coefficients at 44.1 kHz shifts the shelf and the
high-pass. So the filters are derived here from their analogue description (a
high-shelf of about +4 dB around 1.68 kHz and a second-order high-pass at about
38 Hz) with the bilinear transform, pre-warped at each filter's own frequency. At
48 kHz this reproduces the published coefficients to better than 1e-6 (a test checks).
"""

from __future__ import annotations

import math

import numpy as np

# Analogue prototype of stage 1 (the "pre-filter": a high shelf modelling the head).
SHELF_FREQ_HZ = 1681.974450955533
SHELF_GAIN_DB = 3.999843853973347
SHELF_Q = 0.7071752369554196
# Split between numerator terms of the shelf (how the gain divides between the
# band-pass and the high-pass part of the shelf), fitted to the published table.
SHELF_MID_EXPONENT = 0.4996667741545416

# Analogue prototype of stage 2 (the RLB high-pass).
HIGHPASS_FREQ_HZ = 38.13547087602444
HIGHPASS_Q = 0.5003270373238773


def shelf_biquad(samplerate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Stage 1 coefficients ``(b, a)`` with ``a[0] == 1`` at ``samplerate_hz``."""
    k = math.tan(math.pi * SHELF_FREQ_HZ / samplerate_hz)
    v_high = 10.0 ** (SHELF_GAIN_DB / 20.0)
    v_mid = v_high ** SHELF_MID_EXPONENT
    a0 = 1.0 + k / SHELF_Q + k * k
    b = np.array([
        (v_high + v_mid * k / SHELF_Q + k * k) / a0,
        2.0 * (k * k - v_high) / a0,
        (v_high - v_mid * k / SHELF_Q + k * k) / a0,
    ])
    a = np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / SHELF_Q + k * k) / a0])
    return b, a


def highpass_biquad(samplerate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Stage 2 coefficients ``(b, a)``; the numerator is 1, -2, 1 as in BS.1770."""
    k = math.tan(math.pi * HIGHPASS_FREQ_HZ / samplerate_hz)
    a0 = 1.0 + k / HIGHPASS_Q + k * k
    b = np.array([1.0, -2.0, 1.0])
    a = np.array([1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / HIGHPASS_Q + k * k) / a0])
    return b, a


def k_weighting_sos(samplerate_hz: float) -> np.ndarray:
    """Both stages as a second-order-sections array for ``scipy.signal.sosfilt``."""
    if not samplerate_hz or samplerate_hz < 8000:
        raise ValueError(f"sample rate {samplerate_hz} Hz is below 8 kHz; K-weighting needs >= 8 kHz")
    b1, a1 = shelf_biquad(samplerate_hz)
    b2, a2 = highpass_biquad(samplerate_hz)
    return np.array([np.concatenate([b1, a1]), np.concatenate([b2, a2])])
