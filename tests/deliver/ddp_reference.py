"""An independent DDP 2.00 reader for tests, written from the published field layouts
(DDPID 128 bytes; DDPMS 128-byte packets: VVVM, stream type at 4, DSL at 14 (8 digits),
SUB at 30, CDM at 38, SIZ at 71 (3 digits), DSI at 74; PQ descriptor 64-byte packets:
VVVS, TRK at 4, IDX at 6, HRS MIN SEC FRM at 8/10/12/14, CB1 at 16, CB2 at 18, ISRC at
20, UPC/EAN at 32; CD-Text 18-byte packs with an inverted CRC-16/CCITT), the way a
plant's loader reads them: every numeric field must be digits, times in range, the
image whole 2352-byte sectors. It shares no code with hybrid: CRCs come from the
standard library's ``binascii.crc_hqx`` (CRC-CCITT, initial 0), WAVs from ``wave``.
"""

from __future__ import annotations

import binascii
import wave
from dataclasses import dataclass, field
from pathlib import Path

SECTOR = 2352


class LoaderRefusal(Exception):
    """What a strict loader would refuse."""


def _digits(text: str, what: str, most: int | None = None) -> int:
    if not text.isdigit():
        raise LoaderRefusal(f"{what}: {text!r} is not a number")
    value = int(text)
    if most is not None and value > most:
        raise LoaderRefusal(f"{what}: {value} > {most}")
    return value


@dataclass
class PqPacket:
    track: str
    index: int
    sector: int
    cb1: int
    isrc: str
    upc: str


@dataclass
class Ddp:
    folder: Path
    upc: str
    streams: list[dict] = field(default_factory=list)
    pq: list[PqPacket] = field(default_factory=list)
    cdtext_packs: list[bytes] = field(default_factory=list)
    image: Path | None = None
    sectors: int = 0

    def pcm(self) -> bytes:
        assert self.image is not None
        return self.image.read_bytes()

    def marks(self) -> dict[tuple[int, int], int]:
        """(track, index) -> sector, for the programme's tracks."""
        return {(int(p.track), p.index): p.sector for p in self.pq if p.track not in ("00", "AA")}

    def leadout(self) -> int:
        return [p.sector for p in self.pq if p.track == "AA"][0]


def load(folder: Path) -> Ddp:
    folder = Path(folder)
    ident = (folder / "DDPID").read_bytes()
    if len(ident) != 128 or ident[:8] != b"DDP 2.00":
        raise LoaderRefusal("DDPID: not a 128-byte DDP 2.00 identifier")
    ddp = Ddp(folder, upc=ident[8:21].decode("ascii").strip())
    ms = (folder / "DDPMS").read_bytes()
    if not ms or len(ms) % 128:
        raise LoaderRefusal("DDPMS: not whole 128-byte packets")
    for i in range(0, len(ms), 128):
        text = ms[i:i + 128].decode("ascii")
        if text[:4] != "VVVM":
            raise LoaderRefusal(f"DDPMS {i // 128}: no VVVM")
        size = _digits(text[71:74], "DDPMS SIZ")
        ddp.streams.append({"type": text[4:6], "length": _digits(text[14:22], "DDPMS DSL"),
                            "sub": text[30:38].strip(), "mode": text[38:40], "name": text[74:74 + size].strip()})
    for stream in ddp.streams:
        path = folder / stream["name"]
        if stream["type"] == "D0":
            if path.stat().st_size != stream["length"] * SECTOR:
                raise LoaderRefusal(f"{path.name}: {path.stat().st_size} bytes for {stream['length']} sectors")
            ddp.image, ddp.sectors = path, stream["length"]
        elif stream["sub"] == "PQ DESCR":
            blob = path.read_bytes()
            if len(blob) != stream["length"] or len(blob) % 64:
                raise LoaderRefusal("PQ descriptor: length")
            for j in range(0, len(blob), 64):
                ddp.pq.append(_pq(blob[j:j + 64].decode("ascii"), j // 64))
        elif stream["sub"] == "CDTEXT":
            blob = path.read_bytes()
            if len(blob) != stream["length"] or len(blob) % 18:
                raise LoaderRefusal("CD-Text: length")
            for j in range(0, len(blob), 18):
                pack = blob[j:j + 18]
                if binascii.crc_hqx(pack[:16], 0) ^ 0xFFFF != int.from_bytes(pack[16:], "big"):
                    raise LoaderRefusal(f"CD-Text pack {j // 18}: CRC")
                ddp.cdtext_packs.append(pack)
    if ddp.image is None or not ddp.pq:
        raise LoaderRefusal("no audio image or no PQ descriptor")
    return ddp


def _pq(text: str, number: int) -> PqPacket:
    where = f"PQ packet {number}"
    if text[:4] != "VVVS":
        raise LoaderRefusal(f"{where}: no VVVS")
    track = text[4:6]
    if track != "AA":
        _digits(track, f"{where} TRK", 99)
    hours = _digits(text[8:10], f"{where} HRS", 0)
    minutes = _digits(text[10:12], f"{where} MIN", 99)
    seconds = _digits(text[12:14], f"{where} SEC", 59)
    frames = _digits(text[14:16], f"{where} FRM", 74)
    return PqPacket(track=track, index=_digits(text[6:8], f"{where} IDX", 99),
                    sector=((hours * 60 + minutes) * 60 + seconds) * 75 + frames,
                    cb1=int(text[16:18], 16), isrc=text[20:32].strip(), upc=text[32:45].strip())


def cdtext_strings(packs: list[bytes], kind: int, block: int = 0) -> list[str]:
    data = b"".join(p[4:16] for p in packs if p[0] == kind and (p[3] >> 4) & 7 == block)
    return [s.decode("latin-1") for s in data.split(b"\0")]


def wav_pcm(path: Path) -> bytes:
    """The little-endian 16-bit stereo PCM of a WAV (mono doubled), via ``wave``."""
    with wave.open(str(path)) as handle:
        assert handle.getsampwidth() == 2 and handle.getframerate() == 44100
        data = handle.readframes(handle.getnframes())
        if handle.getnchannels() == 1:
            out = bytearray()
            for i in range(0, len(data), 2):
                out += data[i:i + 2] * 2
            return bytes(out)
        return data
