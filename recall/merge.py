"""Three-way merge of TOML documents, key by key: a save never silently overwrites an edit.

A sheet is loaded (``base``), changed in hybrid (``ours``), and meanwhile someone saved
the file in an editor (``theirs``, what is on disk now). :func:`merge_documents` starts
from ``theirs`` (so the editor's text, comments and layout stay) and carries over every
key hybrid changed since ``base``:

- a key only one side changed takes that side's value (a removal is a change);
- a key both sides changed to the same value is fine;
- a table both sides changed is merged key by key, the same way;
- anything else is a :class:`Conflict` (key, the value on disk, the value of this save)
  and the caller refuses to save.

Values that are not tables (numbers, strings, arrays, arrays of tables such as a
track's inserts or the checklist) are compared whole, as plain Python values.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from recall.errors import key_path
from recall.tomlio import plain


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()
"""A key that one side does not have."""


@dataclass(frozen=True)
class Conflict:
    """A key both sides changed, differently: ``theirs`` is on disk, ``ours`` is this save's."""

    key: str
    theirs: Any
    ours: Any

    @staticmethod
    def show(value: Any) -> str:
        if value is MISSING:
            return "removed"
        text = repr(plain(value))
        return text if len(text) <= 60 else text[:57] + "..."

    @property
    def text(self) -> str:
        return f"changed on disk since it was loaded (now {self.show(self.theirs)}); this save has {self.show(self.ours)}"


@dataclass
class Merge:
    """What :func:`merge_documents` found: ``conflicts`` (save nothing then) and ``from_disk``,
    the keys whose value now comes from the other writer (for telling the person)."""

    conflicts: list[Conflict]
    from_disk: list[str]


def merge_documents(base: MutableMapping[str, Any], theirs: MutableMapping[str, Any],
                    ours: MutableMapping[str, Any]) -> Merge:
    """Carry ``ours``' changes since ``base`` into ``theirs`` (edited in place).

    With conflicts ``theirs`` may hold part of the merge: do not save it then.
    """
    merge = Merge([], [])
    _merge_table(base, theirs, ours, (), merge)
    return merge


def _is_table(value: Any) -> bool:
    """A TOML table (not an array of tables, not an inline value): merged key by key."""
    return isinstance(value, MutableMapping)


def _merge_table(base: MutableMapping[str, Any], theirs: MutableMapping[str, Any],
                 ours: MutableMapping[str, Any], path: tuple[str, ...], merge: Merge) -> None:
    keys = list(dict.fromkeys([*ours.keys(), *theirs.keys(), *base.keys()]))
    for key in keys:
        b = base.get(key, MISSING)
        t = theirs.get(key, MISSING)
        o = ours.get(key, MISSING)
        if _same(o, t):
            continue  # both sides agree (changed alike, or not at all)
        if _same(o, b):
            if not (_is_table(t) and _is_table(o)):
                merge.from_disk.append(key_path(*path, str(key)))
                continue
            _merge_table(b if _is_table(b) else {}, t, o, (*path, str(key)), merge)
            continue  # we changed nothing here; the other side's table, key by key for the record
        if _same(t, b):
            if o is MISSING:
                del theirs[key]
            else:
                theirs[key] = o
            continue
        if _is_table(t) and _is_table(o):
            _merge_table(b if _is_table(b) else {}, t, o, (*path, str(key)), merge)
            continue
        merge.conflicts.append(Conflict(key_path(*path, str(key)), t, o))


def _same(a: Any, b: Any) -> bool:
    if a is MISSING or b is MISSING:
        return a is b
    return bool(plain(a) == plain(b)) and type(plain(a)) is type(plain(b))
