"""Shipped routers over their real transports (pseudo-terminal serial, TCP on loopback) against the
simulators; the bytes are the documents' examples."""

from __future__ import annotations

import pytest

from devices.device import Device
from devices.profile import builtin_profiles
from devices.simulator import Simulator

from tests.devices.helpers import wait_for


@pytest.fixture(scope="module")
def lib():
    return builtin_profiles()


def test_videohub_numbers_ports_from_zero(lib):
    # Videohub Developer Information: routing blocks "VIDEO OUTPUT ROUTING:" then "<output> <input>" lines with
    # zero-based numbers (the prelude's sample "0 0 / 1 9"), a blank line ends a block, the hub answers ACK.
    hub = lib["blackmagic-videohub"]
    with Simulator(hub, "tcp://127.0.0.1:0") as sim, Device(hub, sim.port, name="Hub") as dev:
        dev.tie(1, 3)            # hybrid's input 1 -> output 3 is "2 0" on the wire
        dev.tie(12, 1)
        assert wait_for(lambda: sim.ties == {3: 1, 1: 12}, 5.0), sim.ties
        assert b"VIDEO OUTPUT ROUTING:\n2 0" in sim.received
        assert b"VIDEO OUTPUT ROUTING:\n0 11" in sim.received
        assert sim.rejected == []


def test_extron_mav_over_serial(lib):
    mav = lib["extron-mav-plus"]
    with Simulator(mav) as sim, Device(mav, sim.port, name="MAV") as dev:
        dev.tie(12, 4)
        dev.tie(3, 1)
        dev.untie(1)
        assert sim.ties == {4: 12}
        assert b"12*4$" in sim.received and b"0*1$" in sim.received
        assert dev.ties() == {4: 12}


def test_kramer_over_serial(lib):
    kramer = lib["kramer-p3000-matrix"]
    with Simulator(kramer) as sim, Device(kramer, sim.port, name="Kramer") as dev:
        dev.tie(3, 2)
        assert sim.ties == {2: 3}
        assert b"#AUD 3>2" in sim.received
        assert dev.ties() == {2: 3}
