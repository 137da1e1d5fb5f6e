"""``hybrid latency measure|show`` as a user runs them, against the simulated gear."""

from __future__ import annotations

import json

import pytest

from .conftest import GEAR, HOOKS, INVERTED, PERIOD

FAST = ["--samplerate", "48000"]


def studio(tmp_path, blocksize=0):
    (tmp_path / "studio.toml").write_text(
        'spec = "hybrid-studio/1"\nname = "Test Room"\n\n'
        f'[interface]\ndevice = "{GEAR}"\nsamplerate = 48000\nblocksize = {blocksize}\n\n'
        f'[loops.Verb]\nout = {INVERTED}\nin = {INVERTED}\n\n'
        '[loops.Spare]\nout = 1\nin = 1\n')
    return tmp_path


def test_measure_prints_one_json_object(gear, cli):
    out = cli("latency", "measure", "--device", GEAR, "--out", str(INVERTED), "--in", str(INVERTED),
              *FAST, "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["latency_samples"] == pytest.approx(100.3 + PERIOD, abs=0.01)
    assert report["polarity"] == -1
    assert report["gain_db"] == pytest.approx(0.0, abs=0.1)
    for key in ("snr_db", "confidence", "noise_floor_dbfs", "method"):
        assert key in report


def test_measure_a_studio_loop_stores_it_and_show_tells_when_stale(gear, cli, tmp_path):
    room = studio(tmp_path)
    out = cli("latency", "measure", "Verb", "--studio", str(room))
    assert out.returncode == 0, out.stderr
    assert "inverted" in out.stdout
    stored = (room / "latency.toml").read_text()
    assert "[loops.Verb]" in stored

    shown = json.loads(cli("latency", "show", "--studio", str(room), "--json").stdout)
    rows = {row["loop"]: row for row in shown["loops"]}
    assert rows["Verb"]["stale"] is False
    assert rows["Verb"]["entry"]["latency_samples"] == pytest.approx(100.3 + PERIOD, abs=0.01)
    assert rows["Spare"]["measured"] is False

    studio(tmp_path, blocksize=512)   # the interface changed: the figure no longer holds
    shown = json.loads(cli("latency", "show", "--studio", str(room), "--json").stdout)
    verb = {row["loop"]: row for row in shown["loops"]}["Verb"]
    assert verb["stale"] is True
    assert verb["reasons"] == ["blocksize 0 -> 512"]


def test_failure_is_one_line_on_stderr(gear, cli, tmp_path):
    gear.set_open(HOOKS, True)
    try:
        out = cli("latency", "measure", "--device", GEAR, "--out", str(HOOKS), "--in", str(HOOKS), "--json")
    finally:
        gear.set_open(HOOKS, False)
    assert out.returncode == 1
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hybrid: error: ") and "open" in lines[0]

    out = cli("latency", "measure", "Nope", "--studio", str(studio(tmp_path)))
    assert out.returncode == 1
    assert "no loop 'Nope'" in out.stderr and "Spare, Verb" in out.stderr


def test_gear_as_its_own_process_serves_the_cli(jack_server, cli, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    config = tmp_path / "gear.toml"
    config.write_text('name = "hy-ping-proc"\n[[loops]]\ndelay_samples = 12.5\npolarity = -1\n'
                      '  [[loops.gear]]\n  model = "saturator"\n  drive_db = 3.0\n  output_db = -3.0\n')
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "hybrid.simgear", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        ready = json.loads(proc.stdout.readline())
        assert ready["ready"] and ready["name"] == "hy-ping-proc" and ready["loops"] == 1
        out = cli("latency", "measure", "--device", "hy-ping-proc", "--out", "1", "--in", "1", "--json")
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["latency_samples"] == pytest.approx(12.5 + PERIOD, abs=0.01)
        assert report["polarity"] == -1
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_bad_gear_config_is_one_clear_line(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    config = tmp_path / "gear.toml"
    config.write_text('[[loops]]\ndelay_samples = 10\n  [[loops.gear]]\n  model = "flanger"\n')
    out = subprocess.run([sys.executable, "-m", "hybrid.simgear", "--config", str(config)], capture_output=True,
                         text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 1
    assert out.stderr.strip() == (f"hybrid.simgear: error: {config}: loops[1].gear[1]: model: expected one of "
                                  "compressor, eq, reverb, saturator (or a profile), got 'flanger'")
