"""Small helpers for the device tests."""

from __future__ import annotations

import time


def wait_for(condition, timeout_s: float = 2.0, interval_s: float = 0.005) -> bool:
    """Poll ``condition()`` until it is true or ``timeout_s`` passes; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return bool(condition())
        time.sleep(interval_s)


def off_default_values(profile) -> dict:
    """A value for every parameter that differs from its default (so every message matters)."""
    out = {}
    for name, p in profile.parameters.items():
        if p.kind == "continuous":
            out[name] = p.minimum + (p.maximum - p.minimum) * 0.37
            if p.taper == "log":
                out[name] = p.minimum * (p.maximum / p.minimum) ** 0.61
        elif p.kind == "stepped":
            out[name] = p.labels[-1] if p.default != p.labels[-1] else p.labels[0]
        else:
            out[name] = not p.default
    return out
