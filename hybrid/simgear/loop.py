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
from hybrid.models.stereo import StereoProcessor, SummingMixer


@dataclass
class LoopSpec:
    """What a loop does to the signal.

    ``delay_samples`` is the loop's own delay (converters, gear) on top of what the host
    adds; ``noise_dbfs`` the RMS of the hiss it adds (None: none); ``highpass_hz`` an
    input/output transformer's low cut (None: DC-coupled); ``processors`` the gear in
    signal order (compressor, EQ, reverb, saturator ...); ``bypass`` takes the gear's
    processors out (the wire, transformer, gain and noise stay). ``channel`` is the gear
    channel (``in_K``/``out_K``) the loop takes in a ``SimGear``; None: its position in
    the list (give it when the list also holds stereo or summing units).
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
    channel: int | None = None


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
        x = self.send(block)
        if not self.bypass and not self._open:
            for proc in self.processors:
                x = proc(x)
        self.ret(x, out)

    def send(self, block: np.ndarray) -> np.ndarray:
        """First stage: the send into the work buffer, through the input transformer."""
        n = len(block)
        x = self._work[:n]
        if self._open:
            x[:] = 0.0
            return x
        x[:] = block
        if self.transformer is not None:
            x = self.transformer(x)
        return x

    def ret(self, x: np.ndarray, out: np.ndarray) -> None:
        """Last stage, after the gear: gain and polarity, hot trim, noise, converter delay,
        dropout gate and the input converter's clip, into ``out``."""
        n = len(x)
        if not self._open:
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


# --------------------------------------------------------------------------- stereo and summing


@dataclass
class StereoLoopSpec:
    """A stereo unit in a loop: two sends, two returns, each side its own wire.

    ``left``/``right`` are each side's wire (delay, polarity, gain, noise, transformer;
    their ``processors`` run on that side alone, after the stereo units); ``units`` is the
    stereo gear between, in signal order (:class:`hybrid.models.stereo.StereoProcessor`;
    empty: a stereo wire); ``bypass`` takes them out.
    ``channels`` are the two gear channels (ports ``in_K``/``out_K``, 1-based) it takes.
    """

    left: LoopSpec
    right: LoopSpec
    units: list[StereoProcessor] = field(default_factory=list)
    channels: tuple[int, int] = (1, 2)
    bypass: bool = False

    @property
    def sends(self) -> tuple[int, ...]:
        return tuple(self.channels)

    @property
    def returns(self) -> tuple[int, ...]:
        return tuple(self.channels)


class StereoLoopChannel:
    """A running stereo loop: each side's send stage, the stereo unit, each side's return."""

    def __init__(self, spec: StereoLoopSpec, samplerate: int) -> None:
        self.spec = spec
        self.samplerate = int(samplerate)
        self.sides = [LoopChannel(spec.left, samplerate), LoopChannel(spec.right, samplerate)]
        self.units = list(spec.units)
        for unit in self.units:
            if unit.samplerate != self.samplerate:
                unit.prepare(self.samplerate)
        self.bypass = spec.bypass
        self._pair = np.zeros((MAX_BLOCK, 2))

    def process_many(self, blocks: list[np.ndarray], outs: list[np.ndarray]) -> None:
        """``blocks``: the two sends (L, R); ``outs``: the two returns, written in place."""
        n = len(blocks[0])
        pair = self._pair[:n]
        for k, side in enumerate(self.sides):
            pair[:, k] = side.send(blocks[k])
        y = pair
        if not self.bypass:
            for unit in self.units:
                y = unit(y)
        for k, side in enumerate(self.sides):
            x = np.ascontiguousarray(y[:, k])
            if not side.bypass and not side._open:
                for proc in side.processors:
                    x = proc(x)
            side.ret(x, outs[k])

    def side(self, k: int) -> LoopChannel:
        """Side ``k`` (0 left, 1 right): its test hooks (delay, dropout, open, hot)."""
        return self.sides[k]

    def reset(self) -> None:
        for side in self.sides:
            side.reset()
        for unit in self.units:
            unit.reset()


@dataclass
class SummingSpec:
    """A summing mixer in the room: interface outputs ``sends`` feed its inputs 1..N, in order;
    its stereo bus comes back on gear channels ``returns`` (L, R). The mixer model holds the
    pans, trims, crosstalk, bus saturation, noise and each side's converter delay."""

    mixer: SummingMixer
    sends: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)
    returns: tuple[int, int] = (1, 2)


class SummingChannel:
    """A running summing mixer: N sends in, the stereo bus out (clipped at the converter's full scale)."""

    def __init__(self, spec: SummingSpec, samplerate: int) -> None:
        if len(spec.sends) != spec.mixer.inputs:
            raise ValueError(f"the summing mixer has {spec.mixer.inputs} inputs but {len(spec.sends)} sends")
        self.spec = spec
        self.samplerate = int(samplerate)
        self.mixer = spec.mixer
        if self.mixer.samplerate != self.samplerate:
            self.mixer.prepare(self.samplerate)
        self._stack = np.zeros((MAX_BLOCK, len(spec.sends)))

    def process_many(self, blocks: list[np.ndarray], outs: list[np.ndarray]) -> None:
        n = len(blocks[0])
        stack = self._stack[:n]
        for k, block in enumerate(blocks):
            stack[:, k] = block
        bus = self.mixer(stack)
        for k in (0, 1):
            np.clip(bus[:, k], -1.0, 1.0, out=outs[k])

    def reset(self) -> None:
        self.mixer.reset()
