"""A stored fingerprint of one insert chain: its figures, the stimulus, the tolerance, and what it is keyed to.

Stored beside the sheet as ``songs/<song>/fingerprints/<loop>.npz`` (numpy's zip of
arrays, compressed; figures as float32, about 10 kB): ``meta`` (JSON: spec, loop,
channels, interface, sample rate, block size, the chain's devices with their profile
ids and the values they were set to, a digest of those, the plan, when, how many takes),
the reference figures (the mean of the takes) and the per-figure tolerances.

Keyed to the loop, the sample rate and the chain: ``check_current`` refuses a
fingerprint taken at another sample rate, on another chain, or for other values than
the sheet now holds (the sheet changed since: fingerprint again).

The tolerance comes from repeatability: the chain is measured ``takes`` times (2 by
default); the spread between takes gives a standard deviation per figure (pooled with
the median of its kind so two lucky takes do not make it zero), and a figure passes
within ``K_SIGMA`` of them, never tighter than the floors below (what a real analog
loop drifts by between sessions: a fraction of a dB, a few degrees; wider under 40 Hz,
where a short sweep puts little energy and transformers roll off).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from devices import safe_read
from hybrid.errors import HybridError
from hybrid.live.verify.analysis import ARRAY_FIELDS, Measurement
from hybrid.live.verify.stimulus import Plan
from recall.atomic import atomic_write_bytes

SPEC = "hybrid-fingerprint/1"
K_SIGMA = 6.0
FLOOR_BAND_DB = 0.2
FLOOR_TRANSFER_DB = 0.25
FLOOR_PHASE_DEG = 3.0
#: bands under this hold few sweep cycles and sit on transformers' low cut: wider floors there
LOW_BAND_HZ = 40.0
FLOOR_LOW_BAND_DB = 0.5
FLOOR_LOW_PHASE_DEG = 10.0


@dataclass(frozen=True)
class ChainKey:
    """What a fingerprint belongs to: a loop with its gear in order, and the tracks that use it."""

    loop: str
    devices: tuple[str, ...]
    tracks: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        gear = " > ".join(self.devices) if self.devices else "(wire)"
        return f"{self.loop}: {gear}"

    def to_dict(self) -> dict:
        return {"loop": self.loop, "devices": list(self.devices), "tracks": list(self.tracks), "label": self.label}


@dataclass
class Tolerance:
    """How far each figure may move and still pass (same shapes as the figures)."""

    band_db: np.ndarray
    transfer_db: np.ndarray
    phase_deg: np.ndarray
    sigma_band_db: float
    sigma_transfer_db: float

    def to_dict(self) -> dict:
        return {"band_db_min": float(self.band_db.min()), "band_db_max": float(self.band_db.max()),
                "transfer_db_min": float(self.transfer_db.min()), "transfer_db_max": float(self.transfer_db.max()),
                "phase_deg_min": float(self.phase_deg.min()), "phase_deg_max": float(self.phase_deg.max()),
                "repeatability_band_db": self.sigma_band_db, "repeatability_transfer_db": self.sigma_transfer_db,
                "k_sigma": K_SIGMA, "floors": {"band_db": FLOOR_BAND_DB, "transfer_db": FLOOR_TRANSFER_DB,
                                               "phase_deg": FLOOR_PHASE_DEG, "below_hz": LOW_BAND_HZ,
                                               "band_db_below": FLOOR_LOW_BAND_DB,
                                               "phase_deg_below": FLOOR_LOW_PHASE_DEG}}

    def describe(self) -> str:
        return (f"+-{self.band_db.min():.2f} dB per 1/3 octave (+-{self.band_db.max():.2f} under "
                f"{LOW_BAND_HZ:g} Hz), +-{self.transfer_db.min():.2f} dB on the transfer curve, "
                f"+-{self.phase_deg.min():.0f} deg; max({K_SIGMA:g} x repeatability "
                f"{self.sigma_band_db:.3f}/{self.sigma_transfer_db:.3f} dB, floor)")


def tolerance_from_takes(takes: list[Measurement]) -> Tolerance:
    """Tolerances from the spread of repeated takes (see the module docstring)."""
    def sigma(values: list[np.ndarray], floor) -> tuple[np.ndarray, float]:
        stack = np.stack(values)
        if len(values) < 2:
            per = np.zeros(stack.shape[1:])
        else:
            per = stack.std(axis=0, ddof=1)
        pooled = float(np.median(per))
        per = np.maximum(per, pooled)
        return np.maximum(floor, K_SIGMA * per), pooled

    low = takes[0].band_centres_hz < LOW_BAND_HZ
    band, sb = sigma([t.band_db for t in takes], np.where(low, FLOOR_LOW_BAND_DB, FLOOR_BAND_DB))
    transfer, st = sigma([t.transfer_out_dbfs for t in takes], FLOOR_TRANSFER_DB)
    phases = np.unwrap(np.radians(np.stack([t.band_phase_deg for t in takes])), axis=0)
    phase, _ = sigma(list(np.degrees(phases)), np.where(low, FLOOR_LOW_PHASE_DEG, FLOOR_PHASE_DEG))
    return Tolerance(band, transfer, phase, sb, st)


@dataclass
class Fingerprint:
    """One chain's stored sound. ``values``: device -> parameter -> value, as set when taken."""

    key: ChainKey
    plan: Plan
    reference: Measurement
    tolerance: Tolerance
    out_channel: int
    in_channel: int
    interface: str
    samplerate: int
    blocksize: int
    profiles: dict[str, str]
    values: dict[str, dict[str, Any]]
    created: str
    takes: int
    warnings: list[str] = field(default_factory=list)
    alone: dict[str, Fingerprint] = field(default_factory=dict)
    """Each unit's own fingerprint, measured alone (not in this file: ``<loop>@<unit>.npz``)."""

    @property
    def digest(self) -> str:
        return values_digest(self.key.devices, self.profiles, self.values)

    def meta(self) -> dict:
        return {"spec": SPEC, "loop": self.key.loop, "devices": list(self.key.devices),
                "tracks": list(self.key.tracks), "out": self.out_channel, "in": self.in_channel,
                "interface": self.interface, "samplerate": self.samplerate, "blocksize": self.blocksize,
                "profiles": self.profiles, "values": self.values, "digest": self.digest,
                "plan": self.plan.to_dict(), "created": self.created, "takes": self.takes,
                "sigma": [self.tolerance.sigma_band_db, self.tolerance.sigma_transfer_db],
                "warnings": self.warnings}

    def to_bytes(self) -> bytes:
        arrays = {f"ref_{k}": v.astype(np.float32) for k, v in self.reference.to_arrays().items()
                  if k != "scalars"}
        arrays["ref_scalars"] = self.reference.to_arrays()["scalars"].astype(np.float64)
        arrays["tol_band_db"] = self.tolerance.band_db.astype(np.float32)
        arrays["tol_transfer_db"] = self.tolerance.transfer_db.astype(np.float32)
        arrays["tol_phase_deg"] = self.tolerance.phase_deg.astype(np.float32)
        arrays["meta"] = np.frombuffer(json.dumps(self.meta(), default=str).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, *, where: str) -> Fingerprint:
        try:
            arrays = safe_read.parse_npz(data, file=where)
            meta = json.loads(arrays["meta"].tobytes().decode(), parse_constant=_no_constant)
        except safe_read.FileRefused as exc:
            raise HybridError(f"not a readable fingerprint file: {exc.reason}", where=where) from None
        except (ValueError, KeyError, UnicodeDecodeError, RecursionError) as exc:
            raise HybridError(f"not a readable fingerprint file: {type(exc).__name__} {exc}"[:300],
                              where=where) from None
        if not isinstance(meta, dict):
            raise HybridError("not a readable fingerprint file: its metadata is not a table", where=where)
        if meta.get("spec") != SPEC:
            raise HybridError(f"spec is {meta.get('spec')!r}, expected {SPEC!r}", where=where)
        try:
            ref = Measurement.from_arrays({k: arrays[f"ref_{k}"] for k in (*ARRAY_FIELDS, "scalars")})
            sigma = meta.get("sigma", [0.0, 0.0])
            tol = Tolerance(arrays["tol_band_db"].astype(float), arrays["tol_transfer_db"].astype(float),
                            arrays["tol_phase_deg"].astype(float), float(sigma[0]), float(sigma[1]))
            return cls(key=ChainKey(meta["loop"], tuple(meta["devices"]), tuple(meta.get("tracks", ()))),
                       plan=Plan.from_dict(meta["plan"]), reference=ref, tolerance=tol,
                       out_channel=int(meta["out"]), in_channel=int(meta["in"]), interface=str(meta["interface"]),
                       samplerate=int(meta["samplerate"]), blocksize=int(meta["blocksize"]),
                       profiles=dict(meta["profiles"]), values=dict(meta["values"]), created=str(meta["created"]),
                       takes=int(meta["takes"]), warnings=list(meta.get("warnings", [])))
        except (KeyError, TypeError, ValueError, OverflowError, AttributeError, IndexError) as exc:
            raise HybridError(f"fingerprint file is incomplete ({exc})"[:300], where=where) from None


def values_digest(devices, profiles: dict[str, str], values: dict[str, dict[str, Any]]) -> str:
    text = json.dumps([[d, profiles.get(d), values.get(d, {})] for d in devices], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---- storage ------------------------------------------------------------------------------

def file_stem(loop: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", loop).strip("-.") or "loop"
    return stem


def save(fp: Fingerprint, path: Path) -> None:
    """Atomic (recall.atomic: a temporary file beside it, fsync, rename)."""
    try:
        atomic_write_bytes(path, fp.to_bytes())
    except OSError as exc:
        raise HybridError(f"cannot write the fingerprint: {exc}", where=str(path)) from exc


def load(path: Path) -> Fingerprint:
    if not os.path.lexists(path):
        raise HybridError("no fingerprint stored for this chain (run `hybrid recall fingerprint SONG` "
                          "when the chain sounds right)", where=str(path))
    try:
        data = safe_read.read_bytes(path, max_bytes=safe_read.MAX_NPZ_BYTES)
    except safe_read.FileRefused as exc:
        raise HybridError(exc.reason, where=exc.file) from None
    return Fingerprint.from_bytes(data, where=str(path))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} where a number is expected")


def check_current(fp: Fingerprint, *, key: ChainKey, samplerate: int, profiles: dict[str, str],
                  values: dict[str, dict[str, Any]], where: str) -> None:
    """Refuse a fingerprint that does not describe this chain as the sheet now has it."""
    if fp.key.loop != key.loop or tuple(fp.key.devices) != tuple(key.devices):
        raise HybridError(f"stale fingerprint: taken on {fp.key.label}, the sheet now has {key.label}; "
                          "fingerprint again", where=where)
    if fp.samplerate != samplerate:
        raise HybridError(f"stale fingerprint: taken at {fp.samplerate} Hz, the interface runs at {samplerate} Hz; "
                          "fingerprint again at this rate", where=where)
    if values_digest(key.devices, profiles, values) != fp.digest:
        changed = sorted(d for d in key.devices
                         if fp.values.get(d) != values.get(d) or fp.profiles.get(d) != profiles.get(d))
        raise HybridError(f"stale fingerprint: the sheet's values for {', '.join(changed) or 'the chain'} "
                          "changed since it was taken; fingerprint again", where=where)
