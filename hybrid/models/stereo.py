"""Stereo and multi-input gear as DSP: a linked stereo compressor, an M/S EQ, a summing mixer.

Blocks are ``(frames, channels)`` float64 arrays (``channels`` = 2 for the stereo units,
N in / 2 out for the mixer), one block at a time with state kept between blocks, like the
mono processors of :mod:`hybrid.models.dsp` (which these are built from). Parameters are
set from any thread through the setters; the audio thread reads the published
coefficients once per block. No Python loop per sample.

- ``LinkedCompressor``  one detector on the louder side, the same gain on both: the
  image does not shift when one side is louder (a bus compressor's link switch)
- ``MidSideEQ``         encodes M = (L+R)/2, S = (L-R)/2, an EQ on each, decodes L = M+S,
  R = M-S (a mastering EQ in M/S mode)
- ``SummingMixer``      N inputs, each with a trim and a pan (constant power, -3 dB at
  centre) onto a stereo bus; crosstalk between the bus sides, bus saturation (tanh),
  hiss, and each side's own converter delay (fractional): an analog summing box

``SummingMixer.mix_offline(stems)`` is the same model over whole files (the digital
reference a mix print is checked against).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from hybrid.models.dsp import (MAX_BLOCK, Band, Compressor, Equaliser, FractionalDelay, NoiseFloor, Processor,
                               db_to_gain)


class StereoProcessor(Processor):
    """Base class: ``process(x) -> y`` for an ``(n, 2)`` float64 block; ``bypass`` passes it
    through (the mono Processor's life: prepare, reset, bypass)."""

    kind = "stereo"
    inputs = 2
    outputs = 2


class LinkedCompressor(StereoProcessor):
    """A stereo compressor with linked sides: the detector follows ``max(|L|, |R|)`` and
    both sides get the same gain. Parameters as :class:`hybrid.models.dsp.Compressor`
    (``threshold_db``, ``ratio``, ``attack_ms``, ``release_ms``, ``makeup_db``, ``knee_db``)."""

    kind = "stereo_compressor"

    def __init__(self, threshold_db: float = -20.0, ratio: float = 4.0, attack_ms: float = 10.0,
                 release_ms: float = 100.0, makeup_db: float = 0.0, knee_db: float = 6.0,
                 samplerate: int | None = None) -> None:
        super().__init__()
        self.detector = Compressor(threshold_db, ratio, attack_ms, release_ms, makeup_db, knee_db)
        self._level = np.zeros(MAX_BLOCK)
        if samplerate:
            self.prepare(samplerate)

    def prepare(self, samplerate: int) -> None:
        super().prepare(samplerate)
        self.detector.prepare(samplerate)

    def set(self, **params: float) -> None:
        """Set any of the compressor's parameters (both sides)."""
        self.detector.set(**params)

    @property
    def gain_reduction_db(self) -> float:
        return self.detector.gain_reduction_db

    def reset(self) -> None:
        self.detector._gr_db = 0.0
        self.detector._last_gain = 1.0

    def process(self, x: np.ndarray) -> np.ndarray:
        n = len(x)
        level = self._level[:n]
        np.maximum(np.abs(x[:, 0]), np.abs(x[:, 1]), out=level)
        gains = self.detector.gains(level)
        np.multiply(x, gains[:, None], out=x)
        return x


class MidSideEQ(StereoProcessor):
    """An EQ in M/S: ``mid_bands`` on M = (L+R)/2, ``side_bands`` on S = (L-R)/2; L = M+S, R = M-S.

    With no bands (or all at 0 dB) it is transparent. ``set_band("mid"|"side", i, ...)``
    retunes one band, the filter state kept.
    """

    kind = "ms_eq"

    def __init__(self, mid_bands: Sequence[Band] = (), side_bands: Sequence[Band] = (),
                 samplerate: int | None = None) -> None:
        super().__init__()
        self.mid = Equaliser(list(mid_bands))
        self.side = Equaliser(list(side_bands))
        self._ms = np.zeros((MAX_BLOCK, 2))
        if samplerate:
            self.prepare(samplerate)

    def prepare(self, samplerate: int) -> None:
        super().prepare(samplerate)
        self.mid.prepare(samplerate)
        self.side.prepare(samplerate)

    def set_band(self, which: str, index: int, **changes: float) -> None:
        if which not in ("mid", "side"):
            raise ValueError(f"M/S EQ band side must be 'mid' or 'side', got {which!r}")
        getattr(self, which).set_band(index, **changes)

    def reset(self) -> None:
        self.mid.reset()
        self.side.reset()

    def process(self, x: np.ndarray) -> np.ndarray:
        n = len(x)
        ms = self._ms[:n]
        np.add(x[:, 0], x[:, 1], out=ms[:, 0])
        np.subtract(x[:, 0], x[:, 1], out=ms[:, 1])
        ms *= 0.5
        mid = self.mid(ms[:, 0].copy()) if self.mid.bands else ms[:, 0]
        side = self.side(ms[:, 1].copy()) if self.side.bands else ms[:, 1]
        np.add(mid, side, out=x[:, 0])
        np.subtract(mid, side, out=x[:, 1])
        return x


def pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power pan law: ``pan`` -1 (left) .. 0 (centre, -3 dB each) .. 1 (right)."""
    if not -1.0 <= pan <= 1.0:
        raise ValueError(f"pan must be -1..1, got {pan}")
    angle = (pan + 1.0) * math.pi / 4.0
    return math.cos(angle), math.sin(angle)


class SummingMixer(StereoProcessor):
    """An analog summing mixer: N inputs onto a stereo bus.

    Per input: ``trims_db[i]`` and ``pans[i]`` (-1..1, constant power). On the bus:
    ``crosstalk_db`` (each side leaks into the other at that level; None: none),
    ``drive_db`` into a tanh bus stage (None: a clean bus; ``output_db`` after it),
    ``noise_dbfs`` hiss on each side (None: none; ``seed`` for repeatable noise), and
    ``delay_samples = (left, right)``: each side's converter delay, fractional and
    different (the skew a stereo print must correct).
    ``process`` takes ``(n, N)`` and returns ``(n, 2)``.
    """

    kind = "summing"
    outputs = 2

    def __init__(self, inputs: int = 8, *, pans: Sequence[float] | None = None,
                 trims_db: Sequence[float] | None = None, crosstalk_db: float | None = -80.0,
                 drive_db: float | None = None, output_db: float = 0.0,
                 noise_dbfs: float | None = None, delay_samples: Sequence[float] = (0.0, 0.0),
                 seed: int | None = None, samplerate: int | None = None) -> None:
        super().__init__()
        if inputs < 1:
            raise ValueError(f"a summing mixer needs at least 1 input, got {inputs}")
        for key, value in (("crosstalk_db", crosstalk_db), ("drive_db", drive_db), ("output_db", output_db),
                           ("noise_dbfs", noise_dbfs)):
            if value is not None and not math.isfinite(float(value)):
                raise ValueError(f"{key} must be a finite number, got {value}")
        self.inputs = int(inputs)
        self.pans = [0.0] * self.inputs
        self.trims_db = [0.0] * self.inputs
        self.crosstalk_db = crosstalk_db
        self.drive_db = drive_db
        self.output_db = float(output_db)
        self.noise_dbfs = noise_dbfs
        self.seed = seed
        if len(delay_samples) != 2:
            raise ValueError(f"delay_samples must be [left, right], got {list(delay_samples)}")
        self.delays = [FractionalDelay(float(d)) for d in delay_samples]
        self.noises = ([NoiseFloor(noise_dbfs, seed=None if seed is None else seed + side) for side in (0, 1)]
                       if noise_dbfs is not None else [])
        self._matrix = np.zeros((self.inputs, 2))
        self._bus = np.zeros((MAX_BLOCK, 2))
        self._out = np.zeros((MAX_BLOCK, 2))
        self._bus_coef: tuple[float, float, float] = (0.0, 1.0, 1.0)
        self.set(pans=pans if pans is not None else self.pans,
                 trims_db=trims_db if trims_db is not None else self.trims_db)
        if samplerate:
            self.prepare(samplerate)

    @property
    def delay_samples(self) -> tuple[float, float]:
        return self.delays[0].delay_samples, self.delays[1].delay_samples

    def prepare(self, samplerate: int) -> None:
        super().prepare(samplerate)
        for proc in [*self.delays, *self.noises]:
            proc.prepare(samplerate)

    def set(self, *, pans: Sequence[float] | None = None, trims_db: Sequence[float] | None = None,
            crosstalk_db: float | None | str = "keep", drive_db: float | None | str = "keep",
            output_db: float | None = None) -> None:
        """Change any of the controls (lists are per input, all N of them)."""
        for name, values in (("pans", pans), ("trims_db", trims_db)):
            if values is not None and len(values) != self.inputs:
                raise ValueError(f"{name} needs {self.inputs} values (one per input), got {len(values)}")
        new_pans = [float(p) for p in pans] if pans is not None else self.pans
        new_trims = [float(t) for t in trims_db] if trims_db is not None else self.trims_db
        for value in [*new_pans, *new_trims]:
            if not math.isfinite(value):
                raise ValueError(f"pans and trims must be finite numbers, got {value}")
        matrix = np.array([[g * db_to_gain(t) for g in pan_gains(p)] for p, t in zip(new_pans, new_trims,
                                                                                   strict=True)])
        if crosstalk_db != "keep":
            self.crosstalk_db = crosstalk_db  # type: ignore[assignment]
        if drive_db != "keep":
            self.drive_db = drive_db  # type: ignore[assignment]
        if output_db is not None:
            self.output_db = float(output_db)
        leak = 0.0 if self.crosstalk_db is None else db_to_gain(float(self.crosstalk_db))
        drive = 0.0 if self.drive_db is None else db_to_gain(float(self.drive_db))
        self.pans, self.trims_db = new_pans, new_trims
        self._matrix = matrix
        self._bus_coef = (leak, drive, db_to_gain(self.output_db))

    def set_delay(self, side: int, delay_samples: float) -> None:
        """Change side ``side``'s (0 left, 1 right) converter delay."""
        self.delays[side].set_delay(delay_samples)

    def reset(self) -> None:
        for delay in self.delays:
            delay.reset()

    def process(self, x: np.ndarray) -> np.ndarray:
        matrix = self._matrix
        leak, drive, out_gain = self._bus_coef
        n = len(x)
        bus = self._bus[:n]
        np.dot(x, matrix, out=bus)
        if leak:
            left = bus[:, 0].copy()
            bus[:, 0] += leak * bus[:, 1]
            bus[:, 1] += leak * left
        if drive:
            bus *= drive
            np.tanh(bus, out=bus)
            bus *= out_gain / drive  # unity for small signals, then output_db
        elif out_gain != 1.0:
            bus *= out_gain
        out = self._out[:n]
        for side in (0, 1):
            column = np.ascontiguousarray(bus[:, side])
            if self.noises:
                column = self.noises[side](column)
            out[:, side] = self.delays[side](column)
        return out

    def mix_offline(self, stems: np.ndarray, block: int = 4096) -> np.ndarray:
        """The model over a whole ``(frames, N)`` array, from a reset state (noise included
        if the mixer has any): the digital reference for a mix print."""
        self.reset()
        out = np.zeros((len(stems), 2))
        for start in range(0, len(stems), block):
            chunk = np.array(stems[start:start + block], dtype=float)
            out[start:start + len(chunk)] = self.process(chunk)  # process' buffer is reused: copied here
        return out


STEREO_MODELS: dict[str, type[StereoProcessor]] = {
    "stereo_compressor": LinkedCompressor,
    "ms_eq": MidSideEQ,
}
"""Stereo processors a simulated stereo loop can run, by config name."""
