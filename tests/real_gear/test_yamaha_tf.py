"""Yamaha TF series (``yamaha-tf``) over tcp:// on loopback, against a simulator that reads the lines by
Yamaha's RCP documents (``devices.unit_sims.yamaha_tf``), not by the profile's templates.

Documents quoted:
- Yamaha Python Script Template V1.00 for TF series (command list, TFxQLab/MultiCh.py):
  ``set MIXER:Current/InCh/Fader/Level 4 0 500`` (channel 5 to +5.00 dB) and
  ``set MIXER:Current/InCh/Fader/On 1 0 0`` (channel 2 off).
- Yamaha MTX3/MTX5-D/MRX7-D/XMV RCP Specifications V4.0.0, section 3: ``OK <command> ...``,
  ``NOTIFY ...``, ``ERROR <command> <reason>``.
- Unofficial RCP documentation (BrenekH/yamaha-rcp-docs, README, "Data Types"): "the dB value has been
  multiplied by 100", "Min Fader Value: -13800", "Negative Infinity Value: -32768".
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from devices.device import Device
from devices.errors import DeviceError
from devices.errors import ProfileError
from devices.profile import builtin_profiles, load_profile
from devices.simulator import Simulator
from devices.text_codec import TextTemplate
from devices.transports.tcp import TcpSim
from devices.unit_sims import DECODERS

from tests.devices.helpers import wait_for


@pytest.fixture(scope="module")
def tf():
    return builtin_profiles()["yamaha-tf"]


def _line(profile, name, value):
    param = profile.parameters[name]
    enc = param.encoding
    return enc.set.build(**enc.fields_for(param, param.parse(value)))


def _sim(profile):
    return Simulator(profile, "tcp://127.0.0.1:0", decoder=DECODERS["yamaha-tf"])


def test_lines_are_the_documents(tf):
    assert _line(tf, "ch05.fader", "+5 dB") == "set MIXER:Current/InCh/Fader/Level 4 0 500"       # MultiCh.py
    assert _line(tf, "ch02.mute", True) == "set MIXER:Current/InCh/Fader/On 1 0 0"              # On 0 = off
    assert _line(tf, "ch01.fader", "-10 dB") == "set MIXER:Current/InCh/Fader/Level 0 0 -1000"
    assert _line(tf, "ch40.fader", "-inf") == "set MIXER:Current/InCh/Fader/Level 39 0 -32768"
    assert _line(tf, "ch01.fader", "+10 dB") == "set MIXER:Current/InCh/Fader/Level 0 0 1000"    # Max 1000
    assert _line(tf, "ch03.fader", "-12.34 dB") == "set MIXER:Current/InCh/Fader/Level 2 0 -1234"
    assert tf.settings["tcp"].port == 49280 and tf.network_port == 49280


def test_replies_are_read_in_hundredths_and_minus_32768_is_minus_inf(tf):
    fader = tf.parameters["ch01.fader"]
    enc = fader.encoding
    assert enc.value_from(fader, enc.reply.match("OK get MIXER:Current/InCh/Fader/Level 0 0 -1000")) == -10.0
    # RCP specification 3.2.2: 'NOTIFY set MTX:mem_512/60000/0/0/0/0/0 0 0 -7760 "-77.60"': the display string
    # after the value is read and ignored, with or without it
    assert enc.value_from(fader, enc.notify.match('NOTIFY set MIXER:Current/InCh/Fader/Level 0 0 -7760 "-77.60"')) \
        == -77.6
    assert enc.value_from(fader, enc.reply.match('OK get MIXER:Current/InCh/Fader/Level 0 0 -1000 "-10.00"')) == -10.0
    assert enc.notify.match('NOTIFY set MIXER:Current/InCh/Fader/Level 0 0 -7760 -77.60') is None
    bottom = enc.value_from(fader, enc.reply.match("OK get MIXER:Current/InCh/Fader/Level 0 0 -32768"))
    assert fader.format(bottom) == "-inf dB"
    with pytest.raises(ProfileError, match=r"wire value 5000 is out of range -13800\.\.1000"):
        enc.value_from(fader, enc.reply.match("OK get MIXER:Current/InCh/Fader/Level 0 0 5000"))


def test_scale_is_checked_on_load(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('spec = "hybrid-device/1"\nid = "x"\nmaker = "m"\nmodel = "m"\nkind = "other"\n'
                   'transport = "tcp"\n[tcp]\nport = 1\n[parameters.level]\nkind = "continuous"\n'
                   'range = [-10.0, 10.0]\ntcp = { set = "set L {wire}", floor_wire = -32768 }\n')
    with pytest.raises(ProfileError, match=r"bad\.toml.*parameters\.level\.tcp\.floor_wire.*floor_wire needs scale"):
        load_profile(bad)


def test_recall_lands_by_the_document_and_reads_back(tf):
    values = {"ch05.fader": "+5 dB", "ch02.mute": True, "ch40.fader": "-inf", "ch01.fader": "-10 dB",
              "st.fader": "-3.5 dB", "ch02.fader": "-12.34"}
    with _sim(tf) as sim, Device(tf, sim.port, name="TF5") as dev:
        dev.apply(values)
        assert sim.rejected == []
        assert sim.state["ch05.fader"] == 5.0 and sim.state["ch02.mute"] is True
        assert sim.state["ch40.fader"] == -math.inf                     # the console's -32768
        assert sim.state["ch01.fader"] == -10.0 and sim.state["st.fader"] == -3.5
        assert sim.state["ch02.fader"] == pytest.approx(-12.34)
        back = dev.read(["ch05.fader", "ch02.mute", "ch40.fader", "st.fader", "ch02.fader"])
        assert back["ch05.fader"] == 5.0 and back["ch02.mute"] is True and back["st.fader"] == -3.5
        assert tf.parameters["ch40.fader"].format(back["ch40.fader"]) == "-inf dB"
        assert back["ch02.fader"] == pytest.approx(-12.34)
    got = [r.decode() for r in sim.received]
    assert "set MIXER:Current/InCh/Fader/Level 4 0 500" in got
    assert "set MIXER:Current/InCh/Fader/On 1 0 0" in got
    assert "get MIXER:Current/InCh/Fader/Level 39 0" in got


def test_a_change_at_the_desk_comes_as_notify_and_reaches_known_state(tf):
    with _sim(tf) as sim, Device(tf, sim.port, name="TF5") as dev:
        heard = []
        dev.listen(lambda name, value: heard.append((name, value)))
        dev.set("ch03.fader", "0 dB")                       # connects
        impl = sim._impl
        assert isinstance(impl, TcpSim)
        impl.broadcast("NOTIFY set MIXER:Current/InCh/Fader/Level 2 0 -600")
        impl.broadcast("NOTIFY set MIXER:Current/InCh/Fader/On 2 0 0")
        impl.broadcast("NOTIFY set MIXER:Current/InCh/Fader/Level 6 0 -32768")
        # unasked lines arriving before a reply are not taken for the reply; they go to known state
        assert dev.read(["ch03.fader"]) == {"ch03.fader": 0.0}
        assert wait_for(lambda: ("ch03.fader", -6.0) in heard and ("ch03.mute", True) in heard, 5.0), heard
        assert tf.parameters["ch07.fader"].format(dev.known["ch07.fader"]) == "-inf dB"


def test_a_listener_hears_the_desk_without_sending_anything(tf):
    with _sim(tf) as sim, Device(tf, sim.port, name="TF5") as dev:
        dev.read(["ch01.fader"])                            # connected
        heard = []
        stop = dev.listen(lambda name, value: heard.append((name, value)))
        sim.set("ch09.fader", "-20 dB")                     # someone pulls the fader at the desk
        assert wait_for(lambda: ("ch09.fader", -20.0) in heard, 5.0), heard
        assert b"NOTIFY" not in b"".join(sim.received)      # the console sends; nothing was asked
        stop()


def test_another_clients_change_comes_to_the_others_as_notify(tf):
    # RCP specification section 4: "if parameters change ... due to a request from another controller, a
    # parameter change notification is received".
    with _sim(tf) as sim, Device(tf, sim.port, name="TF A") as a, Device(tf, sim.port, name="TF B") as b:
        b.read(["ch01.fader"])
        a.read(["ch01.fader"])
        heard_a, heard_b = [], []
        a.listen(lambda name, value: heard_a.append((name, value)))
        b.listen(lambda name, value: heard_b.append((name, value)))
        a.apply({"ch04.fader": "-6 dB", "ch04.mute": True})
        assert wait_for(lambda: ("ch04.fader", -6.0) in heard_b and ("ch04.mute", True) in heard_b, 5.0), heard_b
        assert heard_a == []                                   # the client that asked got its OK, not a notice


def _with(profile, name, **changes):
    """``profile`` with one strip's encoding changed: a wrong profile, for the simulator to catch."""
    param = profile.parameters[name]
    wrong = dataclasses.replace(param, encoding=dataclasses.replace(param.encoding, **changes))
    return dataclasses.replace(profile, parameters={**profile.parameters, name: wrong})


def test_a_profile_in_tenths_of_a_db_is_caught(tf):
    wrong = _with(tf, "ch05.fader", scale=10.0)
    with _sim(tf) as sim, Device(wrong, sim.port, name="TF5") as dev:
        dev.set("ch05.fader", "+5 dB")
        assert sim.state["ch05.fader"] == 0.5                   # the console reads 50 as +0.50 dB


def test_a_profile_counting_channels_from_1_is_caught(tf):
    wrong = _with(tf, "ch40.fader", set=TextTemplate.parse("set MIXER:Current/InCh/Fader/Level 40 0 {wire}"))
    with _sim(tf) as sim, Device(wrong, sim.port, name="TF5") as dev:
        with pytest.raises(DeviceError) as caught:
            dev.set("ch40.fader", "-6 dB")
    line = str(caught.value)
    assert "\n" not in line and "TF5" in line and sim.port in line and "InvalidArgument" in line
    assert caught.value.code == "error_reply"                 # read by the profile's error template
    assert sim.rejected and "InvalidArgument" in sim.rejected[0]


def test_a_console_answering_garbage_is_one_line_naming_unit_port_and_expectation(tf):
    with _sim(tf) as sim, Device(tf, sim.port, name="TF5") as dev:
        dev.set("ch01.fader", "0 dB")
        sim.state["ch01.fader"] = 55.5                          # the console holds a value it cannot hold
        with pytest.raises(DeviceError) as caught:
            dev.read(["ch01.fader"])
    line = str(caught.value)
    assert "\n" not in line and "TF5" in line and sim.port in line
    assert "out of range -13800..1000" in line


def test_acknowledges_with_and_without_the_display_string(tf):
    # RCP: a set is answered "OK set ..." (some consoles append the display string, '"5.00"'); the
    # unofficial documentation lists "OKm" beside "OK". Both acknowledge; ERROR is an error reply.
    s = tf.settings["tcp"]
    for line in ("OK set MIXER:Current/InCh/Fader/Level 4 0 500", 'OK set MIXER:Current/InCh/Fader/Level 4 0 500 "5.00"',
                 'OKm set MIXER:Current/InCh/Fader/Level 0 0 -1000 "-10.00"'):
        assert s.ack.match(line) is not None, line
    assert s.ack.match("NOTIFY set MIXER:Current/InCh/Fader/Level 0 0 -1000") is None
    assert s.error.match("ERROR set InvalidArgument")["message"] == "set InvalidArgument"


def test_a_console_speaking_garbage_ends_in_one_line_within_the_timeout(tf):
    import time

    with Simulator(tf, "tcp://127.0.0.1:0", decoder=lambda _sim, _line: "@@@ garbage") as sim, \
            Device(tf, sim.port, name="TF5") as dev:
        started = time.monotonic()
        with pytest.raises(DeviceError) as caught:
            dev.set("ch01.fader", "-3 dB")
        took = time.monotonic() - started
    line = str(caught.value)
    assert "\n" not in line and "TF5" in line and sim.port in line and "'@@@ garbage'" in line
    assert "within 1000 ms" in line and took < 1.5
