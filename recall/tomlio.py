"""Reading TOML with tomlkit (so comments survive) and saving recall's files.

Saves go through :mod:`recall.atomic` (temp file, fsync, rename; temporaries of killed
saves cleaned by the next save); :func:`save_text` turns a failure into a RecallError.
"""

from __future__ import annotations

import os
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError
from tomlkit.toml_document import TOMLDocument

from devices import safe_read
from recall.atomic import atomic_write_text
from recall.errors import RecallError


def read_text(path: str | os.PathLike[str], *, display: str | None = None) -> str:
    """The file's text through devices.safe_read (special files refused, size cap, UTF-8);
    a file that cannot be read raises RecallError (file, reason)."""
    name = display or safe_read.display_path(path)
    if not os.path.lexists(path):
        raise RecallError("file not found", file=name)
    try:
        return safe_read.read_text(path, file=name)
    except safe_read.FileRefused as exc:
        raise RecallError(exc.reason, file=exc.file, key=exc.key) from None


def read_toml(path: str | os.PathLike[str], *, display: str | None = None) -> TOMLDocument:
    """Parse ``path`` keeping comments and layout; a bad file raises RecallError (file, line, reason)."""
    name = display or safe_read.display_path(path)
    return parse_toml(read_text(path, display=name), display=name)


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


def save_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` atomically (recall.atomic); a failure is a RecallError naming the file."""
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise RecallError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None


def write_toml(path: str | os.PathLike[str], doc: TOMLDocument) -> None:
    save_text(path, tomlkit.dumps(doc))


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
