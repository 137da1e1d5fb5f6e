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

Number fields are written right-aligned with spaces and read with spaces or zeros.
Beside the fileset: ``CHECKSUM.MD5`` (md5sum format) and ``IMAGE.cue``, neither listed
in DDPMS.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hybrid.files.deliver.cdtext import CdText, decode, encode

SECTOR_BYTES = 2352
FRAMES_PER_SECTOR = 588
SECTORS_PER_SECOND = 75
DDP_LEVEL = "DDP 2.00"
IMAGE_NAME = "IMAGE.DAT"
PQ_NAME = "PQDESCR"
CDTEXT_NAME = "CDTEXT.BIN"
CHECKSUM_NAME = "CHECKSUM.MD5"
CUE_NAME = "IMAGE.cue"
MAX_SECTORS = (99 * 60 + 59) * 75 + 74


class DdpFormatError(ValueError):
    """A DDP file that does not parse (names the file and the field)."""


def msf(sector: int) -> str:
    """Sector count -> ``MMSSFF`` (minutes may exceed 59)."""
    minutes, rest = divmod(sector, 60 * SECTORS_PER_SECOND)
    seconds, frames = divmod(rest, SECTORS_PER_SECOND)
    return f"{minutes:02d}{seconds:02d}{frames:02d}"


def msf_to_sector(text: str) -> int:
    text = text.strip().zfill(6)
    return (int(text[:-4]) * 60 + int(text[-4:-2])) * SECTORS_PER_SECOND + int(text[-2:])


def _field(text: str, width: int) -> str:
    if len(text) > width:
        raise ValueError(f"{text!r} does not fit a {width}-character field")
    return text.ljust(width)


def _number(value: int | None, width: int) -> str:
    return " " * width if value is None else str(value).rjust(width)


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
        record = ("VVVS" + self.track + f"{self.index:02d}" + msf(self.sector).rjust(8)
                  + _field(self.control, 2) + "  " + _field(self.isrc, 12) + _field(self.upc, 13))
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
@dataclass
class TrackLayout:
    """Where a track landed in the image (sectors from 00:00:00)."""

    number: int
    pregap_sector: int | None     # index 00, None without a pregap
    start_sector: int             # index 01
    audio_frames: int
    end_sector: int               # first sector after the track's (padded) audio
    isrc: str = ""


@dataclass
class DdpLayout:
    tracks: list[TrackLayout] = field(default_factory=list)
    leadout_sector: int = 0
    upc: str | None = None
    pq: list[PqEntry] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)


class DdpWriter:
    """Writes IMAGE.DAT track by track (streamed), then the descriptors and checksums.

    ``begin_track`` -> ``write_audio`` (int16 ``(frames, 2)``) ... -> ``end_track``; then
    ``finish()``.
    """

    def __init__(self, folder: Path, *, upc: str | None, master_id: str = "",
                 cdtext: CdText | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.layout = DdpLayout(upc=upc)
        self.master_id = master_id
        self.cdtext = encode(cdtext) if cdtext is not None else None   # fail before writing audio
        self._image = open(self.folder / IMAGE_NAME, "wb")
        self._md5 = hashlib.md5()
        self._frames = 0
        self._current: TrackLayout | None = None

    def _write(self, data: bytes) -> None:
        self._image.write(data)
        self._md5.update(data)

    def _silence(self, frames: int) -> None:
        """Write digital silence; the caller accounts for the frames."""
        chunk = bytes(4 * FRAMES_PER_SECTOR * 75)
        while frames > 0:
            n = min(frames, FRAMES_PER_SECTOR * 75)
            self._write(chunk[:4 * n])
            frames -= n

    def begin_track(self, number: int, pregap_sectors: int, isrc: str | None = None) -> None:
        assert self._frames % FRAMES_PER_SECTOR == 0
        sector = self._frames // FRAMES_PER_SECTOR
        self._silence(pregap_sectors * FRAMES_PER_SECTOR)
        self._frames += pregap_sectors * FRAMES_PER_SECTOR
        self._current = TrackLayout(number=number, pregap_sector=sector if pregap_sectors else None,
                                    start_sector=sector + pregap_sectors, audio_frames=0,
                                    end_sector=0, isrc=isrc or "")

    def write_audio(self, frames: np.ndarray) -> None:
        frames = np.asarray(frames)
        if frames.dtype != np.int16 or frames.ndim != 2 or frames.shape[1] != 2:
            raise ValueError("CD audio is int16 stereo (frames, 2)")
        self._write(frames.astype("<i2", copy=False).tobytes())
        self._frames += len(frames)
        self._current.audio_frames += len(frames)

    def end_track(self) -> TrackLayout:
        pad = -self._frames % FRAMES_PER_SECTOR
        self._silence(pad)
        self._frames += pad
        track = self._current
        track.end_sector = self._frames // FRAMES_PER_SECTOR
        self.layout.tracks.append(track)
        self._current = None
        return track

    def finish(self) -> DdpLayout:
        self._image.close()
        layout = self.layout
        layout.leadout_sector = self._frames // FRAMES_PER_SECTOR
        if layout.leadout_sector > MAX_SECTORS:
            raise ValueError("the programme runs past 99:59:74, the last CD address")
        layout.pq = intended_pq(layout)
        pq_blob = b"".join(entry.to_bytes() for entry in layout.pq)
        packets = []
        files: dict[str, bytes] = {}
        if self.cdtext is not None:
            packets.append(MapPacket("S0", len(self.cdtext), CDTEXT_NAME, subcode="CDTEXT", track="00"))
            files[CDTEXT_NAME] = self.cdtext
        packets.append(MapPacket("S0", len(pq_blob), PQ_NAME, subcode="PQ DESCR"))
        files[PQ_NAME] = pq_blob
        first_pregap = layout.tracks[0].start_sector if layout.tracks else 0
        packets.append(MapPacket("D0", layout.leadout_sector, IMAGE_NAME, cd_mode="DA",
                                 storage_mode="7", scrambled="0", start=0, pre2=first_pregap))
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


def plan_layout(tracks: list[tuple[int, int, int, str]], upc: str | None) -> DdpLayout:
    """The layout a running order calls for, computed independently of the writer:
    ``tracks`` is ``(number, pregap_sectors, audio_frames, isrc)`` in order."""
    layout = DdpLayout(upc=upc)
    sector = 0
    for number, pregap, frames, isrc in tracks:
        start = sector + pregap
        end = start + -(-frames // FRAMES_PER_SECTOR)
        layout.tracks.append(TrackLayout(number=number, pregap_sector=sector if pregap else None,
                                         start_sector=start, audio_frames=frames, end_sector=end,
                                         isrc=isrc or ""))
        sector = end
    layout.leadout_sector = sector
    layout.pq = intended_pq(layout)
    return layout


def intended_pq(layout: DdpLayout) -> list[PqEntry]:
    """The PQ packets a layout calls for (lead-in, indexes, lead-out twice)."""
    entries = [PqEntry("00", 0, 0, upc=layout.upc or "")]
    for track in layout.tracks:
        number = f"{track.number:02d}"
        if track.pregap_sector is not None:
            entries.append(PqEntry(number, 0, track.pregap_sector, isrc=track.isrc))
            entries.append(PqEntry(number, 1, track.start_sector))
        else:
            entries.append(PqEntry(number, 1, track.start_sector, isrc=track.isrc))
    entries += [PqEntry("AA", 1, layout.leadout_sector)] * 2
    return entries


# -- reading ----------------------------------------------------------------------------
@dataclass
class DdpImage:
    folder: Path
    ident: dict
    packets: list[MapPacket]
    pq: list[PqEntry]
    cdtext: CdText | None
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
    cdtext = decode(load(text_packets[0].file)) if text_packets else None
    return DdpImage(folder=folder, ident=ident, packets=packets, pq=pq, cdtext=cdtext, image=image,
                    image_sectors=audio[0].length, pre2=audio[0].pre2)
