"""Key press to repaint while a mix pass runs with its L/R meters (issue 16: the UI never freezes).

A bench studio whose summing mixer is simulated (hybrid.simgear, its own JACK client on
a private dummy server, period 1024) and one song of four 20-second stems on four summing
inputs. While the Mix view prints the variants, the bench switches views with the
keyboard (1 = Songs, 7 = Mix: a full-screen repaint each) and times each key press to
the next paint. The reference, in the same run, is the same presses with nothing
printing.

    python bench/tui_mix_meters.py [--presses 20] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.tui_meters import TimedApp, presses  # noqa: E402
from devices.jack_server import JackServer  # noqa: E402
from hybrid.app.session import StudioSession  # noqa: E402
from hybrid.live.audio.wavio import WavWriter  # noqa: E402
from tests.audio_print.test_stereo_mix import SHEET as STEREO_MIX_SHEET  # noqa: E402
from tui.views.mix import MixView  # noqa: E402
from tui.widgets.meter import MeterBank  # noqa: E402

GEAR = "hy-bench-mix"
RATE = 48000
STUDIO = f"""spec = "hybrid-studio/1"
name = "Mix bench"
[interface]
device = "{GEAR}"
samplerate = {RATE}
[summing]
outs = [1, 2, 3, 4]
ins = [5, 6]
[router]
device = "manual"
"""
SHEET = STEREO_MIX_SHEET.format(inserts="")  # the summing tests' song: four stems, full and instrumental


def build(root: Path, seconds: float) -> Path:
    import numpy as np

    stems = root / "songs" / "bench-mix" / "stems"
    stems.mkdir(parents=True)
    (root / "studio.toml").write_text(STUDIO)
    rng = np.random.default_rng(7)
    for k, name in enumerate(["1Kick", "2Snare", "3Bass", "5Vox"]):
        x = (0.1 * rng.standard_normal((int(seconds * RATE), 1))).astype(np.float32)
        with WavWriter(stems / f"{name}.wav", RATE, 1, "pcm24") as w:
            w.write(x * (0.5 + 0.1 * k))
    (root / "songs" / "bench-mix" / "sheet.toml").write_text(SHEET)
    return root


async def run(root: Path, count: int) -> dict:
    app = TimedApp(root, session=StudioSession(root), clock=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        app.open_song("bench-mix", view="mix")
        await pilot.pause()
        idle = await presses(app, pilot, count, keys=("1", "7"))
        view = app.query_one(MixView)
        meters = app.query_one(MeterBank)
        await pilot.press("7")
        await pilot.pause()
        view.action_print_mix()
        while meters.repaints == 0 and view.busy:   # the bus is metering
            await asyncio.sleep(0.01)
        repaints0, t_start = meters.repaints, time.perf_counter()
        busy = await presses(app, pilot, count, keys=("1", "7"))
        still = bool(view.busy)
        rate = (meters.repaints - repaints0) / (time.perf_counter() - t_start)
        while view.busy:
            await asyncio.sleep(0.05)
        await pilot.pause()
        good = {row.variant: row.good for row in view.rows.values()}
        return {"idle": idle, "busy": busy, "rate": rate, "still_printing": still, "good": good,
                "notes": [row.note for row in view.rows.values() if row.note]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    from hybrid.models.stereo import SummingMixer
    from hybrid.simgear import SimGear
    from hybrid.simgear.loop import SummingSpec

    with tempfile.TemporaryDirectory() as tmp, JackServer(name=f"hybrid-bench-mix-{os.getpid()}",
                                                          period_frames=1024) as server:
        os.environ.update(server.environ())
        root = build(Path(tmp) / "bench", args.seconds)
        mixer = SummingMixer(4, pans=[-0.5, 0.5, 0.0, 0.3], trims_db=[0.0, -3.0, 0.0, -1.5], crosstalk_db=-80.0,
                             noise_dbfs=-110.0, delay_samples=(30.1, 30.6), seed=5)
        with SimGear([SummingSpec(mixer=mixer, sends=(1, 2, 3, 4), returns=(5, 6))], name=GEAR,
                     servername=server.name):
            import sounddevice as sd

            sd._terminate()
            sd._initialize()
            result = asyncio.run(run(root, args.presses))
            sd._terminate()

    def ms(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000

    idle, busy = result["idle"], result["busy"]
    print(f"key press -> repaint, headless 160x50, {len(busy)} presses (view switches)")
    print(f"  idle (reference)   p50 {ms(idle, 50):6.1f} ms   p99 {ms(idle, 99):6.1f} ms")
    print(f"  mix pass running   p50 {ms(busy, 50):6.1f} ms   p99 {ms(busy, 99):6.1f} ms   "
          f"(still printing at the end: {result['still_printing']})")
    print(f"  ratio printing / idle: p50 {ms(busy, 50) / ms(idle, 50):.2f}x, p99 {ms(busy, 99) / ms(idle, 99):.2f}x")
    print(f"  L/R meter repaints while printing: {result['rate']:.1f} per second")
    print(f"  variants good: {result['good']}" + (f" ({'; '.join(result['notes'])[:200]})" if result['notes'] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
