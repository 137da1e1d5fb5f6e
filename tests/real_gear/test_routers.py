"""Shipped routers over their real transports (pseudo-terminal serial, TCP on loopback) against
simulators that read the commands by the makers' documents (``devices.unit_sims``), not by the
profiles' templates; the bytes are the documents' examples."""

from __future__ import annotations

import dataclasses

import pytest

from devices.device import Device
from devices.errors import DeviceError
from devices.profile import builtin_profiles
from devices.simulator import Simulator
from devices.unit_sims import DECODERS

from tests.devices.helpers import wait_for


@pytest.fixture(scope="module")
def lib():
    return builtin_profiles()


def test_videohub_numbers_ports_from_zero(lib):
    # Videohub Developer Information: routing blocks "VIDEO OUTPUT ROUTING:" then "<output> <input>" lines with
    # zero-based numbers (the prelude's sample "0 0 / 1 9"), a blank line ends a block, the hub answers ACK.
    hub = lib["blackmagic-videohub"]
    with Simulator(hub, "tcp://127.0.0.1:0", decoder=DECODERS[hub.id]) as sim, Device(hub, sim.port, name="Hub") as dev:
        dev.tie(1, 3)            # hybrid's input 1 -> output 3 is "2 0" on the wire
        dev.tie(12, 1)
        assert wait_for(lambda: sim.ties == {3: 1, 1: 12}, 5.0), sim.ties
        assert b"VIDEO OUTPUT ROUTING:\n2 0" in sim.received
        assert b"VIDEO OUTPUT ROUTING:\n0 11" in sim.received
        assert sim.rejected == []


def test_extron_mav_over_serial(lib):
    mav = lib["extron-mav-plus"]
    with Simulator(mav, decoder=DECODERS[mav.id]) as sim, Device(mav, sim.port, name="MAV") as dev:
        dev.tie(12, 4)
        dev.tie(3, 1)
        dev.untie(1)
        assert sim.ties == {4: 12}
        assert b"12*4$" in sim.received and b"0*1$" in sim.received
        assert dev.ties() == {4: 12}


def test_kramer_over_serial(lib):
    kramer = lib["kramer-p3000-matrix"]
    with Simulator(kramer, decoder=DECODERS[kramer.id]) as sim, Device(kramer, sim.port, name="Kramer") as dev:
        dev.tie(3, 2)
        assert sim.ties == {2: 3}
        assert b"#AUD 3>2" in sim.received
        assert dev.ties() == {2: 3}


def _based(profile, base):
    return dataclasses.replace(profile, router=dataclasses.replace(profile.router, port_base=base))


def test_a_videohub_profile_counting_from_1_is_caught(lib):
    hub = lib["blackmagic-videohub"]
    with Simulator(hub, "tcp://127.0.0.1:0", decoder=DECODERS[hub.id]) as sim, \
            Device(_based(hub, 1), sim.port, name="Hub") as dev:
        dev.tie(1, 3)                                   # "3 1" on the wire: the hub routes input 2 to output 4
        assert wait_for(lambda: sim.ties == {4: 2}, 5.0), sim.ties


def test_extron_error_replies_are_one_line_naming_unit_port_and_meaning(lib):
    # Programmer's Guide: "E13 Invalid value (the number is out of range/too large)".
    mav = lib["extron-mav-plus"]
    with Simulator(mav, decoder=DECODERS[mav.id]) as sim, Device(_based(mav, 0), sim.port, name="MAV") as dev:
        dev.tie(24, 4)                                  # a profile counting from 0 sends 23*3$: caught
        assert sim.ties == {3: 23}
    wide = dataclasses.replace(mav, router=dataclasses.replace(mav.router, outputs=16))
    with Simulator(mav, decoder=DECODERS[mav.id]) as sim, Device(wide, sim.port, name="MAV") as dev:
        with pytest.raises(DeviceError) as caught:
            dev.tie(1, 13)                              # the unit has 12 outputs: E13
    line = str(caught.value)
    assert "\n" not in line and "MAV" in line and sim.port in line and "invalid value (out of range)" in line


def test_kramer_refuses_an_output_it_does_not_have(lib):
    kramer = lib["kramer-p3000-matrix"]
    wide = dataclasses.replace(kramer, router=dataclasses.replace(kramer.router, outputs=16))
    with Simulator(kramer, decoder=DECODERS[kramer.id]) as sim, Device(wide, sim.port, name="Kramer") as dev:
        with pytest.raises(DeviceError) as caught:
            dev.tie(3, 12)
    line = str(caught.value)
    assert "\n" not in line and "Kramer" in line and sim.port in line and "parameter is out of range" in line
    assert sim.ties == {}
