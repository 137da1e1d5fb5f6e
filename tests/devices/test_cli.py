"""The ``hybrid devices`` commands, run as a user runs them, against simulators in another process."""

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _simulate(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "hybrid", "devices", "simulate", *args, "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    first = proc.stdout.readline()
    if not first:
        proc.kill()
        raise AssertionError(proc.stderr.read())
    return proc, json.loads(first)


def _stop(proc):
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    return out


def test_list_shows_profiles_and_ports(cli, jack_server, tmp_path):
    (tmp_path / "x.toml").write_text((ROOT / "tests/devices/profiles/test-sysex-sums.toml").read_text())
    proc, where = _simulate("hy-comp-cc", "--port", "cli-list-comp")
    try:
        out = cli("devices", "list", "--profiles", str(tmp_path), "--json")
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        ids = {p["id"]: p for p in result["profiles"]}
        assert {"hy-comp-cc", "hy-eq-nrpn", "hy-verb-sysex", "hy-patchbay-pc", "hy-matrix-sis",
                "hy-sat-serial", "hy-pultec-manual", "test-sysex-sums"} <= set(ids)
        assert ids["test-sysex-sums"]["from"] == str(tmp_path)
        assert any("cli-list-comp" in n for n in result["ports"]["midi_outputs"])
        text = cli("devices", "list")
        assert "hy-pultec-manual" in text.stdout and "hand-set" in text.stdout
    finally:
        _stop(proc)


def test_set_and_get_a_midi_unit_with_read_back(cli, jack_server):
    proc, where = _simulate("hy-verb-sysex", "--port", "cli-verb")
    assert where["event"] == "listening" and where["port"] == "cli-verb"
    try:
        out = cli("devices", "set", "--profile", "hy-verb-sysex", "--port", "cli-verb", "--name", "Plate",
                  "--json", "decay", "3.5 s", "type=Plate", "--", "level", "-6dB")
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert result["formatted"] == {"type": "Plate", "decay": "3.5 s", "level": "-6 dB"}
        assert all(v["ok"] for v in result["verified"].values())
        assert result["traffic"][0]["hex"].startswith("F0 41 10 00 5A 12 10 00 00 02")
        out = cli("devices", "get", "--profile", "hy-verb-sysex", "--port", "cli-verb", "type", "--json")
        assert json.loads(out.stdout)["values"] == {"type": "Plate"}
    finally:
        log = _stop(proc)
    events = [json.loads(line) for line in log.splitlines()]
    assert {"event": "change", "param": "type", "value": "Plate"} in events


def test_a_shipped_unit_is_simulated_as_its_makers_document_reads_the_wire(cli, jack_server):
    """Strymon BigSky User Manual p. 23: "MIDI BANK 1 = PRESETS 42C-85A" (bank in CC 0) and
    "PRESET 00A = MIDI program # 0": preset 42C is B0 00 01, C0 00. The simulator the CLI starts
    decodes by that page (devices.unit_sims), not by the profile's codec, so the preset that
    lands is the one the pedal would load."""
    proc, where = _simulate("strymon-bigsky", "--port", "cli-bigsky")
    assert where["reads_by"] == "document"
    try:
        out = cli("devices", "set", "--profile", "strymon-bigsky", "--port", "cli-bigsky", "--json", "preset", "42C")
        assert out.returncode == 0, out.stderr
        sent = [t["hex"] for t in json.loads(out.stdout)["traffic"] if t.get("direction", "out") == "out"]
        assert sent[-2:] == ["B0 00 01", "C0 00"], sent
    finally:
        log = _stop(proc)
    events = [json.loads(line) for line in log.splitlines()]
    assert {"event": "change", "param": "preset", "value": "42C"} in events, events
    proc, where = _simulate("strymon-bigsky", "--port", "cli-bigsky-codec", "--profile-codec")
    _stop(proc)
    assert where["reads_by"] == "profile"


def test_serial_unit_and_router_over_ptys(cli):
    proc, where = _simulate("hy-sat-serial")
    try:
        assert where["port"].startswith("/dev/")
        out = cli("devices", "set", "--profile", "hy-sat-serial", "--port", where["port"], "drive", "9.5")
        assert out.returncode == 0, out.stderr
        assert "drive = 9.5 dB" in out.stdout and "verified" in out.stdout
        out = cli("devices", "get", "--profile", "hy-sat-serial", "--port", where["port"], "--json")
        assert json.loads(out.stdout)["values"]["drive"] == 9.5
    finally:
        _stop(proc)
    proc, where = _simulate("hy-matrix-sis")
    try:
        out = cli("devices", "get", "--profile", "hy-matrix-sis", "--port", where["port"], "--json")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["ties"] == {}
    finally:
        _stop(proc)


@pytest.mark.parametrize("args, fragment", [
    (["set", "--profile", "hy-comp-cc", "--port", "nowhere", "threshold", "5dB"],
     "hybrid: error: hy-comp-cc: parameter threshold: 5 dB is out of range; expected -40 dB .. 0 dB"),
    (["set", "--profile", "hy-comp-cc", "--port", "nowhere", "threshold"], "expected PARAM VALUE pairs"),
    (["set", "--profile", "hy-comp-cc", "--port", "nowhere", "ratio=3:1"], "one of 2:1, 4:1"),
    (["get", "--profile", "hy-verb-sysex", "--port", "nowhere"], "no MIDI output port matches 'nowhere'"),
    (["get", "--profile", "hy-comp-cc", "--port", "nowhere"], "hy-comp-cc: reading back: cannot be read back"),
    (["get", "--profile", "hy-verb-sysex", "--port", "nowhere", "decya"], "no parameter 'decya'"),
    (["set", "--profile", "hy-pultec-manual", "--port", "x", "low_boost", "3"], "opening: is set by hand"),
    (["show", "no-such-profile"], "no built-in profile 'no-such-profile'"),
    (["get", "--profile", "hy-sat-serial", "--port", "/dev/ttyNOPE"],
     "hy-sat-serial (/dev/ttyNOPE): opening: no such serial device"),
    (["simulate", "hy-comp-cc", "--set", "ratio=3:1", "--for", "0"], "one of 2:1, 4:1"),
])
def test_errors_are_one_line(cli, jack_server, args, fragment):
    out = cli("devices", *args)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hybrid: error: ") and fragment in lines[0], out.stderr


def test_show_a_profile(cli):
    out = cli("devices", "show", "hy-comp-cc", "--json")
    assert out.returncode == 0, out.stderr
    shown = json.loads(out.stdout)
    ratio = next(p for p in shown["parameters"] if p["name"] == "ratio")
    assert ratio["labels"] == ["2:1", "4:1", "8:1", "12:1", "20:1"] and ratio["encoding"] == "CC 21"
    text = cli("devices", "show", "hy-matrix-sis").stdout
    assert "router: 8 inputs x 8 outputs" in text


def test_scan_lists_what_answers_a_device_inquiry(cli, jack_server):
    """``hybrid devices scan``: a simulated Roland-id unit answers F0 7E 7F 06 01 F7 on its MIDI port."""
    import json as _json
    from devices.profile import resolve_profile
    from devices.simulator import Simulator

    with Simulator(resolve_profile("hy-verb-sysex"), "scan-verb"):
        out = cli("devices", "scan", "--port", "scan-verb", "--timeout-ms", "1000", "--json")
    assert out.returncode == 0, out.stderr
    found = _json.loads(out.stdout)["found"]
    assert len(found) == 1 and found[0]["transport"] == "midi"
    assert found[0]["manufacturer"] == "41" and "hy-verb-sysex" in found[0]["profiles"]
    assert found[0]["answer"].startswith("F0 7E 10 06 02 41")


@pytest.mark.parametrize("profile, port, words, want", [
    ("test-tcp-sat.toml", None, ["drive", "7.5 dB", "mode=clean"], {"drive": 7.5, "mode": "clean"}),
    ("test-osc-desk.toml", "osc.tcp://127.0.0.1:0", ["fader=-20dB", "insert", "AUX1"], {"insert": "AUX1"}),
])
def test_set_and_get_a_network_unit_by_url(cli, profile, port, words, want):
    path = str(ROOT / "tests/devices/profiles" / profile)
    proc, where = _simulate(path, *(["--port", port] if port else []))
    try:
        assert where["port"].split("://")[0] in ("tcp", "osc.tcp")
        out = cli("devices", "set", "--profile", path, "--port", where["port"], "--name", "Net", "--json", *words)
        assert out.returncode == 0, out.stderr
        result = json.loads(out.stdout)
        assert all(v["ok"] for v in result["verified"].values())
        got = cli("devices", "get", "--profile", path, "--port", where["port"], "--json")
        assert got.returncode == 0, got.stderr
        values = json.loads(got.stdout)["values"]
        assert {k: values[k] for k in want} == want
    finally:
        _stop(proc)


def test_ctrl_c_right_after_listening_is_a_normal_stop(jack_server):
    """The line that says the simulator listens is the cue scripts and tests wait for; a Ctrl-C
    the moment after it is a normal stop (exit 0), not an interrupted run (exit 130)."""
    for n in range(3):
        proc, where = _simulate("hy-comp-cc", "--port", f"cli-stop-{n}")
        assert where["event"] == "listening"
        _stop(proc)
