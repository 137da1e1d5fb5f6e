"""The one reader for files that come from outside the program: hand-edited TOML
(profiles, studio.toml, sheets, album.toml, latency.toml), numpy ``.npz`` files
(fingerprints), and any file handed to a decoder by path (WAVs, archives).

Every reader in devices/, recall/ and hybrid/ goes through here, so bad input ends in
one :class:`FileRefused` (a DeviceError whose ``str()`` is ``<file>: <key>: <what was
expected>``) instead of a traceback:

* special files are refused before a byte is read: a directory, a FIFO (opened
  non-blocking, so a FIFO with no writer cannot hang the program), ``/dev/zero`` or any
  other device;
* a size limit, checked on the file's size and again while reading (a file that grows
  while being read is still cut off);
* UTF-8 decoding errors become one line naming the byte offset and the line;
* TOML is parsed with a nesting-depth limit (checked on the text before the parser
  recurses, and on the parsed data: dotted keys nest without brackets), and every
  number is checked: no ``inf``/``nan``, no integer outside TOML's 64-bit range;
* ``.npz`` files are opened without pickles, with a cap on the bytes their members
  unpack to, and float arrays must hold finite numbers.

What comes back is plain data (dicts, lists, str, int, float, bool, datetimes; numpy
arrays for ``.npz``). Upper layers turn :class:`FileRefused` into their own error type
(``RecallError``, ``HybridError``) where they need to, keeping ``file`` and ``key``.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devices.errors import DeviceError

MIB = 1024 * 1024
MAX_TEXT_BYTES = 16 * MIB
"""Largest TOML file read (a big sheet is a few hundred KiB)."""
MAX_NPZ_BYTES = 256 * MIB
"""Largest ``.npz`` file, and the most its members may unpack to in all."""
MAX_DEPTH = 32
"""Deepest nesting of tables and arrays in a TOML file (real files stay under 8)."""
INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1
"""TOML integers are 64-bit signed."""
_CHUNK = 1 * MIB


class FileRefused(DeviceError, ValueError):
    """A file that cannot be read as what it should be: ``file``, ``key`` (dotted path or
    None) and the reason; ``str()`` is one line: ``<file>: <key>: <reason>``."""

    def __init__(self, reason: str, *, file: str, key: str | None = None):
        super().__init__(reason, device=file, action=key)
        self.file = file
        self.key = key


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as text that can always be printed: undecodable bytes of a non-UTF-8 file
    name are shown as ``\\xNN`` escapes instead of crashing the print."""
    text = os.fspath(path)
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _os_reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def regular_file(path: str | os.PathLike[str], *, max_bytes: int | None = None,
                 file: str | None = None) -> Path:
    """``path`` if it is a regular file (following links) no bigger than ``max_bytes``.

    For files a library opens by name (soundfile, bsdtar): the check never opens the file,
    so a FIFO cannot block it and a device is never read.
    """
    name = file or display_path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileRefused("no such file", file=name) from None
    except OSError as exc:
        raise FileRefused(f"cannot read: {_os_reason(exc)}", file=name) from None
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(f"is {_kind_of(st.st_mode)}, expected a regular file", file=name)
    if max_bytes is not None and st.st_size > max_bytes:
        raise FileRefused(f"is {_size(st.st_size)}, more than the {_size(max_bytes)} allowed",
                          file=name)
    return Path(path)


def read_bytes(path: str | os.PathLike[str], *, max_bytes: int = MAX_TEXT_BYTES,
               file: str | None = None) -> bytes:
    """The whole file, refused if it is special or bigger than ``max_bytes``."""
    name = file or display_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise FileRefused("no such file", file=name) from None
    except OSError as exc:
        raise FileRefused(f"cannot read: {_os_reason(exc)}", file=name) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused(f"is {_kind_of(st.st_mode)}, expected a regular file", file=name)
        if st.st_size > max_bytes:
            raise FileRefused(f"is {_size(st.st_size)}, more than the {_size(max_bytes)} allowed",
                              file=name)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(_CHUNK, max_bytes + 1 - total))
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise FileRefused(f"grew past the {_size(max_bytes)} allowed while being read",
                                  file=name)
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise FileRefused(f"cannot read: {_os_reason(exc)}", file=name) from None
    finally:
        os.close(fd)


def decode_utf8(data: bytes, *, file: str) -> str:
    """``data`` as UTF-8 text (a leading BOM dropped); one line naming the byte offset if not."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start:exc.start + 1].hex()
        raise FileRefused(f"not UTF-8 text: byte 0x{bad} at offset {exc.start} (line {line}); "
                          "save the file as UTF-8", file=file) from None
    return text.removeprefix("\ufeff")


def read_text(path: str | os.PathLike[str], *, max_bytes: int = MAX_TEXT_BYTES,
              file: str | None = None) -> str:
    """The file as UTF-8 text, through :func:`read_bytes` and :func:`decode_utf8`."""
    name = file or display_path(path)
    return decode_utf8(read_bytes(path, max_bytes=max_bytes, file=name), file=name)


# ---- TOML ------------------------------------------------------------------------------

_TOKENS = re.compile(r"\"\"\"|'''|[\"'#\[\]{}]")
_ENDS = {'"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*"""', re.S),
         "'''": re.compile(r"(?:[^']|'(?!''))*'''", re.S),
         '"': re.compile(r'(?:[^"\\\n]|\\.)*"'),
         "'": re.compile(r"[^'\n]*'")}


def bracket_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in TOML text, strings and comments skipped.

    A bound checked before a recursive parser sees the text; malformed text gives some
    number (the parser then reports the syntax error itself).
    """
    depth = deepest = 0
    pos = 0
    while True:
        m = _TOKENS.search(text, pos)
        if m is None:
            return deepest
        tok = m.group()
        pos = m.end()
        if tok in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif tok in "]}":
            depth = max(0, depth - 1)
        elif tok == "#":
            nl = text.find("\n", pos)
            pos = len(text) if nl < 0 else nl + 1
        else:
            end = _ENDS[tok].match(text, pos)
            pos = end.end() if end else len(text)


def parse_toml(text: str, *, file: str, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Parse TOML text into plain data, refusing deep nesting and non-finite or huge numbers."""
    if bracket_depth(text) > max_depth:
        raise FileRefused(f"nested more than {max_depth} levels deep", file=file)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileRefused(f"not valid TOML: {exc}", file=file) from None
    except RecursionError:
        raise FileRefused(f"nested more than {max_depth} levels deep", file=file) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise FileRefused(f"not valid TOML: {_first_line(str(exc))}", file=file) from None
    check_plain(data, file=file, max_depth=max_depth)
    return data


def read_toml(path: str | os.PathLike[str], *, max_bytes: int = MAX_TEXT_BYTES,
              max_depth: int = MAX_DEPTH, file: str | None = None) -> dict[str, Any]:
    """A TOML file as plain data, every check of this module applied."""
    name = file or display_path(path)
    return parse_toml(read_text(path, max_bytes=max_bytes, file=name), file=name,
                      max_depth=max_depth)


def check_plain(data: Any, *, file: str, max_depth: int = MAX_DEPTH, key: str | None = None) -> None:
    """Walk parsed data (without recursion): depth, finite floats, 64-bit integers."""
    stack: list[tuple[Any, str | None, int]] = [(data, key, 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, bool):
            continue
        if isinstance(value, float):
            if not math.isfinite(value):
                raise FileRefused(f"expected a finite number, got {value}", file=file, key=where)
        elif isinstance(value, int):
            if not INT_MIN <= value <= INT_MAX:
                raise FileRefused("integer out of range (TOML integers are 64-bit)", file=file,
                                  key=where)
        elif isinstance(value, (dict, list)):
            if depth >= max_depth:
                raise FileRefused(f"nested more than {max_depth} levels deep", file=file, key=where)
            stack.extend((v, _join(where, k), depth + 1) for k, v in _items(value))


def _items(value: dict[str, Any] | list[Any]) -> Iterator[tuple[str | int, Any]]:
    return iter(value.items()) if isinstance(value, dict) else enumerate(value)


_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _join(where: str | None, part: str | int) -> str:
    if isinstance(part, int):
        return f"{where or ''}[{part}]"
    piece = part if _BARE.fullmatch(part) else '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{where}.{piece}" if where else piece


def finite_number(value: Any, *, file: str, key: str) -> float:
    """``value`` as a finite float; refuses booleans, strings, ``inf`` and ``nan``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FileRefused(f"expected a number, got {type(value).__name__}", file=file, key=key)
    out = float(value)
    if not math.isfinite(out):
        raise FileRefused(f"expected a finite number, got {value}", file=file, key=key)
    return out


# ---- .npz ----------------------------------------------------------------------------------

def read_npz(path: str | os.PathLike[str], *, max_bytes: int = MAX_NPZ_BYTES,
             file: str | None = None) -> dict[str, Any]:
    """A numpy ``.npz`` file as {name: array}: see :func:`parse_npz`."""
    name = file or display_path(path)
    return parse_npz(read_bytes(path, max_bytes=max_bytes, file=name), file=name, max_bytes=max_bytes)


def parse_npz(data: bytes, *, file: str, max_bytes: int = MAX_NPZ_BYTES) -> dict[str, Any]:
    """The bytes of an ``.npz`` as {name: array}: no pickles, members capped at ``max_bytes``
    unpacked in all, float arrays finite."""
    import io

    import numpy as np

    name = file
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
            if unpacked > max_bytes:
                raise FileRefused(f"unpacks to {_size(unpacked)}, more than the {_size(max_bytes)} "
                                  "allowed", file=name)
        arrays: dict[str, Any] = {}
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            for member in z.files:
                arrays[member] = z[member]
    except FileRefused:
        raise
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error,
            NotImplementedError, RuntimeError) as exc:
        raise FileRefused(f"not a readable .npz file ({_first_line(str(exc)) or type(exc).__name__})",
                          file=name) from None
    for member, array in arrays.items():
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            raise FileRefused("expected finite numbers, found inf or nan", file=name, key=member)
    return arrays


def _first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit] + "..."


def _size(nbytes: int) -> str:
    for unit, scale in (("GiB", 1024 ** 3), ("MiB", MIB), ("KiB", 1024)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} B"
