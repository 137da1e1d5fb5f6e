"""Undo an intake the engineer refused after reading its report: the song leaves ``songs/``.

Nothing is deleted: the song folder (stems, sheet, the client note) moves in one rename
to ``STUDIO/.refused/<slug>-<UTC time>/``, where it can be looked at or moved back by
hand. Only a song that intake created and nobody has worked on is moved: a sheet with
history (saved since), printed stems or mixes mean it is a song in use, and it stays.
"""

from __future__ import annotations

import time
from pathlib import Path

from hybrid.errors import HybridError
from recall.paths import SongPaths, StudioPaths

def refuse_song(studio_dir: str | Path, song_dir: str | Path) -> Path:
    """Move the freshly taken-in ``song_dir`` out of the studio's songs; returns where it went."""
    studio = Path(studio_dir).resolve()
    song = Path(song_dir).resolve()
    if song.parent.parent != studio or not song.is_dir():
        raise HybridError("not a song folder of this studio", where=str(song))
    for folder in SongPaths(song).worked_on:
        if folder.is_dir() and any(folder.iterdir()):
            raise HybridError(f"the song has been worked on ({folder.name}/ is not empty); move it by hand if "
                              "it must go", where=str(song))
    target_root = StudioPaths(studio).refused
    target_root.mkdir(exist_ok=True)
    target = target_root / f"{song.name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    try:
        song.rename(target)
    except OSError as exc:
        raise HybridError(f"cannot move the song to {target}: {exc.strerror or exc}", where=str(song)) from exc
    return target
