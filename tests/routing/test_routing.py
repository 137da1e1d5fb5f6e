"""Insert chains as ties on a real SIS matrix simulator (pty), a paper bay, a MIDI patchbay."""

from __future__ import annotations

import json
import os
import time

import pytest

from devices.profile import builtin_profiles
from devices.simulator import Simulator
from recall.apply import DevicePool
from recall.status import ApplyStatus
from recall.errors import RecallProblems
from recall.routing import (apply_routes, load_bay, plan_routes, route_pass, walkthrough_with_patching)
from recall.store import load_sheet, save_sheet
from recall.studio import load_studio
from tests.routing.kit import MATRIX_POINTS, PAPER_POINTS, make_song, make_studio

LIB = builtin_profiles()


@pytest.fixture
def matrix():
    sim = Simulator(LIB["hy-matrix-sis"])
    sim.start()
    yield sim
    sim.stop()


def matrix_studio(tmp_path, sim, chains, **kw):
    root = make_studio(tmp_path / "studio", MATRIX_POINTS, matrix_port=sim.port, **kw)
    make_song(root, chains)
    studio = load_studio(root)
    return studio, load_sheet(studio, "night-drive")


def test_chain_becomes_ties_that_read_back(tmp_path, matrix):
    studio, sheet = matrix_studio(tmp_path, matrix, {
        "1Kick": [("A", ["1176 #2", "EQ"])],
        "2Snare": [("C", [])],            # hard-wired Pultec: nothing to patch
    })
    plan = plan_routes(studio, sheet, together=True)
    (rp,) = plan.passes
    # loop A send (in 1) -> 1176 in (out 3); 1176 out (in 3) -> EQ in (out 4); EQ out (in 4) -> A return (out 1)
    assert [(t.source_point, t.dest_point) for t in rp.ties] == [(1, 3), (3, 4), (4, 1)]
    assert [c.hard_wired for c in rp.chains] == [False, True]
    events = []
    result = apply_routes(studio, rp, song="night-drive", on_event=events.append)
    assert result.report.status == ApplyStatus.VERIFIED, result.report.reason
    assert matrix.ties == {3: 1, 4: 3, 1: 4}
    assert result.read_back == {3: 1, 4: 3, 1: 4}
    assert [e.kind for e in events][0] == "start" and events[-1].kind == "finish"
    assert [e.report.status for e in events if e.kind == "done"] == [ApplyStatus.VERIFIED]
    assert [m for m in matrix.received if m.endswith(b"!")][:3] == [b"1*3!", b"3*4!", b"4*1!"]
    assert matrix.rejected == []


@pytest.mark.parametrize("chains, key, reason", [
    ({"1Kick": [("A", ["1176 #2"])], "2Snare": [("B", ["1176 #2"])]},
     'tracks.2Snare.inserts[0].devices[0]', "unit '1176 #2' is already in 1Kick's chain"),
    ({"1Kick": [("A", ["EQ"])], "2Snare": [("A", ["1176 #2"])]},
     'tracks.2Snare.inserts[0].loop', "loop 'A' already carries 1Kick's insert"),
    ({"1Kick": [("A", ["Fairchild"])]},
     'tracks.1Kick.inserts[0].devices[0]', "unit 'Fairchild' is not on the router 'Matrix'"),
    ({"1Kick": [("C", ["EQ"])]},
     'tracks.1Kick.inserts[0].loop', "loop 'C' is not on the router 'Matrix'"),
    ({"1Kick": [("A", [])], "2Snare": [("B", [])], "3Bass": [("C", [])], "4Vox": [("A", [])]},
     "tracks", "4 inserts at once need 4 loops; the studio has 3"),
])
def test_conflicts_refused_before_anything_is_sent(tmp_path, matrix, chains, key, reason):
    studio, sheet = matrix_studio(tmp_path, matrix, chains)
    with pytest.raises(RecallProblems) as caught:
        plan_routes(studio, sheet, together=True)
    problems = caught.value.problems
    assert any(p.key == key and reason in p.reason for p in problems), problems
    assert all(p.file == sheet.file for p in problems)
    assert matrix.received == []


def test_cli_refuses_a_conflict_with_one_line_and_sends_nothing(tmp_path, matrix, cli):
    matrix_studio(tmp_path, matrix, {"1Kick": [("A", ["1176 #2"])], "2Snare": [("B", ["1176 #2"])]})
    run = cli("route", "apply", "night-drive", "--studio", str(tmp_path / "studio"))
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hybrid: error: ") and "sheet.toml" in lines[0]
    assert "unit '1176 #2' is already in 1Kick's chain" in lines[0]
    assert matrix.received == []
    # the same song prints in two passes: the plan splits it, and pass 2 can be set
    run = cli("route", "apply", "night-drive", "--studio", str(tmp_path / "studio"), "--pass", "2", "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["router"]["status"] == ApplyStatus.VERIFIED
    assert out["ties_text"] == ["in 2 -> out 3", "in 3 -> out 2"]
    assert matrix.ties == {3: 2, 2: 3}


def test_router_answering_with_an_error_fails_clearly_and_leaves_the_sheet(tmp_path, matrix):
    # the studio thinks the matrix is 16x16; the unit on the wire is 8x8 and refuses output 12
    big = (tmp_path / "matrix16.toml")
    big.parent.mkdir(parents=True, exist_ok=True)
    text = LIB["hy-matrix-sis"].source.read_text().replace('id = "hy-matrix-sis"', 'id = "matrix16"')
    big.write_text(text.replace("inputs = 8", "inputs = 16").replace("outputs = 8", "outputs = 16"))
    root = make_studio(tmp_path / "studio", MATRIX_POINTS.replace("in = 4\nout = 4", "in = 12\nout = 4"),
                       matrix_port=matrix.port, matrix_profile=str(big))
    path = make_song(root, {"1Kick": [("A", ["1176 #2", "EQ"])]})
    before = path.read_bytes()
    studio = load_studio(root)
    sheet = load_sheet(studio, "night-drive")
    t0 = time.monotonic()
    result = apply_routes(studio, plan_routes(studio, sheet, together=True).passes[0])
    assert time.monotonic() - t0 < 3
    assert result.report.status == ApplyStatus.FAILED and not result.ok
    assert "tie input 3 to output 12" in result.report.reason
    assert "invalid output number" in result.report.reason
    assert path.read_bytes() == before
    assert any("invalid_output" in r for r in matrix.rejected)


def test_router_that_never_answers_times_out(tmp_path, pty_pair, cli):
    _master, silent = pty_pair        # a port with nobody behind it
    root = make_studio(tmp_path / "studio", MATRIX_POINTS, matrix_port=silent)
    path = make_song(root, {"1Kick": [("A", ["1176 #2"])]})
    before = path.read_bytes()
    studio = load_studio(root)
    rp = plan_routes(studio, load_sheet(studio, "night-drive"), together=True).passes[0]
    t0 = time.monotonic()
    result = apply_routes(studio, rp)
    assert time.monotonic() - t0 < 3
    assert result.report.status == ApplyStatus.FAILED
    assert "Matrix" in result.report.reason and "tie input 1 to output 3" in result.report.reason
    assert "no reply" in result.report.reason or "timed out" in result.report.reason or "timeout" in result.report.reason
    assert path.read_bytes() == before
    run = cli("route", "apply", "night-drive", "--studio", str(root))
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("hybrid: error: Matrix: ")
    assert path.read_bytes() == before


def test_paper_bay_becomes_walkthrough_steps(tmp_path, cli):
    root = make_studio(tmp_path / "studio", PAPER_POINTS)
    make_song(root, {"1Kick": [("A", ["1176 #2", "EQ"])], "2Snare": [("C", [])]})
    studio = load_studio(root)
    sheet = load_sheet(studio, "night-drive")
    sheet.set_values("Pultec", {"low_boost": "4"})
    rp = plan_routes(studio, sheet, together=True).passes[0]
    result = apply_routes(studio, rp)
    assert result.report.status == ApplyStatus.NEEDS_HAND
    assert [str(s) for s in result.steps] == [
        "  1. Patchbay: patch Send 3 -> 1176 #2 In [1Kick > A]",
        "  2. Patchbay: patch 1176 #2 Out -> EQ In [1Kick > A]",
        "  3. Patchbay: patch EQ Out -> Return 3 [1Kick > A]",
    ]
    steps = walkthrough_with_patching(sheet, studio)
    assert [s.kind for s in steps] == ["patch"] * 3 + ["stepped"]
    assert [s.number for s in steps] == [1, 2, 3, 4] and steps[3].device == "Pultec"
    run = cli("route", "plan", "night-drive", "--studio", str(root))
    assert run.returncode == 0, run.stderr
    assert "patch Send 3 -> 1176 #2 In" in run.stdout and "(hard-wired)" in run.stdout


def test_planner_splits_stems_sharing_a_unit_and_agrees_with_the_print_planner(tmp_path, matrix):
    from hybrid.live.audio.song import plan_song

    chains = {"1Kick": [("A", ["1176 #2"])], "2Snare": [("B", ["1176 #2"])], "3Bass": [("C", [])],
              "4Vox": [("B", ["EQ"]), ("A", ["1176 #2"])]}
    studio, sheet = matrix_studio(tmp_path, matrix, chains)
    plan = plan_routes(studio, sheet)
    got = [(rp.round, [c.track for c in rp.chains]) for rp in plan.passes]
    assert got == [(1, ["1Kick", "3Bass", "4Vox"]), (1, ["2Snare"]), (2, ["4Vox"])]
    printing = plan_song(studio, sheet, studio.songs_dir / "night-drive", "night-drive")
    audio = [[j.stem.stem.split(".")[0] for j in p.jobs] for r in printing.rounds for p in r]
    assert audio == [tracks for _round, tracks in got]
    assert [(t.source_point, t.dest_point) for t in plan.passes[1].ties] == [(2, 3), (3, 2)]
    assert matrix.received == []   # planning sends nothing


PATCHBAY = '''
[router]
device = "Bay"

[router.patches]
"Vocal chain" = [["A", "1176 #2", "EQ"]]
"Drum crush" = [["A", "1176 #2"], ["B", "EQ"]]
'''


def test_program_change_patchbay_recalls_the_patch_that_makes_the_pass(tmp_path, jack_server, cli):
    name = f"rt-bay-{os.getpid()}"
    extra = f'\n[devices.Bay]\nprofile = "hy-patchbay-pc"\nport = "{name}"\n'
    root = make_studio(tmp_path / "studio", PATCHBAY, extra=extra)
    make_song(root, {"1Kick": [("A", ["1176 #2"])], "2Snare": [("B", ["EQ"])], "3Vox": [("A", ["EQ", "1176 #2"])]})
    studio = load_studio(root)
    sheet = load_sheet(studio, "night-drive")
    assert load_bay(studio).kind == "patchbay"
    with pytest.raises(RecallProblems) as caught:
        plan_routes(studio, sheet)
    assert caught.value.problems[0].key == 'tracks.3Vox.inserts[0]'
    assert "no stored patch of 'Bay' makes" in caught.value.problems[0].reason
    full = load_sheet(studio, "night-drive")
    sheet.set_inserts("3Vox", [])
    save_sheet(sheet, studio=studio)
    plan = plan_routes(studio, sheet)
    assert [(rp.patch, [c.track for c in rp.chains]) for rp in plan.passes] == [("Drum crush", ["1Kick", "2Snare"])]
    # a pool keeps the port open, as a session does: closing a JACK MIDI port at once can drop
    # the last message before JACK's next cycle carries it (reported to the devices layer)
    # the rule the print planner needs from this router: 1Kick (A: 1176) and 2Snare (B: EQ) share
    # "Drum crush"; 3Vox's chain (A: EQ -> 1176) is in no patch with either
    from hybrid.live.audio.song import plan_song
    from recall.routing import print_pass_fits

    jobs = {j.stem.stem: j for r in plan_song(studio, full, studio.songs_dir / "night-drive", "").rounds
            for p in r for j in p.jobs}
    fits = print_pass_fits(studio)
    assert fits([jobs["1Kick"]], jobs["2Snare"])
    assert not fits([jobs["2Snare"]], jobs["3Vox"])
    with Simulator(LIB["hy-patchbay-pc"], name) as sim, DevicePool() as pool:
        result = apply_routes(studio, plan.passes[0], open_device=pool.borrow)
        assert result.report.status == ApplyStatus.SET, result.report.reason
        deadline = time.monotonic() + 3       # the program change is on its way over JACK MIDI
        while sim.state["patch"] != "Drum crush" and time.monotonic() < deadline:
            time.sleep(0.005)
        assert sim.state["patch"] == "Drum crush", (sim.describe(), sim.received, sim.rejected)
        assert [m[0] & 0xF0 for m in sim.received] == [0xB0, 0xB0, 0xC0]   # bank select MSB/LSB, program
        # the CLI opens the patchbay, recalls the patch and closes it again
        sim.set("patch", "Flat (normalled)", transmit=False)
        run = cli("route", "apply", "night-drive", "--studio", str(root), "--pass", "1", "--json")
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["patch"] == "Drum crush"
        deadline = time.monotonic() + 3
        while sim.state["patch"] != "Drum crush" and time.monotonic() < deadline:
            time.sleep(0.005)
        assert sim.state["patch"] == "Drum crush"


def test_bad_router_points_name_the_studio_key(tmp_path, matrix):
    root = make_studio(tmp_path / "studio", MATRIX_POINTS.replace("in = 4\nout = 4", "in = 9\nout = 3")
                       + '\n[router.devices.Nope]\nin = 5\nout = 5\n', matrix_port=matrix.port)
    studio = load_studio(root)
    with pytest.raises(RecallProblems) as caught:
        load_bay(studio)
    found = {p.key: p.reason for p in caught.value.problems}
    assert "output 9 is out of range; 'Matrix' has outputs 1..8" in found["router.devices.EQ.in"]
    assert "point 3 is also 1176 #2 out" in found["router.devices.EQ.out"]
    assert "no device 'Nope'" in found["router.devices.Nope"]
    assert all(p.file.endswith("studio.toml") for p in caught.value.problems)


def test_route_pass_for_print_jobs(tmp_path, matrix):
    """The session routes each planned print pass just before it plays."""
    from hybrid.live.audio.song import plan_song
    from recall.errors import RecallError
    from recall.routing import chains_for_jobs, route_print_pass

    studio, sheet = matrix_studio(tmp_path, matrix, {"1Kick": [("A", ["1176 #2"])], "2Snare": [("B", ["EQ"])]})
    printing = plan_song(studio, sheet, studio.songs_dir / "night-drive", "night-drive")
    (planned,) = printing.rounds[0]
    rp = route_pass(studio, chains_for_jobs(studio, planned.jobs))
    assert apply_routes(studio, rp).report.status == ApplyStatus.VERIFIED
    assert matrix.ties == {3: 1, 1: 3, 4: 2, 2: 4}
    result = route_print_pass(studio, planned.jobs, index=1)
    assert result.report.status == ApplyStatus.VERIFIED
    matrix.stop()                                   # the router goes away between passes
    with pytest.raises(RecallError) as caught:
        route_print_pass(studio, planned.jobs, index=2)
    assert "pass 2 not routed" in str(caught.value) and "studio.toml" in str(caught.value)
