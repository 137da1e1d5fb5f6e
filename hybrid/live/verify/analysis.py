"""From a recorded return to a fingerprint's figures: response, transfer curve, distortion, noise.

``analyse(plan, sent, received) -> Measurement`` is pure maths, used alike on what came
back through a loop and on what the chain's model (``hybrid.live.verify.model``) produces, so
stored, measured and predicted figures are comparable number for number.

- Latency and polarity come from ``hybrid.live.audio.ping.estimate`` on the sweep (the same
  ESS deconvolution the latency ping uses; its fraction of a sample is what lets the
  phase be shown without the loop's delay).
- The response: the impulse response by regularised spectral division of the sweep
  section, windowed around its peak (a quarter of a second, so low bells and tails are
  in), latency removed as a linear phase, then smoothed to 1/12 octave on a 1/24-octave
  log grid 20 Hz .. 20 kHz (magnitude as power average, phase from the averaged complex
  response). ``band_db`` is the same on 1/3-octave bands (ISO centres 20 Hz .. 20 kHz,
  those under 0.45 fs): the unit the comparison reports in.
- Tones: the fundamental and harmonics 2..5 of each tone by projection on a whole
  number of cycles (the plan snaps the frequencies), in a window that ends a fade
  before the tone does, shifted by the latency.
- Noise floor: RMS of the preroll.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from hybrid.live.audio.ping import estimate
from hybrid.errors import HybridError
from hybrid.live.verify.stimulus import REFERENCE_LEVEL_DBFS, REFERENCE_TONE_HZ, Plan

GRID_LOW_HZ = 20.0
GRID_HIGH_HZ = 20000.0
GRID_PER_OCTAVE = 24
SMOOTHING_OCTAVE = 1.0 / 12.0
IR_PRE_SAMPLES = 256
IR_SECONDS = 0.25
HARMONICS = 5
FLOOR_DB = -200.0


def log_grid(samplerate: int) -> np.ndarray:
    top = min(GRID_HIGH_HZ, 0.45 * samplerate)
    n = int(math.floor(GRID_PER_OCTAVE * math.log2(top / GRID_LOW_HZ))) + 1
    return GRID_LOW_HZ * 2.0 ** (np.arange(n) / GRID_PER_OCTAVE)


def third_octave_centres(samplerate: int) -> np.ndarray:
    """Base-2 third-octave centres (1 kHz * 2^(k/3)) 20 Hz .. 20 kHz whose upper edge is under 0.45 fs."""
    centres = 1000.0 * 2.0 ** (np.arange(-17, 14) / 3.0)
    return centres[centres * 2 ** (1 / 6) <= 0.45 * samplerate + 1e-9]


def _db(x) -> np.ndarray:
    return 20.0 * np.log10(np.maximum(np.abs(x), 10 ** (FLOOR_DB / 20)))


@dataclass
class Measurement:
    """One fingerprint's figures (arrays are numpy; see ``to_arrays``).

    ``freqs_hz``/``magnitude_db``/``phase_deg``: the smoothed response (1/24-octave grid).
    ``band_centres_hz``/``band_db``/``band_phase_deg``: the same on 1/3-octave bands.
    ``transfer_out_dbfs[f, l]``: the fundamental's peak level out for tone ``f`` at input
    level ``tone_levels_dbfs[l]``; ``thd_percent[f, l]`` likewise. ``latency_samples``,
    ``polarity`` as the ping gives them; ``noise_floor_dbfs`` the return's RMS at rest.
    """

    freqs_hz: np.ndarray
    magnitude_db: np.ndarray
    phase_deg: np.ndarray
    band_centres_hz: np.ndarray
    band_db: np.ndarray
    band_phase_deg: np.ndarray
    tone_freqs_hz: np.ndarray
    tone_levels_dbfs: np.ndarray
    transfer_out_dbfs: np.ndarray
    thd_percent: np.ndarray
    latency_samples: float
    polarity: int
    noise_floor_dbfs: float

    @property
    def gain_ref_db(self) -> float:
        """Gain at the reference tone (1 kHz) and level (-20 dBFS)."""
        return float(self.transfer_out_dbfs[0, self._level_index(REFERENCE_LEVEL_DBFS)] - REFERENCE_LEVEL_DBFS)

    def _level_index(self, level_dbfs: float) -> int:
        return int(np.argmin(np.abs(self.tone_levels_dbfs - level_dbfs)))

    def thd_at(self, level_dbfs: float, tone: int = 0) -> float:
        return float(self.thd_percent[tone, self._level_index(level_dbfs)])

    def features(self) -> np.ndarray:
        """The figures the comparison judges, flat: band dB, then the transfer curve (dBFS out)."""
        return np.concatenate([self.band_db, self.transfer_out_dbfs.ravel()])

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(getattr(self, k)) for k in ARRAY_FIELDS} | {
            "scalars": np.array([self.latency_samples, self.polarity, self.noise_floor_dbfs])}

    @classmethod
    def from_arrays(cls, arrays: dict) -> Measurement:
        latency, polarity, noise = (float(v) for v in arrays["scalars"])
        return cls(**{k: np.asarray(arrays[k], dtype=np.float64) for k in ARRAY_FIELDS},
                   latency_samples=latency, polarity=int(polarity), noise_floor_dbfs=noise)

    @classmethod
    def mean(cls, takes: list[Measurement]) -> Measurement:
        """The average of several takes (dB and degrees averaged; scalars averaged)."""
        first = takes[0]
        arrays = {k: np.mean([getattr(t, k) for t in takes], axis=0) for k in ARRAY_FIELDS}
        return cls(**arrays, latency_samples=float(np.mean([t.latency_samples for t in takes])),
                   polarity=first.polarity, noise_floor_dbfs=float(np.mean([t.noise_floor_dbfs for t in takes])))


ARRAY_FIELDS = ("freqs_hz", "magnitude_db", "phase_deg", "band_centres_hz", "band_db", "band_phase_deg",
                "tone_freqs_hz", "tone_levels_dbfs", "transfer_out_dbfs", "thd_percent")


def analyse(plan: Plan, sent: np.ndarray, received: np.ndarray, *, where: str | None = None,
            latency_samples: float | None = None) -> Measurement:
    """The figures of one pass: ``received[i]`` recorded as ``sent[i]`` was played (same clock).

    ``latency_samples`` given (a model's output, whose delay is known) skips the ping's
    estimator and its refusals.
    """
    x = np.asarray(sent, dtype=np.float64).ravel()
    y = np.asarray(received, dtype=np.float64).ravel()
    if len(x) != plan.frames or len(y) != plan.frames:
        raise HybridError(f"expected {plan.frames} samples sent and received, got {len(x)} and {len(y)}",
                          where=where)
    rate = plan.samplerate
    cut = plan.tones_start
    # the ping's estimator: latency, polarity, refusals for open/clipping/noisy loops
    if latency_samples is None:
        ping = estimate(x[:cut], y[:cut], rate,
                        max_latency_samples=cut - plan.sweep_stop - int(IR_SECONDS * rate) // 2,
                        min_snr_db=20.0, max_uncertainty_samples=0.5, where=where)
        latency, polarity = ping.latency_samples, ping.polarity
    else:
        latency, polarity = float(latency_samples), 1
    freqs, mag_db, phase_deg, band_centres, band_db, band_phase = _response(x[:cut], y[:cut], rate, latency,
                                                                             polarity)
    out_dbfs, thd = _tones(plan, y, latency)
    pre = y[plan.sweep_start // 8:plan.sweep_start]
    noise = float(np.sqrt(np.mean(pre ** 2))) if len(pre) else 0.0
    return Measurement(
        freqs_hz=freqs, magnitude_db=mag_db, phase_deg=phase_deg, band_centres_hz=band_centres,
        band_db=band_db, band_phase_deg=band_phase, tone_freqs_hz=np.array(plan.tone_freqs_hz, float),
        tone_levels_dbfs=np.array(plan.tone_levels_dbfs, float), transfer_out_dbfs=out_dbfs, thd_percent=thd,
        latency_samples=float(latency), polarity=int(polarity),
        noise_floor_dbfs=float(max(_db(noise), FLOOR_DB)),
    )


def _response(x: np.ndarray, y: np.ndarray, rate: int, latency: float, polarity: int):
    nfft, inverse = _inverse(x)
    h = sfft.irfft(sfft.rfft(y, nfft) * inverse, nfft)
    k0 = int(math.floor(latency))
    start = max(0, k0 - IR_PRE_SAMPLES)
    length = int(IR_SECONDS * rate)
    seg = h[start:start + length].copy() * polarity
    # fade both ends: half-Hann 64 samples in, the last eighth out
    fade_in = min(64, k0 - start)
    if fade_in > 0:
        seg[:fade_in] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(fade_in) / fade_in)
    fade_out = len(seg) // 8
    seg[len(seg) - fade_out:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, fade_out + 1) / fade_out)
    nseg = sfft.next_fast_len(max(len(seg), 16384), real=True)
    spec = sfft.rfft(seg, nseg)
    bins = np.arange(len(spec)) * rate / nseg
    spec = spec * np.exp(2j * np.pi * bins * (latency - start) / rate)   # the loop's delay taken out
    grid = log_grid(rate)
    mag_db, phase = _smooth(bins, spec, grid, SMOOTHING_OCTAVE)
    centres = third_octave_centres(rate)
    band_db, band_phase = _smooth(bins, spec, centres, 1.0 / 3.0)
    return grid, mag_db, phase, centres, band_db, band_phase


_INVERSE_CACHE: dict = {}


def _inverse(x: np.ndarray) -> tuple[int, np.ndarray]:
    """The regularised inverse spectrum of the stimulus (cached: every pass of a plan sends the same)."""
    key = (len(x), hash(x.tobytes()))
    hit = _INVERSE_CACHE.get(key)
    if hit is None:
        nfft = sfft.next_fast_len(2 * len(x), real=True)
        sx = sfft.rfft(x, nfft)
        power = np.abs(sx) ** 2
        hit = (nfft, np.conj(sx) / (power + 1e-9 * float(power.max())))
        if len(_INVERSE_CACHE) > 8:
            _INVERSE_CACHE.clear()
        _INVERSE_CACHE[key] = hit
    return hit


def _smooth(bins: np.ndarray, spec: np.ndarray, centres: np.ndarray, width_octave: float):
    """Power-average magnitude (dB) and complex-average phase (degrees) in ``width_octave`` around each centre.

    Where the band holds no FFT bin (the lowest frequencies), the nearest bins are interpolated.
    """
    power = np.abs(spec) ** 2
    cum_p = np.concatenate([[0.0], np.cumsum(power)])
    cum_c = np.concatenate([[0.0], np.cumsum(spec)])
    half = 2.0 ** (width_octave / 2)
    lo = np.searchsorted(bins, centres / half, side="left")
    hi = np.searchsorted(bins, centres * half, side="right")
    count = hi - lo
    mag = np.empty(len(centres))
    cplx = np.empty(len(centres), dtype=complex)
    ok = count > 0
    mag[ok] = (cum_p[hi[ok]] - cum_p[lo[ok]]) / count[ok]
    cplx[ok] = (cum_c[hi[ok]] - cum_c[lo[ok]]) / count[ok]
    if not ok.all():
        mag[~ok] = np.interp(centres[~ok], bins, power)
        cplx[~ok] = np.interp(centres[~ok], bins, spec.real) + 1j * np.interp(centres[~ok], bins, spec.imag)
    mag_db = np.maximum(10.0 * np.log10(np.maximum(mag, 1e-30)), FLOOR_DB)
    return mag_db, np.degrees(np.angle(cplx))


def _tones(plan: Plan, y: np.ndarray, latency: float) -> tuple[np.ndarray, np.ndarray]:
    rate = plan.samplerate
    win = plan.analysis_samples
    t = np.arange(win) / rate
    shift = int(round(latency))
    out = np.full((len(plan.tone_freqs_hz), len(plan.tone_levels_dbfs)), FLOOR_DB)
    thd = np.zeros_like(out)
    bases = []
    for f in plan.tone_freqs_hz:
        ks = [k for k in range(1, HARMONICS + 1) if k * f < 0.45 * rate]
        bases.append(np.exp(-2j * np.pi * np.outer(t, np.array(ks) * f)))   # (win, harmonics)
    for position, (li, fi) in enumerate(plan.tone_order()):
        _, stop = plan.tone_span(position)
        end = stop - plan.fade_samples + shift
        seg = y[end - win:end]
        if len(seg) < win:
            raise HybridError("the recording ends before the tones came back (latency too long for the plan)")
        amps = list(2.0 * np.abs(seg @ bases[fi]) / win)
        fundamental = amps[0]
        out[fi, li] = max(float(_db(fundamental)), FLOOR_DB)
        harmonics = math.sqrt(sum(a * a for a in amps[1:]))
        thd[fi, li] = 100.0 * harmonics / fundamental if fundamental > 0 else 0.0
    return out, thd


__all__ = ["Measurement", "analyse", "log_grid", "third_octave_centres", "REFERENCE_TONE_HZ"]
