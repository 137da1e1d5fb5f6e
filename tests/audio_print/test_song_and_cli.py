"""A whole song printed in planned passes (API), and the `hybrid print` command line."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest
import soundfile as sf

from recall import store
from recall.studio import load_studio

from hybrid.live.audio.song import plan_song, print_song

from .conftest import FAST, FAST_PING, GEAR, PERIOD, RATE, band_limited, residual_db, write_stem

STUDIO = f'''spec = "hybrid-studio/1"
name = "Print Room"

[interface]
device = "{GEAR}"
samplerate = 48000
blocksize = 0

[devices."1176"]
profile = "hy-comp-cc"

[devices."Pultec"]
profile = "hy-pultec-manual"

[loops.A]
out = 1
in = 1

[loops.B]
out = 2
in = 2

[loops.D]
out = 4
in = 4
'''


def _song(tmp_path, inserts: dict[str, list[tuple[str, list[str]]]]):
    (tmp_path / "studio.toml").write_text(STUDIO)
    (tmp_path / "songs").mkdir()
    names = ["1Kick", "2Snare", "3Bass", "4Vox"]
    store.create_song(tmp_path, "Night Drive", samplerate=RATE, tracks={n: f"stems/{n}.wav" for n in names})
    song_dir = store.song_dir(tmp_path, "night-drive")
    (song_dir / "stems").mkdir()
    sources = {}
    for k, name in enumerate(names):
        sources[name] = band_limited(6000, seed=10 + k)
        write_stem(song_dir / "stems" / f"{name}.wav", sources[name], time_reference=48000 * (k + 1))
    sheet = store.load_sheet(tmp_path, "night-drive")
    from recall.sheet import Insert
    for track, chain in inserts.items():
        sheet.set_inserts(track, [Insert(loop=loop, devices=devices) for loop, devices in chain])
    store.save_sheet(sheet, store.sheet_path(tmp_path, "night-drive"))
    return load_studio(tmp_path), store.load_sheet(tmp_path, "night-drive"), song_dir, sources


def test_song_planned_and_printed_in_rounds(gear, tmp_path):
    studio, sheet, song_dir, sources = _song(tmp_path, {
        "1Kick": [("A", ["1176"])],
        "2Snare": [("B", ["1176"])],                    # the same unit: a second pass
        "3Bass": [("D", []), ("B", ["Pultec"])],        # two loops in series: two rounds
    })
    plan = plan_song(studio, sheet, song_dir, "night-drive")
    assert [[[j.stem.name for j in p.jobs] for p in r] for r in plan.rounds] == [
        [["1Kick.wav", "3Bass.wav"], ["2Snare.wav"]], [["3Bass.round1.wav"]]]
    assert plan.skipped == {"4Vox": "no insert on this track"}

    for _ in range(3):
        result = print_song(studio, sheet, song_dir, "night-drive", _iface(), FAST, ping=FAST_PING)
        if all(p.stats.xruns == 0 for p in result.passes):
            break
    assert result.good, result.failed_tracks
    assert len(result.passes) == 3
    prints = song_dir / "prints"
    assert sorted(p.name for p in prints.iterdir()) == ["1Kick.wav", "2Snare.wav", "3Bass.wav"]
    kick = sf.read(prints / "1Kick.wav", dtype="float64")[0]
    bass = sf.read(prints / "3Bass.wav", dtype="float64")[0]
    assert len(kick) == len(bass) == 6000
    assert residual_db(sources["1Kick"][:, 0].astype(float), kick) < -95        # loop A's inversion corrected
    assert residual_db(sources["3Bass"][:, 0].astype(float), bass, -3.0) < -60  # through D, then B (-3 dB)
    from hybrid.live.audio.wavio import read_bext
    assert read_bext(prints / "3Bass.wav").time_reference == 48000 * 3   # carried through both rounds
    assert not (prints / ".rounds").exists()

    stored = tomllib.loads((tmp_path / "latency.toml").read_text())["loops"]
    assert stored["A"]["latency_samples"] == pytest.approx(PERIOD + 37.25, abs=0.01)
    assert stored["B"]["polarity"] == 1 and stored["D"]["key"]["device"] == GEAR


def _iface():
    from hybrid.live.audio.interface import InterfaceSettings

    return InterfaceSettings(device=GEAR, samplerate=RATE)


def test_cli_plan_of_a_song(tmp_path, cli):
    _song(tmp_path, {"1Kick": [("A", ["1176"])], "2Snare": [("B", ["1176"])], "3Bass": [("D", ["Pultec"])]})
    out = cli("print", "night-drive", "--studio", str(tmp_path), "--plan", "--json")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["passes"] == 2
    assert [[j["loop"] for j in p["jobs"]] for p in plan["rounds"][0]] == [["A", "D"], ["B"]]


def test_cli_prints_one_stem_through_a_studio_loop(gear, tmp_path, cli):
    (tmp_path / "studio.toml").write_text(STUDIO)
    x = band_limited(4800, seed=7)
    stem = write_stem(tmp_path / "kick.wav", x, time_reference=123)
    out_path = tmp_path / "kick.print.wav"
    for _ in range(3):      # device, rate and block size from [interface]; channels from [loops.A]
        out = cli("print", str(stem), "-o", str(out_path), "--studio", str(tmp_path), "--loop", "A",
                  "--tail-s", "0.02", "--format", "float32", "--json")
        if "xrun" not in out.stderr:
            break
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    f = report["files"][0]
    assert report["good"] and f["good"] and f["path"] == str(out_path) and f["loop"] == "A"
    assert f["latency"][0]["applied_latency_samples"] == pytest.approx(PERIOD + 37.25, abs=0.01)
    assert f["latency"][0]["polarity"] == -1 and f["time_reference"] == 123
    assert set(f["levels"]) >= {"peak_dbfs", "rms_dbfs", "clipped_samples"}
    y = sf.read(out_path, dtype="float64")[0]
    assert len(y) == 4800 and residual_db(x[:, 0].astype(float), y) < -95


@pytest.mark.parametrize("args, message", [
    (["--device", GEAR, "--in", "1", "STEM", "-o", "OUT"], "give --out N"),
    (["--device", GEAR, "--loop", "A", "STEM", "-o", "OUT"], "--loop A needs --studio DIR"),
    (["--device", GEAR, "--out", "x", "--in", "1", "STEM", "-o", "OUT"], "--out: expected channel numbers"),
    (["--device", GEAR, "--out", "1", "--in", "1", "MISSING", "-o", "OUT"], "MISSING: no such stem file"),
])
def test_cli_bad_input_is_one_line(tmp_path, cli, args, message):
    stem = write_stem(tmp_path / "s.wav", np.zeros((100, 1), np.float32))
    args = [str(stem) if a == "STEM" else str(tmp_path / "missing.wav") if a == "MISSING"
            else str(tmp_path / "o.wav") if a == "OUT" else a for a in args]
    out = cli("print", *args)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hybrid: error: ")
    assert message.replace("MISSING", "missing.wav") in lines[0]


def test_a_good_print_clears_the_bad_file_of_an_earlier_attempt(gear, tmp_path):
    from .conftest import LOOP_FRAC, print_clean
    from hybrid.live.audio.printing import PrintJob

    stem = write_stem(tmp_path / "1Kick.wav", band_limited(4800))
    out = tmp_path / "prints" / "1Kick.wav"
    out.parent.mkdir()
    stale = out.with_name("1Kick.BAD.wav")
    stale.write_bytes(b"RIFF from a spoilt pass")
    result = print_clean([PrintJob(stem, out, out_channels=(LOOP_FRAC,), in_channels=(LOOP_FRAC,))])
    assert result.files[0].good
    assert out.exists() and not stale.exists()
