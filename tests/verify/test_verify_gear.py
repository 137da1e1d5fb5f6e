"""Verify by ear on simulated gear: fingerprint, recall right -> pass; knob moved, ratio changed, order swapped -> fail, suspect named."""

from __future__ import annotations

import json

import pytest

from hybrid.live.verify import check_steps, verify_song, verify_step
from hybrid.live.verify.fingerprint import load

from tests.conftest import run_cli

from .conftest import SONG, wait_for


@pytest.fixture(scope="module")
def stored(rig):
    """Fingerprinted through the CLI (another process, the same JACK server), read back from disk."""
    result = run_cli("recall", "fingerprint", SONG, "--studio", str(rig.studio), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [f["chain"]["loop"] for f in data["fingerprints"]] == ["A", "B"]
    folder = rig.studio / "songs" / SONG / "fingerprints"
    return {loop: load(folder / f"{loop}.npz") for loop in ("A", "B")}


def _chain(verdict, loop):
    (chain,) = [c for c in verdict.chains if c.key.loop == loop]
    return chain


def test_fingerprint_is_stored_beside_the_sheet_keyed_to_loop_rate_and_chain(rig, stored):
    assert set(stored) == {"A", "B"}
    path = rig.studio / "songs" / SONG / "fingerprints" / "A.npz"
    assert path.is_file() and path.stat().st_size < 40_000
    fp = load(path)
    assert fp.samplerate == 48000 and fp.key.devices == ("EQ", "Comp") and fp.takes == 2
    assert fp.values["EQ"]["hmf_gain"] == 4.0 and fp.values["Comp"]["ratio"] == "4:1"
    ref = fp.reference
    # what the sheet set is what was heard: the HMF bell, the LMF cut, the compressor over threshold
    band = dict(zip(ref.band_centres_hz.round(), ref.band_db, strict=False))
    assert band[2520.0] - band[1000.0] > 2.0
    assert band[397.0] < band[1000.0] - 1.5
    gain = ref.transfer_out_dbfs[0] - ref.tone_levels_dbfs
    assert gain[0] - gain[-1] > 3.0                        # above -24 dBFS the gain falls: compression
    assert fp.reference.noise_floor_dbfs < -80
    assert 0.2 <= fp.tolerance.band_db.min() < 0.5        # the floor, or the repeatability if worse
    # the other chain is inverted and lands later: latency and polarity are taken out of the figures
    assert stored["B"].reference.polarity == -1
    assert stored["B"].reference.latency_samples > stored["A"].reference.latency_samples


def test_a_correct_recall_passes_every_chain(rig, stored, cli):
    result = cli("recall", "verify", SONG, "--studio", str(rig.studio), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] and [c["chain"]["loop"] for c in data["chains"]] == ["A", "B"]
    for chain in data["chains"]:
        assert chain["ok"] and chain["suspects"] == []
        comparison = chain["comparison"]
        assert comparison["worst_ratio"] < 1.0 and comparison["failures"] == []
        assert comparison["tolerance"]["floors"]["band_db"] == 0.2     # the tolerance is stated
        assert abs(chain["figures"]["gain_ref_db"]["now"] - chain["figures"]["gain_ref_db"]["stored"]) < 0.1


def test_eq_high_mid_gain_moved_by_1_5_db_fails_and_names_it(rig, stored):
    sim = rig.sims["EQ"]
    try:
        sim.set("hmf_gain", 5.5)   # someone leaned on the knob after the recall
        assert wait_for(lambda: abs(rig.units["EQ"].main.bands[3].gain_db - 5.5) < 0.01)
        verdict = verify_song(rig.studio, SONG)
        a, b = _chain(verdict, "A"), _chain(verdict, "B")
        assert not a.ok and b.ok and not verdict.ok
        assert (a.suspect.device, a.suspect.parameter) == ("EQ", "hmf_gain"), [s.text for s in a.suspects]
        assert a.suspect.estimate == pytest.approx(5.5, abs=0.3)
        plot = a.plot_data()
        assert plot["suspect_device"] == "EQ" and plot["suspect_parameter"] == "hmf_gain"
        worst = max(plot["bands"]["deviation_db"])
        assert 1.0 < worst < 1.8
    finally:
        sim.set("hmf_gain", 4.0)
        wait_for(lambda: abs(rig.units["EQ"].main.bands[3].gain_db - 4.0) < 0.01)


def test_compressor_ratio_4_to_8_fails_and_names_the_ratio(rig, stored):
    sim = rig.sims["Comp"]
    try:
        sim.set("ratio", "8:1")
        assert wait_for(lambda: rig.units["Comp"].main.ratio == 8.0)
        verdict = verify_song(rig.studio, SONG)
        a = _chain(verdict, "A")
        assert not a.ok and _chain(verdict, "B").ok
        assert (a.suspect.device, a.suspect.parameter, a.suspect.estimate) == ("Comp", "ratio", "8:1"), \
            [s.text for s in a.suspects]
        assert any("transfer curve" in f for f in a.comparison.failures)
    finally:
        sim.set("ratio", "4:1")
        wait_for(lambda: rig.units["Comp"].main.ratio == 4.0)


def test_swapped_devices_fail_and_are_named_as_an_order_change(rig, stored):
    loop = rig.loop("A")
    eq, comp = rig.units["EQ"].processors, rig.units["Comp"].processors
    try:
        loop.processors = comp + eq   # patched the other way round
        verdict = verify_song(rig.studio, SONG)
        a = _chain(verdict, "A")
        assert not a.ok and _chain(verdict, "B").ok
        assert a.suspect.kind == "order" and a.suspect.estimate == ["Comp", "EQ"], [s.text for s in a.suspects]
    finally:
        loop.processors = eq + comp


def test_step_check_tells_whether_a_hand_set_knob_landed(rig, stored):
    sim = rig.sims["EQ"]
    try:
        sim.set("hmf_gain", 6.0)
        assert wait_for(lambda: abs(rig.units["EQ"].main.bands[3].gain_db - 6.0) < 0.01)
        step, lf = check_steps(rig.studio, SONG, [("EQ", "hmf_gain"), ("EQ", "lf_gain")])
        assert not step.ok and step.estimate == pytest.approx(6.0, abs=0.4), step.to_dict()
        assert "seems to be at" in step.text
        # a knob that did land is judged on its own bands even while this one is still off
        assert lf.ok, lf.to_dict()
    finally:
        sim.set("hmf_gain", 4.0)
        wait_for(lambda: abs(rig.units["EQ"].main.bands[3].gain_db - 4.0) < 0.01)
    step = verify_step(rig.studio, SONG, "EQ", "hmf_gain")
    assert step.ok and step.affected_ok, step.to_dict()


def test_stale_fingerprint_is_refused_by_name(rig, stored, cli):
    sheet = rig.studio / "songs" / SONG / "sheet.toml"
    before = sheet.read_text()
    try:
        sheet.write_text(before.replace("threshold = -18.0", "threshold = -20.0"))
        result = cli("recall", "verify", SONG, "--studio", str(rig.studio), "--loop", "B", "--json")
        assert result.returncode == 1
        data = json.loads(result.stdout)
        (b,) = data["chains"]
        assert not b["ok"] and "stale fingerprint" in b["error"] and "Comp 2" in b["error"]
        assert "stale fingerprint" in result.stderr
    finally:
        sheet.write_text(before)


def test_a_chain_that_cannot_be_measured_is_named_and_the_others_are_stored(rig, stored, tmp_path):
    """Loop B's cable pulled: its chain is refused by name, loop A's (measured in the same
    stream) is still stored; the CLI says which and exits 1."""
    folder = rig.studio / "songs" / SONG / "fingerprints"
    saved = {p.name: p.read_bytes() for p in folder.glob("*.npz")}
    rig.loop("B").set_open(True)
    try:
        result = run_cli("recall", "fingerprint", SONG, "--studio", str(rig.studio), "--no-isolate", "--json")
        assert result.returncode == 1, result.stderr
        data = json.loads(result.stdout)
        assert not data["ok"] and [f["chain"]["loop"] for f in data["fingerprints"]] == ["A"]
        (line,) = data["refused"]
        assert line.startswith("loop B:") and "no return" in line, line
        assert load(folder / "A.npz").created >= stored["A"].created   # stored again just now
    finally:
        rig.loop("B").set_open(False)
        for name, content in saved.items():   # the module's other tests judge against the first fingerprints
            (folder / name).write_bytes(content)
