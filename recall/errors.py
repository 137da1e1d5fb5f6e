"""The one exception root of the recall layer, and the list-of-problems form of it.

Loaders report *every* broken key they find (a person fixing a studio file wants the
whole list, not one error per run); :class:`RecallProblems` carries that list and still
prints as one line for the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class RecallError(Exception):
    """A broken studio or sheet file, an unknown device or parameter, a failed recall.

    ``file`` and ``key`` (a dotted key path such as ``devices."1176 #2".ratio``) say
    where; ``str()`` gives one line fit for a CLI.
    """

    def __init__(self, reason: str, *, file: str | None = None, key: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.file = file
        self.key = key

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.key) if p)
        return f"{where}: {self.reason}" if where else self.reason

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "key": self.key, "reason": self.reason}


@dataclass(frozen=True)
class Problem:
    """One broken thing in a file: where (``file``, dotted ``key`` path) and why."""

    file: str | None
    key: str | None
    reason: str

    def __str__(self) -> str:
        return str(RecallError(self.reason, file=self.file, key=self.key))

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "key": self.key, "reason": self.reason}

    def error(self) -> RecallError:
        return RecallError(self.reason, file=self.file, key=self.key)


class RecallProblems(RecallError):
    """Several problems found in one pass; ``problems`` holds them all, in file order.

    ``str()`` is the first problem plus a count of the others, so it stays one line.
    """

    def __init__(self, problems: list[Problem]):
        if not problems:
            raise ValueError("RecallProblems needs at least one problem")
        first = problems[0]
        super().__init__(first.reason, file=first.file, key=first.key)
        self.problems = list(problems)

    def __str__(self) -> str:
        line = str(self.problems[0])
        more = len(self.problems) - 1
        if more:
            line += f" (and {more} more problem{'s' if more > 1 else ''})"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {"problems": [p.to_dict() for p in self.problems]}


def key_path(*parts: str | int) -> str:
    """A dotted TOML key path, quoting parts that are not bare keys: ``devices."1176 #2".ratio``."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, int):
            out[-1:] = [f"{out[-1]}[{part}]"] if out else [f"[{part}]"]
            continue
        if part and all(c.isalnum() or c in "-_" for c in part):
            out.append(part)
        else:
            out.append('"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return ".".join(out)
