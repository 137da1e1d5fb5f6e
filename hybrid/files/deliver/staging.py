"""All-or-nothing output folders.

Deliverables are built in a hidden staging folder beside the destination and moved in
only when everything has been written and checked. A refusal or a crash leaves the
previous deliverables as they were and no half-written file behind.

Interrupts: while a staging folder is open, SIGTERM and SIGHUP raise
:class:`Interrupted` (SIGINT already raises KeyboardInterrupt), so the folder is removed
on the way out. The folder is named as recall.atomic names a temporary file
(``.tmp-<destination>.<pid>.<random>``), so a folder a ``kill -9`` or a power cut left
behind is removed by the next run beside it under recall.atomic's one rule
(:func:`recall.atomic.clean_stale_temps`: its writer no longer runs, or it is older than
STALE_AFTER_S).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
from pathlib import Path

from recall.atomic import clean_stale_temps, temp_name


class Interrupted(BaseException):
    """SIGTERM or SIGHUP arrived while deliverables were being staged."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


def _raise_interrupted(signum, _frame) -> None:
    raise Interrupted(signum)


class Staging:
    """``with Staging(dest) as stage:`` write into ``stage.path``; ``stage.commit()`` moves
    every file into ``dest`` (replacing same-named ones). Without commit, nothing changes."""

    def __init__(self, destination: Path):
        self.destination = Path(destination)
        self.path: Path | None = None
        self._committed = False

    def __enter__(self) -> Staging:
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(self.destination)
        self._handlers = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGHUP):
                self._handlers[signum] = signal.signal(signum, _raise_interrupted)
        self.path = temp_name(self.destination)
        self.path.mkdir()       # the umask's permissions: deliverables are not private
        return self

    def commit(self, *, replace_folder: bool = False) -> None:
        """Move the staged files in. ``replace_folder``: the destination becomes exactly
        the staged folder (the previous one is kept as ``<name>.previous``)."""
        assert self.path is not None
        for root, _, files in os.walk(self.path):
            for name in files:
                with open(Path(root) / name, "rb") as handle:
                    os.fsync(handle.fileno())
        if replace_folder:
            previous = self.destination.with_name(self.destination.name + ".previous")
            if self.destination.exists():
                shutil.rmtree(previous, ignore_errors=True)
                os.replace(self.destination, previous)
            os.replace(self.path, self.destination)
        else:
            self.destination.mkdir(parents=True, exist_ok=True)
            for item in sorted(self.path.iterdir()):
                os.replace(item, self.destination / item.name)
            self.path.rmdir()
        self._committed = True

    def __exit__(self, *exc) -> None:
        try:
            if not self._committed and self.path is not None:
                shutil.rmtree(self.path, ignore_errors=True)
        finally:
            for signum, handler in self._handlers.items():
                with contextlib.suppress(ValueError, TypeError):
                    signal.signal(signum, handler)
