"""Control-room UI start-up: time to first paint and to the song list, with a studio of 5000 songs and 50 albums.

The reference, measured in the same run, is the 3-song demo studio: the figure that
matters is how much 500 songs cost on top. Runs the app headless (Textual's test
harness, a 120x40 screen) and timestamps every paint; prints the figures.

    python bench/tui_startup.py [--songs 5000] [--albums 50] [--runs 3]

The goal (issue 16): first paint within 1 s with 5,000 songs and 50 albums.

The first run on a studio reads every sheet (cold: no song index yet); later runs list from
``.state/song-index.json`` (recall.song_index) while the sheets are unchanged (warm). Both
are printed; "warm" is the median of the runs after the first.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from recall import store  # noqa: E402
from recall.sheet import Sheet  # noqa: E402
from hybrid.app.demo.studio import SONGS, build_demo_studio  # noqa: E402
from hybrid.app.session import StudioSession  # noqa: E402
from tui.app import HybridApp  # noqa: E402

ALBUMS = ("Night Shift EP", "Glass LP", "Paper Singles", "Live at the Mill", "Remixes")


class TimedApp(HybridApp):
    """The app with a timestamp on every paint."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.paints: list[float] = []

    def _display(self, screen, renderable) -> None:
        if renderable is not None:
            self.paints.append(time.perf_counter())
        super()._display(screen, renderable)


def build_big_studio(root: Path, songs: int, albums: int = 0) -> Path:
    """The demo studio plus ``songs`` - 3 more sheets (copies of the demo's, retitled) and
    ``albums`` album.toml files of 12 tracks each over those songs."""
    build_demo_studio(root)
    source = store.load_sheet(root, SONGS[0].slug).dumps()
    slugs = []
    for n in range(songs - len(SONGS)):
        sheet = Sheet.parse(source)
        sheet.set_song(title=f"Song {n:04d}", album=ALBUMS[n % len(ALBUMS)])
        folder = root / "songs" / f"song-{n:04d}"
        folder.mkdir(parents=True)
        (folder / "sheet.toml").write_text(sheet.dumps())
        slugs.append(folder.name)
    for a in range(albums):
        folder = root / "albums" / f"album-{a:02d}"
        folder.mkdir(parents=True)
        tracks = "".join(f'\n[[tracks]]\nsong = "{slugs[(a * 12 + t) % len(slugs)]}"\n' for t in range(12))
        (folder / "album.toml").write_text(f'title = "Album {a:02d}"\nperformer = "The Examples"\n{tracks}')
    return root


async def measure(root: Path) -> tuple[float, float, int]:
    """(seconds to first paint, seconds until the song table is filled and painted, rows)."""
    t0 = time.perf_counter()
    app = TimedApp(root, session=StudioSession(root), clock=False)
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one("#songs-table")
        while table.row_count == 0:
            await pilot.pause(0.005)
        filled = time.perf_counter()
        await pilot.pause()
        first = app.paints[0] - t0
        shown = next((p for p in app.paints if p >= filled), app.paints[-1]) - t0
        return first, shown, table.row_count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", type=int, default=5000)
    parser.add_argument("--albums", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = build_demo_studio(Path(tmp) / "small")
        big = build_big_studio(Path(tmp) / "big", args.songs, args.albums)
        results = {}
        runs_n = max(2, args.runs)
        for label, root in (("3 songs (reference)", small), (f"{args.songs} songs, {args.albums} albums", big)):
            runs = [asyncio.run(measure(root)) for _ in range(runs_n)]
            warm = runs[1:]
            results[label] = (runs[0][0], runs[0][1], statistics.median(r[0] for r in warm),
                              statistics.median(r[1] for r in warm), runs[0][2])
    print(f"tui start-up, headless 120x40: cold (first run, no song index) and warm (median of {runs_n - 1})")
    for label, (first, shown, wfirst, wshown, rows) in results.items():
        print(f"  {label:28s} cold: first paint {first * 1000:6.0f} ms, song list {shown * 1000:7.0f} ms   "
              f"warm: first paint {wfirst * 1000:6.0f} ms, song list {wshown * 1000:7.0f} ms   ({rows} rows)")
    ref, big_ = results.values()
    print(f"  ratio big / reference: cold first paint {big_[0] / ref[0]:.2f}x, song list {big_[1] / ref[1]:.2f}x; "
          f"warm first paint {big_[2] / ref[2]:.2f}x, song list {big_[3] / ref[3]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
