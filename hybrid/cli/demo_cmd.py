"""``hybrid demo`` and ``hybrid tui``: the main job, with simulated gear or on a real studio.

``hybrid demo`` builds the demo studio (a temp folder unless ``--studio``), starts the
demo rig (private JACK server, gear simulators, simulated analog chains) and opens the
control-room UI on it; ``--no-tui`` runs the main job headless instead and prints its
report. ``hybrid tui --studio DIR`` opens the UI on any studio folder.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from hybrid.cli.output import add_json_flag, emit
from hybrid.errors import HybridError

TEXTUAL_HINT = "the control-room UI needs textual (pip install textual), or run `hybrid demo --no-tui`"


def register(sub) -> None:
    """Add ``demo`` and ``tui`` to the ``hybrid`` command."""
    demo = sub.add_parser(
        "demo", help="run the demo studio: simulated gear, an EP of three songs, the control-room UI",
        description="Start a private JACK server, simulators for the built-in gear and simulated analog "
                    "chains, build a demo studio and open the control-room UI on it. Quitting stops "
                    "everything. With --no-tui, run the main job headless (recall, verify, measure the "
                    "loops, print one song's stems), then print every song's mix (full and instrumental) "
                    "through the summing mixer, master the EP and build its DDP and approval set, and "
                    "print the report.")
    demo.add_argument("--no-tui", action="store_true", help="run the main job headless and report")
    demo.add_argument("--studio", type=Path, metavar="DIR",
                      help="build (or reuse) the demo studio here instead of a temp folder")
    demo.add_argument("--keep", action="store_true",
                      help="keep the temp studio folder at exit (it is always kept with --studio)")
    demo.add_argument("--jack", metavar="NAME",
                      help="use this running JACK server instead of starting a private one "
                           "(its period and rate are used; it is left running)")
    demo.add_argument("--real-time", action="store_true",
                      help="print at the simulated room's clock, as a real room would (default: "
                           "offline, as fast as the machine computes the simulated gear)")
    demo.add_argument("--song", default=None, metavar="SONG",
                      help="with --no-tui: the song of the main job (default: the EP's first)")
    demo.add_argument("--song-only", action="store_true",
                      help="with --no-tui: only the song's main job (no mixes, masters or DDP)")
    add_json_flag(demo)
    demo.set_defaults(func=run_demo)

    tui = sub.add_parser("tui", help="open the control-room UI on a studio folder",
                         description="The control-room UI: songs, sheets, recall, devices, loops, print.")
    tui.add_argument("--studio", type=Path, metavar="DIR", required=True, help="the studio folder")
    tui.set_defaults(func=run_tui)


TUI_ENTRY_POINT = "tui.app:run"
"""The one way down-layer code reaches the TUI (the top layer): ``module:function``, loaded by
name at run time. tests/test_layering.py allows exactly this upward edge, by this name."""


def _load_tui():
    """The TUI's ``run(studio_dir, *, rig_label=None, hands=None) -> int``, loaded at run time.

    The CLI is the application's entry point and the TUI is an optional top layer:
    hybrid/ must not import tui/ or textual statically (imports point down), so the
    command that opens it loads :data:`TUI_ENTRY_POINT` here.
    """
    module, _, function = TUI_ENTRY_POINT.partition(":")
    try:
        return getattr(importlib.import_module(module), function)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "textual":
            raise HybridError(TEXTUAL_HINT, where="hybrid tui") from exc
        raise


def run_tui(args: argparse.Namespace) -> int:
    return _load_tui()(args.studio)


def run_demo(args: argparse.Namespace) -> int:
    from hybrid.app.demo.rig import DemoRig
    from hybrid.app.demo.studio import build_demo_studio

    run_tui_app = None if args.no_tui else _load_tui()
    _exit_on_hangup()
    temp_dir = None
    if args.studio is None:
        temp_dir = Path(tempfile.mkdtemp(prefix="hybrid-demo-"))
        studio_dir = temp_dir / "Demo Room"
    else:
        studio_dir = args.studio
    try:
        build_demo_studio(studio_dir, mix_and_master=True)
        with DemoRig(Path(studio_dir), jack_name=args.jack, offline=not args.real_time) as rig:
            if args.no_tui:
                return _headless(args, studio_dir, rig)
            return run_tui_app(studio_dir, rig_label=rig.label(), hands=rig)
    finally:
        if temp_dir is not None:
            if args.keep:
                print(f"demo studio kept in {studio_dir}", file=sys.stderr)
            else:
                shutil.rmtree(temp_dir, ignore_errors=True)


def _headless(args: argparse.Namespace, studio_dir: Path, rig) -> int:
    from hybrid.app.demo.studio import SONGS
    from hybrid.app.session import StudioSession

    session = StudioSession(studio_dir)
    session.hands = rig  # the demo's stand-in for the person at the rack turns hand-set knobs
    song = args.song or SONGS[0].slug

    def say(line: str) -> None:
        if not args.json:
            print(line, flush=True)

    say(f"demo studio: {session.root} ({rig.label()})")
    t0 = time.perf_counter()
    report = session.run_main_job(song, on_event=say)
    if not args.song_only:
        from hybrid.app.album_job import run_album_job
        from hybrid.app.demo.studio import ALBUM_SLUG

        run_album_job(session, report, ALBUM_SLUG, [s.slug for s in SONGS], on_event=say)
        report.wall_time_s = time.perf_counter() - t0
    say("")
    # the details were printed as the job ran: end with the summary
    emit(report.to_dict(), args.json, lambda _data: report.text(details=False))
    return 0 if report.ok else 1


def _exit_on_hangup() -> None:
    """A closed terminal (SIGHUP) or a kill (SIGTERM) unwinds like quitting, so the rig's
    teardown runs and no JACK server or simulator is left behind."""
    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
