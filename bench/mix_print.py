"""Summing prints against the summing mixer's digital model: residual per side, time per pass, memory.

A private JACK dummy server runs the simulated summing mixer (hybrid.models.stereo.
SummingMixer: 8 inputs, pans, trims, crosstalk -80 dB, hiss at -110 dBFS, a different
converter delay on each side). A song of 8 band-limited stems is printed with
``hybrid.live.audio.mix.print_mix`` (variants full and instrumental); the full print is
compared with the same model run offline with its converter delays at zero (what an
aligned print should be), side by side. Goals (issue 13): residual <= -60 dB per side
where the model's noise allows; a pass in at most 1.05 x the song's length + 2 s; memory
flat in the song's length (peak RSS growth printed for each length in one run).

    python bench/mix_print.py [--minutes 1 10] [--period 1024] [--process]

``--process`` prints each song a second time the way the front ends do (``hybrid print SONG
--mix``, the TUI, the demo: ``StudioSession.print_mix`` in the print process) and adds a row
with that pass time (the child's start-up included in its first pass).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devices.jack_server import JackServer  # noqa: E402

RATE = 48000
GEAR = "bench-mix-gear"
PANS = [-0.8, 0.8, -0.3, 0.3, 0.0, -0.5, 0.5, 0.1]
TRIMS = [0.0, -2.0, -1.0, 0.0, -3.0, 0.0, -0.5, -6.0]
DELAYS = (30.1, 30.85)


def mixer():
    from hybrid.models.stereo import SummingMixer

    return SummingMixer(8, pans=PANS, trims_db=TRIMS, crosstalk_db=-80.0, noise_dbfs=-110.0,
                        delay_samples=DELAYS, seed=3)


def write_song(root: Path, seconds: float) -> None:
    """8 stems written block by block (never the whole song in memory); the vocal enters at 40 %."""
    import soundfile as sf
    from scipy.signal import butter, sosfilt, sosfilt_zi

    song = root / "songs" / "bench"
    (song / "stems").mkdir(parents=True)
    frames = int(seconds * RATE)
    sos = butter(8, 12000, fs=RATE, output="sos")
    names = [f"{k}St{k}" for k in range(1, 9)]
    for k, name in enumerate(names):
        rng = np.random.default_rng(k)
        zi = sosfilt_zi(sos) * 0.0
        with sf.SoundFile(song / "stems" / f"{name}.wav", "w", RATE, 1, subtype="PCM_24") as f:
            for pos in range(0, frames, RATE):
                n = min(RATE, frames - pos)
                x, zi = sosfilt(sos, rng.standard_normal(n) * 0.05, zi=zi)
                if k == 7 and pos < 0.4 * frames:
                    x[:] = 0.0
                f.write(x.astype(np.float32))
    tracks = "".join(f'[tracks."{n}"]\nfile = "stems/{n}.wav"\n' for n in names)
    inputs = ", ".join(f'"{n}" = {k + 1}' for k, n in enumerate(names))
    (song / "sheet.toml").write_text(f'spec = "hybrid-sheet/1"\n[song]\ntitle = "Bench"\nsamplerate = 48000\n'
                                     f'{tracks}[mix]\ninputs = {{ {inputs} }}\n[mix.variants.instrumental]\n'
                                     f'mute = ["{names[7]}"]\n')
    (root / "studio.toml").write_text(f'spec = "hybrid-studio/1"\nname = "bench"\n[interface]\ndevice = "{GEAR}"\n'
                                      'samplerate = 48000\n[summing]\nouts = [1, 2, 3, 4, 5, 6, 7, 8]\n'
                                      'ins = [9, 10]\n[router]\ndevice = "manual"\n')


def residuals(root: Path, printed_path: Path) -> list[float]:
    """Full print against the model, per side, block by block (flat memory)."""
    import soundfile as sf

    model = mixer()
    model.set_delay(0, 0.0)
    model.set_delay(1, 0.0)
    model.reset()
    song = root / "songs" / "bench"
    stems = [sf.SoundFile(p) for p in sorted((song / "stems").glob("*.wav"))]
    err = np.zeros(2)
    ref = np.zeros(2)
    with sf.SoundFile(printed_path) as printed:
        block = 4096
        while True:
            got = printed.read(block, dtype="float64", always_2d=True)
            if not len(got):
                break
            x = np.zeros((len(got), 8))
            for k, s in enumerate(stems):
                part = s.read(len(got), dtype="float64")
                x[:len(part), k] = part
            want = model.process(x).copy()
            err += ((got - want) ** 2).sum(axis=0)
            ref += (want ** 2).sum(axis=0)
    for s in stems:
        s.close()
    return [float(10 * np.log10(e / r)) for e, r in zip(err, ref, strict=True)]


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0], help="song lengths to print")
    parser.add_argument("--period", type=int, default=1024, help="JACK period (frames)")
    parser.add_argument("--process", action="store_true",
                        help="also print through the print process, as the front ends do")
    args = parser.parse_args()
    server = JackServer(name=f"bench-mix-{os.getpid()}", period_frames=args.period)
    server.start(slot_wait_s=120)
    os.environ.update(server.environ())
    from hybrid.simgear import SimGear
    from hybrid.simgear.loop import SummingSpec

    gear = SimGear([SummingSpec(mixer=mixer(), sends=tuple(range(1, 9)), returns=(9, 10))], name=GEAR)
    try:
        gear.start()
        import sounddevice as sd

        sd._terminate()
        sd._initialize()
        from hybrid.live.audio.interface import InterfaceSettings
        from hybrid.live.audio.mix import print_mix
        from hybrid.live.audio.printing import PrintOptions
        from recall import store
        from recall.studio import load_studio

        print(f"summing print vs the SummingMixer model (8 inputs, pans, trims, crosstalk -80 dB, hiss -110 dBFS, "
              f"converter delays {DELAYS}), 48 kHz, JACK period {args.period}", flush=True)
        print(f"{'song':>8} | {'pass s':>8} {'goal s':>8} {'ratio':>6} | {'resid L dB':>10} {'resid R dB':>10} | "
              f"{'skew':>6} | {'null dB':>8} | {'RSS MB before':>13} {'after':>7} {'peak':>7}", flush=True)
        for minutes in args.minutes:
            seconds = minutes * 60
            with tempfile.TemporaryDirectory(prefix="bench-mix-") as tmp:
                root = Path(tmp)
                write_song(root, seconds)
                studio = load_studio(root)
                sheet = store.load_sheet(studio, "bench")
                times: list[float] = []
                before = rss_mb()
                start = [0.0]

                def on_pass(_number, _total, _variant, start=start, times=times):
                    if start[0]:
                        times.append(time.perf_counter() - start[0])
                    start[0] = time.perf_counter()

                result = print_mix(studio, sheet, root / "songs" / "bench", "bench", InterfaceSettings(device=GEAR),
                                   PrintOptions(tail_s=1.0), on_pass=on_pass)
                times.append(time.perf_counter() - start[0])
                after = rss_mb()
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                first = result.variants[0] if result.variants else None
                # a pass spoilt by xruns (a loaded machine) still leaves its print, as NAME.BAD.wav
                res = residuals(root, first.path) if first and first.path else [float("nan")] * 2
                skew = result.variants[0].passes[0].files[0].skew_samples if result.variants else None
                null = result.variants[1].null_residual_db if len(result.variants) > 1 else None
                goal = 1.05 * seconds + 2.0
                worst = max(times)
                print(f"{minutes:>6.1f} m | {worst:>8.1f} {goal:>8.1f} {worst / seconds:>6.3f} | {res[0]:>10.1f} "
                      f"{res[1]:>10.1f} | {skew if skew is None else round(skew, 3)!s:>6} | "
                      f"{null if null is None else round(null, 1)!s:>8} | {before:>13.0f} {after:>7.0f} {peak:>7.0f}",
                      flush=True)
                if not result.good:
                    for v in result.variants:
                        for p in v.passes:
                            print(f"    {v.variant}: {p.problems} {[f.problems for f in p.files]}", flush=True)
                if args.process:
                    from hybrid.app.session import StudioSession

                    times.clear()
                    start[0] = time.perf_counter()      # from the request: the child's start-up counts
                    session = StudioSession(root)
                    result, retried = session.print_mix("bench", on_pass=on_pass)
                    times.append(time.perf_counter() - start[0])
                    worst = max(times)
                    print(f"{minutes:>6.1f} m | {worst:>8.1f} {goal:>8.1f} {worst / seconds:>6.3f} | "
                          f"via the print process ({'good' if result.good else 'NOT good'}; passes "
                          f"{', '.join(f'{t:.1f}' for t in times)} s; requests again after xruns: {retried})",
                          flush=True)
        print(f"xruns on the server during the bench: {gear.xruns}")
    finally:
        gear.stop()
        if "sounddevice" in sys.modules:
            sys.modules["sounddevice"]._terminate()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
