"""A song's sheet on a simulated MCU over JACK MIDI, bound to a simulated compressor on JACK MIDI."""

from __future__ import annotations

import itertools
import os
import time

import pytest

from devices.midi_port import JACK_BACKEND
from devices.profile import builtin_profiles
from devices.simulator import Simulator
from devices.surfaces import SurfaceSession
from devices.surfaces.codec import fader_value
from devices.surfaces.sim import SimulatedMcu
from recall.sheet import Insert
from recall.store import create_song, history, load_sheet, save_sheet
from recall.studio import init_studio, load_studio
from recall.surface_binding import SheetBinding, value_at
from recall.values import same

BACKEND = JACK_BACKEND
LIB = builtin_profiles()
_ids = itertools.count()


def tag() -> str:
    return f"{os.getpid()}-{next(_ids)}"


def make_studio(root, comp_port: str):
    init_studio(root, name="Surface Room")
    with open(root / "studio.toml", "a", encoding="utf-8") as fh:
        fh.write(f'''
[devices."1176 #2"]
profile = "hy-comp-cc"
port = "{comp_port}"

[devices.Pultec]
profile = "hy-pultec-manual"

[loops.A]
out = 3
in = 3
''')
    path = create_song(root, "Night Drive", samplerate=48000, tracks={"1Kick": "stems/1Kick.wav"})
    studio = load_studio(root)
    sheet = load_sheet(studio, "night-drive")
    sheet.set_inserts("1Kick", [Insert("A", ["1176 #2", "Pultec"])])
    sheet.set_values("1176 #2", {"threshold": -20.0, "ratio": "4:1"})
    sheet.set_values("Pultec", {"low_freq": "60 Hz", "low_boost": "4"})
    save_sheet(sheet, studio=studio)
    return studio, path


def wait_until(predicate, timeout_s: float = 3.0) -> bool:
    """Poll until ``predicate()`` holds: MIDI is in flight between the simulators and the binding."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class Rig:
    def __init__(self, tmp_path, comp_port=None, **binding_options):
        t = tag()
        self.comp = Simulator(LIB["hy-comp-cc"], f"sb-comp-{t}").start()
        self.gear = []
        self.comp.on_change(lambda p, v: self.gear.append((p, v)))
        self.studio, self.path = make_studio(tmp_path / "studio", comp_port or self.comp.port)
        self.mcu = SimulatedMcu(f"sb-mcu-{t}", backend=BACKEND)
        self.session = SurfaceSession.open("mcu", self.mcu.port_specs, backend=BACKEND)
        self.binding = SheetBinding(self.studio, "night-drive", self.session, **binding_options)
        self.binding.start()

    def strip(self, device, param):
        return self.binding._index[(device, param)]

    def close(self):
        self.binding.close()
        self.session.close()
        self.mcu.close()
        self.comp.stop()


@pytest.fixture
def rig(jack_server, tmp_path):
    r = Rig(tmp_path)
    yield r
    r.close()


def test_strips_show_the_sheet(rig):
    sim = rig.mcu
    assert [s.key for s in rig.binding.slots][:3] == [("1176 #2", "threshold"), ("1176 #2", "ratio"),
                                                       ("1176 #2", "attack")]
    thr = rig.strip("1176 #2", "threshold")
    boost = rig.strip("Pultec", "low_boost")
    # the surface abbreviates labels to its 7 characters; values as the panel prints them
    assert sim.wait_for(lambda: sim.strip_text(thr)[1] == "-20 dB " and sim.strip_text(boost)[1] == ">4     "
                        and sim.led("select", boost) == "blink" and sim.fader(thr) == fader_value(0.5))
    assert sim.strip_text(thr)[0].startswith("Th") and sim.strip_text(rig.strip("1176 #2", "ratio"))[0] == "Ratio  "
    assert sim.fader(thr) == fader_value(0.5)          # -20 dB of -40..0
    assert sim.led("select", boost) == "blink"
    assert sim.errors == []


def test_fader_move_edits_the_sheet_and_reaches_the_gear(rig):
    thr = rig.strip("1176 #2", "threshold")
    rig.mcu.touch(thr)
    rig.mcu.move(thr, 0.75)                            # -10 dB
    rig.mcu.touch(thr, False)
    assert wait_until(lambda: any(p == "threshold" for p, _ in rig.gear))
    assert rig.binding.wait_idle(2)
    assert rig.binding.sheet.values("1176 #2")["threshold"] == pytest.approx(-10.0, abs=0.05)
    assert same(LIB["hy-comp-cc"].parameters["threshold"], rig.comp.state["threshold"], -10.0)
    rig.binding.flush()
    on_disk = load_sheet(rig.studio, "night-drive")
    assert on_disk.values("1176 #2")["threshold"] == pytest.approx(-10.0, abs=0.05)
    assert on_disk.values("Pultec") == {"low_freq": "60 Hz", "low_boost": "4"}
    assert rig.mcu.wait_for(lambda: rig.mcu.strip_text(thr)[1] == "-10 dB ")
    assert rig.binding.errors == []
    assert rig.mcu.errors == []


def test_vpot_turn_steps_a_detented_control(rig):
    ratio = rig.strip("1176 #2", "ratio")
    rig.mcu.turn(ratio, 2)                             # 4:1 -> 12:1
    assert wait_until(lambda: rig.comp.state["ratio"] == "12:1")
    assert rig.binding.sheet.values("1176 #2")["ratio"] == "12:1"
    assert rig.mcu.wait_for(lambda: rig.mcu.strip_text(ratio)[1] == "12:1   ")


def test_fader_storm_leaves_sheet_gear_and_file_consistent(rig):
    thr = rig.strip("1176 #2", "threshold")
    out = rig.strip("1176 #2", "output")
    versions_before = len(history(rig.studio, "night-drive"))
    rig.mcu.touch(thr)
    rig.mcu.touch(out)
    # two faders thrown about as fast as a USB surface sends (faster than a DIN wire could):
    # JACK drops MIDI events beyond one period's buffer, so the person's hand is paced at ~1 ms
    for i in range(400):
        rig.mcu.move(thr, (i * 37 % 1000) / 1000)
        rig.mcu.move(out, (i * 91 % 1000) / 1000)
        time.sleep(0.001)
    last_thr, last_out = (399 * 37 % 1000) / 1000, (399 * 91 % 1000) / 1000
    rig.mcu.touch(thr, False)
    rig.mcu.touch(out, False)
    params = LIB["hy-comp-cc"].parameters
    want_thr = value_at(params["threshold"], fader_value(last_thr) / 16383, None)
    want_out = value_at(params["output"], fader_value(last_out) / 16383, None)

    def settled():
        values = rig.binding.sheet.values("1176 #2")
        return values.get("threshold") == want_thr and values.get("output") == want_out
    assert wait_until(settled, 5), (rig.binding.sheet.values("1176 #2"), rig.binding.edits,
                                    rig.session.events_delivered, list(rig.session.problems), rig.binding.errors)
    assert rig.binding.wait_idle(5)
    values = rig.binding.sheet.values("1176 #2")
    assert values["threshold"] == pytest.approx(want_thr, abs=0.05)
    assert values["output"] == pytest.approx(want_out, abs=0.05)
    assert wait_until(lambda: same(params["threshold"], rig.comp.state["threshold"], want_thr)
                      and same(params["output"], rig.comp.state["output"], want_out))
    assert same(params["threshold"], rig.comp.state["threshold"], want_thr)
    assert same(params["output"], rig.comp.state["output"], want_out)
    rig.binding.flush()
    on_disk = load_sheet(rig.studio, "night-drive")
    assert on_disk.values("1176 #2")["threshold"] == values["threshold"]
    assert on_disk.values("1176 #2")["output"] == values["output"]
    saves = len(history(rig.studio, "night-drive")) - versions_before
    assert 1 <= saves <= 12, f"{saves} saves for one storm: not coalesced"
    assert rig.binding.gear_messages < 800               # latest value wins, not one message per move
    assert rig.binding.errors == []
    assert rig.mcu.errors == []


def test_hand_set_target_is_confirmed_on_the_surface(rig):
    boost = rig.strip("Pultec", "low_boost")
    ticked = []
    rig.binding.on_step(ticked.append)
    pending = [(s.device, s.parameter) for s in rig.binding.pending_steps()]
    assert ("Pultec", "low_boost") in pending
    rig.mcu.press("select", boost)
    assert rig.mcu.wait_for(lambda: rig.mcu.led("select", boost) == "on")
    assert rig.binding.wait_idle(2)
    assert [(s.device, s.parameter, s.setting) for s in ticked] == [("Pultec", "low_boost", "4")]
    assert ("Pultec", "low_boost") not in [(s.device, s.parameter) for s in rig.binding.pending_steps()]
    assert rig.mcu.strip_text(boost)[1] == "4      "
    assert rig.comp.received == []       # confirming a hand-set step sends nothing to the gear


def test_unreachable_gear_still_edits_the_sheet_and_says_so(jack_server, tmp_path):
    r = Rig(tmp_path, comp_port="no-such-port-anywhere")
    try:
        assert any("1176 #2" in e and "cannot open" in e for e in r.binding.errors)
        thr = r.strip("1176 #2", "threshold")
        r.mcu.move(thr, 1.0)
        assert wait_until(lambda: r.binding.sheet.values("1176 #2")["threshold"] == 0.0)
        assert r.binding.wait_idle(3)
        assert r.binding.sheet.values("1176 #2")["threshold"] == 0.0
        assert r.gear == []
    finally:
        r.close()
    assert load_sheet(r.studio, "night-drive").values("1176 #2")["threshold"] == 0.0


def test_sheet_edited_on_disk_meanwhile_keeps_both(rig):
    other = load_sheet(rig.studio, "night-drive")
    other.set_value("Pultec", "low_freq", "100 Hz")
    save_sheet(other, studio=rig.studio)
    thr = rig.strip("1176 #2", "threshold")
    rig.mcu.move(thr, 0.25)
    assert wait_until(lambda: rig.binding.edits == 1)
    assert rig.binding.wait_idle(3)
    rig.binding.flush()
    on_disk = load_sheet(rig.studio, "night-drive")
    assert on_disk.values("Pultec")["low_freq"] == "100 Hz"
    assert on_disk.values("1176 #2")["threshold"] == pytest.approx(-30.0, abs=0.05)


EDITOR = r"""
import sys
from pathlib import Path
path = Path(sys.argv[1])
text = path.read_text(encoding="utf-8")
for old, new in zip(sys.argv[2::2], sys.argv[3::2]):
    assert old in text, old
    text = text.replace(old, new, 1)
path.write_text(text, encoding="utf-8")
"""


def test_a_control_changed_in_an_editor_and_on_the_surface_is_refused_not_overwritten(rig):
    import subprocess
    import sys

    thr = rig.strip("1176 #2", "threshold")
    # another process saves the file: the same threshold, and the Pultec's frequency
    out = subprocess.run([sys.executable, "-c", EDITOR, str(rig.path), "threshold = -20.0", "threshold = -12.0",
                          'low_freq = "60 Hz"', 'low_freq = "100 Hz"'], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    on_disk = rig.path.read_text()
    rig.mcu.move(thr, 0.25)
    assert wait_until(lambda: rig.binding.edits == 1)
    assert rig.binding.wait_idle(3)
    rig.binding.flush()
    assert rig.path.read_text() == on_disk      # the editor's threshold is not overwritten
    assert any('devices."1176 #2".values.threshold' in e and "-12.0" in e for e in rig.binding.errors)
    # the surface shows the file again: the threshold fader and text at -12 dB, nothing pending
    assert rig.mcu.wait_for(lambda: rig.mcu.strip_text(thr)[1] == "-12 dB " , 3), rig.mcu.strip_text(thr)
    assert rig.binding.sheet.values("Pultec")["low_freq"] == "100 Hz"
    assert rig.binding.flush() is False


def test_hui_shows_the_sheet_and_a_move_edits_it(jack_server, tmp_path):
    from devices.surfaces.sim import SimulatedHui

    t = tag()
    comp = Simulator(LIB["hy-comp-cc"], f"sb-hcomp-{t}").start()
    hui = SimulatedHui(f"sb-hui-{t}", backend=BACKEND)
    session = SurfaceSession.open("hui", hui.port_specs, backend=BACKEND)
    try:
        studio, _path = make_studio(tmp_path / "studio", comp.port)
        with SheetBinding(studio, "night-drive", session) as binding:
            binding.start()
            thr = binding._index[("1176 #2", "threshold")]
            assert hui.wait_for(lambda: hui.fader(thr) == fader_value(0.5))
            hui.touch(thr)
            hui.move(thr, 1.0)
            hui.touch(thr, False)
            assert wait_until(lambda: comp.state["threshold"] == 0.0)
            assert binding.sheet.values("1176 #2")["threshold"] == 0.0
            assert binding.errors == []
        assert load_sheet(studio, "night-drive").values("1176 #2")["threshold"] == 0.0
    finally:
        session.close()
        hui.close()
        comp.stop()


def test_cli_surface_run_edits_the_sheet_from_the_surface(jack_server, tmp_path):
    """``hybrid surface run`` as a person runs it: up until Ctrl-C, then a summary."""
    import json
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT

    t = tag()
    comp = Simulator(LIB["hy-comp-cc"], f"sb-ccomp-{t}").start()
    mcu = SimulatedMcu(f"sb-cmcu-{t}", backend=BACKEND)
    proc = None
    try:
        studio, path = make_studio(tmp_path / "studio", comp.port)
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = subprocess.Popen([sys.executable, "-m", "hybrid", "surface", "run", "night-drive", "--studio",
                                 str(studio.root), "--mcu", mcu.port_specs[0], "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        # the command is up when the strips show the sheet
        assert mcu.wait_for(lambda: mcu.strip_text(0)[1] == "-20 dB ", 20), mcu.strip_text(0)
        mcu.move(0, 0.25)                                   # threshold -30 dB
        assert wait_until(lambda: same(LIB["hy-comp-cc"].parameters["threshold"], comp.state["threshold"],
                                       -30.0), 5)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 0, stderr
        summary = json.loads(stdout)
        assert summary["edits"] >= 1 and summary["saves"] >= 1 and summary["errors"] == []
        assert [s["parameter"] for s in summary["pending_steps"]] == ["low_freq", "low_boost"]
        assert load_sheet(studio, "night-drive").values("1176 #2")["threshold"] == -30.0
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        mcu.close()
        comp.stop()


def test_cli_surface_run_refuses_a_missing_surface(jack_server, tmp_path, cli):
    studio, path = make_studio(tmp_path / "studio", "no-gear-here")
    before = path.read_bytes()
    run = cli("surface", "run", "night-drive", "--studio", str(studio.root), "--mcu", "no-such-surface-xyz")
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("hybrid: error: ")
    assert "no-such-surface-xyz" in run.stderr
    assert path.read_bytes() == before


def test_surface_follows_a_sheet_saved_elsewhere(rig):
    boost = rig.strip("Pultec", "low_boost")
    rig.mcu.press("select", boost)
    assert rig.mcu.wait_for(lambda: rig.mcu.led("select", boost) == "on")
    other = load_sheet(rig.studio, "night-drive")        # the TUI changes the target and the threshold
    other.set_values("Pultec", {"low_boost": "7"})
    other.set_values("1176 #2", {"threshold": -5.0})
    save_sheet(other, studio=rig.studio)
    thr = rig.strip("1176 #2", "threshold")
    # the new target blinks again (it was confirmed at 4); the threshold fader goes to -5 dB
    assert rig.mcu.wait_for(lambda: rig.mcu.strip_text(boost)[1] == ">7     " and rig.mcu.fader(thr) == fader_value(0.875)
                            and rig.mcu.strip_text(thr)[1] == "-5 dB  " and rig.mcu.led("select", boost) == "blink", 3)
    assert ("Pultec", "low_boost") in [(s.device, s.parameter) for s in rig.binding.pending_steps()]
    assert rig.binding.sheet.values("1176 #2")["threshold"] == -5.0
    assert rig.comp.received == []       # a sheet saved elsewhere is not a recall: the gear is left alone


@pytest.mark.parametrize("bad", ["latin1", "fifo"])
def test_a_sheet_made_unreadable_on_disk_is_reported_once_and_the_surface_keeps_the_last_good(rig, bad):
    path = rig.binding.path
    good = path.read_bytes()
    thr = rig.strip("1176 #2", "threshold")
    assert rig.mcu.wait_for(lambda: rig.mcu.strip_text(thr)[1] == "-20 dB ")
    path.unlink()
    if bad == "latin1":   # an editor saving as Latin-1: not UTF-8
        path.write_bytes(good.replace(b"\n", "\n# 5 \u00b5s\n".encode("latin-1"), 1))
    else:                 # a FIFO in the sheet's place: never opened for reading (it would block)
        os.mkfifo(path)
    assert wait_until(lambda: rig.binding.errors, 3)
    time.sleep(3 * rig.binding.disk_poll_s)
    assert len(rig.binding.errors) == 1, rig.binding.errors       # said once, not every poll
    line = rig.binding.errors[0]
    assert str(path) in line and "last good sheet" in line
    assert ("not UTF-8" in line or "UTF-8" in line) if bad == "latin1" else "FIFO" in line
    assert rig.binding.sheet.values("1176 #2")["threshold"] == -20.0
    path.unlink()
    path.write_bytes(good.replace(b"threshold = -20.0", b"threshold = -5.0"))
    assert rig.mcu.wait_for(lambda: rig.mcu.strip_text(thr)[1] == "-5 dB  ", 3)
