"""A loop's transfer function from a ping: magnitude and excess phase against frequency.

The ping's recording divided by what was sent (in the frequency domain, regularised
where the stimulus has little energy) is the loop's response; taking out the linear
phase of the measured latency leaves the *excess* phase: what the gear does to phase
(a transformer's low-end lead, an EQ's bell, a polarity inversion at 180 degrees). It is
what the Loops view plots beside the impulse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Transfer:
    frequencies_hz: np.ndarray
    magnitude_db: np.ndarray
    excess_phase_deg: np.ndarray
    """Phase after the latency's linear phase is removed, wrapped to -180..180 degrees."""


def loop_transfer(sent: np.ndarray, received: np.ndarray, samplerate_hz: int, latency_samples: float, *,
                  f_lo_hz: float = 20.0, f_hi_hz: float = 20000.0, points: int = 96) -> Transfer:
    """The loop's response at ``points`` log-spaced frequencies between ``f_lo_hz`` and ``f_hi_hz``."""
    x = np.asarray(sent, dtype=np.float64).ravel()
    y = np.asarray(received, dtype=np.float64).ravel()
    n = 1 << int(np.ceil(np.log2(max(len(x), len(y), 2))))
    spectrum_x = np.fft.rfft(x, n)
    spectrum_y = np.fft.rfft(y, n)
    power = np.abs(spectrum_x) ** 2
    floor = 1e-9 * float(power.max() or 1.0)   # Tikhonov, at -90 dB: no division by the stimulus' gaps, and
    # no loss where a short sweep's energy falls towards its band edges
    response = spectrum_y * np.conj(spectrum_x) / (power + floor)
    bins_hz = np.fft.rfftfreq(n, 1.0 / samplerate_hz)
    response = response * np.exp(2j * np.pi * bins_hz * latency_samples / samplerate_hz)
    top = min(f_hi_hz, samplerate_hz / 2 * 0.95)
    freqs = np.geomspace(f_lo_hz, top, points)
    # average each point over its share of the log axis (a third-octave-like smoothing)
    edges = np.sqrt(freqs[:-1] * freqs[1:])
    lo_edges = np.concatenate([[freqs[0] / (edges[0] / freqs[0])], edges])
    hi_edges = np.concatenate([edges, [freqs[-1] * (freqs[-1] / edges[-1])]])
    mags = np.empty(points)
    phases = np.empty(points)
    for i, (lo, hi) in enumerate(zip(lo_edges, hi_edges, strict=True)):
        sel = (bins_hz >= lo) & (bins_hz < hi)
        band = response[sel] if sel.any() else response[[int(np.argmin(np.abs(bins_hz - freqs[i])))]]
        mean = band.mean()
        mags[i] = 20 * np.log10(max(float(np.abs(band).mean()), 1e-12))
        phases[i] = float(np.degrees(np.angle(mean)))
    return Transfer(freqs, mags, phases)
