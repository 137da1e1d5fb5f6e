"""The CLI sub-layer: the ``hybrid`` command (``main``) and one module per area (``*_cmd``).

The top of ``hybrid/``: it may import every other sub-layer (app, files, live, models).
"""

from hybrid.cli.main import main

__all__ = ["main"]
