"""The demo rig on a real JACK server: simulators reachable, loops measurable, knobs turnable, clean stop."""

from __future__ import annotations

import os

import pytest

from hybrid.app.demo.gear import INVERTED_LOOP_INDEX, LOOP_DELAYS_SAMPLES
from hybrid.app.demo.rig import DemoRig
from hybrid.app.demo.studio import SONGS, build_demo_studio
from hybrid.errors import HybridError
from hybrid.app.session import StudioSession

SONG = SONGS[0].slug


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().split()[2] != "Z"


def test_every_device_is_reachable(demo_rig, demo_studio):
    session = StudioSession(demo_studio)
    states = {row.name: row.state for row in session.device_status()}
    assert states == {"VCA Comp": "connected", "Channel EQ": "connected", "Pultec": "hand-set",
                      "Tape Sat": "connected", "Plate": "connected", "Matrix": "connected"}
    tape = session.studio.devices["Tape Sat"].port
    assert tape.startswith("/dev/pts/")  # the simulator's pty, written into studio.toml


def test_apply_then_verify_then_hand_steps(demo_rig, demo_studio):
    session = StudioSession(demo_studio)
    session.hands = demo_rig
    seen = []
    report = session.apply(SONG, on_progress=seen.append)
    statuses = {r.device: r.status for r in report.devices}
    assert statuses["Pultec"] == "needs-hand"
    assert statuses["Tape Sat"] == statuses["Plate"] == "verified"
    assert statuses["VCA Comp"] == statuses["Channel EQ"] == "set"
    assert {p.device for p in seen if p.final} == set(statuses)
    # every byte of the recall went through the session's traffic monitor, named by device
    lines, count = session.traffic.since(0)
    assert count > 0 and {"VCA Comp", "Tape Sat"} <= {line.device for line in lines}
    assert session.diff_gear(SONG) == []
    for step in report.steps:
        session.confirm_step(step)
    panel = demo_rig.panel("Pultec")
    wanted = session.sheet(SONG).values("Pultec")
    assert {k: panel[k] for k in wanted} == wanted


def test_a_moved_knob_shows_in_the_diff_against_the_gear(demo_rig, demo_studio):
    session = StudioSession(demo_studio)
    session.apply(SONG)
    demo_rig.turn_knob("Plate", "decay", 5.0)
    changes = session.diff_gear(SONG)
    assert [(c.device, c.param) for c in changes] == [("Plate", "decay")]
    assert changes[0].new == pytest.approx(5.0, abs=0.1)


def test_loops_measure_as_wired(demo_rig, demo_studio, demo_jack):
    session = StudioSession(demo_studio)
    loops = sorted(session.studio.loops)
    inverted = loops[INVERTED_LOOP_INDEX]
    state = session.measure_loop(inverted)
    expected = LOOP_DELAYS_SAMPLES[INVERTED_LOOP_INDEX] + demo_jack.period_frames  # + the host's period
    assert state.latency_samples == pytest.approx(expected, abs=0.05)
    assert state.polarity == -1
    assert len(state.impulse) > 10 and min(state.impulse) < -0.5 * max(abs(state.impulse))
    stored = {s.name: s for s in session.loop_states()}[inverted]
    assert stored.state == "fresh" and stored.latency_samples == pytest.approx(state.latency_samples)


def test_turning_an_unknown_knob_is_one_clear_error(demo_rig):
    with pytest.raises(HybridError, match="no simulated device 'Nope'"):
        demo_rig.turn_knob("Nope", "x", 1)


def test_stop_leaves_no_process_behind(demo_jack, tmp_path):
    root = build_demo_studio(tmp_path / "room", interface="hybrid-gear-stop-test")
    rig = DemoRig(root, server=demo_jack).start()
    pids = rig.pids()
    assert pids and all(_alive(p) for p in pids)
    rig.stop()
    assert not any(_alive(p) for p in pids)
    rig.stop()  # twice is fine


def test_the_loops_sound_like_the_units_knobs(demo_rig, demo_studio):
    """Tape Sat sits on loop C: switching it to bypass over its simulator's panel changes the loop's gain."""
    session = StudioSession(demo_studio)
    session.apply(SONG)  # drive 8 dB, output -3 dB, in circuit
    engaged = session.measure_loop("C").gain_db
    demo_rig.turn_knob("Tape Sat", "bypass", True)
    try:
        bypassed = session.measure_loop("C").gain_db
    finally:
        demo_rig.turn_knob("Tape Sat", "bypass", False)
    assert bypassed == pytest.approx(-1.1, abs=0.3)  # just the loop's own gain
    assert abs(engaged - bypassed) > 1.0
