"""The one exception root of the device layer, with typed problems.

Every error carries a ``code`` (what kind of problem, for code to decide on) and a text
(for a person). Callers branch on ``code``, never on the words of the message.
"""

from __future__ import annotations

# Problem codes. A caller decides on these, never on message text.
GENERIC = "device"
PROFILE = "profile"
TIMEOUT = "timeout"
PORT_NOT_FOUND = "port_not_found"
PORT_AMBIGUOUS = "port_ambiguous"
PORT_GONE = "port_gone"
GARBLED = "garbled_reply"
ERROR_REPLY = "error_reply"
WRONG_TYPE = "wrong_type"
CLOSED = "connection_closed"
NO_BANNER = "no_banner"
REFUSED = "refused"
WRONG_TRANSPORT = "wrong_transport"


class DeviceError(Exception):
    """Anything that went wrong talking to gear or reading a profile.

    Carries the context a person needs to act on it: which device (or file), which port,
    what was being done, and the reason. ``str()`` gives one line fit for a CLI; ``code``
    says what kind of problem it is.
    """

    default_code = GENERIC

    def __init__(self, reason: str, *, device: str | None = None, action: str | None = None,
                 port: str | None = None, code: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.device = device
        self.action = action
        self.port = port
        self.code = code or self.default_code

    def __str__(self) -> str:
        parts = []
        if self.device:
            parts.append(f"{self.device} ({self.port})" if self.port else self.device)
        elif self.port:
            parts.append(self.port)
        if self.action:
            parts.append(self.action)
        parts.append(self.reason)
        return ": ".join(parts)


class ProfileError(DeviceError, ValueError):
    """A malformed device profile, or a value outside what a profile allows.

    ``device`` holds the file (or profile id), ``key`` the key path, e.g.
    ``parameters.ratio.range``.
    """

    default_code = PROFILE

    def __init__(self, reason: str, *, file: str | None = None, key: str | None = None):
        super().__init__(reason, device=file, action=key)
        self.file = file
        self.key = key


class DeviceTimeoutError(DeviceError, TimeoutError):
    """The gear did not answer within the time its profile allows."""

    default_code = TIMEOUT


class PortNotFoundError(DeviceError, LookupError):
    """No MIDI port or serial device matches the name given (unplugged, switched off, mistyped)."""

    default_code = PORT_NOT_FOUND


class AmbiguousPortError(DeviceError, LookupError):
    """A port name matches several ports; ``candidates`` lists them."""

    default_code = PORT_AMBIGUOUS

    def __init__(self, reason: str, *, candidates: list[str], device: str | None = None,
                 action: str | None = None):
        super().__init__(reason, device=device, action=action)
        self.candidates = list(candidates)
