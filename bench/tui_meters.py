"""Key press to repaint while a print runs with 16 meters (the UI must never freeze).

A bench studio with 16 insert loops on the demo's simulated gear (its own JACK dummy
server, period 1024) and one song of 16 stems, each through its own loop: one pass,
16 channels metered. While it prints, the bench switches views with the keyboard
(1 = Songs, 6 = Print: a full-screen repaint each) and times each key press to the
next paint. The reference, in the same run, is the same key presses with nothing
printing. Also prints how often the meters repainted.

    python bench/tui_meters.py [--presses 40]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tomlkit  # noqa: E402

from hybrid.app.demo.rig import DemoRig  # noqa: E402
from hybrid.app.demo.stems import Arrangement, write_stems  # noqa: E402
from hybrid.app.session import StudioSession  # noqa: E402
from recall.sheet import Insert, Sheet  # noqa: E402
from recall.atomic import atomic_write_text  # noqa: E402
from tui.app import HybridApp  # noqa: E402
from tui.views.printing import PrintView  # noqa: E402
from tui.widgets.meter import MeterBank  # noqa: E402

CHANNELS = 16
INSTRUMENTS = ("Kick", "Snare", "Bass", "Keys", "Vox")


class TimedApp(HybridApp):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.paints: list[float] = []

    def _display(self, screen, renderable) -> None:
        if renderable is not None:
            self.paints.append(time.perf_counter())
        super()._display(screen, renderable)


def build_bench_studio(root: Path) -> Path:
    root.mkdir(parents=True)
    doc = tomlkit.document()
    doc["spec"] = "hybrid-studio/1"
    doc["name"] = "Meter Bench"
    doc["interface"] = {"device": "hybrid-gear-bench", "samplerate": 48000, "blocksize": 0}
    loops = tomlkit.table(is_super_table=True)
    for k in range(1, CHANNELS + 1):
        loops[f"L{k:02d}"] = {"out": k, "in": k, "devices": []}
    doc["loops"] = loops
    atomic_write_text(root / "studio.toml", tomlkit.dumps(doc))
    song = root / "songs" / "sixteen"
    arrangement = Arrangement(tempo_bpm=120, chords=(("A", "min"), ("F", "maj"), ("C", "maj"), ("G", "maj")),
                              melody=(12, None, 15, 17) * 8, bars=5, seed=3)
    rendered = write_stems(song / "stems", arrangement, 48000, ("A", 3))
    tracks = {}
    for k in range(1, CHANNELS + 1):
        source = rendered[(k - 1) % len(rendered)]
        name = f"{k}{INSTRUMENTS[(k - 1) % len(INSTRUMENTS)]}"
        target = song / "stems" / f"{name}.wav"
        if not target.exists():
            target.write_bytes(source.read_bytes())
        tracks[name] = f"stems/{name}.wav"
    for path in rendered:
        if path.name[:-4] not in tracks:
            path.unlink()
    sheet = Sheet.new("Sixteen", artist="Bench", album="Bench", samplerate=48000, tracks=tracks)
    for k, name in enumerate(tracks, start=1):
        sheet.set_inserts(name, [Insert(loop=f"L{k:02d}", devices=[])])
    atomic_write_text(song / "sheet.toml", sheet.dumps())
    return root


async def presses(app: TimedApp, pilot, count: int, keys: tuple[str, str] = ("1", "6")) -> list[float]:
    """Seconds from each key press to the next paint (alternating between two views' keys)."""
    out = []
    for i in range(count):
        key = keys[i % 2]
        t0 = time.perf_counter()
        await pilot.press(key)
        while not app.paints or app.paints[-1] < t0:
            await asyncio.sleep(0.001)
        out.append(next(p for p in app.paints if p >= t0) - t0)
        await asyncio.sleep(0.05)
    return out


async def run(root: Path, count: int) -> dict:
    app = TimedApp(root, session=StudioSession(root), clock=False)
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        app.open_song("sixteen", view="print")
        await pilot.pause()
        idle = await presses(app, pilot, count)
        view = app.query_one(PrintView)
        meters = app.query_one(MeterBank)
        await pilot.press("6")
        await pilot.pause()
        view.action_print()
        while view.latest is None:  # the stream is running and reporting
            await asyncio.sleep(0.01)
        repaints0, t_start = meters.repaints, time.perf_counter()
        busy = await presses(app, pilot, count)
        still_printing = view.printing
        rate = (meters.repaints - repaints0) / (time.perf_counter() - t_start)
        await app.workers.wait_for_complete()
        await pilot.pause()
        report = view.report
        reasons = sorted({f.reason for f in report.files if not f.good}) if report else app.errors
        return {"idle": idle, "busy": busy, "meters": len(meters.channels), "rate": rate,
                "still_printing": still_printing,
                "good": None if report is None else report.good,
                "files": 0 if report is None else len(report.files), "reasons": reasons}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = build_bench_studio(Path(tmp) / "bench")
        with DemoRig(root) as rig:
            print(rig.label())
            result = asyncio.run(run(root, args.presses))

    def ms(values, q):
        """The q-th percentile in ms (nearest rank: never beyond the largest sample)."""
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000

    idle, busy = result["idle"], result["busy"]
    print(f"key press -> repaint, headless 160x50, {len(busy)} presses (view switches)")
    print(f"  idle (reference)      p50 {ms(idle, 50):6.1f} ms   p99 {ms(idle, 99):6.1f} ms   max {max(idle) * 1000:6.1f} ms")
    print(f"  printing, {result['meters']} meters  p50 {ms(busy, 50):6.1f} ms   p99 {ms(busy, 99):6.1f} ms   "
          f"max {max(busy) * 1000:6.1f} ms   (still printing at the end: {result['still_printing']})")
    print(f"  ratio printing / idle: p50 {ms(busy, 50) / ms(idle, 50):.2f}x, p99 {ms(busy, 99) / ms(idle, 99):.2f}x")
    print(f"  meter repaints while printing: {result['rate']:.1f} per second (coalesced; 15 Hz timer)")
    print(f"  print: {result['files']} files, good: {result['good']}"
          + (f" ({'; '.join(result['reasons'])[:200]})" if result["reasons"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
