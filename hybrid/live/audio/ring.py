"""A single-producer/single-consumer ring of audio frames, safe to touch from an audio callback.

Why a hand-made ring: the audio callback must not allocate buffers, take locks, log or
block, yet a print streams minutes of audio from and to disk. A worker thread keeps the
play ring full and the record ring empty; the callback only copies frames between the
ring and PortAudio's buffers.

How it is safe without a lock:
- Storage is one preallocated ``float32`` array ``(capacity, channels)``; nothing is
  allocated after construction (slicing makes small view objects, never new buffers).
- Two monotonic frame counters: ``_written`` is stored only by the producer, ``_read``
  only by the consumer. Each is a single attribute store of a Python int, atomic under
  the GIL. The producer copies the frames in *before* it publishes the new ``_written``;
  the consumer copies them out *before* it publishes the new ``_read``. So a side sees
  either the old count (and ignores frames not yet published) or the new one (and the
  frames are already there). The GIL's acquire/release orders those memory accesses.
- Counters never wrap (Python ints), so full and empty are never confused:
  ``available = written - read`` and ``space = capacity - available``.

Nothing here blocks: a read that finds too few frames returns what there is, a write
that finds too little space writes what fits; the caller counts the shortfall as an
under- or overrun (a pass with any is bad).
"""

from __future__ import annotations

import numpy as np


class FrameRing:
    """Preallocated SPSC ring of ``(frames, channels)`` float32 audio."""

    def __init__(self, capacity_frames: int, channels: int):
        if capacity_frames <= 0 or channels <= 0:
            raise ValueError(f"ring needs capacity_frames > 0 and channels > 0, got "
                             f"{capacity_frames} x {channels}")
        self.capacity = int(capacity_frames)
        self.channels = int(channels)
        self._buf = np.zeros((self.capacity, self.channels), dtype=np.float32)
        self._written = 0   # stored by the producer only
        self._read = 0      # stored by the consumer only

    # Either side may look at these; the answer is a safe lower bound for the caller's side.
    def available(self) -> int:
        """Frames the consumer can read now."""
        return self._written - self._read

    def space(self) -> int:
        """Frames the producer can write now."""
        return self.capacity - (self._written - self._read)

    @property
    def frames_written(self) -> int:
        return self._written

    @property
    def frames_read(self) -> int:
        return self._read

    # Producer side ---------------------------------------------------------------
    def write(self, frames: np.ndarray) -> int:
        """Copy as many of ``frames`` (n, channels) as fit; return how many. Never blocks."""
        n = min(len(frames), self.capacity - (self._written - self._read))
        if n <= 0:
            return 0
        start = self._written % self.capacity
        first = min(n, self.capacity - start)
        self._buf[start:start + first] = frames[:first]
        if n > first:
            self._buf[:n - first] = frames[first:n]
        self._written += n          # publish after the copy
        return n

    def write_zeros(self, count: int) -> int:
        """Write up to ``count`` silent frames; return how many."""
        n = min(count, self.capacity - (self._written - self._read))
        if n <= 0:
            return 0
        start = self._written % self.capacity
        first = min(n, self.capacity - start)
        self._buf[start:start + first] = 0.0
        if n > first:
            self._buf[:n - first] = 0.0
        self._written += n
        return n

    # Consumer side ---------------------------------------------------------------
    def read_into(self, out: np.ndarray) -> int:
        """Fill ``out`` (n, channels) with up to n frames; return how many were read.

        Frames beyond what was available are left untouched: the caller decides (the
        callback zeroes them and counts an underrun).
        """
        n = min(len(out), self._written - self._read)
        if n <= 0:
            return 0
        start = self._read % self.capacity
        first = min(n, self.capacity - start)
        out[:first] = self._buf[start:start + first]
        if n > first:
            out[first:n] = self._buf[:n - first]
        self._read += n             # publish after the copy
        return n
