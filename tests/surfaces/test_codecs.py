"""The wire formats, byte by byte (no ports: the codecs are pure)."""

from __future__ import annotations

import mido
import pytest

from devices.surfaces import hui, mcu
from devices.surfaces.codec import (
    Alive, ButtonPress, FaderMove, FaderTouch, RingMode, SurfaceReset, Unrecognised, VPotTurn,
    display_text, fader_normalized, fader_value, parse_ring_byte, ring_byte,
)
from devices.surfaces.units import _changed_spans


def hexbytes(msg: mido.Message) -> str:
    return bytes(msg.bytes()).hex(" ")


def test_mcu_lcd_sysex_header_and_offset():
    assert hexbytes(mcu.McuCodec().lcd(0x38, "Ab")) == "f0 00 00 66 14 12 38 41 62 f7"
    assert hexbytes(mcu.McuCodec(mcu.XT_ID).lcd(7, "x")) == "f0 00 00 66 15 12 07 78 f7"
    assert mcu.lcd_offset(1, 3) == 0x38 + 21


def test_mcu_lcd_refuses_to_run_off_the_display():
    with pytest.raises(ValueError, match="outside"):
        mcu.McuCodec().lcd(0x6E, "abc")


@pytest.mark.parametrize("value", [0, 1, 8191, 8192, 12345, 16383])
def test_mcu_fader_is_14_bit_pitch_bend(value):
    codec = mcu.McuCodec()
    msg = codec.fader(5, value)
    raw = msg.bytes()
    assert raw[0] == 0xE5 and raw[1] | (raw[2] << 7) == value
    assert codec.decode(msg) == [FaderMove(5, value)]
    assert codec.decode_host(msg) == [mcu.FaderSet(5, value)]


def test_mcu_vpot_sign_touch_and_buttons():
    codec = mcu.McuCodec()
    assert codec.decode(mido.Message.from_bytes([0xB0, 0x12, 0x03])) == [VPotTurn(2, 3)]
    assert codec.decode(mido.Message.from_bytes([0xB0, 0x12, 0x41])) == [VPotTurn(2, -1)]
    assert codec.decode(mido.Message.from_bytes([0x90, 0x6A, 0x7F])) == [FaderTouch(2, True)]
    assert codec.decode(mido.Message.from_bytes([0x90, 0x6A, 0x00])) == [FaderTouch(2, False)]
    assert codec.decode(mido.Message.from_bytes([0x90, 0x1B, 0x7F])) == [ButtonPress("select", True, 3)]
    assert codec.decode(mido.Message.from_bytes([0x90, 0x2F, 0x7F])) == [ButtonPress("bank_right", True)]
    assert codec.turn(2, -1).bytes() == [0xB0, 0x12, 0x41]


def test_mcu_host_connection_query_and_unknowns():
    codec = mcu.McuCodec(mcu.XT_ID)
    assert codec.decode(codec.host_connection_query(b"ABCDEFG")) == [Alive(True, b"ABCDEFG")]
    wrong_id = mcu.McuCodec().host_connection_query(b"ABCDEFG")
    [event] = codec.decode(wrong_id)
    assert isinstance(event, Unrecognised) and "device id 0x14, expected 0x15" in event.reason
    [event] = codec.decode(mido.Message.from_bytes([0xF0, 0x43, 0x10, 0xF7]))
    assert isinstance(event, Unrecognised) and "Mackie header" in event.reason
    [event] = codec.decode(mido.Message.from_bytes([0xB0, 0x70, 0x01]))
    assert isinstance(event, Unrecognised) and "0x70" in event.describe()


def test_mcu_simulator_side_flags_bad_host_bytes():
    codec = mcu.McuCodec(mcu.XT_ID)
    [bad] = codec.decode_host(mcu.McuCodec(mcu.MCU_ID).lcd(0, "x"))
    assert isinstance(bad, mcu.Violation) and "this unit is 0x15" in bad.reason
    [bad] = codec.decode_host(mido.Message("sysex", data=(0, 0, 0x66, 0x15, 0x12, 0x6F, 65, 66)))
    assert isinstance(bad, mcu.Violation) and "runs past" in bad.reason
    [bad] = codec.decode_host(mido.Message("control_change", control=0x31, value=0x0D))
    assert isinstance(bad, mcu.Violation) and "above 11" in bad.reason


def test_ring_byte_layout():
    assert ring_byte(RingMode.BOOST_CUT, 6, centre_led=True) == 0x56
    assert parse_ring_byte(0x56) == (RingMode.BOOST_CUT, 6, True)
    with pytest.raises(ValueError):
        ring_byte(RingMode.DOT, 12)


def test_fader_scale_round_trips_every_14_bit_value():
    assert all(fader_value(fader_normalized(v)) == v for v in range(0, 16384))


def test_hui_fader_pair_zone_port_and_vpot():
    codec = hui.HuiCodec()
    hi, lo = codec.fader(3, 0x1ABC)
    assert hi.bytes() == [0xB0, 0x03, 0x1ABC >> 7] and lo.bytes() == [0xB0, 0x23, 0x1ABC & 0x7F]
    assert codec.decode(hi) == [] and codec.decode(lo) == [FaderMove(3, 0x1ABC)]
    [event] = codec.decode(lo)
    assert isinstance(event, Unrecognised) and "without its high byte" in event.reason
    zone, port = codec.switch(4, 0, True)
    assert zone.bytes() == [0xB0, 0x0F, 0x04] and port.bytes() == [0xB0, 0x2F, 0x40]
    assert codec.decode(zone) == [] and codec.decode(port) == [FaderTouch(4, True)]
    assert [e for m in codec.press("select", True, 6) for e in codec.decode(m)] == [ButtonPress("select", True, 6)]
    assert [e for m in codec.press("bank_left", True) for e in codec.decode(m)] == [ButtonPress("bank_left", True)]
    [event] = codec.decode(mido.Message.from_bytes([0xB0, 0x2F, 0x41]))
    assert isinstance(event, Unrecognised) and "without a zone" in event.reason
    assert codec.decode(mido.Message.from_bytes([0xB0, 0x45, 0x41])) == [VPotTurn(5, 1)]
    assert codec.decode(mido.Message.from_bytes([0xB0, 0x45, 0x02])) == [VPotTurn(5, -2)]
    assert codec.turn(5, 1).bytes() == [0xB0, 0x45, 0x41]


def test_hui_heartbeat_reset_and_text():
    codec = hui.HuiCodec()
    assert codec.ping().bytes() == [0x90, 0x00, 0x00]
    assert codec.decode(codec.ping_reply()) == [Alive(True)]
    assert codec.decode(mido.Message("reset")) == [SurfaceReset()]
    assert hexbytes(codec.small_text(2, "Thr ")) == "f0 00 00 66 05 00 10 02 54 68 72 20 f7"
    assert hexbytes(codec.large_text(4, "0123456789"))[:26] == "f0 00 00 66 05 00 12 04 30"
    assert codec.decode_host(codec.large_text(7, "x" * 10)) == [hui.LargeText(7, "x" * 10)]
    with pytest.raises(ValueError, match="exactly 4"):
        codec.small_text(0, "toolong")
    zone, port = codec.led("mute", True, 1)
    assert zone.bytes() == [0xB0, 0x0C, 0x01] and port.bytes() == [0xB0, 0x2C, 0x42]
    assert codec.decode_host(zone) == [] and codec.decode_host(port) == [hui.LedSet(1, 2, True)]


def test_display_text_abbreviates_and_folds_accents():
    assert display_text("Threshold", 6) == "Thrshl"
    assert display_text("Ratio", 6) == "Ratio "
    assert display_text("Décalage", 8) == "Decalage"
    assert display_text("Hi Shelf Gain", 6) == "HShlfG"  # every word keeps its head
    assert display_text("温度", 4) == "??  "


def test_lcd_updates_send_only_changed_runs():
    old = "A" * 56
    new = old[:10] + "BB" + old[12:50] + "C" + old[51:]
    assert _changed_spans(new, old) == [(10, "BB"), (50, "C")]
    assert _changed_spans(new, None) == [(0, new)]
    assert _changed_spans(new, new) == []
