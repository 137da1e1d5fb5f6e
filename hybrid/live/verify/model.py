"""A chain of gear as DSP, built from the profiles' ``[sound]`` tables: what a setting *should* sound like.

The suspect finder needs to ask "if this knob had moved by so much, how would the
chain's fingerprint change?". It answers by running the same stimulus through a model
of the chain: each device's ``[sound]`` table (docs/CONTRACTS.md) turned into the
processors of ``hybrid.models.sound.SoundUnit`` with the sheet's values, i.e. the same DSP
the simulated gear runs. Real gear is not these processors, but a knob's *effect* (a bell at
the band's frequency, a steeper slope above threshold) has the same shape, and that
shape is what the finder matches.

Only what the profiles describe is modelled: a device with no ``[sound]`` table (or
model ``none``) is a wire. The noise floor is left out (the model is deterministic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from devices.profile import Profile
from hybrid.errors import HybridError
from hybrid.models.dsp import Processor
from hybrid.models.sound import SoundUnit


@dataclass(frozen=True)
class DeviceModel:
    """One device of a chain: its name in the room, its profile and the values it is set to."""

    name: str
    profile: Profile
    values: dict[str, Any]

    def with_value(self, parameter: str, value: Any) -> DeviceModel:
        return DeviceModel(self.name, self.profile, {**self.values, parameter: value})

    def number(self, role: Any) -> float:
        return self.profile.role_number(role, self.values)

    def sound_parameters(self) -> list[str]:
        """The parameters the ``[sound]`` table reads (those whose move can be heard), panel order."""
        sound = self.profile.sound or {}
        named: set[str] = set()
        for value in (sound.get("roles") or {}).values():
            if isinstance(value, str):
                named.add(value)
        for band in sound.get("bands") or []:
            for key, value in band.items():
                if key != "type" and isinstance(value, str):
                    named.add(value)
        return [p for p in self.profile.parameters if p in named]

    def processors(self, samplerate: int) -> list[Processor]:
        """The DSP for this device at its values (a fresh, prepared set)."""
        return processors_for(self.profile, self.values, samplerate, where=self.name)


def processors_for(profile: Profile, values: dict[str, Any], samplerate: int, *,
                   where: str | None = None) -> list[Processor]:
    """Processors for ``profile`` set to ``values`` (missing = defaults), prepared at ``samplerate``.

    Built by ``hybrid.models.sound.SoundUnit``, the very class the simulated gear runs,
    without its noise floor.
    """
    sound = profile.sound
    if not sound or sound.get("model") in (None, "none"):
        return []
    state = {**profile.defaults(), **values}
    try:
        unit = SoundUnit(profile, state)
    except HybridError as exc:
        raise HybridError(str(exc.reason), where=where or exc.where) from exc
    procs = [p for p in unit.processors if p is not unit.noise]
    for proc in procs:
        proc.prepare(samplerate)
    return procs


def run_chain(devices: list[DeviceModel], samples: np.ndarray, samplerate: int) -> np.ndarray:
    """``samples`` (1-D) through the chain's processors in order, block by block like a JACK client."""
    procs = [p for d in devices for p in d.processors(samplerate)]
    x = np.asarray(samples, dtype=np.float64).copy()
    if not procs:
        return x
    block = 4096
    out = np.empty_like(x)
    for start in range(0, len(x), block):
        y = x[start:start + block].copy()
        for proc in procs:
            y = proc(y)
        out[start:start + len(y)] = y
    return out
