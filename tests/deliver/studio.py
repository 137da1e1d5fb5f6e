"""Helpers to build a studio folder with songs and mix files for delivery tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SHEET = """spec = "hybrid-sheet/1"

[song]
title = "{title}"
artist = "{artist}"
album = "Demo EP"
samplerate = 48000
stage = "review"
"""


def make_song(studio: Path, slug: str, title: str, artist: str = "The Examples",
              extra: str = "") -> Path:
    folder = studio / "songs" / slug
    (folder / "mix").mkdir(parents=True)
    (studio / "studio.toml").touch()
    (folder / "sheet.toml").write_text(SHEET.format(title=title, artist=artist) + extra,
                                       encoding="utf-8")
    return folder


def music(seconds: float, fs: int = 48000, *, level_db: float = -18.0, seed: int = 0,
          transient_db: float | None = None) -> np.ndarray:
    """Band-limited noise with a slow level ride (a stand-in for a mix), stereo.

    ``transient_db``: add short 3 kHz bursts whose true peak reaches this level."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    noise = rng.standard_normal((n, 2))
    kernel = np.hanning(9)
    noise = np.stack([np.convolve(noise[:, c], kernel / kernel.sum(), "same") for c in range(2)], 1)
    t = np.arange(n) / fs
    ride = 10 ** ((3 * np.sin(2 * np.pi * t / 7)) / 20)
    out = noise * ride[:, None]
    out *= 10 ** (level_db / 20) / np.sqrt(np.mean(out ** 2))
    if transient_db is not None:
        burst = np.sin(2 * np.pi * 3000 * np.arange(int(0.01 * fs)) / fs) * np.hanning(int(0.01 * fs))
        for start in range(fs // 2, n - len(burst), fs):
            out[start:start + len(burst)] += burst[:, None] * 10 ** (transient_db / 20)
    return out


def write_wav(path: Path, samples: np.ndarray, fs: int = 48000, subtype: str = "PCM_24") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, fs, subtype=subtype)
    return path
