"""Block processors of the simulated analog gear: delay, gain, noise, filters, dynamics, reverb.

Every processor works on one channel, one block at a time, float64, and keeps its own
state between blocks, so a chain of them behaves like a piece of gear in a loop. They
are vectorised (numpy/scipy over the whole block; scalar Python only per 16-sample
control chunk in the compressor and per delay-length chunk in the reverb), so a loop
keeps up at 48 kHz / 256 frames on a loaded two-core machine.

Parameters are set from any thread (MIDI/serial simulators, tests) through setters that
compute new coefficients and publish them with one attribute assignment; the audio
thread reads that attribute once per block. No locks in the audio path.

Units are in the names: ``delay_samples``, ``gain_db``, ``attack_ms``, ``freq_hz``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

#: Largest block a processor is prepared for (JACK periods are far smaller).
MAX_BLOCK = 8192


def db_to_gain(gain_db: float) -> float:
    return 10.0 ** (gain_db / 20.0)


class Processor:
    """Base class: ``process(x) -> y`` for a 1-D float64 block; ``bypass`` passes it through.

    ``prepare(samplerate)`` is called once the sample rate is known (the JACK server's);
    processors created with a sample rate are prepared at once.
    """

    #: a short name for reports (``"compressor"``, ``"eq"`` ...)
    kind = "processor"

    def __init__(self) -> None:
        self.samplerate: int | None = None
        self.bypass = False

    def prepare(self, samplerate: int) -> None:
        self.samplerate = int(samplerate)

    def reset(self) -> None:
        """Forget the signal history (filter states, delay lines)."""

    def process(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.bypass or self.samplerate is None:
            return x
        return self.process(x)

    def _require_rate(self) -> int:
        if self.samplerate is None:
            raise RuntimeError(f"{self.kind}: prepare(samplerate) first")
        return self.samplerate


# --------------------------------------------------------------------------- delay


class DoubledRing:
    """A ring buffer written twice (at ``i`` and ``i + size``) so any window up to ``size``
    samples long is one contiguous slice: a delay line that never copies or wraps."""

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self.buf = np.zeros(2 * self.size)
        self.write = 0  # ring index of the next sample to write

    def push(self, x: np.ndarray) -> None:
        n = len(x)
        w = self.write
        first = min(n, self.size - w)
        self.buf[w:w + first] = x[:first]
        self.buf[w + self.size:w + self.size + first] = x[:first]
        if first < n:
            rest = n - first
            self.buf[:rest] = x[first:]
            self.buf[self.size:self.size + rest] = x[first:]
        self.write = (w + n) % self.size

    def window(self, start_back: int, length: int) -> np.ndarray:
        """``length`` samples starting ``start_back`` samples before the write position."""
        start = (self.write - start_back) % self.size
        return self.buf[start:start + length]

    def clear(self) -> None:
        self.buf[:] = 0.0


@dataclass(frozen=True)
class _DelayTaps:
    integer_samples: int  # pure delay before the FIR
    taps: np.ndarray      # fractional-delay FIR (bulk delay included in its length)


class FractionalDelay(Processor):
    """A delay of any real number of samples (e.g. 37.25 or 100.3): the converter path of a loop.

    The fraction is a Kaiser-windowed sinc FIR (up to 128 taps, beta 12), its bulk delay
    (63 samples) taken off the integer part. Why windowed sinc rather than Thiran or Lagrange:
    this delay is the *reference* the latency meter is tested against, so it must be one
    delay at every frequency. A long windowed sinc has flat magnitude and a group delay
    within 1e-4 sample of the target up to 0.42 fs (checked in tests), like a converter's
    linear-phase path. A Thiran allpass is flat in magnitude but its group delay is exact
    only near DC and drifts towards Nyquist; low-order Lagrange is exact at DC but droops
    and errs at high frequencies. Either would make "the known delay" frequency-dependent.
    Delays shorter than the FIR's bulk use a shorter FIR (76 taps at 37.25 samples: still
    within 1e-4 sample; below ~20 samples the top octave loses accuracy); whole numbers use
    no FIR at all.

    ``set_delay`` may be called while running (a test hook: a loop whose latency changes).
    """

    kind = "delay"
    TAPS = 128
    KAISER_BETA = 12.0

    def __init__(self, delay_samples: float = 0.0, *, max_delay_samples: int = 96000,
                 samplerate: int | None = None) -> None:
        super().__init__()
        self.max_delay_samples = int(max_delay_samples)
        self._ring = DoubledRing(self.max_delay_samples + self.TAPS + MAX_BLOCK)
        self._taps = _design_delay(0.0, self.TAPS, self.KAISER_BETA)
        self.delay_samples = 0.0
        self.set_delay(delay_samples)
        if samplerate:
            self.prepare(samplerate)

    def set_delay(self, delay_samples: float) -> None:
        delay = float(delay_samples)
        if not 0.0 <= delay <= self.max_delay_samples:
            raise ValueError(f"delay_samples must be 0..{self.max_delay_samples}, got {delay}")
        self._taps = _design_delay(delay, self.TAPS, self.KAISER_BETA)
        self.delay_samples = delay

    def reset(self) -> None:
        self._ring.clear()

    def process(self, x: np.ndarray) -> np.ndarray:
        taps = self._taps  # read once: a setter on another thread swaps the whole object
        n = len(x)
        self._ring.push(x)
        length = n + len(taps.taps) - 1
        back = taps.integer_samples + length
        seg = self._ring.window(back, length)
        if len(taps.taps) == 1:
            return seg.copy()
        return np.convolve(seg, taps.taps, mode="valid")


def _design_delay(delay: float, max_taps: int, beta: float) -> _DelayTaps:
    whole = math.floor(delay)
    frac = delay - whole
    if frac < 1e-9:
        return _DelayTaps(int(whole), np.ones(1))
    half = max(1, min(max_taps // 2, whole + 1))  # the FIR's bulk (half - 1) must fit in ``whole``
    length = 2 * half
    bulk = half - 1
    centre = bulk + frac
    k = np.arange(length)
    t = k - centre
    # a Kaiser window evaluated at the fractional position, so it is symmetric about the peak
    arg = 1.0 - (t / (half + 0.0)) ** 2
    w = np.where(arg > 0, np.i0(beta * np.sqrt(np.clip(arg, 0, None))) / np.i0(beta), 0.0)
    taps = np.sinc(t) * w
    taps /= taps.sum()
    return _DelayTaps(int(whole - bulk), taps)


# --------------------------------------------------------------------------- level


class Gain(Processor):
    """Gain in dB and polarity (1 or -1): the loop's level and wiring."""

    kind = "gain"

    def __init__(self, gain_db: float = 0.0, polarity: int = 1, samplerate: int | None = None) -> None:
        super().__init__()
        self._factor = 1.0
        self.gain_db = 0.0
        self.polarity = 1
        self.set(gain_db=gain_db, polarity=polarity)
        if samplerate:
            self.prepare(samplerate)

    def set(self, *, gain_db: float | None = None, polarity: int | None = None) -> None:
        if polarity is not None and polarity not in (1, -1):
            raise ValueError(f"polarity must be 1 or -1, got {polarity!r}")
        if gain_db is not None:
            self.gain_db = float(gain_db)
        if polarity is not None:
            self.polarity = int(polarity)
        self._factor = self.polarity * db_to_gain(self.gain_db)

    def process(self, x: np.ndarray) -> np.ndarray:
        factor = self._factor
        if factor == 1.0:
            return x
        return np.multiply(x, factor, out=x)


class NoiseFloor(Processor):
    """Adds white Gaussian noise at ``level_dbfs`` RMS (1.0 = full scale): the unit's hiss."""

    kind = "noise"

    def __init__(self, level_dbfs: float = -96.0, *, seed: int | None = None,
                 samplerate: int | None = None) -> None:
        super().__init__()
        self._rng = np.random.default_rng(seed)
        self._noise = np.zeros(MAX_BLOCK)
        self.level_dbfs = float(level_dbfs)
        self._rms = db_to_gain(self.level_dbfs)
        if samplerate:
            self.prepare(samplerate)

    def set_level(self, level_dbfs: float) -> None:
        self.level_dbfs = float(level_dbfs)
        self._rms = db_to_gain(self.level_dbfs)

    def process(self, x: np.ndarray) -> np.ndarray:
        n = len(x)
        noise = self._noise[:n]
        self._rng.standard_normal(out=noise)
        noise *= self._rms
        return np.add(x, noise, out=x)


class Saturator(Processor):
    """Gentle tanh saturation: ``drive_db`` into the curve, ``output_db`` after it.

    Small signals see ``drive_db`` of gain; peaks round off smoothly towards
    ``output`` (odd harmonics rising with level), like a transformer or tube stage.
    """

    kind = "saturator"

    def __init__(self, drive_db: float = 0.0, output_db: float = 0.0, samplerate: int | None = None) -> None:
        super().__init__()
        self.drive_db = float(drive_db)
        self.output_db = float(output_db)
        self._coef = (db_to_gain(self.drive_db), db_to_gain(self.output_db))
        if samplerate:
            self.prepare(samplerate)

    def set(self, *, drive_db: float | None = None, output_db: float | None = None) -> None:
        if drive_db is not None:
            self.drive_db = float(drive_db)
        if output_db is not None:
            self.output_db = float(output_db)
        self._coef = (db_to_gain(self.drive_db), db_to_gain(self.output_db))

    def process(self, x: np.ndarray) -> np.ndarray:
        drive, out = self._coef
        np.multiply(x, drive, out=x)
        np.tanh(x, out=x)
        return np.multiply(x, out, out=x)


class Clipper(Processor):
    """Hard clip at +-``ceiling`` (1.0 = the converter's full scale): where hot returns clip."""

    kind = "clipper"

    def __init__(self, ceiling: float = 1.0, samplerate: int | None = None) -> None:
        super().__init__()
        self.ceiling = float(ceiling)
        if samplerate:
            self.prepare(samplerate)

    def process(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, -self.ceiling, self.ceiling, out=x)


# --------------------------------------------------------------------------- filters


class _SosFilter(Processor):
    """A cascade of biquads, one ``scipy.signal.lfilter`` per section, states kept between blocks.

    (Per-section lfilter: ``sosfilt`` does the same sums but costs ~5x more per call on
    256-sample blocks, its argument checks dominating.)
    """

    def __init__(self) -> None:
        super().__init__()
        self._sections: tuple = ()
        self._zi: list[np.ndarray] = []

    def _publish(self, sos: np.ndarray) -> None:
        sos = np.asarray(sos, dtype=float)
        sections = tuple((row[:3].copy(), row[3:].copy()) for row in sos)
        if len(sections) != len(self._zi):
            self._zi = [np.zeros(2) for _ in sections]
        self._sections = sections

    @property
    def _sos(self) -> np.ndarray:
        if not self._sections:
            return np.array([[1.0, 0, 0, 1.0, 0, 0]])
        return np.array([np.concatenate([b, a]) for b, a in self._sections])

    def reset(self) -> None:
        self._zi = [np.zeros(2) for _ in self._sections]

    def process(self, x: np.ndarray) -> np.ndarray:
        sections = self._sections
        zi = self._zi
        if len(zi) != len(sections):  # a band was added or removed on another thread
            zi = [np.zeros(2) for _ in sections]
        new_zi = []
        for (b, a), z in zip(sections, zi, strict=False):
            x, z = signal.lfilter(b, a, x, zi=z)
            new_zi.append(z)
        self._zi = new_zi
        return x


class HighPass(_SosFilter):
    """Butterworth high-pass (default 20 Hz, 2nd order): an input/output transformer's low end.

    Its phase lead at low frequencies is the kind of thing a latency meter must not
    mistake for a change of delay.
    """

    kind = "highpass"

    def __init__(self, cutoff_hz: float = 20.0, order: int = 2, samplerate: int | None = None) -> None:
        super().__init__()
        self.cutoff_hz = float(cutoff_hz)
        self.order = int(order)
        if samplerate:
            self.prepare(samplerate)

    def prepare(self, samplerate: int) -> None:
        super().prepare(samplerate)
        self.set_cutoff(self.cutoff_hz)

    def set_cutoff(self, cutoff_hz: float) -> None:
        self.cutoff_hz = float(cutoff_hz)
        if self.samplerate:
            self._publish(signal.butter(self.order, self.cutoff_hz, "highpass", fs=self.samplerate,
                                        output="sos"))


BAND_TYPES = ("peak", "lowshelf", "highshelf", "highpass", "lowpass")


@dataclass
class Band:
    """One EQ band: ``type`` in BAND_TYPES, centre/corner ``freq_hz``, ``gain_db`` (peak and
    shelves), ``q`` (peak width; for shelves and pass filters the slope, 0.707 = Butterworth)."""

    type: str = "peak"
    freq_hz: float = 1000.0
    gain_db: float = 0.0
    q: float = 0.707
    enabled: bool = True

    def check(self) -> Band:
        if self.type not in BAND_TYPES:
            raise ValueError(f"EQ band type must be one of {', '.join(BAND_TYPES)}, got {self.type!r}")
        if not self.freq_hz > 0:
            raise ValueError(f"EQ band freq_hz must be > 0, got {self.freq_hz}")
        if not self.q > 0:
            raise ValueError(f"EQ band q must be > 0, got {self.q}")
        return self


def biquad(band: Band, samplerate: int) -> np.ndarray:
    """One second-order section for ``band`` (Robert Bristow-Johnson's Audio EQ Cookbook)."""
    freq = min(band.freq_hz, 0.49 * samplerate)
    w0 = 2 * math.pi * freq / samplerate
    cos_w, sin_w = math.cos(w0), math.sin(w0)
    alpha = sin_w / (2 * band.q)
    a_gain = 10 ** (band.gain_db / 40)
    if band.type == "peak":
        b = [1 + alpha * a_gain, -2 * cos_w, 1 - alpha * a_gain]
        a = [1 + alpha / a_gain, -2 * cos_w, 1 - alpha / a_gain]
    elif band.type in ("lowshelf", "highshelf"):
        sq = 2 * math.sqrt(a_gain) * alpha
        sign = 1 if band.type == "lowshelf" else -1
        ap, am = a_gain + 1, a_gain - 1
        b = [a_gain * (ap - sign * am * cos_w + sq), sign * 2 * a_gain * (am - sign * ap * cos_w),
             a_gain * (ap - sign * am * cos_w - sq)]
        a = [ap + sign * am * cos_w + sq, -sign * 2 * (am + sign * ap * cos_w), ap + sign * am * cos_w - sq]
    elif band.type == "highpass":
        b = [(1 + cos_w) / 2, -(1 + cos_w), (1 + cos_w) / 2]
        a = [1 + alpha, -2 * cos_w, 1 - alpha]
    else:  # lowpass
        b = [(1 - cos_w) / 2, 1 - cos_w, (1 - cos_w) / 2]
        a = [1 + alpha, -2 * cos_w, 1 - alpha]
    return np.array([b[0] / a[0], b[1] / a[0], b[2] / a[0], 1.0, a[1] / a[0], a[2] / a[0]])


class Equaliser(_SosFilter):
    """A parametric EQ: a cascade of biquad bands (high-pass, shelves, peaks, low-pass).

    ``set_band(i, freq_hz=..., gain_db=...)`` retunes one band; the filter state is kept,
    as turning a knob on a running analog EQ does.
    """

    kind = "eq"

    def __init__(self, bands: list[Band] | None = None, samplerate: int | None = None) -> None:
        super().__init__()
        self.bands = [b.check() for b in (bands or [])]
        if samplerate:
            self.prepare(samplerate)

    def prepare(self, samplerate: int) -> None:
        super().prepare(samplerate)
        self._redesign()

    def set_band(self, index: int, **changes) -> None:
        band = self.bands[index]
        new = Band(**{**band.__dict__, **changes}).check()
        bands = list(self.bands)
        bands[index] = new
        self.bands = bands
        self._redesign()

    def _redesign(self) -> None:
        if not self.samplerate:
            return
        sections = [biquad(b, self.samplerate) for b in self.bands if b.enabled]
        self._publish(np.array(sections) if sections else np.zeros((0, 6)))

    def response_db(self, freqs_hz: np.ndarray) -> np.ndarray:
        """The EQ's magnitude response at ``freqs_hz`` (for checks and displays)."""
        _, h = signal.sosfreqz(self._sos, worN=np.asarray(freqs_hz, float), fs=self._require_rate())
        return 20 * np.log10(np.maximum(np.abs(h), 1e-12))


# --------------------------------------------------------------------------- dynamics


class Compressor(Processor):
    """A feed-forward compressor: threshold, ratio, attack, release, makeup, soft knee.

    The level detector is a peak detector per 16-sample control chunk; the gain
    reduction (in dB) follows it with the attack time when it rises and the release time
    when it falls (one-pole smoothing, as an analog RC detector), and the gain is ramped
    linearly across each chunk. Attack times below a chunk (0.33 ms at 48 kHz) act as one
    chunk; that is the price of no per-sample Python loop.
    ``gain_reduction_db`` is the latest reduction, for meters and tests.
    """

    kind = "compressor"
    CHUNK = 16

    def __init__(self, threshold_db: float = -20.0, ratio: float = 4.0, attack_ms: float = 10.0,
                 release_ms: float = 100.0, makeup_db: float = 0.0, knee_db: float = 6.0,
                 samplerate: int | None = None) -> None:
        super().__init__()
        self.threshold_db = float(threshold_db)
        self.ratio = float(ratio)
        self.attack_ms = float(attack_ms)
        self.release_ms = float(release_ms)
        self.makeup_db = float(makeup_db)
        self.knee_db = float(knee_db)
        self._gr_db = 0.0          # smoothed gain reduction (>= 0)
        self._last_gain = 1.0      # linear gain at the end of the previous chunk
        self._ramp = np.arange(1, self.CHUNK + 1) / self.CHUNK
        self._gains = np.ones(MAX_BLOCK)
        self._levels = np.zeros(MAX_BLOCK // self.CHUNK)
        self._starts = np.zeros(MAX_BLOCK // self.CHUNK)
        self._coef = (0.0, 0.0, 0.0, 1.0, 0.0, 1.0)
        self.gain_reduction_db = 0.0
        if samplerate:
            self.prepare(samplerate)

    def prepare(self, samplerate: int) -> None:
        super().prepare(samplerate)
        self._update()

    def set(self, **params) -> None:
        """Set any of threshold_db, ratio, attack_ms, release_ms, makeup_db, knee_db."""
        for key, value in params.items():
            if key not in ("threshold_db", "ratio", "attack_ms", "release_ms", "makeup_db", "knee_db"):
                raise ValueError(f"compressor has no parameter {key!r}")
            setattr(self, key, float(value))
        self._update()

    def _update(self) -> None:
        if self.ratio < 1.0:
            raise ValueError(f"ratio must be >= 1, got {self.ratio}")
        if self.attack_ms <= 0 or self.release_ms <= 0:
            raise ValueError("attack_ms and release_ms must be > 0")
        if not self.samplerate:
            return
        chunk_s = self.CHUNK / self.samplerate
        att = math.exp(-chunk_s / (self.attack_ms / 1000.0))
        rel = math.exp(-chunk_s / (self.release_ms / 1000.0))
        slope = 1.0 - 1.0 / self.ratio
        self._coef = (self.threshold_db, slope, max(self.knee_db, 0.0), db_to_gain(self.makeup_db), att, rel)

    def static_reduction_db(self, level_db: np.ndarray | float) -> np.ndarray:
        """The gain reduction (dB, >= 0) the static curve gives at ``level_db``."""
        threshold, slope, knee, *_ = self._coef
        over = np.asarray(level_db, float) - threshold
        if knee > 0:
            soft = slope * (over + knee / 2) ** 2 / (2 * knee)
            return np.where(over <= -knee / 2, 0.0, np.where(over >= knee / 2, slope * over, soft))
        return np.maximum(over, 0.0) * slope

    def process(self, x: np.ndarray) -> np.ndarray:
        gains = self.gains(np.abs(x))
        np.multiply(x, gains, out=x)
        return x

    def gains(self, level: np.ndarray) -> np.ndarray:
        """The linear gain for each sample (makeup included) given the detector's input
        ``level`` (>= 0, one value per sample: ``|x|``, or the louder side of a linked pair).
        Advances the detector; the array returned is reused by the next call."""
        _, _, _, makeup, att, rel = self._coef
        n = len(level)
        whole = n - n % self.CHUNK
        gains = self._gains[:n]
        if whole:
            peaks = level[:whole].reshape(-1, self.CHUNK).max(axis=1)
            targets = self.static_reduction_db(20 * np.log10(np.maximum(peaks, 1e-9)))
            gr = self._gr_db
            levels = self._levels[:len(targets)]
            for i, target in enumerate(targets.tolist()):  # floats: the only per-chunk Python
                gr = target + (att if target > gr else rel) * (gr - target)
                levels[i] = gr
            ends = np.power(10.0, levels * (-1.0 / 20.0))
            starts = self._starts[:len(ends)]
            starts[0] = self._last_gain
            starts[1:] = ends[:-1]
            # each chunk ramps linearly from the previous chunk's gain to its own
            ramps = gains[:whole].reshape(-1, self.CHUNK)
            np.multiply((ends - starts)[:, None], self._ramp, out=ramps)
            ramps += starts[:, None]
            self._gr_db = gr
            self._last_gain = float(ends[-1])
        if whole < n:
            gains[whole:] = self._last_gain
        self.gain_reduction_db = self._gr_db
        if makeup != 1.0:
            np.multiply(gains, makeup, out=gains)
        return gains


# --------------------------------------------------------------------------- reverb


class Reverb(Processor):
    """A Schroeder-Moorer (Freeverb-style) reverb: 8 damped feedback combs into 4 allpasses.

    ``decay_s`` is the RT60 (each comb's feedback set so it decays 60 dB in that time),
    ``predelay_ms`` delays the wet path, ``mix`` (0..1) balances dry and wet, ``damping``
    (0..1) darkens the tail. Each comb and allpass runs a chunk at a time, never longer
    than its own delay, so the feedback only reads samples already written: vectorised,
    no per-sample loop. The 8 combs share one 2-D doubled ring (one row each, one write
    position, each row read at its own delay), so a chunk is a handful of numpy calls for
    all 8 rather than 3 per comb (bench/latency_simgear_cost.py: 2.6x less CPU at 1024).
    """

    kind = "reverb"
    COMBS_44K = (1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617)
    ALLPASSES_44K = (556, 441, 341, 225)
    ALLPASS_FEEDBACK = 0.5

    def __init__(self, decay_s: float = 1.5, predelay_ms: float = 10.0, mix: float = 0.3,
                 damping: float = 0.3, samplerate: int | None = None) -> None:
        super().__init__()
        self.decay_s = float(decay_s)
        self.predelay_ms = float(predelay_ms)
        self.mix = float(mix)
        self.damping = float(damping)
        self._comb_buf = np.zeros((0, 0))
        self._comb_size = 0
        self._comb_write = 0
        self._comb_lens: list[int] = []
        self._comb_back = np.zeros(0, dtype=np.intp)
        self._comb_lp = np.zeros((0, 1))
        self._allpasses: list[DoubledRing] = []
        self._allpass_lens: list[int] = []
        self._predelay: FractionalDelay | None = None
        self._coef = (0.7, 0.3, [0.8] * 8, 0.3)
        if samplerate:
            self.prepare(samplerate)

    def prepare(self, samplerate: int) -> None:
        super().prepare(samplerate)
        scale = samplerate / 44100.0
        self._comb_lens = [max(32, round(m * scale)) for m in self.COMBS_44K]
        self._allpass_lens = [max(32, round(m * scale)) for m in self.ALLPASSES_44K]
        self._comb_size = max(self._comb_lens) + MAX_BLOCK
        self._comb_buf = np.zeros((len(self._comb_lens), 2 * self._comb_size))
        self._comb_write = 0
        self._comb_back = np.array(self._comb_lens, dtype=np.intp)
        self._comb_rows = np.arange(len(self._comb_lens))[:, None]
        self._comb_lp = np.zeros((len(self._comb_lens), 1))
        self._allpasses = [DoubledRing(m + MAX_BLOCK) for m in self._allpass_lens]
        self._predelay = FractionalDelay(0, max_delay_samples=samplerate, samplerate=samplerate)
        self._chunk = min(self._allpass_lens + self._comb_lens)
        self._update()

    def set(self, **params) -> None:
        """Set any of decay_s, predelay_ms, mix, damping."""
        for key, value in params.items():
            if key not in ("decay_s", "predelay_ms", "mix", "damping"):
                raise ValueError(f"reverb has no parameter {key!r}")
            setattr(self, key, float(value))
        self._update()

    def _update(self) -> None:
        if not 0.0 <= self.mix <= 1.0:
            raise ValueError(f"mix must be 0..1, got {self.mix}")
        if not 0.0 <= self.damping < 1.0:
            raise ValueError(f"damping must be 0..1, got {self.damping}")
        if self.decay_s <= 0:
            raise ValueError(f"decay_s must be > 0, got {self.decay_s}")
        if not self.samplerate:
            return
        feedback = [10 ** (-3.0 * m / (self.decay_s * self.samplerate)) for m in self._comb_lens]
        self._predelay.set_delay(min(self.predelay_ms, 1000.0) * self.samplerate / 1000.0)
        # each comb's power gain for noise is 1/(1-g^2), the allpasses keep power; tones
        # and sweeps ring up the resonances ~12 dB more, hence the 0.25 (measured)
        norm = 0.25 / math.sqrt(sum(1.0 / (1.0 - g * g) for g in feedback))
        self._coef = (1.0 - self.mix, self.mix * norm, np.array(feedback)[:, None], self.damping)

    def reset(self) -> None:
        self._comb_buf[:] = 0.0
        for ring in self._allpasses:
            ring.clear()
        self._comb_lp = np.zeros((len(self._comb_lens), 1))
        if self._predelay:
            self._predelay.reset()

    def process(self, x: np.ndarray) -> np.ndarray:
        dry_gain, wet_gain, feedback, damp = self._coef
        wet_in = self._predelay.process(x)
        n = len(x)
        wet = np.zeros(n)
        step = self._chunk
        lp_b, lp_a = [1.0 - damp], [1.0, -damp]
        for start in range(0, n, step):
            seg_in = wet_in[start:start + step]
            c = len(seg_in)
            # the combs, all 8 at once: y_k[n] = x[n] + g_k * lowpass(y_k[n - m_k])
            size, w = self._comb_size, self._comb_write
            starts = (w - self._comb_back) % size
            delayed = self._comb_buf[self._comb_rows, starts[:, None] + np.arange(c)]
            filtered, self._comb_lp = signal.lfilter(lp_b, lp_a, delayed, axis=1, zi=self._comb_lp)
            acc = delayed.sum(axis=0)
            new = filtered
            new *= feedback
            new += seg_in
            first = min(c, size - w)
            buf = self._comb_buf
            buf[:, w:w + first] = new[:, :first]
            buf[:, w + size:w + size + first] = new[:, :first]
            if first < c:
                buf[:, :c - first] = new[:, first:]
                buf[:, size:size + c - first] = new[:, first:]
            self._comb_write = (w + c) % size
            out = acc.copy()
            for ring, m in zip(self._allpasses, self._allpass_lens, strict=False):
                delayed = ring.window(m, c).copy()
                ring.push(out + self.ALLPASS_FEEDBACK * delayed)
                out = delayed - out
            wet[start:start + c] = out
        return dry_gain * x + wet_gain * wet
