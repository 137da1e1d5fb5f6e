"""Whether a process still runs: the one check behind every "left by a process that died" sweep
(JACK's server slots, killed saves' temporary files, intake's staging folders)."""

from __future__ import annotations

import os


def process_exists(pid: int) -> bool:
    """True while ``pid`` runs on this machine (also when it is another user's: we may not signal it)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True
