"""A print in a process of its own, reporting back through a pipe, cancellable through another.

Why: printing plays and records through a PortAudio stream whose callback is Python.
In the control-room UI's process that callback competes for the GIL with the UI's
rendering (many milliseconds of Python per repaint), and on a busy machine a period
goes by without it: an xrun, a spoilt pass. In a child process the callback only
shares the CPU, not the interpreter. Every front end prints this way (the session's
:func:`hybrid.app.print_job.print_request`): a fresh interpreter, without the session's
MIDI and monitor threads.

``python -m hybrid.app.print_process STUDIO`` reads one length-prefixed pickled
:class:`hybrid.app.print_job.PrintRequest` from its standard input, runs
:func:`hybrid.app.print_job.perform`, and writes pickled frames to its standard output:
``("route", (number, total, RouteResult))`` where the studio has a router,
``("pass", (number, total, planned))``, ``("progress", Progress)``, for a master
``("steps", (song, [walk-through Step]))`` before a song with hand-set units plays (the
child waits for ``go``), then
``("result", SongPrintResult)`` or ``("error", line)``. Frames are length-prefixed;
anything else the child prints goes to its standard error (``STUDIO/.state/print-process.log``).

After the request, the child's standard input carries lines: ``cancel`` (stop the
running pass within a period; the result says what was kept) and ``go`` (the cords of
a paper bay's pass are patched: play it; only with ``wait_for_cords``; or a master song's
hand-set units are set). The child
ignores Ctrl-C: the parent turns it into ``cancel``.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from hybrid.errors import HybridError
from recall.paths import StudioPaths

_HEADER = struct.Struct(">I")
MODULE = "hybrid.app.print_process"
"""This module's name, as ``python -m`` runs it."""


def run_print(root: Path, request, *, on_pass: Callable[..., None], on_progress: Callable[[Any], None],
              on_route: Callable[..., None] | None = None, on_steps: Callable[..., None] | None = None,
              cancel: threading.Event | None = None):
    """Run ``request`` (a PrintRequest) for the studio at ``root`` in a child process; its result
    (hybrid.app.print_job.perform's).

    ``on_route`` runs before a routed pass plays; with ``request.wait_for_cords`` the child
    waits for it to return (an exception from it stops the child and is raised here).
    ``on_steps(song, steps)`` likewise before a master song with hand-set units plays.
    Ctrl-C here cancels the print like ``cancel``.
    """
    package_root = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_root), env.get("PYTHONPATH")]))
    log = StudioPaths(root).state / "print-process.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    label = request.label
    with log.open("ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", MODULE, str(root)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env)
        control = _Control(proc)
        waiting = threading.Event()        # the front end is asking a person (on_route)

        def interrupted(_signum, _frame) -> None:
            control.send("cancel")         # stop the pass within a period, then report what was kept
            if waiting.is_set():
                raise KeyboardInterrupt    # a person at a prompt means it: stop now

        restore = None
        if threading.current_thread() is threading.main_thread():
            restore = signal.signal(signal.SIGINT, interrupted)
        try:
            body = pickle.dumps(request)
            control.write(_HEADER.pack(len(body)) + body)
            if cancel is not None:
                threading.Thread(target=control.cancel_when, args=(cancel,), daemon=True,
                                 name="hybrid-print-cancel").start()
            while True:
                frame = _read_frame(proc.stdout)
                if frame is None:
                    proc.wait()
                    raise HybridError(f"the print process ended without a result (exit code {proc.returncode}; "
                                      f"see {log})", where=label)
                kind, payload = frame
                if kind == "pass":
                    on_pass(*payload)
                elif kind == "progress":
                    on_progress(payload)
                elif kind in ("route", "steps"):   # the child may wait for a person: ask, then "go"
                    handler = on_route if kind == "route" else on_steps
                    if handler is not None:
                        waiting.set()
                        try:
                            handler(*payload)
                        finally:
                            waiting.clear()
                    if kind == "steps" or (request.wait_for_cords and payload[2].steps):
                        control.send("go")
                elif kind == "result":
                    return payload
                elif kind == "error":
                    raise HybridError(payload, where=label)
        finally:
            if restore is not None:
                signal.signal(signal.SIGINT, restore)
            if proc.poll() is None:
                control.send("cancel")     # harmless after the result; stops a child we are leaving
            control.close()
            if proc.poll() is None:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.terminate()
                    proc.wait()
            proc.stdout.close()


class _Control:
    """The parent's end of the child's standard input (lines after the request)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self._proc = proc
        self._lock = threading.RLock()     # a signal handler may write while the main thread does
        self._closed = threading.Event()

    def write(self, data: bytes) -> None:
        with self._lock:
            self._proc.stdin.write(data)
            self._proc.stdin.flush()

    def send(self, line: str) -> None:
        try:
            self.write(line.encode() + b"\n")
        except (BrokenPipeError, ValueError, OSError):
            pass  # the child has finished (or is gone): nothing left to tell it

    def cancel_when(self, cancel: threading.Event) -> None:
        while not self._closed.is_set():
            if cancel.wait(0.02):
                self.send("cancel")
                return

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            try:
                self._proc.stdin.close()
            except OSError:
                pass


def _read_frame(stream: BinaryIO):
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)


def _listen(stdin: BinaryIO, cancel: threading.Event, go: threading.Event) -> None:
    """The child's control lines: ``cancel`` and ``go``; end of input changes nothing."""
    for raw in stdin:
        line = raw.strip()
        if line == b"cancel":
            cancel.set()
            go.set()     # a pass waiting for its cords stops waiting (and is cancelled)
        elif line == b"go":
            go.set()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(f"usage: python -m {MODULE} STUDIO  (a pickled PrintRequest on standard input)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent turns Ctrl-C into "cancel"
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints from libraries go to the log, never into the frames
    sys.stdout = sys.stderr
    stdin = os.fdopen(os.dup(0), "rb")

    def send(kind: str, payload: Any) -> None:
        body = pickle.dumps((kind, payload))
        out.write(_HEADER.pack(len(body)) + body)
        out.flush()

    from hybrid.app.print_job import perform
    from hybrid.errors import LAYER_ERRORS
    from recall.studio import load_studio

    try:
        request = _read_frame(stdin)
        if request is None:
            raise HybridError("no print request on standard input")
        cancel, go = threading.Event(), threading.Event()
        threading.Thread(target=_listen, args=(stdin, cancel, go), daemon=True, name="print-control").start()

        def on_route(number: int, total: int, routed) -> None:
            send("route", (number, total, routed))
            if request.wait_for_cords and routed.steps:
                go.wait()
                go.clear()

        def on_steps(song: str, steps) -> None:
            send("steps", (song, list(steps)))
            go.wait()
            go.clear()
            if cancel.is_set():
                raise HybridError(f"stopped before {song}: its hand-set units were not confirmed",
                                  where=request.label)

        result = perform(load_studio(args[0]), request,
                         on_pass=lambda number, total, planned: send("pass", (number, total, planned)),
                         on_progress=lambda progress: send("progress", progress),
                         on_route=on_route, on_steps=on_steps, cancel=cancel)
    except (*LAYER_ERRORS, OSError) as exc:
        send("error", str(exc))
        return 1
    send("result", result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
