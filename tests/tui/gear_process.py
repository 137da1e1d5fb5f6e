"""The simulated gear as its own process (``python -m hybrid.simgear --config``), for the UI tests and benches.

In the UI's process the gear's JACK callback would wait for the GIL while Textual renders,
and xrun; as its own process it never waits for the control room.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def gear_process(config: Path) -> Iterator[subprocess.Popen]:
    """Start the gear described by the TOML file ``config``; wait for its ready line; stop it at the end.
    Its stderr goes to ``config`` with the suffix ``.log``."""
    from hybrid.live.audio.portaudio import rescan

    log_path = config.with_suffix(".log")   # a file, not a pipe: a full pipe would stall the gear
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "hybrid.simgear", "--config", str(config)],
                                stdout=subprocess.PIPE, stderr=log, text=True,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        ready = json.loads(proc.stdout.readline() or "{}")
        if not ready.get("ready"):
            proc.wait(timeout=10)
            raise RuntimeError(f"the simulated gear did not start: {log_path.read_text().strip()}")
        rescan()   # PortAudio lists JACK clients when it initialises: make it see the gear
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
