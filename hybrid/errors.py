"""The one exception root of the hybrid (audio and orchestration) layer, and the layers' roots together."""

from __future__ import annotations

from devices.errors import DeviceError
from recall.errors import RecallError


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


LAYER_ERRORS: tuple[type[Exception], ...] = (DeviceError, RecallError, HybridError)
"""The expected failures of every layer (bad input, a unit that does not answer): each prints as
one line. The CLI, the session, the print process and the TUI catch these, not their own lists."""
