"""Hand-set units: no cable to the computer; a person sets them from the walk-through."""

from __future__ import annotations

from typing import Any

from devices.transports.base import SimSide, Transport


class ManualTransport(Transport):
    name = "manual"
    protocol = "none"
    machine_settable = False

    def simulate(self, _sim: Any) -> SimSide:
        return ManualSim()

    def presence(self, _port: str, _cache: dict[str, Any]) -> tuple[bool, str]:
        return True, "set by hand from the walk-through"


class ManualSim(SimSide):
    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def describe(self) -> str:
        return "no transport (hand-set unit: turn its knobs with set)"


TRANSPORT = ManualTransport()
