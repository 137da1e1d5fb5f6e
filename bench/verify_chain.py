"""Verify by ear, measured: time per chain and per song, the smallest EQ move caught, false alarms.

Runs a private JACK dummy server (48 kHz, period 256) with the simulated gear: three
insert loops (A: EQ > compressor, B: compressor, C: EQ), each with hiss, a transformer
low cut, a fractional delay; loop A's hiss is raised to -80 dBFS so the measurement has
noise to fight. The gear's sound follows ``SoundUnit`` states (the same DSP the device
simulators drive; MIDI is left out here, the tests cover it).

Prints:
- time to fingerprint the song (2 takes), to verify the whole song, to verify one chain,
  and to find the suspect of a failing chain (the model fit);
- for EQ high-mid gain moves of 0.25, 0.5, 0.75 and 1.0 dB (alternating up and down):
  how many of ``--trials`` verifications failed the chain, and how many named the EQ's
  hmf_gain as the suspect (goal: 0.5 dB always caught);
- false alarms over ``--repeats`` re-verifications of the unchanged chain (goal: none),
  with the largest deviation seen as a share of the tolerance.

    python bench/verify_chain.py [--trials 5] [--repeats 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GEAR = "bench-verify-gear"
SONG = "bench-song"

STUDIO = f'''spec = "hybrid-studio/1"
name = "Bench Room"

[interface]
device = "{GEAR}"
samplerate = 48000
blocksize = 0

[devices.EQ]
profile = "hy-eq-nrpn"

[devices.Comp]
profile = "hy-comp-cc"

[devices."Comp 2"]
profile = "hy-comp-cc"

[devices."EQ 2"]
profile = "hy-eq-nrpn"

[loops.A]
out = 1
in = 1
devices = ["EQ", "Comp"]

[loops.B]
out = 2
in = 2
devices = ["Comp 2"]

[loops.C]
out = 3
in = 3
devices = ["EQ 2"]
'''

SHEET = '''spec = "hybrid-sheet/1"

[song]
title = "Bench Song"
samplerate = 48000

[tracks."1Kick"]
file = "stems/1Kick.wav"
inserts = [{ loop = "A", devices = ["EQ", "Comp"] }]

[tracks."2Snare"]
file = "stems/2Snare.wav"
inserts = [{ loop = "B", devices = ["Comp 2"] }]

[tracks."3Bass"]
file = "stems/3Bass.wav"
inserts = [{ loop = "C", devices = ["EQ 2"] }]

[devices.EQ.values]
lf_gain = 2.0
lmf_gain = -3.0
lmf_q = 1.0
hmf_gain = 4.0
hmf_freq = 2500.0
hmf_q = 1.0
hf_gain = 1.5

[devices.Comp.values]
threshold = -24.0
ratio = "4:1"
attack = 5.0
release = 50.0
output = 2.0

[devices."Comp 2".values]
threshold = -18.0
ratio = "2:1"
attack = 10.0
release = 60.0

[devices."EQ 2".values]
lf_gain = -2.0
hmf_gain = -2.5
hmf_freq = 1200.0
hf_gain = 3.0
'''

HMF_GAIN_DB = 4.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5, help="verifications per EQ move (default 5; 0 skips)")
    parser.add_argument("--repeats", type=int, default=20, help="re-verifications for false alarms (default 20)")
    args = parser.parse_args()

    import jack

    jack.set_error_function(lambda _message: None)
    jack.set_info_function(lambda _message: None)

    from devices.jack_server import JackServer
    from devices.profile import builtin_profiles
    from hybrid.simgear import LoopSpec, SimGear
    from hybrid.models.sound import SoundUnit
    from hybrid.live.verify import fingerprint_song, verify_song

    profiles = builtin_profiles()
    with tempfile.TemporaryDirectory() as tmp, JackServer(name=f"bench-verify-{os.getpid()}") as server:
        os.environ["JACK_DEFAULT_SERVER"] = server.name
        os.environ["JACK_NO_START_SERVER"] = "1"
        studio = Path(tmp) / "studio"
        (studio / "songs" / SONG).mkdir(parents=True)
        (studio / "studio.toml").write_text(STUDIO)
        (studio / "songs" / SONG / "sheet.toml").write_text(SHEET)
        from recall.store import load_sheet
        from recall.studio import load_studio

        sheet = load_sheet(load_studio(studio), SONG)
        units = {}
        for name, pid in (("EQ", "hy-eq-nrpn"), ("Comp", "hy-comp-cc"), ("Comp 2", "hy-comp-cc"),
                          ("EQ 2", "hy-eq-nrpn")):
            units[name] = SoundUnit(profiles[pid], {**profiles[pid].defaults(),
                                                    **profiles[pid].check_values(sheet.values(name))},
                                    seed=len(units) + 3)
        state_eq = {**profiles["hy-eq-nrpn"].defaults(), **profiles["hy-eq-nrpn"].check_values(sheet.values("EQ"))}
        loops = [
            LoopSpec(delay_samples=37.25, gain_db=-0.4, noise_dbfs=-80.0, highpass_hz=12.0, seed=1,
                     processors=units["EQ"].processors + units["Comp"].processors),
            LoopSpec(delay_samples=61.6, polarity=-1, noise_dbfs=-90.0, highpass_hz=12.0, seed=2,
                     processors=units["Comp 2"].processors),
            LoopSpec(delay_samples=100.3, noise_dbfs=-90.0, highpass_hz=12.0, seed=3,
                     processors=units["EQ 2"].processors),
        ]
        import sounddevice as sd

        with SimGear(loops, name=GEAR) as gear:
            sd._terminate()
            sd._initialize()
            try:
                run(studio, units, state_eq, gear, args, fingerprint_song, verify_song)
            finally:
                sd._terminate()
    return 0


def run(studio, units, state_eq, gear, args, fingerprint_song, verify_song) -> None:
    t0 = time.perf_counter()
    fps = fingerprint_song(studio, SONG, takes=2)
    t_fp = time.perf_counter() - t0
    print(f"fingerprint, whole song ({len(fps)} chains, 2 takes): {t_fp:.2f} s")
    for fp in fps:
        print(f"  {fp.key.label:24s} tolerance {fp.tolerance.describe()}")

    song_times, chain_times = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        v = verify_song(studio, SONG)
        song_times.append(time.perf_counter() - t0)
        assert v.ok, [c.comparison.failures for c in v.chains]
        t0 = time.perf_counter()
        v = verify_song(studio, SONG, loops=["A"])
        chain_times.append(time.perf_counter() - t0)
    stimulus_s = fps[0].plan.duration_s
    print(f"verify, whole song (3 chains in one stream): median {statistics.median(song_times):.2f} s "
          f"(stimulus {stimulus_s:.2f} s; {statistics.median(song_times) / stimulus_s:.2f} x its length)")
    print(f"verify, one chain: median {statistics.median(chain_times):.2f} s "
          f"({statistics.median(chain_times) / stimulus_s:.2f} x the stimulus)")

    if args.trials > 0:
        sensitivity(studio, units, state_eq, args, verify_song)
    false_alarms(studio, args, verify_song)
    print(f"gear xruns during the bench: {gear.xruns}")


def sensitivity(studio, units, state_eq, args, verify_song) -> None:
    from hybrid.errors import HybridError

    def set_hmf(gain_db: float) -> None:
        units["EQ"].apply({**state_eq, "hmf_gain": gain_db})

    print(f"EQ high-mid gain moved (chain A, {args.trials} trials each, alternating up/down):")
    print(f"  {'move dB':>8s} {'caught':>8s} {'named hmf_gain':>15s} {'suspect s':>10s} {'worst x tol':>12s}")
    caught_at = None
    try:
        for move in (0.25, 0.5, 0.75, 1.0):
            caught = named = 0
            fits, worst = [], []
            for trial in range(args.trials):
                set_hmf(HMF_GAIN_DB + (move if trial % 2 == 0 else -move))
                try:
                    v = verify_song(studio, SONG, loops=["A"])
                except HybridError as exc:   # too many xruns to trust: refused, counts as not caught
                    print(f"  refused: {exc}")
                    continue
                (chain,) = v.chains
                worst.append(chain.comparison.worst_ratio)
                if not chain.ok:
                    caught += 1
                    fits.append(chain.seconds)
                    s = chain.suspect
                    if s is not None and (s.device, s.parameter) == ("EQ", "hmf_gain"):
                        named += 1
            if caught == args.trials and caught_at is None:
                caught_at = move
            fit_s = f"{statistics.median(fits):.2f}" if fits else "-"
            print(f"  {move:8.2f} {caught:>4d}/{args.trials:<3d} {named:>8d}/{args.trials:<6d} {fit_s:>10s} "
                  f"{min(worst):6.2f}..{max(worst):.2f}")
    finally:
        set_hmf(HMF_GAIN_DB)
    print(f"smallest EQ gain move always caught: {caught_at if caught_at is not None else 'none'} dB (goal 0.5 dB)")


def false_alarms(studio, args, verify_song) -> None:
    from hybrid.errors import HybridError

    alarms = refused = 0
    worst = []
    for _ in range(args.repeats):
        try:
            v = verify_song(studio, SONG, loops=["A"], suspects=False)
        except HybridError as exc:   # too many xruns to trust: refused, not a verdict
            refused += 1
            print(f"  refused: {exc}")
            continue
        (chain,) = v.chains
        worst.append(chain.comparison.worst_ratio)
        alarms += not chain.ok
    judged = len(worst)
    print(f"false alarms: {alarms}/{judged} re-verifications of the unchanged chain with -80 dBFS hiss "
          f"(goal 0; {refused} refused for xruns); worst deviation "
          f"{max(worst, default=0):.2f} x tolerance (median {statistics.median(worst) if worst else 0:.2f})")


if __name__ == "__main__":
    sys.exit(main())
