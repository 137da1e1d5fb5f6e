"""Control surfaces: Mackie Control (MCU + XT) and HUI over MIDI.

- ``codec``, ``mcu``, ``hui``: the wire formats (pure, shared by drivers and simulators);
- ``units``, ``driver``: a surface on its ports, coalesced and paced output, liveness;
- ``session``: a bank of ``Slot`` s on the strips, edits and confirmations as events;
- ``sim``: simulated MCU/XT and HUI surfaces on virtual MIDI ports, for tests and demos.
"""

from devices.surfaces.driver import Surface, SurfaceStatus
from devices.surfaces.session import (
    Slot, SlotConfirm, SlotEdit, SurfaceBank, SurfaceError, SurfaceProblem, SurfaceSession,
)

__all__ = [
    "Slot", "SlotConfirm", "SlotEdit", "Surface", "SurfaceBank", "SurfaceError", "SurfaceProblem",
    "SurfaceSession", "SurfaceStatus",
]
