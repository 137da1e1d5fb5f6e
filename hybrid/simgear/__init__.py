"""Simulated analog gear for tests and the demo: a JACK client whose insert loops sound like gear.

Sub-layer 2 of ``hybrid/``: runs the gear models of ``hybrid.models`` (``dsp``, ``sound``)
in a JACK client; may import ``live`` and ``models``, never ``files``, ``app`` or ``cli``.

- ``loop``  ``LoopSpec`` (a loop as data) and ``LoopChannel`` (it running, with test hooks);
  ``StereoLoopSpec`` (a stereo unit on two channels, each side its own wire) and
  ``SummingSpec`` (a summing mixer: N sends onto a stereo bus), models in ``hybrid.models.stereo``
- ``gear``  ``SimGear``: the JACK client, its units on ports ``in_K``/``out_K``
- ``config`` the TOML file ``python -m hybrid.simgear --config FILE`` runs
"""

from hybrid.simgear.gear import SimGear
from hybrid.simgear.loop import LoopChannel, LoopSpec, StereoLoopSpec, SummingSpec

__all__ = ["SimGear", "LoopSpec", "LoopChannel", "StereoLoopSpec", "SummingSpec"]
