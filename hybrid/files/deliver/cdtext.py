"""CD-Text as written in the lead-in (and in a DDP's CDTEXT.BIN): 18-byte packs.

Pack: type (0x80 title, 0x81 performer, 0x8F size information), track number of the
string that holds payload byte 0 (0 = the disc), sequence number (0, 1, 2 ... across
all packs), block/character-position byte (block 0, single-byte characters, position
of payload byte 0 within its string capped at 15), 12 payload bytes, and a CRC-16
(CCITT polynomial 0x1021, initial value 0) of the first 16 bytes, inverted and stored
big-endian.

A text type's strings run together: the disc's, then each track's, each ending in a
NUL, cut into 12-byte payloads (the last padded with NULs). Three size-information
packs end the block: character set (0 = ISO 8859-1), first and last track, the pack
count of each type 0x80..0x8F, the last sequence number and the language of each of
the 8 blocks (0x09 = English). Only block 0 is written; one block holds at most 256
packs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PACK_BYTES = 18
PAYLOAD_BYTES = 12
TITLE, PERFORMER, SIZE_INFO = 0x80, 0x81, 0x8F
TEXT_TYPES = (TITLE, PERFORMER)
MAX_PACKS = 256
CHARSET_ISO_8859_1 = 0x00
LANGUAGE_ENGLISH = 0x09


class CdTextError(ValueError):
    """CD-Text that cannot be encoded, or packs that do not decode (bad CRC, bad order)."""


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT as CD subcode uses it: polynomial 0x1021, initial 0, no reflection."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _pack(kind: int, track: int, sequence: int, position: int, payload: bytes) -> bytes:
    head = bytes([kind, track, sequence, min(position, 15)]) + payload
    return head + (crc16_ccitt(head) ^ 0xFFFF).to_bytes(2, "big")


@dataclass
class CdText:
    """Disc (index 0) and track (1..n) strings per pack type."""

    titles: list[str] = field(default_factory=list)
    performers: list[str] = field(default_factory=list)

    @property
    def track_count(self) -> int:
        return max(len(self.titles), len(self.performers)) - 1


def encode(text: CdText) -> bytes:
    """The packs of block 0 for ``text`` (disc string first, then tracks in order)."""
    tracks = text.track_count
    if tracks < 1:
        raise CdTextError("CD-Text needs the disc and at least one track")
    pieces: list[tuple[int, int, int, bytes]] = []   # kind, track, position, payload
    counts = [0] * 16
    for kind, strings in ((TITLE, text.titles), (PERFORMER, text.performers)):
        if not any(strings):
            continue
        strings = list(strings) + [""] * (tracks + 1 - len(strings))
        data, owner, position = bytearray(), [], []
        for number, value in enumerate(strings):
            try:
                encoded = value.encode("latin-1") + b"\0"
            except UnicodeEncodeError as exc:
                raise CdTextError(f"{value!r} is not ISO 8859-1 text") from exc
            if b"\0" in encoded[:-1]:
                raise CdTextError(f"{value!r} contains a NUL character")
            data += encoded
            owner += [number] * len(encoded)
            position += list(range(len(encoded)))
        data += b"\0" * (-len(data) % PAYLOAD_BYTES)
        for start in range(0, len(data), PAYLOAD_BYTES):
            pieces.append((kind, owner[start], position[start], bytes(data[start:start + PAYLOAD_BYTES])))
            counts[kind - 0x80] += 1
    counts[SIZE_INFO - 0x80] = 3
    last_sequence = len(pieces) + 2
    if last_sequence >= MAX_PACKS:
        raise CdTextError(f"CD-Text needs {last_sequence + 1} packs; one block holds {MAX_PACKS} "
                          "(shorten titles or performers)")
    if tracks > 99:
        raise CdTextError(f"{tracks} tracks; CD-Text numbers tracks 1..99")
    packs = [_pack(kind, track, sequence, position, payload)
             for sequence, (kind, track, position, payload) in enumerate(pieces)]
    info = bytes([CHARSET_ISO_8859_1, 1, tracks, 0]) + bytes(counts) \
        + bytes([last_sequence] + [0] * 7) + bytes([LANGUAGE_ENGLISH] + [0] * 7)
    for part in range(3):
        packs.append(_pack(SIZE_INFO, part, len(packs), 0,
                           info[part * PAYLOAD_BYTES:(part + 1) * PAYLOAD_BYTES]))
    return b"".join(packs)


def decode(blob: bytes) -> CdText:
    """Parse block 0 back; checks every CRC, the sequence numbers and the size information."""
    if len(blob) % PACK_BYTES:
        raise CdTextError(f"{len(blob)} bytes is not a whole number of {PACK_BYTES}-byte packs")
    streams: dict[int, bytearray] = {}
    info = bytearray()
    for index in range(len(blob) // PACK_BYTES):
        pack = blob[index * PACK_BYTES:(index + 1) * PACK_BYTES]
        crc = int.from_bytes(pack[16:18], "big") ^ 0xFFFF
        if crc != crc16_ccitt(pack[:16]):
            raise CdTextError(f"pack {index}: CRC mismatch")
        if pack[2] != index:
            raise CdTextError(f"pack {index}: sequence number {pack[2]}, expected {index}")
        if pack[3] & 0x80 or pack[3] & 0x70:
            raise CdTextError(f"pack {index}: double-byte or block other than 0 is not supported")
        if pack[0] == SIZE_INFO:
            info += pack[4:16]
        else:
            streams.setdefault(pack[0], bytearray()).extend(pack[4:16])
    if len(info) != 3 * PAYLOAD_BYTES:
        raise CdTextError("missing size information packs (0x8F)")
    tracks = info[2] - info[1] + 1
    counts = list(info[4:20])
    for kind, data in streams.items():
        if counts[kind - 0x80] * PAYLOAD_BYTES != len(data):
            raise CdTextError(f"type 0x{kind:02X}: size information says {counts[kind - 0x80]} packs")
    if info[20] != len(blob) // PACK_BYTES - 1:
        raise CdTextError("size information: last sequence number does not match the packs")

    def strings(kind: int) -> list[str]:
        if kind not in streams:
            return []
        parts = bytes(streams[kind]).split(b"\0")[:tracks + 1]
        return [p.decode("latin-1") for p in parts]

    return CdText(titles=strings(TITLE), performers=strings(PERFORMER))
