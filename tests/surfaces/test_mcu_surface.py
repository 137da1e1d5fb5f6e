"""An MCU with three extenders (32 strips) driven over real JACK MIDI by a SurfaceSession."""

from __future__ import annotations

import time

import pytest

from devices.errors import DeviceError
from devices.surfaces import Slot, SlotConfirm, SurfaceError, SurfaceSession
from devices.surfaces import mcu
from devices.surfaces.codec import fader_value, parse_ring_byte, RingMode
from devices.surfaces.sim import SimulatedMcu

from tests.surfaces.conftest import BACKEND, make_slots, open_mcu_rig, unique


def shows_slots(rig, slots, offset=0):
    def check():
        for strip in range(rig.sim.strips):
            slot = slots[offset + strip] if offset + strip < len(slots) else None
            top, bottom = rig.sim.unit_strip(strip)[0].strip_text(strip % 8)
            want_top = (slot.parameter if slot else "").ljust(7)[:7]
            want_bottom = (slot.value_text if slot else "").ljust(7)[:7]
            if (top, bottom) != (want_top, want_bottom):
                return False
            if rig.sim.fader(strip) != (fader_value(slot.position) if slot else 0):
                return False
        return True
    return check


def test_lcd_text_lands_at_each_strips_offset_on_every_unit(mcu_rig):
    slots = make_slots(32)
    mcu_rig.session.set_slots(slots)
    mcu_rig.settle(shows_slots(mcu_rig, slots))
    # the raw LCD memory of the third extender: strip 5 of XT3 is slot 29
    xt3 = mcu_rig.sim.units[3]
    assert "".join(xt3.lcd[5 * 7:6 * 7]) == "P29    "
    assert "".join(xt3.lcd[0x38 + 5 * 7:0x38 + 6 * 7]) == "29 dB  "
    assert xt3.codec.device_id == mcu.XT_ID
    assert mcu_rig.sim.errors == []


def test_fader_positions_round_trip_at_14_bits(mcu_rig):
    values = [0, 1, 2, 4095, 8191, 8192, 8193, 12000, 16382, 16383]
    slots = [Slot("EQ", f"F{i}", position=v / 16383) for i, v in enumerate(values)]
    mcu_rig.session.set_slots(slots)
    mcu_rig.settle(lambda: [mcu_rig.sim.fader(i) for i in range(len(values))] == values)
    # and back: a hand move of exactly v arrives as a position that maps to v
    for strip, value in enumerate([3, 9000, 16380]):
        mcu_rig.sim.touch(strip)
        mcu_rig.sim.move(strip, value)
        mcu_rig.sim.touch(strip, False)
    mcu_rig.settle(lambda: len([e for e in mcu_rig.edits if e.final]) >= 3)
    finals = {e.index: e.position for e in mcu_rig.edits if e.final}
    assert [fader_value(finals[i]) for i in range(3)] == [3, 9000, 16380]
    assert mcu_rig.sim.errors == []


def test_a_touched_fader_is_not_fought_and_gets_the_final_value_on_release(mcu_rig):
    slots = make_slots(32)
    mcu_rig.session.set_slots(slots)
    mcu_rig.settle(shows_slots(mcu_rig, slots))
    strip = 12  # on the first extender
    mcu_rig.sim.touch(strip)
    mcu_rig.sim.move(strip, 0.25)
    mcu_rig.settle(lambda: any(e.index == strip for e in mcu_rig.edits))
    before = mcu_rig.sim.fader_messages
    for position in (0.1, 0.9, 0.6):  # the sheet changes under the finger (another editor)
        mcu_rig.session.update_slot(strip, position=position, value_text=f"{position}")
    mcu_rig.session.wait_idle()
    time.sleep(0.05)
    assert mcu_rig.sim.fader(strip) == fader_value(0.25)
    assert mcu_rig.sim.fader_messages == before, "a motor move was sent to a touched fader"
    assert mcu_rig.sim.wait_for(lambda: mcu_rig.sim.strip_text(strip) == ("1176#2 ", "0.6    ")), \
        "a touched strip names its device and shows the sheet's value"
    mcu_rig.sim.touch(strip, False)
    mcu_rig.settle(lambda: mcu_rig.sim.fader(strip) == fader_value(0.6))
    assert mcu_rig.sim.strip_text(strip)[0] == "P12    "
    assert mcu_rig.sim.errors == []
    moves = [e for e in mcu_rig.edits if e.index == strip]
    assert moves[-1].final and moves[-1].source == "fader"


def test_bank_buttons_redraw_every_strip(mcu_rig):
    slots = make_slots(70)
    mcu_rig.session.set_slots(slots)
    mcu_rig.settle(shows_slots(mcu_rig, slots, 0))
    mcu_rig.sim.press("bank_right")
    mcu_rig.settle(shows_slots(mcu_rig, slots, 32))
    mcu_rig.sim.press("bank_right")  # runs out: the last bank shows the last 32
    mcu_rig.settle(shows_slots(mcu_rig, slots, 38))
    assert mcu_rig.session.offset == 38
    mcu_rig.sim.press("channel_left")
    mcu_rig.settle(shows_slots(mcu_rig, slots, 37))
    mcu_rig.sim.press("bank_left")
    mcu_rig.settle(shows_slots(mcu_rig, slots, 5))
    rings = [parse_ring_byte(mcu_rig.sim.ring(s)) for s in range(32)]
    assert all(mode == RingMode.WRAP and 1 <= pos <= 11 for mode, pos, _ in rings)
    assert mcu_rig.sim.errors == []


def test_vpot_turns_edit_continuous_and_stepped_slots(mcu_rig):
    slots = [Slot("1176 #2", "Input", "-20 dB", position=0.5),
             Slot("1176 #2", "Ratio", "4:1", position=0.0, kind="stepped", steps=5)]
    mcu_rig.session.set_slots(slots)
    mcu_rig.settle()
    mcu_rig.sim.turn(0, 20)
    mcu_rig.sim.turn(1, 2)
    mcu_rig.sim.turn(1, 9)  # past the last detent: stays on it
    mcu_rig.settle(lambda: sum(1 for e in mcu_rig.edits if e.index == 1 and e.step == 4) == 1)
    mcu_rig.session.wait_idle()
    input_edit = [e for e in mcu_rig.edits if e.index == 0][-1]
    assert input_edit.source == "vpot" and input_edit.delta == 20 and input_edit.position == pytest.approx(0.7)
    ratio_steps = [e.step for e in mcu_rig.edits if e.index == 1]
    assert ratio_steps[-1] == 4
    assert mcu_rig.sim.wait_for(lambda: parse_ring_byte(mcu_rig.sim.ring(1))[:2] == (RingMode.DOT, 11))
    assert mcu_rig.sim.wait_for(lambda: parse_ring_byte(mcu_rig.sim.ring(0))[1] == 8)


def test_hand_set_target_blinks_until_confirmed_on_the_surface(mcu_rig):
    slots = [Slot("Pultec", "Low Boost", "5", position=0.5, kind="stepped", steps=11, target=True),
             Slot("Pultec", "Att", "on", position=1.0, kind="switch")]
    mcu_rig.session.set_slots(slots)
    mcu_rig.settle(lambda: mcu_rig.sim.led("select", 0) == "blink")
    assert mcu_rig.sim.strip_text(0) == ("Lw Bst ", ">5     ")
    mode, position, centre = parse_ring_byte(mcu_rig.sim.ring(0))
    assert (mode, position, centre) == (RingMode.DOT, 6, True)
    assert mcu_rig.sim.fader(0) == fader_value(0.5)
    mcu_rig.sim.press("select", 0)
    mcu_rig.settle(lambda: mcu_rig.sim.led("select", 0) == "on")
    assert mcu_rig.sim.strip_text(0) == ("Lw Bst ", "5      ")
    mcu_rig.session.wait_idle()
    assert [type(c) for c in mcu_rig.confirms] == [SlotConfirm] and mcu_rig.confirms[0].index == 0
    assert mcu_rig.session.slots[0].confirmed
    # a switch toggles from its SELECT button
    assert mcu_rig.sim.led("select", 1) == "on"
    mcu_rig.sim.press("select", 1)
    mcu_rig.settle(lambda: mcu_rig.sim.led("select", 1) == "off")
    mcu_rig.session.wait_idle()
    assert [(e.index, e.step, e.source) for e in mcu_rig.edits] == [(1, 0, "button")]


def test_name_value_shows_device_names(mcu_rig):
    mcu_rig.session.set_slots([Slot("Distressor", "Attack", "3"), Slot("Distressor", "Release", "5")])
    mcu_rig.settle()
    mcu_rig.sim.press("name_value")
    mcu_rig.settle(lambda: mcu_rig.sim.strip_text(1)[0] == "Dstrss ")
    mcu_rig.sim.press("name_value")
    mcu_rig.settle(lambda: mcu_rig.sim.strip_text(1)[0] == "Releas ")


def test_unknown_and_malformed_surface_messages_are_reported_not_fatal(mcu_rig):
    mcu_rig.session.set_slots(make_slots(4))
    mcu_rig.settle()
    mcu_rig.sim.send_raw(bytes([0xF0, 0x00, 0x00, 0x66, 0x14, 0x7A, 0x01, 0xF7]))  # unknown command
    mcu_rig.sim.send_raw(bytes([0xF0, 0x7E, 0x00, 0x06, 0x02, 0xF7]))  # someone else's SysEx
    mcu_rig.sim.send_raw(bytes([0xB0, 0x77, 0x05]))  # not an MCU control
    mcu_rig.sim.send_raw(bytes([0xC0, 0x05]))  # program change
    mcu_rig.session.wait_idle()
    assert mcu_rig.sim.wait_for(lambda: len(mcu_rig.problems) == 4)
    details = [p.detail for p in mcu_rig.problems]
    assert "f0 00 00 66 14 7a 01 f7: SysEx command 0x7a not expected from a surface" in details
    assert any("Mackie header" in d for d in details)
    assert any("CC 0x77 is not an MCU control" in d for d in details)
    assert any("program_change is not part of the MCU protocol" in d for d in details)
    assert all(p.unit_name == mcu_rig.session.surface.name for p in mcu_rig.problems)
    # still working
    mcu_rig.sim.move(2, 0.75)
    mcu_rig.settle(lambda: any(e.index == 2 for e in mcu_rig.edits))


def test_a_fader_storm_from_the_sheet_is_coalesced(mcu_rig):
    mcu_rig.session.set_slots(make_slots(32))
    mcu_rig.settle()
    before = mcu_rig.sim.fader_messages
    for i in range(3000):
        mcu_rig.session.update_slot(i % 4, position=(i % 1000) / 1000)
    last = {s: ((3000 - 4 + s) % 1000) / 1000 for s in range(4)}
    mcu_rig.settle(lambda: all(mcu_rig.sim.fader(s) == fader_value(last[s]) for s in range(4)))
    sent = mcu_rig.sim.fader_messages - before
    assert sent < 300, f"{sent} fader messages for 3000 updates"
    assert mcu_rig.sim.errors == []


def test_a_fader_storm_from_the_hand_is_collapsed_for_a_slow_binder(mcu_rig):
    mcu_rig.session.set_slots(make_slots(8))
    mcu_rig.settle()
    mcu_rig.session.on_edit(lambda edit: time.sleep(0.003))  # a binder that writes a file per edit
    mcu_rig.sim.touch(0)
    for value in range(0, 16384, 32):
        mcu_rig.sim.move(0, value)
    mcu_rig.sim.touch(0, False)
    mcu_rig.settle(lambda: any(e.final for e in mcu_rig.edits), timeout_s=5)
    assert mcu_rig.session.wait_idle(5)
    assert len(mcu_rig.edits) < 512 and mcu_rig.session.events_collapsed > 0
    assert fader_value(mcu_rig.edits[-1].position) == 16384 - 32 and mcu_rig.edits[-1].final
    assert mcu_rig.session.slots[0].position == mcu_rig.edits[-1].position


def test_slot_and_bank_misuse_raise_surface_errors(mcu_rig):
    with pytest.raises(SurfaceError, match="position 1.5 outside 0..1"):
        Slot("EQ", "Gain", position=1.5)
    with pytest.raises(SurfaceError, match="steps >= 2"):
        Slot("EQ", "Freq", kind="stepped")
    mcu_rig.session.set_slots(make_slots(3))
    with pytest.raises(SurfaceError, match="slot index 7 outside 0..2"):
        mcu_rig.session.update_slot(7, position=0.2)
    with pytest.raises(SurfaceError, match="unexpected keyword|got an unexpected"):
        mcu_rig.session.update_slot(0, colour="red")
    with pytest.raises(SurfaceError, match="expected Slot"):
        mcu_rig.session.set_slots(["Gain"])


def test_silent_mcu_goes_offline_and_is_redrawn_when_it_answers(jack_server):
    rig = open_mcu_rig(extenders=1, heartbeat_s=0.1, timeout_s=0.3)
    try:
        slots = make_slots(16)
        rig.session.set_slots(slots)
        rig.settle(shows_slots(rig, slots))
        rig.sim.answering = False
        assert rig.sim.wait_for(lambda: any(not s.online for s in rig.statuses), timeout_s=2)
        assert not rig.session.online
        down = [s for s in rig.statuses if not s.online]
        assert "no answer for" in down[0].reason and "offline" in down[0].reason
        for unit in rig.sim.units:  # the units lost their picture while away
            unit.lcd = [" "] * mcu.LCD_SIZE
        rig.sim.answering = True
        rig.settle(lambda: rig.session.online and shows_slots(rig, slots)(), timeout_s=2)
        assert any(s.online for s in rig.statuses)
    finally:
        rig.close()


def test_a_rebooted_unit_announces_itself_and_is_redrawn(mcu_rig):
    slots = make_slots(32)
    mcu_rig.session.set_slots(slots)
    mcu_rig.settle(shows_slots(mcu_rig, slots))
    mcu_rig.sim.reboot(unit=2)  # its picture is blank now: only a redraw brings it back
    mcu_rig.settle(shows_slots(mcu_rig, slots))
    assert mcu_rig.sim.errors == []


def test_opening_reports_missing_ports_and_silent_surfaces(jack_server):
    with pytest.raises(DeviceError, match="no MIDI output port matches 'no-such-mcu'"):
        SurfaceSession.open("mcu", ["no-such-mcu"], backend=BACKEND)
    with pytest.raises(DeviceError, match="at most 3"):
        SurfaceSession.open("mcu", ["a", "b", "c", "d", "e"], backend=BACKEND)
    with pytest.raises(DeviceError, match="unknown surface kind 'c4'"):
        SurfaceSession.open("c4", ["a"], backend=BACKEND)
    sim = SimulatedMcu(unique("mute"), backend=BACKEND)
    sim.answering = False
    try:
        start = time.monotonic()
        with pytest.raises(DeviceError) as caught:
            SurfaceSession.open("mcu", sim.port_specs, backend=BACKEND, answer_timeout_s=0.3)
        assert time.monotonic() - start < 2
        line = str(caught.value)
        assert line.startswith("MCU: checking the surface: no answer to the device query within 0.3 s")
        assert "\n" not in line
    finally:
        sim.close()


def test_close_blanks_the_surface(jack_server):
    rig = open_mcu_rig()
    rig.session.set_slots([Slot("EQ", "Gain", "3", position=0.7, kind="switch")])
    rig.settle(lambda: rig.sim.led("select", 0) == "on")
    rig.session.close()
    assert rig.sim.wait_for(lambda: rig.sim.strip_text(0) == (" " * 7, " " * 7) and rig.sim.fader(0) == 0
                            and rig.sim.led("select", 0) == "off")
    rig.sim.close()


def test_output_is_paced_at_the_surfaces_wire_speed(mcu_rig):
    """An MCU takes DIN MIDI (3125 bytes/s): a full redraw may not leave faster than that
    once the 64-byte burst is spent (a lower bound: load can only make it slower)."""
    units = mcu_rig.session.surface.units
    before = [u.bytes_sent for u in units]
    start = time.monotonic()
    slots = make_slots(32)
    mcu_rig.session.set_slots(slots)
    assert mcu_rig.session.wait_idle(5)
    elapsed = time.monotonic() - start
    busiest = max(u.bytes_sent - b for u, b in zip(units, before, strict=False))
    assert busiest > 150
    assert elapsed >= (busiest - 64) / 3125 * 0.95, f"{busiest} bytes left in {elapsed * 1000:.1f} ms"
    mcu_rig.settle(shows_slots(mcu_rig, slots))
