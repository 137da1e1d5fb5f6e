"""Word-length reduction with TPDF dither.

Truncating or rounding float audio to 16 or 24 bits leaves a quantisation error that
is correlated with the signal (distortion on fades and reverb tails). Adding
triangular-PDF noise of +-1 LSB before rounding makes the error a constant, signal-
independent noise floor (the first two moments of the error are independent of the
signal): the textbook choice for CD masters. No noise shaping: a flat floor is what a
plant's and a client's meters expect, and shaping belongs to the mastering engineer's
own tools, before this step.

Samples already exactly on the target grid (a 16-bit source going to 16 bits) are
passed through without dither, so such copies stay bit-exact.
"""

from __future__ import annotations

import numpy as np


def full_scale(bits: int) -> int:
    """Integer value of +1.0 (2**(bits-1)); the positive limit is one less."""
    return 1 << (bits - 1)


def is_on_grid(samples: np.ndarray, bits: int) -> bool:
    """True when every sample is already an exact ``bits``-bit value (no dither needed)."""
    scaled = np.asarray(samples, dtype=np.float64) * full_scale(bits)
    return bool(np.all(scaled == np.round(scaled)))


def quantize_tpdf(samples: np.ndarray, bits: int, rng: np.random.Generator,
                  *, dither: bool = True) -> tuple[np.ndarray, int]:
    """Float samples (+-1.0 full scale) to ``bits``-bit integers (int32), TPDF-dithered.

    Returns ``(integers, clipped)``: how many samples had to be clipped to the integer
    range (a sign that the source was too hot for the word length).
    """
    scale = full_scale(bits)
    scaled = np.asarray(samples, dtype=np.float64) * scale
    if dither:
        scaled = scaled + (rng.random(scaled.shape) - rng.random(scaled.shape))
    rounded = np.round(scaled)
    clipped = int(np.count_nonzero((rounded > scale - 1) | (rounded < -scale)))
    return np.clip(rounded, -scale, scale - 1).astype(np.int32), clipped


def for_soundfile(integers: np.ndarray, bits: int) -> np.ndarray:
    """Integers of ``bits`` bits in the form soundfile writes exactly to that PCM width.

    soundfile/libsndfile takes int16 for 16-bit files and left-justified int32 (the
    top 24 bits) for 24-bit files.
    """
    if bits == 16:
        return integers.astype(np.int16)
    if bits == 24:
        return (integers.astype(np.int32) << 8)
    if bits == 32:
        return integers.astype(np.int32)
    raise ValueError(f"unsupported word length {bits} bits")
