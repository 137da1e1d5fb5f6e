"""Building small studios on disk for the recall tests (real files, real profiles)."""

from __future__ import annotations

import shutil
from pathlib import Path

from recall.studio import init_studio

PROFILES = Path(__file__).resolve().parent / "profiles"


def make_studio(root: Path, extra_toml: str = "") -> Path:
    """An initialised studio with the test profiles copied in and ``extra_toml`` appended."""
    init_studio(root, name="Test Room")
    for p in PROFILES.glob("*.toml"):
        shutil.copy(p, root / p.name)
    if extra_toml:
        with open(root / "studio.toml", "a", encoding="utf-8") as fh:
            fh.write("\n" + extra_toml)
    return root


PAPER_STUDIO = '''
[devices."Pultec A"]
profile = "paper-eq.toml"

[devices."Pultec B"]
profile = "paper-eq.toml"

[devices."Pultec C"]
profile = "paper-eq.toml"

[loops.A]
out = 3
in = 3
devices = ["Pultec A"]

[loops.B]
out = 4
in = 4
'''
