"""The ``hybrid`` command: subcommands grouped by area.

Each area lives in its own module under ``hybrid.cli`` (``*_cmd``) and exposes
``register(subparsers)``; a command's handler takes the parsed arguments and returns an
exit status. Errors from any layer's exception root become one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from hybrid import __version__
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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except LAYER_ERRORS as exc:
        print(f"hybrid: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hybrid: interrupted", file=sys.stderr)
        return 130
