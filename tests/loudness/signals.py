"""Test signals of EBU Tech 3341 / 3342, synthesized (the published definitions:
1 kHz sine tones, the same on every channel, at given dBFS peak levels and durations)."""

from __future__ import annotations

import numpy as np

FS = 48000


def tone(level_dbfs: float, seconds: float, *, channels: int = 2, freq_hz: float = 1000.0,
         fs: int = FS, start_frame: int = 0) -> np.ndarray:
    """A sine of peak ``level_dbfs`` on every channel, phase-continuous from ``start_frame``."""
    frames = int(round(seconds * fs))
    t = (np.arange(frames) + start_frame) / fs
    wave = 10.0 ** (level_dbfs / 20.0) * np.sin(2 * np.pi * freq_hz * t)
    return np.repeat(wave[:, None], channels, axis=1)


def sequence(*parts: tuple[float, float], channels: int = 2, fs: int = FS) -> np.ndarray:
    """Tones of ``(level_dbfs, seconds)`` one after another, phase-continuous."""
    out, position = [], 0
    for level, seconds in parts:
        piece = tone(level, seconds, channels=channels, fs=fs, start_frame=position)
        out.append(piece)
        position += len(piece)
    return np.concatenate(out)


def faded(signal: np.ndarray, fade_frames: int) -> np.ndarray:
    """Raised-cosine fade in and out, so an abrupt start does not ring in a true-peak test."""
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade_frames))
    gain = np.ones(len(signal))
    gain[:fade_frames] = ramp
    gain[-fade_frames:] = ramp[::-1]
    return signal * gain[:, None]
