"""Archive entry names: which are safe, which are stems, junk, other files or archives.

Every archive format goes through the same rules, so a .zip and a .rar are judged alike.
Stems land flat in ``stems/`` under their own file name (folders in the archive are
dropped), so two entries that end up with the same name, or names differing only in
case (which clash on macOS and Windows disks), are a refusal: nobody can tell which one
the client meant.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from hybrid.files.intake.report import Refusal

WAV_EXTENSIONS = {".wav", ".wave", ".bwf", ".rf64"}
OTHER_AUDIO_EXTENSIONS = {
    ".aif", ".aiff", ".aifc", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus",
    ".wma", ".caf", ".w64", ".sd2", ".alac", ".mp2", ".ac3", ".dsf", ".dff",
}
ARCHIVE_EXTENSIONS = {
    ".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz",
    ".zst", ".lz", ".lzma", ".z", ".cab", ".dmg", ".sit", ".sitx", ".iso", ".cpio", ".arj",
}
JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini", ".localized", "icon\r"}
JUNK_FOLDERS = {"__macosx", ".spotlight-v100", ".trashes", ".fseventsd"}

_DRIVE = re.compile(r"^[A-Za-z]:")
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')


@dataclass(frozen=True)
class Entry:
    """One archive entry as the archive declares it (before a byte is unpacked)."""

    name: str
    """The raw name in the archive."""
    kind: str
    """file | dir | symlink | hardlink | device | fifo | other"""
    size: int | None = None
    """Declared uncompressed size (a hint only; never trusted for safety)."""
    compressed_size: int | None = None
    encrypted: bool = False


def safe_parts(raw: str) -> tuple[str, ...]:
    """The entry's path components, or a Refusal if the name could escape the song folder.

    Refused: empty names (zipfile cuts a name at a NUL, so a NUL-led name arrives empty),
    NUL and control characters, absolute names (``/x``, ``\\x``), drive letters
    (``C:x``), UNC names, and any ``..`` component. Backslashes count as separators (Windows
    zip tools write them), empty and ``.`` components are dropped.
    """
    if not raw:
        raise Refusal("an entry has an empty name (or one that starts with a NUL byte)",
                      member=None, rule="path")
    if "\x00" in raw:
        raise Refusal("name contains a NUL byte", member=raw.replace("\x00", "\\0"), rule="path")
    name = raw.replace("\\", "/")
    if name.startswith("/"):
        raise Refusal("absolute path in the archive", member=raw, rule="path")
    if _DRIVE.match(name):
        raise Refusal("drive-letter path in the archive", member=raw, rule="path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise Refusal("path climbs out of the archive folder ('..')", member=raw, rule="path")
    if any(_DRIVE.match(p) for p in parts[:1]):
        raise Refusal("drive-letter path in the archive", member=raw, rule="path")
    return parts


def classify(parts: tuple[str, ...]) -> str:
    """``junk`` (dropped quietly), ``wav``, ``audio`` (not WAV), ``archive`` or ``other``."""
    if not parts:
        return "junk"
    lowered = [p.lower() for p in parts]
    base = lowered[-1]
    if any(p in JUNK_FOLDERS for p in lowered[:-1]) or base in JUNK_NAMES or base.startswith("._"):
        return "junk"
    suffix = PurePosixPath(base).suffix
    if suffix in WAV_EXTENSIONS:
        return "wav"
    if suffix in OTHER_AUDIO_EXTENSIONS:
        return "audio"
    if suffix in ARCHIVE_EXTENSIONS:
        return "archive"
    return "other"


def stem_filename(parts: tuple[str, ...]) -> str:
    """The file name a stem gets in ``stems/``: the entry's own name, NFC, ``.wav`` extension.

    Characters that some file systems refuse (``<>:"|?*`` and control characters) become
    ``_``; leading dots and surrounding spaces go, so a stem is never a hidden file.
    """
    base = unicodedata.normalize("NFC", parts[-1])
    stem = PurePosixPath(base).stem
    stem = _UNSAFE_CHARS.sub("_", stem).strip().lstrip(".").strip()
    if not stem:
        stem = "stem"
    return f"{stem}.wav"


def clash_key(filename: str) -> str:
    """Two stems with the same key would collide on a case-insensitive disk."""
    return unicodedata.normalize("NFC", filename).casefold()
