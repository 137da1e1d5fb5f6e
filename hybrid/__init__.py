"""hybrid: audio (streams, latency, print passes, analysis), the CLI and session orchestration.

Never imports textual.
"""

from hybrid.errors import HybridError

__all__ = ["HybridError"]
__version__ = "0.1.0"
