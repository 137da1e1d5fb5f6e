"""The one exception root of the recall layer."""

from __future__ import annotations


class RecallError(Exception):
    """A broken studio or sheet file, an unknown device or parameter, a failed recall.

    ``file`` and ``key`` (a dotted key path such as ``devices."1176 #2".ratio``) say
    where; ``str()`` gives one line fit for a CLI.
    """

    def __init__(self, reason: str, *, file: str | None = None, key: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.file = file
        self.key = key

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.key) if p)
        return f"{where}: {self.reason}" if where else self.reason
