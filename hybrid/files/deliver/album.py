"""``albums/<album>/album.toml``: the running order and codes of a CD/album master.

Example (every key but ``title`` and the tracks' ``song``/``file`` is optional)::

    spec = "hybrid-album/1"
    title = "Demo EP"                  # album title (CD-Text)
    performer = "The Examples"         # album performer (CD-Text); default for tracks
    upc = "5012345678900"              # EAN-13, or a 12-digit UPC-A; check digit verified
    master_id = "DEMO-EP-2026"         # DDP master identifier, <= 48 ASCII characters

    [[tracks]]                         # in running order, 1..99 tracks
    song = "night-drive"               # a song folder under songs/ (title, artist from its sheet)
    file = "masters/Night Drive.wav"   # the master, relative to the album folder
    title = "Night Drive"              # default: the song's title
    performer = "The Examples"         # default: the song's artist, else the album performer
    isrc = "GB-XYZ-26-00001"           # CC-XXX-YY-NNNNN, dashes optional
    pregap_s = 2.0                     # silence before the track; default 2 s; track 1 >= 2 s

Without ``file`` the master is the single WAV in ``songs/<song>/master/``. Checks (all
reported at once, each naming the file and key): ISRC syntax and uniqueness, EAN/UPC
check digit, 1..99 tracks, masters present and readable, tracks of at least 4 s, the
disc within 80 minutes, pregaps of whole CD frames, CD-Text in ISO 8859-1 without
control characters and at most 160 characters per field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hybrid.files.deliver.codes import normalize_isrc, normalize_upc
from hybrid.files.deliver.song import check_name
from hybrid.errors import HybridError
from hybrid.tomlfile import read_toml
from hybrid.files.loudness.files import open_audio
from recall.paths import StudioPaths

ALBUM_SPEC = "hybrid-album/1"
MAX_TRACKS = 99
MIN_TRACK_S = 4.0
MIN_FIRST_PREGAP_S = 2.0
DEFAULT_PREGAP_S = 2.0
MAX_PREGAP_S = 60.0
MAX_DISC_S = 80 * 60
CDTEXT_MAX_CHARS = 160
MASTER_ID_MAX_CHARS = 48
TOP_KEYS = {"spec", "title", "performer", "upc", "master_id", "tracks"}
TRACK_KEYS = {"song", "file", "title", "performer", "isrc", "pregap_s"}


@dataclass
class AlbumTrack:
    number: int
    title: str
    performer: str
    isrc: str | None
    pregap_s: float
    file: Path
    song: str | None
    samplerate_hz: int = 0
    channels: int = 0
    frames: int = 0
    subtype: str = ""

    @property
    def duration_s(self) -> float:
        return self.frames / self.samplerate_hz if self.samplerate_hz else 0.0


@dataclass
class Album:
    name: str
    folder: Path
    file: Path
    title: str
    performer: str
    upc: str | None
    master_id: str
    tracks: list[AlbumTrack] = field(default_factory=list)


class _Problems:
    def __init__(self, file: Path):
        self.file = file
        self.items: list[str] = []

    def add(self, key: str, reason: str) -> None:
        self.items.append(f"{key}: {reason}")

    def raise_if_any(self) -> None:
        if self.items:
            raise HybridError("; ".join(self.items), where=str(self.file))


def cdtext_problem(text: str) -> str | None:
    """Why ``text`` cannot go into CD-Text block 0 (ISO 8859-1), or None."""
    if len(text) > CDTEXT_MAX_CHARS:
        return f"{len(text)} characters, expected at most {CDTEXT_MAX_CHARS} for CD-Text"
    try:
        encoded = text.encode("latin-1")
    except UnicodeEncodeError as exc:
        return (f"character {text[exc.start]!r} is not in ISO 8859-1, the CD-Text character set "
                "(use the nearest Latin-1 letter)")
    if any(b < 0x20 or 0x7F <= b < 0xA0 for b in encoded):
        return "control characters are not allowed in CD-Text"
    return None


def _song_credits(studio: Path, song: str) -> tuple[str, str]:
    from recall.sheet import Sheet

    sheet_file = StudioPaths(studio).song(song).sheet
    if not sheet_file.is_file():
        return "", ""
    sheet = Sheet.load(sheet_file)
    return sheet.title, sheet.artist


def _default_master(studio: Path, song: str) -> Path | str:
    folder = StudioPaths(studio).song(song).master
    wavs = sorted(p for p in folder.glob("*") if p.suffix.lower() == ".wav") if folder.is_dir() else []
    if len(wavs) == 1:
        return wavs[0]
    if not wavs:
        return f"no file given and {folder} has no WAV"
    return f"no file given and {folder} has {len(wavs)} WAVs ({', '.join(p.name for p in wavs)})"


def load_album(studio: str | Path, name: str) -> Album:
    """Read and check ``albums/<name>/album.toml`` and its masters' formats."""
    studio = Path(studio)
    check_name("album", name)
    if not studio.is_dir():
        raise HybridError("no such studio folder", where=str(studio))
    paths = StudioPaths(studio).album(name)
    folder, file = paths.folder, paths.file
    if not file.is_file():
        raise HybridError("no album.toml (see hybrid.files.deliver.album for its keys)", where=str(folder))
    data = read_toml(file)
    problems = _Problems(file)

    spec = data.get("spec", ALBUM_SPEC)
    if spec != ALBUM_SPEC:
        problems.add("spec", f"expected {ALBUM_SPEC!r}, got {spec!r}")
    for key in sorted(set(data) - TOP_KEYS):
        problems.add(key, f"unknown key (known: {', '.join(sorted(TOP_KEYS))})")

    def text(table: dict, key: str, where: str, default: str = "", cdtext: bool = True) -> str:
        value = table.get(key, default)
        if not isinstance(value, str):
            problems.add(where, f"expected a string, got {type(value).__name__}")
            return default
        if cdtext and (why := cdtext_problem(value)):
            problems.add(where, why)
        return value

    title = text(data, "title", "title")
    if not title.strip():
        problems.add("title", "expected the album title")
    performer = text(data, "performer", "performer")
    master_id = text(data, "master_id", "master_id", cdtext=False)
    if len(master_id) > MASTER_ID_MAX_CHARS or not master_id.isascii():
        problems.add("master_id", f"expected at most {MASTER_ID_MAX_CHARS} ASCII characters")
    upc = None
    if "upc" in data:
        try:
            upc = normalize_upc(data["upc"])
        except ValueError as exc:
            problems.add("upc", str(exc))

    raw_tracks = data.get("tracks")
    if not isinstance(raw_tracks, list) or not raw_tracks:
        problems.add("tracks", "expected at least one [[tracks]] table")
        raw_tracks = []
    if len(raw_tracks) > MAX_TRACKS:
        problems.add("tracks", f"{len(raw_tracks)} tracks, a CD holds at most {MAX_TRACKS}")

    tracks: list[AlbumTrack] = []
    seen_isrc: dict[str, int] = {}
    for index, raw in enumerate(raw_tracks):
        number = index + 1
        key = f"tracks[{index}] (track {number})"
        if not isinstance(raw, dict):
            problems.add(key, "expected a table")
            continue
        for extra in sorted(set(raw) - TRACK_KEYS):
            problems.add(f"{key}.{extra}", f"unknown key (known: {', '.join(sorted(TRACK_KEYS))})")
        song = raw.get("song")
        if song is not None and (not isinstance(song, str) or not song.strip()
                                 or "/" in song or "\\" in song or song.startswith(".")):
            problems.add(f"{key}.song", "expected a song folder name under songs/")
            song = None
        elif song is not None and not StudioPaths(studio).song(song).folder.is_dir():
            problems.add(f"{key}.song", f"no song {song!r} in {StudioPaths(studio).songs}")
            song = None
        song_title, song_artist = _song_credits(studio, song) if song else ("", "")
        t_title = text(raw, "title", f"{key}.title", song_title)
        if not t_title.strip():
            problems.add(f"{key}.title", "expected a title (or a song whose sheet has one)")
        t_performer = text(raw, "performer", f"{key}.performer", song_artist or performer)
        isrc = None
        if "isrc" in raw:
            try:
                isrc = normalize_isrc(raw["isrc"])
            except ValueError as exc:
                problems.add(f"{key}.isrc", str(exc))
            else:
                if isrc in seen_isrc:
                    problems.add(f"{key}.isrc", f"{isrc} is also track {seen_isrc[isrc]}'s ISRC; "
                                 "each recording has its own")
                seen_isrc.setdefault(isrc, number)
        pregap = raw.get("pregap_s", DEFAULT_PREGAP_S)
        if isinstance(pregap, bool) or not isinstance(pregap, (int, float)):
            problems.add(f"{key}.pregap_s", "expected a number of seconds")
            pregap = DEFAULT_PREGAP_S
        elif number == 1 and pregap < MIN_FIRST_PREGAP_S:
            problems.add(f"{key}.pregap_s", f"{pregap:g} s; track 1 needs a pregap of at least "
                         f"{MIN_FIRST_PREGAP_S:g} s (Red Book)")
        elif not 0 <= pregap <= MAX_PREGAP_S:
            problems.add(f"{key}.pregap_s", f"{pregap:g} s, expected 0..{MAX_PREGAP_S:g} s")
        elif abs(pregap * 75 - round(pregap * 75)) > 1e-6:
            problems.add(f"{key}.pregap_s", f"{pregap:g} s is not a whole number of CD frames (1/75 s)")
        file_value = raw.get("file")
        if file_value is not None:
            if not isinstance(file_value, str) or not file_value.strip():
                problems.add(f"{key}.file", "expected a path relative to the album folder")
                continue
            path = (folder / file_value).resolve()
        elif song:
            found = _default_master(studio, song)
            if isinstance(found, str):
                problems.add(f"{key}.file", found)
                continue
            path = found
        else:
            problems.add(key, "expected a file (or a song with one master in its master/ folder)")
            continue
        track = AlbumTrack(number=number, title=t_title, performer=t_performer, isrc=isrc,
                           pregap_s=float(pregap), file=path, song=song)
        if not path.is_file():
            problems.add(f"{key}.file", f"{path}: no such file")
        else:
            try:
                with open_audio(path) as handle:
                    track.samplerate_hz, track.channels = handle.samplerate, handle.channels
                    track.frames, track.subtype = handle.frames, handle.subtype
            except HybridError as exc:
                problems.add(f"{key}.file", str(exc))
            else:
                if track.channels not in (1, 2):
                    problems.add(f"{key}.file", f"{path.name} has {track.channels} channels; a CD "
                                 "is stereo (expected 1 or 2)")
                if track.duration_s < MIN_TRACK_S:
                    problems.add(f"{key}.file", f"{path.name} is {track.duration_s:.2f} s; a CD track "
                                 f"is at least {MIN_TRACK_S:g} s (Red Book)")
        tracks.append(track)

    total_s = sum(t.pregap_s + t.duration_s for t in tracks)
    if total_s > MAX_DISC_S:
        problems.add("tracks", f"the programme is {total_s / 60:.1f} minutes; an 80-minute CD is the "
                     "longest plants accept")
    problems.raise_if_any()
    return Album(name=name, folder=folder, file=file, title=title, performer=performer, upc=upc,
                 master_id=master_id, tracks=tracks)
