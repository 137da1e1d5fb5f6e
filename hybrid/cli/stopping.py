"""Long-running commands (simulators) stop on Ctrl-C or SIGTERM as a normal end, exit 0.

The handlers are installed before the command says it is ready, so a signal that arrives
the moment after the "listening" line sets the event instead of raising KeyboardInterrupt
somewhere in between (which ended such a run with "hybrid: interrupted", exit 130).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs; the old handlers come back after."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_a: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def wait_until(stop: threading.Event, duration_s: float | None, tick_s: float = 0.1) -> None:
    """Return when ``stop`` is set or ``duration_s`` (None: no limit) has passed."""
    deadline = None if duration_s is None else time.monotonic() + duration_s
    while not stop.is_set():
        if deadline is None:
            stop.wait(tick_s)
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            return
        stop.wait(min(tick_s, left))
