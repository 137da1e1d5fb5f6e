"""Loading studio.toml: the model, and every broken key reported with file, key path, reason."""

from __future__ import annotations

import pytest

from recall.errors import RecallError, RecallProblems
from recall.studio import init_studio, load_studio
from tests.recall.studio_kit import PAPER_STUDIO, make_studio


def test_init_writes_a_commented_studio_that_loads(tmp_path, cli):
    out = cli("init", str(tmp_path / "room"), "--json")
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "room" / "studio.toml").read_text()
    assert text.count("\n#") > 10 and 'spec = "hybrid-studio/1"' in text
    studio = load_studio(tmp_path / "room")
    assert studio.devices == {} and studio.router.manual and (tmp_path / "room" / "songs").is_dir()
    again = cli("init", str(tmp_path / "room"))
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr


def test_devices_loops_router_resolve(tmp_path):
    root = make_studio(tmp_path, PAPER_STUDIO + '[interface]\ndevice = "hybrid-gear"\nsamplerate = 96000\n')
    studio = load_studio(root)
    assert list(studio.devices) == ["Pultec A", "Pultec B", "Pultec C"]
    pultec = studio.devices["Pultec A"]
    assert pultec.profile.id == "test-paper-eq" and not pultec.machine_settable
    assert studio.loops["A"].devices == ["Pultec A"] and studio.loops["B"].out_channel == 4
    assert studio.interface.samplerate == 96000 and studio.interface.blocksize == 0


def test_every_broken_key_is_reported(tmp_path):
    root = make_studio(tmp_path, '''
[devices."1176 #2"]
profile = "no-such-profile"
channel = 17

[devices.Good]
profile = "paper-eq.toml"
chanel = 2

[loops.A]
out = "three"
in = 3
devices = ["Ghost"]

[loops.B]
out = 5
in = 5
devices = ["Good"]
''')
    with pytest.raises(RecallProblems) as err:
        load_studio(root)
    found = {(p.key, p.file) for p in err.value.problems}
    keys = {k for k, _ in found}
    assert 'devices."1176 #2".channel' in keys
    assert 'devices."1176 #2".profile' in keys
    assert "loops.A.out" in keys and "loops.A.devices[0]" in keys
    assert all(f.endswith("studio.toml") for _, f in found)
    line = str(err.value)
    assert "\n" not in line and "more problem" in line
    # lenient load keeps the good parts and lists the rest
    studio = load_studio(root, strict=False)
    assert list(studio.devices) == ["Good"] and list(studio.loops) == ["B"]
    assert len(studio.problems) == len(err.value.problems)
    assert any(w.key == "devices.Good.chanel" for w in studio.warnings)


def test_toml_syntax_error_names_line(tmp_path):
    root = make_studio(tmp_path)
    (root / "studio.toml").write_text('spec = "hybrid-studio/1"\n[devices.x\nprofile = 1\n')
    with pytest.raises(RecallError) as err:
        load_studio(root)
    assert "line 2" in str(err.value) and "studio.toml" in str(err.value)


def test_wrong_spec_and_missing_folder(tmp_path):
    with pytest.raises(RecallError, match="no such studio folder"):
        load_studio(tmp_path / "nope")
    root = make_studio(tmp_path)
    text = (root / "studio.toml").read_text().replace("hybrid-studio/1", "hybrid-studio/9")
    (root / "studio.toml").write_text(text)
    with pytest.raises(RecallProblems, match="spec: unsupported spec"):
        load_studio(root)
    with pytest.raises(RecallError, match="already exists"):
        init_studio(root)


def test_the_audio_side_reads_only_the_sections_it_needs(tmp_path):
    """load_interface / load_loops: the same checks as load_studio, without loading any gear (a
    broken profile elsewhere does not stop a latency measurement)."""
    from recall.studio import load_interface, load_loop, load_loops

    root = make_studio(tmp_path, '''
[interface]
device = "hybrid-gear"
blocksize = 256

[devices."1176 #2"]
profile = "no-such-profile"

[loops.A]
out = 3
in = 4
devices = ["1176 #2"]
''')
    iface = load_interface(root)
    assert (iface.device, iface.samplerate, iface.blocksize, iface.samplerate_given) == ("hybrid-gear", 48000, 256, False)
    loop = load_loop(root, "A")
    assert (loop.out_channel, loop.in_channel, loop.devices) == (3, 4, ["1176 #2"])
    with pytest.raises(RecallError, match=r"loops.B: no loop 'B' \(known: A\)"):
        load_loop(root, "B")
    (root / "studio.toml").write_text('spec = "hybrid-studio/1"\n[loops.A]\nout = 0\nin = 4\ndevices = ["Ghost"]\n')
    with pytest.raises(RecallProblems) as err:
        load_loops(root)
    assert {p.key for p in err.value.problems} == {"loops.A.out", "loops.A.devices[0]"}
    with pytest.raises(RecallError, match=r"studio.toml: interface: missing \[interface\]"):
        load_interface(root)


def test_set_ports_rewrites_only_the_ports(tmp_path):
    from recall.studio import set_ports

    root = make_studio(tmp_path, '[devices.Sat]\nprofile = "hy-sat-serial"\nport = "/dev/null"  # set when the demo starts\n')
    before = (root / "studio.toml").read_text()
    set_ports(root, {"Sat": "/dev/pts/7"})
    after = (root / "studio.toml").read_text()
    assert after == before.replace('port = "/dev/null"', 'port = "/dev/pts/7"')
    assert load_studio(root).devices["Sat"].port == "/dev/pts/7"
    with pytest.raises(RecallError, match=r'devices.Ghost: no device'):
        set_ports(root, {"Ghost": "/dev/pts/8"})


def test_surfaces_are_read_and_each_broken_key_named(tmp_path):
    root = make_studio(tmp_path, PAPER_STUDIO + '''
[surfaces.Desk]
kind = "mcu"
ports = ["MCU", "XT 1"]

[surfaces.Side]
kind = "hui"
ports = ["HUI A", "HUI B"]

[surfaces.Odd]
kind = "faderport"
ports = []
''')
    with pytest.raises(RecallProblems) as err:
        load_studio(root)
    keys = {p.key: p.reason for p in err.value.problems}
    assert "at most 1 unit" in keys["surfaces.Side.ports"]
    assert "expected one of mcu, hui" in keys["surfaces.Odd.kind"]
    assert "empty" in keys["surfaces.Odd.ports"]
    studio = load_studio(root, strict=False)
    assert list(studio.surfaces) == ["Desk"]
    assert studio.surfaces["Desk"].kind == "mcu" and studio.surfaces["Desk"].ports == ["MCU", "XT 1"]


def test_sheet_mix_table_and_insert_sides_are_checked():
    from recall.sheet import Sheet

    base = 'spec = "hybrid-sheet/1"\n[song]\ntitle = "T"\nsamplerate = 48000\n[tracks.Kick]\nfile = "k.wav"\n'
    good = Sheet.parse(base + '[[tracks.Kick.inserts]]\nloop = "BUS"\nside = "R"\n'
                       '[mix]\ninputs = { Kick = 3 }\n[mix.variants.dry]\nmute = ["Kick"]\n')
    assert good.tracks[0].inserts[0].side == 2
    assert good.mix.inputs == {"Kick": 3} and good.mix.variants == {"full": [], "dry": ["Kick"]}
    with pytest.raises(RecallProblems) as err:
        Sheet.parse(base + '[[tracks.Kick.inserts]]\nloop = "BUS"\nside = "middle"\n'
                    '[mix]\ninputs = { Kick = "one" }\nnull_limit_db = 3.0\n[mix.variants.full]\nmute = ["Kick"]\n')
    keys = {p.key for p in err.value.problems}
    assert keys == {"tracks.Kick.inserts[0].side", "mix.inputs.Kick", "mix.null_limit_db", "mix.variants.full.mute"}
