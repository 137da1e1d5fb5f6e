"""Sub-layer 1 of ``hybrid/``: live audio I/O.

``audio`` (interface, streams, ping/latency, print passes, latency store) and
``verify`` (verify by ear: fingerprints measured through the loops). May import
``hybrid.models``; never ``files``, ``app`` or ``cli``.
"""
