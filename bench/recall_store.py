"""Load and save 500 recall sheets: per-sheet times, against references measured in the same run.

References: parsing the same text with the standard library's ``tomllib`` (no comments
kept, no checks), and writing the same bytes with a plain write + fsync. Our load keeps
comments (tomlkit) and checks the sheet against the studio; our save checks, keeps the
previous version in history and writes atomically (temp + fsync + rename + fsync dir).

    python bench/recall_store.py [--songs 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recall.sheet import Insert, Sheet, validate_sheet  # noqa: E402
from recall.store import create_song, list_songs, save_sheet  # noqa: E402
from recall.studio import init_studio, load_studio  # noqa: E402

STUDIO = '''
[devices."Comp 1"]
profile = "hy-comp-cc"
port = "comp-1"
[devices."Comp 2"]
profile = "hy-comp-cc"
port = "comp-2"
[devices."EQ 1"]
profile = "hy-eq-nrpn"
port = "eq-1"
[devices.Verb]
profile = "hy-verb-sysex"
port = "verb"
[devices.Sat]
profile = "hy-sat-serial"
port = "/dev/null"
[devices."Pultec 1"]
profile = "hy-pultec-manual"
[devices."Pultec 2"]
profile = "hy-pultec-manual"
[loops.A]
out = 3
in = 3
devices = ["EQ 1", "Comp 1"]
[loops.B]
out = 4
in = 4
devices = ["Pultec 1", "Sat"]
[loops.C]
out = 5
in = 5
devices = ["Verb"]
'''

VALUES = {
    "Comp 1": {"threshold": -18.0, "ratio": "4:1", "attack": 3.0, "release": 300.0, "output": 2.0, "bypass": False},
    "Comp 2": {"threshold": -12.0, "ratio": "2:1", "attack": 10.0, "release": 800.0, "output": 1.0},
    "EQ 1": {"hpf_freq": 60.0, "hpf_on": True, "lf_gain": 2.0, "lf_freq": 80.0, "lmf_gain": -3.0,
             "lmf_freq": 400.0, "lmf_q": 1.2, "hmf_gain": 1.5, "hmf_freq": 3000.0, "hmf_q": 0.8,
             "hf_gain": 2.5, "hf_freq": 10000.0, "trim": 0.0},
    "Verb": {"type": "Plate", "decay": 2.2, "predelay": 30.0, "hf_damp": 6000.0, "low_cut": 150.0, "mix": 0.25},
    "Sat": {"drive": 8.0, "tape_speed": "15 ips", "bias": 0.0, "output": -2.0},
    "Pultec 1": {"low_freq": "60 Hz", "low_boost": "4", "low_atten": "2", "high_freq": "10k", "high_boost": "3"},
    "Pultec 2": {"low_freq": "100 Hz", "low_boost": "2", "high_freq": "12k", "high_boost": "1"},
}
TRACKS = [f"{i}{name}" for i, name in enumerate(
    ["Kick", "Snare", "HatL", "HatR", "Tom1", "Tom2", "OHL", "OHR", "Bass", "BassDI", "GtrL", "GtrR", "Keys",
     "Pad", "Vox", "VoxDbl", "BVL", "BVR", "Perc", "FX", "Room", "Synth", "Lead", "Sub"], start=1)]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def line(name: str, times_s: list[float], ref_s: list[float] | None = None) -> str:
    ms = [t * 1000 for t in times_s]
    text = (f"{name:34s} median {statistics.median(ms):7.3f} ms  mean {statistics.fmean(ms):7.3f} ms  "
            f"p95 {pct(ms, 0.95):7.3f} ms  max {max(ms):7.3f} ms")
    if ref_s:
        text += f"  ({statistics.median(times_s) / statistics.median(ref_s):.1f}x the reference)"
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--songs", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-recall-store-") as tmp:
        root = Path(tmp) / "studio"
        init_studio(root)
        with open(root / "studio.toml", "a") as fh:
            fh.write(STUDIO)
        studio = load_studio(root)
        for i in range(args.songs):
            path = create_song(root, f"Song {i:03d}", artist="The Examples", album=f"Album {i // 12}",
                               samplerate=48000, tracks={t: f"stems/{t}.wav" for t in TRACKS})
            sheet = Sheet.load(path)
            for dev, vals in VALUES.items():
                sheet.set_values(dev, vals)
                sheet.set_device_notes(dev, f"notes for {dev} on song {i}")
            sheet.set_inserts(TRACKS[0], [Insert("A", ["EQ 1", "Comp 1"])])
            sheet.set_inserts(TRACKS[1], [Insert("B", ["Pultec 1", "Sat"])])
            sheet.set_inserts(TRACKS[14], [Insert("C", ["Verb"])])
            for item in ("Gain staging", "Print stems", "Client notes"):
                sheet.check(item, i % 2 == 0)
            sheet.set_song(notes="A hand-written note.\nSecond line.")
            sheet.file = str(path)
            text = sheet.dumps().replace("[song]", "# hand-edited comment\n[song]", 1)
            path.write_text(text)
        paths = sorted((root / "songs").glob("*/sheet.toml"))
        size = statistics.fmean(p.stat().st_size for p in paths)
        print(f"{len(paths)} sheets, {size / 1024:.1f} KiB each, {len(TRACKS)} tracks and {len(VALUES)} devices per sheet")

        ref_load, load, check = [], [], []
        sheets = []
        for p in paths:
            text = p.read_text()
            t0 = time.perf_counter()
            tomllib.loads(text)
            ref_load.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            sheet = Sheet.load(p)
            load.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            problems = validate_sheet(sheet, studio)
            check.append(time.perf_counter() - t0)
            assert not problems, problems[0]
            sheets.append(sheet)

        ref_save, save = [], []
        for i, (p, sheet) in enumerate(zip(paths, sheets, strict=False)):
            data = sheet.dumps().encode()
            ref = p.parent / "ref-write.toml"
            t0 = time.perf_counter()
            with open(ref, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            ref_save.append(time.perf_counter() - t0)
            ref.unlink()
            sheet.set_value("Comp 1", "threshold", -20.0 - (i % 10))
            t0 = time.perf_counter()
            save_sheet(sheet, studio=studio)
            save.append(time.perf_counter() - t0)
        assert all("hand-edited comment" in p.read_text() for p in paths[:5])

        t0 = time.perf_counter()
        songs = list_songs(studio)
        list_s = time.perf_counter() - t0
        assert len(songs) == len(paths) and all(s.ok for s in songs)

        print(line("reference: tomllib.loads", ref_load))
        print(line("load (tomlkit, structure checked)", load, ref_load))
        print(line("check against the studio", check))
        print(line("reference: write + fsync", ref_save))
        print(line("save (checked, history, atomic)", save, ref_save))
        print(f"list_songs over {len(songs)} songs (load + check each): {list_s * 1000:.0f} ms, "
              f"{list_s / len(songs) * 1000:.2f} ms per song")
    return 0


if __name__ == "__main__":
    sys.exit(main())
