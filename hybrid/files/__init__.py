"""Sub-layer 1 of ``hybrid/``: offline file work, no audio streams.

``intake`` (client archives to songs), ``loudness`` (BS.1770 / R128) and ``deliver``
(mix deliverables, CD masters, DDP). May import ``hybrid.models``; never ``live``,
``app`` or ``cli``.
"""
