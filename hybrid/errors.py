"""The one exception root of the hybrid (audio and orchestration) layer."""

from __future__ import annotations


class HybridError(Exception):
    """An audio, print, measurement, intake or delivery failure.

    ``where`` names the file, device or loop concerned; ``str()`` gives one line.
    """

    def __init__(self, reason: str, *, where: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" if self.where else self.reason
