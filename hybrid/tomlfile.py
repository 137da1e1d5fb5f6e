"""Reading a TOML file for the audio side (latency.toml, the simulated gear's config), with one-line
errors that name the file. studio.toml is recall's to read (recall.studio)."""

from __future__ import annotations

import os
from pathlib import Path

from devices import safe_read
from hybrid.errors import HybridError


def read_toml(path: str | Path, *, missing: str | None = "no such file") -> dict:
    """The parsed file (through devices.safe_read: size, UTF-8, depth and number checks);
    a HybridError naming the file (and key) when it cannot be read or parsed.

    ``missing`` is the reason given for a file that is not there; ``None`` returns an
    empty table instead (for files that appear only once something was stored).
    """
    path = Path(path)
    if not os.path.lexists(path):
        if missing is None:
            return {}
        raise HybridError(missing, where=safe_read.display_path(path))
    return refused_as_hybrid(safe_read.read_toml, path)


def refused_as_hybrid(read, *args, **kwargs):
    """``read(*args, **kwargs)`` with a safe_read refusal turned into a HybridError (file: key)."""
    try:
        return read(*args, **kwargs)
    except safe_read.FileRefused as exc:
        where = ": ".join(p for p in (exc.file, exc.key) if p)
        raise HybridError(exc.reason, where=where) from None


def regular_file(path: str | Path) -> Path:
    """``path`` once it is known to be a regular file (devices.safe_read.regular_file): an
    audio file handed to soundfile by name is never a FIFO (which would hang), a device
    (``/dev/zero`` never ends) or a directory; a HybridError naming it otherwise."""
    return refused_as_hybrid(safe_read.regular_file, path)
