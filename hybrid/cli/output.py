"""Shared output helpers for commands: one JSON object with --json, readable text otherwise."""

from __future__ import annotations

import json
import sys
from typing import Any
from collections.abc import Callable


def add_json_flag(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


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
