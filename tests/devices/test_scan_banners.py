"""``hybrid devices scan`` recognising units by what they say first: a serial line's power-up
greeting (pseudo-terminal) and a TCP unit's greeting on connect (loopback), within the timeout.

The greetings are the makers' documents' own words:
- Extron CrossPoint 450 Plus and MAV Plus Switchers User Manual, SIS Programming and Control,
  p. 4-5, Switcher-Initiated Messages: "(C) Copyright 2006, Extron Electronics CP 450 MAV Plus,
  Vx.xx, nn-nnn-nn" -- "The switcher initiates the copyright message when it is first powered on".
- Blackmagic Videohub Developer Information, Videohub Ethernet Protocol v2.3, Protocol Preamble:
  "The first block sent by the Videohub Server is always the protocol preamble: PROTOCOL
  PREAMBLE: / Version: 2.3", then "VIDEOHUB DEVICE: / Device present: true / Model name:
  Blackmagic Smart Videohub / Video inputs: 16 ..."; "A block spans multiple lines and is
  terminated by a blank line. Each line in the protocol is terminated by a newline character."
- Yamaha RM Series Remote Control Protocol Specifications V1.2.0, p. 16, 3. Command
  Specifications: a 'devinfo <item>' query is answered 'OK devinfo <item> "xxxx"' (e.g.
  'OK devinfo manufacturer "Yamaha Corporation"'); the RCP family's product name query is
  'devinfo productname'. A TF says nothing on connect; that it answers with "TF..." is inferred
  (the profile says so).
"""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from devices.profile import builtin_profiles
from devices.scan import scan
from tests.devices.helpers import RawServer

EXTRON_GREETING = b"(C) Copyright 2006, Extron Electronics CP 450 MAV Plus, Vx.xx, nn-nnn-nn\r\n"
VIDEOHUB_PRELUDE = (b"PROTOCOL PREAMBLE:\nVersion: 2.3\n\n"
                    b"VIDEOHUB DEVICE:\nDevice present: true\nModel name: Blackmagic Smart Videohub\n"
                    b"Video inputs: 16\nVideo processing units: 0\nVideo outputs: 16\n"
                    b"Video monitoring outputs: 0\nSerial ports: 0\n\n")


@pytest.fixture(scope="module")
def profiles():
    return list(builtin_profiles().values())


def _server(greeting: bytes | None) -> RawServer:
    """A loopback TCP peer that sends ``greeting`` on connect (None: says nothing) and holds the line."""
    def greet(conn) -> None:
        if greeting is not None:
            conn.sendall(greeting)
        conn.recv(100)
        conn.close()
    return RawServer(greet)


def test_a_serial_unit_is_recognised_by_its_power_up_greeting(profiles, pty_pair):
    master, path = pty_pair
    timer = threading.Timer(0.3, os.write, args=(master, EXTRON_GREETING))   # switched on while we listen
    timer.start()
    t0 = time.monotonic()
    try:
        result = scan(profiles, [path], timeout_s=3.0)
    finally:
        timer.cancel()
    took = time.monotonic() - t0
    (found,) = result.found
    assert found.port == path and found.transport == "serial" and found.profiles == ["extron-mav-plus"]
    assert "Extron Electronics CP 450 MAV Plus" in found.answer
    assert took < 2.5                      # it stops listening once the greeting fitted


def test_a_serial_line_that_never_greets_ends_within_the_timeout(profiles, pty_pair):
    _master, path = pty_pair
    t0 = time.monotonic()
    result = scan(profiles, [path], timeout_s=0.4)
    took = time.monotonic() - t0
    assert result.found == [] and result.silent == [path]
    assert took < 0.4 + 0.6


def test_a_videohub_is_recognised_by_its_protocol_preamble_over_tcp(profiles):
    hub, mute = _server(VIDEOHUB_PRELUDE), _server(None)
    hub_url, mute_url = hub.url, mute.url
    try:
        t0 = time.monotonic()
        result = scan(profiles, [hub_url, mute_url], timeout_s=0.5)
        took = time.monotonic() - t0
    finally:
        hub.close()
        mute.close()
    (found,) = result.found
    assert found.port == hub_url and found.profiles == ["blackmagic-videohub"]
    assert found.answer.startswith("PROTOCOL PREAMBLE:\nVersion: 2.3")
    assert result.silent == [mute_url]   # connected, but no greeting within the timeout
    assert took < 0.5 + 0.6                # both asked at once


def test_a_desk_that_says_nothing_on_connect_is_asked_its_product_name(profiles):
    """Yamaha RCP: silent on connect; asked 'devinfo productname' (LF-terminated, as every RCP
    line), it answers 'OK devinfo productname "TF5"' and is recognised as the TF."""
    asked: list[bytes] = []

    def desk(conn) -> None:
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(100)
            if not chunk:
                break
            data += chunk
        asked.append(data)
        if data == b"devinfo productname\n":
            conn.sendall(b'OK devinfo productname "TF5"\n')
        conn.recv(100)
        conn.close()

    tf, mute = RawServer(desk), _server(None)
    try:
        t0 = time.monotonic()
        result = scan(profiles, [tf.url, mute.url], timeout_s=1.0)
        took = time.monotonic() - t0
    finally:
        tf.close()
        mute.close()
    assert asked == [b"devinfo productname\n"]
    (found,) = result.found
    assert found.port == tf.url and found.profiles == ["yamaha-tf"]
    assert found.answer.strip() == 'OK devinfo productname "TF5"'
    assert result.silent == [mute.url]     # asked too, and still silent: not recognised as anything
    assert took < 1.0 + 0.6


def test_the_document_tf_simulator_answers_the_scan(profiles):
    """The TF simulator written from the documents (devices.unit_sims) answers the same question
    over its TCP port: `hybrid devices scan tcp://...` finds the simulated desk."""
    from devices.simulator import Simulator
    from devices.unit_sims import DECODERS

    tf_profile = builtin_profiles()["yamaha-tf"]
    with Simulator(tf_profile, "tcp://127.0.0.1:0", decoder=DECODERS["yamaha-tf"]) as sim:
        result = scan(profiles, [sim.port], timeout_s=1.0)
    (found,) = result.found
    assert found.profiles == ["yamaha-tf"], found


def test_cli_scan_lists_serial_and_tcp_units_in_the_order_given(cli, pty_pair):
    master, path = pty_pair
    hub = _server(VIDEOHUB_PRELUDE)
    hub_url = hub.url
    stop = threading.Event()

    def power_cycle() -> None:       # the CLI's start takes a while: the unit is switched on again and again
        while not stop.wait(0.5):
            os.write(master, EXTRON_GREETING)
    cycler = threading.Thread(target=power_cycle, daemon=True)
    cycler.start()
    try:
        out = cli("devices", "scan", "--port", hub_url, "--port", path, "--timeout-ms", "3000", "--json")
        text = cli("devices", "scan", "--port", hub_url, "--timeout-ms", "500")
    finally:
        stop.set()
        cycler.join()
        hub.close()
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)["found"]
    assert [(f["port"], f["transport"], f["profiles"]) for f in found] == [
        (hub_url, "tcp", ["blackmagic-videohub"]), (path, "serial", ["extron-mav-plus"])]
    assert text.returncode == 0 and "->  blackmagic-videohub" in text.stdout
