"""The ``hybrid`` command: subcommands grouped by area.

Each area lives in its own module under ``hybrid.cli`` (``*_cmd``) and exposes
``register(subparsers)``; a command's handler takes the parsed arguments and returns an
exit status. Errors from any layer's exception root become one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from devices.safe_read import display_path
from hybrid import __version__
from hybrid.cli.output import print_error, silence_stdout
from hybrid.errors import LAYER_ERRORS

# Order is the order of --help.
AREAS = (
    "hybrid.cli.demo_cmd",      # demo, tui: the main job
    "hybrid.cli.recall_cmd",    # init, recall ...
    "hybrid.cli.devices_cmd",   # devices ...
    "hybrid.cli.audio_cmd",     # latency ..., print
    "hybrid.cli.surface_cmd",   # surface ..., route ...
    "hybrid.cli.intake_cmd",    # intake
    "hybrid.cli.deliver_cmd",   # loudness, deliver ...
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hybrid",
        description="Recall outboard gear, route inserts and print latency-compensated analog passes.",
    )
    parser.add_argument("--version", action="version", version=f"hybrid {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in AREAS:
        importlib.import_module(name).register(sub)
    return parser


PIPE_CLOSED_STATUS = 141
"""Exit status when the reader of our output went away (``hybrid ... | head``): 128 + SIGPIPE,
as a shell reports a command stopped by a closed pipe; nothing is printed."""


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 file name prints as \xNN, never crashes
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return 2
        try:
            status = int(func(args) or 0)
            sys.stdout.flush()
            return status
        except LAYER_ERRORS as exc:
            print_error(str(exc))
            return 1
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            print_error(os_error_line(exc))
            return 1
        except KeyboardInterrupt:
            print("hybrid: interrupted", file=sys.stderr)
            return 130
    except BrokenPipeError:
        silence_stdout()
        return PIPE_CLOSED_STATUS


def os_error_line(exc: OSError) -> str:
    """A file-system failure (read-only studio, full disk, no permission) as ``<file>: <reason>``."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    where = [display_path(f) for f in (exc.filename, exc.filename2) if f is not None]
    return ": ".join([" -> ".join(where), reason] if where else [reason])
