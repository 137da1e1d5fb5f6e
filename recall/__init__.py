"""The studio and its songs as data: recall sheets, store, history, diff, apply/capture, export.

Modules: ``studio`` (studio.toml), ``sheet`` (the sheet model and its checks), ``store``
(songs on disk, history, copy, listing), ``diff``, ``apply`` (set and verify the gear),
``capture`` (read back and learn), ``walkthrough`` (hand-set steps), ``export`` (HTML and
Markdown), ``state`` (``STUDIO/.state``), ``values`` (comparing values as the gear sees
them), ``tomlio`` (comment-keeping TOML and atomic writes). The API is listed in
docs/CONTRACTS.md ("recall API").

Knows nothing of audio streams. Never imports textual.
"""

from recall.errors import Problem, RecallError, RecallProblems

__all__ = ["Problem", "RecallError", "RecallProblems"]
