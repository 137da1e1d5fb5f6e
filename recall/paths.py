"""Where things live in a studio folder: the one place that joins its paths.

``StudioPaths(root)`` names every file and folder of the layout in docs/CONTRACTS.md
("The studio folder"); ``.song(slug)`` and ``.album(slug)`` do the same for one song or
album. Nothing here touches the disk (no checks, no mkdir): a path is only a name.
Add a new file of the layout here, not as a string join at its reader or writer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

STUDIO_FILE = "studio.toml"
LATENCY_FILE = "latency.toml"
SONGS_DIR = "songs"
ALBUMS_DIR = "albums"
STATE_DIR = ".state"
SHEET_FILE = "sheet.toml"
HISTORY_DIR = "history"
STEMS_DIR = "stems"
PRINTS_DIR = "prints"
ROUNDS_DIR = ".rounds"
MIX_DIR = "mix"
MASTER_DIR = "master"
DELIVER_DIR = "deliver"
FINGERPRINTS_DIR = "fingerprints"
ALBUM_FILE = "album.toml"
MASTERING_FILE = "mastering.toml"
MASTERING_SHEETS_DIR = "sheets"
INBOX_DIR = "inbox"
REFUSED_DIR = ".refused"
SONG_INDEX_FILE = "song-index.json"
INTAKE_NOTE = "intake/client-note.txt"


@dataclass(frozen=True)
class SongPaths:
    """The files of one song: ``songs/<slug>/...``."""

    folder: Path

    @property
    def slug(self) -> str:
        return self.folder.name

    @property
    def sheet(self) -> Path:
        return self.folder / SHEET_FILE

    @property
    def history(self) -> Path:
        """Earlier versions of the sheet (recall.store)."""
        return self.folder / HISTORY_DIR

    @property
    def stems(self) -> Path:
        """The client's stems (intake)."""
        return self.folder / STEMS_DIR

    @property
    def prints(self) -> Path:
        """Printed stems (hybrid print), same names as the stems."""
        return self.folder / PRINTS_DIR

    @property
    def rounds(self) -> Path:
        """Intermediate prints of tracks with inserts in series (round k feeds round k+1)."""
        return self.prints / ROUNDS_DIR

    @property
    def mix(self) -> Path:
        """Mix files (full mix, instrumental) for deliverables."""
        return self.folder / MIX_DIR

    @property
    def master(self) -> Path:
        """The song's master (an album track's default file)."""
        return self.folder / MASTER_DIR

    @property
    def deliver(self) -> Path:
        return self.folder / DELIVER_DIR

    @property
    def fingerprints(self) -> Path:
        """How each insert chain sounded (hybrid.live.verify)."""
        return self.folder / FINGERPRINTS_DIR

    @property
    def intake_note(self) -> Path:
        """The note to the client written after intake (the TUI's Intake view)."""
        return self.folder / INTAKE_NOTE

    @property
    def worked_on(self) -> tuple[Path, ...]:
        """Folders that hold the engineer's work (a song with any of them filled is not a fresh intake)."""
        return (self.history, self.prints, self.mix, self.fingerprints)

    def file(self, relative: str | os.PathLike[str]) -> Path:
        """A file the sheet names relative to the song folder (``stems/1Kick.wav``)."""
        return self.folder / relative


@dataclass(frozen=True)
class AlbumPaths:
    """The files of one album: ``albums/<slug>/...``."""

    folder: Path

    @property
    def file(self) -> Path:
        return self.folder / ALBUM_FILE

    @property
    def deliver(self) -> Path:
        return self.folder / DELIVER_DIR

    @property
    def mastering(self) -> Path:
        """The mastering chain (hybrid.live.audio.master)."""
        return self.folder / MASTERING_FILE

    @property
    def sheets(self) -> Path:
        """The mastering sheets, one per track: ``sheets/<song>.toml``."""
        return self.folder / MASTERING_SHEETS_DIR


@dataclass(frozen=True)
class StudioPaths:
    """The files of one studio folder (``root`` as given: resolve it yourself if you need to)."""

    root: Path

    def __init__(self, root: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def studio_file(self) -> Path:
        return self.root / STUDIO_FILE

    @property
    def latency_file(self) -> Path:
        """Measured loop latencies (hybrid.live.audio.latency_store)."""
        return self.root / LATENCY_FILE

    @property
    def songs(self) -> Path:
        return self.root / SONGS_DIR

    @property
    def albums(self) -> Path:
        return self.root / ALBUMS_DIR

    @property
    def inbox(self) -> Path:
        """The drop folder for clients' archives (the TUI's Intake view lists it)."""
        return self.root / INBOX_DIR

    @property
    def refused(self) -> Path:
        """Songs refused after intake, moved out of songs/ (hybrid.files.intake.withdraw)."""
        return self.root / REFUSED_DIR

    @property
    def state(self) -> Path:
        """Machine state (recall.state), logs of the gear and the print process."""
        return self.root / STATE_DIR

    @property
    def song_index(self) -> Path:
        """What the song list shows of each sheet, cached (recall.song_index)."""
        return self.state / SONG_INDEX_FILE

    def song(self, slug: str) -> SongPaths:
        return SongPaths(self.songs / slug)

    def album(self, slug: str) -> AlbumPaths:
        return AlbumPaths(self.albums / slug)

    def is_studio(self) -> bool:
        """True when the folder has a studio.toml."""
        return self.studio_file.is_file()
