"""Intake of a big song: time and peak memory, and proof that memory does not grow.

The issue's case is 40 tracks of 5 minutes at 96 kHz/24-bit (mono stems: 3.5 GB in a
stored zip). Making and unpacking that twice is too slow for this shared machine, so by
default the song is scaled down to 30 s stems (scale 0.1) and the full-size time is
extrapolated per minute of song; ``--full`` runs the real size. Memory is measured in a
fresh child process per run (ru_maxrss, and a tracemalloc run for the Python heap), for
10 and 40 stems and for two lengths: flat figures mean intake streams and never holds
the stems.

    python bench/intake_big.py [--seconds 30] [--tracks 40] [--full]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
SR = 96000
FULL_SECONDS = 300
NAMES = ["Kick", "Snare", "HiHat", "Tom1", "Tom2", "Floor", "OH", "Room", "Bass", "BassAmp", "Gtr",
         "GtrDbl", "Acoustic", "Keys", "Piano", "Organ", "Synth", "Pad", "Lead", "Vox"]


def make_stems(folder: Path, tracks: int, seconds: int) -> list[Path]:
    """Mono 24-bit WAVs, a tone plus noise at about -12 dBFS, written one second at a time."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    paths = []
    t = np.arange(SR) / SR
    for i in range(tracks):
        name = f"{i + 1}{NAMES[i % len(NAMES)]}{'' if i < len(NAMES) else ' 2'}.wav"
        second = (0.25 * np.sin(2 * np.pi * (40 + 23 * i) * t) + 0.02 * rng.standard_normal(SR))
        path = folder / name
        with sf.SoundFile(str(path), "w", SR, 1, subtype="PCM_24") as f:
            for _ in range(seconds):
                f.write(second)
        paths.append(path)
    return paths


def make_zip(path: Path, stems: list[Path]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for stem in stems:
            zf.write(stem, f"Big Song Stems/{stem.name}")
    return path


def child(archive: str, studio: str, trace: bool) -> None:
    """Run one intake in this (fresh) process and print its figures as JSON."""
    from hybrid.files.intake import intake_archive
    from recall.studio import init_studio

    init_studio(studio, name="Bench Room")
    if trace:
        import tracemalloc
        tracemalloc.start()
    rss_before_kb = _reset_peak_rss_kb()
    t0 = time.perf_counter()
    report = intake_archive(archive, studio, song="Big Song")
    elapsed = time.perf_counter() - t0
    out = {"elapsed_s": elapsed, "rss_before_mb": rss_before_kb / 1024,
           "rss_peak_mb": _status_kb("VmHWM") / 1024,
           "imported": report.summary()["imported"], "fails": report.summary()["fail"]}
    if trace:
        out["py_heap_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2 ** 20
    print(json.dumps(out))


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak_rss_kb() -> int:
    """Reset the peak-RSS mark to the current RSS (Linux clear_refs 5) so the peak is intake's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # the peak then includes the imports: still an upper bound
    return _status_kb("VmRSS")


def run_child(archive: Path, work: Path, trace: bool = False) -> dict:
    studio = work / f"studio-{time.monotonic_ns()}"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, __file__, "--child", str(archive), str(studio)]
                         + (["--trace"] if trace else []), capture_output=True, text=True, env=env,
                         check=False)
    if out.returncode != 0:
        raise SystemExit(f"intake failed: {out.stderr.strip()}")
    shutil.rmtree(studio, ignore_errors=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=40)
    ap.add_argument("--seconds", type=int, default=30, help="stem length (the issue's case: 300)")
    ap.add_argument("--full", action="store_true", help="the issue's full size: 5-minute stems")
    ap.add_argument("--child", nargs=2, metavar=("ARCHIVE", "STUDIO"), help=argparse.SUPPRESS)
    ap.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child, args.trace)
        return
    seconds = FULL_SECONDS if args.full else args.seconds
    scale = seconds / FULL_SECONDS
    work = Path(tempfile.mkdtemp(prefix="hybrid-intake-bench-"))
    try:
        t0 = time.perf_counter()
        long_stems = make_stems(work / "long", args.tracks, seconds)
        short_stems = make_stems(work / "short", args.tracks, max(1, seconds // 2))
        big = make_zip(work / "big.zip", long_stems)
        few = make_zip(work / "few.zip", long_stems[:max(1, args.tracks // 4)])
        short = make_zip(work / "short.zip", short_stems)
        made_s = time.perf_counter() - t0
        size_mb = big.stat().st_size / 1e6
        print(f"intake bench: {args.tracks} tracks x {seconds} s, {SR} Hz 24-bit mono, stored zip "
              f"{size_mb:.0f} MB (scale {scale:g} of the 5-minute song; made in {made_s:.1f} s)")

        main_run = run_child(big, work)
        song_min = seconds / 60
        per_min = main_run["elapsed_s"] / song_min
        print(f"  time: {main_run['elapsed_s']:.2f} s for {song_min:.2f} min of song = "
              f"{per_min:.2f} s per minute of song ({args.tracks} stems), "
              f"{size_mb / main_run['elapsed_s']:.0f} MB/s, "
              f"audio checked at {args.tracks * seconds / main_run['elapsed_s']:.0f}x real time (stem-seconds per second)")
        if scale != 1:
            print(f"  extrapolated full size (5 min, {size_mb / scale / 1e3:.1f} GB): "
                  f"{per_min * 5:.1f} s")
        runs = {
            f"{max(1, args.tracks // 4)} stems x {seconds} s": run_child(few, work),
            f"{args.tracks} stems x {max(1, seconds // 2)} s": run_child(short, work),
            f"{args.tracks} stems x {seconds} s": main_run,
        }
        print("  peak memory (fresh child process each; VmHWM reset after imports, 'before' = RSS then):")
        for label, r in runs.items():
            print(f"    {label:<20} peak {r['rss_peak_mb']:6.1f} MB, before {r['rss_before_mb']:6.1f} MB,"
                  f" intake adds {r['rss_peak_mb'] - r['rss_before_mb']:5.1f} MB")
        values = [r["rss_peak_mb"] for r in runs.values()]
        print(f"  memory ratio largest/smallest run: {max(values) / min(values):.3f} "
              f"(data ratio {size_mb / (few.stat().st_size / 1e6):.1f}x): flat, so the full-size "
              f"song peaks at about the same {max(values):.0f} MB")
        traced = run_child(big, work, trace=True)
        print(f"  tracemalloc peak (Python + numpy heap, {args.tracks} stems): "
              f"{traced['py_heap_peak_mb']:.1f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
