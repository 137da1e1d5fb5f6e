"""Editing ``album.toml`` by program: the running order, gaps, codes and CD-Text, checked as typed.

The control room's Album view edits through this; the file stays the engineer's (tomlkit
keeps comments and layout). Every field has a check (:func:`check_field`) that says in one
line what is wrong with a value while it is being typed, with the same rules
:func:`hybrid.files.deliver.album.load_album` applies. A save is atomic and refuses to
overwrite a change made to the file since it was read (an editor, another engineer):
the message names the file, and nothing is lost.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from hybrid.errors import HybridError
from hybrid.files.deliver.album import (ALBUM_SPEC, CREDIT_KEYS, MASTER_ID_MAX_CHARS, MAX_PREGAP_S, cdtext_problem,
                                         parse_position)
from hybrid.files.deliver.codes import format_isrc, normalize_isrc, normalize_upc
from recall.errors import RecallError
from recall.paths import StudioPaths
from recall.tomlio import parse_toml, read_text, save_text

TEXT_KEYS = ("title", "performer", *CREDIT_KEYS)
ALBUM_FIELDS = ("title", "performer", "upc", "master_id", "genre", "disc_id", *CREDIT_KEYS)
TRACK_FIELDS = ("title", "performer", "isrc", "pregap_s", "start", *CREDIT_KEYS)


def check_field(key: str, text: str) -> tuple[Any, str | None]:
    """``(value to store, None)`` for a good entry, ``(None, why)`` for a bad one.

    An empty text means "remove the key" (the default applies) and is always good."""
    text = text.strip()
    if not text:
        return None, None
    if key == "isrc":
        try:
            return format_isrc(normalize_isrc(text)), None
        except ValueError as exc:
            return None, str(exc)
    if key == "upc":
        try:
            return normalize_upc(text), None
        except ValueError as exc:
            return None, str(exc)
    if key == "pregap_s":
        try:
            seconds = float(text)
        except ValueError:
            return None, f"{text!r}: expected seconds, e.g. 2 or 0.5 (0 joins the tracks gaplessly)"
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_PREGAP_S:
            return None, f"{text}: expected 0 to {MAX_PREGAP_S:g} seconds"
        frames = seconds * 75
        if abs(frames - round(frames)) > 1e-6:
            return None, f"{text} s is not a whole CD frame (1/75 s): try {round(frames) / 75:.4f}"
        return seconds, None
    if key == "start":
        try:
            parse_position(text, "start")
        except ValueError as exc:
            return None, str(exc)
        return text, None
    if key == "master_id":
        if len(text) > MASTER_ID_MAX_CHARS or not text.isascii():
            return None, f"expected at most {MASTER_ID_MAX_CHARS} ASCII characters"
        return text, None
    why = cdtext_problem(text)
    return (None, why) if why else (text, None)


class AlbumDoc:
    """One album.toml, read once, edited in memory, saved atomically if nobody else saved it."""

    def __init__(self, studio: str | Path, name: str) -> None:
        self.name = name
        self.path = StudioPaths(studio).album(name).file
        try:
            self._disk = read_text(self.path)
            self.doc = parse_toml(self._disk, display=str(self.path))
        except RecallError as exc:
            raise HybridError(exc.reason, where=str(self.path)) from None
        tracks = self.doc.get("tracks")
        if tracks is not None and not isinstance(tracks, AoT):
            raise HybridError("tracks: expected [[tracks]] tables", where=str(self.path))
        self.dirty = False

    @property
    def tracks(self) -> list[Table]:
        tracks = self.doc.get("tracks")
        return list(tracks) if isinstance(tracks, AoT) else []

    def get(self, track: int | None, key: str) -> str:
        table = self.doc if track is None else self.tracks[track]
        value = table.get(key)
        return "" if value is None else str(value)

    def set(self, track: int | None, key: str, text: str) -> Any:
        """Set ``key`` (of the album, or of track index ``track``) from ``text``; HybridError
        naming the file and key when the value is refused."""
        fields = ALBUM_FIELDS if track is None else TRACK_FIELDS
        where = key if track is None else f"tracks[{track}].{key}"
        if key not in fields:
            raise HybridError(f"{where}: not an editable field (expected one of {', '.join(fields)})",
                              where=str(self.path))
        value, why = check_field(key, text)
        if why is not None:
            raise HybridError(f"{where}: {why}", where=str(self.path))
        table = self.doc if track is None else self.tracks[track]
        if value is None:
            if key in table:
                del table[key]
        else:
            table[key] = value
        self.dirty = True
        return value

    def move(self, track: int, delta: int) -> int:
        """Move track index ``track`` by ``delta`` places in the running order; its new index."""
        tracks = self.doc.get("tracks")
        if not isinstance(tracks, AoT) or not 0 <= track < len(tracks):
            raise HybridError(f"no track {track + 1} to move", where=str(self.path))
        new = max(0, min(len(tracks) - 1, track + delta))
        if new == track:
            return track
        order = [t.copy() for t in tracks]
        order.insert(new, order.pop(track))
        fresh = tomlkit.aot()
        for table in order:
            fresh.append(table)
        self.doc["tracks"] = fresh
        self.dirty = True
        return new

    def save(self) -> bool:
        """Write the file if it changed; refuse (HybridError) when someone saved it meanwhile."""
        if not self.dirty:
            return False
        try:
            now = read_text(self.path)
        except RecallError as exc:
            raise HybridError(exc.reason, where=str(self.path)) from None
        if now != self._disk:
            raise HybridError("changed on disk since it was read (an editor?); reload it and make "
                              "the change again: nothing was overwritten", where=str(self.path))
        text = tomlkit.dumps(self.doc)
        try:
            save_text(self.path, text)
        except RecallError as exc:
            raise HybridError(exc.reason, where=str(self.path)) from None
        self._disk = text
        self.dirty = False
        return True


def record_masters(studio: str | Path, name: str, files: dict[str, str]) -> list[str]:
    """Point each track of album ``name`` whose song is in ``files`` (song -> master, relative to
    the album folder) at that file: ``file = "masters/<song>.wav"``, so ``hybrid deliver master``
    takes it. The songs recorded, in running order.

    Written through :class:`AlbumDoc`: comments and hand edits are kept, the save is atomic,
    and a change saved by someone else meanwhile is never overwritten (the file is read
    again and the keys set on the new text, once; a second clash is refused naming the file).
    An album with one continuous ``master`` has no per-track files: nothing is written.
    """
    for attempt in range(2):
        doc = AlbumDoc(studio, name)
        if "master" in doc.doc:
            return []
        done = []
        for table in doc.tracks:
            song = table.get("song")
            if isinstance(song, str) and song in files:
                if table.get("file") != files[song]:
                    table["file"] = files[song]
                    doc.dirty = True
                done.append(song)
        try:
            doc.save()
        except HybridError:
            if attempt:
                raise
            continue
        return done
    return []


def new_album(studio: str | Path, title: str, songs: list[str], *, like: str | None = None) -> str:
    """Create ``albums/<slug of title>/`` for ``songs`` (slugs, in running order) and return its name.

    album.toml gets the title and one track per song (each takes its master from
    ``masters/<song>.wav`` once printed). With ``like`` (another album's name) it also gets
    that album's performer, a copy of its mastering chain (mastering.toml), and a mastering
    sheet per song: the song's own sheet there if it has one, else the sheet of ``like``'s
    first track, as a starting point to adjust. Refused in one line, writing nothing: a
    title CD-Text cannot carry, an album that exists, a song the studio does not have.
    """
    from recall.store import sheet_path, slugify

    paths = StudioPaths(studio)
    why = cdtext_problem(title.strip()) if title.strip() else "the album needs a title"
    if why:
        raise HybridError(f"title: {why}", where=str(paths.albums))
    name = slugify(title)
    album = paths.album(name)
    if album.folder.exists():
        raise HybridError(f"album {name!r} exists already", where=str(album.folder))
    if not songs:
        raise HybridError("an album needs at least one song", where=str(album.folder))
    for song in songs:
        if not sheet_path(studio, song).is_file():
            raise HybridError(f"no song {song!r} in this studio", where=str(album.folder))
    doc = tomlkit.document()
    doc["spec"] = ALBUM_SPEC
    doc["title"] = title.strip()
    copies: dict[Path, str] = {}
    if like is not None:
        source = paths.album(like)
        try:
            template = parse_toml(read_text(source.file), display=str(source.file))
        except RecallError as exc:
            raise HybridError(f"album {like!r} to copy from: {exc.reason}", where=str(source.file)) from None
        if isinstance(template.get("performer"), str):
            doc["performer"] = template["performer"]
        if source.mastering.is_file():
            copies[album.mastering] = read_text(source.mastering)
        first = next((t.get("song") for t in template.get("tracks", []) if isinstance(t, dict)), None)
        fallback = source.sheets / f"{first}.toml" if isinstance(first, str) else None
        for song in songs:
            own = source.sheets / f"{song}.toml"
            chosen = own if own.is_file() else fallback
            if chosen is not None and chosen.is_file():
                copies[album.sheets / f"{song}.toml"] = read_text(chosen)
    tracks = tomlkit.aot()
    for song in songs:
        track = tomlkit.table()
        track["song"] = song
        tracks.append(track)
    doc["tracks"] = tracks
    try:
        (album.sheets if copies else album.folder).mkdir(parents=True)
        for path, text in copies.items():
            save_text(path, text)
        save_text(album.file, tomlkit.dumps(doc))   # last: an album exists once its album.toml does
    except (OSError, RecallError) as exc:
        shutil.rmtree(album.folder, ignore_errors=True)
        reason = exc.reason if isinstance(exc, RecallError) else (exc.strerror or str(exc))
        raise HybridError(f"cannot create the album: {reason}", where=str(album.folder)) from None
    return name
