"""Key press to repaint while a mix pass runs with its L/R meters (issue 16: the UI never freezes).

A bench studio whose summing mixer is simulated (hybrid.simgear, its own JACK client on
a private dummy server, period 1024) and one song of four 20-second stems on four summing
inputs. While the Mix view prints the variants, the bench switches views with the
keyboard (1 = Songs, 7 = Mix: a full-screen repaint each) and times each key press to
the next paint. The reference, in the same run, is the same presses with nothing
printing. The simulated gear runs as its own process (tests/tui/gear_process), as in the
demo and the tests: in the UI's process its JACK callback waits for the GIL and xruns.

Meter repaints are counted twice: timer ticks that found new levels (MeterBank.repaints)
and real renders of the Mix view's bank (its ``render`` calls), over 2 s with the Mix view
on screen and no keys, and over the key presses. A hidden view's bank is not rendered
(Textual skips it), so while switching it renders about half as often as it ticks. (The
previous version counted 0 because ``query_one(MeterBank)`` found the Print view's bank,
and it timed its presses before the pass's first levels.)

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
from hybrid.live.audio.portaudio import release  # noqa: E402
from hybrid.live.audio.wavio import WavWriter  # noqa: E402
from tests.audio_print.test_stereo_mix import SHEET as STEREO_MIX_SHEET  # noqa: E402
from tests.tui.gear_process import gear_process  # noqa: E402
from tests.tui.test_mix_view import GEAR_CONFIG  # noqa: E402
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


class CountedMeters:
    """Counts the Mix view's L/R meter bank's real repaints: calls of its ``render`` (Textual calls it when
    the widget is on screen and was refreshed; a hidden widget is not rendered)."""

    def __init__(self) -> None:
        self.renders = 0
        self._render = MeterBank.render

    def __enter__(self) -> CountedMeters:
        original = self._render

        def counted(widget: MeterBank):
            if widget.id == "mix-meters":
                self.renders += 1
            return original(widget)

        MeterBank.render = counted
        return self

    def __exit__(self, *_exc) -> None:
        MeterBank.render = self._render


async def run(root: Path, count: int, renders: CountedMeters) -> dict:
    app = TimedApp(root, session=StudioSession(root), clock=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        app.open_song("bench-mix", view="mix")
        await pilot.pause()
        idle = await presses(app, pilot, count, keys=("1", "7"))
        view = app.query_one(MixView)
        meters = app.query_one("#mix-meters", MeterBank)   # not query_one(MeterBank): the Print view has one too
        await pilot.press("7")
        await pilot.pause()
        ticks0 = meters.repaints   # already 1 or more: set_channels marks the bank for a paint at mount
        view.action_print_mix()
        # the pass has begun once new levels are painted: before, the print process measures
        # the loops' latency (no meters). The last version timed its presses in that stretch and
        # so counted no repaints at all.
        while meters.repaints == ticks0 and view.busy:
            await asyncio.sleep(0.01)
        # the meters alone, the Mix view on screen: the reference for the repaint rate
        ticks0, renders0, t0 = meters.repaints, renders.renders, time.perf_counter()
        await asyncio.sleep(2.0)
        t1 = time.perf_counter()
        visible = {"ticks": (meters.repaints - ticks0) / (t1 - t0), "renders": (renders.renders - renders0) / (t1 - t0)}
        # key presses switching Songs <-> Mix while the pass runs
        ticks0, renders0, t0 = meters.repaints, renders.renders, time.perf_counter()
        busy = await presses(app, pilot, count, keys=("1", "7"))
        t1 = time.perf_counter()
        switching = {"ticks": (meters.repaints - ticks0) / (t1 - t0), "renders": (renders.renders - renders0) / (t1 - t0)}
        still = bool(view.busy)
        while view.busy:
            await asyncio.sleep(0.05)
        await pilot.pause()
        good = {row.variant: row.good for row in view.rows.values()}
        return {"idle": idle, "busy": busy, "visible": visible, "switching": switching, "still_printing": still,
                "good": good, "notes": [row.note for row in view.rows.values() if row.note]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, JackServer(name=f"hybrid-bench-mix-{os.getpid()}",
                                                          period_frames=1024) as server:
        os.environ.update(server.environ())
        root = build(Path(tmp) / "bench", args.seconds)
        config = Path(tmp) / "gear.toml"
        config.write_text(GEAR_CONFIG.format(gear=GEAR, server=server.name))
        with gear_process(config), CountedMeters() as renders:   # the gear as its own process, as in the demo
            result = asyncio.run(run(root, args.presses, renders))
        release()

    def ms(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000

    idle, busy = result["idle"], result["busy"]
    print(f"key press -> repaint, headless 160x50, {len(busy)} presses (view switches)")
    print(f"  idle (reference)   p50 {ms(idle, 50):6.1f} ms   p99 {ms(idle, 99):6.1f} ms")
    print(f"  mix pass running   p50 {ms(busy, 50):6.1f} ms   p99 {ms(busy, 99):6.1f} ms   "
          f"(still printing at the end: {result['still_printing']})")
    print(f"  ratio printing / idle: p50 {ms(busy, 50) / ms(idle, 50):.2f}x, p99 {ms(busy, 99) / ms(idle, 99):.2f}x")
    for label, key in (("Mix view on screen, no keys", "visible"), ("switching Songs <-> Mix   ", "switching")):
        rates = result[key]
        print(f"  L/R meters, {label}: {rates['renders']:5.1f} repaints/s "
              f"({rates['ticks']:5.1f} timer ticks with new levels/s)")
    print("  (a hidden view's meters are not repainted: switching shows them about half the time)")
    print(f"  variants good: {result['good']}" + (f" ({'; '.join(result['notes'])[:200]})" if result['notes'] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
