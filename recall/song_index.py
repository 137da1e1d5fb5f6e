"""What the song list shows of each sheet, cached, so a studio of thousands of songs lists in
a fraction of a second (``.state/song-index.json``).

One entry per song folder, keyed by the stat (mtime in ns, size, inode) of its sheet and of
its history folder: a sheet changed by any writer (hybrid, an editor, a sync tool) has a new
stat and is read again, and so is a song whose history gained or lost a version. The stat is
taken before the sheet is read, so a change made while it is read is caught by the next
listing. A missing, corrupt or older index is rebuilt; a studio that cannot be written is
listed without one (the index is only ever a cache of the sheets).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from devices import safe_read
from recall.atomic import atomic_write_text
from recall.errors import RecallError
from recall.paths import SongPaths, StudioPaths

INDEX_VERSION = 1
MAX_INDEX_BYTES = 64 * 1024 * 1024
FIELDS = ("title", "artist", "album", "stage", "samplerate", "tracks", "devices", "versions", "problems")
"""What an entry holds of a song's summary (``recall.store.SongSummary``); problems as dicts."""


def _stat(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


class SongIndex:
    """The index of one studio: ``get`` what is cached for a song, ``put`` what was read, ``save``."""

    def __init__(self, paths: StudioPaths) -> None:
        self.path = paths.song_index
        self.entries = self._load()
        self.seen: set[str] = set()
        self.changed = False

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(safe_read.read_bytes(self.path, max_bytes=MAX_INDEX_BYTES).decode("utf-8"))
        except (safe_read.FileRefused, UnicodeDecodeError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
            return {}
        songs = data.get("songs")
        return songs if isinstance(songs, dict) else {}

    @staticmethod
    def key(song: SongPaths) -> list[Any]:
        """What must not have changed for an entry to hold: the sheet's and the history's stat."""
        return [_stat(song.sheet), _stat(song.history)]

    def get(self, slug: str, key: list[Any]) -> dict[str, Any] | None:
        self.seen.add(slug)
        entry = self.entries.get(slug)
        if not isinstance(entry, dict) or entry.get("key") != key or key[0] is None:
            return None
        fields = entry.get("fields")
        if not isinstance(fields, dict) or set(fields) != set(FIELDS):
            return None
        return fields

    def put(self, slug: str, key: list[Any], fields: dict[str, Any]) -> None:
        self.seen.add(slug)
        if key[0] is None:
            return
        self.entries[slug] = {"key": key, "fields": {name: fields[name] for name in FIELDS}}
        self.changed = True

    def save(self) -> None:
        """Write the index if anything changed (songs gone are dropped); a failed write is let go."""
        gone = set(self.entries) - self.seen
        for slug in gone:
            del self.entries[slug]
        if not (self.changed or gone):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps({"version": INDEX_VERSION, "songs": self.entries},
                                                    ensure_ascii=False, separators=(",", ":")))
        except (OSError, RecallError):
            pass          # a read-only studio: listed from the sheets every time
