"""DDP 2.00 audio CD filesets: writer and parser.

A DDP fileset is what replication plants take for a CD master. Layout (from public
descriptions of DDP 2.00 audio masters as written by cue2ddp, Sonoris and HOFA;
DCA's specification itself is not public):

- ``DDPID`` (128 bytes, ASCII): ``DDP 2.00`` at 0, UPC/EAN at 8 (13), map stream start
  at 21 (8, blank), MSL at 29 (8, blank), media number at 37 (1), master ID at 38 (48),
  book at 86 (1), disc type ``CD`` at 87 (2), DVD-only fields and user text after.
- ``DDPMS`` (128-byte map packets, one per stream): ``VVVM``, stream type (``D0`` main
  data, ``S0`` subcode) at 4, pointer at 6 (8), length at 14 (8: sectors for D0, bytes
  for S0), start at 22 (8), subcode kind at 30 (8: ``PQ DESCR`` / ``CDTEXT``), CD mode
  at 38 (2: ``DA``), source storage mode at 40 (``7``: whole 2352-byte sectors),
  scrambled flag at 41, PRE1 at 42 (4), PRE2 at 46 (4: track 1's pregap in sectors),
  PST at 50, media at 54, TRK at 55 (2), IDX at 57, ISRC at 59 (12), DSI size at 71
  (3: 17), file name at 74 (17), then NEW, PRE1NXT, PAUSEADD, OFS and padding.
- PQ descriptor (``PQDESCR``, 64-byte packets): ``VVVS``, track at 4 (``00`` lead-in,
  ``01``-``99``, ``AA`` lead-out), index at 6, absolute time ``MMSSFF`` right-aligned
  in 8 at 8 (frames at 75 per second from the first sector of the image), control/ADR
  at 16 (``01``: no pre-emphasis, copy prohibited, ADR 1), ISRC at 20 (12, on a
  track's first packet), UPC/EAN at 32 (13, on the lead-in packet), text at 45 (19).
  Lead-in first, each track's index 00 (when it has a pregap) and 01, the lead-out
  twice, as every studied writer does.
- ``IMAGE.DAT``: the whole programme as CD audio: signed 16-bit **little-endian**
  stereo frames (left, right), 2352-byte sectors, starting at 00:00:00 with track 1's
  pregap and ending at the lead-out; no header.
- ``CDTEXT.BIN``: CD-Text packs (hybrid.files.deliver.cdtext).

Number fields are written zero-padded (a loader parses them as numbers) and read with
spaces or zeros. Audio runs continuously: tracks are only padded to a sector where a
gap follows, so gapless joins keep every sample (marks fall on the sector at or before
the join).
Beside the fileset: ``CHECKSUM.MD5`` (md5sum format) and ``IMAGE.cue``, neither listed
in DDPMS.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hybrid.files.deliver.cdtext import CdText, decode_blocks

SECTOR_BYTES = 2352
FRAMES_PER_SECTOR = 588
SECTORS_PER_SECOND = 75
DDP_LEVEL = "DDP 2.00"
IMAGE_NAME = "IMAGE.DAT"
PQ_NAME = "PQDESCR"
CDTEXT_NAME = "CDTEXT.BIN"
CHECKSUM_NAME = "CHECKSUM.MD5"
CUE_NAME = "IMAGE.cue"
TOC_NAME = "IMAGE.toc"           # for cdrdao (hybrid.files.deliver.cue)
CONTROL_AUDIO = "01"          # CB1: 2-channel audio, no pre-emphasis, copy prohibited, ADR 1
FIRST_TRACK_MIN_SECTOR = 2 * SECTORS_PER_SECOND
# The latest lead-out start an 80-minute CD-R reports in its ATIP (79:59:74); a programme
# whose lead-out starts at 80:00:00 does not fit the blank a reference disc is burnt on,
# and plants refuse it.
MAX_LEADOUT_SECTOR = (79 * 60 + 59) * SECTORS_PER_SECOND + 74


class DdpFormatError(ValueError):
    """A DDP file that does not parse (names the file and the field)."""


def msf(sector: int) -> str:
    """Sector count -> ``MMSSFF``."""
    minutes, rest = divmod(sector, 60 * SECTORS_PER_SECOND)
    seconds, frames = divmod(rest, SECTORS_PER_SECOND)
    return f"{minutes:02d}{seconds:02d}{frames:02d}"


def cue_msf(sector: int) -> str:
    """Sector count -> ``MM:SS:FF``."""
    text = msf(sector)
    return f"{text[:-4]}:{text[-4:-2]}:{text[-2:]}"


def msf_to_sector(text: str) -> int:
    """``MMSSFF`` or ``HHMMSSFF`` (spaces or zeros for blank leading digits) -> sectors."""
    text = text.strip().zfill(6)
    if not text.isdigit():
        raise ValueError(f"{text!r} is not a time HHMMSSFF")
    hours = int(text[:-6] or 0)
    return ((hours * 60 + int(text[-6:-4])) * 60 + int(text[-4:-2])) * SECTORS_PER_SECOND + int(text[-2:])


def _field(text: str, width: int) -> str:
    if len(text) > width:
        raise ValueError(f"{text!r} does not fit a {width}-character field")
    return text.ljust(width)


def _number(value: int | None, width: int) -> str:
    """A numeric field: zero-padded digits (what plants' loaders parse), blank when unset."""
    if value is None:
        return " " * width
    text = str(value).zfill(width)
    if len(text) > width or value < 0:
        raise ValueError(f"{value} does not fit a {width}-digit field")
    return text


def _read_number(raw: str, what: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise DdpFormatError(f"{what}: {raw!r} is not a number")
    return int(raw)


# -- DDPID ------------------------------------------------------------------------------
def ddpid_bytes(upc: str | None, master_id: str = "") -> bytes:
    record = (DDP_LEVEL + _field(upc or "", 13) + " " * 8 + " " * 8 + " " + _field(master_id, 48)
              + " " + "CD")
    return _field(record, 128).encode("ascii")


def parse_ddpid(blob: bytes) -> dict:
    if len(blob) != 128:
        raise DdpFormatError(f"DDPID: {len(blob)} bytes, expected 128")
    text = blob.decode("ascii", errors="replace")
    if not text.startswith("DDP "):
        raise DdpFormatError(f"DDPID: level {text[:8]!r}, expected 'DDP 2.00'")
    return {"level": text[:8], "upc": text[8:21].strip() or None, "master_id": text[38:86].strip(),
            "type": text[87:89]}


# -- DDPMS ------------------------------------------------------------------------------
@dataclass
class MapPacket:
    stream_type: str            # "D0" main data, "S0" subcode
    length: int                 # sectors (D0) or bytes (S0)
    file: str
    subcode: str = ""           # "PQ DESCR" / "CDTEXT"
    cd_mode: str = ""           # "DA"
    storage_mode: str = ""      # "7"
    scrambled: str = ""         # "0"
    start: int | None = None
    pre2: int | None = None
    track: str = ""

    def to_bytes(self) -> bytes:
        record = ("VVVM" + _field(self.stream_type, 2) + " " * 8 + _number(self.length, 8)
                  + _number(self.start, 8) + _field(self.subcode, 8) + _field(self.cd_mode, 2)
                  + _field(self.storage_mode, 1) + _field(self.scrambled, 1) + " " * 4
                  + _number(self.pre2, 4) + " " * 4 + " " + _field(self.track, 2) + " " * 2
                  + " " * 12 + _number(17, 3) + _field(self.file, 17))
        return _field(record, 128).encode("ascii")

    @classmethod
    def parse(cls, blob: bytes, where: str) -> MapPacket:
        text = blob.decode("ascii", errors="replace")
        if text[:4] != "VVVM":
            raise DdpFormatError(f"{where}: marker {text[:4]!r}, expected 'VVVM'")
        length = _read_number(text[14:22], f"{where} DSL")
        size = _read_number(text[71:74], f"{where} SIZ") or 17
        return cls(stream_type=text[4:6], length=length or 0, start=_read_number(text[22:30], f"{where} DSS"),
                   subcode=text[30:38].strip(), cd_mode=text[38:40].strip(),
                   storage_mode=text[40].strip(), scrambled=text[41].strip(),
                   pre2=_read_number(text[46:50], f"{where} PRE2"), track=text[55:57].strip(),
                   file=text[74:74 + size].strip())


def parse_ddpms(blob: bytes) -> list[MapPacket]:
    if not blob or len(blob) % 128:
        raise DdpFormatError(f"DDPMS: {len(blob)} bytes, expected a multiple of 128")
    return [MapPacket.parse(blob[i:i + 128], f"DDPMS packet {i // 128}") for i in range(0, len(blob), 128)]


# -- PQ descriptor ----------------------------------------------------------------------
@dataclass
class PqEntry:
    track: str                  # "00" lead-in, "01".."99", "AA" lead-out
    index: int
    sector: int
    control: str = "01"
    isrc: str = ""
    upc: str = ""

    def to_bytes(self) -> bytes:
        # HH MM SS FF: hours are always 00 on a CD (minutes run to 99)
        record = ("VVVS" + self.track + f"{self.index:02d}" + "00" + msf(self.sector)
                  + _field(self.control, 2) + "00" + _field(self.isrc, 12) + _field(self.upc, 13))
        return _field(record, 64).encode("ascii")

    @classmethod
    def parse(cls, blob: bytes, where: str) -> PqEntry:
        text = blob.decode("ascii", errors="replace")
        if text[:4] != "VVVS":
            raise DdpFormatError(f"{where}: marker {text[:4]!r}, expected 'VVVS'")
        try:
            return cls(track=text[4:6], index=int(text[6:8]), sector=msf_to_sector(text[8:16]),
                       control=text[16:18], isrc=text[20:32].strip(), upc=text[32:45].strip())
        except ValueError as exc:
            raise DdpFormatError(f"{where}: {exc}") from exc


def parse_pq(blob: bytes) -> list[PqEntry]:
    if not blob or len(blob) % 64:
        raise DdpFormatError(f"PQ descriptor: {len(blob)} bytes, expected a multiple of 64")
    return [PqEntry.parse(blob[i:i + 64], f"PQ packet {i // 64}") for i in range(0, len(blob), 64)]


# -- writing ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Mark:
    """A PQ mark: ``track`` ``index`` starts at ``frame`` (CD frames of 1/44100 s from the
    first sample of the image). Marks fall on sectors: a mark inside a sector is moved to
    that sector's start, so a player jumping to it never misses the first note."""

    track: int
    index: int
    frame: int
    isrc: str = ""
    control: str = CONTROL_AUDIO

    @property
    def sector(self) -> int:
        return self.frame // FRAMES_PER_SECTOR


@dataclass
class TrackLayout:
    """Where a track landed in the image (sectors from 00:00:00)."""

    number: int
    pregap_sector: int | None     # index 00, None without a pregap
    start_sector: int             # index 01
    end_sector: int               # the next track's first sector, or the lead-out
    isrc: str = ""
    control: str = CONTROL_AUDIO
    index_sectors: list[int] = field(default_factory=list)   # index 02, 03 ...


@dataclass
class DdpLayout:
    tracks: list[TrackLayout] = field(default_factory=list)
    leadout_sector: int = 0
    upc: str | None = None
    pq: list[PqEntry] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)


def control_code(*, pre_emphasis: bool = False, copy_permitted: bool = False) -> str:
    """CB1 of a PQ packet: the Q channel's CONTROL nibble (bit 0 pre-emphasis, bit 1 digital
    copy permitted; 2-channel audio otherwise) and ADR 1, as two hex digits."""
    control = (1 if pre_emphasis else 0) | (2 if copy_permitted else 0)
    return f"{control << 4 | 1:02X}"


def layout_from_marks(marks: list[Mark], leadout_sector: int, upc: str | None) -> DdpLayout:
    """The layout (and PQ packets) a list of marks calls for; ValueError when the marks
    are out of order, a track lacks index 01, or track 1 starts before 00:02:00."""
    layout = DdpLayout(upc=upc, leadout_sector=leadout_sector)
    tracks: dict[int, TrackLayout] = {}
    previous: Mark | None = None
    for mark in marks:
        if previous is not None and (mark.sector <= previous.sector or (mark.track, mark.index) <= (
                previous.track, previous.index)):
            raise ValueError(f"track {mark.track} index {mark.index:02d} at sector {mark.sector} does not "
                             f"follow track {previous.track} index {previous.index:02d} at sector "
                             f"{previous.sector}")
        if mark.sector >= leadout_sector:
            raise ValueError(f"track {mark.track} index {mark.index:02d} is at or after the lead-out")
        track = tracks.get(mark.track)
        if track is None:
            if mark.index > 1:
                raise ValueError(f"track {mark.track} has index {mark.index:02d} before index 01")
            track = TrackLayout(number=mark.track, pregap_sector=None, start_sector=-1, end_sector=0,
                                isrc=mark.isrc, control=mark.control)
            tracks[mark.track] = track
            layout.tracks.append(track)
        if mark.index == 0:
            track.pregap_sector = mark.sector
        elif mark.index == 1:
            track.start_sector = mark.sector
        else:
            track.index_sectors.append(mark.sector)
        previous = mark
    for number, track in enumerate(layout.tracks, start=1):
        if track.number != number or track.start_sector < 0:
            raise ValueError(f"track {track.number}: expected track {number} with an index 01")
    for track, following in zip(layout.tracks, layout.tracks[1:] + [None], strict=True):
        track.end_sector = (leadout_sector if following is None else
                            following.pregap_sector if following.pregap_sector is not None
                            else following.start_sector)
    if layout.tracks and layout.tracks[0].start_sector < FIRST_TRACK_MIN_SECTOR:
        raise ValueError(f"track 1 starts at {msf(layout.tracks[0].start_sector)}; Red Book asks for "
                         "at least 00:02:00 before it")
    if leadout_sector > MAX_LEADOUT_SECTOR:
        raise ValueError(f"the lead-out would start at {cue_msf(leadout_sector)}, past "
                         f"{cue_msf(MAX_LEADOUT_SECTOR)}, the last lead-out an 80-minute blank reports")
    layout.pq = intended_pq(layout)
    return layout


class DdpWriter:
    """Writes IMAGE.DAT as one continuous stream (audio is never padded between tracks
    unless asked), places PQ marks, then writes the descriptors and checksums.

    ``mark(track, index)`` at the current position (or ``frame=``), ``write_audio``
    (int16 ``(frames, 2)``), ``write_silence``, ``pad_to_sector``; then ``finish()``.
    """

    def __init__(self, folder: Path, *, upc: str | None, master_id: str = "",
                 cdtext: bytes | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.upc = upc
        self.master_id = master_id
        self.cdtext = cdtext
        self.marks: list[Mark] = []
        self._image = open(self.folder / IMAGE_NAME, "wb")
        self._md5 = hashlib.md5()
        self.frames = 0

    def _write(self, data: bytes) -> None:
        self._image.write(data)
        self._md5.update(data)

    def write_silence(self, frames: int) -> None:
        chunk = bytes(4 * FRAMES_PER_SECTOR * 75)
        self.frames += frames
        while frames > 0:
            n = min(frames, FRAMES_PER_SECTOR * 75)
            self._write(chunk[:4 * n])
            frames -= n

    def pad_to_sector(self) -> None:
        self.write_silence(-self.frames % FRAMES_PER_SECTOR)

    def write_audio(self, frames: np.ndarray) -> None:
        frames = np.asarray(frames)
        if frames.dtype != np.int16 or frames.ndim != 2 or frames.shape[1] != 2:
            raise ValueError("CD audio is int16 stereo (frames, 2)")
        self._write(frames.astype("<i2", copy=False).tobytes())
        self.frames += len(frames)

    def mark(self, track: int, index: int, *, frame: int | None = None, isrc: str = "",
             control: str = CONTROL_AUDIO) -> Mark:
        mark = Mark(track, index, self.frames if frame is None else frame, isrc, control)
        self.marks.append(mark)
        return mark

    def finish(self) -> DdpLayout:
        self.pad_to_sector()
        self._image.close()
        layout = layout_from_marks(self.marks, self.frames // FRAMES_PER_SECTOR, self.upc)
        pq_blob = b"".join(entry.to_bytes() for entry in layout.pq)
        packets = []
        files: dict[str, bytes] = {}
        if self.cdtext is not None:
            packets.append(MapPacket("S0", len(self.cdtext), CDTEXT_NAME, subcode="CDTEXT", track="00"))
            files[CDTEXT_NAME] = self.cdtext
        packets.append(MapPacket("S0", len(pq_blob), PQ_NAME, subcode="PQ DESCR"))
        files[PQ_NAME] = pq_blob
        packets.append(MapPacket("D0", layout.leadout_sector, IMAGE_NAME, cd_mode="DA",
                                 storage_mode="7", scrambled="0", start=0,
                                 pre2=layout.tracks[0].start_sector))
        ids = {"DDPID": ddpid_bytes(layout.upc, self.master_id),
               "DDPMS": b"".join(p.to_bytes() for p in packets)}
        for name, blob in {**ids, **files}.items():
            (self.folder / name).write_bytes(blob)
            layout.checksums[name] = hashlib.md5(blob).hexdigest()
        layout.checksums[IMAGE_NAME] = self._md5.hexdigest()
        order = ["DDPID", "DDPMS"] + ([CDTEXT_NAME] if self.cdtext is not None else []) + [PQ_NAME, IMAGE_NAME]
        (self.folder / CHECKSUM_NAME).write_text(
            "".join(f"{layout.checksums[name]} *{name}\n" for name in order), encoding="ascii")
        return layout

    def abort(self) -> None:
        self._image.close()


def intended_pq(layout: DdpLayout) -> list[PqEntry]:
    """The PQ packets a layout calls for (lead-in, indexes, lead-out twice)."""
    entries = [PqEntry("00", 0, 0, upc=layout.upc or "")]
    for track in layout.tracks:
        number = f"{track.number:02d}"
        first = [(0, track.pregap_sector)] if track.pregap_sector is not None else []
        marks = first + [(1, track.start_sector)] + [(i, s) for i, s in enumerate(track.index_sectors, 2)]
        for position, (index, sector) in enumerate(marks):
            entries.append(PqEntry(number, index, sector, control=track.control,
                                   isrc=track.isrc if position == 0 else ""))
    entries += [PqEntry("AA", 1, layout.leadout_sector)] * 2
    return entries


# -- reading ----------------------------------------------------------------------------
@dataclass
class DdpImage:
    folder: Path
    ident: dict
    packets: list[MapPacket]
    pq: list[PqEntry]
    cdtext_blocks: list[CdText]
    image: Path
    image_sectors: int
    pre2: int | None


def read_ddp(folder: Path) -> DdpImage:
    """Parse a DDP fileset from ``folder`` starting at DDPID and DDPMS, as a plant would."""
    folder = Path(folder)

    def load(name: str) -> bytes:
        path = folder / name
        if not path.is_file():
            raise DdpFormatError(f"{path}: missing")
        return path.read_bytes()

    ident = parse_ddpid(load("DDPID"))
    packets = parse_ddpms(load("DDPMS"))
    audio = [p for p in packets if p.stream_type == "D0" and p.cd_mode == "DA"]
    pq_packets = [p for p in packets if p.stream_type == "S0" and p.subcode == "PQ DESCR"]
    text_packets = [p for p in packets if p.stream_type == "S0" and p.subcode == "CDTEXT"]
    if len(audio) != 1 or len(pq_packets) != 1 or len(text_packets) > 1:
        raise DdpFormatError(f"DDPMS: {len(audio)} audio, {len(pq_packets)} PQ and {len(text_packets)} "
                             "CD-Text streams; expected 1, 1 and at most 1")
    for packet in pq_packets + text_packets:
        size = (folder / packet.file).stat().st_size if (folder / packet.file).is_file() else None
        if size != packet.length:
            raise DdpFormatError(f"DDPMS: {packet.file} is {size} bytes, the map says {packet.length}")
    image = folder / audio[0].file
    if not image.is_file():
        raise DdpFormatError(f"{image}: missing")
    size = image.stat().st_size
    if size != audio[0].length * SECTOR_BYTES:
        raise DdpFormatError(f"{image}: {size} bytes, the map says {audio[0].length} sectors "
                             f"({audio[0].length * SECTOR_BYTES} bytes)")
    pq = parse_pq(load(pq_packets[0].file))
    blocks = decode_blocks(load(text_packets[0].file)) if text_packets else []
    return DdpImage(folder=folder, ident=ident, packets=packets, pq=pq, cdtext_blocks=blocks, image=image,
                    image_sectors=audio[0].length, pre2=audio[0].pre2)


_PQ_NUMBERS = ((6, 8, "index", 99), (8, 10, "hours", 0), (10, 12, "minutes", 99), (12, 14, "seconds", 59),
               (14, 16, "frames", 74))
_MS_NUMBERS = ((14, 22, "DSL"), (71, 74, "SIZ"))


def loader_problems(folder: Path) -> list[str]:
    """What a plant's loader, which parses every numeric field as digits, would refuse:
    PQ index/time fields not two digits (hours 00), seconds over 59, frames over 74,
    a track number not 00-99/AA, CB1 not hex, DDPMS lengths not digits, an image that is
    not whole 2352-byte sectors."""
    folder = Path(folder)
    problems = []
    ms = (folder / "DDPMS").read_bytes() if (folder / "DDPMS").is_file() else b""
    for i in range(0, len(ms) - len(ms) % 128, 128):
        text = ms[i:i + 128].decode("ascii", errors="replace")
        for lo, hi, name in _MS_NUMBERS:
            if not text[lo:hi].isdigit():
                problems.append(f"DDPMS packet {i // 128}: {name} {text[lo:hi]!r} is not digits")
        if text[4:6] == "D0":
            image = folder / text[74:74 + int(text[71:74] if text[71:74].isdigit() else 17)].strip()
            if image.is_file() and image.stat().st_size % SECTOR_BYTES:
                problems.append(f"{image.name}: {image.stat().st_size} bytes, not whole {SECTOR_BYTES}-byte sectors")
    pq = (folder / PQ_NAME).read_bytes() if (folder / PQ_NAME).is_file() else b""
    for i in range(0, len(pq) - len(pq) % 64, 64):
        text = pq[i:i + 64].decode("ascii", errors="replace")
        where = f"PQ packet {i // 64}"
        if not (text[4:6].isdigit() or text[4:6] == "AA"):
            problems.append(f"{where}: track {text[4:6]!r}")
        for lo, hi, name, most in _PQ_NUMBERS:
            if not text[lo:hi].isdigit() or int(text[lo:hi]) > most:
                problems.append(f"{where}: {name} {text[lo:hi]!r}, expected 2 digits up to {most:02d}")
        if not all(c in "0123456789ABCDEF" for c in text[16:18]):
            problems.append(f"{where}: CB1 {text[16:18]!r} is not hex")
    return problems
