"""Stored against now: per-band and transfer-curve deviations against the fingerprint's tolerance.

A chain passes when every 1/3-octave band, every point of the transfer curve and every
band's phase (where the chain passes signal) is within its tolerance, its distortion has
not changed by more than ``THD_CHANGE_DB`` (where there is distortion worth the name) and
its noise floor has not risen by more than ``NOISE_RISE_DB``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hybrid.live.verify.analysis import Measurement
from hybrid.live.verify.fingerprint import Fingerprint, Tolerance

THD_CHANGE_DB = 6.0
THD_FLOOR_PERCENT = 0.1
NOISE_RISE_DB = 6.0
#: phase is judged only where the band is within this of the response's maximum (dB)
PHASE_RANGE_DB = 30.0
PHASE_LOW_HZ = 30.0


@dataclass
class Comparison:
    """Deviations (now minus stored) and what failed. Arrays have the shapes of the figures."""

    band_centres_hz: np.ndarray
    band_dev_db: np.ndarray
    transfer_dev_db: np.ndarray
    phase_dev_deg: np.ndarray
    phase_judged: np.ndarray
    tolerance: Tolerance
    failures: list[str] = field(default_factory=list)
    noise_rise_db: float = 0.0
    thd_change_db: np.ndarray | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def worst_ratio(self) -> float:
        """The largest deviation as a multiple of its tolerance (< 1 passes)."""
        ratios = [np.max(np.abs(self.band_dev_db) / self.tolerance.band_db),
                  np.max(np.abs(self.transfer_dev_db) / self.tolerance.transfer_db)]
        if self.phase_judged.any():
            ratios.append(np.max(np.abs(self.phase_dev_deg[self.phase_judged]) /
                                 self.tolerance.phase_deg[self.phase_judged]))
        return float(max(ratios))

    def deviation_vector(self) -> np.ndarray:
        """Band and transfer deviations in units of their tolerance, flat (what the suspect finder fits)."""
        return np.concatenate([self.band_dev_db / self.tolerance.band_db,
                               (self.transfer_dev_db / self.tolerance.transfer_db).ravel()])

    def to_dict(self) -> dict:
        return {"ok": self.ok, "failures": list(self.failures), "worst_ratio": round(self.worst_ratio, 3),
                "band_centres_hz": [round(float(f), 1) for f in self.band_centres_hz],
                "band_dev_db": _r(self.band_dev_db), "band_tolerance_db": _r(self.tolerance.band_db),
                "transfer_dev_db": _r(self.transfer_dev_db), "transfer_tolerance_db": _r(self.tolerance.transfer_db),
                "phase_dev_deg": _r(self.phase_dev_deg, 1), "noise_rise_db": round(self.noise_rise_db, 2),
                "tolerance": self.tolerance.to_dict()}


def _r(a: np.ndarray, digits: int = 3) -> list:
    return np.round(np.asarray(a, float), digits).tolist()


def _fmt_hz(f: float) -> str:
    return f"{f / 1000:.3g} kHz" if f >= 1000 else f"{f:.3g} Hz"


def compare(stored: Fingerprint, now: Measurement) -> Comparison:
    ref = stored.reference
    tol = stored.tolerance
    band_dev = now.band_db - ref.band_db
    transfer_dev = now.transfer_out_dbfs - ref.transfer_out_dbfs
    phase_dev = (now.band_phase_deg - ref.band_phase_deg + 180.0) % 360.0 - 180.0
    judged = (ref.band_db > ref.band_db.max() - PHASE_RANGE_DB) & (ref.band_centres_hz >= PHASE_LOW_HZ)
    failures: list[str] = []
    over = np.abs(band_dev) > tol.band_db
    if over.any():
        i = int(np.argmax(np.abs(band_dev) / tol.band_db))
        failures.append(f"response: {int(over.sum())} band(s) out, worst {band_dev[i]:+.2f} dB at "
                        f"{_fmt_hz(ref.band_centres_hz[i])} (tolerance +-{tol.band_db[i]:.2f} dB)")
    over = np.abs(transfer_dev) > tol.transfer_db
    if over.any():
        fi, li = np.unravel_index(int(np.argmax(np.abs(transfer_dev) / tol.transfer_db)), transfer_dev.shape)
        failures.append(f"transfer curve: {int(over.sum())} point(s) out, worst {transfer_dev[fi, li]:+.2f} dB "
                        f"at {ref.tone_levels_dbfs[li]:+.0f} dBFS in, {_fmt_hz(ref.tone_freqs_hz[fi])} "
                        f"(tolerance +-{tol.transfer_db[fi, li]:.2f} dB)")
    over = judged & (np.abs(phase_dev) > tol.phase_deg)
    if over.any():
        i = int(np.argmax(np.where(judged, np.abs(phase_dev) / tol.phase_deg, 0)))
        failures.append(f"phase: {int(over.sum())} band(s) out, worst {phase_dev[i]:+.1f} deg at "
                        f"{_fmt_hz(ref.band_centres_hz[i])} (tolerance +-{tol.phase_deg[i]:.1f} deg)")
    thd_change = 20 * np.log10(np.maximum(now.thd_percent, 1e-6) / np.maximum(ref.thd_percent, 1e-6))
    audible = np.maximum(now.thd_percent, ref.thd_percent) >= THD_FLOOR_PERCENT
    bad = audible & (np.abs(thd_change) > THD_CHANGE_DB)
    if bad.any():
        fi, li = np.unravel_index(int(np.argmax(np.where(bad, np.abs(thd_change), 0))), thd_change.shape)
        failures.append(f"distortion: THD {ref.thd_percent[fi, li]:.2f}% -> {now.thd_percent[fi, li]:.2f}% at "
                        f"{ref.tone_levels_dbfs[li]:+.0f} dBFS, {_fmt_hz(ref.tone_freqs_hz[fi])}")
    noise_rise = now.noise_floor_dbfs - ref.noise_floor_dbfs
    if noise_rise > NOISE_RISE_DB:
        failures.append(f"noise floor rose {noise_rise:.1f} dB ({ref.noise_floor_dbfs:.1f} -> "
                        f"{now.noise_floor_dbfs:.1f} dBFS): hum, a bad cable or a unit in a noisy mode")
    if now.polarity != ref.polarity:
        failures.append("polarity inverted since the fingerprint (a cable or a phase switch)")
    return Comparison(ref.band_centres_hz, band_dev, transfer_dev, phase_dev, judged, tol, failures,
                      float(noise_rise), thd_change)
