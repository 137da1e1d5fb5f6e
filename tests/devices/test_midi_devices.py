"""MIDI gear against its simulator over real JACK MIDI ports."""

import threading
import time
from pathlib import Path

import mido
import pytest

from devices.device import Device
from devices.errors import DeviceError, DeviceTimeoutError, PortNotFoundError, ProfileError
from devices.midi_port import midi_backend
from devices.monitor import OUT, TrafficMonitor
from devices.profile import builtin_profiles, load_profile
from devices.simulator import Simulator

from tests.devices.helpers import off_default_values, wait_for

HERE = Path(__file__).parent
pytestmark = pytest.mark.usefixtures("jack_server")


@pytest.fixture(scope="module")
def lib():
    return builtin_profiles()


@pytest.mark.parametrize("pid", ["hy-comp-cc", "hy-eq-nrpn", "hy-verb-sysex", "hy-patchbay-pc"])
def test_full_recall_lands_in_the_simulator(lib, pid):
    profile = lib[pid]
    values = off_default_values(profile)
    with Simulator(profile, f"t-{pid}") as sim:
        changes = []
        sim.on_change(lambda k, v: changes.append(k))
        with Device(profile, sim.port, name="unit") as dev:
            want = dev.quantize(values)
            sent = dev.apply(values)
            assert len(sent) == len(dev.plan(values))
            assert wait_for(lambda: sim.state == want), (sim.state, want)
            assert set(changes) == set(values)
            assert sim.rejected == []
            if dev.readback:
                assert dev.read() == want
                assert sim.dump_requests == 1


def test_patchbay_recalls_a_patch_in_bank_two(lib):
    profile = lib["hy-patchbay-pc"]
    with Simulator(profile, "t-bay") as sim, Device(profile, "t-bay") as dev:
        dev.set("patch", "Bank 2: Print all")
        assert wait_for(lambda: sim.state["patch"] == "Bank 2: Print all")
        assert sim.received[-3:] == [bytes([0xBF, 0, 0]), bytes([0xBF, 32, 1]), bytes([0xCF, 0])]
        dev.set("patch", "Vocal chain")
        assert wait_for(lambda: sim.state["patch"] == "Vocal chain")


def test_channel_is_per_device(lib):
    profile = lib["hy-comp-cc"]
    with Simulator(profile, "t-ch", channel=2) as sim:
        with Device(profile, "t-ch", channel=3) as wrong:
            wrong.set("threshold", -30)
        with Device(profile, "t-ch", channel=2) as right:
            right.set("ratio", "8:1")
        assert wait_for(lambda: sim.state["ratio"] == "8:1")
        assert sim.state["threshold"] == profile.parameters["threshold"].default


def test_checksum_zoo_over_the_wire():
    profile = load_profile(HERE / "profiles" / "test-sysex-sums.toml")
    values = {"level": "-12 dB", "width": 75.0, "tune": 0.5, "mode": "C", "mute": True}
    with Simulator(profile, "t-zoo") as sim, Device(profile, "t-zoo") as dev:
        want = dev.quantize(values)
        start = time.monotonic()
        dev.apply(values)
        # rate 0 (USB) but 1 ms of silence between messages: 7 gaps after 8 messages... at least 4 ms
        assert time.monotonic() - start >= 0.004
        assert wait_for(lambda: sim.state == profile.defaults() | want)


def test_bad_checksum_is_rejected_by_the_unit(lib):
    profile = lib["hy-verb-sysex"]
    with Simulator(profile, "t-cs") as sim, Device(profile, "t-cs") as dev:
        msg = dev.plan({"decay": 5.0})[0]
        data = list(msg.data)
        data[-1] = (data[-1] + 1) % 128
        dev.send_raw(mido.Message("sysex", data=data))
        assert wait_for(lambda: sim.rejected)
        assert "bad checksum" in sim.rejected[0]
        assert sim.state["decay"] == profile.parameters["decay"].default


def test_out_of_range_is_refused_before_anything_is_sent(lib):
    profile = lib["hy-comp-cc"]
    mon = TrafficMonitor()
    with Simulator(profile, "t-range"), Device(profile, "t-range", monitor=mon) as dev:
        with pytest.raises(ProfileError, match="threshold: 5 dB is out of range"):
            dev.apply({"ratio": "8:1", "threshold": "5 dB"})
        with pytest.raises(ProfileError, match="no parameter 'tresh'"):
            dev.apply({"tresh": 1})
    assert len(mon) == 0


def test_learning_from_the_panel(lib):
    profile = lib["hy-comp-cc"]
    with Simulator(profile, "t-learn") as sim, Device(profile, "t-learn") as dev:
        moves = []
        stop = dev.listen(lambda k, v: moves.append((k, v)))
        sim.set("ratio", "12:1")
        sim.set("threshold", "-20 dB")
        assert wait_for(lambda: len(moves) == 2)
        stop()
        assert moves[0] == ("ratio", "12:1")
        assert moves[1][0] == "threshold" and moves[1][1] == pytest.approx(-20.0, abs=0.2)


def test_monitor_sees_every_byte_each_way_and_pacing_follows_the_wire(lib):
    profile = lib["hy-verb-sysex"]
    mon = TrafficMonitor()
    with Simulator(profile, "t-mon"), Device(profile, "t-mon", monitor=mon) as dev:
        values = off_default_values(profile)
        sent = dev.apply(values)
        dev.read()
    outs = mon.entries(direction=OUT)
    assert [e.data for e in outs[:len(sent)]] == [bytes(m.bytes()) for m in sent]
    ins = mon.entries(direction="in")
    assert len(ins) == 1 and ins[0].data[:6] == bytes([0xF0, 0x41, 0x10, 0x00, 0x5A, 0x12])
    # Each message waits for the bytes before it and the 0.5 ms the unit asks after a SysEx:
    # no handoff comes earlier than the wire allows (1 ms slack for the first one's timestamp).
    booked = 0.0
    for k, entry in enumerate(outs[:len(sent)]):
        assert entry.time_s - outs[0].time_s >= booked - 0.001, (k, entry.time_s - outs[0].time_s, booked)
        booked += len(entry.data) / 3125 + 0.0005


def test_missing_port_names_what_is_there(lib):
    with pytest.raises(PortNotFoundError, match="no MIDI output port matches 'no-such-unit'"):
        Device(lib["hy-comp-cc"], "no-such-unit", name="Comp").open()


def test_unit_switched_off_mid_recall_raises_and_does_not_hang(lib):
    profile = lib["hy-eq-nrpn"]
    values = off_default_values(profile)
    sim = Simulator(profile, "t-vanish").start()
    try:
        with Device(profile, "t-vanish", name="EQ") as dev:
            timer = threading.Timer(0.01, sim.stop)
            timer.start()
            start = time.monotonic()
            with pytest.raises(DeviceError, match="EQ: .*has gone"):
                for _ in range(3):
                    dev.apply(values)
            assert time.monotonic() - start < 2.0
            timer.join()
    finally:
        sim.stop()


def test_no_dump_answer_times_out_and_garbled_dump_is_refused(lib):
    profile = lib["hy-verb-sysex"]
    backend = midi_backend()
    # A broken unit: ports under the right name, answering dump requests with a bad checksum.
    out = backend.open_output("t-bad", client_name="t-bad")
    answer = {"on": False}

    def reply(msg):
        if answer["on"] and msg.type == "sysex":
            out.send(mido.Message("sysex", data=[0x41, 0x10, 0x00, 0x5A, 0x12, 0x10, 0x00, 0x00]
                                  + [1] * 8 + [0x00]))
    inp = backend.open_input("t-bad", client_name="t-bad", callback=reply)
    try:
        with Device(profile, "t-bad", name="Verb") as dev:
            start = time.monotonic()
            with pytest.raises(DeviceTimeoutError, match="Verb: reading back.*no answer within 500 ms"):
                dev.read()
            assert time.monotonic() - start < 1.5
            answer["on"] = True
            with pytest.raises(DeviceError, match="garbled dump"):
                dev.read()
    finally:
        inp.close()
        out.close()


def test_two_units_on_one_cable_share_its_wire_time(lib):
    comp, eq = lib["hy-comp-cc"], lib["hy-eq-nrpn"]
    # One DIN output, two units daisy-chained on channels 1 and 2 (the EQ simulator answers ch 2).
    with Simulator(comp, "t-chain", channel=1) as sim_comp, Simulator(eq, "t-chain-eq", channel=2) as sim_eq:
        a = Device(comp, "t-chain", channel=1).open()
        b = Device(eq, "t-chain", channel=2).open()       # same output port as the compressor
        try:
            values_a, values_b = off_default_values(comp), off_default_values(eq)
            wire_s = a.wire_time_s(a.plan(values_a)) + b.wire_time_s(b.plan(values_b))
            threads = [threading.Thread(target=d.apply, args=(v,)) for d, v in ((a, values_a), (b, values_b))]
            start = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert time.monotonic() - start >= wire_s - 0.002     # queued on one cable, never overlapped
            assert wait_for(lambda: sim_comp.state == comp.defaults() | a.quantize(values_a))
        finally:
            a.close()
            b.close()
        assert sim_eq.received == []          # nothing went to the port the EQ was not cabled to
