"""Writing a file atomically: the one way every writer of the project saves a file.

A save never leaves a half-written file: the data goes to a temporary file in the same
folder (``.tmp-<name>.<pid>.<random>``), is fsynced, renamed over the target (atomic on
POSIX) and the folder is fsynced so the rename itself survives a power cut. A process
killed at any point leaves either the old file or the new one, plus at worst its
temporary file: the next save of the same file removes temporaries whose writer is gone
(its process no longer runs, or the file is older than :data:`STALE_AFTER_S`). Readers
that list a folder skip names starting with :data:`TEMP_PREFIX` (:func:`is_temp`).

- :func:`atomic_write_bytes` / :func:`atomic_write_text`: the whole content at once.
- :func:`atomic_path`: for a library that writes a file by name (numpy, soundfile): it
  gets a temporary path, and the file lands under the final name only when the block
  ends without an exception.
- :func:`temp_name` + :func:`commit`: when the final name is chosen after writing.

Errors are ``OSError`` as the system raised it; callers turn them into their package's
one-line error (file and reason).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from devices.processes import process_exists

TEMP_PREFIX = ".tmp-"
_TEMP_TAIL = re.compile(r"(?P<pid>\d+)\.[0-9a-f]{8}|[a-z0-9_]{8}")
"""After ``.tmp-<name>.``: ``<pid>.<8 hex>`` (this module), or mkstemp's 8 characters (earlier saves)."""
STALE_AFTER_S = 3600.0
"""A temporary file this old is stale even when its pid runs again (pids are reused)."""


def is_temp(path: str | os.PathLike[str]) -> bool:
    """True for a temporary file of an unfinished (or killed) atomic save."""
    return Path(path).name.startswith(TEMP_PREFIX)


def temp_name(path: Path) -> Path:
    """A fresh temporary name beside ``path`` that says which process writes it."""
    return path.with_name(f"{TEMP_PREFIX}{path.name}.{os.getpid()}.{secrets.token_hex(4)}")


def clean_stale_temps(path: str | os.PathLike[str], *, now: float | None = None) -> list[Path]:
    """Remove temporaries of ``path`` left by saves that were killed; returns what was removed.

    A temporary whose writer still runs (and is younger than STALE_AFTER_S) is left alone:
    another process may be saving the same file at this moment.
    """
    target = Path(path)
    prefix = f"{TEMP_PREFIX}{target.name}."
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        match = _TEMP_TAIL.fullmatch(entry.name[len(prefix):])
        if match is None:
            continue  # not one of ours, or a temporary of another file whose name starts like this one's
        try:
            age_s = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        pid = match.group("pid")
        if age_s < STALE_AFTER_S and (pid is None or process_exists(int(pid))):
            continue  # its writer may still be saving (an older name form says no pid: judged by age)
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)  # a staging folder (hybrid.files.deliver.staging)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s new content to; on a clean exit it is fsynced
    and renamed over ``path``; on an exception it is removed and ``path`` is untouched.

    ``mode``: permission bits of a new file (default: the old file's, else 0o644).
    """
    target = Path(path)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(target)
    tmp = temp_name(target)
    try:
        yield tmp
        commit(tmp, target, mode=mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def commit(tmp: str | os.PathLike[str], target: str | os.PathLike[str], *, mode: int | None = None) -> None:
    """Make a finished temporary file ``target``: fsync, permissions, rename, fsync of the folder.

    For a writer that picks the final name only once the data is written (a print lands
    under its name or as ``NAME.BAD.wav``); the temporary comes from :func:`temp_name`
    (after :func:`clean_stale_temps`), beside the target.
    """
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.chmod(tmp, _mode_for(Path(target), mode))
    os.replace(tmp, target)
    fsync_dir(Path(target).parent)


LOCK_WAIT_S = 5.0
"""How long :func:`writer_lock` waits for another of our processes to finish its save."""


@contextlib.contextmanager
def writer_lock(path: str | os.PathLike[str], *, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``path`` (flock) while reading, merging and writing it, so two
    of our processes (the TUI and a surface, say) save one file one after the other. Editors take
    no lock: what they write in between is what a merge is for. TimeoutError after ``wait_s``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target.with_name(f".{target.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another process has been saving {target.name} for {wait_s:g} s") from None
                time.sleep(0.01)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename, fsync of the folder)."""
    with atomic_path(path, mode=mode) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> None:
    """:func:`atomic_write_bytes` of ``text`` as UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def _mode_for(target: Path, mode: int | None) -> int:
    if mode is not None:
        return mode
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        return 0o644


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename in ``folder`` durable (best effort: some file systems refuse)."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
