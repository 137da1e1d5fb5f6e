"""The demo songs' gear settings, in the engineer's units (checked against the profiles on build).

Three songs of one EP share the room and most settings, the way an album does; each
moves a few controls (a different ratio, a brighter Pultec, more drive).
"""

from __future__ import annotations

from typing import Any

BASE: dict[str, dict[str, Any]] = {
    "VCA Comp": {"threshold": -18.0, "ratio": "4:1", "attack": 10.0, "release": 200.0,
                 "output": 4.0, "bypass": False},
    "Channel EQ": {"hpf_freq": 60.0, "hpf_on": True, "lf_gain": 2.0, "lf_freq": 120.0,
                   "lmf_gain": -3.0, "lmf_freq": 350.0, "lmf_q": 1.2, "hmf_gain": 2.5,
                   "hmf_freq": 3000.0, "hmf_q": 0.9, "hf_gain": 1.5, "hf_freq": 10000.0,
                   "trim": 0.0, "bypass": False},
    "Pultec": {"low_freq": "60 Hz", "low_boost": "4", "low_atten": "2", "high_freq": "10k",
               "high_boost": "3", "bandwidth": "5", "atten_select": "20k", "high_atten": "1",
               "power": False},
    "Tape Sat": {"drive": 8.0, "tape_speed": "15 ips", "bias": 0.0, "output": -3.0, "bypass": False},
    "Plate": {"type": "Plate", "decay": 1.8, "predelay": 25.0, "hf_damp": 6000.0, "low_cut": 150.0,
              "mix": 0.35, "level": 0.0},
}

VARIANTS: tuple[dict[str, dict[str, Any]], ...] = (
    {},
    {"VCA Comp": {"ratio": "8:1", "attack": 3.0, "threshold": -22.0},
     "Pultec": {"low_boost": "6", "high_boost": "2"},
     "Plate": {"type": "Hall", "decay": 1.6}},
    {"Tape Sat": {"drive": 14.0, "tape_speed": "7.5 ips"},
     "Channel EQ": {"hmf_gain": 4.0, "hf_gain": 3.0},
     "Pultec": {"high_freq": "12k", "high_boost": "5"}},
)


def song_values(variant: int) -> dict[str, dict[str, Any]]:
    """Values of every device for demo song ``variant`` (0, 1, 2)."""
    out = {device: dict(values) for device, values in BASE.items()}
    for device, changes in VARIANTS[variant % len(VARIANTS)].items():
        out[device].update(changes)
    return out
