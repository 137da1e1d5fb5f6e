"""Reading TOML with tomlkit (so comments survive) and writing files atomically.

A save never leaves a half-written file: the text goes to a temporary file in the same
folder, is fsynced, renamed over the target (atomic on POSIX), and the folder is fsynced
so the rename itself survives a power cut. A process killed at any point leaves either
the old file or the new one; a stray temporary file is ignored by every loader.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.toml_document import TOMLDocument

from devices import safe_read
from recall.errors import RecallError

TEMP_PREFIX = ".tmp-"


def read_toml(path: Path, *, display: str | None = None) -> TOMLDocument:
    """Parse ``path`` keeping comments and layout; a bad file raises RecallError (file, line, reason)."""
    name = display or safe_read.display_path(path)
    if not os.path.lexists(path):
        raise RecallError("file not found", file=name)
    try:
        text = safe_read.read_text(path, file=name)
    except safe_read.FileRefused as exc:
        raise RecallError(exc.reason, file=exc.file, key=exc.key) from None
    return parse_toml(text, display=name)


def parse_toml(text: str, *, display: str | None = None) -> TOMLDocument:
    """tomlkit's document of ``text``, once devices.safe_read has passed it (depth, numbers)."""
    try:
        safe_read.parse_toml(text, file=display or "")
    except safe_read.FileRefused as exc:
        raise RecallError(exc.reason, file=display, key=exc.key) from None
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        raise RecallError(f"not valid TOML: line {exc.line} column {exc.col}: {_parse_reason(exc)}",
                          file=display) from None
    except Exception as exc:  # tomlkit raises a few non-ParseError types on odd input
        raise RecallError(f"not valid TOML: {exc}", file=display) from None


def _parse_reason(exc: ParseError) -> str:
    msg = str(exc)
    cut = msg.rfind(" at line ")
    return msg[:cut] if cut > 0 else msg


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: temp file + fsync + rename + fsync of the folder."""
    path = Path(path)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name}.", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def write_toml(path: Path, doc: TOMLDocument) -> None:
    atomic_write_text(path, tomlkit.dumps(doc))


def plain(value: Any) -> Any:
    """A tomlkit item as the plain Python value it holds (anything else as it is)."""
    unwrap = getattr(value, "unwrap", None)
    return unwrap() if unwrap else value


def type_name(value: Any) -> str:
    """How a complaint names what it found: ``string 'x'``, ``number 4``, ``a table``..."""
    value = plain(value)
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
