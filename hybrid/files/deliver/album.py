"""``albums/<album>/album.toml``: the running order and codes of a CD/album master.

Example (every key but ``title`` and the tracks' ``song``/``file`` is optional)::

    spec = "hybrid-album/1"
    title = "Demo EP"                  # album title (CD-Text)
    performer = "The Examples"         # album performer (CD-Text); default for tracks
    upc = "5012345678900"              # EAN-13, or a 12-digit UPC-A; check digit verified
    master_id = "DEMO-EP-2026"         # DDP master identifier, <= 48 ASCII characters
    songwriter = "A. Writer"           # CD-Text: songwriter, composer, arranger, message
    genre = "Jazz"                     # CD-Text genre (a name from cdtext.GENRES, or free text)
    disc_id = "EX-001"                 # CD-Text disc identification
    language = "en"                    # language of the CD-Text block above (default en)
    master = "masters/live set.wav"    # optional: ONE continuous master; tracks then give `start`

    [[tracks]]                         # in running order, 1..99 tracks
    song = "night-drive"               # a song folder under songs/ (title, artist from its sheet)
    file = "masters/Night Drive.wav"   # the master, relative to the album folder
    title = "Night Drive"              # default: the song's title
    performer = "The Examples"         # default: the song's artist, else the album performer
    songwriter = "..."                 # also composer, arranger, message (CD-Text)
    isrc = "GB-XYZ-26-00001"           # CC-XXX-YY-NNNNN, dashes optional
    pregap_s = 2.0                     # gap before the track (index 00); default 2 s; track 1 >= 2 s
    pregap_file = "masters/hidden.wav" # audio in the pregap (e.g. a hidden track before track 1)
    start = "12:34:56"                 # with `master`: index 01 in the master (MM:SS:FF, or seconds)
    indexes = [30.0, "01:15:00"]       # index 02, 03 ... after index 01 (seconds or MM:SS:FF)
    pre_emphasis = false               # the master carries 50/15 us pre-emphasis
    copy_permitted = false             # the digital copy flag

    [cdtext.fr]                        # more CD-Text language blocks (8 at most, all languages)
    title = "Démo"
    tracks = [{ title = "Conduite de nuit" }]

``pregap_s = 0`` joins tracks gaplessly: the audio runs on with no inserted sample
and the track mark falls on the CD frame at or before the join. With ``master``, the
album is one file (a live set, a DJ mix, a symphony): audio between a track's
``start - pregap_s`` and ``start`` is its pregap (index 00), and audio before track 1's
start is a hidden pregap track.

Without ``file`` the master is the single WAV in ``songs/<song>/master/``. Checks (all
reported at once, each naming the file and key): ISRC syntax and uniqueness, EAN/UPC
check digit, 1..99 tracks, masters present, readable and complete (a WAV whose header
promises more audio than the file holds is refused), tracks of at least 4 s, the
lead-out no later than 79:59:74 (what 80-minute blanks report), pregaps of whole CD
frames, CD-Text in ISO 8859-1 without control characters, at most 160 characters per
field and within the pack budget of a block.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from hybrid.errors import HybridError
from hybrid.files.deliver.cdtext import LANGUAGES, MAX_BLOCKS, CdText, CdTextError, encode
from hybrid.files.deliver.codes import normalize_isrc, normalize_upc
from hybrid.files.deliver.ddp import FRAMES_PER_SECTOR, MAX_LEADOUT_SECTOR, cue_msf
from hybrid.files.deliver.song import check_name
from hybrid.files.intake.riff import read_layout
from hybrid.tomlfile import read_toml
from hybrid.files.loudness.files import open_audio
from recall.paths import StudioPaths

CD_RATE = 44100

ALBUM_SPEC = "hybrid-album/1"
MAX_TRACKS = 99
MIN_TRACK_S = 4.0
MIN_FIRST_PREGAP_S = 2.0
DEFAULT_PREGAP_S = 2.0
MAX_PREGAP_S = 60.0
CDTEXT_MAX_CHARS = 160
MASTER_ID_MAX_CHARS = 48
CREDIT_KEYS = ("songwriter", "composer", "arranger", "message")
TOP_KEYS = {"spec", "title", "performer", "upc", "master_id", "tracks", "master", "genre", "disc_id",
            "language", "cdtext", *CREDIT_KEYS}
TRACK_KEYS = {"song", "file", "title", "performer", "isrc", "pregap_s", "pregap_file", "start",
              "indexes", "pre_emphasis", "copy_permitted", *CREDIT_KEYS}
BLOCK_KEYS = {"title", "performer", "genre", "disc_id", "tracks", *CREDIT_KEYS}
BLOCK_TRACK_KEYS = {"title", "performer", *CREDIT_KEYS}


@dataclass
class AudioFile:
    """A master's format, read from its header (and checked against its size)."""

    path: Path
    samplerate_hz: int = 0
    channels: int = 0
    frames: int = 0
    subtype: str = ""

    @property
    def duration_s(self) -> float:
        return self.frames / self.samplerate_hz if self.samplerate_hz else 0.0


@dataclass
class AlbumTrack:
    number: int
    title: str
    performer: str
    isrc: str | None
    pregap_s: float
    file: Path | None               # None for a track of a continuous master
    song: str | None
    samplerate_hz: int = 0
    channels: int = 0
    frames: int = 0
    subtype: str = ""
    start_s: float | None = None    # index 01 in the continuous master
    indexes_s: list[float] = field(default_factory=list)   # index 02.. after index 01
    pregap_audio: AudioFile | None = None
    pre_emphasis: bool = False
    copy_permitted: bool = False
    credits: dict[str, str] = field(default_factory=dict)  # songwriter, composer, arranger, message

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
    master: AudioFile | None = None     # one continuous master (tracks carry start_s)
    credits: dict[str, str] = field(default_factory=dict)
    genre: str = ""
    disc_id: str = ""
    language: str = "en"
    extra_blocks: list[CdText] = field(default_factory=list)

    @property
    def continuous(self) -> bool:
        return self.master is not None


def parse_position(value, what: str) -> float:
    """Seconds from a number of seconds or an ``MM:SS:FF`` string (75 frames a second)."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected seconds or MM:SS:FF")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{what}: {value!r}, expected seconds >= 0")
        return float(value)
    if isinstance(value, str):
        match = re.fullmatch(r"(\d{1,3}):([0-5]\d):([0-6]\d|7[0-4])", value.strip())
        if match:
            minutes, seconds, frames = (int(g) for g in match.groups())
            return minutes * 60 + seconds + frames / 75
    raise ValueError(f"{what}: {value!r}, expected seconds or MM:SS:FF (frames 00-74)")


def read_audio_format(path: Path) -> AudioFile:
    """Format of ``path``; HybridError for an unreadable or truncated file (a WAV whose
    data chunk declares more audio than the file holds)."""
    with open_audio(path) as handle:
        info = AudioFile(path, handle.samplerate, handle.channels, handle.frames, handle.subtype)
    layout = read_layout(path)
    if layout is not None and layout.missing_bytes:
        held_bytes = max(1, layout.file_bytes - (layout.data_offset or 0))
        declared_s = info.duration_s * (layout.data_bytes or 0) / held_bytes
        raise HybridError(f"truncated: the WAV header declares {layout.data_bytes} bytes of audio "
                          f"(about {declared_s:.2f} s), the file holds {info.duration_s:.2f} s "
                          f"({layout.missing_bytes} bytes missing); export or copy it again",
                          where=str(path))
    return info


class AlbumProblems(HybridError):
    """Everything wrong with an album.toml: one line (``file: key: reason; ...``) and the list."""

    def __init__(self, file: Path, problems: list[str]):
        super().__init__("; ".join(problems), where=str(file))
        self.problems = list(problems)
        """Each problem as ``key: reason``."""


class _Problems:
    def __init__(self, file: Path):
        self.file = file
        self.items: list[str] = []

    def add(self, key: str, reason: str) -> None:
        self.items.append(f"{key}: {reason}")

    def raise_if_any(self) -> None:
        if self.items:
            raise AlbumProblems(self.file, self.items)


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


def _flag(table: dict, key: str, where: str, problems: _Problems) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        problems.add(where, "expected true or false")
        return False
    return value


def _audio(path: Path, key: str, problems: _Problems) -> AudioFile | None:
    if not path.is_file():
        problems.add(key, f"{path}: no such file")
        return None
    try:
        info = read_audio_format(path)
    except HybridError as exc:
        problems.add(key, str(exc))
        return None
    if info.channels not in (1, 2):
        problems.add(key, f"{path.name} has {info.channels} channels; a CD is stereo (expected 1 or 2)")
        return None
    return info


def _cd_frames(seconds: float) -> int:
    return round(seconds * CD_RATE)


def programme_sectors(album: Album) -> int:
    """Where the lead-out will start (sectors), from the running order and the masters'
    lengths at 44.1 kHz (the DDP writer's rules: sector padding only before gaps)."""
    if album.master is not None:
        first = album.tracks[0].start_s or 0.0
        lead = max(0, 150 * FRAMES_PER_SECTOR - _cd_frames(first))
        lead += -(lead + _cd_frames(first)) % FRAMES_PER_SECTOR
        total = lead + math.ceil(album.master.frames * CD_RATE / album.master.samplerate_hz)
        return -(-total // FRAMES_PER_SECTOR)
    frames = 0
    for track in album.tracks:
        pregap = _cd_frames(track.pregap_s)
        hidden = (math.ceil(track.pregap_audio.frames * CD_RATE / track.pregap_audio.samplerate_hz)
                  if track.pregap_audio else 0)
        if pregap or hidden:
            frames += -frames % FRAMES_PER_SECTOR
            frames += max(pregap, -(-hidden // FRAMES_PER_SECTOR) * FRAMES_PER_SECTOR)
        if track.samplerate_hz:
            frames += math.ceil(track.frames * CD_RATE / track.samplerate_hz)
    return -(-frames // FRAMES_PER_SECTOR)


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
    credits = {key: text(data, key, key) for key in CREDIT_KEYS if key in data}
    genre = text(data, "genre", "genre")
    disc_id = text(data, "disc_id", "disc_id")
    language = text(data, "language", "language", "en", cdtext=False)
    if language not in LANGUAGES:
        problems.add("language", f"{language!r}, expected one of {', '.join(sorted(LANGUAGES))}")
        language = "en"
    master_id = text(data, "master_id", "master_id", cdtext=False)
    if len(master_id) > MASTER_ID_MAX_CHARS or not master_id.isascii():
        problems.add("master_id", f"expected at most {MASTER_ID_MAX_CHARS} ASCII characters")
    upc = None
    if "upc" in data:
        try:
            upc = normalize_upc(data["upc"])
        except ValueError as exc:
            problems.add("upc", str(exc))
    master = None
    if "master" in data:
        value = data["master"]
        if not isinstance(value, str) or not value.strip():
            problems.add("master", "expected a path relative to the album folder")
        else:
            master = _audio((folder / value).resolve(), "master", problems)
            if master is None:
                problems.raise_if_any()

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
        if isinstance(pregap, bool) or not isinstance(pregap, (int, float)) or not math.isfinite(pregap):
            problems.add(f"{key}.pregap_s", "expected a number of seconds")
            pregap = DEFAULT_PREGAP_S
        elif number == 1 and pregap < MIN_FIRST_PREGAP_S:
            problems.add(f"{key}.pregap_s", f"{pregap:g} s; track 1 needs a pregap of at least "
                         f"{MIN_FIRST_PREGAP_S:g} s (Red Book)")
        elif not 0 <= pregap <= MAX_PREGAP_S:
            problems.add(f"{key}.pregap_s", f"{pregap:g} s, expected 0..{MAX_PREGAP_S:g} s")
        elif abs(pregap * 75 - round(pregap * 75)) > 1e-6:
            problems.add(f"{key}.pregap_s", f"{pregap:g} s is not a whole number of CD frames (1/75 s)")
        track = AlbumTrack(number=number, title=t_title, performer=t_performer, isrc=isrc,
                           pregap_s=float(pregap), file=None, song=song,
                           pre_emphasis=_flag(raw, "pre_emphasis", f"{key}.pre_emphasis", problems),
                           copy_permitted=_flag(raw, "copy_permitted", f"{key}.copy_permitted", problems),
                           credits={k: text(raw, k, f"{key}.{k}") for k in CREDIT_KEYS if k in raw})
        indexes = raw.get("indexes", [])
        if not isinstance(indexes, list):
            problems.add(f"{key}.indexes", "expected a list of positions after index 01")
            indexes = []
        for i, value in enumerate(indexes):
            try:
                track.indexes_s.append(parse_position(value, f"{key}.indexes[{i}]"))
            except ValueError as exc:
                problems.add(f"{key}.indexes[{i}]", str(exc).split(": ", 1)[1])
        if track.indexes_s != sorted(set(track.indexes_s)) or (track.indexes_s and track.indexes_s[0] <= 0):
            problems.add(f"{key}.indexes", "expected increasing positions after index 01")
        if len(track.indexes_s) > 97:
            problems.add(f"{key}.indexes", "a track has at most index 99")
        if "pregap_file" in raw:
            value = raw["pregap_file"]
            if master is not None:
                problems.add(f"{key}.pregap_file", "with a continuous master the pregap is its audio "
                             "before `start`")
            elif not isinstance(value, str) or not value.strip():
                problems.add(f"{key}.pregap_file", "expected a path relative to the album folder")
            else:
                track.pregap_audio = _audio((folder / value).resolve(), f"{key}.pregap_file", problems)
        if master is not None:
            if "file" in raw:
                problems.add(f"{key}.file", "the album has one continuous `master`; give `start` instead")
            if "start" not in raw:
                problems.add(f"{key}.start", "expected the track's position in the master (MM:SS:FF)")
                tracks.append(track)
                continue
            try:
                track.start_s = parse_position(raw["start"], f"{key}.start")
            except ValueError as exc:
                problems.add(f"{key}.start", str(exc).split(": ", 1)[1])
                track.start_s = 0.0
            track.samplerate_hz, track.channels, track.subtype = (master.samplerate_hz, master.channels,
                                                                  master.subtype)
            tracks.append(track)
            continue
        if "start" in raw:
            problems.add(f"{key}.start", "`start` needs a continuous `master` for the album")
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
        track.file = path
        info = _audio(path, f"{key}.file", problems)
        if info is not None:
            track.samplerate_hz, track.channels = info.samplerate_hz, info.channels
            track.frames, track.subtype = info.frames, info.subtype
            if track.duration_s < MIN_TRACK_S:
                problems.add(f"{key}.file", f"{path.name} is {track.duration_s:.2f} s; a CD track "
                             f"is at least {MIN_TRACK_S:g} s (Red Book)")
        tracks.append(track)

    if master is not None:
        _continuous_lengths(master, tracks, problems)
    album = Album(name=name, folder=folder, file=file, title=title, performer=performer, upc=upc,
                  master_id=master_id, tracks=tracks, master=master, credits=credits, genre=genre,
                  disc_id=disc_id, language=language)
    album.extra_blocks = _extra_blocks(data.get("cdtext", {}), album, problems, text)
    if tracks and not problems.items:
        leadout = programme_sectors(album)
        if leadout > MAX_LEADOUT_SECTOR:
            problems.add("tracks", f"the lead-out would start at {cue_msf(leadout)}; 80-minute blanks "
                         f"report {cue_msf(MAX_LEADOUT_SECTOR)} as the last lead-out start and plants "
                         "refuse longer programmes")
        try:
            encode(cdtext_blocks(album))
        except CdTextError as exc:
            problems.add("cdtext", str(exc))
    problems.raise_if_any()
    return album


def _continuous_lengths(master: AudioFile, tracks: list[AlbumTrack], problems: _Problems) -> None:
    """Each track of a continuous master runs from its start to the next one's pregap."""
    ends = [(t.start_s or 0.0) - t.pregap_s for t in tracks[1:]] + [master.duration_s]
    previous = None
    for track, end in zip(tracks, ends, strict=True):
        start = track.start_s or 0.0
        key = f"tracks[{track.number - 1}] (track {track.number}).start"
        if previous is not None and start - track.pregap_s < previous:
            problems.add(key, f"{start:.3f} s minus its pregap is before track {track.number - 1}'s start")
        if start >= master.duration_s:
            problems.add(key, f"{start:.3f} s is past the end of the master ({master.duration_s:.3f} s)")
        track.frames = max(0, round((end - start) * master.samplerate_hz))
        if track.frames and track.duration_s < MIN_TRACK_S:
            problems.add(key, f"the track is {track.duration_s:.2f} s; a CD track is at least "
                         f"{MIN_TRACK_S:g} s (Red Book)")
        if track.indexes_s and track.indexes_s[-1] >= end - start:
            problems.add(key, "an index mark is past the end of the track")
        previous = start


def _extra_blocks(raw, album: Album, problems: _Problems, text) -> list[CdText]:
    if not isinstance(raw, dict):
        problems.add("cdtext", "expected tables [cdtext.<language>]")
        return []
    blocks = []
    if len(raw) + 1 > MAX_BLOCKS:
        problems.add("cdtext", f"{len(raw) + 1} languages; CD-Text holds at most {MAX_BLOCKS} blocks")
    for language, table in raw.items():
        where = f"cdtext.{language}"
        if language not in LANGUAGES:
            problems.add(where, f"unknown language, expected one of {', '.join(sorted(LANGUAGES))}")
            continue
        if language == album.language:
            problems.add(where, f"{language!r} is already the main block's language")
            continue
        if not isinstance(table, dict):
            problems.add(where, "expected a table")
            continue
        for extra in sorted(set(table) - BLOCK_KEYS):
            problems.add(f"{where}.{extra}", f"unknown key (known: {', '.join(sorted(BLOCK_KEYS))})")
        rows = table.get("tracks", [])
        if not isinstance(rows, list) or len(rows) > len(album.tracks) or not all(
                isinstance(r, dict) for r in rows):
            problems.add(f"{where}.tracks", f"expected at most {len(album.tracks)} tables, one per track")
            rows = []
        for i, row in enumerate(rows):
            for extra in sorted(set(row) - BLOCK_TRACK_KEYS):
                problems.add(f"{where}.tracks[{i}].{extra}",
                             f"unknown key (known: {', '.join(sorted(BLOCK_TRACK_KEYS))})")

        def column(key: str, album_value: str, track_values: list[str], table=table, where=where,
                   rows=rows) -> list[str]:
            disc = text(table, key, f"{where}.{key}", album_value)
            values = [text(row, key, f"{where}.tracks[{i}].{key}", fallback)
                      for i, (row, fallback) in enumerate(zip(rows + [{}] * (len(track_values) - len(rows)),
                                                              track_values, strict=True))]
            return [disc] + values if any([disc, *values]) else []

        blocks.append(CdText(
            titles=column("title", album.title, [t.title for t in album.tracks]),
            performers=column("performer", album.performer, [t.performer for t in album.tracks]),
            songwriters=column("songwriter", album.credits.get("songwriter", ""),
                               [t.credits.get("songwriter", "") for t in album.tracks]),
            composers=column("composer", album.credits.get("composer", ""),
                             [t.credits.get("composer", "") for t in album.tracks]),
            arrangers=column("arranger", album.credits.get("arranger", ""),
                             [t.credits.get("arranger", "") for t in album.tracks]),
            messages=column("message", album.credits.get("message", ""),
                            [t.credits.get("message", "") for t in album.tracks]),
            disc_id=text(table, "disc_id", f"{where}.disc_id", album.disc_id),
            genre=text(table, "genre", f"{where}.genre", album.genre),
            upc=album.upc or "", isrcs=_isrcs(album), language=language))
    return blocks


def _isrcs(album: Album) -> list[str]:
    codes = [t.isrc or "" for t in album.tracks]
    return codes if any(codes) else []


def cdtext_blocks(album: Album) -> list[CdText]:
    """The album's CD-Text: its main block, then one per extra language."""
    def column(values: list[str]) -> list[str]:
        return values if any(values) else []

    def credit(key: str) -> list[str]:
        return column([album.credits.get(key, "")] + [t.credits.get(key, "") for t in album.tracks])

    main = CdText(titles=[album.title] + [t.title for t in album.tracks],
                  performers=column([album.performer] + [t.performer for t in album.tracks]),
                  songwriters=credit("songwriter"), composers=credit("composer"),
                  arrangers=credit("arranger"), messages=credit("message"), disc_id=album.disc_id,
                  genre=album.genre, upc=album.upc or "", isrcs=_isrcs(album),
                  language=album.language)
    return [main] + album.extra_blocks
