"""The ``[sound]`` table of a device profile: what the simulated analog unit sounds like.

Checked here, with the rest of the profile schema, so a misspelt role (``atack_ms``) is
refused with the file and key path instead of falling back to a default. The DSP that
plays it (``hybrid.models.sound``) reads its roles and defaults from here.

    [sound]
    model = "compressor"
    roles = { threshold_db = "threshold", ratio = "ratio", noise_dbfs = -92.0 }
    bands = [ { type = "peak", freq_hz = "hmf_freq", gain_db = "hmf_gain", q = 1.2 } ]   # eq
"""

from __future__ import annotations

import math
from typing import Any

SOUND_MODELS = ("compressor", "eq", "reverb", "saturator", "none")
BAND_TYPES = ("lowshelf", "peak", "highshelf", "highpass", "lowpass")

MODEL_ROLES: dict[str, dict[str, float]] = {
    "compressor": {"threshold_db": -20.0, "ratio": 4.0, "attack_ms": 10.0, "release_ms": 100.0,
                   "makeup_db": 0.0, "knee_db": 6.0},
    "eq": {"makeup_db": 0.0},
    "reverb": {"decay_s": 1.5, "predelay_ms": 10.0, "mix": 0.3, "damping": 0.3, "output_db": 0.0},
    "saturator": {"drive_db": 0.0, "output_db": 0.0},
    "none": {"output_db": 0.0},
}
"""The roles each model reads, with the value used when the profile does not give one."""

COMMON_ROLES = ("noise_dbfs", "bypass")
"""Roles every model takes: a noise floor, a bypass switch."""

BAND_DEFAULTS: dict[str, float] = {"gain_db": 0.0, "q": 0.707, "enabled": 1.0}
BAND_KEYS = ("freq_hz", *BAND_DEFAULTS)


def load_sound(reader: Any, parameters: dict[str, Any]) -> dict[str, Any] | None:
    """The checked ``[sound]`` table (``reader``: the profile loader's typed reader of it, or None)."""
    if reader is None:
        return None
    reader.only({"model", "roles", "bands", "noise_dbfs", "bypass"})
    model = reader.choice("model", SOUND_MODELS, required=True)
    roles = dict(reader.get("roles", dict, default={}))
    known = (*MODEL_ROLES[model], *COMMON_ROLES)

    def check_role(where: str, value: Any, *, switch: bool = False) -> None:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            reader.fail(where, "expected a parameter name or a number")
        if isinstance(value, str):
            if value not in parameters:
                reader.fail(where, f"no parameter {value!r}; expected one of {', '.join(parameters)}")
            if switch and parameters[value].kind != "switch":
                reader.fail(where, f"parameter {value!r} is not a switch")
        elif isinstance(value, float) and not math.isfinite(value):
            reader.fail(where, "expected a finite number")

    for role, value in roles.items():
        if role not in known:
            reader.fail(f"roles.{role}", f"unknown role for a {model} model; expected one of {', '.join(known)}")
        check_role(f"roles.{role}", value, switch=role == "bypass")
    for key in COMMON_ROLES:
        if key in reader.table:
            check_role(key, reader.table[key], switch=key == "bypass")
            roles.setdefault(key, reader.table[key])
    bands = reader.get("bands", list, default=[])
    checked_bands = []
    for i, band in enumerate(bands):
        where = f"bands[{i}]"
        if not isinstance(band, dict):
            reader.fail(where, "expected a table like { type = \"peak\", freq_hz = \"hmf_freq\", ... }")
        if band.get("type") not in BAND_TYPES:
            reader.fail(f"{where}.type", f"expected one of {', '.join(BAND_TYPES)}, got {band.get('type')!r}")
        if "freq_hz" not in band:
            reader.fail(f"{where}.freq_hz", "missing; expected a parameter name or a number")
        for key, value in band.items():
            if key == "type":
                continue
            if key not in BAND_KEYS:
                reader.fail(f"{where}.{key}", "unknown key; expected " + ", ".join(BAND_KEYS))
            check_role(f"{where}.{key}", value)
        checked_bands.append(dict(band))
    if model == "eq" and not checked_bands:
        reader.fail("bands", "an eq model needs at least one band")
    if bands and model != "eq":
        reader.fail("bands", f"only an eq model has bands, not a {model} model")
    out: dict[str, Any] = {"model": model, "roles": roles, "bands": checked_bands}
    for key in COMMON_ROLES:
        if key in roles:
            out[key] = roles[key]
    return out
