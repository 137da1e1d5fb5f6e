"""Sub-layer 0 of ``hybrid/``: models of analog gear as DSP (numpy/scipy), no I/O.

Production code: verify by ear fits them to name a suspect, and the simulated gear
(``hybrid.simgear``) runs them in its JACK client. Imports only ``hybrid.errors`` and
the layers below ``hybrid/``.
"""
