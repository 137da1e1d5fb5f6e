"""Codes, CD-Text packs and DDP records: known answers, round trips, refusals."""

from __future__ import annotations

import pytest

from hybrid.files.deliver.cdtext import CdText, CdTextError, crc16_ccitt, decode, decode_blocks, encode
from hybrid.files.deliver.codes import format_isrc, normalize_isrc, normalize_upc
from hybrid.files.deliver.ddp import (MapPacket, PqEntry, ddpid_bytes, msf, msf_to_sector, parse_ddpid,
                                parse_ddpms, parse_pq)


def test_isrc_forms():
    assert normalize_isrc("gb-xyz-26-00001") == "GBXYZ2600001"
    assert normalize_isrc("USRC17607839") == "USRC17607839"
    assert format_isrc("USRC17607839") == "US-RC1-76-07839"
    for bad in ("GB-XYZ-26-0001", "G1-XYZ-26-00001", "GB-XY!-26-00001", "GBXYZ26000011", 12):
        with pytest.raises(ValueError):
            normalize_isrc(bad)


def test_ean_and_upc_check_digits():
    assert normalize_upc("4006381333931") == "4006381333931"      # EAN-13
    assert normalize_upc("036000291452") == "0036000291452"       # UPC-A -> EAN-13
    with pytest.raises(ValueError, match="check digit is 2, expected 1"):
        normalize_upc("4006381333932")
    with pytest.raises(ValueError, match="check digit is 3, expected 2"):
        normalize_upc("036000291453")


def test_crc16_ccitt_known_answer():
    assert crc16_ccitt(b"123456789") == 0x31C3       # CRC-16/XMODEM check value


def test_cdtext_packs_follow_the_layout():
    blob = encode(CdText(titles=["Disc", "Track One", "Track Two", "Track Three"],
                         performers=["Artist"] * 4))
    packs = [blob[i:i + 18] for i in range(0, len(blob), 18)]
    assert [p[0] for p in packs] == [0x80] * 4 + [0x81] * 3 + [0x8F] * 3
    assert [p[2] for p in packs] == list(range(10))
    assert packs[0][4:16] == b"Disc\0Track O"
    assert (packs[1][1], packs[1][3]) == (1, 7)       # "ne..." belongs to track 1, position 7
    assert (packs[3][1], packs[3][3]) == (3, 11)      # the NUL ending "Track Three"
    info = b"".join(p[4:16] for p in packs[-3:])
    assert info[:4] == bytes([0, 1, 3, 0])
    assert info[4] == 4 and info[5] == 3 and info[19] == 3 and info[20] == 9 and info[28] == 0x09
    for p in packs:
        assert int.from_bytes(p[16:18], "big") == crc16_ccitt(p[:16]) ^ 0xFFFF
    assert decode(blob) == CdText(titles=["Disc", "Track One", "Track Two", "Track Three"],
                                  performers=["Artist"] * 4)


def test_cdtext_refusals_and_corruption():
    with pytest.raises(CdTextError, match=r"the 'en' block needs \d+ packs; a block holds 256 \(253 of text, "
                                          r"\d+ bytes too many"):
        encode(CdText(titles=["x" * 160] * 20, performers=["y" * 160] * 20))
    with pytest.raises(CdTextError, match="ISO 8859-1"):
        encode(CdText(titles=["Disc", "日本"]))
    blob = bytearray(encode(CdText(titles=["Disc", "Song"])))
    blob[6] ^= 0x20
    with pytest.raises(CdTextError, match="pack 0: CRC mismatch"):
        decode(bytes(blob))


def test_ddp_records_round_trip_and_accept_zero_padding():
    assert msf(150) == "000200" and msf_to_sector("  000200") == 150
    assert msf(99 * 60 * 75 + 74) == "990074"
    ident = parse_ddpid(ddpid_bytes("5012345678900", "JOB 7"))
    assert ident == {"level": "DDP 2.00", "upc": "5012345678900", "master_id": "JOB 7", "type": "CD"}
    packet = MapPacket("D0", 1650, "IMAGE.DAT", cd_mode="DA", storage_mode="7", scrambled="0",
                       start=0, pre2=150)
    raw = packet.to_bytes()
    assert len(raw) == 128 and raw[:6] == b"VVVMD0" and raw[38:42] == b"DA70" and raw[74:83] == b"IMAGE.DAT"
    assert parse_ddpms(raw)[0] == packet
    zero_padded = raw[:14] + b"00001650" + raw[22:]          # Sonoris/HOFA style numbers
    assert parse_ddpms(zero_padded)[0].length == 1650
    entry = PqEntry("01", 1, 150, isrc="GBXYZ2600001")
    # HH MM SS FF as digits: hours are "00", never blank (a loader parses them as numbers)
    assert len(entry.to_bytes()) == 64 and entry.to_bytes()[:20] == b"VVVS010100000200" + b"0100"
    assert parse_pq(b"VVVS0101  000200" + entry.to_bytes()[16:])[0].sector == 150   # others' blanks
    assert parse_pq(entry.to_bytes()) == [entry]


def test_cdtext_fields_and_language_blocks_follow_the_layout():
    english = CdText(titles=["Disc", "One", "Two"], performers=["Band"] * 3, songwriters=["", "W1", "W2"],
                     composers=["C"] * 3, arrangers=["", "", "A2"], messages=["Thanks", "", ""],
                     disc_id="ID-7", genre="Jazz", upc="5012345678900",
                     isrcs=["GBXYZ2600001", "GBXYZ2600002"], language="en")
    german = CdText(titles=["Scheibe", "Eins", "Zwei"], language="de")
    blob = encode([english, german])
    packs = [blob[i:i + 18] for i in range(0, len(blob), 18)]
    for p in packs:
        assert int.from_bytes(p[16:18], "big") == crc16_ccitt(p[:16]) ^ 0xFFFF
    first = [p for p in packs if p[3] >> 4 == 0]
    second = [p for p in packs if p[3] >> 4 == 1]
    assert [p[2] for p in first] == list(range(len(first)))          # sequence numbers per block
    assert [p[2] for p in second] == list(range(len(second)))
    kinds = [p[0] for p in first]
    assert kinds == sorted(kinds) and {0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x8E, 0x8F} == set(kinds)
    genre = b"".join(p[4:16] for p in first if p[0] == 0x87)
    assert genre[:2] == (14).to_bytes(2, "big")                       # Jazz
    codes = b"".join(p[4:16] for p in first if p[0] == 0x8E)
    assert codes.startswith(b"5012345678900\0GBXYZ2600001\0GBXYZ2600002\0")
    info = b"".join(p[4:16] for p in first[-3:])
    assert info[20:22] == bytes([len(first) - 1, len(second) - 1]) and info[28:30] == bytes([0x09, 0x08])
    assert decode_blocks(blob) == [english, german]


def test_cdtext_block_limits():
    blocks = [CdText(titles=["D", "T"], language=code) for code in ("en", "de", "fr", "es", "it", "nl", "pt", "sv")]
    assert len(decode_blocks(encode(blocks))) == 8
    with pytest.raises(CdTextError, match="9 CD-Text blocks; a disc holds 1 to 8"):
        encode(blocks + [CdText(titles=["D", "T"], language="da")])
    with pytest.raises(CdTextError, match="same language"):
        encode([CdText(titles=["D", "T"]), CdText(titles=["E", "U"])])
