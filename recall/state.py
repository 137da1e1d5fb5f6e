"""What the studio knows beyond its files: the gear's last known state, recall times, journals.

Kept in ``STUDIO/.state/`` as small JSON files written atomically; each read-modify-write
holds the file's writer lock (recall.atomic), so two processes (the TUI, a CLI recall) never
drop each other's update. This is machine state (what hybrid last sent to or read from each device, when each song was last
recalled, how far an interrupted apply got), not something people edit, so it stays
out of studio.toml and the sheets (and out of their history).

- ``gear.json``: ``{device: {"values": {param: value}, "at": iso-time, "song": slug}}``
- ``recalls.json``: ``{slug: {"at": iso-time, "ok": bool, "summary": {...}}}``
- ``journal/<slug>.json``: the running apply of a song (sheet digest, devices done),
  so a re-run after a failure resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from datetime import datetime, UTC
from pathlib import Path
from typing import Any
from collections.abc import Iterator

from recall.errors import RecallError
from recall.atomic import writer_lock
from recall.tomlio import read_text, save_text


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _read_json(path: Path) -> dict[str, Any]:
    if not os.path.lexists(path):
        return {}
    text = read_text(path)  # devices.safe_read: no FIFO or device, a size cap, UTF-8
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = str(exc)[:200] if isinstance(exc, ValueError) else "nested too deeply"
        raise RecallError(f"unreadable state file ({reason}); delete it to start afresh", file=str(path)) from None
    if not isinstance(data, dict):
        raise RecallError("state file is not a JSON object; delete it to start afresh", file=str(path))
    return data


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """The file's writer lock (recall.atomic.writer_lock); failing to take it is a RecallError
    (the body's own reads and writes raise RecallError already)."""
    try:
        with writer_lock(path):
            yield
    except OSError as exc:  # TimeoutError included
        raise RecallError(f"cannot lock for writing: {exc.strerror or exc}", file=str(path)) from None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    save_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


class StudioState:
    """The ``.state`` folder of one studio. Thread-safe: apply workers update it per device."""

    def __init__(self, state_dir: Path):
        self.dir = Path(state_dir)
        self._lock = threading.Lock()

    # -- gear -------------------------------------------------------------------
    @property
    def gear_file(self) -> Path:
        return self.dir / "gear.json"

    def known(self, device: str) -> dict[str, Any]:
        """The values hybrid last set on (or read from) ``device``; empty when unknown."""
        with self._lock:
            return dict(_read_json(self.gear_file).get(device, {}).get("values", {}))

    def all_known(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: dict(v.get("values", {})) for k, v in _read_json(self.gear_file).items()}

    def remember(self, device: str, values: dict[str, Any], *, song: str | None = None) -> None:
        """Merge ``values`` into the known state of ``device``."""
        self.update_gear([(device, values, song)])

    def update_gear(self, changes: list[tuple[str, dict[str, Any] | None, str | None]]) -> None:
        """Several :meth:`remember` (``(device, values, song)``) and :meth:`forget` (``(device, None,
        None)``) in their order, with one read and one write of gear.json."""
        if not changes:
            return
        with self._lock, _locked(self.gear_file):
            data = _read_json(self.gear_file)
            for device, values, song in changes:
                if values is None:
                    data.pop(device, None)
                    continue
                entry = data.setdefault(device, {"values": {}})
                entry.setdefault("values", {}).update(values)
                entry["at"] = utc_now()
                if song:
                    entry["song"] = song
            _write_json(self.gear_file, data)

    def journal_done_many(self, slug: str, done: dict[str, str]) -> None:
        """Several :meth:`journal_done` with one read and one write of the journal."""
        if not done:
            return
        with self._lock, _locked(self.journal_file(slug)):
            path = self.journal_file(slug)
            data = _read_json(path)
            data.setdefault("done", {}).update(done)
            _write_json(path, data)

    def forget(self, device: str) -> None:
        """Known state is no longer trusted (a failed send, someone touched the gear)."""
        with self._lock, _locked(self.gear_file):
            data = _read_json(self.gear_file)
            if data.pop(device, None) is not None:
                _write_json(self.gear_file, data)

    # -- recall log -----------------------------------------------------------------
    @property
    def recalls_file(self) -> Path:
        return self.dir / "recalls.json"

    def record_recall(self, slug: str, ok: bool, summary: dict[str, Any]) -> None:
        with self._lock, _locked(self.recalls_file):
            data = _read_json(self.recalls_file)
            data[slug] = {"at": utc_now(), "ok": ok, "summary": summary}
            _write_json(self.recalls_file, data)

    def recalls(self) -> dict[str, Any]:
        with self._lock:
            return _read_json(self.recalls_file)

    # -- apply journal ----------------------------------------------------------------
    def journal_file(self, slug: str) -> Path:
        return self.dir / "journal" / f"{slug}.json"

    def journal(self, slug: str) -> dict[str, Any]:
        with self._lock:
            return _read_json(self.journal_file(slug))

    def start_journal(self, slug: str, digest: str, done: dict[str, str] | None = None) -> None:
        with self._lock:
            _write_json(self.journal_file(slug), {"digest": digest, "done": dict(done or {}),
                                                  "complete": False, "at": utc_now()})

    def journal_done(self, slug: str, device: str, status: str) -> None:
        with self._lock, _locked(self.journal_file(slug)):
            path = self.journal_file(slug)
            data = _read_json(path)
            data.setdefault("done", {})[device] = status
            _write_json(path, data)

    def finish_journal(self, slug: str, complete: bool) -> None:
        with self._lock, _locked(self.journal_file(slug)):
            path = self.journal_file(slug)
            data = _read_json(path)
            data["complete"] = complete
            _write_json(path, data)
