"""The X32 / M32 profile (``behringer-x32``) over osc.udp on loopback, against a simulator that reads
the floats and integers by the Unofficial X32/M32 OSC Remote Protocol (P.-G. Maillot)."""

from __future__ import annotations

import pytest

from devices.device import Device
from devices.profile import builtin_profiles
from devices.simulator import Simulator
from devices.unit_sims import DECODERS, x32_fader_db

from tests.devices.helpers import wait_for as _wait_for


def wait_for(condition, timeout_s: float = 5.0) -> bool:
    """Up to 5 s: the machine is shared and JACK delivery slows under load."""
    return _wait_for(condition, timeout_s)


@pytest.fixture(scope="module")
def x32():
    return builtin_profiles()["behringer-x32"]


def test_32_strips_declared_once(x32):
    names = list(x32.parameters)
    assert len(names) == 32 * 5
    assert names[0] == "ch01.fader" and "ch32.insert.sel" in names
    assert x32.parameters["ch17.mute"].encoding.address == "/ch/17/mix/on"
    assert x32.parameters["ch17.fader"].label == "Ch 17 Fader"


@pytest.mark.parametrize("db,f", [(10.0, 1.0), (0.0, 0.75), (-10.0, 0.5), (-30.0, 0.25), (-60.0, 0.0625)])
def test_fader_floats_are_the_documents_segments(x32, db, f):
    # "dB to float: if (d < -60.) f = (d + 90.) / 480.; else if (d < -30.) f = (d + 70.) / 160.; else if
    # (d < -10.) f = (d + 50.) / 80.; else if (d <= 10.) f = (d + 30.) / 40.;" then rounded to the
    # console's 1024 steps.
    fader = x32.parameters["ch05.fader"]
    assert fader.encoding.to_arg(fader, db) == pytest.approx(round(f * 1023) / 1023, abs=1e-12)


def test_fader_bottom_is_minus_inf(x32):
    fader = x32.parameters["ch05.fader"]
    assert fader.parse("-inf") == -90.0 and fader.format(-90.0) == "-inf dB"
    assert fader.encoding.to_arg(fader, fader.parse("-inf")) == 0.0


def test_recall_lands_by_the_documents_rules_and_reads_back(x32):
    values = {"ch07.fader": "-10 dB", "ch07.mute": True, "ch07.insert.on": True, "ch07.insert.pos": "POST",
              "ch07.insert.sel": "FX2R", "ch32.fader": "-inf", "ch01.fader": "+4.5 dB"}
    with Simulator(x32, "osc.udp://127.0.0.1:0", decoder=DECODERS["behringer-x32"]) as sim, \
            Device(x32, sim.port, name="X32") as dev:
        want = dev.quantize(values)
        dev.apply(values)
        assert wait_for(lambda: all(sim.state[k] == pytest.approx(v) if isinstance(v, float) else sim.state[k] == v
                                    for k, v in want.items())), (sim.state, want)
        assert sim.rejected == []
        assert sim.state["ch07.fader"] == pytest.approx(x32_fader_db(0.5), abs=0.05)
        # "/ch/07/mix/on" ,i 0: the console's "on" is 0 when the channel is muted
        assert b"/ch/07/mix/on\x00\x00\x00,i\x00\x00\x00\x00\x00\x00" in sim.received
        # insert/sel index 4 = FX2R in the document's table {OFF, FX1L, FX1R, FX2L, FX2R, ...}
        assert b"/ch/07/insert/sel\x00\x00\x00,i\x00\x00\x00\x00\x00\x04" in sim.received
        got = dev.read(list(values))
        assert got["ch07.insert.sel"] == "FX2R" and got["ch07.mute"] is True
        assert got["ch07.fader"] == pytest.approx(want["ch07.fader"], abs=1e-6)


def test_read_back_is_answered_by_the_documents_float(x32):
    """The console answers a query with its own float ("/ch/07/mix/fader" ,f 0.5 is -10 dB by the document's
    "float to dB"); a profile with a straight law over -90..+10 reads that as -40 dB and is caught."""
    import dataclasses

    fader = x32.parameters["ch07.fader"]
    straight = dataclasses.replace(fader, encoding=dataclasses.replace(fader.encoding, law=None))
    wrong = dataclasses.replace(x32, parameters={**x32.parameters, "ch07.fader": straight})
    state = {"ch07.fader": -10.0, "ch07.mute": True, "ch07.insert.sel": "AUX2", "ch07.insert.pos": "POST"}
    with Simulator(x32, "osc.udp://127.0.0.1:0", decoder=DECODERS["behringer-x32"], state=state) as sim:
        with Device(x32, sim.port, name="X32") as dev:
            got = dev.read(list(state))
        assert got["ch07.fader"] == pytest.approx(-10.0, abs=0.05)
        assert got["ch07.mute"] is True and got["ch07.insert.sel"] == "AUX2" and got["ch07.insert.pos"] == "POST"
        with Device(wrong, sim.port, name="X32") as dev:
            assert dev.read(["ch07.fader"])["ch07.fader"] == pytest.approx(-40.0, abs=0.1)
        assert sim.rejected == []


def test_a_fader_moved_at_the_desk_is_reported_as_the_document_types_it(x32):
    """/xremote clients hear "/ch/05/mix/fader ,f 0.5" when the desk's fader goes to -10 dB."""
    with Simulator(x32, "osc.udp://127.0.0.1:0", decoder=DECODERS["behringer-x32"]) as sim, \
            Device(x32, sim.port, name="X32") as dev:
        heard = []
        dev.listen(lambda name, value: heard.append((name, value)))
        dev.read(["ch05.fader"])                               # subscribed by now
        sim.set("ch05.fader", "-10 dB")
        sim.set("ch05.mute", True)
        assert wait_for(lambda: any(n == "ch05.fader" and abs(v + 10.0) < 0.05 for n, v in heard)
                        and ("ch05.mute", True) in heard), heard


def test_another_clients_change_reaches_the_subscribed_clients(x32):
    with Simulator(x32, "osc.udp://127.0.0.1:0", decoder=DECODERS["behringer-x32"]) as sim, \
            Device(x32, sim.port, name="X32 A") as a, Device(x32, sim.port, name="X32 B") as b:
        heard = []
        b.listen(lambda name, value: heard.append((name, value)))
        b.read(["ch03.mute"])                                  # B is subscribed by now
        a.apply({"ch03.fader": "-30 dB", "ch03.insert.sel": "FX1L"})
        assert wait_for(lambda: any(n == "ch03.fader" and abs(v + 30.0) < 0.1 for n, v in heard)
                        and ("ch03.insert.sel", "FX1L") in heard), heard
