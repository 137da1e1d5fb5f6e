"""Processors built from a device profile's ``[sound]`` table, following its simulator's knobs.

A profile says what its unit sounds like (docs/CONTRACTS.md, "[sound]"): a model
(compressor, eq, reverb, saturator, none), which parameter drives which DSP role, EQ
bands, a noise floor and a bypass switch. ``SoundUnit`` builds the processors for that
model and sets them from a parameter state; ``bind(simulator)`` subscribes to the
device simulator's ``on_change``, so turning a knob over MIDI or serial changes the
sound in the loop at the next audio block.

    unit = SoundUnit(profile)
    unit.bind(simulator)               # follows simulator.state from now on
    LoopSpec(delay_samples=..., processors=unit.processors)
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

from devices.sound_schema import BAND_DEFAULTS, MODEL_ROLES
from hybrid.errors import HybridError
from hybrid.models.dsp import Band, Compressor, Equaliser, Gain, NoiseFloor, Processor, Reverb, Saturator

class SoundUnit:
    """The DSP of one unit of gear, driven by its parameter state.

    ``processors`` (in signal order) go into a loop's ``LoopSpec.processors``; several
    units on one loop are simply listed one after another.
    """

    def __init__(self, profile, state: dict[str, Any] | None = None, *, seed: int | None = None) -> None:
        sound = getattr(profile, "sound", None)
        if not sound:
            raise HybridError("the profile has no [sound] table: the simulated gear does not know how it "
                              "sounds", where=f"profile {profile.id}")
        self.profile = profile
        self.model = sound["model"]
        if self.model not in MODEL_ROLES:
            raise HybridError(f"[sound] model {self.model!r} is not one the simulated gear runs "
                              f"({', '.join(MODEL_ROLES)})", where=f"profile {profile.id}")
        self.roles: dict[str, Any] = dict(sound.get("roles", {}))
        self.bands: list[dict] = [dict(b) for b in sound.get("bands", [])]
        self.main: Processor | None = None
        self.trim: Gain | None = None
        if self.model == "compressor":
            self.main = Compressor()
        elif self.model == "eq":
            self.main = Equaliser([Band(type=b["type"]) for b in self.bands])
            self.trim = Gain()
        elif self.model == "reverb":
            self.main = Reverb()
            self.trim = Gain()
        elif self.model == "saturator":
            self.main = Saturator()
        else:
            self.trim = Gain()
        self.noise = NoiseFloor(float(self.roles["noise_dbfs"]), seed=seed) if "noise_dbfs" in self.roles else None
        self.processors: list[Processor] = [p for p in (self.main, self.trim, self.noise) if p is not None]
        self.bypassed = False
        self.errors: list[str] = []
        """What went wrong applying a simulator's change (its thread must not die of it)."""
        self._unsubscribe: Callable[[], None] | None = None
        self.apply(state if state is not None else profile.defaults())

    def number(self, role: str, state: dict[str, Any]) -> float:
        """A role's value now: its parameter's number, the profile's constant, or the default."""
        if role not in self.roles:
            return MODEL_ROLES[self.model][role]
        return float(self.profile.role_number(self.roles[role], state))

    def apply(self, state: dict[str, Any]) -> None:
        """Set every processor from ``state`` (parameter name -> value in the engineer's units)."""
        get = lambda role: self.number(role, state)  # noqa: E731
        try:
            if self.model == "compressor":
                self.main.set(**{role: get(role) for role in MODEL_ROLES["compressor"]})
            elif self.model == "eq":
                for index, band in enumerate(self.bands):
                    values = {key: float(self.profile.role_number(band.get(key, default), state))
                              for key, default in BAND_DEFAULTS.items()}
                    freq = float(self.profile.role_number(band["freq_hz"], state))
                    self.main.set_band(index, freq_hz=freq, gain_db=values["gain_db"], q=max(values["q"], 0.05),
                                       enabled=values["enabled"] != 0.0)
                self.trim.set(gain_db=get("makeup_db"))
            elif self.model == "reverb":
                self.main.set(decay_s=max(get("decay_s"), 0.05), predelay_ms=max(get("predelay_ms"), 0.0),
                              mix=min(max(get("mix"), 0.0), 1.0), damping=get("damping"))
                self.trim.set(gain_db=get("output_db"))
            elif self.model == "saturator":
                self.main.set(drive_db=get("drive_db"), output_db=get("output_db"))
            else:
                self.trim.set(gain_db=get("output_db"))
        except ValueError as exc:
            raise HybridError(f"cannot set the simulated sound: {exc}", where=f"profile {self.profile.id}") from exc
        bypassed = "bypass" in self.roles and self.profile.role_number(self.roles["bypass"], state) != 0.0
        self.bypassed = bypassed
        for proc in self.processors:
            proc.bypass = bypassed

    def bind(self, simulator) -> Callable[[], None]:
        """Follow ``simulator``'s knobs (its ``on_change``) from now on; returns an unsubscribe."""
        self.unbind()

        def changed(_param: str, _value: Any) -> None:
            try:
                self.apply(dict(simulator.state))
            except HybridError as exc:  # keep the simulator's thread alive; report on demand
                self.errors.append(str(exc))

        self._unsubscribe = simulator.on_change(changed)
        self.apply(dict(simulator.state))
        return self.unbind

    def unbind(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
