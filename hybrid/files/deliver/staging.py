"""All-or-nothing output folders.

Deliverables are built in a hidden staging folder beside the destination and moved in
only when everything has been written and checked. A refusal or a crash leaves the
previous deliverables as they were and no half-written file behind.

Interrupts: while a staging folder is open, SIGTERM and SIGHUP raise
:class:`Interrupted` (SIGINT already raises KeyboardInterrupt), so the folder is removed
on the way out. A folder a ``kill -9`` or a power cut left behind names its owner
(process id, in ``.staging-owner``); the next run beside it removes every such folder
whose owner no longer runs or that is older than recall.atomic's STALE_AFTER_S (the
rule recall.atomic applies to temporary files).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path

from devices.processes import process_exists
from recall.atomic import STALE_AFTER_S

OWNER_NAME = ".staging-owner"
ORPHAN_AGE_S = 600.0       # a folder without an owner file (older hybrid) this old is stale


class Interrupted(BaseException):
    """SIGTERM or SIGHUP arrived while deliverables were being staged."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


def _owner_alive(folder: Path) -> bool:
    try:
        age_s = time.time() - folder.stat().st_mtime
        pid = int((folder / OWNER_NAME).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return time.time() - folder.stat().st_mtime < ORPHAN_AGE_S if folder.exists() else False
    return age_s < STALE_AFTER_S and process_exists(pid)


def remove_stale(destination: Path) -> list[Path]:
    """Remove staging folders of ``destination`` whose owner process is gone."""
    removed = []
    for folder in destination.parent.glob(f".{destination.name}.tmp-*"):
        if folder.is_dir() and not _owner_alive(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


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
        remove_stale(self.destination)
        self._handlers = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGHUP):
                self._handlers[signum] = signal.signal(signum, _raise_interrupted)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.destination.name}.tmp-",
                                          dir=self.destination.parent))
        (self.path / OWNER_NAME).write_text(f"{os.getpid()}\n")
        umask = os.umask(0o022)
        os.umask(umask)
        os.chmod(self.path, 0o777 & ~umask)   # mkdtemp makes it private; deliverables are not
        return self

    def commit(self, *, replace_folder: bool = False) -> None:
        """Move the staged files in. ``replace_folder``: the destination becomes exactly
        the staged folder (the previous one is kept as ``<name>.previous``)."""
        assert self.path is not None
        (self.path / OWNER_NAME).unlink(missing_ok=True)
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
