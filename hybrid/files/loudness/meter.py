"""Programme loudness per ITU-R BS.1770-4 and EBU R128 (Tech 3341, Tech 3342).

How it streams: samples are K-weighted block by block (filter state carried over) and
reduced to one number per 100 ms: the channel-weighted sum of squares of that tenth of
a second. Every measure is then built from that series: a momentary block is 4 of them
(400 ms, 75 % overlap, the gating block of BS.1770), a short-term block 30 of them
(3 s, sliding by 100 ms, the rate Tech 3342 asks for at least). Memory is one float per
100 ms of audio (288 kB for an 8-hour file), whatever the block size or file length.

Sub-block boundaries fall on ``round(k * fs / 10)``, so rates that are not a multiple
of 10 Hz still get blocks of the right length on average.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.signal import sosfilt

from hybrid.files.loudness.kweighting import k_weighting_sos
from hybrid.files.loudness.truepeak import TruePeakDetector, to_db

LUFS_OFFSET = -0.691          # BS.1770: L = -0.691 + 10 log10(sum G_i z_i)
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0      # integrated loudness (BS.1770-4)
LRA_RELATIVE_GATE_LU = -20.0  # loudness range (Tech 3342)
LRA_LOW_PERCENTILE = 10.0
LRA_HIGH_PERCENTILE = 95.0
MOMENTARY_SUBBLOCKS = 4       # 400 ms
SHORT_TERM_SUBBLOCKS = 30     # 3 s
SURROUND_WEIGHT = 1.41        # Ls, Rs (+1.5 dB)
FINE_STEPS_PER_S = 400        # window maxima are searched in 2.5 ms steps
FINE_PER_SUBBLOCK = FINE_STEPS_PER_S // 10


def default_channel_weights(channels: int) -> np.ndarray:
    """BS.1770 weights for the usual WAV channel orders.

    1 mono, 2 L R, 3 L R C, 5 L R C Ls Rs, 6 L R C LFE Ls Rs (LFE not counted);
    any other count weighs every channel 1.0.
    """
    table = {
        5: [1.0, 1.0, 1.0, SURROUND_WEIGHT, SURROUND_WEIGHT],
        6: [1.0, 1.0, 1.0, 0.0, SURROUND_WEIGHT, SURROUND_WEIGHT],
    }
    return np.array(table.get(channels, [1.0] * channels), dtype=float)


def _lufs(mean_power: np.ndarray | float) -> np.ndarray | float:
    with np.errstate(divide="ignore"):
        return LUFS_OFFSET + 10.0 * np.log10(mean_power)


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


@dataclass
class LoudnessResult:
    """What ``hybrid loudness`` reports for one programme. ``None`` means "not defined":
    digital silence, or a programme too short for the measure (400 ms for integrated
    and momentary, 3 s for short-term and loudness range)."""

    samplerate_hz: int
    channels: int
    frames: int
    duration_s: float
    integrated_lufs: float | None
    momentary_max_lufs: float | None
    short_term_max_lufs: float | None
    loudness_range_lu: float | None
    true_peak_dbtp: float | None
    sample_peak_dbfs: float | None
    true_peak_per_channel_dbtp: list[float | None] = field(default_factory=list)
    path: str | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, 3)
        out["true_peak_per_channel_dbtp"] = [
            None if v is None else round(v, 3) for v in self.true_peak_per_channel_dbtp]
        return out


def gated_integrated_lufs(block_powers: list[np.ndarray]) -> float | None:
    """BS.1770 integrated loudness of the gating blocks of one or more programmes taken
    together (an album measured as one programme, whatever each file's rate)."""
    power = np.concatenate(block_powers) if block_powers else np.zeros(0)
    loud = _lufs(power)
    above_absolute = power[loud > ABSOLUTE_GATE_LUFS]
    if len(above_absolute) == 0:
        return None
    relative_gate = _lufs(np.mean(above_absolute)) + RELATIVE_GATE_LU
    gated = power[(loud > ABSOLUTE_GATE_LUFS) & (loud > relative_gate)]
    return _finite(_lufs(np.mean(gated))) if len(gated) else None


class LoudnessMeter:
    """Feed ``(frames, channels)`` float blocks with :meth:`process`; read :meth:`result`.

    One meter can be fed several files of the same rate and channel count in a row,
    which is how an album's programme loudness is measured.
    """

    def __init__(self, samplerate_hz: int, channels: int, channel_weights=None, *, true_peak: bool = True):
        if channels < 1:
            raise ValueError("a programme needs at least one channel")
        self.samplerate_hz = int(samplerate_hz)
        self.channels = int(channels)
        self.weights = (default_channel_weights(channels) if channel_weights is None
                        else np.asarray(channel_weights, dtype=float))
        if self.weights.shape != (channels,):
            raise ValueError(f"{len(self.weights)} channel weights for {channels} channels")
        self._sos = k_weighting_sos(self.samplerate_hz)
        self._zi = np.zeros((self._sos.shape[0], 2, self.channels))
        self._frames = 0
        self._subblock_index = 1          # the next boundary is round(k * fs / 10)
        self._subblock_start = 0
        self._acc = 0.0
        self._sub_energy: list[float] = []  # weighted sum of squares per 100 ms
        self._sub_frames: list[int] = []
        # maxima of the momentary and short-term windows at every 2.5 ms step (EBU Tech 3341
        # case 13: a 400 ms burst anywhere must read its level, not up to 1.2 dB less as a
        # window moved in 100 ms steps would)
        self._fine_k = 1
        self._fine_start = 0
        self._fine_acc = 0.0
        self._fine_energy = np.zeros(0)
        self._fine_frames = np.zeros(0)
        self._window_max = {MOMENTARY_SUBBLOCKS * FINE_PER_SUBBLOCK: 0.0,
                            SHORT_TERM_SUBBLOCKS * FINE_PER_SUBBLOCK: 0.0}
        self._sample_peak = np.zeros(self.channels)
        self._true_peak = TruePeakDetector(self.samplerate_hz, self.channels) if true_peak else None
        self._finished = False

    # -- feeding ---------------------------------------------------------------------
    def process(self, block: np.ndarray) -> None:
        if self._finished:
            raise RuntimeError("result() ended this programme; start a new LoudnessMeter")
        block = np.asarray(block, dtype=np.float64)
        if block.ndim == 1:
            block = block[:, None]
        if block.shape[1] != self.channels:
            raise ValueError(f"block has {block.shape[1]} channels, meter has {self.channels}")
        n = len(block)
        if n == 0:
            return
        # channels first once: reductions along a contiguous axis are ~10x faster than
        # down the columns of a (frames, 2) block
        channels_first = np.ascontiguousarray(block.T)
        np.maximum(self._sample_peak, np.maximum(channels_first.max(axis=1), -channels_first.min(axis=1)),
                   out=self._sample_peak)
        if self._true_peak is not None:
            self._true_peak.process_channels_first(channels_first)
        weighted, self._zi = sosfilt(self._sos, block, axis=0, zi=self._zi)
        energy = np.square(weighted) @ self.weights
        cumulative = np.concatenate([[0.0], np.cumsum(energy)])
        begin = self._frames
        end = begin + n
        cursor = begin
        while True:
            boundary = round(self._subblock_index * self.samplerate_hz / 10)
            if boundary > end:
                break
            self._acc += cumulative[boundary - begin] - cumulative[cursor - begin]
            self._sub_energy.append(self._acc)
            self._sub_frames.append(boundary - self._subblock_start)
            self._acc = 0.0
            self._subblock_start = boundary
            self._subblock_index += 1
            cursor = boundary
        self._acc += cumulative[n] - cumulative[cursor - begin]
        self._fine_steps(cumulative, begin, end)
        self._frames = end

    def _fine_steps(self, cumulative: np.ndarray, begin: int, end: int) -> None:
        """Energy per 2.5 ms step; updates the sliding momentary and short-term maxima."""
        fs = self.samplerate_hz
        ks = np.arange(self._fine_k, self._fine_k + (end - begin) * FINE_STEPS_PER_S // fs + 3)
        bounds = np.round(ks * (fs / FINE_STEPS_PER_S)).astype(np.int64)
        bounds = bounds[bounds <= end]
        if len(bounds) == 0:
            self._fine_acc += cumulative[-1]
            return
        at = cumulative[bounds - begin]
        energy = np.diff(np.concatenate([[0.0], at]))
        energy[0] += self._fine_acc
        frames = np.diff(np.concatenate([[self._fine_start], bounds])).astype(float)
        self._fine_acc = cumulative[-1] - at[-1]
        self._fine_start = int(bounds[-1])
        self._fine_k += len(bounds)
        all_energy = np.concatenate([self._fine_energy, energy])
        all_frames = np.concatenate([self._fine_frames, frames])
        for size in self._window_max:
            if len(all_energy) >= size:
                e = np.cumsum(np.concatenate([[0.0], all_energy]))
                f = np.cumsum(np.concatenate([[0.0], all_frames]))
                first_new = max(size, len(self._fine_energy) + 1)
                power = (e[first_new:] - e[first_new - size:-size]) / (f[first_new:] - f[first_new - size:-size])
                if len(power):
                    self._window_max[size] = max(self._window_max[size], float(power.max()))
        keep = max(self._window_max) - 1
        self._fine_energy, self._fine_frames = all_energy[-keep:], all_frames[-keep:]

    # -- series ----------------------------------------------------------------------
    def _window_power(self, subblocks: int) -> np.ndarray:
        """Mean weighted power of every window of ``subblocks`` tenths, hop 100 ms."""
        energy = np.asarray(self._sub_energy)
        frames = np.asarray(self._sub_frames, dtype=float)
        if len(energy) < subblocks:
            return np.zeros(0)
        kernel = np.ones(subblocks)
        return np.convolve(energy, kernel, "valid") / np.convolve(frames, kernel, "valid")

    def momentary_lufs(self) -> np.ndarray:
        """Momentary loudness (400 ms) every 100 ms, the first at 0.4 s."""
        return _lufs(self._window_power(MOMENTARY_SUBBLOCKS))

    def short_term_lufs(self) -> np.ndarray:
        """Short-term loudness (3 s) every 100 ms, the first at 3 s."""
        return _lufs(self._window_power(SHORT_TERM_SUBBLOCKS))

    # -- measures --------------------------------------------------------------------
    def momentary_powers(self) -> np.ndarray:
        """Mean weighted power of every 400 ms gating block (hop 100 ms)."""
        return self._window_power(MOMENTARY_SUBBLOCKS)

    def integrated_lufs(self) -> float | None:
        return gated_integrated_lufs([self.momentary_powers()])

    def short_term_powers(self) -> np.ndarray:
        """Mean weighted power of every 3 s window (hop 100 ms)."""
        return self._window_power(SHORT_TERM_SUBBLOCKS)

    def loudness_range_lu(self) -> float | None:
        """EBU Tech 3342: spread of the gated short-term distribution, 10th to 95th percentile."""
        return gated_loudness_range([self.short_term_powers()])


    def _max_lufs(self, subblocks: int, series: np.ndarray) -> float | None:
        if not len(series):
            return None
        return _finite(max(float(np.max(series)), float(_lufs(self._window_max[subblocks * FINE_PER_SUBBLOCK])
                                                        if self._window_max[subblocks * FINE_PER_SUBBLOCK] > 0
                                                        else -math.inf)))

    def result(self, path: str | None = None) -> LoudnessResult:
        """The measures of everything fed so far; ends the programme (the true-peak
        interpolator rings out into silence), so call it once, at the end."""
        self._finished = True
        momentary = self.momentary_lufs()
        short_term = self.short_term_lufs()
        true_peak = self._true_peak.flush() if self._true_peak is not None else np.zeros(self.channels)
        return LoudnessResult(
            samplerate_hz=self.samplerate_hz,
            channels=self.channels,
            frames=self._frames,
            duration_s=self._frames / self.samplerate_hz,
            integrated_lufs=self.integrated_lufs(),
            momentary_max_lufs=self._max_lufs(MOMENTARY_SUBBLOCKS, momentary),
            short_term_max_lufs=self._max_lufs(SHORT_TERM_SUBBLOCKS, short_term),
            loudness_range_lu=self.loudness_range_lu(),
            true_peak_dbtp=to_db(float(np.max(true_peak))),
            sample_peak_dbfs=to_db(float(np.max(self._sample_peak))),
            true_peak_per_channel_dbtp=[to_db(float(p)) for p in true_peak],
            path=path,
        )


def gated_loudness_range(short_term_powers: list[np.ndarray]) -> float | None:
    """EBU Tech 3342 loudness range of one or more programmes' short-term windows taken together."""
    power = np.concatenate(short_term_powers) if short_term_powers else np.zeros(0)
    loud = _lufs(power)
    above_absolute = power[loud > ABSOLUTE_GATE_LUFS]
    if len(above_absolute) == 0:
        return None
    relative_gate = _lufs(np.mean(above_absolute)) + LRA_RELATIVE_GATE_LU
    kept = np.sort(loud[(loud > ABSOLUTE_GATE_LUFS) & (loud > relative_gate)])
    if len(kept) == 0:
        return None
    last = len(kept) - 1
    low = kept[int(round(last * LRA_LOW_PERCENTILE / 100.0))]
    high = kept[int(round(last * LRA_HIGH_PERCENTILE / 100.0))]
    return float(high - low)
