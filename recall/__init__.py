"""The studio and its songs as data: recall sheets, store, history, diff, apply/capture, export.

Knows nothing of audio streams. Never imports textual.
"""

from recall.errors import RecallError

__all__ = ["RecallError"]
