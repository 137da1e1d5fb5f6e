"""Python's cyclic garbage collector held off while timing matters, shared by every thread.

A full collection in a process with a large heap (the control room's UI, a test run after
hundreds of others) stops every thread for 10-140 ms. While a print streams, that is a late
audio callback; while a recall hands a unit's messages to a port that places them at their
slot on the wire (devices.jack_midi), a hand-over later than its slot, and the messages
bunch. ``gc_paused()`` turns collection off for a block; nested and concurrent blocks (a
recall during a print) count, and the collector comes back as it was when the last ends.
Collection is only postponed: the garbage of the block is collected afterwards.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection while the block runs (in any thread of the process)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
