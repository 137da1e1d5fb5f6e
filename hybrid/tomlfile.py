"""Reading a TOML file for the audio side, with one-line errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hybrid.errors import HybridError

STUDIO_MISSING = "no studio.toml here (is this a studio folder?)"


def read_toml(path: str | Path, *, missing: str | None = "no such file") -> dict:
    """The parsed file; a HybridError naming it when it cannot be read or parsed.

    ``missing`` is the reason given for a file that is not there; ``None`` returns an
    empty table instead (for files that appear only once something was stored).
    """
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        if missing is None:
            return {}
        raise HybridError(missing, where=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise HybridError(f"cannot read: {exc}", where=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise HybridError(f"not valid TOML: {exc}", where=str(path)) from exc
