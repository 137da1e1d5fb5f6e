"""Serial gear against its simulator on a pseudo-terminal, and failures of the line."""

import os
import threading
import time

import pytest

from devices.device import Device
from devices.errors import DeviceError, DeviceTimeoutError, PortNotFoundError, ProfileError
from devices.monitor import TrafficMonitor
from devices.profile import builtin_profiles
from devices.simulator import Simulator

from tests.devices.helpers import off_default_values


@pytest.fixture(scope="module")
def lib():
    return builtin_profiles()


def test_saturator_recall_and_read_back(lib):
    profile = lib["hy-sat-serial"]
    values = {"drive": "12.5 dB", "tape_speed": "30 ips", "bias": 10, "output": -3, "bypass": "bypassed"}
    with Simulator(profile) as sim:
        changes = []
        sim.on_change(lambda k, v: changes.append((k, v)))
        mon = TrafficMonitor()
        with Device(profile, sim.port, name="Tape", monitor=mon) as dev:
            want = dev.quantize(values)
            dev.apply(values)
            assert sim.state == want                       # every command was acknowledged first
            assert dict(changes) == want
            assert dev.read() == want
            assert dev.read(["drive"]) == {"drive": 12.5}
        lines = [e.data for e in mon.entries(direction="out")]
        assert lines[:2] == [b"DRV 12.5\r", b"SPD 2\r"]
        assert [e.data for e in mon.entries(direction="in")][:1] == [b"OK\r\n"]


def test_saturator_error_replies_become_one_line(lib):
    profile = lib["hy-sat-serial"]
    with Simulator(profile) as sim, Device(profile, sim.port, name="Tape") as dev:
        assert dev.send_raw("DRV 99.0") == "ERR 2"
        with pytest.raises(DeviceError, match=r"^Tape \(/dev/pts/\d+\): raw: the unit answered 'ERR 1': unknown command$") \
                as caught:
            dev._link.expect_ack(dev._link.command("FOO", action="raw"), "raw")
        assert caught.value.code == "error_reply"
        assert sim.rejected[0].startswith("out_of_range") and sim.rejected[1].startswith("unknown_command")
        with pytest.raises(ProfileError, match="drive: 30 dB is out of range"):
            dev.set("drive", "30 dB")


def test_router_ties_untie_and_read_back(lib):
    profile = lib["hy-matrix-sis"]
    with Simulator(profile) as sim, Device(profile, sim.port, name="Matrix") as dev:
        seen = []
        sim.on_change(lambda k, v: seen.append((k, v)))
        dev.tie(1, 3)
        dev.tie(2, 5)
        assert dev.ties() == {3: 1, 5: 2}
        dev.untie(3)
        assert dev.ties() == {5: 2} == sim.ties
        assert seen == [("tie.3", 1), ("tie.5", 2), ("tie.3", 0)]
        assert sim.received[0] == b"1*3!"
        with pytest.raises(DeviceError, match="input 9 is out of range; expected 1..8"):
            dev.tie(9, 3)


def test_router_error_replies_exactly_as_sis(lib):
    profile = lib["hy-matrix-sis"]
    with Simulator(profile) as sim, Device(profile, sim.port, name="Matrix") as dev:
        assert dev.send_raw("1*3!") == "Out03 In01 All"
        assert dev.send_raw("9*3!") == "E01"
        assert dev.send_raw("1*9!") == "E13"
        assert dev.send_raw("Q!") == "E10"
        with pytest.raises(DeviceError, match=r"Matrix \(/dev/pts/\d+\): tie: the unit answered 'E01': invalid input number"):
            dev._route(dev._link, "9*3!", profile.router.tie_reply, "tie", {})


def test_silent_unit_times_out(lib, pty_pair):
    master, path = pty_pair
    profile = lib["hy-sat-serial"]
    with Device(profile, path, name="Tape") as dev:
        start = time.monotonic()
        with pytest.raises(DeviceTimeoutError, match=r"Tape \(/dev/pts/\d+\): set drive 3 dB: no reply within 300 ms"):
            dev.set("drive", 3)
        assert 0.25 < time.monotonic() - start < 1.0
        assert os.read(master, 100) == b"DRV 3.0\r"


def test_garbled_reply(lib, pty_pair):
    master, path = pty_pair
    profile = lib["hy-sat-serial"]

    def answer(text):
        os.read(master, 100)
        os.write(master, text)

    with Device(profile, path, name="Tape") as dev:
        t = threading.Timer(0.02, answer, args=(b"\x00\xffzz\r\n",))
        t.start()
        with pytest.raises(DeviceError, match=r"Tape \(/dev/pts/\d+\): set drive 3 dB: garbled reply '\\x00\\xffzz'; expected 'OK'"):
            dev.set("drive", 3)
        t.join()
        t = threading.Timer(0.02, answer, args=(b"DRV 3.",))    # cut off mid-line
        t.start()
        with pytest.raises(DeviceError, match="garbled reply 'DRV 3.' \\(no line end within 300 ms\\)"):
            dev.read(["drive"])
        t.join()


def test_unplugged_pty_raises_and_does_not_hang(lib):
    profile = lib["hy-sat-serial"]
    sim = Simulator(profile).start()
    values = off_default_values(profile)
    with Device(profile, sim.port, name="Tape") as dev:
        dev.apply(values)
        sim.stop()                                   # the far end goes away: EIO on the line
        start = time.monotonic()
        with pytest.raises(DeviceError, match=r"Tape \(/dev/pts/\d+\): .*(went away|no reply|failed)"):
            dev.apply(values)
        assert time.monotonic() - start < 1.0


def test_missing_serial_device(lib):
    with pytest.raises(PortNotFoundError, match=r"Tape \(/dev/ttyNOPE\): opening: "):
        Device(lib["hy-sat-serial"], "/dev/ttyNOPE", name="Tape").open()


def test_hand_set_unit(lib):
    profile = lib["hy-pultec-manual"]
    with pytest.raises(DeviceError, match="Pultec: opening: is set by hand"):
        Device(profile, None, name="Pultec").open()
    with Simulator(profile) as sim:
        changes = []
        sim.on_change(lambda k, v: changes.append((k, v)))
        sim.set("high_freq", "12k")
        sim.set("low_boost", 5)
        assert changes == [("high_freq", "12k"), ("low_boost", "5")]
        band = profile.sound["bands"][0]
        assert profile.role_number(band["gain_db"], sim.state) == pytest.approx(6.8)
        assert "hand-set" in sim.describe()


def test_pyserial_url_and_command_resolution(lib, tmp_path):
    profile = lib["hy-sat-serial"]
    log = tmp_path / "spy.txt"
    with Simulator(profile) as sim, Device(profile, f"spy://{sim.port}?file={log}", name="Tape") as dev:
        want = dev.quantize({"drive": 12.53, "bias": 10.1})
        assert want["drive"] == 12.5                      # the command carries one decimal
        dev.apply({"drive": 12.53, "bias": 10.1})
        assert dev.read(["drive", "bias"]) == want == {n: sim.state[n] for n in want}
    assert "DRV 12.5" in log.read_text()                  # pyserial's own spy saw the line
