"""A song's print in a process of its own, reporting back through a pipe.

Why: printing plays and records through a PortAudio stream whose callback is Python.
In the control-room UI's process that callback competes for the GIL with the UI's
rendering (many milliseconds of Python per repaint), and on a busy machine a period
goes by without it: an xrun, a spoilt pass. In a child process the callback only
shares the CPU, not the interpreter. The headless main job prints this way too: a
fresh interpreter, without the session's MIDI and monitor threads.

``python -m hybrid.app.print_process STUDIO SONG`` loads the studio and the sheet itself,
runs :func:`hybrid.live.audio.song.print_song`, and writes pickled frames to its standard
output: ``("route", (number, total, RouteResult))`` where the studio has a router,
``("pass", (number, total, planned))``, ``("progress", Progress)``, then
``("result", SongPrintResult)`` or ``("error", line)``. Frames are length-prefixed;
anything else the child prints goes to its standard error.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, BinaryIO
from collections.abc import Callable

from hybrid.errors import HybridError
from recall.paths import StudioPaths

_HEADER = struct.Struct(">I")


def run_print(root: Path, slug: str, *, on_pass: Callable[..., None], on_progress: Callable[[Any], None],
              on_route: Callable[..., None] | None = None):
    """Print ``slug`` of the studio at ``root`` in a child process; returns its SongPrintResult."""
    package_root = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_root), env.get("PYTHONPATH")]))
    log = StudioPaths(root).state / "print-process.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", "hybrid.app.print_process", str(root), slug],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=env)
        try:
            while True:
                frame = _read_frame(proc.stdout)
                if frame is None:
                    proc.wait()
                    raise HybridError(f"the print process ended without a result (exit code {proc.returncode}; "
                                      f"see {log})", where=f"song {slug}")
                kind, payload = frame
                if kind == "pass":
                    on_pass(*payload)
                elif kind == "progress":
                    on_progress(payload)
                elif kind == "route":
                    if on_route is not None:
                        on_route(*payload)
                elif kind == "result":
                    return payload
                elif kind == "error":
                    raise HybridError(payload, where=f"song {slug}")
        finally:
            if proc.poll() is None:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.terminate()
                    proc.wait()
            proc.stdout.close()


def _read_frame(stream: BinaryIO):
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m hybrid.app.print_process STUDIO SONG", file=sys.stderr)
        return 2
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints from libraries go to the log, never into the frames
    sys.stdout = sys.stderr

    def send(kind: str, payload: Any) -> None:
        body = pickle.dumps((kind, payload))
        out.write(_HEADER.pack(len(body)) + body)
        out.flush()

    from hybrid.errors import LAYER_ERRORS
    from hybrid.live.audio.song import interface_of, print_song
    from recall import store
    from recall.studio import load_studio

    root, slug = args
    try:
        studio = load_studio(root)
        sheet = store.load_sheet(studio, slug)
        result = print_song(studio, sheet, store.song_dir(studio, slug), slug, interface_of(studio),
                            on_pass=lambda number, total, planned: send("pass", (number, total, planned)),
                            on_progress=lambda progress: send("progress", progress),
                            on_route=lambda number, total, routed: send("route", (number, total, routed)))
    except (*LAYER_ERRORS, OSError) as exc:
        send("error", str(exc))
        return 1
    send("result", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
