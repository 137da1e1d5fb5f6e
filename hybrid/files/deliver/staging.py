"""All-or-nothing output folders.

Deliverables are built in a hidden staging folder beside the destination (named as
recall.atomic names its temporaries) and moved in only when everything has been written
and checked. A refusal or a crash leaves the previous deliverables as they were and no
half-written file behind; a killed run's staging folder is removed by the next run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from recall.atomic import clean_stale_temps, temp_name


class Staging:
    """``with Staging(dest) as stage:`` write into ``stage.path``; ``stage.commit()`` moves
    every file into ``dest`` (replacing same-named ones). Without commit, nothing changes."""

    def __init__(self, destination: Path):
        self.destination = Path(destination)
        self.path: Path | None = None
        self._committed = False

    def __enter__(self) -> Staging:
        self.destination.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(self.destination)  # staging folders of runs that were killed
        self.path = temp_name(self.destination)
        self.path.mkdir()
        return self

    def commit(self, *, replace_folder: bool = False) -> None:
        """Move the staged files in. ``replace_folder``: the destination becomes exactly
        the staged folder (the previous one is kept as ``<name>.previous``)."""
        assert self.path is not None
        for root, _, files in os.walk(self.path):
            for name in files:
                with open(Path(root) / name, "rb") as handle:
                    os.fsync(handle.fileno())
        if replace_folder:
            previous = self.destination.with_name(self.destination.name + ".previous")
            if self.destination.exists():
                shutil.rmtree(previous, ignore_errors=True)
                os.replace(self.destination, previous)
            os.replace(self.path, self.destination)
        else:
            self.destination.mkdir(parents=True, exist_ok=True)
            for item in sorted(self.path.iterdir()):
                os.replace(item, self.destination / item.name)
            self.path.rmdir()
        self._committed = True

    def __exit__(self, *exc) -> None:
        if not self._committed and self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
