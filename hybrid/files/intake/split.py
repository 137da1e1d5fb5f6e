"""Two or more songs in one upload, told apart by their folders.

A client who zips several songs together usually does it one folder per song, each
folder numbered from its own first stem::

    Night Drive/1Kick.wav  Night Drive/2Snare.wav  ...
    Day Walk/1Kick.wav     Day Walk/2Bass.wav      ...

:func:`song_folders` reads that from the listing alone: every stem under one of at least
two top-level folders, nothing but system junk outside them, and in every folder at
least two stems, their names starting with a number, the lowest being 0 or 1. Folders per instrument of one
song (``Drums/1Kick.wav``, ``Music/3Bass.wav``) continue one numbering and are no split.

The folders are only a proposal: :func:`songs_differ` confirms it after the stems'
headers are read (the same stem name in two folders, or folders of different lengths or
rates). Unconfirmed (say ``Drums/1Kick.wav`` and ``Bass/1Bass.wav``, one length) the
upload is taken as one song; two songs the folders do not separate are refused
(hybrid.files.intake.pipeline).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from hybrid.files.intake.members import classify, clash_key, safe_parts, stem_filename

_LEADING_NUMBER = re.compile(r"\s*(\d+)")


def top_folder(name: str) -> str | None:
    """The entry's top-level folder, or None for a top-level file."""
    parts = safe_parts(name)
    return parts[0] if len(parts) > 1 else None


def song_folders(entries: Sequence[Any]) -> list[str] | None:
    """The top-level folders that each hold one song's numbered stems, in listing order, or
    None when the listing does not say so (see the module docstring)."""
    numbers: dict[str, list[int]] = {}
    for entry in entries:
        if entry.kind == "dir":
            continue
        parts = safe_parts(entry.name)
        kind = classify(parts)
        if kind == "junk":
            continue
        folder = parts[0] if len(parts) > 1 else None
        if folder is None:
            return None  # something of the upload's own at the top: not one folder per song
        found = numbers.setdefault(folder, [])
        if kind != "wav":
            continue
        m = _LEADING_NUMBER.match(parts[-1])
        if m is None:
            return None
        found.append(int(m.group(1)))
    if len(numbers) < 2 or any(len(found) < 2 or min(found) > 1 for found in numbers.values()):
        return None
    return list(numbers)


def songs_differ(groups: Sequence[Sequence[Any]]) -> bool:
    """Whether folders proposed as songs hold different songs: a stem name in two of them,
    or folders each of its own (rate, length) differing from the others'. ``groups`` are
    each folder's imported FileReports."""
    seen: dict[str, int] = {}
    for k, files in enumerate(groups):
        for f in files:
            key = clash_key(stem_filename(safe_parts(f.member)))
            if seen.setdefault(key, k) != k:
                return True
    shapes = [{(f.samplerate, f.frames) for f in files} for files in groups]
    return all(len(s) == 1 for s in shapes) and len(set().union(*shapes)) > 1
