"""The maths of verify without a sound server: analysis, storage, tolerance, comparison, suspects, xrun repair.

Signals are run through the simulated gear's own DSP (hybrid.simgear) in-process; the
JACK tests in test_verify_gear.py do the same through real loops.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from devices.profile import builtin_profiles
from hybrid.errors import HybridError
from hybrid.models.dsp import Band, Compressor, Equaliser, FractionalDelay, NoiseFloor, Saturator
from hybrid.live.verify import capture
from hybrid.live.verify.analysis import analyse
from hybrid.live.verify.compare import compare
from hybrid.live.verify.fingerprint import (ChainKey, Fingerprint, FLOOR_BAND_DB, check_current, load, save,
                                       tolerance_from_takes)
from hybrid.live.verify.model import DeviceModel, run_chain
from hybrid.live.verify.stimulus import build, default_plan
from hybrid.live.verify.suspects import ChainModel, find_suspects

RATE = 48000
PROFILES = builtin_profiles()


def through(plan, procs, *, delay=0.0, noise_dbfs=None, seed=1):
    x = build(plan).astype(np.float64)
    chain = list(procs)
    if noise_dbfs is not None:
        chain.append(NoiseFloor(noise_dbfs, seed=seed))
    if delay:
        chain.append(FractionalDelay(delay))
    for proc in chain:
        proc.prepare(RATE)
    y = np.empty_like(x)
    for start in range(0, len(x), 256):     # block by block, as the JACK client runs them
        block = x[start:start + 256].copy()
        for proc in chain:
            block = proc(block)
        y[start:start + len(block)] = block
    return x, y


def test_a_third_octave_bell_is_seen_where_and_as_high_as_it_is():
    plan = default_plan(RATE)
    bell = Band("peak", 2000.0, 6.0, 4.32)   # Q 4.32: a 1/3-octave bandwidth
    x, y = through(plan, [Equaliser([bell])], delay=37.25, noise_dbfs=-90.0)
    m = analyse(plan, x, y)
    assert m.latency_samples == pytest.approx(37.25, abs=0.1)   # a bell bends the phase the ping times by
    peak = int(np.argmax(m.magnitude_db))
    assert m.freqs_hz[peak] == pytest.approx(2000.0, rel=0.03)
    assert m.magnitude_db[peak] == pytest.approx(6.0, abs=0.4)
    away = m.freqs_hz < 500
    assert np.abs(m.magnitude_db[away & (m.freqs_hz > 30)]).max() < 0.1
    truth = Equaliser([bell], samplerate=RATE).response_db(m.freqs_hz)
    mid = (m.freqs_hz > 40) & (m.freqs_hz < 16000)
    assert np.abs(m.magnitude_db[mid] - truth[mid]).max() < 0.6     # 1/12-octave smoothing of a narrow bell


def test_the_loop_delay_is_taken_out_of_the_phase():
    plan = default_plan(RATE)
    x, y = through(plan, [], delay=100.3, noise_dbfs=-90.0)
    m = analyse(plan, x, y)
    band = (m.freqs_hz > 30) & (m.freqs_hz < 18000)
    assert np.abs(m.phase_deg[band]).max() < 2.0
    assert np.abs(m.magnitude_db[band]).max() < 0.05
    assert m.noise_floor_dbfs == pytest.approx(-90.0, abs=0.5)
    assert m.gain_ref_db == pytest.approx(0.0, abs=0.02)


def test_transfer_curve_shows_threshold_and_ratio():
    plan = default_plan(RATE)
    x, y = through(plan, [Compressor(threshold_db=-24.0, ratio=4.0, attack_ms=2.0, release_ms=50.0, knee_db=0.0)])
    m = analyse(plan, x, y, latency_samples=0.0)
    levels, out = m.tone_levels_dbfs, m.transfer_out_dbfs[0]
    below = levels <= -28
    above = levels >= -16
    slope_below = np.polyfit(levels[below], out[below], 1)[0]
    slope_above = np.polyfit(levels[above], out[above], 1)[0]
    assert slope_below == pytest.approx(1.0, abs=0.02)
    assert slope_above == pytest.approx(0.25, abs=0.06)


def test_distortion_rises_with_level_through_a_saturator():
    plan = default_plan(RATE)
    x, y = through(plan, [Saturator(drive_db=12.0, output_db=-12.0)])
    m = analyse(plan, x, y, latency_samples=0.0)
    assert m.thd_at(-4) > 5 * m.thd_at(-20) > 0.05


def _fingerprint(takes, plan, devices=("EQ",), values=None):
    values = values if values is not None else {"EQ": {"hmf_gain": 4.0}}
    return Fingerprint(key=ChainKey("A", tuple(devices), ("1Kick",)), plan=plan, reference=takes[0].mean(takes),
                       tolerance=tolerance_from_takes(takes), out_channel=3, in_channel=3, interface="gear",
                       samplerate=RATE, blocksize=0, profiles={d: "hy-eq-nrpn" for d in devices}, values=values,
                       created="2026-11-21T12:00:00Z", takes=len(takes))


@pytest.fixture(scope="module")
def eq_takes():
    plan = default_plan(RATE, second_tone_hz=2500)
    takes = []
    for seed in (1, 2):
        x, y = through(plan, [Equaliser([Band("peak", 2500.0, 4.0, 1.0)])], delay=20.5, noise_dbfs=-80.0, seed=seed)
        takes.append(analyse(plan, x, y))
    return plan, takes


def test_fingerprint_round_trips_compactly_and_refuses_broken_or_stale_files(tmp_path, eq_takes):
    plan, takes = eq_takes
    fp = _fingerprint(takes, plan)
    path = tmp_path / "fingerprints" / "A.npz"
    save(fp, path)
    assert path.stat().st_size < 20_000
    back = load(path)
    assert back.key == fp.key and back.plan == plan and back.values == fp.values and back.digest == fp.digest
    assert np.allclose(back.reference.band_db, fp.reference.band_db, atol=1e-4)
    assert np.allclose(back.tolerance.band_db, fp.tolerance.band_db, atol=1e-5)
    check_current(back, key=fp.key, samplerate=RATE, profiles=fp.profiles, values=fp.values, where="x")
    with pytest.raises(HybridError, match="sheet's values for EQ changed"):
        check_current(back, key=fp.key, samplerate=RATE, profiles=fp.profiles,
                      values={"EQ": {"hmf_gain": 5.0}}, where="x")
    with pytest.raises(HybridError, match="taken at 48000 Hz"):
        check_current(back, key=fp.key, samplerate=44100, profiles=fp.profiles, values=fp.values, where="x")
    with pytest.raises(HybridError, match="the sheet now has A: Comp > EQ"):
        check_current(back, key=ChainKey("A", ("Comp", "EQ")), samplerate=RATE, profiles=fp.profiles,
                      values=fp.values, where="x")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(path.read_bytes()[:300])
    with pytest.raises(HybridError, match="broken.npz: not a readable fingerprint"):
        load(broken)
    with pytest.raises(HybridError, match="no fingerprint stored"):
        load(tmp_path / "none.npz")
    meta = json.loads(np.load(path)["meta"].tobytes())
    meta["spec"] = "hybrid-fingerprint/9"
    arrays = dict(np.load(path))
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(tmp_path / "future.npz", **arrays)
    with pytest.raises(HybridError, match="expected 'hybrid-fingerprint/1'"):
        load(tmp_path / "future.npz")


def test_tolerance_comes_from_repeatability_with_a_floor(eq_takes):
    plan, takes = eq_takes
    tol = tolerance_from_takes(takes)
    assert tol.band_db.min() == pytest.approx(FLOOR_BAND_DB)     # -80 dBFS noise: repeatable to far better
    assert tol.sigma_band_db < 0.02
    noisy = [dataclasses.replace(t, band_db=t.band_db + k * 0.2) for k, t in enumerate(takes)]
    assert tolerance_from_takes(noisy).band_db.min() > 0.5       # takes 0.2 dB apart: 6 sigma ~ 0.85 dB


def test_compare_passes_a_repeat_and_fails_a_moved_bell_a_noisy_loop_and_an_inverted_one(eq_takes):
    plan, takes = eq_takes
    fp = _fingerprint(takes, plan)
    x, y = through(plan, [Equaliser([Band("peak", 2500.0, 4.0, 1.0)])], delay=20.5, noise_dbfs=-80.0, seed=7)
    again = compare(fp, analyse(plan, x, y))
    assert again.ok, again.failures
    x, y = through(plan, [Equaliser([Band("peak", 2500.0, 4.5, 1.0)])], delay=20.5, noise_dbfs=-80.0, seed=7)
    moved = compare(fp, analyse(plan, x, y))
    assert not moved.ok and "response" in moved.failures[0] and "2.52 kHz" in moved.failures[0]
    x, y = through(plan, [Equaliser([Band("peak", 2500.0, 4.0, 1.0)])], delay=20.5, noise_dbfs=-65.0, seed=7)
    assert any("noise floor rose" in f for f in compare(fp, analyse(plan, x, y)).failures)
    x, y = through(plan, [Equaliser([Band("peak", 2500.0, 4.0, 1.0)])], delay=20.5, noise_dbfs=-80.0, seed=7)
    assert any("polarity" in f for f in compare(fp, analyse(plan, x, -y)).failures)


def test_suspect_tells_a_band_frequency_from_its_gain():
    eq = DeviceModel("EQ", PROFILES["hy-eq-nrpn"], {"lmf_gain": -4.0, "lmf_freq": 400.0, "hmf_gain": 3.0})
    comp = DeviceModel("Comp", PROFILES["hy-comp-cc"], {"threshold": -24.0, "ratio": "4:1", "release": 50.0})
    plan = default_plan(RATE, second_tone_hz=400)
    sent = build(plan)

    def features(devices):
        return analyse(plan, sent, run_chain(devices, sent, RATE), latency_samples=0.0).features()

    base = features([eq, comp])
    weights = np.full(len(base), 1 / 0.25)
    model = ChainModel([eq, comp], plan, weights)
    for param, value in (("lmf_freq", 500.0), ("lmf_gain", -3.0)):
        d = (features([eq.with_value(param, value), comp]) - base) * weights
        best = find_suspects(model, d)[0]
        assert (best.device, best.parameter) == ("EQ", param), best.text
        assert best.estimate == pytest.approx(value, rel=0.05)
        assert best.explained > 0.95


def test_xrun_passes_are_repaired_block_by_block_where_two_agree():
    rng = np.random.default_rng(3)
    clean = (0.3 * np.sin(np.arange(10_000) * 0.05)).astype(np.float32)
    clean[:768] = 0.0                           # a preroll: only the loop's hiss there
    passes = []
    for broken in (1000, 5000, 8000):   # each pass lost a different block
        p = clean + rng.normal(0, 1e-4, clean.shape).astype(np.float32)   # -80 dBFS hiss, different each pass
        p[broken:broken + 256] = 0.0
        passes.append([p])
    repaired = capture._assemble(passes)
    assert repaired is not None
    assert np.abs(repaired[0] - clean).max() < 1e-3
    bad = [[passes[0][0].copy()], [passes[1][0].copy()]]
    bad[1][0][1000:1256] = 0.2                 # neither pass is right about block 1000 in the same way
    assert capture._assemble(bad) is None


def test_cli_refuses_unknown_songs_and_missing_fingerprints_in_one_line(tmp_path, cli):
    from .conftest import SONG, write_studio

    studio = write_studio(tmp_path / "studio")
    result = cli("recall", "verify", "no-such-song", "--studio", str(studio))
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "no song 'no-such-song'" in result.stderr
    result = cli("recall", "verify", SONG, "--studio", str(studio), "--loop", "B", "--json")
    assert result.returncode == 1
    (chain,) = json.loads(result.stdout)["chains"]
    assert "no fingerprint stored" in chain["error"] and "B.npz" in chain["error"]
    from hybrid.live.verify import verify_step

    with pytest.raises(HybridError, match="EQ has no parameter 'nope'"):
        verify_step(studio, SONG, "EQ", "nope")
    with pytest.raises(HybridError, match="A.npz: no fingerprint stored"):
        verify_step(studio, SONG, "Comp", "ratio")
