"""Measuring a unit alone needs a matrix: which chains can be isolated, and the matrix put back as found.

The matrix is the hy-matrix-sis simulator on a pseudo-terminal, driven through
recall.routing and devices.Device like real serial gear (no sound server needed here;
test_verify_gear.py measures through loops).
"""

from __future__ import annotations

import pytest

from devices.profile import builtin_profiles
from devices.simulator import Simulator
from hybrid.errors import HybridError
from hybrid.live.verify.fingerprint import ChainKey
from hybrid.live.verify.isolate import reason_not, restore, route, snapshot
from recall.studio import load_studio

STUDIO = '''spec = "hybrid-studio/1"
name = "Matrix Room"

[interface]
device = "gear"
samplerate = 48000

[devices.EQ]
profile = "hy-eq-nrpn"

[devices.Comp]
profile = "hy-comp-cc"

[devices."Comp 2"]
profile = "hy-comp-cc"

[devices.Matrix]
profile = "hy-matrix-sis"
port = "{port}"

[loops.A]
out = 1
in = 1

[loops.B]
out = 2
in = 2
devices = ["Comp 2", "Comp"]

[router]
device = "{router}"

[router.loops.A]
send = 1
return = 1

[router.devices.EQ]
in = 2
out = 2

[router.devices.Comp]
in = 3
out = 3
'''


@pytest.fixture
def matrix():
    sim = Simulator(builtin_profiles()["hy-matrix-sis"]).start()
    yield sim
    sim.stop()


def studio_with(tmp_path, port: str, router: str = "Matrix"):
    root = tmp_path / "studio"
    root.mkdir(parents=True)
    text = STUDIO.replace("{port}", port).replace("{router}", router)
    if router == "manual":
        head, bay = text.split("[router.loops.A]")
        bay = (bay.replace("send = 1", 'send = "Send 1"').replace("return = 1", 'return = "Return 1"')
               .replace("in = 2", 'in = "EQ In"').replace("out = 2", 'out = "EQ Out"')
               .replace("in = 3", 'in = "Comp In"').replace("out = 3", 'out = "Comp Out"'))
        text = head + "[router.loops.A]" + bay
    (root / "studio.toml").write_text(text)
    return load_studio(root)


def test_which_chains_can_have_their_units_measured_alone(tmp_path, matrix):
    studio = studio_with(tmp_path, str(matrix.port))
    assert reason_not(studio, ChainKey("A", ("EQ", "Comp"))) is None
    assert "already alone" in reason_not(studio, ChainKey("A", ("EQ",)))
    assert "loop B is hard-wired" in reason_not(studio, ChainKey("B", ("Comp 2", "Comp")))
    paper = studio_with(tmp_path / "paper", str(matrix.port), router="manual")
    assert "paper bay" in reason_not(paper, ChainKey("A", ("EQ", "Comp")))


def test_a_unit_is_patched_alone_and_the_matrix_put_back_as_it_was(tmp_path, matrix):
    studio = studio_with(tmp_path, str(matrix.port))
    route(studio, ChainKey("A", ("Comp", "EQ")), ("Comp", "EQ"), 1, 1)   # patched in some order by hand
    found = dict(matrix.ties)
    assert found == {3: 1, 2: 3, 1: 2}
    before = snapshot(studio)
    assert before == found
    route(studio, ChainKey("A", ("EQ",)), ("EQ",), 1, 1)
    assert matrix.ties[2] == 1 and matrix.ties[1] == 2        # send -> EQ -> return
    route(studio, ChainKey("A", ("Comp",)), ("Comp",), 1, 1)
    assert matrix.ties[3] == 1 and matrix.ties[1] == 3
    restore(studio, before)
    assert dict(matrix.ties) == found                          # not "repaired" to the sheet's order
    assert matrix.rejected == []


def test_an_unreachable_router_is_one_clear_error(tmp_path):
    studio = studio_with(tmp_path, str(tmp_path / "no-such-tty"))
    with pytest.raises(HybridError, match="router Matrix: cannot read the router's ties"):
        snapshot(studio)
    with pytest.raises(HybridError, match="cannot patch EQ"):
        route(studio, ChainKey("A", ("EQ",)), ("EQ",), 1, 1)
