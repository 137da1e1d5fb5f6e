"""Recall by dump from the CLI and in ``recall apply``, over JACK MIDI against simulators.

Bricasti M7 (Bricasti Design, "M7 V2 User Manual Addendum and Upgrade Instructions", p. 4,
"Sending Midi Sysex data from the M7"): "Press and momentarily hold EDIT and the system
data will be sent to your receiving device"; "Receiving Midi Data": "When the M7 receives
the specific data packet, regardless of the state the M7 is in, it will set itself to that
saved state." The simulator (devices.unit_sims.m7) follows those two sentences, nothing
more: the packet is opaque, and the M7 cannot be asked for it (no request is documented).

The hy-verb-sysex reverb answers an RQ1 with its 8-byte block as a Roland DT1; the profile
maps those bytes to parameters, so its kept dump lists by parameter and is verified by
asking for it back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from devices.profile import builtin_profiles
from devices.simulator import Simulator
from devices.unit_sims import DECODERS, front_panel_dump
from recall.apply import apply_song
from recall.dumps import dump_path
from recall.status import ApplyStatus
from recall.store import create_song
from recall.studio import load_studio
from tests.conftest import ROOT
from tests.devices.helpers import wait_for
from tests.recall.studio_kit import make_studio

pytestmark = pytest.mark.usefixtures("jack_server")
PACKET = [0x00, 0x21, 0x3B, 0x01] + [n % 128 for n in range(300)]     # opaque to hybrid


@pytest.fixture(scope="module")
def lib():
    return builtin_profiles()


def _studio(tmp_path, units: dict[str, tuple[str, str]]):
    text = "".join(f'\n[devices."{n}"]\nprofile = "{p}"\nport = "{port}"\n' for n, (p, port) in units.items())
    root = make_studio(tmp_path / "room", text)
    create_song(root, "Night Drive", samplerate=48000, tracks={})
    return load_studio(root)


def _cli(*args: str) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-m", "hybrid", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_m7_dump_caught_in_learn_mode_from_the_cli_then_replayed_by_recall_apply(lib, tmp_path, cli):
    port = f"dump-m7-{os.getpid()}"
    with Simulator(lib["bricasti-m7"], port, decoder=DECODERS["bricasti-m7"]) as sim:
        studio = _studio(tmp_path, {"M7": ("bricasti-m7", port)})
        sim.memory["edit_buffer"] = PACKET
        proc = _cli("recall", "dump", "night-drive", "M7", "--studio", str(studio.root), "--timeout-s", "20")
        try:
            prompt = proc.stdout.readline()          # printed once the CLI listens
            assert "Press and momentarily hold EDIT" in prompt, prompt + proc.stderr.read()
            front_panel_dump(sim)                    # the person holds EDIT
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        assert proc.returncode == 0, err
        path = dump_path(studio.root / "songs" / "night-drive", "M7")
        assert path.read_bytes() == bytes([0xF0, *PACKET, 0xF7]) and str(path) in out
        listing = path.with_name(path.name + ".txt").read_text()
        assert "hex only" in listing and "F0 00 21 3B 01" in listing

        out = cli("recall", "dumps", "night-drive", "--studio", str(studio.root), "--json")
        kept = json.loads(out.stdout)["dumps"]
        assert out.returncode == 0 and [(d["device"], d["size_bytes"], d["values"]) for d in kept] == \
            [("M7", len(PACKET) + 2, {})]

        sim.memory["edit_buffer"] = [0x00]           # someone dialled another room
        out = cli("recall", "apply", "night-drive", "--studio", str(studio.root), "--json")
        report = json.loads(out.stdout)
        assert out.returncode == 0, out.stderr
        (m7,) = report["devices"]
        assert m7["status"] == ApplyStatus.SET and m7["reason"].startswith("dump sent")
        assert wait_for(lambda: sim.memory["edit_buffer"] == PACKET)


def test_learn_mode_that_hears_nothing_ends_at_its_timeout_in_one_line(lib, tmp_path, cli):
    port = f"dump-m7-quiet-{os.getpid()}"
    with Simulator(lib["bricasti-m7"], port, decoder=DECODERS["bricasti-m7"]):
        studio = _studio(tmp_path, {"M7": ("bricasti-m7", port)})
        t0 = time.monotonic()
        out = cli("recall", "dump", "night-drive", "M7", "--studio", str(studio.root), "--timeout-s", "1")
        took = time.monotonic() - t0
    assert out.returncode == 1 and out.stderr.count("\n") == 1, out.stderr
    assert "M7" in out.stderr and port in out.stderr and "no answer within 1000 ms" in out.stderr
    assert took < 15                                  # 1 s of waiting plus the CLI's start
    assert not dump_path(studio.root / "songs" / "night-drive", "M7").exists()


def test_a_bad_kept_dump_is_refused_and_never_sent_while_the_other_units_are_recalled(lib, tmp_path):
    m7_port, verb_port = f"dump-m7-bad-{os.getpid()}", f"dump-verb-{os.getpid()}"
    with Simulator(lib["bricasti-m7"], m7_port, decoder=DECODERS["bricasti-m7"]) as m7, \
            Simulator(lib["hy-verb-sysex"], verb_port, state={"decay": 4.0, "type": "Plate"}) as verb:
        studio = _studio(tmp_path, {"M7": ("bricasti-m7", m7_port), "Verb": ("hy-verb-sysex", verb_port)})
        folder = studio.root / "songs" / "night-drive"
        path = dump_path(folder, "M7")
        path.parent.mkdir()
        path.write_bytes(bytes([0xF0, 0x00, 0x21, 0xF7]))        # 4 bytes: the profile wants 8 or more
        from recall.dumps import capture_to_song
        from devices.device import Device
        with Device(lib["hy-verb-sysex"], verb_port, name="Verb") as dev:
            capture_to_song(dev, folder, "Verb")                 # asked for by RQ1
        verb.set("decay", 0.5, transmit=False)
        verb.set("type", "Room", transmit=False)
        report = apply_song(studio, "night-drive")
        by = {r.device: r for r in report.devices}
        assert by["M7"].status == ApplyStatus.FAILED
        assert str(path) in by["M7"].reason and m7_port in by["M7"].reason and "expected 8..65536" in by["M7"].reason
        assert "nothing sent" in by["M7"].reason and "\n" not in by["M7"].reason
        assert m7.received == []                                 # never sent to the unit
        assert by["Verb"].status == ApplyStatus.VERIFIED, by["Verb"].reason
        assert verb.state["decay"] == pytest.approx(4.0, rel=0.05) and verb.state["type"] == "Plate"
        assert verb.dump_requests == 2 and verb.rejected == []   # captured, then asked back


def test_a_mapped_dump_lists_by_parameter(lib, tmp_path, cli):
    port = f"dump-verb-list-{os.getpid()}"
    with Simulator(lib["hy-verb-sysex"], port, state={"decay": 4.0, "type": "Plate", "level": -6.0}):
        studio = _studio(tmp_path, {"Verb": ("hy-verb-sysex", port)})
        out = cli("recall", "dump", "night-drive", "Verb", "--studio", str(studio.root), "--json")
        assert out.returncode == 0, out.stderr
        values = json.loads(out.stdout)["values"]
        assert values["type"] == "Plate" and values["level"].startswith("-6")
        listing = dump_path(studio.root / "songs" / "night-drive", "Verb")
        text = listing.with_name(listing.name + ".txt").read_text()
        assert "type = Plate" in text and "F0 41 10 00 5A 12 10 00 00" in text
        out = cli("recall", "dumps", "night-drive", "--studio", str(studio.root))
        assert out.returncode == 0 and "  type = Plate" in out.stdout


def test_a_kept_dump_with_a_bad_checksum_is_refused_naming_the_expected_sum(lib, tmp_path):
    port = f"dump-verb-sum-{os.getpid()}"
    with Simulator(lib["hy-verb-sysex"], port, state={"decay": 4.0}) as verb:
        studio = _studio(tmp_path, {"Verb": ("hy-verb-sysex", port)})
        folder = studio.root / "songs" / "night-drive"
        # the RQ1 answer, as the unit sends it: F0 41 dev 00 5A 12 | 10 00 00 | 8 data | sum | F7,
        # Roland's sum: (128 - (address + data) % 128) % 128; one data byte changed after the sum was taken
        body = [0x10, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8]
        good_sum = (128 - sum(body) % 128) % 128
        body[4] = 9
        path = dump_path(folder, "Verb")
        path.parent.mkdir()
        path.write_bytes(bytes([0xF0, 0x41, 0x10, 0x00, 0x5A, 0x12, *body, good_sum, 0xF7]))
        before = len(verb.received)
        report = apply_song(studio, "night-drive")
        (r,) = report.devices
        right = (128 - sum(body) % 128) % 128
        assert r.status == ApplyStatus.FAILED and f"checksum {good_sum:02X}; expected {right:02X}" in r.reason
        assert str(path) in r.reason and port in r.reason
        time.sleep(0.1)
        assert len(verb.received) == before and verb.state["decay"] == pytest.approx(4.0, rel=0.05)
