"""Measuring audio files: block-wise reads, so memory stays flat for long files."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from hybrid.errors import HybridError
from hybrid.tomlfile import regular_file
from hybrid.files.loudness.meter import LoudnessMeter, LoudnessResult

BLOCK_FRAMES = 65536


def open_audio(path: str | Path) -> sf.SoundFile:
    """Open ``path`` for reading, or raise HybridError naming it and why."""
    path = Path(path)
    if not path.exists():
        raise HybridError("no such audio file", where=str(path))
    regular_file(path)
    try:
        return sf.SoundFile(os.fsencode(path))  # bytes: a non-UTF-8 name opens too
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise HybridError(f"not a readable audio file ({exc})", where=str(path)) from exc


def iter_blocks(handle: sf.SoundFile, path, block_frames: int = BLOCK_FRAMES):
    """``(frames, channels)`` float64 blocks from an open file; read errors name the file."""
    buffer = np.empty((block_frames, handle.channels), dtype=np.float64)
    while True:
        try:
            block = handle.read(out=buffer)   # a shorter view at the end of the file
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise HybridError(f"read failed ({exc})", where=str(path)) from exc
        if len(block) == 0:
            return
        yield block


def meter_file(path: str | Path, block_frames: int = BLOCK_FRAMES) -> LoudnessMeter:
    """A meter fed with the whole file (call ``result()`` on it, or combine its blocks)."""
    with open_audio(path) as handle:
        if handle.samplerate < 8000:
            raise HybridError(f"sample rate {handle.samplerate} Hz is below 8 kHz", where=str(path))
        meter = LoudnessMeter(handle.samplerate, handle.channels)
        for block in iter_blocks(handle, path, block_frames):
            meter.process(block)
    return meter


def measure_file(path: str | Path, block_frames: int = BLOCK_FRAMES) -> LoudnessResult:
    """Loudness, loudness range and peaks of one file."""
    return meter_file(path, block_frames).result(path=str(path))


@dataclass
class LoudnessCurves:
    """A file's measures and its loudness over time (one value per 100 ms), for a plot."""

    result: LoudnessResult
    momentary_lufs: list[float]
    short_term_lufs: list[float]
    """Empty for a file shorter than the 3 s short-term window."""


def measure_curves(path: str | Path, block_frames: int = BLOCK_FRAMES) -> LoudnessCurves:
    """:func:`measure_file` plus the momentary and short-term curves, from one read."""
    meter = meter_file(path, block_frames)
    return LoudnessCurves(meter.result(path=str(path)), [float(v) for v in meter.momentary_lufs()],
                          [float(v) for v in meter.short_term_lufs()])


def measure_array(samples: np.ndarray, samplerate_hz: int) -> LoudnessResult:
    """The same measures for samples already in memory (``(frames, channels)`` or mono)."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim == 1:
        samples = samples[:, None]
    meter = LoudnessMeter(samplerate_hz, samples.shape[1])
    for start in range(0, len(samples), BLOCK_FRAMES):
        meter.process(samples[start:start + BLOCK_FRAMES])
    return meter.result()
