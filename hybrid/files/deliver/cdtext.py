"""CD-Text as written in the lead-in (and in a DDP's CDTEXT.BIN): 18-byte packs.

Pack: type, track number of the string that holds payload byte 0 (0 = the disc),
sequence number (0, 1, 2 ... within a block), block/character-position byte (bits 4-6
the block number, bit 7 double-byte characters, bits 0-3 the position of payload byte
0 within its string capped at 15), 12 payload bytes, and a CRC-16 (CCITT polynomial
0x1021, initial value 0) of the first 16 bytes, inverted and stored big-endian.

Types written (the ones plants accept from a DDP): 0x80 title, 0x81 performer, 0x82
songwriter, 0x83 composer, 0x84 arranger, 0x85 message (the disc's string, then each
track's), 0x86 disc identification and 0x87 genre (the disc only; a genre pack starts
with a 2-byte big-endian genre code, then the text), 0x8E UPC/EAN of the disc then the
ISRC of each track (ASCII), and 0x8F size information.

A text type's strings run together, each ending in a NUL, cut into 12-byte payloads
(the last padded with NULs). Three size-information packs end each block: character
set (0 = ISO 8859-1), first and last track, copyright byte, the pack count of each
type 0x80..0x8F, the last sequence number of each of the 8 blocks and the language of
each of the 8 blocks (EBU Tech 3264 codes: 0x09 English, 0x08 German ...). A block
holds at most 256 packs: 253 of text and the 3 of size information; a disc at most 8
blocks (references: libburn's doc/cdtext.txt, MMC-3 annex J).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PACK_BYTES = 18
PAYLOAD_BYTES = 12
TITLE, PERFORMER, SONGWRITER, COMPOSER, ARRANGER, MESSAGE = 0x80, 0x81, 0x82, 0x83, 0x84, 0x85
DISC_ID, GENRE, CODES, SIZE_INFO = 0x86, 0x87, 0x8E, 0x8F
MAX_PACKS = 256
MAX_TEXT_PACKS = MAX_PACKS - 3
MAX_BLOCKS = 8
CHARSET_ISO_8859_1 = 0x00
# EBU Tech 3264 language codes for the languages ISO 8859-1 writes
LANGUAGES = {"cs": 0x06, "da": 0x07, "de": 0x08, "en": 0x09, "es": 0x0A, "et": 0x0C, "eu": 0x0D,
             "fr": 0x0F, "ga": 0x11, "gl": 0x13, "is": 0x14, "it": 0x15, "la": 0x17, "hu": 0x1B,
             "nl": 0x1D, "no": 0x1E, "pl": 0x20, "pt": 0x21, "ro": 0x22, "sk": 0x25, "sl": 0x26,
             "fi": 0x27, "sv": 0x28, "tr": 0x29}
LANGUAGE_ENGLISH = LANGUAGES["en"]
# Genre codes of the genre pack (the CD-Text genre list)
GENRES = ["Unused", "Not Defined", "Adult Contemporary", "Alternative Rock", "Childrens Music",
          "Classical", "Contemporary Christian", "Country", "Dance", "Easy Listening", "Erotic",
          "Folk", "Gospel", "Hip Hop", "Jazz", "Latin", "Musical", "New Age", "Opera", "Operetta",
          "Pop Music", "Rap", "Reggae", "Rock Music", "Rhythm & Blues", "Sound Effects",
          "Spoken Word", "World Music"]
GENRE_NOT_DEFINED = 1

# per-track text types, in the order they are written, and the CdText field holding them
TRACK_TYPES = ((TITLE, "titles"), (PERFORMER, "performers"), (SONGWRITER, "songwriters"),
               (COMPOSER, "composers"), (ARRANGER, "arrangers"), (MESSAGE, "messages"))


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


def _pack(kind: int, track: int, sequence: int, block: int, position: int, payload: bytes) -> bytes:
    head = bytes([kind, track, sequence, (block << 4) | min(position, 15)]) + payload
    return head + (crc16_ccitt(head) ^ 0xFFFF).to_bytes(2, "big")


@dataclass
class CdText:
    """One language block: disc (index 0) and track (1..n) strings per pack type."""

    titles: list[str] = field(default_factory=list)
    performers: list[str] = field(default_factory=list)
    songwriters: list[str] = field(default_factory=list)
    composers: list[str] = field(default_factory=list)
    arrangers: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    disc_id: str = ""
    genre: str = ""                 # a name from GENRES, or free text (code "Not Defined")
    upc: str = ""
    isrcs: list[str] = field(default_factory=list)    # per track (index 0 = track 1)
    language: str = "en"

    @property
    def track_count(self) -> int:
        return max([len(getattr(self, name)) for _, name in TRACK_TYPES] + [len(self.isrcs) + 1]) - 1


def _latin1(value: str) -> bytes:
    try:
        encoded = value.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise CdTextError(f"{value!r} is not ISO 8859-1 text") from exc
    if b"\0" in encoded:
        raise CdTextError(f"{value!r} contains a NUL character")
    return encoded


def _strings_to_pieces(kind: int, strings: list[bytes]) -> list[tuple[int, int, int, bytes]]:
    """``(kind, track, position, payload)`` of a type whose strings are given per track."""
    data, owner, position = bytearray(), [], []
    for number, value in enumerate(strings):
        encoded = value + b"\0"
        data += encoded
        owner += [number] * len(encoded)
        position += list(range(len(encoded)))
    data += b"\0" * (-len(data) % PAYLOAD_BYTES)
    return [(kind, owner[start], position[start], bytes(data[start:start + PAYLOAD_BYTES]))
            for start in range(0, len(data), PAYLOAD_BYTES)]


def _block_pieces(text: CdText, tracks: int) -> list[tuple[int, int, int, bytes]]:
    pieces: list[tuple[int, int, int, bytes]] = []
    for kind, name in TRACK_TYPES:
        strings = list(getattr(text, name))
        if not any(strings):
            continue
        strings += [""] * (tracks + 1 - len(strings))
        pieces += _strings_to_pieces(kind, [_latin1(s) for s in strings])
    if text.disc_id:
        pieces += _strings_to_pieces(DISC_ID, [_latin1(text.disc_id)])
    if text.genre:
        code = GENRES.index(text.genre) if text.genre in GENRES else GENRE_NOT_DEFINED
        label = b"" if text.genre in GENRES else _latin1(text.genre)
        data = code.to_bytes(2, "big") + label + b"\0"
        data += b"\0" * (-len(data) % PAYLOAD_BYTES)
        pieces += [(GENRE, 0, start, data[start:start + PAYLOAD_BYTES])
                   for start in range(0, len(data), PAYLOAD_BYTES)]
    if text.upc or any(text.isrcs):
        codes = [text.upc] + list(text.isrcs) + [""] * (tracks - len(text.isrcs))
        pieces += _strings_to_pieces(CODES, [c.encode("ascii") for c in codes])
    return pieces


def encode(blocks: CdText | list[CdText]) -> bytes:
    """The packs of every block (one per language, at most 8), disc strings first."""
    if isinstance(blocks, CdText):
        blocks = [blocks]
    if not 1 <= len(blocks) <= MAX_BLOCKS:
        raise CdTextError(f"{len(blocks)} CD-Text blocks; a disc holds 1 to {MAX_BLOCKS}")
    tracks = max(b.track_count for b in blocks)
    if tracks < 1:
        raise CdTextError("CD-Text needs the disc and at least one track")
    if tracks > 99:
        raise CdTextError(f"{tracks} tracks; CD-Text numbers tracks 1..99")
    languages = []
    for block in blocks:
        if block.language not in LANGUAGES:
            raise CdTextError(f"language {block.language!r}: expected one of {', '.join(sorted(LANGUAGES))}")
        languages.append(LANGUAGES[block.language])
    if len(set(languages)) != len(languages):
        raise CdTextError("two CD-Text blocks have the same language")
    all_pieces = [_block_pieces(block, tracks) for block in blocks]
    for block, pieces in zip(blocks, all_pieces, strict=True):
        if len(pieces) > MAX_TEXT_PACKS:
            raise CdTextError(
                f"the {block.language!r} block needs {len(pieces) + 3} packs; a block holds {MAX_PACKS} "
                f"({MAX_TEXT_PACKS} of text, {(len(pieces) - MAX_TEXT_PACKS) * PAYLOAD_BYTES} bytes too "
                "many: shorten titles, names or messages)")
    last_sequences = [len(p) + 2 for p in all_pieces] + [0] * (MAX_BLOCKS - len(blocks))
    language_bytes = languages + [0] * (MAX_BLOCKS - len(blocks))
    out = []
    for number, pieces in enumerate(all_pieces):
        counts = [0] * 16
        for kind, *_ in pieces:
            counts[kind - 0x80] += 1
        counts[SIZE_INFO - 0x80] = 3
        packs = [_pack(kind, track, sequence, number, position, payload)
                 for sequence, (kind, track, position, payload) in enumerate(pieces)]
        info = bytes([CHARSET_ISO_8859_1, 1, tracks, 0]) + bytes(counts) + bytes(last_sequences) \
            + bytes(language_bytes)
        for part in range(3):
            packs.append(_pack(SIZE_INFO, part, len(packs), number, 0,
                               info[part * PAYLOAD_BYTES:(part + 1) * PAYLOAD_BYTES]))
        out += packs
    return b"".join(out)


def _split(data: bytes, count: int) -> list[bytes]:
    return bytes(data).split(b"\0")[:count]


def decode_blocks(blob: bytes) -> list[CdText]:
    """Parse every block; checks every CRC, the sequence numbers and the size information."""
    if not blob or len(blob) % PACK_BYTES:
        raise CdTextError(f"{len(blob)} bytes is not a whole number of {PACK_BYTES}-byte packs")
    packs = [blob[i:i + PACK_BYTES] for i in range(0, len(blob), PACK_BYTES)]
    by_block: dict[int, list[bytes]] = {}
    for index, pack in enumerate(packs):
        crc = int.from_bytes(pack[16:18], "big") ^ 0xFFFF
        if crc != crc16_ccitt(pack[:16]):
            raise CdTextError(f"pack {index}: CRC mismatch")
        if pack[3] & 0x80:
            raise CdTextError(f"pack {index}: double-byte characters are not supported")
        by_block.setdefault((pack[3] >> 4) & 0x07, []).append(pack)
    blocks = []
    languages_by_code = {code: name for name, code in LANGUAGES.items()}
    for number in sorted(by_block):
        block_packs = by_block[number]
        streams: dict[int, bytearray] = {}
        info = bytearray()
        for sequence, pack in enumerate(block_packs):
            if pack[2] != sequence:
                raise CdTextError(f"block {number} pack {sequence}: sequence number {pack[2]}, "
                                  f"expected {sequence}")
            if pack[0] == SIZE_INFO:
                info += pack[4:16]
            else:
                streams.setdefault(pack[0], bytearray()).extend(pack[4:16])
        if len(info) != 3 * PAYLOAD_BYTES:
            raise CdTextError(f"block {number}: missing size information packs (0x8F)")
        tracks = info[2] - info[1] + 1
        counts = list(info[4:20])
        for kind, data in streams.items():
            if counts[kind - 0x80] * PAYLOAD_BYTES != len(data):
                raise CdTextError(f"block {number} type 0x{kind:02X}: size information says "
                                  f"{counts[kind - 0x80]} packs")
        if info[20 + number] != len(block_packs) - 1:
            raise CdTextError(f"block {number}: size information: last sequence number does not "
                              "match the packs")
        text = CdText(language=languages_by_code.get(info[28 + number], f"0x{info[28 + number]:02X}"))
        for kind, name in TRACK_TYPES:
            if kind in streams:
                setattr(text, name, [p.decode("latin-1") for p in _split(streams[kind], tracks + 1)])
        if DISC_ID in streams:
            text.disc_id = _split(streams[DISC_ID], 1)[0].decode("latin-1")
        if GENRE in streams:
            data = bytes(streams[GENRE])
            code = int.from_bytes(data[:2], "big")
            label = data[2:].split(b"\0")[0].decode("latin-1")
            text.genre = label or (GENRES[code] if code < len(GENRES) else "")
        if CODES in streams:
            codes = [p.decode("ascii", errors="replace") for p in _split(streams[CODES], tracks + 1)]
            text.upc, text.isrcs = codes[0], codes[1:]
        blocks.append(text)
    return blocks


def decode(blob: bytes) -> CdText:
    """Block 0 (see :func:`decode_blocks` for all of them)."""
    return decode_blocks(blob)[0]
