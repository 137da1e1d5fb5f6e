"""Network gear over real sockets on 127.0.0.1: tcp:// text units and OSC over UDP and TCP.

Simulators listen on a free port (port 0); the fault tests play a misbehaving unit on a
plain socket of their own. Every fault must end in one line naming the unit, the port and
what was expected, within the profile's timeout.
"""

from __future__ import annotations

import socket
import threading
import time
import tomllib
from pathlib import Path

import pytest

from devices.device import READ_ATTEMPTS, Device
from devices.errors import DeviceError, ProfileError
from devices.monitor import TrafficMonitor
from devices.profile import load_profile, profile_from_dict, resolve_profile
from devices.simulator import Simulator
from devices.transports.osc import OscCommand, OscSim
from devices.transports.tcp import TcpSim
from tests.devices.helpers import RawServer, wait_for

HERE = Path(__file__).resolve().parent / "profiles"


def _profile(name: str, **changes):
    """A test profile, with ``changes`` as ``{"table.key": value}`` applied to its TOML."""
    path = HERE / f"{name}.toml"
    data = tomllib.loads(path.read_text())
    for dotted, value in changes.items():
        table = data
        *parents, key = dotted.split(".")
        for parent in parents:
            table = table[parent]
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return profile_from_dict(data, source=path)


@pytest.fixture
def tcp_sat():
    return load_profile(HERE / "test-tcp-sat.toml")


@pytest.fixture
def osc_desk():
    return load_profile(HERE / "test-osc-desk.toml")


# ---- tcp:// -------------------------------------------------------------------------------
def test_tcp_unit_logs_in_sets_and_reads_back(tcp_sat):
    monitor = TrafficMonitor()
    with Simulator(tcp_sat) as sim, Device(tcp_sat, sim.port, name="Net Sat", monitor=monitor) as dev:
        assert sim.port.startswith("tcp://127.0.0.1:")
        dev.apply({"drive": "12.5 dB", "mode": "hot"})
        assert sim.state == {"drive": 12.5, "mode": "hot"}
        assert dev.read() == {"drive": 12.5, "mode": "hot"}
    sent = [e.data for e in monitor.entries(direction="out")]
    assert sent[:3] == [b"*****", b"DRV 12.5\r\n", b"MODE 2\r\n"]     # the password never shows
    assert b"sesame" not in b"".join(sent)
    assert sim.rejected == []


def test_tcp_status_sent_unasked_goes_to_known_state_not_to_replies(tcp_sat):
    with Simulator(tcp_sat) as sim, Device(tcp_sat, sim.port, name="Net Sat") as dev:
        heard = []
        dev.listen(lambda name, value: heard.append((name, value)))
        sim.set("drive", 3.0)                      # someone turns the knob on the unit
        assert wait_for(lambda: ("drive", 3.0) in heard or dev.known.get("drive") == 3.0, 1.0)
        impl = sim._impl
        assert isinstance(impl, TcpSim)
        impl.broadcast("MODE=0")                   # a status line arriving just before a query
        assert dev.read(["drive"]) == {"drive": 3.0}
        assert wait_for(lambda: dev.known.get("mode") == "clean", 1.0)
        dev.set("mode", "warm")                    # the acknowledge is still matched to its command
        assert sim.state["mode"] == "warm"


def test_tcp_keepalive_when_idle(tcp_sat):
    with Simulator(tcp_sat) as sim, Device(tcp_sat, sim.port) as dev:
        dev.set("drive", 1.0)
        assert wait_for(lambda: sim.received.count(b"PING") >= 2, 2.0)


def test_tcp_reconnects_after_the_unit_drops_the_line(tcp_sat):
    with Simulator(tcp_sat) as sim, Device(tcp_sat, sim.port) as dev:
        dev.set("drive", 2.0)
        impl = sim._impl
        for client in list(impl._clients):          # the unit reboots: every connection is cut
            client.shutdown(socket.SHUT_RDWR)
        time.sleep(0.2)
        dev.set("drive", 4.0)                       # connects again, greets and logs in again
        assert sim.state["drive"] == 4.0


def test_serial_protocol_unit_over_tcp_url():
    matrix = resolve_profile("hy-matrix-sis")
    with Simulator(matrix, "tcp://127.0.0.1:0") as sim, Device(matrix, sim.port, name="Matrix") as dev:
        assert sim.port.startswith("tcp://")
        dev.tie(2, 5)
        dev.tie(7, 1)
        assert dev.ties() == {1: 7, 5: 2}
        dev.untie(5)
        assert sim.ties == {1: 7}


def test_tcp_blocks_banner_and_unasked_route_changes():
    """A Videohub-like unit: blocks end in a blank line, a greeting ends the prelude, route
    changes made by others arrive as unasked blocks between and before replies."""
    hub = _profile("test-tcp-hub")
    with Simulator(hub) as sim, Device(hub, sim.port, name="Hub") as dev:
        impl = sim._impl
        impl.broadcast("VIDEO OUTPUT ROUTING:\n3 1")
        dev.tie(2, 4)
        assert sim.ties == {4: 2}
        assert sim.received[-1] == b"VIDEO OUTPUT ROUTING:\n4 2"


def test_tcp_password_refused_is_one_line(tcp_sat):
    wrong = _profile("test-tcp-sat", **{"tcp.password": "guess"})
    with Simulator(tcp_sat) as sim:
        with pytest.raises(DeviceError) as caught:
            Device(wrong, sim.port, name="Net Sat").open()
    assert caught.value.code == "refused"
    assert str(caught.value) == f"Net Sat ({sim.port}): opening: the unit refused the password (it asked again)"
    assert sim.rejected == ["wrong password"]


# ---- faults on tcp:// -----------------------------------------------------------------------
def _plain_tcp(**changes):
    return _profile("test-tcp-sat", **{"tcp.banner": None, "tcp.password": None, "tcp.password_prompt": None,
                                       "tcp.login_ok": None, "tcp.keepalive": None, **changes})


def test_fault_garbage_answer():
    def garbage(conn):
        while conn.recv(100):
            conn.sendall(b"\x00\xffzz\r\n")
    server = RawServer(garbage)
    profile = _plain_tcp(**{"tcp.unsolicited": False})
    port = f"tcp://127.0.0.1:{server.port}"
    with Device(profile, port, name="Net Sat") as dev:
        with pytest.raises(DeviceError) as caught:
            dev.set("drive", 3)
    assert str(caught.value) == f"Net Sat ({port}): set drive 3 dB: garbled reply '\\x00\\xffzz'; expected 'OK'"
    assert caught.value.code == "garbled_reply"
    server.close()


def test_fault_garbage_answer_with_unasked_status_waits_no_longer_than_the_timeout():
    def garbage(conn):
        while conn.recv(100):
            conn.sendall(b"WHAT?\r\n")
    server = RawServer(garbage)
    port = f"tcp://127.0.0.1:{server.port}"
    with Device(_plain_tcp(), port, name="Net Sat") as dev:
        start = time.monotonic()
        with pytest.raises(DeviceError) as caught:
            dev.set("drive", 3)
        assert time.monotonic() - start < 0.4 + 0.2
    assert str(caught.value) == f"Net Sat ({port}): set drive 3 dB: no reply within 400 ms (got 'WHAT?')"
    server.close()


def test_fault_banner_never_comes():
    server = RawServer(lambda conn: time.sleep(5))
    profile = _plain_tcp(**{"tcp.banner": "TN-1 ready"})
    port = f"tcp://127.0.0.1:{server.port}"
    start = time.monotonic()
    with pytest.raises(DeviceError) as caught:
        Device(profile, port, name="Net Sat").open()
    assert time.monotonic() - start < 0.4 + 0.2
    assert str(caught.value) == f"Net Sat ({port}): opening: no greeting 'TN-1 ready' within 400 ms"
    assert caught.value.code == "no_banner"
    server.close()


def test_fault_peer_closes_mid_reply():
    def cut(conn):
        conn.recv(100)
        conn.sendall(b"DRV=1")                 # half a reply, then the line goes
        conn.close()
    server = RawServer(cut)
    port = f"tcp://127.0.0.1:{server.port}"
    with Device(_plain_tcp(), port, name="Net Sat") as dev:
        start = time.monotonic()
        with pytest.raises(DeviceError) as caught:
            dev.read(["drive"])
        assert time.monotonic() - start < 0.3       # no wait for the timeout: the peer is gone
    assert caught.value.code == "connection_closed"
    assert str(caught.value) == (f"Net Sat ({port}): reading drive: the unit closed the connection "
                                 "before its reply was complete")
    server.close()


def test_fault_nothing_listening():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    probe.close()
    with pytest.raises(DeviceError) as caught:
        Device(_plain_tcp(), port, name="Net Sat").open()
    assert caught.value.code == "port_not_found"
    assert str(caught.value).startswith(f"Net Sat ({port}): opening: cannot connect to 127.0.0.1:")


# ---- osc.udp:// and osc.tcp:// ---------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["osc.udp", "osc.tcp"])
def test_osc_sets_and_reads_back(osc_desk, scheme):
    values = {"fader": "-10 dB", "mute": "muted", "insert": "FX1R", "gain": 20.5}
    with Simulator(osc_desk, f"{scheme}://127.0.0.1:0") as sim, Device(osc_desk, sim.port, name="Desk") as dev:
        assert sim.port.startswith(f"{scheme}://127.0.0.1:")
        dev.apply(values)
        got = dev.read()
        want = dev.quantize(values)
        assert got == want
        assert got["mute"] is True and got["insert"] == "FX1R" and got["gain"] == 20.5
        assert abs(got["fader"] + 10) < 1e-5
        assert wait_for(lambda: sim.state["mute"] is True)


def test_osc_wire_format_is_python_osc_and_switches_invert(osc_desk):
    with Simulator(osc_desk, "osc.udp://127.0.0.1:0") as sim, Device(osc_desk, sim.port) as dev:
        dev.set("mute", True)
        assert wait_for(lambda: any(m.startswith(b"/ch/01/mix/on") for m in sim.received))
    sent = [m for m in sim.received if m.startswith(b"/ch/01/mix/on")][0]
    # address, padded to 4 bytes; type tag ",i"; big-endian int 0 (X32: mix/on 0 = muted)
    assert sent == b"/ch/01/mix/on\x00\x00\x00,i\x00\x00\x00\x00\x00\x00"


def test_osc_bundle(osc_desk):
    bundled = _profile("test-osc-desk", **{"osc.bundle": True})
    with Simulator(bundled, "osc.udp://127.0.0.1:0") as sim, Device(bundled, sim.port) as dev:
        dev.apply({"fader": 0.0, "insert": "AUX1", "gain": 6.0})
        assert wait_for(lambda: sim.state["insert"] == "AUX1" and sim.state["gain"] == 6.0)
    bundles = [m for m in sim.received if m.startswith(b"#bundle")]
    assert len(bundles) == 1


def test_osc_subscription_renewed_before_it_lapses(osc_desk):
    with Simulator(osc_desk, "osc.udp://127.0.0.1:0") as sim, Device(osc_desk, sim.port, name="Desk") as dev:
        impl = sim._impl
        assert isinstance(impl, OscSim)
        impl.lease_s = 0.3                        # the unit forgets a client 0.3 s after /xremote
        heard = []
        dev.listen(lambda name, value: heard.append((name, value)))
        time.sleep(1.0)                           # three leases later, still subscribed
        sim.set("insert", "AUX1")                 # changed on the desk itself
        assert wait_for(lambda: ("insert", "AUX1") in heard, 1.0)
        assert dev.known["insert"] == "AUX1"
        renewals = [m for m in sim.received if m.startswith(b"/xremote")]
        assert len(renewals) >= 5


def test_fault_udp_peer_never_answers(osc_desk):
    with Simulator(osc_desk, "osc.udp://127.0.0.1:0") as sim, Device(osc_desk, sim.port, name="Desk") as dev:
        sim._impl.answers = False
        start = time.monotonic()
        with pytest.raises(DeviceError) as caught:
            dev.read(["fader"])
        elapsed = time.monotonic() - start             # asked READ_ATTEMPTS times, 300 ms each
        assert READ_ATTEMPTS * 0.3 - 0.05 < elapsed < READ_ATTEMPTS * 0.3 + 0.3
    assert caught.value.code == "timeout"
    assert str(caught.value).startswith(f"Desk ({sim.port}): reading fader: no OSC reply on /ch/01/mix/fader "
                                        "within 300 ms")


def test_fault_osc_reply_of_the_wrong_type(osc_desk):
    def wrong(sock):
        while True:
            try:
                data, peer = sock.recvfrom(1000)
            except OSError:
                return
            if data.startswith(b"/ch/01/mix/fader"):
                sock.sendto(OscCommand("/ch/01/mix/fader", ("loud",), "s").bytes(), peer)
    server = RawServer(None, socket.SOCK_DGRAM)
    threading.Thread(target=wrong, args=(server.sock,), daemon=True).start()
    port = f"osc.udp://127.0.0.1:{server.port}"
    with Device(osc_desk, port, name="Desk") as dev:
        with pytest.raises(DeviceError) as caught:
            dev.read(["fader"])
    assert caught.value.code == "wrong_type"
    assert str(caught.value) == (f"Desk ({port}): reading fader: OSC reply /ch/01/mix/fader 'loud': "
                                 "expected a float (,f), got 'loud'")
    server.close()


# ---- ports as URLs, profiles -----------------------------------------------------------------
def test_port_url_must_fit_the_profile(osc_desk):
    comp = resolve_profile("hy-comp-cc")
    with pytest.raises(DeviceError) as caught:
        Device(comp, "osc.udp://127.0.0.1:9", name="Comp").open()
    assert str(caught.value) == ("Comp: opening: port 'osc.udp://127.0.0.1:9' is a osc port, "
                                 "but the profile speaks midi over midi")
    with pytest.raises(DeviceError, match=r"unknown port scheme 'ftp://'"):
        Device(osc_desk, "ftp://x", name="Desk").open()
    with pytest.raises(DeviceError, match=r"no port number in 'osc.udp://127.0.0.1'") as caught:
        Device(_profile("test-osc-desk", **{"osc.port": None}), "osc.udp://127.0.0.1", name="Desk").open()


@pytest.mark.parametrize("changes, key, fragment", [
    ({"parameters.fader.osc": {"address": "ch/01"}}, "parameters.fader.osc.address", "expected an OSC address"),
    ({"parameters.fader.osc": {"address": "/a", "type": "x"}}, "parameters.fader.osc.type", "one of f, i, s"),
    ({"parameters.gain.osc": {"address": "/ch/01/mix/fader"}}, "parameters.gain.osc.address", "also used by"),
    ({"parameters.fader.osc": {"address": "/a", "invert": True}}, "parameters.fader.osc.invert", "only a switch"),
    ({"osc.subscribe": "xremote"}, "osc.subscribe", "starting with /"),
    ({"osc.colour": "red"}, "osc.colour", "unknown key"),
    ({"serial": {"baudrate": 9600}}, "serial", "does not fit transport 'osc'"),
    ({"parameters.fader.midi": {"type": "cc", "control": 7}}, "parameters.fader.midi", "does not fit"),
])
def test_osc_profile_mistakes_are_refused_with_the_key(changes, key, fragment):
    with pytest.raises(ProfileError) as caught:
        _profile("test-osc-desk", **changes)
    assert caught.value.key == key and fragment in caught.value.reason, str(caught.value)


def test_tcp_profile_mistakes_are_refused_with_the_key():
    with pytest.raises(ProfileError) as caught:
        _profile("test-tcp-sat", **{"tcp.password_prompt": None})
    assert caught.value.key == "tcp.password" and "password_prompt" in caught.value.reason
    with pytest.raises(ProfileError) as caught:
        _profile("test-tcp-sat", **{"tcp.port": 70000})
    assert caught.value.key == "tcp.port"


# ---- one port lookup -------------------------------------------------------------------------
def test_port_lookup_refuses_an_ambiguous_name_for_gear_and_surfaces_alike():
    from devices.errors import AmbiguousPortError
    from devices.midi_port import find_port, match_port
    from devices.surfaces.ports import find_port as surface_find_port

    names = ["Bus Comp A:in", "Bus Comp B:in", "hy-eq:in", "hy-eq2:in", "hy-eq-01:in"]
    for lookup in (lambda w: find_port(w, names, device="Comp"),
                   lambda w: surface_find_port(names, w, direction="output", device="Comp")):
        with pytest.raises(AmbiguousPortError) as caught:
            lookup("Comp")
        assert caught.value.candidates == ["Bus Comp A:in", "Bus Comp B:in"]
        assert str(caught.value) == ("Comp: opening: MIDI output port name 'Comp' is ambiguous: matches "
                                     "'Bus Comp A:in', 'Bus Comp B:in'; give more of the name")
        assert caught.value.code == "port_ambiguous"
        assert lookup("hy-eq") == "hy-eq:in"                    # the exact client, not eq2 nor eq-01
        assert lookup("Comp A") == "Bus Comp A:in"
    assert find_port("nothing", names) is None
    with pytest.raises(DeviceError, match="no MIDI input port matches 'nothing'; present: Bus Comp A:in"):
        match_port("nothing", names, direction="input")


# ---- recognising units ------------------------------------------------------------------------
def test_scan_recognises_network_units_by_banner_and_by_query(tcp_sat, osc_desk):
    from devices.profile import load_profiles_dir
    from devices.scan import scan

    profiles = list(load_profiles_dir(HERE).values())
    hub = _profile("test-tcp-hub")
    with Simulator(tcp_sat) as sat, Simulator(hub) as hub_sim, \
            Simulator(osc_desk, "osc.udp://127.0.0.1:0") as desk:
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 0))
        nobody = f"osc.udp://127.0.0.1:{silent.getsockname()[1]}"
        result = scan(profiles, [sat.port, hub_sim.port, desk.port, nobody], timeout_s=0.3)
        silent.close()
    found = {i.port: i for i in result.found}
    assert found[sat.port].profiles == ["test-tcp-sat"] and "TN-1 ready" in found[sat.port].answer
    assert found[hub_sim.port].profiles == ["test-tcp-hub"]
    assert found[desk.port].profiles == ["test-osc-desk"] and found[desk.port].transport == "osc"
    assert result.silent == [nobody]
