"""Apply, verify, --changed, resume, diff against the gear, capture and learn: real simulators
on JACK MIDI and a pseudo-terminal, driven through recall and the CLI."""

from __future__ import annotations

import itertools
import json
import os
import threading
import time

import pytest

from devices.profile import builtin_profiles
from recall.apply import DevicePool, apply_song
from recall.capture import capture_song
from recall.errors import RecallProblems
from recall.state import StudioState
from recall.status import ApplyStatus
from recall.sheet import Insert
from recall.store import create_song, history, list_songs, load_sheet, save_sheet
from recall.studio import load_studio

DONE_EARLIER, FAILED, NEEDS_HAND = ApplyStatus.DONE_EARLIER, ApplyStatus.FAILED, ApplyStatus.NEEDS_HAND
SET, UNCHANGED, VERIFIED = ApplyStatus.SET, ApplyStatus.UNCHANGED, ApplyStatus.VERIFIED
from recall.values import same
from tests.recall.simhost import SimHost
from tests.recall.studio_kit import make_studio

LIB = builtin_profiles()
_ids = itertools.count()

VALUES = {
    "Comp": {"threshold": -18.0, "ratio": "8:1", "attack": 3.0, "release": 400.0, "output": 4.5},
    "EQ": {"hpf_freq": 80.0, "hpf_on": True, "lmf_gain": -3.5, "lmf_freq": 350.0, "hf_gain": 2.0},
    "Verb": {"type": "Plate", "decay": 2.5, "predelay": 40.0, "mix": 0.3},
    "Sat": {"drive": 9.0, "tape_speed": "30 ips", "bias": -5.0},
    "Pultec": {"low_freq": "60 Hz", "low_boost": "4", "high_freq": "10k", "high_boost": "2"},
}


class Rig:
    """Simulators for a small mixed studio (in a process of their own) and the studio folder."""

    def __init__(self, root):
        tag = f"{os.getpid()}-{next(_ids)}"
        self.names = {"Comp": f"rc-comp-{tag}", "EQ": f"rc-eq-{tag}", "Verb": f"rc-verb-{tag}"}
        self.profiles = {"Comp": LIB["hy-comp-cc"], "EQ": LIB["hy-eq-nrpn"], "Verb": LIB["hy-verb-sysex"],
                         "Sat": LIB["hy-sat-serial"]}
        self.sims = SimHost([
            {"name": "Comp", "profile": "hy-comp-cc", "port": self.names["Comp"]},
            {"name": "EQ", "profile": "hy-eq-nrpn", "port": self.names["EQ"]},
            {"name": "Verb", "profile": "hy-verb-sysex", "port": self.names["Verb"]},
            {"name": "Sat", "profile": "hy-sat-serial"},
        ])
        self.root = make_studio(root, f'''
[devices.Comp]
profile = "hy-comp-cc"
port = "{self.names["Comp"]}"

[devices.EQ]
profile = "hy-eq-nrpn"
port = "{self.names["EQ"]}"

[devices.Verb]
profile = "hy-verb-sysex"
port = "{self.names["Verb"]}"

[devices.Sat]
profile = "hy-sat-serial"
port = "{self.sims.ports["Sat"]}"

[devices.Pultec]
profile = "hy-pultec-manual"

[loops.A]
out = 3
in = 3
devices = ["EQ", "Comp"]

[loops.B]
out = 4
in = 4
devices = ["Pultec", "Sat"]

[loops.C]
out = 5
in = 5
devices = ["Verb"]
''')
        self.studio = load_studio(self.root)

    def song(self, title="Night Drive", values=VALUES):
        create_song(self.root, title, samplerate=48000,
                    tracks={"1Kick": "stems/1Kick.wav", "2Snare": "stems/2Snare.wav", "5Vox": "stems/5Vox.wav"})
        sheet = load_sheet(self.studio, title)
        for dev, vals in values.items():
            sheet.set_values(dev, vals)
        sheet.set_inserts("1Kick", [Insert("A", ["EQ", "Comp"])])
        sheet.set_inserts("2Snare", [Insert("B", ["Pultec", "Sat"])])
        sheet.set_inserts("5Vox", [Insert("C", ["Verb"])])
        save_sheet(sheet, studio=self.studio)
        return sheet

    def stop(self):
        self.sims.close()

    def state(self, dev):
        return self.sims.state(dev)

    def received(self):
        return {d: self.sims.received(d) for d in ("Comp", "EQ", "Verb", "Sat")}

    def gear_matches(self, dev, values, timeout_s=1.0):
        """The parameters of ``dev`` that differ from ``values`` (after the last message has had
        up to ``timeout_s`` to arrive: JACK delivers on its next cycle, the gear is another process)."""
        params = self.profiles[dev].parameters
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.state(dev)
            wrong = {k: state[k] for k, v in values.items() if not same(params[k], params[k].parse(v), state[k])}
            if not wrong or time.monotonic() > deadline:
                return wrong
            time.sleep(0.02)


@pytest.fixture
def rig(jack_server, tmp_path):
    r = Rig(tmp_path / "room")
    try:
        yield r
    finally:
        r.stop()


def _statuses(report):
    return {r.device: r.status for r in report.devices}


def test_apply_sets_every_device_and_reports_each(rig):
    rig.song()
    events = []
    report = apply_song(rig.studio, "night-drive", on_event=events.append)
    assert _statuses(report) == {"EQ": SET, "Comp": SET, "Pultec": NEEDS_HAND, "Sat": VERIFIED,
                                 "Verb": VERIFIED}, [r.to_dict() for r in report.devices]
    assert report.ok and [r.device for r in report.devices] == ["EQ", "Comp", "Pultec", "Sat", "Verb"]
    for dev in ("Comp", "EQ", "Verb", "Sat"):
        assert rig.gear_matches(dev, VALUES[dev]) == {}, dev
    # the hand part comes as steps in signal order
    assert [(s.device, s.parameter) for s in report.steps] == [
        ("Pultec", "low_freq"), ("Pultec", "low_boost"), ("Pultec", "high_freq"), ("Pultec", "high_boost")]
    # live progress per device, from start to finish
    kinds = [(e.kind, e.device, e.report.status if e.report else None) for e in events]
    assert kinds[0][0] == "start" and kinds[-1][0] == "finish"
    assert ("device", "Verb", "sending") in kinds and ("device", "Verb", "verifying") in kinds
    assert ("done", "Verb", VERIFIED) in kinds and ("done", "Pultec", NEEDS_HAND) in kinds
    # wire time is what the profile's rate says: Comp's 5 CCs at 3125 B/s
    comp = next(r for r in report.devices if r.device == "Comp")
    assert comp.messages == 5 and comp.wire_time_s == pytest.approx(15 / 3125)
    summary = {s.slug: s for s in list_songs(rig.studio)}["night-drive"]
    assert summary.last_recalled and summary.last_recall_ok is True


def test_changed_sends_only_what_differs_from_known_state(rig):
    rig.song()
    first = apply_song(rig.studio, "night-drive")
    assert first.ok, [r.to_dict() for r in first.devices]
    assert all(rig.gear_matches(d, VALUES[d]) == {} for d in ("Comp", "EQ"))  # all delivered
    before = rig.received()
    sheet = load_sheet(rig.studio, "night-drive")
    sheet.set_value("Comp", "threshold", -24.0)
    save_sheet(sheet, studio=rig.studio)
    report = apply_song(rig.studio, "night-drive", changed_only=True)
    assert _statuses(report) == {"EQ": UNCHANGED, "Comp": SET, "Pultec": NEEDS_HAND, "Sat": UNCHANGED,
                                 "Verb": UNCHANGED}
    comp = next(r for r in report.devices if r.device == "Comp")
    assert list(comp.sent) == ["threshold"] and comp.messages == 1
    assert rig.gear_matches("Comp", {"threshold": -24.0}) == {}
    after = rig.received()
    assert after["Comp"] == before["Comp"] + 1
    assert all(after[d] == before[d] for d in ("EQ", "Verb", "Sat"))


def test_a_failed_device_does_not_stop_the_others_and_a_rerun_resumes(rig):
    rig.song()
    rig.sims.stop("Verb")  # switched off
    report = apply_song(rig.studio, "night-drive")
    status = _statuses(report)
    assert status["Verb"] == FAILED and status["Comp"] == SET and status["Sat"] == VERIFIED
    verb = next(r for r in report.devices if r.device == "Verb")
    assert rig.names["Verb"] in verb.reason and "Traceback" not in verb.reason
    assert not report.ok
    # the failed unit joins the walk-through so it can be set by hand
    assert {s.device for s in report.steps} == {"Pultec", "Verb"}
    assert StudioState(rig.studio.state_dir).known("Verb") == {}
    rig.sims.start("Verb")  # back on
    assert all(rig.gear_matches(d, VALUES[d]) == {} for d in ("Comp", "EQ", "Sat"))
    counts = rig.received()
    again = apply_song(rig.studio, "night-drive")
    assert _statuses(again) == {"EQ": DONE_EARLIER, "Comp": DONE_EARLIER, "Pultec": NEEDS_HAND,
                                "Sat": DONE_EARLIER, "Verb": VERIFIED}
    assert again.ok and rig.gear_matches("Verb", VALUES["Verb"]) == {}
    now = rig.received()
    assert all(now[d] == counts[d] for d in ("EQ", "Comp", "Sat"))
    # the run completed: the next apply sends everything again
    third = apply_song(rig.studio, "night-drive")
    assert _statuses(third)["Comp"] == SET
    deadline = time.monotonic() + 1.0
    while rig.received()["Comp"] < counts["Comp"] + len(VALUES["Comp"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rig.received()["Comp"] == counts["Comp"] + len(VALUES["Comp"])


def test_a_bad_sheet_is_refused_before_anything_is_sent(rig):
    rig.song()
    path = rig.root / "songs" / "night-drive" / "sheet.toml"
    path.write_text(path.read_text().replace("drive = 9.0", "drive = 90.0").replace(
        'ratio = "8:1"', 'ratio = "6:1"'))
    with pytest.raises(RecallProblems) as err:
        apply_song(rig.studio, "night-drive")
    keys = {p.key for p in err.value.problems}
    assert keys == {"devices.Sat.values.drive", "devices.Comp.values.ratio"}
    time.sleep(0.1)  # anything sent would have arrived by now
    assert all(n == 0 for n in rig.received().values())


def test_pool_keeps_ports_open_between_songs(rig):
    rig.song()
    rig.song("Second", values={"Comp": {"threshold": -30.0}, "Verb": {"decay": 4.0}})
    with DevicePool() as pool:
        first = apply_song(rig.studio, "night-drive", open_device=pool.borrow)
        second = apply_song(rig.studio, "second", open_device=pool.borrow)
    assert first.ok and second.ok and second.open_time_s < 0.05
    assert rig.gear_matches("Comp", {"threshold": -30.0}) == {}
    assert rig.gear_matches("Verb", {"decay": 4.0}) == {}


def test_units_whose_ports_book_ahead_are_handed_over_a_message_of_each_in_turn(rig):
    """JACK MIDI units with nothing to read back are handed their messages by the recall's own
    thread, each message at its slot on its own wire. Port by port, whole units one after
    another, the last port's first message waited for every message before it (1.055-1.14x the
    longest wire in bench/recall_apply.py); a message of each port in turn books every port's
    first message at once (1.01x). The shared traffic monitor records each message as it is
    handed over, so its order shows the turns."""
    from devices.device import Device
    from devices.monitor import TrafficMonitor

    traffic = TrafficMonitor()
    events = []
    rig.song()
    with DevicePool(lambda e: Device(e.profile, e.port, name=e.name, channel=e.channel, monitor=traffic)) as pool:
        report = apply_song(rig.studio, "night-drive", verify=False, resume=False, open_device=pool.borrow,
                            on_event=lambda ev: events.append((ev.kind, ev.device, ev.report and ev.report.status)))
    assert report.ok, report.devices
    # sending while its bytes go out, set once its wire has been waited for
    assert [(k, st) for k, d, st in events if d == "EQ"] == [("device", ApplyStatus.SENDING), ("done", SET)]
    def unit(port: str) -> str | None:          # the monitor names the JACK port as resolved
        return next((d for d in ("Comp", "EQ", "Verb") if rig.names[d] in port), None)

    order = [d for d in (unit(e.port) for e in traffic.entries("out")) if d is not None]
    count = {d: order.count(d) for d in ("Comp", "EQ", "Verb")}
    assert all(count.values()) and count["EQ"] > 2 * count["Comp"]      # NRPN: four messages a value
    ports = list(dict.fromkeys(order))                                   # in the order they started
    turns = [d for r in range(max(count.values())) for d in ports if count[d] > r]
    assert order == turns


def test_cli_apply_and_diff_against_the_gear(rig, cli):
    rig.song()
    out = cli("recall", "apply", "night-drive", "--studio", str(rig.root), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["ok"] and {d["device"]: d["status"] for d in result["devices"]}["Verb"] == VERIFIED
    # someone turns the reverb's decay and the saturator's drive on the front panel
    rig.sims.set("Verb", "decay", 6.0)
    rig.sims.set("Sat", "drive", 3.0)
    out = cli("recall", "diff", "night-drive", "current", "gear", "--studio", str(rig.root), "--json")
    assert out.returncode == 1
    changes = {c["key"]: c for c in json.loads(out.stdout)["changes"]}
    assert set(changes) == {"devices.Verb.values.decay", "devices.Sat.values.drive"}, out.stderr
    assert changes["devices.Sat.values.drive"]["old"] == 9.0 and changes["devices.Sat.values.drive"]["new"] == 3.0
    # a switched-off unit: apply exits non-zero with one line naming it
    rig.sims.stop("Verb")
    out = cli("recall", "apply", "night-drive", "--studio", str(rig.root), "--restart")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert any(line.startswith("hybrid: error: Verb:") for line in out.stderr.splitlines())


def test_cli_capture_into_a_new_song(rig, cli):
    rig.sims.set("Verb", "type", "Room")
    out = cli("recall", "capture", "From The Gear", "--studio", str(rig.root), "--device", "Verb", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["created"] and result["read"]["Verb"]["type"] == "Room" and result["saved"]
    assert load_sheet(rig.studio, "from-the-gear").values("Verb")["type"] == "Room"
    out = cli("recall", "capture", "from-the-gear", "--studio", str(rig.root), "--device", "Pultec")
    assert out.returncode == 1 and "Pultec" in out.stderr and "cannot be read back" in out.stderr


def test_capture_reads_the_gear_into_a_new_song_and_updates_with_history(rig):
    rig.sims.set("Verb", "decay", 3.3)
    rig.sims.set("Verb", "type", "Chamber")
    rig.sims.set("Sat", "bias", 12.0)
    result = capture_song(rig.studio, "Captured Mix")
    assert result.created and result.ok and set(result.read) == {"Sat", "Verb"}
    sheet = load_sheet(rig.studio, "captured-mix")
    assert sheet.values("Verb")["type"] == "Chamber"
    assert sheet.values("Verb")["decay"] == pytest.approx(3.3, rel=0.02)
    assert sheet.values("Sat")["bias"] == 12.0
    # values are tidy for people, and the gear's known state is remembered
    assert len(repr(sheet.values("Verb")["decay"])) <= 5
    assert StudioState(rig.studio.state_dir).known("Sat")["bias"] == 12.0
    rig.sims.set("Sat", "bias", -7.0)
    again = capture_song(rig.studio, "captured-mix", devices=["Sat"])
    assert not again.created and [c.key for c in again.changes] == ["devices.Sat.values.bias"]
    assert load_sheet(rig.studio, "captured-mix").values("Sat")["bias"] == -7.0
    assert len(history(rig.studio, "captured-mix")) == 2


def test_learn_records_knob_moves_decoded_through_the_profile(rig):
    create_song(rig.root, "Learned", samplerate=48000, tracks={})
    listening, stop = threading.Event(), threading.Event()
    seen = []

    def on_event(event):
        seen.append(event)
        if event.kind == "listening" and event.device == "Comp":
            listening.set()

    def turn_knobs():
        assert listening.wait(20)
        rig.sims.set("Comp", "threshold", -22.0)
        rig.sims.set("Comp", "ratio", "12:1")
        rig.sims.set("Comp", "threshold", -25.0)  # the last position wins
        time.sleep(0.3)
        stop.set()

    t = threading.Thread(target=turn_knobs)
    t.start()
    result = capture_song(rig.studio, "learned", devices=["Comp"], learn_s=20.0, stop=stop, on_event=on_event)
    t.join()
    assert result.ok, result.failed
    assert result.learned["Comp"]["ratio"] == "12:1"
    assert result.learned["Comp"]["threshold"] == pytest.approx(-25.0, abs=0.2)
    values = load_sheet(rig.studio, "learned").values("Comp")
    assert values["ratio"] == "12:1" and values["threshold"] == pytest.approx(-25.0, abs=0.2)
    assert [e.param for e in seen if e.kind == "learn"][:2] == ["threshold", "ratio"]
