"""A song printed through a router: each pass routed on the SIS matrix simulator (pty) before it plays."""

from __future__ import annotations

import json

import pytest

from devices.profile import builtin_profiles
from devices.simulator import Simulator

from hybrid.live.audio.song import print_song

from .conftest import FAST, FAST_PING, GEAR, RATE
from .test_song_and_cli import _song

# Loops A and B and the 1176 sit on the matrix: send A = in 1, return A = out 1, ...
ROUTER = '''
[devices.Matrix]
profile = "hy-matrix-sis"
port = "{port}"

[router]
device = "Matrix"

[router.loops.A]
send = 1
return = 1

[router.loops.B]
send = 2
return = 2

[router.devices."1176"]
in = 3
out = 3
'''


@pytest.fixture
def matrix():
    sim = Simulator(builtin_profiles()["hy-matrix-sis"])
    sim.start()
    yield sim
    sim.stop()


def _routed_song(tmp_path, matrix):
    _song(tmp_path, {"1Kick": [("A", ["1176"])], "2Snare": [("B", ["1176"])]})   # one 1176 for both
    with (tmp_path / "studio.toml").open("a") as fh:
        fh.write(ROUTER.format(port=matrix.port))
    from recall import store
    from recall.studio import load_studio

    studio = load_studio(tmp_path)
    return studio, store.load_sheet(studio, "night-drive"), store.song_dir(tmp_path, "night-drive")


def test_each_pass_routed_on_the_matrix_before_it_plays(gear, tmp_path, matrix):
    from hybrid.live.audio.interface import InterfaceSettings

    studio, sheet, song_dir = _routed_song(tmp_path, matrix)
    for _ in range(3):
        at_pass = []     # the matrix's ties (output -> input) when each pass is about to play
        result = print_song(studio, sheet, song_dir, "night-drive", InterfaceSettings(device=GEAR, samplerate=RATE),
                            FAST, ping=FAST_PING,
                            on_pass=lambda n, total, planned, at_pass=at_pass: at_pass.append(
                                (n, total, [j.loop for j in planned.jobs], dict(matrix.ties))))
        if result.good:      # a pass spoilt by the loaded machine (xruns, a ping off) is run again
            break
    assert result.good, result.failed_tracks
    (n1, total, loops1, ties1), (n2, _, loops2, ties2) = at_pass
    assert (n1, n2, total, loops1, loops2) == (1, 2, 2, ["A"], ["B"])
    assert ties1[3] == 1 and ties1[1] == 3          # send A -> 1176 in, 1176 out -> return A
    assert ties2[3] == 2 and ties2[2] == 3          # then send B -> 1176 in, 1176 out -> return B
    assert (song_dir / "prints" / "1Kick.wav").is_file() and (song_dir / "prints" / "2Snare.wav").is_file()


def test_a_failing_router_stops_the_print_before_audio_plays(gear, tmp_path, matrix, cli):
    _routed_song(tmp_path, matrix)
    matrix.stop()                                   # the router is gone
    out = cli("print", "night-drive", "--studio", str(tmp_path))
    assert out.returncode == 1
    assert "pass 1 not routed" in out.stderr and "studio.toml" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    prints = tmp_path / "songs" / "night-drive" / "prints"
    assert not prints.exists() or not list(prints.iterdir())   # nothing played, not even as .BAD


PATCHBAY = '''
[devices.Bay]
profile = "hy-patchbay-pc"
port = "not-opened-when-planning"

[router]
device = "Bay"

[router.patches]
"Drum crush" = [["A", "1176"]]
"Vocal chain" = [["B", "Pultec"]]
'''


def test_plan_keeps_to_the_patchbays_stored_patches(tmp_path, cli):
    _song(tmp_path, {"1Kick": [("A", ["1176"])], "2Snare": [("B", ["Pultec"])]})   # no unit shared
    before = cli("print", "night-drive", "--studio", str(tmp_path), "--plan", "--json")
    assert before.returncode == 0 and json.loads(before.stdout)["passes"] == 1, before.stderr
    with (tmp_path / "studio.toml").open("a") as fh:
        fh.write(PATCHBAY)
    out = cli("print", "night-drive", "--studio", str(tmp_path), "--plan", "--json")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)                    # no stored patch makes both chains: two passes
    assert [[j["loop"] for j in p["jobs"]] for p in plan["rounds"][0]] == [["A"], ["B"]]


PAPER = '''
[router]
device = "manual"

[router.loops.A]
send = "Send 1"
return = "Return 1"

[router.devices."1176"]
in = "1176 In"
out = "1176 Out"
'''


def test_cli_lists_a_paper_bays_cords_and_goes_on_without_a_terminal(gear, tmp_path, cli):
    _song(tmp_path, {"1Kick": [("A", ["1176"])]})
    with (tmp_path / "studio.toml").open("a") as fh:
        fh.write(PAPER)
    for _ in range(3):                               # stdin is not a terminal: no wait for Enter
        out = cli("print", "night-drive", "--studio", str(tmp_path), "--tail-s", "0.02")
        if out.returncode == 0:
            break
    assert out.returncode == 0, out.stderr
    assert "pass 1/1 routed: Patchbay needs-hand (patch by hand: 2 cords)" in out.stderr, out.stderr
    assert "Patchbay: patch Send 1 -> 1176 In" in out.stderr and "Patchbay: patch 1176 Out -> Return 1" in out.stderr
    assert (tmp_path / "songs" / "night-drive" / "prints" / "1Kick.wav").is_file()
