"""Deliverable file names: "Artist - Title (Kind).wav", safe on every file system.

Clients, distributors and plants read these names, so they carry the credit as
written (spaces, accents, capitals kept) and lose only what a file system refuses:
path separators, the characters Windows forbids, control characters, and trailing
dots or spaces.
"""

from __future__ import annotations

import re
import unicodedata

_FORBIDDEN = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
MAX_NAME_CHARS = 200


def safe_component(text: str) -> str:
    """``text`` as one path component: forbidden characters become "-", spacing collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = _FORBIDDEN.sub("-", text)
    text = re.sub(r"\s+", " ", text).strip().rstrip(". ")
    return text[:MAX_NAME_CHARS] or "untitled"


def deliverable_name(artist: str, title: str, kind: str, ext: str = "wav") -> str:
    """E.g. ``deliverable_name("The Examples", "Night Drive", "Mix")`` ->
    ``"The Examples - Night Drive (Mix).wav"``. Without an artist: ``"Title (Kind).wav"``."""
    base = f"{artist} - {title}" if artist.strip() else title
    return f"{safe_component(f'{base} ({kind})')}.{ext}"


def track_file_name(number: int, performer: str, title: str, ext: str = "wav") -> str:
    """Album track names sort in running order: ``"01 Performer - Title.wav"``."""
    base = f"{performer} - {title}" if performer.strip() else title
    return f"{number:02d} {safe_component(base)}.{ext}"
