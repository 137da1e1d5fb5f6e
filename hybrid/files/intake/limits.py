"""Caps that keep a hostile or broken archive from filling the studio's disk.

The caps are checked twice: against the sizes the archive *declares* (a fast refusal
before a byte is written) and against the bytes that actually come out while streaming
(headers can lie). ``Budget`` is the streaming counter; every extracted or skipped byte
is charged to it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hybrid.files.intake.report import Refusal

GIB = 1024 ** 3
MIB = 1024 ** 2


@dataclass(frozen=True)
class Limits:
    """Upper bounds for one upload. Defaults fit a big professional song with room to spare.

    A 100-track, 10-minute, 96 kHz, 32-bit float stereo session is about 46 GB, hence the
    64 GiB total. Deflate cannot compress better than about 1032:1, so ``max_ratio`` only
    trips on crafted streams or stronger codecs (bzip2, lzma): a fully silent stem deflated
    stays under it and reaches the silence rule, not the bomb guard.
    """

    max_total_bytes: int = 64 * GIB
    """Sum of every member's uncompressed bytes."""
    max_file_bytes: int = 8 * GIB
    """One member's uncompressed bytes (RF64 stems may pass 4 GiB)."""
    max_files: int = 2000
    """Entries in the archive, folders and junk included."""
    max_ratio: float = 1100.0
    """Uncompressed / compressed bytes of one member."""
    ratio_floor_bytes: int = 1 * MIB
    """The ratio is judged only once a member has produced this much (tiny files can't hurt)."""
    min_free_bytes: int = 256 * MIB
    """Free space to leave on the studio's disk after the upload."""
    chunk_bytes: int = 1 * MIB
    """Read/write chunk while unpacking."""


SPACE_CHECK_BYTES = 64 * MIB
"""While writing, the disk's free space is looked at again after this many bytes."""


class Budget:
    """Counts real uncompressed bytes while streaming and refuses as soon as a cap is passed.

    Every archive format goes through it: per-member size and ratio (when the member's
    packed size is known), the upload's total, the whole archive's ratio (solid archives
    have no per-member packed size: ``archive_bytes``), and the free space of the disk
    being written (``space_dir``), looked at again while writing.
    """

    def __init__(self, limits: Limits, on_member: Callable[[str], None] | None = None, *,
                 archive_bytes: int | None = None, space_dir: Path | None = None):
        self.limits = limits
        self._on_member = on_member
        self._archive_bytes = archive_bytes
        self._space_dir = space_dir
        self._next_space_check = SPACE_CHECK_BYTES
        self.total_bytes = 0
        self._member = ""
        self._member_bytes = 0
        self._member_compressed: int | None = None

    def start(self, member: str, compressed_size: int | None) -> None:
        self._member = member
        self._member_bytes = 0
        self._member_compressed = compressed_size
        if self._on_member is not None:
            self._on_member(member)

    def charge(self, nbytes: int) -> None:
        lim = self.limits
        self._member_bytes += nbytes
        self.total_bytes += nbytes
        if self._member_bytes > lim.max_file_bytes:
            raise Refusal(f"unpacks to more than the {_size(lim.max_file_bytes)} allowed for one file "
                          "(zip bomb or oversized file)", member=self._member, rule="bomb")
        if self.total_bytes > lim.max_total_bytes:
            raise Refusal(f"archive unpacks to more than the {_size(lim.max_total_bytes)} allowed "
                          "(zip bomb or oversized upload)", member=self._member, rule="bomb")
        whole = self._archive_bytes
        if (whole is not None and self.total_bytes > lim.ratio_floor_bytes
                and self.total_bytes > lim.max_ratio * max(whole, 1)):
            raise Refusal(f"compression ratio above {lim.max_ratio:g}:1 (the {_size(whole)} archive "
                          f"already gave {_size(self.total_bytes)}; archive bomb)",
                          member=self._member, rule="bomb")
        if self._space_dir is not None and self.total_bytes >= self._next_space_check:
            self._next_space_check = self.total_bytes + SPACE_CHECK_BYTES
            free = shutil.disk_usage(self._space_dir).free
            if free < lim.min_free_bytes:
                raise Refusal(f"the disk filled while unpacking ({_size(free)} left; "
                              f"{_size(lim.min_free_bytes)} must stay free)", rule="disk")
        packed = self._member_compressed
        if (packed is not None and self._member_bytes > lim.ratio_floor_bytes
                and self._member_bytes > lim.max_ratio * max(packed, 1)):
            raise Refusal(f"compression ratio above {lim.max_ratio:g}:1 "
                          f"({_size(packed)} packed already gave {_size(self._member_bytes)}; zip bomb)",
                          member=self._member, rule="bomb")


def _size(nbytes: int | None) -> str:
    if nbytes is None:
        return "?"
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", 1024)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} B"


size_text = _size
