"""Simulated analog gear for tests and the demo: a JACK client whose insert loops sound like gear.

- ``dsp``   block processors: fractional delay, gain/polarity, noise, saturator, clipper,
            transformer high-pass, EQ (biquads), compressor, reverb
- ``loop``  ``LoopSpec`` (a loop as data) and ``LoopChannel`` (it running, with test hooks)
- ``gear``  ``SimGear``: the JACK client, N loops on ports ``in_K``/``out_K``
- ``sound`` processors built from a device profile's ``[sound]`` table, following a
            device simulator's knobs (MIDI/serial) through ``Simulator.on_change``
- ``config`` the TOML file ``python -m hybrid.simgear --config FILE`` runs
"""

from hybrid.simgear.gear import SimGear
from hybrid.simgear.loop import LoopChannel, LoopSpec

__all__ = ["SimGear", "LoopSpec", "LoopChannel"]
