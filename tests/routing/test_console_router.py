"""A Behringer X32 / Midas M32 as the studio's router for insert loops, over osc.udp on loopback.

The simulator (devices.unit_sims.x32) reads the console's messages by the Unofficial X32/M32
OSC Remote Protocol (P.-G. Maillot): "/ch/[01..32]/insert/on ... int [0..1]", "/ch/[01..32]/
insert/pos ... int [0..1] {PRE, POST}", "/ch/[01..32]/insert/sel ... int [0..22] {OFF, FX1L,
FX1R, FX2L, ..., FX8R, AUX1, AUX2, AUX3, AUX4, AUX5, AUX6}"; a query (the address without
arguments) answers with the value. So AUX3 is index 19 and POST is 1 on the wire.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from devices.profile import builtin_profiles
from devices.simulator import Simulator
from devices.unit_sims import DECODERS
from recall.errors import RecallProblems
from recall.routing import INSERT, apply_routes, load_bay, plan_routes
from recall.status import ApplyStatus
from recall.store import load_sheet
from recall.studio import load_studio
from tests.routing.kit import make_song, make_studio

X32 = builtin_profiles()["behringer-x32"]

CONSOLE_POINTS = '''
[router]
device = "X32"
insert_pos = "POST"

[router.loops.A]
send = 5              # loop A's send comes in on ch05 and its return leaves from ch05
return = 5

[router.loops.B]
send = "ch07"
return = "ch07"

[router.devices."1176 #2"]
in = "AUX3"           # the 1176 is wired to the console's AUX 3 send and return
out = "AUX3"

[router.devices.EQ]
in = "AUX4"
out = "AUX4"
'''


def _osc(address: str, tag: str, value: int) -> bytes:
    """An OSC message by the OSC 1.0 spec (address, type tags, big-endian int32), 4-byte padded."""
    def pad(b: bytes) -> bytes:
        return b + b"\x00" * (4 - len(b) % 4)
    return pad(address.encode()) + pad(f",{tag}".encode()) + value.to_bytes(4, "big")


@pytest.fixture
def console():
    with Simulator(X32, "osc.udp://127.0.0.1:0", decoder=DECODERS["behringer-x32"]) as sim:
        yield sim


def _studio(tmp_path, port: str, chains, points: str = CONSOLE_POINTS):
    root = make_studio(tmp_path / "studio", points,
                       extra=f'\n[devices.X32]\nprofile = "behringer-x32"\nport = "{port}"\n')
    make_song(root, chains)
    studio = load_studio(root)
    return studio, load_sheet(studio, "night-drive")


def test_inserts_on_the_console_are_set_and_read_back(tmp_path, console, cli):
    studio, sheet = _studio(tmp_path, console.port, {"1Kick": [("A", ["1176 #2"])], "2Snare": [("B", ["EQ"])]})
    bay = load_bay(studio)
    assert bay.kind == INSERT and bay.loops["A"] == {"send": 5, "return": 5} and bay.loops["B"]["send"] == 7
    (rp,) = plan_routes(studio, sheet, together=True).passes
    result = apply_routes(studio, rp, song="night-drive")
    assert result.report.status == ApplyStatus.VERIFIED, result.report.reason
    assert {k: console.state[k] for k in ("ch05.insert.sel", "ch05.insert.pos", "ch05.insert.on",
                                          "ch07.insert.sel", "ch07.insert.on")} == {
        "ch05.insert.sel": "AUX3", "ch05.insert.pos": "POST", "ch05.insert.on": True,
        "ch07.insert.sel": "AUX4", "ch07.insert.on": True}
    assert _osc("/ch/05/insert/sel", "i", 19) in console.received      # AUX3: index 19 of the table
    assert _osc("/ch/05/insert/pos", "i", 1) in console.received       # POST
    assert _osc("/ch/05/insert/on", "i", 1) in console.received
    assert console.rejected == []
    # the CLI plans and applies the same, one pass
    out = cli("route", "apply", "night-drive", "--studio", str(studio.root), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["router"]["status"] == ApplyStatus.VERIFIED


def test_a_console_insert_the_read_back_does_not_show_fails_naming_the_channel(tmp_path, console):
    studio, sheet = _studio(tmp_path, console.port, {"1Kick": [("A", ["1176 #2"])]})
    (rp,) = plan_routes(studio, sheet, together=True).passes
    # someone at the desk keeps channel 5's insert on FX1L: every set of insert/sel is undone
    console.on_change(lambda p, v: console.set("ch05.insert.sel", "FX1L", transmit=False)
                      if p == "ch05.insert.sel" and v != "FX1L" else None)
    result = apply_routes(studio, rp, song="night-drive")
    assert result.report.status == ApplyStatus.FAILED
    assert "ch05.insert.sel = FX1L (wanted AUX3)" in result.report.reason
    assert result.report.resent == ["ch05.insert.sel"]


def test_two_units_on_one_console_channel_are_refused_before_anything_is_sent(tmp_path, console):
    studio, sheet = _studio(tmp_path, console.port, {"1Kick": [("A", ["1176 #2", "EQ"])]})
    with pytest.raises(RecallProblems) as caught:
        plan_routes(studio, sheet, together=True)
    (problem,) = caught.value.problems
    assert problem.key == "tracks.1Kick.inserts[0].devices" and "one unit per chain" in problem.reason
    assert console.received == []


@pytest.mark.parametrize("points, key, reason", [
    (CONSOLE_POINTS.replace('in = "AUX3"', 'in = "AUX9"'), 'router.devices."1176 #2".in', "one of FX1L"),
    (CONSOLE_POINTS.replace("send = 5", "send = 33"), "router.loops.A.send", "1..32"),
    (CONSOLE_POINTS.replace("return = 5", "return = 6"), "router.loops.A.return", "one channel"),
    (CONSOLE_POINTS.replace('insert_pos = "POST"', 'insert_pos = "MID"'), "router.insert_pos", "PRE, POST"),
])
def test_bad_console_points_name_the_studio_key(tmp_path, console, points, key, reason):
    root = make_studio(tmp_path / "studio", points,
                       extra=f'\n[devices.X32]\nprofile = "behringer-x32"\nport = "{console.port}"\n')
    with pytest.raises(RecallProblems) as caught:
        load_bay(load_studio(root))
    assert [(p.key, reason in p.reason) for p in caught.value.problems] == [(key, True)]


def test_a_console_that_never_answers_fails_within_its_timeout(tmp_path):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    port = f"osc.udp://127.0.0.1:{silent.getsockname()[1]}"
    try:
        studio, sheet = _studio(tmp_path, port, {"1Kick": [("A", ["1176 #2"])]})
        (rp,) = plan_routes(studio, sheet, together=True).passes
        t0 = time.monotonic()
        result = apply_routes(studio, rp, song="night-drive")
        took = time.monotonic() - t0
    finally:
        silent.close()
    assert result.report.status == ApplyStatus.FAILED
    reason = result.report.reason
    assert "X32" in reason and port in reason and "\n" not in reason, reason
    assert took < 2 * 0.5 + 1.5          # the profile's 500 ms per query, one query and one retry at most
