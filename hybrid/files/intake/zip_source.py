"""Reading a client's .zip with the standard zipfile module, member by member.

zipfile already bounds each member's output to its declared size and checks its CRC;
we add what it does not do on Python 3.11: refusing overlapping members (the
"non-recursive zip bomb" that points many entries at the same compressed data),
encrypted members, links and devices carried in the Unix mode bits of
``external_attr``, and the streaming caps of ``Budget``.
"""

from __future__ import annotations

import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from hybrid.files.intake.limits import Budget
from hybrid.files.intake.members import Entry, safe_parts
from hybrid.files.intake.report import Refusal

_LOCAL_HEADER_BYTES = 30
_ZIPFILE_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_METHOD_NAMES = {9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "XZ", 98: "PPMd",
                 99: "AES encryption"}


class ZipSource:
    """A .zip opened for listing and streaming. Use as a context manager."""

    extractor = "zipfile"

    def __init__(self, path: Path, *, max_files: int | None = None):
        self.path = Path(path)
        if max_files is not None:
            declared = declared_entry_count(self.path)
            if declared is not None and declared > max_files:
                raise Refusal(f"declares {declared} entries, more than the {max_files} allowed",
                              rule="bomb")
        try:
            self._zip = zipfile.ZipFile(self.path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
            raise Refusal(f"not a readable zip archive ({exc})", rule="corrupt") from None

    def unsupported_methods(self) -> set[str]:
        """Compression methods of this zip that zipfile cannot decode (e.g. Deflate64, which
        Windows' built-in "Compressed folder" uses for big files)."""
        return {_METHOD_NAMES.get(i.compress_type, f"method {i.compress_type}")
                for i in self._zip.infolist() if i.compress_type not in _ZIPFILE_METHODS}

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> ZipSource:
        return self

    def __exit__(self, *exc) -> None:
        self._zip.close()

    def entries(self) -> list[Entry]:
        infos = self._zip.infolist()
        _refuse_overlaps(infos, self.path.stat().st_size)
        out = []
        for info in infos:
            out.append(Entry(name=info.filename, kind=_kind(info), size=info.file_size,
                             compressed_size=info.compress_size,
                             encrypted=bool(info.flag_bits & 0x1) or info.compress_type == 99))
        return out

    def extract(self, wanted: dict[str, Path], budget: Budget, *, chunk_bytes: int,
                max_files: int) -> None:
        """Stream each wanted member (normalised name -> destination file) through ``budget``."""
        by_name = {"/".join(safe_parts(i.filename)): i for i in self._zip.infolist()}
        for key, dest in wanted.items():
            info = by_name[key]
            name = info.filename
            budget.start(name, info.compress_size)
            try:
                with self._zip.open(info) as src, open(dest, "xb") as out:
                    _copy(src, out, budget, chunk_bytes)
            except NotImplementedError:
                method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
                raise Refusal(f"compressed with {method}, which cannot be read here; "
                              "ask for a plain (deflate or stored) zip", member=name,
                              rule="corrupt") from None
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise Refusal(f"corrupt member ({exc})", member=name, rule="corrupt") from None
            except RuntimeError as exc:  # zipfile's "password required" for encrypted members
                raise Refusal(f"cannot be read ({exc})", member=name, rule="encrypted") from None


def declared_entry_count(path: Path) -> int | None:
    """Entries the end-of-central-directory record declares, read before zipfile parses the
    whole central directory (which it keeps in memory: millions of entries would hurt)."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        tail_at = max(0, size - (65535 + 22))
        fh.seek(tail_at)
        tail = fh.read()
        pos = tail.rfind(b"PK\x05\x06")
        if pos < 0 or pos + 22 > len(tail):
            return None
        total = struct.unpack_from("<H", tail, pos + 10)[0]
        if total != 0xFFFF or pos < 20 or tail[pos - 20:pos - 16] != b"PK\x06\x07":
            return total
        zip64_at = struct.unpack_from("<Q", tail, pos - 20 + 8)[0]
        fh.seek(zip64_at)
        rec = fh.read(56)
        if len(rec) < 40 or rec[:4] != b"PK\x06\x06":
            return None
        return struct.unpack_from("<Q", rec, 32)[0]


def _copy(src: BinaryIO, out: BinaryIO, budget: Budget, chunk_bytes: int) -> None:
    while True:
        chunk = src.read(chunk_bytes)
        if not chunk:
            return
        budget.charge(len(chunk))
        out.write(chunk)


def _kind(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16
    fmt = stat.S_IFMT(mode) if mode else 0
    if fmt == stat.S_IFLNK:
        return "symlink"
    if fmt in (stat.S_IFCHR, stat.S_IFBLK):
        return "device"
    if fmt == stat.S_IFIFO:
        return "fifo"
    if fmt == stat.S_IFSOCK:
        return "other"
    if fmt == stat.S_IFDIR or info.is_dir():
        return "dir"
    return "file"


def _refuse_overlaps(infos: list[zipfile.ZipInfo], archive_bytes: int) -> None:
    """Each member's data must end before the next member's local header starts."""
    spans = sorted(infos, key=lambda i: i.header_offset)
    for cur, nxt in zip(spans, spans[1:], strict=False):
        end = cur.header_offset + _LOCAL_HEADER_BYTES + cur.compress_size
        if end > nxt.header_offset:
            raise Refusal(f"overlaps member {nxt.filename!r} (overlapping-entries zip bomb "
                          "or a corrupt central directory)", member=cur.filename, rule="bomb")
    for info in infos:
        if info.header_offset + info.compress_size > archive_bytes:
            raise Refusal("declares more compressed data than the archive holds "
                          "(truncated or forged header)", member=info.filename, rule="corrupt")
