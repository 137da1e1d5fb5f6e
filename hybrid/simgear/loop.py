"""One insert loop of the simulated gear: what comes back from an output when it returns to an input.

A loop is the wire from an interface output through the gear and back to an input:

    transformer high-pass -> the gear's processors (unless bypassed) -> gain and polarity
    -> hot-return trim -> noise floor -> converter delay (fractional) -> dropout gate
    -> the input converter's full scale (hard clip at 1.0)

``LoopSpec`` describes it as data; ``LoopChannel`` runs it block by block and carries
the test hooks (change the delay, drop out, open the loop, run it hot), each callable
from any thread while audio runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hybrid.models.dsp import (MAX_BLOCK, Clipper, FractionalDelay, Gain, HighPass, NoiseFloor,
                                Processor, db_to_gain)


@dataclass
class LoopSpec:
    """What a loop does to the signal.

    ``delay_samples`` is the loop's own delay (converters, gear) on top of what the host
    adds; ``noise_dbfs`` the RMS of the hiss it adds (None: none); ``highpass_hz`` an
    input/output transformer's low cut (None: DC-coupled); ``processors`` the gear in
    signal order (compressor, EQ, reverb, saturator ...); ``bypass`` takes the gear's
    processors out (the wire, transformer, gain and noise stay).
    """

    delay_samples: float = 0.0
    polarity: int = 1
    gain_db: float = 0.0
    noise_dbfs: float | None = None
    highpass_hz: float | None = None
    processors: list[Processor] = field(default_factory=list)
    bypass: bool = False
    seed: int | None = None
    max_delay_samples: int = 96000


class LoopChannel:
    """A running loop: ``process(block)`` returns the return signal for one block."""

    def __init__(self, spec: LoopSpec, samplerate: int) -> None:
        self.spec = spec
        self.samplerate = int(samplerate)
        self.transformer = HighPass(spec.highpass_hz, samplerate=samplerate) if spec.highpass_hz else None
        self.processors = list(spec.processors)
        for proc in self.processors:
            if proc.samplerate != self.samplerate:
                proc.prepare(self.samplerate)
        self.gain = Gain(spec.gain_db, spec.polarity, samplerate=samplerate)
        self.noise = (NoiseFloor(spec.noise_dbfs, seed=spec.seed, samplerate=samplerate)
                      if spec.noise_dbfs is not None else None)
        self.delay = FractionalDelay(spec.delay_samples, max_delay_samples=spec.max_delay_samples,
                                     samplerate=samplerate)
        self.clipper = Clipper(1.0, samplerate=samplerate)
        self.bypass = spec.bypass
        self._work = np.zeros(MAX_BLOCK)
        self._hot_factor = 1.0
        self._open = False
        self._mute_request = 0
        self._mute_left = 0
        self.hot_gain_db = 0.0

    # ---- hooks (any thread)

    def set_delay(self, delay_samples: float) -> None:
        """Change the loop's delay now (a re-clocked converter, a different route)."""
        self.delay.set_delay(delay_samples)

    def dropout(self, duration_ms: float, *, slip: bool = False) -> int:
        """Silence the return for ``duration_ms`` from the next block on.

        ``slip=True`` is a buffer slip: the silence is inserted and the loop stays that
        much later afterwards (its delay grows by the same number of samples).
        Returns the number of samples.
        """
        samples = int(round(duration_ms * self.samplerate / 1000.0))
        if slip:
            self.delay.set_delay(self.delay.delay_samples + samples)
        self._mute_request += samples
        return samples

    def set_open(self, is_open: bool = True) -> None:
        """Open the loop (a pulled cable): the input then carries only the noise floor."""
        self._open = bool(is_open)

    def set_hot(self, gain_db: float = 0.0) -> None:
        """Extra gain before the input converter: a hot return that clips at 0 dBFS."""
        self.hot_gain_db = float(gain_db)
        self._hot_factor = db_to_gain(gain_db)

    # ---- audio thread

    def process(self, block: np.ndarray, out: np.ndarray) -> None:
        """Read ``block`` (the loop's send), write the return into ``out`` (same length)."""
        n = len(block)
        x = self._work[:n]
        if self._open:
            x[:] = 0.0
        else:
            x[:] = block
            if self.transformer is not None:
                x = self.transformer(x)
            if not self.bypass:
                for proc in self.processors:
                    x = proc(x)
            x = self.gain(x)
            if self._hot_factor != 1.0:
                x = x * self._hot_factor
        if self.noise is not None:
            x = self.noise(x)
        x = self.delay(x)
        request = self._mute_request
        if request:
            self._mute_request -= request
            self._mute_left += request
        if self._mute_left:
            m = min(self._mute_left, n)
            x[:m] = 0.0
            self._mute_left -= m
        x = self.clipper(x)
        out[:] = x

    def reset(self) -> None:
        for proc in [self.transformer, *self.processors, self.delay]:
            if proc is not None:
                proc.reset()
