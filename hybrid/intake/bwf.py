"""The BWF time reference of a WAV/RF64 file, from its ``bext`` chunk.

soundfile does not expose the Broadcast Wave extension, so the chunk list is walked
here (seeking past the audio, never reading it). The time reference is where the file
starts on the DAW's timeline, in samples since midnight: stems exported together carry
the same value, which is how "all files start together" can be checked beyond length.
"""

from __future__ import annotations

import struct
from pathlib import Path

_BEXT_TIME_REFERENCE_OFFSET = 256 + 32 + 32 + 10 + 8  # description, originator, ref, date, time
_MAX_CHUNKS = 10_000


def time_reference(path: Path) -> int | None:
    """Samples since midnight from the bext chunk, or None when the file has none."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[8:12] != b"WAVE" or head[:4] not in (b"RIFF", b"RF64", b"BW64"):
            return None
        ds64_data_size = None
        for _ in range(_MAX_CHUNKS):
            header = fh.read(8)
            if len(header) < 8:
                return None
            chunk_id, size = header[:4], struct.unpack("<I", header[4:])[0]
            start = fh.tell()
            if chunk_id == b"ds64" and size >= 16:
                body = fh.read(16)
                ds64_data_size = struct.unpack("<Q", body[8:16])[0]
            elif chunk_id == b"bext":
                if size < _BEXT_TIME_REFERENCE_OFFSET + 8:
                    return None
                fh.seek(start + _BEXT_TIME_REFERENCE_OFFSET)
                return struct.unpack("<Q", fh.read(8))[0]
            if chunk_id == b"data" and size == 0xFFFFFFFF and ds64_data_size is not None:
                size = ds64_data_size
            fh.seek(start + size + (size & 1))
    return None
