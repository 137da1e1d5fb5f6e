"""The songs of a studio on disk: create, load, save with history, list, copy.

Layout (docs/CONTRACTS.md): ``songs/<slug>/sheet.toml`` and ``songs/<slug>/history/``.
Every save that changes the file first puts the previous text in the history folder as
``<UTC time>.toml`` (e.g. ``20261121T140312.250113Z.toml``), then writes the new sheet
atomically (recall.atomic) and keeps that text in the history too; a sheet that does not
pass its checks is refused and the file on disk (the last good version) is left as it was.
The newest history file is not listed while it is what the sheet holds, so
:func:`history` lists earlier versions; once an editor overwrites the sheet, hybrid's
last save shows in the history (it is never lost).

Concurrent edits: a sheet remembers the text it was loaded from. When the file on disk
changed since (someone saved it in an editor), :func:`save_sheet` merges (recall.merge):
keys only one side changed are kept from that side; a key both changed differently is a
:class:`SheetConflict` naming the file, the key and both values, and nothing is written.

Version references used by :func:`read_version` and the CLI: ``current`` (the sheet on
disk), ``1``, ``2``, ... (history, oldest first), ``-1``, ``-2``, ... (the latest previous
versions), or a history file's name (with or without ``.toml``).
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any
from datetime import datetime, UTC
from pathlib import Path

from recall.atomic import is_temp, writer_lock
from recall.errors import Problem, RecallError, RecallProblems, key_path
from recall.merge import merge_documents
from recall.paths import SongPaths, StudioPaths
from recall.sheet import MIX_FULL, Mix, Sheet, validate_sheet
from recall.song_index import SongIndex
from recall.state import StudioState
from recall.studio import Studio
from recall.tomlio import parse_toml, read_text, save_text

SAVE_ATTEMPTS = 3
"""How often a save re-reads and merges when the file changes again while it saves."""


class SheetConflict(RecallProblems):
    """The sheet changed on disk since it was loaded and this save changes the same keys
    differently; one Problem per key (file, key, both values). Nothing was written."""


SLUG_MAX_CHARS = 80
"""A song folder's name stays well under file systems' 255-byte limit (4 bytes a character)."""


def slugify(title: str) -> str:
    """A folder-safe slug of a title: "Night Drive (Remix)" -> "night-drive-remix"."""
    out = []
    for ch in unicodedata.normalize("NFC", title):
        folded = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode("ascii")
        if folded:  # Latin letters lose their accents: "Café" -> "cafe"
            out.append(re.sub(r"[^a-z0-9]+", "-", folded.lower()))
        elif ch.isalnum() or unicodedata.category(ch).startswith("M"):
            out.append(ch.lower())  # any other script is kept: "夜のドライブ", "Ночь"
        else:
            out.append("-")
    slug = re.sub(r"-+", "-", unicodedata.normalize("NFC", "".join(out))).strip("-")
    return slug[:SLUG_MAX_CHARS].rstrip("-") or "song"


def _root(studio: Studio | str | Path) -> Path:
    return studio.root if isinstance(studio, Studio) else Path(studio).expanduser().resolve()


def song_paths(studio: Studio | str | Path, song: str) -> SongPaths:
    """The files of ``song`` (a slug, or a title that slugifies to one)."""
    paths = StudioPaths(_root(studio))
    exact = paths.song(song)
    return exact if song and exact.sheet.is_file() else paths.song(slugify(song))


def song_dir(studio: Studio | str | Path, song: str) -> Path:
    """The folder of ``song`` (a slug, or a title that slugifies to one)."""
    return song_paths(studio, song).folder


def sheet_path(studio: Studio | str | Path, song: str) -> Path:
    return song_paths(studio, song).sheet


def create_song(studio_dir: Studio | str | Path, title: str, *, artist: str = "", album: str = "",
                samplerate: int, tracks: dict[str, str]) -> Path:
    """Create ``songs/<slug>/sheet.toml`` for a new song; returns the sheet's path.

    ``tracks`` maps a track name ("1Kick") to its file relative to the song folder
    ("stems/1Kick.wav"), in running order. Refuses a song that already exists.
    """
    root = _root(studio_dir)
    paths = StudioPaths(root)
    if not paths.is_studio():
        raise RecallError("not a studio folder (no studio.toml; create one with `hybrid init DIR`)",
                          file=str(root))
    if not isinstance(title, str) or not title.strip():
        raise RecallError("a song needs a title", file=str(paths.songs), key="song.title")
    song = paths.song(slugify(title))
    path = song.sheet
    if path.exists():
        raise RecallError(f"song {title!r} already exists", file=str(path))
    for name, file in tracks.items():
        if Path(file).is_absolute() or ".." in Path(file).parts:
            raise RecallError(f"track file {file!r} must be relative to the song folder",
                              file=str(path), key=key_path("tracks", name, "file"))
    sheet = Sheet.new(title.strip(), artist=artist, album=album, samplerate=samplerate, tracks=tracks)
    sheet.file = str(path)
    save_text(path, sheet.dumps())
    return path


def load_sheet(studio: Studio | str | Path, song: str) -> Sheet:
    """Load a song's sheet (structure checked). A broken file names the last good version."""
    path = sheet_path(studio, song)
    if not path.is_file():
        raise RecallError(f"no song {song!r} in this studio", file=str(path.parent))
    try:
        return Sheet.load(path)
    except RecallError as exc:
        good = last_good_version(path.parent)
        if good is not None:
            hint = f"; last good version: {good.relative_to(path.parent)}"
            if isinstance(exc, RecallProblems):
                first = exc.problems[0]
                exc.problems[0] = Problem(first.file, first.key, first.reason + hint)
            else:
                exc.reason += hint
        raise


def save_sheet(sheet: Sheet, path: Path | str | None = None, *, studio: Studio | None = None) -> bool:
    """Save ``sheet`` atomically, keeping the previous text in ``history/``.

    Checks the structure (and, given ``studio``, devices, parameters and ranges) first;
    a failing sheet raises RecallProblems and nothing on disk changes. When the file
    changed on disk since the sheet was loaded, the two are merged key by key (see the
    module docstring; ``sheet`` then holds the merge) or SheetConflict is raised. Returns
    False when the text is unchanged (no new version is made).
    """
    path = Path(path or sheet.file or "")
    if not path.name:
        raise RecallError("the sheet has no file to save to")
    same_file = sheet.file is not None and Path(sheet.file).resolve() == path.resolve()
    sheet.file = str(path)
    base = sheet.loaded_text if same_file else None
    sheet.merged_from_disk = []
    problems = validate_sheet(sheet, studio) if studio is not None else sheet.structure_problems()
    if problems:
        raise RecallProblems(problems)
    try:
        with writer_lock(path):
            return _save_locked(sheet, path, base, studio)
    except (OSError, TimeoutError) as exc:
        raise RecallError(f"cannot save: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}",
                          file=str(path)) from None


def _save_locked(sheet: Sheet, path: Path, base: str | None, studio: Studio | None) -> bool:
    for _attempt in range(SAVE_ATTEMPTS):
        old = _read_current(path)
        if base is not None and old is not None and old != base:
            _merge_from_disk(sheet, base, old, studio)
            base = old
        text = sheet.dumps()
        _check_text(text, str(path))  # what we write must read back
        if old == text:
            sheet.loaded_text = text
            return False
        if old is not None:
            _keep_history(path.parent, old)
        if _read_current(path) != old:
            continue  # written again while we saved: merge that too
        save_text(path, text)
        _keep_history(path.parent, text)
        sheet.loaded_text = text
        return True
    raise RecallError(f"the file keeps changing while it is saved ({SAVE_ATTEMPTS} tries); save again",
                      file=str(path))


def _read_current(path: Path) -> str | None:
    try:
        return read_text(path)
    except RecallError:
        if not path.exists():
            return None
        raise


def _merge_from_disk(sheet: Sheet, base: str, disk: str, studio: Studio | None) -> None:
    """Carry this sheet's changes since ``base`` into the text on disk; SheetConflict when both
    changed a key differently (nothing written, ``sheet`` unchanged)."""
    file = sheet.file
    try:
        base_doc = parse_toml(base, display=file)
        theirs = parse_toml(disk, display=file)
    except RecallError as exc:
        raise RecallError(f"changed on disk since it was loaded, and the file on disk does not parse "
                          f"({exc.reason}): fix it or move it away, then save again", file=file) from None
    mine = parse_toml(sheet.dumps(), display=file)
    merge = merge_documents(base_doc, theirs, mine)
    if merge.conflicts:
        raise SheetConflict([Problem(file, c.key, c.text) for c in merge.conflicts])
    merged = Sheet(theirs, file=file, loaded_text=sheet.loaded_text)
    problems = validate_sheet(merged, studio) if studio is not None else merged.structure_problems()
    if problems:
        raise SheetConflict([Problem(p.file, p.key, "changed on disk since it was loaded; merged with this "
                                     f"save it would be wrong: {p.reason}") for p in problems])
    sheet.doc = theirs
    sheet.merged_from_disk = merge.from_disk


def _check_text(text: str, file: str) -> None:
    """The text about to be written parses and passes the structure checks (tomllib: fast)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecallError(f"refusing to write text that does not read back: {exc}", file=file) from None
    problems = Sheet(data, file=file).structure_problems()
    if problems:
        raise RecallProblems(problems)


def _keep_history(folder: Path, text: str) -> Path | None:
    """Put ``text`` in the history, unless the newest version there is that text already."""
    hist = SongPaths(folder).history
    files = _history_files(hist)
    if files and _same_text(files[-1], text):
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    target = hist / f"{stamp}.toml"
    n = 1
    while target.exists() or (files and _order(target) <= _order(files[-1])):
        target = hist / f"{stamp}-{n}.toml"
        n += 1
    save_text(target, text)
    return target


def _same_text(path: Path, text: str) -> bool:
    try:
        return read_text(path) == text
    except RecallError:
        return False


def _order(path: Path) -> tuple[str, int]:
    """History files in time order: ``<stamp>.toml`` then ``<stamp>-1.toml``, ``<stamp>-2.toml`` ..."""
    stem, _, n = path.stem.partition("-")
    return (stem, int(n) if n.isdigit() else 0)


def _history_files(hist: Path) -> list[Path]:
    if not hist.is_dir():
        return []
    return sorted((p for p in hist.glob("*.toml") if not is_temp(p)), key=_order)


@dataclass
class Version:
    """One earlier version of a sheet: ``number`` 1 is the oldest."""

    number: int
    name: str
    path: Path
    saved_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "name": self.name, "path": str(self.path), "saved_at": self.saved_at}


def history(studio: Studio | str | Path, song: str) -> list[Version]:
    """Earlier versions of a song's sheet, oldest first."""
    return _versions(song_dir(studio, song))


def _versions(folder: Path) -> list[Version]:
    song = SongPaths(folder)
    files = _history_files(song.history)
    if files:
        try:
            current = read_text(song.sheet)
        except RecallError:
            current = None
        if current is not None and _same_text(files[-1], current):
            files.pop()  # hybrid's own last save, which the sheet still holds: not an earlier version
    out = []
    for i, p in enumerate(files, 1):
        m = re.match(r"(\d{8})T(\d{6})", p.stem)
        when = (datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
                .isoformat().replace("+00:00", "Z")) if m else ""
        out.append(Version(number=i, name=p.stem, path=p, saved_at=when))
    return out


def last_good_version(folder: Path) -> Path | None:
    for version in reversed(_versions(folder)):
        try:
            Sheet.load(version.path)
        except RecallError:
            continue
        return version.path
    return None


def read_version(studio: Studio | str | Path, song: str, ref: str) -> Sheet:
    """The sheet as it was at ``ref`` (see the module docstring for the forms of ``ref``)."""
    folder = song_dir(studio, song)
    if ref in ("current", "now", "sheet"):
        return load_sheet(studio, song)
    versions = _versions(folder)
    chosen = None
    if re.fullmatch(r"-?\d+", ref):
        n = int(ref)
        if n > 0 and n <= len(versions):
            chosen = versions[n - 1]
        elif n < 0 and -n <= len(versions):
            chosen = versions[n]
    else:
        stem = ref[:-5] if ref.endswith(".toml") else ref
        chosen = next((v for v in versions if v.name == stem), None)
    if chosen is None:
        raise RecallError(f"no version {ref!r} (there are {len(versions)}: use current, 1..{len(versions)}, "
                          "-1 for the latest earlier one, or a history file name)",
                          file=str(SongPaths(folder).history))
    return Sheet.load(chosen.path)


@dataclass
class SongSummary:
    """A song as the song list shows it. ``problems`` non-empty means the sheet is broken."""

    slug: str
    path: Path
    title: str = ""
    artist: str = ""
    album: str = ""
    stage: str = ""
    samplerate: int = 0
    tracks: int = 0
    devices: int = 0
    versions: int = 0
    last_recalled: str | None = None
    last_recall_ok: bool | None = None
    last_printed: str | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"slug": self.slug, "path": str(self.path), "title": self.title, "artist": self.artist,
                "album": self.album, "stage": self.stage, "samplerate": self.samplerate,
                "tracks": self.tracks, "devices": self.devices, "versions": self.versions,
                "last_recalled": self.last_recalled, "last_recall_ok": self.last_recall_ok,
                "last_printed": self.last_printed, "ok": self.ok,
                "problems": [p.to_dict() for p in self.problems]}


def list_songs(studio: Studio | str | Path) -> list[SongSummary]:
    """Every song folder with a sheet, by album then title; broken sheets are listed with their problems."""
    paths = StudioPaths(_root(studio))
    songs = paths.songs
    state = StudioState(paths.state)
    try:
        recalls = state.recalls()
    except RecallError:
        recalls = {}
    # Without a Studio to validate against, what the list shows of a sheet comes from the
    # song index where the sheet has not changed since (recall.song_index).
    validate = isinstance(studio, Studio)
    index = None if validate else SongIndex(paths)
    out = []
    for folder in sorted(songs.iterdir()) if songs.is_dir() else []:
        song = SongPaths(folder)
        path = song.sheet
        if not os.path.lexists(path):
            continue
        summary = SongSummary(slug=folder.name, path=path, title=folder.name)
        key = SongIndex.key(song) if index is not None else []
        cached = index.get(folder.name, key) if index is not None else None
        if cached is None or not _summary_from(summary, cached):
            summary.versions = len(_versions(folder))
            try:
                sheet = Sheet.peek(path)
            except RecallProblems as exc:
                summary.problems = exc.problems
            except RecallError as exc:
                summary.problems = [Problem(exc.file, exc.key, exc.reason)]
            else:
                summary.title = sheet.title
                summary.artist = sheet.artist
                summary.album = sheet.album
                summary.stage = sheet.stage
                summary.samplerate = sheet.samplerate
                summary.tracks = len(sheet.tracks)
                summary.devices = len(sheet.device_names)
                if isinstance(studio, Studio):
                    summary.problems = validate_sheet(sheet, studio)
            if index is not None:
                index.put(folder.name, key, summary.to_dict())
        recall = recalls.get(folder.name)
        if isinstance(recall, dict):
            summary.last_recalled = recall.get("at")
            summary.last_recall_ok = recall.get("ok")
        prints = [p.stat().st_mtime for p in song.prints.glob("*.wav")] if song.prints.is_dir() else []
        if prints:
            summary.last_printed = (datetime.fromtimestamp(max(prints), UTC)
                                    .isoformat(timespec="seconds").replace("+00:00", "Z"))
        out.append(summary)
    if index is not None:
        index.save()
    out.sort(key=lambda s: (s.album.lower(), s.title.lower()))
    return out


def _summary_from(summary: SongSummary, fields: dict[str, Any]) -> bool:
    """Fill ``summary`` from a song index entry (``SongSummary.to_dict``'s fields); False (and
    ``summary`` untouched) for an entry that is not what the index writes."""
    try:
        texts = [fields[name] for name in ("title", "artist", "album", "stage")]
        numbers = [fields[name] for name in ("samplerate", "tracks", "devices", "versions")]
        problems = [Problem(p["file"], p["key"], p["reason"]) for p in fields["problems"]]
    except (KeyError, TypeError):
        return False
    if not (all(isinstance(t, str) for t in texts) and all(type(n) is int for n in numbers)
            and all(isinstance(p.reason, str) for p in problems)):
        return False
    summary.title, summary.artist, summary.album, summary.stage = texts
    summary.samplerate, summary.tracks, summary.devices, summary.versions = numbers
    summary.problems = problems
    return True


def _copy_files(src_folder: Path, dst_folder: Path, rel_paths: list[str]) -> None:
    """Copy files named relative to one song folder into another (existing files are kept)."""
    for rel in rel_paths:
        source, target = src_folder / rel, dst_folder / rel
        if source.is_file() and not target.exists() and ".." not in Path(rel).parts:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def copy_sheet(studio: Studio | str | Path, source: str, target: str, *, title: str | None = None) -> Path:
    """Start ``target`` from ``source``'s settings (an album shares most of them).

    Copies device values, device notes and photos (the files too), the insert chains of tracks with
    the same name, ``[mix]`` for the stems both songs have (their summing inputs, and each
    variant with the mutes that still apply), and the checklist (unticked). An existing target keeps its own
    title, artist, tracks and files, and its previous text goes to its history. A new
    target (``title`` or ``target`` as the title) gets the source's artist, album and
    sample rate and no tracks (intake adds them).
    """
    src = load_sheet(studio, source)
    root = _root(studio)
    target_path = sheet_path(root, target)
    if target_path.is_file():
        return _copy_into(studio, src, load_sheet(root, target), target_path, sheet_path(root, source))
    new_title = title or target
    target_path = create_song(root, new_title, artist=src.artist, album=src.album,
                              samplerate=src.samplerate, tracks={})
    try:
        return _copy_into(studio, src, Sheet.load(target_path), target_path, sheet_path(root, source))
    except BaseException:  # a full or read-only disk part-way: no half-made song stays behind
        shutil.rmtree(target_path.parent, ignore_errors=True)
        raise


def _copy_into(studio: Studio | str | Path, src: Sheet, dst: Sheet, target_path: Path,
               src_path: Path) -> Path:
    if target_path.resolve() == src_path.resolve():
        raise RecallError("source and target are the same song", file=str(target_path))
    for dev in src.device_names:
        dst.remove_device(dev)
        dst.set_values(dev, src.values(dev))
        if src.device_notes(dev):
            dst.set_device_notes(dev, src.device_notes(dev))
        if src.device_photos(dev):
            dst.set_device_photos(dev, src.device_photos(dev))
            _copy_files(src_path.parent, target_path.parent, src.device_photos(dev))
    src_chains = {t.name: t.inserts for t in src.tracks}
    for track in dst.tracks:
        if track.name in src_chains:
            dst.set_inserts(track.name, [replace(i, devices=list(i.devices)) for i in src_chains[track.name]])
    if src.mix is not None:
        names = {t.name for t in dst.tracks}
        inputs = {stem: number for stem, number in src.mix.inputs.items() if stem in names}
        if inputs:   # the summing inputs of the stems both have; a variant keeps the mutes it still can
            variants = {}
            for variant, muted in src.mix.variants.items():
                kept = [stem for stem in muted if stem in inputs]
                if variant == MIX_FULL or kept:
                    variants[variant] = kept
            dst.set_mix(Mix(inputs, variants, src.mix.null_limit_db))
    existing = {c.item for c in dst.checklist}
    for item in src.checklist:
        if item.item not in existing:
            dst.check(item.item, False)
    save_sheet(dst, target_path, studio=studio if isinstance(studio, Studio) else None)
    return target_path


