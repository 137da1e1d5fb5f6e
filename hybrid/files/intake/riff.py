"""The chunk layout of a WAV/RF64 file: where the audio is, how big it says it is, BWF start.

soundfile reads the samples but neither exposes the Broadcast Wave ``bext`` chunk nor
complains about a truncated file (libsndfile quietly reads what is there), so the chunk
list is walked here, seeking past the audio, never reading it. Two things come out:

* the BWF time reference (where the file starts on the DAW's timeline, in samples since
  midnight): stems exported together carry the same value;
* integrity: a ``data`` chunk that runs past the end of the file means a truncated
  upload or export; bytes after the RIFF's declared end are padding or damage.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_BEXT_TIME_REFERENCE_OFFSET = 256 + 32 + 32 + 10 + 8  # description, originator, ref, date, time
_MAX_CHUNKS = 10_000


@dataclass(frozen=True)
class WavLayout:
    file_bytes: int
    riff_bytes: int | None
    """The size the RIFF/RF64 header declares for the whole file (None if unknown)."""
    data_bytes: int | None
    """The size the data chunk declares."""
    data_offset: int | None
    time_reference: int | None

    @property
    def missing_bytes(self) -> int:
        """Audio bytes the data chunk declares but the file does not hold (truncation)."""
        if self.data_bytes is None or self.data_offset is None:
            return 0
        return max(0, self.data_offset + self.data_bytes - self.file_bytes)

    @property
    def trailing_bytes(self) -> int:
        """Bytes after the end the RIFF header declares."""
        if self.riff_bytes is None:
            return 0
        return max(0, self.file_bytes - (self.riff_bytes + 8))


def read_layout(path: Path) -> WavLayout | None:
    """The layout of a RIFF/RF64 WAVE file, or None if it is not one."""
    path = Path(path)
    file_bytes = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[8:12] != b"WAVE" or head[:4] not in (b"RIFF", b"RF64", b"BW64"):
            return None
        riff = struct.unpack("<I", head[4:8])[0]
        riff_bytes: int | None = None if head[:4] != b"RIFF" else riff
        ds64_data = None
        data_bytes = data_offset = time_ref = None
        for _ in range(_MAX_CHUNKS):
            header = fh.read(8)
            if len(header) < 8:
                break
            chunk_id, size = header[:4], struct.unpack("<I", header[4:])[0]
            start = fh.tell()
            if chunk_id == b"ds64" and size >= 24:
                body = fh.read(24)
                riff_bytes, ds64_data = struct.unpack("<QQ", body[:16])
            elif chunk_id == b"bext" and size >= _BEXT_TIME_REFERENCE_OFFSET + 8:
                fh.seek(start + _BEXT_TIME_REFERENCE_OFFSET)
                time_ref = struct.unpack("<Q", fh.read(8))[0]
            elif chunk_id == b"data":
                if size == 0xFFFFFFFF and ds64_data is not None:
                    size = ds64_data
                data_bytes, data_offset = size, start
            fh.seek(start + size + (size & 1))
            if fh.tell() >= file_bytes:
                break
    return WavLayout(file_bytes, riff_bytes, data_bytes, data_offset, time_ref)
