"""Reading a client's .zip with the standard zipfile module, member by member.

zipfile lists the members; their data is decompressed here, chunk by chunk (zipfile's
bzip2 and LZMA readers inflate a whole block at once), each member's size and CRC-32
checked as it comes out. Also refused, as zipfile does not on Python 3.11: refusing overlapping members (the
"non-recursive zip bomb" that points many entries at the same compressed data),
encrypted members, links and devices carried in the Unix mode bits of
``external_attr``, and the streaming caps of ``Budget``.
"""

from __future__ import annotations

import bz2
import lzma
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from hybrid.files.intake.limits import Budget
from hybrid.files.intake.members import Entry, safe_parts
from hybrid.files.intake.report import Refusal

_LOCAL_HEADER_BYTES = 30
_READ_BYTES = 64 * 1024
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
            if not info.filename:  # zipfile cut the name at a NUL (and is_dir() would crash)
                safe_parts(info.filename)
            out.append(Entry(name=info.filename, kind=_kind(info), size=info.file_size,
                             compressed_size=info.compress_size,
                             encrypted=bool(info.flag_bits & 0x1) or info.compress_type == 99))
        return out

    def extract(self, wanted: dict[str, Path], budget: Budget, *, chunk_bytes: int,
                max_files: int) -> None:
        """Stream each wanted member (normalised name -> destination file) through ``budget``.

        Members are decompressed here, not by zipfile (whose bzip2 and LZMA readers
        decompress a whole input block at once: 1.7 KB can become 4 GB in memory), at most
        ``chunk_bytes`` of output at a time; each member's size and CRC-32 must come out as
        its header declares.
        """
        del max_files  # the zip's entries were all counted from its central directory
        by_name = {"/".join(safe_parts(i.filename)): i for i in self._zip.infolist()}
        with open(self.path, "rb") as fh:
            for key, dest in wanted.items():
                info = by_name[key]
                budget.start(info.filename, info.compress_size)
                with open(dest, "xb") as out:
                    _copy_member(fh, info, out, budget, chunk_bytes)


def _copy_member(fh: BinaryIO, info: zipfile.ZipInfo, out: BinaryIO, budget: Budget,
                 chunk_bytes: int) -> None:
    name = info.filename
    size = crc = 0
    for chunk in _inflate(fh, info, chunk_bytes):
        size += len(chunk)
        if size > info.file_size:
            raise Refusal(f"unpacks to more than the {info.file_size} bytes its header declares "
                          "(a lying size)", member=name, rule="corrupt")
        budget.charge(len(chunk))
        crc = zlib.crc32(chunk, crc)
        out.write(chunk)
    if size != info.file_size:
        raise Refusal(f"unpacked {size} bytes where its header declares {info.file_size}",
                      member=name, rule="corrupt")
    if crc != info.CRC:
        raise Refusal("CRC-32 does not match: the member is damaged", member=name, rule="corrupt")


def _inflate(fh: BinaryIO, info: zipfile.ZipInfo, chunk_bytes: int) -> Iterator[bytes]:
    """The member's uncompressed bytes, at most ``chunk_bytes`` at a time."""
    name = info.filename
    fh.seek(info.header_offset)
    head = fh.read(_LOCAL_HEADER_BYTES)
    if len(head) < _LOCAL_HEADER_BYTES or head[:4] != b"PK\x03\x04":
        raise Refusal("its local header is missing (corrupt zip)", member=name, rule="corrupt")
    name_len, extra_len = struct.unpack_from("<HH", head, 26)
    fh.seek(info.header_offset + _LOCAL_HEADER_BYTES + name_len + extra_len)
    left = info.compress_size

    def read(n: int) -> bytes:
        nonlocal left
        data = fh.read(min(n, left))
        left -= len(data)
        if not data and n:
            raise Refusal("its data is cut short (truncated zip)", member=name, rule="corrupt")
        return data

    method = info.compress_type
    try:
        if method == zipfile.ZIP_STORED:
            while left > 0:
                yield read(chunk_bytes)
            return
        if method == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-15)
            pending = b""
            while not inflater.eof:
                if not pending:
                    pending = read(_READ_BYTES) if left else b""
                    if not pending:
                        inflater.flush()
                        raise Refusal("its deflate stream ends early (truncated or damaged)",
                                      member=name, rule="corrupt")
                out = inflater.decompress(pending, chunk_bytes)
                pending = inflater.unconsumed_tail
                if out:
                    yield out
            return
        decoder: bz2.BZ2Decompressor | lzma.LZMADecompressor
        if method == zipfile.ZIP_BZIP2:
            decoder = bz2.BZ2Decompressor()
        else:  # ZIP_LZMA: 2 bytes version, 2 bytes properties size, properties, raw LZMA1
            header = read(4)
            props = read(struct.unpack_from("<H", header, 2)[0])
            decoder = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[
                lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)])  # as zipfile does
        while not decoder.eof:
            if decoder.needs_input:
                if not left:
                    return  # LZMA without an end marker stops with its input
                data = read(_READ_BYTES)
            else:
                data = b""
            out = decoder.decompress(data, chunk_bytes)
            if out:
                yield out
    except (zlib.error, lzma.LZMAError, EOFError, ValueError) as exc:
        raise Refusal(f"damaged compressed data ({exc})", member=name, rule="corrupt") from None
    except OSError as exc:  # bz2 reports bad data as OSError
        raise Refusal(f"damaged compressed data ({exc.strerror or exc})", member=name,
                      rule="corrupt") from None


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
