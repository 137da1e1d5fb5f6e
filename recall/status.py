"""How one device's recall (or the router's patching) stands: one enum for the CLI, the TUI and JSON.

The values are the words ``--json`` prints (``needs-hand``); :attr:`ApplyStatus.label` is
how a person reads them ("needs a hand"). A StrEnum, so a status equals its value
(``ApplyStatus.SET == "set"``) and prints as it.
"""

from __future__ import annotations

from enum import StrEnum


class ApplyStatus(StrEnum):
    PENDING = "pending"
    """Not started yet."""
    SENDING = "sending"
    VERIFYING = "verifying"
    """Sent; reading it back."""
    SET = "set"
    """Sent, with no read-back to check it."""
    VERIFIED = "verified"
    """Sent and read back as wanted."""
    FAILED = "failed"
    NEEDS_HAND = "needs-hand"
    """Hand-set gear (or a paper bay): the walk-through has its steps."""
    UNCHANGED = "unchanged"
    """Nothing to send: the gear already holds the sheet's values."""
    DONE_EARLIER = "done-earlier"
    """Finished by an interrupted run of the same sheet (resume)."""
    SKIPPED = "skipped"
    """Left out of this run (e.g. not among the devices asked for)."""

    @property
    def label(self) -> str:
        """The status as a person reads it."""
        return _LABELS.get(self, self.value)

    @property
    def good(self) -> bool:
        """The gear holds what the sheet says (as far as hybrid can tell)."""
        return self in _GOOD

    @property
    def ok(self) -> bool:
        """Nothing went wrong: good, or waiting for a person's hand."""
        return self in _GOOD or self is ApplyStatus.NEEDS_HAND

    @property
    def final(self) -> bool:
        """This device is finished for the run (no further status will come)."""
        return self not in (ApplyStatus.PENDING, ApplyStatus.SENDING, ApplyStatus.VERIFYING)


_LABELS = {ApplyStatus.NEEDS_HAND: "needs a hand", ApplyStatus.DONE_EARLIER: "done earlier"}
_GOOD = frozenset({ApplyStatus.SET, ApplyStatus.VERIFIED, ApplyStatus.UNCHANGED, ApplyStatus.DONE_EARLIER})
