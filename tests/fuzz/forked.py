"""``python -m hybrid ARGS`` run in a child forked from the test process.

The child runs the same module the same way as the command (``runpy`` as ``__main__``,
SystemExit for the status, an escaping exception printed as a traceback with status 1),
without paying interpreter start-up and imports for each of a few hundred cases. It can
also run with a file-size limit (writes fail part-way, as on a full disk) or with stdout a
pipe whose reader is gone (``| head``).
"""

from __future__ import annotations

import os
import resource
import runpy
import signal
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

WARM_MODULES = ("hybrid.cli.main", "hybrid.files.deliver.master", "hybrid.files.loudness.files",
                "hybrid.files.intake", "hybrid.live.audio.latency_store", "recall.walkthrough",
                "recall.diff", "recall.export")
"""Imported once in the test process, so each forked child does not import them again
(the code run is the same; only the start-up cost is shared)."""


def warm_up() -> None:
    import importlib

    for name in WARM_MODULES:
        importlib.import_module(name)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def run_forked(args: list[str], where: Path, *, timeout_s: int = 60, max_file_bytes: int | None = None, stdout_closed: bool = False) -> Run:
    warm_up()
    out_path, err_path = Path(where) / "run.stdout", Path(where) / "run.stderr"
    write_end = -1
    if stdout_closed:  # a pipe with no reader left: every write to it fails (EPIPE)
        read_end, write_end = os.pipe()
        os.close(read_end)
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            if stdout_closed:
                out_fd = write_end
            else:
                out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
            sys.stderr = open(2, "w", encoding="utf-8", closefd=False, errors="backslashreplace")
            if max_file_bytes is not None:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails (EFBIG)
                resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
            sys.argv = ["hybrid", *args]
            signal.alarm(timeout_s)
            try:
                runpy.run_module("hybrid", run_name="__main__", alter_sys=True)
                status = 0
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
                status = 1
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                print("test harness: stdout flush failed after the command returned", file=sys.stderr)
            sys.stderr.flush()
        finally:
            os._exit(status)
    if stdout_closed:
        os.close(write_end)
    _, wait_status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(wait_status)
    out = "" if stdout_closed else out_path.read_text(encoding="utf-8", errors="replace")
    return Run(code, out, err_path.read_text(encoding="utf-8", errors="replace"))
