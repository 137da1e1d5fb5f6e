"""The latency ping: a loop's round trip to a fraction of a sample, its polarity, gain and noise.

Two halves, so a print pass can ping through its own stream:

- ``estimate(sent, received, samplerate) -> LatencyResult``: pure maths on two arrays;
- ``measure_loop(device, out_channel, in_channel, ...) -> LatencyResult``: opens a duplex
  sounddevice stream, plays ``hybrid.live.audio.signals.ping_signal`` on one output channel,
  records one input channel, and estimates.

``latency_samples`` counts from the sample written to the output buffer to its arrival
in the input buffer, as the stream sees it (index in the recording minus index in what
was sent, both counted from the stream's first callback). It includes the host's own
buffering: on JACK with ``blocksize=0``, one period on top of the loop.

Why an exponential sweep and a deconvolution, not jack_iodelay's multi-tone method
-------------------------------------------------------------------------------------
jack_iodelay (Fons Adriaensen's MTDM) plays 13 steady sines, demodulates each, and reads
the fraction of the delay from the phase of *one* tone (fs/16, 3 kHz at 48 kHz); the
others only resolve the whole-sample ambiguity bit by bit. It is elegant and runs
forever, but every phase shift the gear puts at that one frequency lands in the result
as delay: a 20 Hz transformer high-pass leads by ~0.01 rad at 3 kHz, i.e. -0.02 sample;
a bell EQ near 3 kHz moves it by whole samples' worth of phase; noise and hum at the
tone frequencies go straight in; a tail (reverb, delay) fills the tones with its own
phase; and it prints to 0.001 sample, refreshed every 250 ms after a ~0.5 s settle.

An MLS (maximum-length sequence) gives the impulse response quickly but smears any
non-linearity (a saturating return, a compressor moving) over the whole response as
spikes, and needs exact sample-clock periodicity.

An exponential sine sweep (Farina) with regularised spectral division gives the loop's
impulse response with 40+ dB of processing gain over broadband noise, pushes harmonic
distortion to *negative* time (away from the linear response we time), and does not
care what the gear does after the direct sound (tails fall after the peak). Then:

1. the whole-sample latency is the peak of |h| (polarity is the sign there);
2. the fraction is the slope of the phase of the response in a short window centred on
   the peak, fitted by weighted least squares over 1.5 kHz .. 0.4 fs with a free
   intercept. Using the whole band rather than one tone, the fit is the loop's group
   delay where transients live; the free intercept absorbs a constant phase offset;
   the low cut keeps a transformer's low-end phase lead out; weighting by |H|^2 lets the
   frequencies the gear passes best count most. The window is re-centred on the
   estimate (a fractional-position Hann window) and the fit repeated until it settles.
3. when that phase is not a straight line (an EQ bell or shelf bends it: a +9 dB bell
   at 5 kHz moves the group delay by ~0.3 sample), the gear's *minimum-phase* part is
   divided out: analog EQs, filters and transformers are minimum-phase, so their phase
   follows from their magnitude (folded real cepstrum of log|H| over ~85 ms of the
   response); what remains is the loop's pure delay, timed again as in 2. This is the
   figure an engineer wants: the converters' and wiring's delay compensated, the EQ's
   own phase left as part of its sound (as on an analog console). It is used only when
   it straightens the phase (halves the fit residual); ``method`` then says
   "+minimum-phase". A reverb's tail or a low-pass far inside the band is not
   minimum-phase-correctable and is reported as its group delay, with a warning.

On the simulated gear (offline and through JACK) this gives < 0.001 sample error on a
clean loop, ~0.001 with noise at -60 dBFS, ~0.005 through a 20 Hz high-pass, < 0.005
through bells and shelves (bench/latency_accuracy.py prints figures beside
jack_iodelay's, which reads -0.024 through the high-pass and ~0.3 sample off through
a reverb's tail).

Refusals (HybridError, one line): an input carrying digital silence (nothing connected),
an open loop (no correlated return, only noise), a clipping return (hot return), a
return too noisy to time: judged by the delay's own standard error from the noise in
the response (``MAX_UNCERTAINTY_SAMPLES``), not by broadband SNR, which a reverb's tail
from just before the ping ruins without touching the timing. A return within 3 dB of
full scale is measured but flagged ``hot`` in ``warnings``.

Short and wide
--------------
One loop takes 0.3 s of signal (50 ms of silence, a 150 ms sweep, 100 ms for the
return): the same estimator, about 5 dB less processing gain than a 0.5 s sweep, which
still times a loop with -60 dBFS of hiss to ~0.001 sample. Many loops are pinged in one
stream with *staggered* sweeps (``signals.ping_signal(slots=N)``): route k sends the
sweep 40 ms after route k-1, and each input is deconvolved against its own route's
send, so a unit that mixes its sides (an M/S EQ, a summing mixer's crosstalk) lands in
another slot's lags instead of in the timing. 16 loops take 0.05 + 15 x 0.04 + 0.15 +
0.1 = 0.9 s (``measure_loops``); the price is a 38 ms ceiling on each loop's latency
when more than one slot is used (one loop alone may take up to the capture, 100 ms).
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from scipy import fft as sfft

from hybrid.live.audio.signals import CAPTURE_S, PREROLL_S, SLOT_S, SWEEP_S, PingSignal, ping_signal
from hybrid.errors import HybridError

METHOD = "ess-deconvolution"

#: a return this close to full scale (peak, dBFS) is called clipping
CLIP_PEAK = 0.999
#: a return within this of full scale (dB) is measured but flagged hot
HOT_MARGIN_DB = 3.0
#: a response peak less than this far above the response's noise (dB): no return at all
OPEN_LOOP_PNR_DB = 20.0
#: half-width of the window around the response's peak, in samples
FIT_HALF_WIDTH = 32
#: the phase fit's band, in Hz (low edge) and as a share of the sample rate (high edge)
FIT_LOW_HZ = 1500.0
FIT_HIGH_FS = 0.40
#: two passes that both saw xruns are trusted when they agree this closely (samples)
XRUN_AGREEMENT_SAMPLES = 0.005
#: a fit residual above this (samples) tries the minimum-phase correction
MINPHASE_TRIGGER_SAMPLES = 0.002
#: how much of the response the minimum-phase correction looks at, and its band
MINPHASE_WINDOW_S = 0.085
MINPHASE_LOW_HZ = 20.0
MINPHASE_HIGH_FS = 0.40
#: a ping whose delay has a larger standard error than this (samples) is refused as too noisy
MAX_UNCERTAINTY_SAMPLES = 0.02
#: figures in dB are kept within +-this (a digitally clean loop has no noise at all)
DB_LIMIT = 200.0


@dataclass(frozen=True)
class LatencyResult:
    """One loop's measured round trip.

    ``latency_samples``: from the sample written to the output buffer to its arrival in
    the input buffer, as the stream sees it (fractional). ``polarity``: 1 or -1.
    ``gain_db``: loop gain in the timing band. ``noise_floor_dbfs``: RMS of the return
    with nothing sent (1.0 = full scale). ``snr_db``: return RMS over that noise.
    ``uncertainty_samples``: standard error of the delay from the noise in the response;
    ``confidence`` 0..1: 0.5 at 0.01 sample of noise error, lowered further when the
    loop's phase is far from a straight line (phase-shifting gear, see ``warnings``).
    ``peak_dbfs``: the return's peak. ``method``: how it was timed. ``warnings``: e.g. a
    hot return, a phase-shifting loop, xruns survived.
    """

    latency_samples: float
    polarity: int
    gain_db: float
    snr_db: float | None
    noise_floor_dbfs: float | None
    confidence: float
    uncertainty_samples: float
    samplerate: int
    peak_dbfs: float
    method: str = METHOD
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def latency_ms(self) -> float:
        return 1000.0 * self.latency_samples / self.samplerate

    def to_dict(self) -> dict:
        data = asdict(self)
        data["warnings"] = list(self.warnings)
        data["latency_ms"] = self.latency_ms
        return data

    @classmethod
    def from_dict(cls, data: dict) -> LatencyResult:
        names = {f for f in cls.__dataclass_fields__}
        kwargs = {k: v for k, v in data.items() if k in names}
        kwargs["warnings"] = tuple(kwargs.get("warnings", ()))
        return cls(**kwargs)


def _db(x: float) -> float:
    return 20.0 * math.log10(x) if x > 0 else -math.inf


def _round_db(x: float | None) -> float | None:
    if x is None or not math.isfinite(x):
        return x if x is None else float(x)
    return round(x, 2)


def estimate(sent, received, samplerate: int, *, max_latency_samples: int | None = None,
             min_snr_db: float | None = None, max_uncertainty_samples: float = MAX_UNCERTAINTY_SAMPLES,
             where: str | None = None) -> LatencyResult:
    """Time ``received`` against ``sent`` (1-D, same clock, index 0 = the same instant).

    ``sent`` should start with silence (the noise floor is read from the return there)
    and contain a broadband stimulus (``ping_signal``'s sweep is what this is tuned for;
    any broadband signal works). Raises HybridError naming ``where`` for an open loop,
    a silent input, a clipping return, or one too noisy to time: a delay whose standard
    error is above ``max_uncertainty_samples``. The broadband SNR (the return over what
    came back before the sweep) is reported, and refused only below ``min_snr_db`` when
    that is given: a reverb's own tail in the silence before the sweep lowers it without
    making the timing any worse.
    """
    x = np.asarray(sent, dtype=np.float64).ravel()
    y = np.asarray(received, dtype=np.float64).ravel()
    if not np.all(np.isfinite(y)):
        raise HybridError("the return contains NaN or infinite samples", where=where)
    active = np.flatnonzero(x)
    if len(active) == 0:
        raise HybridError("nothing was sent (the stimulus is silent)", where=where)
    first, last = int(active[0]), int(active[-1])
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if peak == 0.0:
        raise HybridError("the input carries digital silence: nothing connected to it, or the loop is open",
                          where=where)
    if peak >= CLIP_PEAK:
        raise HybridError(f"the return clips (peak {_db(peak):+.2f} dBFS): hot return; lower the gear's "
                          "output or the input trim and measure again", where=where)

    # noise floor: the return before anything sent can have come back (latency >= 0)
    skip = min(first // 8, 512)
    quiet = y[skip:first]
    noise_rms = float(np.sqrt(np.mean(quiet ** 2))) if len(quiet) >= 256 else None

    # impulse response by regularised spectral division
    n = max(len(x), len(y))
    nfft = sfft.next_fast_len(2 * n, real=True)
    spec_x = sfft.rfft(x, nfft)
    spec_y = sfft.rfft(y, nfft)
    power = np.abs(spec_x) ** 2
    eps = 1e-6 * float(power.max())
    response = spec_y * np.conj(spec_x) / (power + eps)
    freqs = np.arange(len(response)) / nfft
    response *= _band_taper(freqs, 30.0 / samplerate, 0.45)
    h = sfft.irfft(response, nfft)

    max_lag = len(y) - 1 - last
    if max_latency_samples is not None:
        max_lag = min(max_lag, int(max_latency_samples))
    if max_lag < FIT_HALF_WIDTH:
        raise HybridError("the recording is too short to hold the return", where=where)
    lags = np.abs(h[:max_lag + 1])
    k0 = int(np.argmax(lags))
    robust_noise = float(np.median(np.abs(h[:max_lag + 1]))) / 0.6745
    pnr_db = _db(lags[k0] / robust_noise) if robust_noise > 0 else math.inf

    signal_rms = float(np.sqrt(np.mean(y[first + k0:last + k0 + 1] ** 2)))
    snr_db = None
    if noise_rms is not None:
        snr_db = _db(signal_rms / noise_rms) if noise_rms > 0 else math.inf
    if pnr_db < OPEN_LOOP_PNR_DB:
        floor = f" (only noise at {_db(noise_rms):.1f} dBFS)" if noise_rms else ""
        raise HybridError(f"no return: the loop is open or not patched{floor}", where=where)
    if min_snr_db is not None and snr_db is not None and snr_db < min_snr_db:
        raise HybridError(f"too noisy to time: SNR {snr_db:.1f} dB over a noise floor of "
                          f"{_db(noise_rms):.1f} dBFS, need at least {min_snr_db:.0f} dB", where=where)

    polarity = 1 if h[k0] >= 0 else -1
    h = h * polarity
    t0, noise_err, model_err, gain = _fit_fraction(h, k0, samplerate, robust_noise)
    method = METHOD
    if model_err > MINPHASE_TRIGGER_SAMPLES:
        # Not a straight phase: try again with the gear's minimum-phase part divided out.
        flat = _excess_phase_response(h, k0, samplerate)
        if flat is not None:
            alt = _fit_fraction(flat, k0, samplerate, robust_noise)
            if alt[2] < 0.5 * model_err and abs(alt[0] - t0) < 4.0:
                t0, noise_err, model_err, _ = alt
                method = METHOD + "+minimum-phase"
    if not (0.0 <= t0 <= max_lag):
        raise HybridError("the timing fit did not settle (is the loop time-variant?)", where=where)
    if noise_err > max_uncertainty_samples:
        raise HybridError(f"too noisy to time: +-{noise_err:.3f} sample of timing uncertainty (at most "
                          f"+-{max_uncertainty_samples:g} wanted); quieten the loop or raise its level",
                          where=where)
    warnings = []
    if _db(peak) > -HOT_MARGIN_DB:
        warnings.append(f"hot return: peak {_db(peak):+.1f} dBFS")
    if method != METHOD:
        warnings.append("phase-shifting gear on the loop: its minimum-phase part (EQ, filters, transformers) "
                        "was taken out; the latency is the loop's pure delay")
    if model_err > 0.02:
        warnings.append(f"the loop's phase is not a pure delay (fit residual +-{model_err:.3f} sample): "
                        "latency is its group delay over 1.5 kHz..{:.1f} kHz".format(
                            FIT_HIGH_FS * samplerate / 1000))
    confidence = 1.0 / (1.0 + (noise_err / 0.01) ** 2) / (1.0 + (model_err / 0.05) ** 2)
    return LatencyResult(
        latency_samples=float(t0), polarity=polarity, gain_db=_round_db(_db(gain)),
        snr_db=_round_db(_clamp_db(snr_db)),
        noise_floor_dbfs=_round_db(_clamp_db(_db(noise_rms))) if noise_rms is not None else None,
        confidence=round(confidence, 4), uncertainty_samples=float(noise_err), samplerate=int(samplerate),
        peak_dbfs=_round_db(_db(peak)), method=method, warnings=tuple(warnings),
    )


def _clamp_db(x: float | None) -> float | None:
    """Keep figures finite (JSON has no infinity): a digitally clean loop reads -200 dBFS noise."""
    if x is None:
        return None
    return float(min(max(x, -DB_LIMIT), DB_LIMIT))


def _band_taper(freqs: np.ndarray, low: float, high: float) -> np.ndarray:
    """1 inside ``low..high`` (cycles/sample), raised-cosine to 0 over an octave outside."""
    w = np.ones_like(freqs)
    lo = freqs < low
    w[lo] = 0.5 - 0.5 * np.cos(np.pi * np.clip(freqs[lo] / low * 2 - 1, 0, 1))
    top = 0.5
    hi = freqs > high
    w[hi] = 0.5 + 0.5 * np.cos(np.pi * np.clip((freqs[hi] - high) / (top - high), 0, 1))
    return w


def _excess_phase_response(h: np.ndarray, k0: int, samplerate: int) -> np.ndarray | None:
    """``h`` with its minimum-phase part divided out: for a delay plus minimum-phase gear
    (EQs, filters, transformers, compressors at a steady gain) a band-limited impulse at
    the pure delay, which ``_fit_fraction`` then times exactly.

    A long segment around the peak (it must hold the gear's response: ~85 ms) gives the
    magnitude; its minimum-phase phase comes from the folded real cepstrum of the log
    magnitude (held flat outside the measured band); the segment's phase minus that is
    the excess phase, returned as an impulse response with unit magnitude in the band.
    """
    pre = 256
    post = int(MINPHASE_WINDOW_S * samplerate)
    if pre + post > len(h):
        return None
    n = sfft.next_fast_len(4 * (pre + post), real=True)
    around = np.arange(k0 - pre, k0 + post) % len(h)   # the response is circular: negative lags wrap
    seg = h[around]
    seg[:128] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(128) / 128)
    tail = post // 4
    seg[-tail:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, tail + 1) / tail)
    buf = np.zeros(n)
    buf[:post] = seg[pre:]          # time origin at the peak: earlier samples wrap to the end
    buf[-pre:] = seg[:pre]
    spectrum = sfft.rfft(buf)
    freqs = np.arange(len(spectrum)) / n
    low, high = np.searchsorted(freqs, [MINPHASE_LOW_HZ / samplerate, MINPHASE_HIGH_FS])
    mag = np.abs(spectrum)
    if high <= low or mag[low:high].max() <= 0:
        return None
    log_mag = np.log(np.maximum(mag, mag[low:high].max() * 1e-5))
    log_mag[:low] = log_mag[low]
    log_mag[high:] = log_mag[high - 1]
    cepstrum = sfft.irfft(log_mag, n)
    fold = np.zeros(n)
    fold[0] = 1.0
    fold[1:n // 2] = 2.0
    fold[n // 2] = 1.0
    min_phase = np.imag(sfft.rfft(cepstrum * fold))
    excess = np.exp(1j * (np.angle(spectrum) - min_phase)) * _band_taper(freqs, MINPHASE_LOW_HZ / samplerate,
                                                                           MINPHASE_HIGH_FS)
    flat = sfft.irfft(excess, n)
    out = np.zeros_like(h)
    out[around] = np.concatenate([flat[-pre:], flat[:post]])
    return out


def _fit_fraction(h: np.ndarray, k0: int, samplerate: int, noise_rms: float, iterations: int = 4):
    """Refine the peak ``k0`` of ``h`` (polarity already applied) to a fractional delay.

    The phase of a Hann-windowed segment, referred to the current estimate, is fitted by
    a line weighted by |H|^2 over the band; its slope is the remaining delay. Returns
    ``(delay, noise_error, model_error, gain)``: the standard error of the delay from the
    response's noise (``noise_rms`` per sample of ``h``), the same from the fit's residual
    (large when the loop's phase is not a straight line, e.g. a bell EQ), and the gain.
    """
    half = FIT_HALF_WIDTH
    f_lo = FIT_LOW_HZ / samplerate
    f_hi = FIT_HIGH_FS
    freqs = np.linspace(f_lo, f_hi, 160)
    independent = max(3.0, (f_hi - f_lo) * 2 * half)  # resolvable bins in the band
    oversampling = len(freqs) / independent
    # start from a parabola through the peak
    t = float(k0)
    if 0 < k0 < len(h) - 1:
        a, b, c = h[k0 - 1], h[k0], h[k0 + 1]
        denom = a - 2 * b + c
        if denom != 0:
            t += float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))
    noise_err = model_err = math.inf
    gain = 0.0
    for _ in range(iterations):
        base = int(math.floor(t))
        idx = np.arange(base - half, base + half + 2)
        idx = idx[(idx >= 0) & (idx < len(h))]
        rel = idx - t
        arg = rel / half
        window = np.where(np.abs(arg) < 1, np.cos(0.5 * np.pi * arg) ** 2, 0.0)
        seg = h[idx] * window
        spectrum = np.exp(-2j * np.pi * np.outer(freqs, rel)) @ seg
        mag2 = np.abs(spectrum) ** 2
        phase = np.unwrap(np.angle(spectrum))
        w = mag2 / mag2.sum()
        f_mean = float(w @ freqs)
        p_mean = float(w @ phase)
        df = freqs - f_mean
        sxx = float(w @ (df * df))
        slope = float(w @ (df * (phase - p_mean))) / sxx
        delta = -slope / (2 * np.pi)
        t += delta
        # noise: phase variance per point is sigma_X^2 / (2 |X|^2)
        sigma_x2 = noise_rms ** 2 * float(window @ window)
        inv_var = 2.0 * mag2 / max(sigma_x2, 1e-300)
        noise_err = math.sqrt(oversampling / float(inv_var @ (df * df))) / (2 * np.pi)
        resid = phase - p_mean - slope * df
        n_eff = min(1.0 / float(w @ w), independent)
        model_err = math.sqrt(float(w @ (resid * resid)) / (sxx * max(n_eff - 2.0, 1.0))) / (2 * np.pi)
        gain = math.sqrt(float(mag2.mean()))
        if abs(delta) < 1e-7:
            break
    return t, noise_err, model_err, gain


# --------------------------------------------------------------------------- I/O


@dataclass(frozen=True)
class PingRoute:
    """What one slot of a multi-loop ping sends and where it is timed (1-based channels).

    ``outs``: the outputs that play this slot's sweep (one for a loop's side; every input
    of a summing mixer for its bus, each lowered so they sum to the ping's level);
    ``ins``: the inputs timed against it (one per side; a summing bus's left and right).
    """

    outs: tuple[int, ...]
    ins: tuple[int, ...]
    label: str = ""

    @property
    def where(self) -> str:
        chans = f"out {','.join(map(str, self.outs))} -> in {','.join(map(str, self.ins))}"
        return f"{self.label} ({chans})" if self.label else chans


def route_sends(ping: PingSignal, routes: Sequence[PingRoute]) -> tuple[list[int], np.ndarray]:
    """``(output channels, frames x outputs)``: every route's slot on its outputs at once."""
    outs = sorted({o for r in routes for o in r.outs})
    col = {o: k for k, o in enumerate(outs)}
    sends = np.zeros((ping.frames, len(outs)), dtype=np.float32)
    for slot, route in enumerate(routes):
        scale = 1.0 / len(route.outs)
        sig = ping.sent_for(slot) * np.float32(scale)
        for o in route.outs:
            sends[:, col[o]] += sig
    return outs, sends


def route_ping(ping_settings: dict, samplerate: int, routes: Sequence[PingRoute]) -> PingSignal:
    """The ping for ``routes``: one slot per route (one slot, so 0.3 s, for a single route)."""
    return ping_signal(samplerate, slots=max(1, len(routes)), **ping_settings)


def measure_loops(device, routes: Sequence[PingRoute], samplerate: int | None = None,
                  blocksize: int | None = None, hostapi: str | None = None, *,
                  level_dbfs: float = -12.0, sweep_s: float = SWEEP_S, preroll_s: float = PREROLL_S,
                  capture_s: float = CAPTURE_S, slot_s: float = SLOT_S,
                  max_uncertainty_samples: float = MAX_UNCERTAINTY_SAMPLES, min_snr_db: float | None = None,
                  retries: int = 2, rescan: bool = True) -> list[list[LatencyResult]]:
    """Ping every route in one stream (staggered sweeps); results per route, per input.

    Refusals are as :func:`estimate`'s, naming the route. A pass with xruns is measured
    again (up to ``retries`` times); passes with xruns count only when two agree within
    ``XRUN_AGREEMENT_SAMPLES`` on every input. ``rescan``: see :func:`measure_loop`.
    """
    import sounddevice as sd

    from hybrid.live.audio.portaudio import find_device

    if not routes:
        raise HybridError("nothing to ping: no loops given")
    where = f"{device}"
    dev = find_device(str(device), hostapi, rescan_if_missing=rescan)
    for route in routes:
        for o in route.outs:
            if not 1 <= o <= dev.max_outputs:
                raise HybridError(f"output channel {o} out of range 1..{dev.max_outputs}", where=route.where)
        for i in route.ins:
            if not 1 <= i <= dev.max_inputs:
                raise HybridError(f"input channel {i} out of range 1..{dev.max_inputs}", where=route.where)
    rate = int(samplerate or sd.query_devices(dev.index)["default_samplerate"])
    # room for the round trip: a few host blocks on top of the loop itself
    capture_s = max(capture_s, 4 * (blocksize or 0) / rate + 0.05)
    ping = route_ping(dict(sweep_s=sweep_s, level_dbfs=level_dbfs, preroll_s=preroll_s, capture_s=capture_s,
                           slot_s=slot_s), rate, routes)
    outs, sends = route_sends(ping, routes)
    ins = sorted({i for r in routes for i in r.ins})
    attempts = max(1, retries + 1)
    with_xruns: list[list[list[LatencyResult]]] = []
    refusal: HybridError | None = None
    for _ in range(attempts):
        received, xruns = run_streams(dev.index, sends, outs, ins, rate, blocksize or 0, where)
        try:
            results = estimate_routes(ping, routes, received, ins, rate,
                                      max_uncertainty_samples=max_uncertainty_samples, min_snr_db=min_snr_db)
        except HybridError as exc:
            if xruns == 0:
                raise
            refusal = exc
            continue
        if xruns == 0:
            return results
        for earlier in with_xruns:
            if _agree(earlier, results):
                note = (f"xruns during the ping; {len(with_xruns) + 1} passes agreed within "
                        f"{XRUN_AGREEMENT_SAMPLES} sample")
                return [[replace(r, warnings=r.warnings + (note,)) for r in per] for per in results]
        with_xruns.append(results)
    if not with_xruns and refusal is not None:
        raise refusal
    figures = ", ".join(f"{res[0][0].latency_samples:.3f}" for res in with_xruns)
    raise HybridError(f"xruns in every one of {attempts} passes and their figures disagree ({figures}); "
                      "the machine is too loaded for this block size", where=where)


def _agree(a: list[list[LatencyResult]], b: list[list[LatencyResult]]) -> bool:
    return all(abs(x.latency_samples - y.latency_samples) <= XRUN_AGREEMENT_SAMPLES and x.polarity == y.polarity
               for pa, pb in zip(a, b, strict=True) for x, y in zip(pa, pb, strict=True))


def estimate_routes(ping: PingSignal, routes: Sequence[PingRoute], received: np.ndarray, ins: Sequence[int],
                    samplerate: int, *, max_uncertainty_samples: float = MAX_UNCERTAINTY_SAMPLES,
                    min_snr_db: float | None = None) -> list[list[LatencyResult]]:
    """Time each route's inputs in ``received`` (frames x ``ins``) against its own slot."""
    col = {i: k for k, i in enumerate(ins)}
    out: list[list[LatencyResult]] = []
    for slot, route in enumerate(routes):
        sent = ping.sent_for(slot)
        per = []
        for i in route.ins:
            where = route.where if len(route.ins) == 1 else f"{route.where}, in {i}"
            per.append(estimate(sent, received[:, col[i]], samplerate, max_latency_samples=ping.max_latency_samples,
                                min_snr_db=min_snr_db, max_uncertainty_samples=max_uncertainty_samples,
                                where=where))
        out.append(per)
    return out


def measure_loop(device, out_channel: int, in_channel: int, samplerate: int | None = None,
                 blocksize: int | None = None, hostapi: str | None = None, *,
                 level_dbfs: float = -12.0, sweep_s: float = SWEEP_S, preroll_s: float = PREROLL_S,
                 capture_s: float = CAPTURE_S, max_uncertainty_samples: float = MAX_UNCERTAINTY_SAMPLES,
                 min_snr_db: float | None = None, retries: int = 2, rescan: bool = True) -> LatencyResult:
    """Ping one loop: play a sweep on ``out_channel``, record ``in_channel`` (both 1-based).

    ``device`` is a PortAudio device name (exact, or a unique substring) or index,
    ``hostapi`` narrows the search, ``samplerate`` defaults to the device's,
    ``blocksize`` 0/None means the host's own. ``sweep_s``, ``preroll_s`` (noise floor)
    and ``capture_s`` (longest latency plus tail) shape ``ping_signal``. A pass with an xrun (over/underflow) is
    measured again up to ``retries`` times; passes with xruns count only when two agree
    within XRUN_AGREEMENT_SAMPLES, else the ping is refused. If the device is not listed,
    PortAudio is re-initialised once (``rescan``) to pick up JACK clients started since:
    do not rescan while other streams are open.
    """
    route = PingRoute((out_channel,), (in_channel,), label=f"{device}")
    return measure_loops(device, [route], samplerate, blocksize, hostapi, level_dbfs=level_dbfs,
                         sweep_s=sweep_s, preroll_s=preroll_s, capture_s=capture_s,
                         max_uncertainty_samples=max_uncertainty_samples, min_snr_db=min_snr_db,
                         retries=retries, rescan=rescan)[0][0]


def run_duplex(device_index: int, ping: PingSignal, out_channel: int, in_channel: int,
               samplerate: int, blocksize: int, where: str) -> tuple[np.ndarray, int]:
    """Play ``ping.sent`` on one output channel and record one input channel, sample-locked.

    Returns ``(received, xruns)``; ``received[i]`` arrived in the same callback position
    as ``ping.sent[i]`` was written, so their offset is the latency as the stream sees it.
    """
    received, xruns = run_streams(device_index, ping.sent[:, None], [out_channel], [in_channel],
                                  samplerate, blocksize, where)
    return received[:, 0], xruns


def run_streams(device_index: int, sends: np.ndarray, out_channels: Sequence[int], in_channels: Sequence[int],
                samplerate: int, blocksize: int, where: str) -> tuple[np.ndarray, int]:
    """Play ``sends`` (frames x outputs) on ``out_channels``, record ``in_channels``, sample-locked.

    Returns ``(received (frames x inputs), xruns)``, both counted from the stream's first
    callback, so an offset between a send and a return is the latency as the stream sees it.
    """
    import sounddevice as sd

    from devices.jack_server import freewheeling, offline_clock, virtual_clock

    total = len(sends)
    received = np.zeros((total, len(in_channels)), dtype=np.float32)
    out_idx = [o - 1 for o in out_channels]
    in_idx = [i - 1 for i in in_channels]
    state = {"pos": 0, "xruns": 0}
    done = threading.Event()
    # on a simulated room's clock a late cycle is waited for, not lost: its flags are no xrun
    hostapi = sd.query_hostapis(sd.query_devices(device_index)["hostapi"])["name"]
    slips_only = virtual_clock(hostapi)
    # a simulated room printing offline runs the whole stream freewheeling (all in memory here)
    clock = freewheeling() if offline_clock(hostapi) else contextlib.nullcontext()

    def callback(indata, outdata, frames, _time_info, status):
        if not slips_only and (status.input_overflow or status.output_underflow or status.input_underflow
                               or status.output_overflow):
            state["xruns"] += 1
        pos = state["pos"]
        n = min(frames, total - pos)
        outdata.fill(0)
        if n > 0:
            for k, c in enumerate(out_idx):     # column by column: no temporaries in the callback
                outdata[:n, c] = sends[pos:pos + n, k]
            for k, c in enumerate(in_idx):
                received[pos:pos + n, k] = indata[:n, c]
        state["pos"] = pos + n
        if pos + n >= total:
            raise sd.CallbackStop

    try:
        stream = sd.Stream(device=(device_index, device_index), samplerate=samplerate,
                           blocksize=blocksize, channels=(max(in_channels), max(out_channels)), dtype="float32",
                           callback=callback, finished_callback=done.set)
    except (sd.PortAudioError, ValueError) as exc:
        from hybrid.live.audio.portaudio import stream_error

        raise stream_error(exc, "cannot open the stream", where=where) from exc
    stream.start()
    with clock:
        finished = done.wait(timeout=total / samplerate + 10.0)
    if not finished:
        # A wedged host (a JACK server that stopped running cycles) can block Pa_StopStream
        # for ever: let a helper thread try, and answer now.
        threading.Thread(target=_close_quietly, args=(stream,), daemon=True).start()
        raise HybridError("the stream stalled (no audio callbacks): is the audio server running?",
                          where=where)
    closer = threading.Thread(target=_close_quietly, args=(stream,), daemon=True)
    closer.start()
    closer.join(timeout=5.0)
    if closer.is_alive():
        raise HybridError("the audio host did not let the stream close (is it wedged?)", where=where)
    if state["pos"] < total:
        raise HybridError("the stream stopped early", where=where)
    return received, state["xruns"]


def _close_quietly(stream) -> None:
    import sounddevice as sd

    try:
        stream.close(ignore_errors=True)
    except sd.PortAudioError:
        pass
