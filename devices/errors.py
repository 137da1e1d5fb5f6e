"""The one exception root of the device layer."""

from __future__ import annotations


class DeviceError(Exception):
    """Anything that went wrong talking to gear or reading a profile.

    Carries the context a person needs to act on it: which device (or file), what was
    being done, and the reason. ``str()`` gives one line fit for a CLI.
    """

    def __init__(self, reason: str, *, device: str | None = None, action: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.device = device
        self.action = action

    def __str__(self) -> str:
        parts = []
        if self.device:
            parts.append(self.device)
        if self.action:
            parts.append(self.action)
        parts.append(self.reason)
        return ": ".join(parts)


class ProfileError(DeviceError, ValueError):
    """A malformed device profile, or a value outside what a profile allows.

    ``device`` holds the file (or profile id), ``key`` the key path, e.g.
    ``parameters.ratio.range``.
    """

    def __init__(self, reason: str, *, file: str | None = None, key: str | None = None):
        super().__init__(reason, device=file, action=key)
        self.file = file
        self.key = key


class DeviceTimeoutError(DeviceError, TimeoutError):
    """The gear did not answer within the time its profile allows."""


class PortNotFoundError(DeviceError, LookupError):
    """No MIDI port or serial device matches the name given (unplugged, switched off, mistyped)."""
