"""A HUI driven over real JACK MIDI: heartbeat, zone/port switches, CC-pair faders, text."""

from __future__ import annotations

import time

import pytest

from devices.errors import DeviceError
from devices.surfaces import Slot, SurfaceSession
from devices.surfaces.codec import RingMode, fader_value, parse_ring_byte
from devices.surfaces.sim import SimulatedHui

from tests.surfaces.conftest import BACKEND, make_slots, unique


def test_heartbeat_pings_every_interval_and_a_silent_hui_is_detected(hui_rig):
    start_queries = hui_rig.sim.queries
    time.sleep(0.45)
    assert hui_rig.sim.queries - start_queries >= 3, "the host stopped pinging (a HUI would drop offline)"
    assert hui_rig.session.online and hui_rig.statuses == []
    hui_rig.sim.answering = False
    started = time.monotonic()
    assert hui_rig.sim.wait_for(lambda: any(not s.online for s in hui_rig.statuses), timeout_s=2)
    assert time.monotonic() - started < 1.0
    assert "no answer for" in hui_rig.statuses[-1].reason
    # nothing hangs while it is gone: edits still go out, the session still closes fast
    hui_rig.session.set_slots(make_slots(8))
    assert hui_rig.session.wait_idle(2)
    hui_rig.sim.answering = True
    assert hui_rig.sim.wait_for(lambda: hui_rig.session.online, timeout_s=2)
    assert hui_rig.sim.errors == []


def test_strip_and_main_display_text(hui_rig):
    slots = [Slot("1176", "Input", "-24"), Slot("1176", "Output", "-12"), Slot("LA-2A", "Peak Reduction", "40")]
    hui_rig.session.set_slots(slots)
    hui_rig.settle(lambda: [hui_rig.sim.small_text(i) for i in range(4)] == ["Inpt", "Otpt", "PkRd", "    "]
                   and hui_rig.sim.strip_text(0) == ("Inpt ", "-24  ")
                   and hui_rig.sim.strip_text(2) == ("PkRd ", "40   "))
    line = "".join(hui_rig.sim.units[0].large[:40])
    assert line.startswith("Inpt Otpt PkRd ")
    assert hui_rig.sim.errors == []


def test_faders_round_trip_through_cc_pairs_and_touch_holds_the_motor(hui_rig):
    values = [0, 127, 128, 8191, 16383, 5000, 77, 12345]
    hui_rig.session.set_slots([Slot("EQ", f"G{i}", position=v / 16383) for i, v in enumerate(values)])
    hui_rig.settle(lambda: [hui_rig.sim.fader(i) for i in range(8)] == values)
    hui_rig.sim.touch(4)
    hui_rig.sim.move(4, 3000)
    hui_rig.settle(lambda: any(e.index == 4 for e in hui_rig.edits))
    hui_rig.session.update_slot(4, position=0.9)
    hui_rig.session.wait_idle()
    time.sleep(0.05)
    assert hui_rig.sim.fader(4) == 3000 and hui_rig.sim.errors == []
    hui_rig.sim.touch(4, False)
    hui_rig.settle(lambda: hui_rig.sim.fader(4) == fader_value(0.9))
    assert [e.final for e in hui_rig.edits if e.index == 4][-1]
    assert fader_value(hui_rig.edits[0].position) == 3000


def test_vpots_rings_leds_and_bank_navigation(hui_rig):
    slots = [Slot("Comp", f"P{i}", position=0.5, bipolar=i == 0) for i in range(10)]
    slots[1] = Slot("Comp", "Link", position=0.0, kind="switch")
    hui_rig.session.set_slots(slots)
    hui_rig.settle(lambda: parse_ring_byte(hui_rig.sim.ring(0))[0] == RingMode.BOOST_CUT)
    assert parse_ring_byte(hui_rig.sim.ring(0)) == (RingMode.BOOST_CUT, 6, False)
    hui_rig.sim.turn(0, -5)
    hui_rig.settle(lambda: any(e.source == "vpot" for e in hui_rig.edits))
    assert hui_rig.edits[-1].delta == -5 and hui_rig.edits[-1].position == pytest.approx(0.45)
    hui_rig.sim.press("vpot", 1)  # V-pot select toggles a switch
    hui_rig.settle(lambda: hui_rig.sim.led("select", 1) == "on")
    hui_rig.sim.press("bank_right")
    hui_rig.settle(lambda: hui_rig.sim.strip_text(0)[0] == "P2   ")
    assert hui_rig.session.offset == 2
    assert hui_rig.sim.errors == []


def test_a_restarting_hui_is_redrawn(hui_rig):
    hui_rig.session.set_slots(make_slots(8))
    hui_rig.settle(lambda: hui_rig.sim.small_text(7) == "P7  ")
    hui_rig.sim.reboot()
    hui_rig.settle(lambda: hui_rig.sim.small_text(7) == "P7  " and hui_rig.sim.fader(7) == fader_value(7 / 16))


def test_malformed_hui_input_is_reported(hui_rig):
    hui_rig.sim.send_raw(bytes([0xB0, 0x2F, 0x41]))  # port without zone
    hui_rig.sim.send_raw(bytes([0xB0, 0x22, 0x10]))  # fader low byte alone
    hui_rig.sim.send_raw(bytes([0x91, 0x00, 0x7F]))  # a ping reply on the wrong channel
    assert hui_rig.sim.wait_for(lambda: len(hui_rig.problems) == 3)
    details = " | ".join(p.detail for p in hui_rig.problems)
    assert "without a zone select" in details and "without its high byte" in details
    assert "note other than the ping reply" in details


def test_opening_a_hui_that_never_answers_fails_clearly(jack_server):
    sim = SimulatedHui(unique("deadhui"), backend=BACKEND)
    sim.answering = False
    try:
        with pytest.raises(DeviceError, match=r"HUI: checking the surface: no answer to the heartbeat ping "
                                              r"within 0.2 s \(is it powered, connected and in HUI mode\?\)"):
            SurfaceSession.open("hui", sim.port_specs, backend=BACKEND, answer_timeout_s=0.2)
        assert sim.queries >= 1
    finally:
        sim.close()


def test_a_hand_set_target_blinks_on_a_hui_until_confirmed(hui_rig):
    hui_rig.session.set_slots([Slot("Pultec", "Low Freq", "60", position=0.4, kind="stepped", steps=4,
                                    target=True)])
    for state in ("on", "off", "on"):  # the host blinks it: HUI LEDs cannot blink by themselves
        assert hui_rig.sim.wait_for(lambda state=state: hui_rig.sim.led("select", 0) == state, timeout_s=1.5)
    assert hui_rig.sim.strip_text(0) == ("LwFr ", ">60  ")
    hui_rig.sim.press("select", 0)
    hui_rig.settle(lambda: hui_rig.sim.strip_text(0) == ("LwFr ", "60   ") and hui_rig.sim.led("select", 0) == "on")
    time.sleep(0.5)  # steady now
    assert hui_rig.sim.led("select", 0) == "on"
    assert [c.index for c in hui_rig.confirms] == [0]


def test_a_failing_binder_does_not_stop_the_surface(hui_rig):
    class SheetLocked(Exception):
        pass

    def refuse(edit):
        raise SheetLocked("sheet.toml is locked by another editor")

    hui_rig.session.on_edit(refuse)
    try:
        hui_rig.session.set_slots(make_slots(2))
        hui_rig.settle()
        hui_rig.sim.turn(0, 1)
        hui_rig.sim.turn(1, 1)
        hui_rig.settle(lambda: len(hui_rig.edits) == 2)
        assert hui_rig.session.wait_idle()
        assert any("SheetLocked: sheet.toml is locked" in p.detail for p in hui_rig.session.problems)
    finally:
        hui_rig.session._edit_callbacks.remove(refuse)
