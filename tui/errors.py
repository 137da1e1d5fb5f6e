"""Errors on screen: one readable line, never a traceback.

Calls from the UI into the layers below go through :func:`shown`; worker failures come
back as messages carrying the exception. A layer's own error (DeviceError, RecallError,
HybridError) is the expected kind and shows as its one line; anything else is a bug
somewhere below, shown as "internal error" with its type, and its traceback goes to the
Textual log (``textual console``) for whoever fixes it, not over the control room's screen.
"""

from __future__ import annotations

import traceback
from contextlib import contextmanager
from collections.abc import Iterator

from textual.markup import escape

from hybrid.errors import LAYER_ERRORS


def one_line(exc: BaseException) -> str:
    """The line a person reads for ``exc``, as Textual markup: the views put it into markup, where
    an unescaped key such as ``[mix]`` or ``[summing]`` would be taken for a style and vanish."""
    if isinstance(exc, LAYER_ERRORS):
        return escape(str(exc))
    return escape(f"internal error ({type(exc).__name__}: {exc}); details in the log")


@contextmanager
def shown(app, doing: str) -> Iterator[None]:
    """Run a block; any error becomes a notification naming what was being done."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - the UI boundary: report, never crash the control room
        app.report_error(exc, doing=doing)
        if not isinstance(exc, LAYER_ERRORS):
            app.log.error("".join(traceback.format_exception(exc)))

UI_BOUNDARY = (Exception,)
"""What the views catch where they call into the layers below (a worker, a handler): every
error, so the control room keeps running; shown with :func:`one_line`."""
