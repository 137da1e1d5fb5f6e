"""``hybrid surface check`` against ``hybrid surface simulate``, both as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import jack

from tests.conftest import ROOT
from tests.surfaces.conftest import unique


def _wait_for_port(server, fragment: str, timeout_s: float = 20.0) -> None:
    """Poll with one JACK client (listing through rtmidi opens two clients per call)."""
    client = jack.Client("surface-cli-test", servername=server.name, no_start_server=True)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            names = [p.name for p in client.get_ports(is_midi=True)]
            if sum(fragment in n for n in names) >= 2:  # the simulator's input and output
                return
            time.sleep(0.1)
    finally:
        client.close()
    raise AssertionError(f"the simulator's ports {fragment!r} never appeared")


def test_check_finds_a_simulated_mcu_with_an_extender(jack_server, cli):
    name = unique("climcu")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sim = subprocess.Popen([sys.executable, "-m", "hybrid", "surface", "simulate", "--mcu", name,
                            "--extenders", "1", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, env=env, cwd=ROOT)
    try:
        _wait_for_port(jack_server, f"{name} XT1")
        out = cli("surface", "check", "--mcu", f"{name} MCU", "--xt", f"{name} XT1", "--json")
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["kind"] == "mcu" and report["strips"] == 16 and report["pattern_sent"]
        assert [(u["unit"], u["protocol"], u["online"]) for u in report["units"]] == \
            [("MCU", "MCU", True), ("MCU XT 1", "MCU XT", True)]
        assert f"{name} XT1" in report["units"][1]["output"]
    finally:
        sim.send_signal(signal.SIGINT)
        stdout, stderr = sim.communicate(timeout=20)
    assert sim.returncode == 0, stderr
    picture = json.loads(stdout)
    assert picture["errors"] == [] and picture["queries_answered"] >= 2
    # check blanks the surface when it is done, as it found it
    assert all(s["text"] == [" " * 7, " " * 7] and s["fader"] == 0 for s in picture["strips"])


def test_check_names_a_missing_port_in_one_line(jack_server, cli):
    out = cli("surface", "check", "--hui", "no-such-hui", "--timeout", "0.2")
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hybrid: error: HUI: opening: no MIDI output port matches "
                                                   "'no-such-hui'; present:"), out.stderr
