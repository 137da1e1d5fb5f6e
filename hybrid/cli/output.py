"""Shared output helpers for commands: one JSON object with --json, readable text otherwise."""

from __future__ import annotations

import json
import os
import sys
from typing import Any
from collections.abc import Callable


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def add_studio_flag(parser) -> None:
    """``--studio DIR``: the studio folder, default ``$HYBRID_STUDIO``, else the current folder."""
    parser.add_argument("--studio", default=os.environ.get("HYBRID_STUDIO", "."),
                        help="studio folder (default: $HYBRID_STUDIO or the current folder)")


def emit(result: Any, as_json: bool, text: Callable[[Any], str] | str | None = None) -> None:
    """Print ``result`` as JSON, or as ``text(result)`` (or ``text``) for people."""
    if as_json:
        json.dump(result, sys.stdout, indent=2, default=_default)
        sys.stdout.write("\n")
        return
    if text is None:
        out = json.dumps(result, indent=2, default=_default)
    elif callable(text):
        out = text(result)
    else:
        out = text
    if out:
        print(out)


def _default(obj: Any) -> Any:
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if hasattr(obj, "__fspath__"):
        return str(obj)
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


MAX_ERROR_CHARS = 600
"""An error line longer than this is cut: one readable line, never a page of tool output."""


def print_error(reason: str) -> None:
    """``hybrid: error: <reason>`` on stderr as exactly one line (line breaks folded, long
    text cut); a closed stdout on the way out is not an error."""
    text = " ".join(reason.split())
    if len(text) > MAX_ERROR_CHARS:
        text = text[:MAX_ERROR_CHARS - 3] + "..."
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    print(f"hybrid: error: {text}", file=sys.stderr)


def silence_stdout() -> None:
    """The reader of stdout went away (``| head``): point stdout at /dev/null so no later
    write or the exit flush complains."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
