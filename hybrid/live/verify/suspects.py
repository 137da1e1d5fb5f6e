"""Which device and which knob most likely moved: fit candidate changes with the chain's model.

Given a failing chain's deviation (band and transfer figures, in units of their
tolerance), each candidate change is run through the chain's model
(``hybrid.live.verify.model``: the profiles' ``[sound]`` tables as the simulated gear's DSP)
with the same stimulus and analysis as the measurement, and the one whose predicted
deviation best matches the measured one is the suspect:

- a continuous knob the ``[sound]`` table reads (an EQ band's gain/freq/q, a threshold,
  a makeup): first linearised (one model run per knob gives its "signature", the best
  amount by least squares and what it leaves unexplained), then the best few refined by
  a bounded search over the knob's whole range (so "HMF gain 0 -> +1.5 dB" comes out as
  a value);
- a stepped knob (a ratio) at each of its other detents, a switch flipped;
- the chain's devices in every other order (an EQ before or after a compressor sounds
  different at levels over threshold; two linear units commute and cannot be told apart);
- the loop's own level (a flat offset everywhere: an interface trim or cable, no knob).

``explained`` is the share of the deviation's energy the candidate accounts for.
A parameter of a device with no ``[sound]`` table cannot be a suspect (nothing says what
it does); the report then names the chain only.

Isolating a device with the router and measuring it alone would settle ties (two
makeup-like knobs in one chain give the same flat offset), but the routing API does not
offer per-device patching yet; the model fit is what there is.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from hybrid.live.verify.analysis import Measurement, analyse
from hybrid.live.verify.model import DeviceModel, run_chain
from hybrid.live.verify.stimulus import Plan, build

REFINE_TOP = 2
REFINE_ITERATIONS = 8


@dataclass
class Suspect:
    """A candidate change and how well it explains the deviation."""

    kind: str               # "parameter" | "order" | "loop-level"
    device: str | None
    parameter: str | None
    stored: Any
    estimate: Any
    explained: float
    text: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "device": self.device, "parameter": self.parameter,
                "stored": _plain(self.stored), "estimate": _plain(self.estimate),
                "explained": round(self.explained, 3), "text": self.text}


def _plain(v: Any) -> Any:
    if isinstance(v, (np.floating, float)):
        return round(float(v), 3)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


class ChainModel:
    """The chain's devices at their stored values, its stimulus, and feature weights (1/tolerance)."""

    def __init__(self, devices: list[DeviceModel], plan: Plan, weights: np.ndarray) -> None:
        self.devices = list(devices)
        self.plan = replace(plan, settle_s=0.0)   # a model starts at rest: no need to wait for it
        self.sent = build(self.plan)
        self.weights = weights
        self.runs = 0
        self.base = self.features(self.devices)

    def measure(self, devices: list[DeviceModel]) -> Measurement:
        self.runs += 1
        out = run_chain(devices, self.sent, self.plan.samplerate)
        return analyse(self.plan, self.sent, out, latency_samples=0.0)

    def features(self, devices: list[DeviceModel]) -> np.ndarray:
        return self.measure(devices).features() * self.weights

    def predicted(self, devices: list[DeviceModel]) -> np.ndarray:
        """The deviation (in tolerance units) the chain would show set as ``devices``."""
        return self.features(devices) - self.base

    def with_value(self, index: int, parameter: str, value: Any) -> list[DeviceModel]:
        devices = list(self.devices)
        devices[index] = devices[index].with_value(parameter, value)
        return devices


def _value(dev: DeviceModel, name: str) -> Any:
    param = dev.profile.parameters[name]
    value = dev.values.get(name, param.default)
    try:
        return param.parse(value)
    except (ValueError, TypeError):
        return param.default


def _log(param) -> bool:
    return param.taper == "log" and (param.minimum or 0) > 0


def _to_axis(param, v: float) -> float:
    return math.log(v) if _log(param) else float(v)


def _from_axis(param, a: float) -> float:
    v = math.exp(a) if _log(param) else a
    return float(min(max(v, param.minimum), param.maximum))


def _step(param) -> float:
    if _log(param):
        return 0.1
    span = (param.maximum - param.minimum) if param.maximum is not None else 10.0
    return max(span * 0.03, param.resolution or 0.0, 1e-3)


def _residual(d: np.ndarray, p: np.ndarray) -> float:
    return float(np.sum((d - p) ** 2))


def _fmt(param, v: Any) -> str:
    try:
        return param.format(v)
    except (ValueError, TypeError):
        return str(v)


def _candidates(dev: DeviceModel) -> list[str]:
    """The knobs of ``dev`` worth trying: all it sounds by, or only its bypass while it is bypassed."""
    names = dev.sound_parameters()
    bypass = ((dev.profile.sound or {}).get("roles") or {}).get("bypass")
    if isinstance(bypass, str) and dev.number(bypass) >= 0.5:
        return [bypass]
    return names


def find_suspects(model: ChainModel, deviation: np.ndarray, *, top: int = 3) -> list[Suspect]:
    """Rank candidate changes by how much of ``deviation`` (tolerance units) they explain."""
    d = np.asarray(deviation, float)
    total = float(np.sum(d * d)) or 1.0
    found: list[tuple[float, Suspect]] = []

    def add(resid: float, suspect: Suspect) -> None:
        suspect.explained = max(0.0, 1.0 - resid / total)
        found.append((resid, suspect))

    linear: list[tuple[float, int, str, float]] = []   # (residual, device index, param, best axis value)
    for i, dev in enumerate(model.devices):
        for name in _candidates(dev):
            param = dev.profile.parameters[name]
            stored = _value(dev, name)
            if param.kind == "continuous" and param.minimum is not None:
                a0 = _to_axis(param, float(stored))
                h = _step(param)
                a1 = a0 + h if _from_axis(param, a0 + h) != float(stored) else a0 - h
                probe = _from_axis(param, a1)
                j = model.predicted(model.with_value(i, name, probe)) / (a1 - a0)
                jj = float(j @ j)
                if jj < 1e-9:
                    continue
                delta = float(j @ d) / jj
                linear.append((_residual(d, delta * j), i, name, a0 + delta))
            elif param.kind in ("stepped", "switch"):
                options = param.labels if param.kind == "stepped" else [True, False]
                for option in options:
                    value = param.parse(option) if param.kind == "stepped" else option
                    if value == stored:
                        continue
                    resid = _residual(d, model.predicted(model.with_value(i, name, value)))
                    add(resid, Suspect("parameter", dev.name, name, stored, value, 0.0,
                                       f"{dev.name}: {param.label or name} {_fmt(param, stored)} -> "
                                       f"{_fmt(param, value)}"))
    linear.sort()
    for resid, i, name, a_guess in linear[:REFINE_TOP]:
        dev = model.devices[i]
        param = dev.profile.parameters[name]
        lo, hi = _to_axis(param, param.minimum), _to_axis(param, param.maximum)

        def cost(a: float, i: int = i, name: str = name, param=param) -> float:
            return _residual(d, model.predicted(model.with_value(i, name, _from_axis(param, a))))

        centre = min(max(a_guess, lo), hi)
        width = max(abs(a_guess - _to_axis(param, float(_value(dev, name)))) * 1.5, _step(param) * 2)
        res = minimize_scalar(cost, bounds=(max(lo, centre - width), min(hi, centre + width)), method="bounded",
                              options={"maxiter": REFINE_ITERATIONS, "xatol": 1e-3})
        best_a, best_r = (float(res.x), float(res.fun)) if res.fun < resid else (a_guess, resid)
        value = _from_axis(param, best_a)
        stored = _value(dev, name)
        add(best_r, Suspect("parameter", dev.name, name, stored, value, 0.0,
                            f"{dev.name}: {param.label or name} {_fmt(param, stored)} -> ~{_fmt(param, value)}"))
    for resid, i, name, a in linear[REFINE_TOP:]:
        dev = model.devices[i]
        param = dev.profile.parameters[name]
        stored = _value(dev, name)
        value = _from_axis(param, a)
        add(resid, Suspect("parameter", dev.name, name, stored, value, 0.0,
                           f"{dev.name}: {param.label or name} {_fmt(param, stored)} -> ~{_fmt(param, value)}"))
    if len(model.devices) > 1:
        names = [dev.name for dev in model.devices]
        for order in itertools.permutations(range(len(model.devices))):
            if list(order) == list(range(len(model.devices))):
                continue
            devices = [model.devices[k] for k in order]
            resid = _residual(d, model.predicted(devices))
            now = [names[k] for k in order]
            add(resid, Suspect("order", None, None, names, now, 0.0,
                               f"devices in another order: {' > '.join(now)} (stored {' > '.join(names)})"))
    flat = model.weights.copy()
    delta = float(flat @ d) / float(flat @ flat)
    add(_residual(d, delta * flat), Suspect("loop-level", None, None, 0.0, delta, 0.0,
                                            f"the loop's level moved ~{delta:+.2f} dB (interface trim or "
                                            "cabling, no knob of the chain)"))
    found.sort(key=lambda pair: pair[0])
    return [s for _, s in found[:top]]


def fit_parameter(model: ChainModel, deviation: np.ndarray, index: int, name: str) -> tuple[Any, np.ndarray, np.ndarray]:
    """For a walk-through step: where did ``name`` of device ``index`` land?

    Returns ``(estimated value, affected mask, deviation predicted by that estimate)``. The
    mask marks the figures this knob moves (its signature above a tenth of its peak).
    """
    dev = model.devices[index]
    param = dev.profile.parameters[name]
    stored = _value(dev, name)
    d = np.asarray(deviation, float)
    if param.kind == "continuous" and param.minimum is not None:
        a0 = _to_axis(param, float(stored))
        h = _step(param)
        a1 = a0 + h if _from_axis(param, a0 + h) != float(stored) else a0 - h
        j = model.predicted(model.with_value(index, name, _from_axis(param, a1)))
        mask = np.abs(j) > 0.1 * float(np.max(np.abs(j)) or 1.0)
        if not mask.any():
            return stored, mask, np.zeros_like(d)
        jj = float(j[mask] @ j[mask])
        guess = a0 + float(j[mask] @ d[mask]) / jj * (a1 - a0)
        lo, hi = _to_axis(param, param.minimum), _to_axis(param, param.maximum)

        def cost(a: float) -> float:
            p = model.predicted(model.with_value(index, name, _from_axis(param, a)))
            return _residual(d[mask], p[mask])

        width = max(abs(guess - a0) * 1.5, h * 2)
        res = minimize_scalar(cost, bounds=(max(lo, min(guess, a0) - width), min(hi, max(guess, a0) + width)),
                              method="bounded", options={"maxiter": REFINE_ITERATIONS, "xatol": 1e-3})
        value = _from_axis(param, float(res.x)) if res.fun <= _residual(d[mask], np.zeros(mask.sum())) else stored
        return value, mask, model.predicted(model.with_value(index, name, value))
    options = param.labels if param.kind == "stepped" else [True, False]
    best = (math.inf, stored, None)
    masks = np.zeros(len(d), bool)
    for option in options:
        value = param.parse(option) if param.kind == "stepped" else option
        p = model.predicted(model.with_value(index, name, value))
        masks |= np.abs(p) > 0.1 * float(np.max(np.abs(p)) or 1.0) if value != stored else False
        r = _residual(d, p)
        if r < best[0]:
            best = (r, value, p)
    return best[1], masks, best[2] if best[2] is not None else np.zeros_like(d)
