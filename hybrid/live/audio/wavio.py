"""WAV files the DAW places where they belong: a streaming writer with a BWF ``bext`` chunk.

Why our own writer: libsndfile (soundfile) writes fine PCM, but soundfile offers no way to
write a Broadcast WAVE ``bext`` chunk, and that chunk's TimeReference is what puts a
printed stem at its place on the DAW timeline. The format is small and fixed (RIFF,
``fmt``, ``fact`` for float, ``bext``, ``data``), so we write it block by block with
constant memory and read everything back with soundfile in the tests.

- 24-bit PCM or 32-bit IEEE float; WAVE_FORMAT_EXTENSIBLE above two channels (as
  libsndfile does), the plain tags otherwise.
- ``read_bext(path)`` walks the RIFF chunks of any WAV/RF64/BW64 and returns the source's
  ``bext`` (raw bytes kept so a print carries it verbatim, TimeReference included).
- Files over the 4 GiB RIFF limit are refused with a clear error, never written wrong.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hybrid.errors import HybridError

FORMATS = ("pcm24", "float32")

_BEXT_FIXED = 602          # bytes before CodingHistory (EBU Tech 3285)
_TIMEREF_OFFSET = 256 + 32 + 32 + 10 + 8
_GUID_TAIL = b"\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_RIFF_LIMIT = 0xFFFFFFFF


@dataclass(frozen=True)
class Bext:
    """A Broadcast WAVE ``bext`` chunk. ``time_reference`` is in samples since midnight."""

    description: str
    originator: str
    originator_reference: str
    origination_date: str
    origination_time: str
    time_reference: int
    version: int
    coding_history: str
    raw: bytes   # the chunk body as found, so a copy is exact

    @classmethod
    def parse(cls, body: bytes) -> Bext:
        if len(body) < _BEXT_FIXED:
            body = body + b"\x00" * (_BEXT_FIXED - len(body))

        def text(lo: int, hi: int) -> str:
            return body[lo:hi].split(b"\x00", 1)[0].decode("latin-1").strip()

        low, high = struct.unpack_from("<II", body, _TIMEREF_OFFSET)
        (version,) = struct.unpack_from("<H", body, _TIMEREF_OFFSET + 8)
        return cls(
            description=text(0, 256), originator=text(256, 288),
            originator_reference=text(288, 320), origination_date=text(320, 330),
            origination_time=text(330, 338), time_reference=low | (high << 32),
            version=version, coding_history=body[_BEXT_FIXED:].split(b"\x00", 1)[0].decode("latin-1"),
            raw=bytes(body),
        )

    @classmethod
    def new(cls, time_reference: int, *, description: str = "", originator: str = "hybrid",
            coding_history: str = "") -> Bext:
        """A fresh version-1 chunk (for tests, and for files that had none but need one)."""
        body = bytearray(_BEXT_FIXED)
        body[0:len(description[:256])] = description[:256].encode("latin-1")
        body[256:256 + len(originator[:32])] = originator[:32].encode("latin-1")
        struct.pack_into("<IIH", body, _TIMEREF_OFFSET, time_reference & 0xFFFFFFFF,
                         time_reference >> 32, 1)
        hist = coding_history.encode("latin-1")
        if hist:
            body += hist + (b"\x00" if len(hist) % 2 else b"")
        return cls.parse(bytes(body))


def _chunks(path: Path):
    """Yield ``(chunk_id, offset_of_body, size)`` of a RIFF/RF64/BW64 WAVE file."""
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise HybridError(f"cannot open: {exc.strerror}", where=str(path)) from exc
    with fh:
        head = fh.read(12)
        if len(head) < 12 or head[0:4] not in (b"RIFF", b"RF64", b"BW64") or head[8:12] != b"WAVE":
            return
        ds64_data = None
        pos = 12
        end = os.fstat(fh.fileno()).st_size
        while pos + 8 <= end:
            fh.seek(pos)
            cid, size = struct.unpack("<4sI", fh.read(8))
            if cid == b"ds64" and size >= 16:
                _riff, ds64_data = struct.unpack("<QQ", fh.read(16))
            if cid == b"data" and size == 0xFFFFFFFF and ds64_data is not None:
                size = ds64_data
            yield cid, pos + 8, size, fh
            pos += 8 + size + (size & 1)


def read_bext(path: str | os.PathLike) -> Bext | None:
    """The ``bext`` chunk of a WAV file, or None when it has none (or is not a WAV)."""
    for cid, offset, size, fh in _chunks(Path(path)):
        if cid == b"bext":
            fh.seek(offset)
            return Bext.parse(fh.read(size))
    return None


class WavWriter:
    """Write a WAV block by block: ``write(frames)`` with float32 ``(n, channels)`` in [-1, 1].

    Writes to ``path`` as given (the caller writes to a temp name and renames it when the
    pass is good). Tracks per-channel peak, RMS and clipped samples of what was written.
    """

    def __init__(self, path: str | os.PathLike, samplerate: int, channels: int,
                 fmt: str = "pcm24", bext: Bext | None = None):
        if fmt not in FORMATS:
            raise HybridError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}",
                              where=str(path))
        self.path = Path(path)
        self.samplerate = int(samplerate)
        self.channels = int(channels)
        self.fmt = fmt
        self.frames = 0
        self._width = 3 if fmt == "pcm24" else 4
        self._peak = np.zeros(channels)
        self._sumsq = np.zeros(channels)
        self._clipped = np.zeros(channels, dtype=np.int64)
        try:
            self._fh = open(self.path, "wb")
        except OSError as exc:
            raise HybridError(f"cannot write: {exc.strerror}", where=str(self.path)) from exc
        self._header(bext)

    def _header(self, bext: Bext | None) -> None:
        ch, rate, width = self.channels, self.samplerate, self._width
        block_align = ch * width
        tag = 1 if self.fmt == "pcm24" else 3
        if ch > 2:
            guid = struct.pack("<I", tag) + _GUID_TAIL
            fmt = struct.pack("<HHIIHHHHI", 0xFFFE, ch, rate, rate * block_align, block_align,
                              width * 8, 22, width * 8, 0) + guid
        elif tag == 3:
            fmt = struct.pack("<HHIIHHH", tag, ch, rate, rate * block_align, block_align, width * 8, 0)
        else:
            fmt = struct.pack("<HHIIHH", tag, ch, rate, rate * block_align, block_align, width * 8)
        out = bytearray(b"RIFF\x00\x00\x00\x00WAVE")
        out += b"fmt " + struct.pack("<I", len(fmt)) + fmt
        self._fact_at = None
        if tag == 3:
            self._fact_at = len(out) + 8
            out += b"fact" + struct.pack("<II", 4, 0)
        if bext is not None:
            body = bext.raw + (b"\x00" if len(bext.raw) % 2 else b"")
            out += b"bext" + struct.pack("<I", len(body)) + body
        out += b"data\x00\x00\x00\x00"
        self._data_at = len(out)
        self._fh.write(out)

    def write(self, frames: np.ndarray) -> None:
        """Append ``frames`` (n, channels) float; PCM is rounded and clipped (counted)."""
        if frames.ndim != 2 or frames.shape[1] != self.channels:
            raise ValueError(f"expected (n, {self.channels}) frames, got {frames.shape}")
        n = len(frames)
        if n == 0:
            return
        if self._data_at + (self.frames + n) * self.channels * self._width > _RIFF_LIMIT - 8:
            raise HybridError("file would pass the 4 GiB WAV limit; print shorter stems or fewer "
                              "channels per file", where=str(self.path))
        absval = np.abs(frames)
        np.maximum(self._peak, absval.max(axis=0), out=self._peak)
        self._sumsq += np.square(frames, dtype=np.float64).sum(axis=0)
        if self.fmt == "pcm24":
            self._clipped += (absval >= 1.0).sum(axis=0)
            ints = np.rint(frames * 8388608.0)
            np.clip(ints, -8388608, 8388607, out=ints)
            packed = np.ascontiguousarray(ints, dtype="<i4").view(np.uint8).reshape(n, self.channels, 4)[:, :, :3]
            self._fh.write(packed.tobytes())
        else:
            self._clipped += (absval > 1.0).sum(axis=0)
            self._fh.write(np.ascontiguousarray(frames, dtype="<f4").tobytes())
        self.frames += n

    def close(self) -> None:
        """Patch the sizes and close; fsync so a later rename publishes a complete file."""
        if self._fh.closed:
            return
        data_bytes = self.frames * self.channels * self._width
        if data_bytes & 1:
            self._fh.write(b"\x00")
        total = self._fh.tell()
        self._fh.seek(4)
        self._fh.write(struct.pack("<I", total - 8))
        if self._fact_at is not None:
            self._fh.seek(self._fact_at)
            self._fh.write(struct.pack("<I", self.frames))
        self._fh.seek(self._data_at - 4)
        self._fh.write(struct.pack("<I", data_bytes))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()

    def abort(self) -> None:
        """Close without caring about the header (the file is about to be renamed bad or removed)."""
        if not self._fh.closed:
            self._fh.close()

    def levels(self) -> Levels:
        """Peak, RMS and clipped-sample counts of everything written so far."""
        frames = max(self.frames, 1)
        rms = np.sqrt(self._sumsq / frames)
        return Levels(
            peak_dbfs=[_dbfs(p) for p in self._peak], rms_dbfs=[_dbfs(r) for r in rms],
            clipped_samples=[int(c) for c in self._clipped],
        )

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


@dataclass
class Levels:
    """Per-channel levels of a file. RMS reads 0 dBFS for a full-scale square (a sine: -3.01)."""

    peak_dbfs: list[float]
    rms_dbfs: list[float]
    clipped_samples: list[int]

    @property
    def file_peak_dbfs(self) -> float:
        return max(self.peak_dbfs) if self.peak_dbfs else float("-inf")

    @property
    def file_rms_dbfs(self) -> float:
        if not self.rms_dbfs:
            return float("-inf")
        power = np.mean([10 ** (r / 10) if r != float("-inf") else 0.0 for r in self.rms_dbfs])
        return _dbfs(np.sqrt(power))

    def to_dict(self) -> dict:
        return {"peak_dbfs": _round(self.file_peak_dbfs), "rms_dbfs": _round(self.file_rms_dbfs),
                "clipped_samples": int(sum(self.clipped_samples)),
                "channels": [{"peak_dbfs": _round(p), "rms_dbfs": _round(r), "clipped_samples": c}
                             for p, r, c in zip(self.peak_dbfs, self.rms_dbfs, self.clipped_samples, strict=False)]}


def _dbfs(value: float) -> float:
    return float(20.0 * np.log10(value)) if value > 0 else float("-inf")


def _round(value: float) -> float | None:
    """JSON has no -inf: digital silence reports as None."""
    return round(value, 2) if np.isfinite(value) else None
