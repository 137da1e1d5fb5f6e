"""SysEx templates and the three checksums."""

import pytest

from devices.errors import ProfileError
from devices.sysex import SysexTemplate, checksum


def test_roland_checksum_of_gs_reset():
    # GS reset: F0 41 10 42 12 40 00 7F 00 41 F7 -- checksum over address + data is 0x41.
    assert checksum("roland", [0x40, 0x00, 0x7F, 0x00]) == 0x41
    assert (sum([0x40, 0x00, 0x7F, 0x00]) + 0x41) % 128 == 0
    assert checksum("roland", [0, 0, 0]) == 0     # (128 - 0) % 128, not 128


def test_sum7_and_xor():
    assert checksum("sum7", [0x70, 0x20, 0x05]) == (0x95 & 0x7F)
    assert checksum("xor", [0x12, 0x34, 0x7F]) == (0x12 ^ 0x34 ^ 0x7F) & 0x7F


def test_build_and_match_round_trip():
    t = SysexTemplate.parse("F0 41 {dev} 00 42 12 40 00 {v_msb} {v_lsb} {cs} F7",
                            checksum_kind="roland", checksum_start=6)
    msg = t.build(value=1000, dev=0x10)
    assert msg[:6] == [0xF0, 0x41, 0x10, 0x00, 0x42, 0x12]
    assert sum(msg[6:-1]) % 128 == 0
    found = t.match(msg, dev=0x10)
    assert found["value"] == 1000 and found["checksum_ok"]
    bad = list(msg)
    bad[-2] ^= 1
    assert t.match(bad, dev=0x10)["checksum_ok"] is False
    assert t.match(msg, dev=0x11) is None          # another unit's id
    assert t.match(msg[:-2] + [msg[-1]], dev=0x10) is None


@pytest.mark.parametrize("text, fragment", [
    ("41 10 F7", "starts with F0"),
    ("F0 41 {foo} F7", "unknown placeholder"),
    ("F0 41 ZZ F7", "neither a hex byte"),
    ("F0 41 {v} {cs} F7", "no checksum kind"),
    ("F0 80 {v} F7", "00..7F"),
])
def test_malformed_templates(text, fragment):
    with pytest.raises(ProfileError, match=fragment):
        SysexTemplate.parse(text, file="x.toml", key="parameters.a.midi.template")
