"""Measured loop latencies, kept in ``STUDIO/latency.toml``, each keyed to what it depends on.

A loop's round trip holds only for the interface device, sample rate, block size and
route (the patch the router made) it was measured with: change any of them and the
figure is stale, and the next print measures again. ``lookup`` returns only a current
figure; ``status`` says why one is stale. ``invalidate`` marks an entry stale by hand
(a print pass whose pings disagreed).

The file is plain TOML, rewritten with tomlkit so comments and hand edits survive, and
saved atomically (temp file, fsync, rename)::

    spec = "hybrid-latency/1"

    [loops.A]
    latency_samples = 293.25
    polarity = -1
    gain_db = -0.02
    ...
    measured_at = "2026-11-21T13:40:00Z"
    key = { device = "hybrid-gear", samplerate = 48000, blocksize = 0, route = "" }

A stereo (or wider) loop's entry is its first side's figure, with every side's own and the
skew (last side minus first), as a print measured them::

    [loops.BUS]
    latency_samples = 1039.25
    ...
    sides = [{ latency_samples = 1039.25, polarity = 1, gain_db = 0.0 },
             { latency_samples = 1039.6, polarity = 1, gain_db = -0.4 }]
    skew_samples = 0.35

``[tails]`` holds, per loop, how long the first ping of a print pass must be left to ring
before the stems start (seconds; a reverb's tail, measured by a print: hybrid.live.audio.printing's
``PING_TAIL``). It depends on the gear's settings, not on the interface, so it has no key::

    [tails]
    D = 1.9

The loops themselves are studio.toml's (``recall.studio.load_loops``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from hybrid.live.audio.ping import LatencyResult
from hybrid.errors import HybridError
from hybrid.tomlfile import read_toml
from recall.atomic import atomic_write_text, writer_lock
from recall.paths import StudioPaths

SPEC = "hybrid-latency/1"


@dataclass(frozen=True)
class LatencyKey:
    """What a measured latency depends on. ``route`` is the router's description of the
    patch ("" when the loop is hard-wired)."""

    device: str
    samplerate: int
    blocksize: int
    route: str = ""

    def differences(self, current: LatencyKey, *, compare_route: bool = True) -> list[str]:
        """How ``current`` differs from this (stored) key, one phrase per field."""
        out = []
        for name in ("device", "samplerate", "blocksize", "route"):
            if name == "route" and not compare_route:
                continue
            was, now = getattr(self, name), getattr(current, name)
            if now is None:
                continue
            if was != now:
                out.append(f"{name} {was!r} -> {now!r}")
        return out

    def to_dict(self) -> dict:
        return {"device": self.device, "samplerate": self.samplerate, "blocksize": self.blocksize,
                "route": self.route}


@dataclass(frozen=True)
class StoredLatency:
    """One entry of latency.toml. ``stale_reason`` is set when something marked it stale."""

    loop: str
    result: LatencyResult
    key: LatencyKey
    measured_at: str
    stale_reason: str | None = None
    sides: tuple[SideLatency, ...] = ()
    """A multi-channel loop's sides, in order (empty for a mono loop)."""

    @property
    def skew_samples(self) -> float | None:
        return self.sides[-1].latency_samples - self.sides[0].latency_samples if len(self.sides) > 1 else None

    def to_dict(self) -> dict:
        out = {"loop": self.loop, **self.result.to_dict(), "key": self.key.to_dict(),
               "measured_at": self.measured_at, "stale_reason": self.stale_reason}
        if self.sides:
            out["sides"] = [side.to_dict() for side in self.sides]
            out["skew_samples"] = round(self.skew_samples or 0.0, 4)
        return out


@dataclass(frozen=True)
class SideLatency:
    """One side of a multi-channel loop, as stored."""

    latency_samples: float
    polarity: int
    gain_db: float

    def to_dict(self) -> dict:
        return {"latency_samples": round(self.latency_samples, 4), "polarity": self.polarity,
                "gain_db": round(self.gain_db, 3)}


@dataclass(frozen=True)
class LatencyStatus:
    """A loop's stored latency against the current key: ``stale`` with ``reasons``."""

    loop: str
    entry: StoredLatency | None
    stale: bool
    reasons: tuple[str, ...]

    @property
    def current(self) -> LatencyResult | None:
        return None if self.stale or self.entry is None else self.entry.result

    def to_dict(self) -> dict:
        return {"loop": self.loop, "measured": self.entry is not None, "stale": self.stale,
                "reasons": list(self.reasons), "entry": self.entry.to_dict() if self.entry else None}


# --------------------------------------------------------------------------- reading


def path_of(studio_dir) -> Path:
    return StudioPaths(studio_dir).latency_file


def load(studio_dir) -> dict[str, StoredLatency]:
    """Every entry of ``STUDIO/latency.toml`` (empty when there is none yet)."""
    path = path_of(studio_dir)
    data = read_toml(path, missing=None)
    if not data:
        return {}
    spec = data.get("spec", SPEC)
    if spec != SPEC:
        raise HybridError(f"spec: expected {SPEC!r}, got {spec!r}", where=str(path))
    loops = data.get("loops", {})
    if not isinstance(loops, dict):
        raise HybridError("loops: expected a table of loops", where=str(path))
    return {name: _entry(name, table, path) for name, table in loops.items()}


def tails(studio_dir) -> dict[str, float]:
    """``[tails]``: seconds each loop's ping needs before the stems (empty when none was measured)."""
    path = path_of(studio_dir)
    data = read_toml(path, missing=None) or {}
    table = data.get("tails", {})
    if not isinstance(table, dict):
        raise HybridError("tails: expected a table of loop = seconds", where=str(path))
    out = {}
    for loop, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 60:
            raise HybridError(f"expected seconds 0..60, got {value!r}", where=f"{path}: tails.{loop}")
        out[str(loop)] = float(value)
    return out


def store_tail(studio_dir, loop: str, tail_s: float) -> None:
    """Record that ``loop``'s ping needs ``tail_s`` seconds before the stems (kept if longer already)."""
    with _locked(studio_dir):
        doc = _document(studio_dir)
        table = doc.setdefault("tails", tomlkit.table())
        if float(table.get(loop, 0.0)) < tail_s:
            table[loop] = round(float(tail_s), 3)
            _save(studio_dir, doc)


def _entry(name: str, table, path: Path) -> StoredLatency:
    where = f"{path}: loops.{name}"
    if not isinstance(table, dict):
        raise HybridError("expected a table", where=where)
    key = table.get("key")
    if not isinstance(key, dict):
        raise HybridError("key: expected { device, samplerate, blocksize, route }", where=where)
    try:
        result = LatencyResult(
            latency_samples=_number(table, "latency_samples", where),
            polarity=_polarity(table, where),
            gain_db=_number(table, "gain_db", where),
            snr_db=_number(table, "snr_db", where, optional=True),
            noise_floor_dbfs=_number(table, "noise_floor_dbfs", where, optional=True),
            confidence=_number(table, "confidence", where),
            uncertainty_samples=_number(table, "uncertainty_samples", where),
            samplerate=_integer(table, "samplerate", where, default=key.get("samplerate")),
            peak_dbfs=_number(table, "peak_dbfs", where),
            method=str(table.get("method", "")),
            warnings=tuple(str(w) for w in table.get("warnings", [])),
        )
        stored_key = LatencyKey(device=str(key.get("device", "")),
                                samplerate=_integer(key, "samplerate", where + ".key"),
                                blocksize=_integer(key, "blocksize", where + ".key"),
                                route=str(key.get("route", "")))
    except (TypeError, ValueError) as exc:
        raise HybridError(str(exc), where=where) from exc
    stale = table.get("stale_reason")
    return StoredLatency(loop=name, result=result, key=stored_key, measured_at=str(table.get("measured_at", "")),
                         stale_reason=str(stale) if stale else None, sides=_sides(table, where))


def _sides(table: dict, where: str) -> tuple[SideLatency, ...]:
    raw = table.get("sides")
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) < 2:
        raise HybridError("sides: expected one { latency_samples, polarity, gain_db } per side", where=where)
    out = []
    for k, side in enumerate(raw):
        key = f"{where}.sides[{k}]"
        if not isinstance(side, dict):
            raise HybridError("expected { latency_samples, polarity, gain_db }", where=key)
        out.append(SideLatency(latency_samples=_number(side, "latency_samples", key),
                               polarity=_polarity(side, key), gain_db=_number(side, "gain_db", key)))
    return tuple(out)


def _number(table: dict, name: str, where: str, optional: bool = False) -> float | None:
    value = table.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise HybridError(f"{name}: expected a number, got {value!r}", where=where)
    return float(value)


def _integer(table: dict, name: str, where: str, default=None) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise HybridError(f"{name}: expected an integer, got {value!r}", where=where)
    return value


def _polarity(table: dict, where: str) -> int:
    value = table.get("polarity")
    if value not in (1, -1) or isinstance(value, bool):
        raise HybridError(f"polarity: expected 1 or -1, got {value!r}", where=where)
    return int(value)


def status(studio_dir, loop: str, key: LatencyKey, *, compare_route: bool = True) -> LatencyStatus:
    """The stored figure for ``loop`` and whether it still holds for ``key``."""
    entry = load(studio_dir).get(loop)
    if entry is None:
        return LatencyStatus(loop, None, True, ("not measured",))
    reasons = entry.key.differences(key, compare_route=compare_route)
    if entry.stale_reason:
        reasons.insert(0, entry.stale_reason)
    return LatencyStatus(loop, entry, bool(reasons), tuple(reasons))


def lookup(studio_dir, loop: str, key: LatencyKey) -> LatencyResult | None:
    """The stored latency of ``loop`` if it was measured with exactly ``key``, else None."""
    return status(studio_dir, loop, key).current


# --------------------------------------------------------------------------- writing


def store(studio_dir, loop: str, result: LatencyResult, key: LatencyKey, *,
          measured_at: str | None = None, sides: list[LatencyResult] | None = None) -> StoredLatency:
    """Record ``result`` for ``loop`` under ``key`` (replacing the loop's earlier entry); with
    ``sides``, a multi-channel loop's every side (``result`` is then its first) and the skew."""
    if not loop or any(c in loop for c in "\n\r"):
        raise HybridError(f"bad loop name {loop!r}", where=str(path_of(studio_dir)))
    measured_at = measured_at or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with _locked(studio_dir):  # one writer at a time: a loop measured meanwhile is kept
        doc = _document(studio_dir)
        loops = doc.setdefault("loops", tomlkit.table(is_super_table=True))
        entry = tomlkit.table()
        for name, value in result.to_dict().items():
            if name == "latency_ms" or value is None:
                continue
            if name == "warnings":
                if value:
                    entry[name] = list(value)
                continue
            entry[name] = value
        entry["measured_at"] = measured_at
        inline = tomlkit.inline_table()
        inline.update(key.to_dict())
        entry["key"] = inline
        stored = tuple(SideLatency(float(r.latency_samples), int(r.polarity), float(r.gain_db))
                       for r in sides or ()) if sides and len(sides) > 1 else ()
        if stored:
            array = tomlkit.array()
            for side in stored:
                item = tomlkit.inline_table()
                item.update(side.to_dict())
                array.append(item)
            entry["sides"] = array
            entry["skew_samples"] = round(stored[-1].latency_samples - stored[0].latency_samples, 4)
        loops[loop] = entry
        _save(studio_dir, doc)
    return StoredLatency(loop=loop, result=result, key=key, measured_at=measured_at, sides=stored)


def invalidate(studio_dir, loop: str, reason: str) -> None:
    """Mark ``loop``'s entry stale (e.g. the pings around a print pass disagreed)."""
    with _locked(studio_dir):
        doc = _document(studio_dir)
        loops = doc.get("loops")
        if loops is None or loop not in loops:
            return
        loops[loop]["stale_reason"] = reason
        _save(studio_dir, doc)


@contextlib.contextmanager
def _locked(studio_dir) -> Iterator[None]:
    """latency.toml's writer lock (recall.atomic.writer_lock) around a read-modify-write."""
    path = path_of(studio_dir)
    if not path.parent.is_dir():
        raise HybridError("no such studio folder", where=str(path.parent))
    try:
        with writer_lock(path):
            yield
    except OSError as exc:  # TimeoutError included
        raise HybridError(f"cannot update: {exc.strerror or exc}", where=str(path)) from exc


def _document(studio_dir) -> tomlkit.TOMLDocument:
    path = path_of(studio_dir)
    load(studio_dir)  # validates, with clear errors, before we touch it
    if path.exists():
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Round-trip latencies measured by `hybrid latency measure`."))
    doc.add(tomlkit.comment("Each holds only for the device, sample rate, block size and route in its key."))
    doc["spec"] = SPEC
    return doc


def _save(studio_dir, doc) -> None:
    path = path_of(studio_dir)
    if not path.parent.is_dir():
        raise HybridError("no such studio folder", where=str(path.parent))
    try:
        atomic_write_text(path, tomlkit.dumps(doc))
    except OSError as exc:
        raise HybridError(f"cannot write: {exc}", where=str(path)) from exc
