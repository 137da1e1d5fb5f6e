"""The one exception root of the hybrid (audio and orchestration) layer, and typed problems.

Code that decides what to do about a failure (retry a print spoilt by xruns, rescan
PortAudio after a host error, mark a loop's latency stale) reads a problem's ``code``,
never its text: the text is for people and may change. ``LAYER_ERRORS`` holds the
layers' roots together.
"""

from __future__ import annotations

from devices.errors import DeviceError
from recall.errors import RecallError


class HybridError(Exception):
    """An audio, print, measurement, intake or delivery failure.

    ``where`` names the file, device or loop concerned; ``str()`` gives one line.
    ``code`` (one of the ``*`` codes below, or None) is what code may decide on.
    """

    def __init__(self, reason: str, *, where: str | None = None, code: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.where = where
        self.code = code

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}" if self.where else self.reason


class PrintCancelled(HybridError):
    """A print stopped on request (``cancel`` set): the running pass kept nothing."""

    def __init__(self, reason: str, *, where: str | None = None):
        super().__init__(reason, where=where, code=CANCELLED)


# Problem codes ------------------------------------------------------------------------------
XRUNS = "xruns"                        # the stream dropped or repeated audio in the span that matters
LATENCY_MOVED = "latency-moved"        # the pings before and after a pass disagree
POLARITY_FLIPPED = "polarity-flipped"  # ... on polarity
PING_FAILED = "ping-failed"            # a ping gave no figure
CLIPPED = "clipped"                    # a return reached full scale
OVER_FULL_SCALE = "over-full-scale"    # the aligned print passes full scale in its format
DROPOUT = "dropout"                    # a return went silent where the stem played
SIDES_DIFFER = "sides-differ"          # a multi-channel loop's sides differ by more than its tolerance
PING_TAIL = "ping-tail"                # the first ping's tail (a reverb's) still rang where the stems start
HOST_ERROR = "host-error"              # PortAudio's "unanticipated host error": the client was dropped
CANCELLED = "cancelled"                # stopped on request
OTHER = "other"


class Problem(str):
    """One thing wrong with a printed file or a pass: its text (it *is* that string, so
    reports and JSON show it unchanged) and a ``code`` that code decides on."""

    code: str

    def __new__(cls, code: str, text: str) -> Problem:
        self = super().__new__(cls, text)
        self.code = code
        return self

    def __reduce__(self):  # pickled across the print process's pipe
        return (Problem, (self.code, str(self)))


def code_of(problem: str) -> str:
    """A problem's code; a plain string (no code given) is ``OTHER``."""
    return getattr(problem, "code", OTHER)


def only(problems, *codes: str) -> bool:
    """True when there are problems and every one has one of ``codes``."""
    problems = list(problems)
    return bool(problems) and all(code_of(p) in codes for p in problems)


LAYER_ERRORS: tuple[type[Exception], ...] = (DeviceError, RecallError, HybridError)
"""The expected failures of every layer (bad input, a unit that does not answer): each prints as
one line. The CLI, the session, the print process and the TUI catch these, not their own lists."""
