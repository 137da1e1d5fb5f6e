"""A song as deliverables see it: its sheet's ``[song]`` credits and its mix files.

Which file is the full mix and which the instrumental:
1. An explicit ``[deliver]`` table in the song's sheet wins (paths relative to the song
   folder)::

       [deliver]
       mix = "mix/Night Drive v3 FINAL.wav"
       instrumental = "mix/Night Drive v3 INST.wav"   # optional

2. Otherwise by name, among ``mix/*.wav``: a file whose name has the word
   "instrumental" (or inst, instr, karaoke, TV mix, no vox, no vocals, minus one) is the
   instrumental; of the others, the only one, or the only one named "full" or "main",
   is the full mix. Anything ambiguous is refused with the candidates listed and the
   ``[deliver]`` table suggested, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hybrid.errors import HybridError
from recall.sheet import Sheet
from recall.paths import SongPaths, StudioPaths

_WORD = r"(?<![a-z0-9]){}(?![a-z0-9])"
_INSTRUMENTAL = re.compile("|".join(_WORD.format(w) for w in (
    "instrumental", "instr", "inst", "karaoke", r"tv[ _.-]?mix", r"no[ _.-]?vox",
    r"no[ _.-]?vocals?", r"minus[ _.-]?one")))
_FULL = re.compile("|".join(_WORD.format(w) for w in ("full", "main")))
_SLUG = re.compile(r"^[^/\\\x00]+$")


@dataclass
class Song:
    slug: str
    folder: Path
    sheet_file: Path
    title: str
    artist: str
    album: str
    deliver: dict = field(default_factory=dict)


def check_name(kind: str, name: str) -> None:
    """A song or album name is one folder name under the studio, nothing else."""
    if not _SLUG.match(name) or name in (".", "..") or name.startswith("."):
        raise HybridError(f"{kind} name {name!r} must be a single folder name", where=name)


def load_song(studio: str | Path, slug: str) -> Song:
    studio = Path(studio)
    check_name("song", slug)
    if not studio.is_dir():
        raise HybridError("no such studio folder", where=str(studio))
    paths = StudioPaths(studio).song(slug)
    folder, sheet_file = paths.folder, paths.sheet
    if not sheet_file.is_file():
        raise HybridError("no sheet.toml: not a song of this studio", where=str(folder))
    sheet = Sheet.load(sheet_file)
    deliver = sheet.doc.get("deliver", {})
    deliver = deliver.unwrap() if hasattr(deliver, "unwrap") else dict(deliver)
    if not isinstance(deliver, dict):
        raise HybridError("[deliver] must be a table", where=f"{sheet_file}: deliver")
    if not sheet.title.strip():
        raise HybridError("expected a title for the deliverables' names", where=f"{sheet_file}: song.title")
    return Song(slug=slug, folder=folder, sheet_file=sheet_file, title=sheet.title,
                artist=sheet.artist, album=sheet.album, deliver=deliver)


def _declared(song: Song, key: str) -> Path | None:
    value = song.deliver.get(key)
    if value is None:
        return None
    where = f"{song.sheet_file}: deliver.{key}"
    if not isinstance(value, str) or not value.strip():
        raise HybridError("expected a path relative to the song folder", where=where)
    path = (song.folder / value).resolve()
    if song.folder.resolve() not in path.parents:
        raise HybridError(f"{value!r} is outside the song folder", where=where)
    if not path.is_file():
        raise HybridError(f"{value!r}: no such file", where=where)
    return path


def find_mix_files(song: Song) -> tuple[Path, Path | None]:
    """``(full_mix, instrumental or None)`` for ``song`` (see the module doc)."""
    mix, instrumental = _declared(song, "mix"), _declared(song, "instrumental")
    if mix is not None:
        return mix, instrumental
    mix_dir = SongPaths(song.folder).mix
    wavs = sorted(p for p in mix_dir.glob("*") if p.is_file() and p.suffix.lower() == ".wav") \
        if mix_dir.is_dir() else []
    if not wavs:
        raise HybridError("no mix WAVs (expected mix/*.wav, or a [deliver] table in the sheet)",
                          where=str(mix_dir))
    instrumentals = [p for p in wavs if _INSTRUMENTAL.search(p.stem.lower())]
    others = [p for p in wavs if p not in instrumentals]
    if len(instrumentals) > 1 and instrumental is None:
        raise HybridError(
            "several instrumentals: " + ", ".join(p.name for p in instrumentals)
            + f"; name one with instrumental = \"mix/...\" under [deliver] in {song.sheet_file}",
            where=str(mix_dir))
    if len(others) == 1:
        chosen = others[0]
    else:
        full = [p for p in others if _FULL.search(p.stem.lower())]
        if len(full) != 1:
            raise HybridError(
                ("no full mix among: " if not others else "cannot tell the full mix among: ")
                + ", ".join(p.name for p in (others or wavs))
                + f"; name it with mix = \"mix/...\" under [deliver] in {song.sheet_file}",
                where=str(mix_dir))
        chosen = full[0]
    return chosen, instrumental or (instrumentals[0] if instrumentals else None)
