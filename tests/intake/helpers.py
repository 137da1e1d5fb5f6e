"""Builders for real test uploads: WAVs written by soundfile, zips by zipfile, RAR 4 by hand.

Nothing here imitates intake: these produce the bytes a client's tools would produce
(and the bytes an attacker would craft), which intake then reads for real.
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 48000


def tone(seconds: float = 0.5, *, sr: int = SR, freq_hz: float = 220.0, level: float = 0.5,
         channels: int = 1, seed: int = 0) -> np.ndarray:
    """A sine with a little noise (so stereo channels differ), shape (frames, channels)."""
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    rng = np.random.default_rng(seed)
    cols = [level * np.sin(2 * np.pi * freq_hz * t + ch) + 0.01 * rng.standard_normal(n)
            for ch in range(channels)]
    return np.stack(cols, axis=1)


def wav_bytes(data: np.ndarray, *, sr: int = SR, subtype: str = "PCM_24", fmt: str = "WAV") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, data, sr, subtype=subtype, format=fmt)
    return buf.getvalue()


def with_bext(wav: bytes, time_reference: int) -> bytes:
    """Insert a BWF bext chunk (version 1) carrying ``time_reference`` after the fmt chunk."""
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    body = bytearray(602)
    struct.pack_into("<Q", body, 338, time_reference)
    struct.pack_into("<H", body, 346, 1)
    chunk = b"bext" + struct.pack("<I", len(body)) + bytes(body)
    pos = 12
    while True:  # find the end of the fmt chunk
        cid, size = wav[pos:pos + 4], struct.unpack("<I", wav[pos + 4:pos + 8])[0]
        pos += 8 + size + (size & 1)
        if cid == b"fmt ":
            break
    out = wav[:pos] + chunk + wav[pos:]
    return out[:4] + struct.pack("<I", len(out) - 8) + out[8:]


def good_stems(seconds: float = 0.5) -> dict[str, bytes]:
    """A small, correct upload: numbered, instrument-named 24-bit/float WAVs of one length."""
    return {
        "1Kick.wav": wav_bytes(tone(seconds, freq_hz=55, seed=1)),
        "2Snare.wav": wav_bytes(tone(seconds, freq_hz=200, seed=2)),
        "3Bass.wav": wav_bytes(tone(seconds, freq_hz=80, seed=3), subtype="FLOAT"),
        "4 Keys.wav": wav_bytes(tone(seconds, freq_hz=440, channels=2, seed=4)),
    }


def make_zip(path: Path, members: dict[str, bytes] | list[tuple], *, folder: str = "",
             compression: int = zipfile.ZIP_DEFLATED, level: int | None = None) -> Path:
    """Write a zip; ``members`` maps names to bytes, or is a list of (ZipInfo|name, bytes)."""
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(path, "w", compression=compression, compresslevel=level) as zf:
        for name, data in items:
            if isinstance(name, zipfile.ZipInfo):
                zf.writestr(name, data)
            else:
                zf.writestr(folder + name, data)
    return path


def special_info(name: str, mode: int) -> zipfile.ZipInfo:
    """A ZipInfo whose Unix mode bits (external_attr) say symlink, device, ...: as Info-ZIP writes."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (mode & 0xFFFF) << 16
    return info


SYMLINK_MODE = stat.S_IFLNK | 0o777
CHARDEV_MODE = stat.S_IFCHR | 0o644


def patch_declared_size(path: Path, member: str, size: int) -> None:
    """Make the zip lie: rewrite ``member``'s uncompressed size in its local and central headers."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for sig, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        pos = 0
        while (pos := data.find(sig, pos)) >= 0:
            n = struct.unpack_from("<H", data, pos + name_len_at)[0]
            if bytes(data[pos + name_at:pos + name_at + n]) == name:
                struct.pack_into("<I", data, pos + size_at, size)
            pos += 4
    path.write_bytes(bytes(data))


def set_encrypted_flag(path: Path, member: str) -> None:
    """Set bit 0 (encrypted) of ``member``'s general-purpose flags, as a password tool would."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for sig, flag_at, name_len_at, name_at in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
        pos = 0
        while (pos := data.find(sig, pos)) >= 0:
            n = struct.unpack_from("<H", data, pos + name_len_at)[0]
            if bytes(data[pos + name_at:pos + name_at + n]) == name:
                flags = struct.unpack_from("<H", data, pos + flag_at)[0]
                struct.pack_into("<H", data, pos + flag_at, flags | 0x1)
            pos += 4
    path.write_bytes(bytes(data))


def as_deflate64(path: Path) -> None:
    """Relabel every member as Deflate64 (method 9), as Windows' built-in zip writes big files.

    The members must be deflated at level 0 (stored blocks only): such a stream means the
    same bytes in Deflate64, so the archive is a valid Deflate64 zip.
    """
    data = bytearray(path.read_bytes())
    for sig, method_at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        pos = 0
        while (pos := data.find(sig, pos)) >= 0:
            if struct.unpack_from("<H", data, pos + method_at)[0] == zipfile.ZIP_DEFLATED:
                struct.pack_into("<H", data, pos + method_at, 9)
            pos += 4
    path.write_bytes(bytes(data))


def forge_zip64_entry_count(path: Path, entries: int) -> None:
    """Replace the end record with zip64 end records that declare ``entries`` entries."""
    data = path.read_bytes()
    eocd = data.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack_from("<II", data, eocd + 12)
    body = data[:eocd]
    z64_at = len(body)
    z64 = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries,
                      cd_size, cd_offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, z64_at, 1)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                      0xFFFFFFFF, 0)
    path.write_bytes(body + z64 + locator + end)


def point_entry_at_first(path: Path, member: str) -> None:
    """Overlapping-entries bomb: the central entry of ``member`` points at the first local header."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        n = struct.unpack_from("<H", data, pos + 28)[0]
        if bytes(data[pos + 46:pos + 46 + n]) == name:
            struct.pack_into("<I", data, pos + 42, 0)
        pos += 4
    path.write_bytes(bytes(data))


# --- RAR 4 (stored method), written to the published format: marker, archive header,
# --- file headers with CRC16 (low half of CRC32), end block. bsdtar and unar read it.

def _rar_block(head_type: int, flags: int, body: bytes) -> bytes:
    rest = struct.pack("<BHH", head_type, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(rest) & 0xFFFF) + rest


def make_rar4(path: Path, members: list[tuple[str, bytes]] | dict[str, bytes], *,
              modes: dict[str, int] | None = None, encrypted: set[str] = frozenset(),
              lie_sizes: dict[str, int] | None = None) -> Path:
    """A RAR 4 archive with stored members; ``modes`` sets Unix modes (symlinks: data = target),
    ``encrypted`` sets the member's password flag (0x04), ``lie_sizes`` declares another
    unpacked size for a member (with valid header checksums: a forged, not a damaged, header)."""
    items = members.items() if isinstance(members, dict) else members
    out = bytearray(b"Rar!\x1a\x07\x00")
    out += _rar_block(0x73, 0, b"\0" * 6)
    for name, data in items:
        nb = name.encode()
        mode = (modes or {}).get(name, 0o100644)
        flags = 0x8000 | (0x04 if name in encrypted else 0)
        unp_size = (lie_sizes or {}).get(name, len(data))
        body = struct.pack("<IIBIIBBHI", len(data), unp_size, 3, zlib.crc32(data), 0x5A210000,
                           29, 0x30, len(nb), mode) + nb
        out += _rar_block(0x74, flags, body) + data
    out += _rar_block(0x7B, 0x4000, b"")
    path.write_bytes(bytes(out))
    return path


def tree(root: Path) -> set[str]:
    """Every path under ``root`` (files and folders), relative, for before/after comparisons."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}
