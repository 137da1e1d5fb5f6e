"""``hybrid demo --no-tui``: the main job headless, exit 0 with its report; and its clear refusals."""

from __future__ import annotations

import json
import os
import sys

import soundfile as sf

from tests.conftest import ROOT


def _run_main_job(cli, demo_jack, studio):
    return cli("demo", "--no-tui", "--json", "--studio", str(studio), "--jack", demo_jack.name, timeout=900)


def _steps(stdout: str) -> str:
    """The report's steps, each with its summary and details (what a failed run is read by)."""
    try:
        steps = json.loads(stdout)["steps"]
    except (ValueError, KeyError):
        return stdout[-3000:]
    return "\n".join(f"{s['ok']} {s['step']}: {s['summary']}\n  " + "\n  ".join(s["details"]) for s in steps)


def test_no_tui_runs_from_the_clients_stems_to_the_ddp(cli, demo_jack, tmp_path):
    """The main job on the first song, then every song's mix (full and instrumental) through the
    summing mixer and its bus loop, the EP's masters through the mastering loop, and the DDP."""
    import tomllib

    from hybrid.app.demo.studio import ALBUM_SLUG, SONGS
    from hybrid.files.deliver.master import verify_delivery

    studio = tmp_path / "Demo Room"
    out = _run_main_job(cli, demo_jack, studio)  # a pass spoilt by xruns is printed again
    assert out.returncode == 0, out.stderr + _steps(out.stdout)
    report = json.loads(out.stdout)
    assert report["ok"] and report["song"] == "night-drive"
    assert len(report["steps"]) == 9 and all(s["ok"] for s in report["steps"])
    names = [s["step"] for s in report["steps"]]
    assert names[0].startswith("recall: apply") and names[1].startswith("recall: hand-set")
    assert names[2].startswith("verify: read") and names[3].startswith("verify: listen")
    assert "first recall: stored how its" in report["steps"][3]["summary"]
    assert names[4].startswith("loops") and names[5].startswith("print")
    assert [n.split(":")[0] for n in names[6:]] == ["mix", "master", "deliver"]
    printed = report["steps"][5]["data"]["files"]
    routing = report["steps"][5]["data"]["routing"]   # loop A patched on the simulated matrix, read back
    assert routing and all("Matrix verified (2 ties read back)" in line for line in routing), routing
    assert {f["name"] for f in printed} == {"1Kick.wav", "3Bass.wav", "4Keys.wav", "5Vox.wav"}
    for f in printed:
        assert f["good"] and f["clips"] == 0 and abs(f["drift_samples"]) < 0.05
        stem = studio / "songs" / "night-drive" / "stems" / f["name"]
        assert sf.info(f["path"]).frames == sf.info(stem).frames
    loops = {l["loop"]: l for l in report["steps"][4]["data"]}
    assert loops["C"]["polarity"] == -1 and loops["A"]["polarity"] == 1

    # the mixes: both variants of every song, stereo, the stems' length plus the tail, nulled
    mixes = {m["song"]: m for m in report["steps"][6]["data"]}
    assert list(mixes) == [s.slug for s in SONGS]
    measured = []
    for slug, mix in mixes.items():
        assert [v["variant"] for v in mix["variants"]] == ["full", "instrumental"]
        stems = sf.info(studio / "songs" / slug / "stems" / "1Kick.wav")
        for v in mix["variants"]:
            info = sf.info(v["path"])
            assert v["good"] and info.channels == 2 and info.frames == stems.frames + stems.samplerate
            assert len(v["passes"]) == 2 and v["passes"][1]["files"][0]["loop"] == "BUS"   # through the bus loop
        inst = mix["variants"][1]
        if inst["null_residual_db"] is not None:      # where the vocal is silent long enough to compare
            assert inst["null_residual_db"] < -50 and not inst["null_flagged"], inst["null_note"]
            measured.append(slug)
        else:
            assert "never silent" in inst["null_note"]
    assert "glass-harbour" in measured                # its vocal rests a whole second: always compared

    # the masters, recorded in album.toml; the DDP read back and verified; the approval set
    album = studio / "albums" / ALBUM_SLUG
    tracks = tomllib.loads((album / "album.toml").read_text())["tracks"]
    assert [t["file"] for t in tracks] == [f"masters/{s.slug}.wav" for s in SONGS]
    for slug in mixes:
        master = sf.info(album / "masters" / f"{slug}.wav")
        full = sf.info(studio / "songs" / slug / "mix" / "full.wav")
        assert master.channels == 2 and master.frames == full.frames + int(0.5 * full.samplerate)
    assert (album / "deliver" / "DDP" / "IMAGE.DAT").is_file()
    assert verify_delivery(studio, ALBUM_SLUG)       # raises on any mismatch
    assert list((album / "approval").glob("*.zip"))


def test_text_report_ends_with_the_steps(cli, demo_jack, tmp_path):
    out = cli("demo", "--no-tui", "--studio", str(tmp_path / "room"), "--jack", demo_jack.name,
              "--song", "glass-harbour", "--song-only", timeout=240)
    lines = out.stdout.strip().splitlines()
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    summary = lines[-7:]
    assert summary[0].startswith("Main job on 'Glass Harbour' (glass-harbour): OK")
    marks = [line.split("]")[0].strip() for line in summary[1:]]
    assert marks[:3] == ["[ok"] * 3 and marks[3] in ("[ok", "[warn") and marks[4:] == ["[ok"] * 2


def test_without_jackd_one_line_says_how_to_install(cli, tmp_path):
    bare = tmp_path / "bin"
    bare.mkdir()
    os.symlink(sys.executable, bare / "python3")
    out = cli("demo", "--no-tui", "--studio", str(tmp_path / "room"), env={"PATH": str(bare)})
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert "jackd is not installed" in lines[0] and "apt-get install jackd2" in lines[0]


def test_tui_without_textual_is_one_clear_line(tmp_path):
    import subprocess

    code = ("import sys; sys.modules['textual'] = None\n"
            "from hybrid.cli import main\n"
            f"sys.exit(main(['tui', '--studio', {str(tmp_path)!r}]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 1
    assert out.stderr.strip() == ("hybrid: error: hybrid tui: the control-room UI needs textual "
                                  "(pip install textual), or run `hybrid demo --no-tui`")


def test_tui_on_a_folder_that_is_not_a_studio(cli, tmp_path):
    out = cli("tui", "--studio", str(tmp_path))
    assert out.returncode == 1
    assert out.stderr.strip().endswith("not a studio folder (no studio.toml); create one with `hybrid init DIR`")
