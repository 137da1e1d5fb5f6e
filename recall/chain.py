"""A song's insert chains: the one place a sheet's inserts become ``loop send -> units -> loop return``.

A track's ``[[tracks.X.inserts]]`` name a loop and, optionally, the gear on it; an
insert that lists no gear uses the loop's hard-wired ``devices`` (studio.toml). Routing
(recall.routing), the print planner (hybrid.live.audio.song) and verify by ear
(hybrid.live.verify) all take their chains from :func:`song_chains`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recall.errors import key_path

if TYPE_CHECKING:
    from recall.sheet import Insert, Sheet
    from recall.studio import Studio

SOURCE_KINDS = ("send", "out")
"""Points a signal leaves from: a loop's send (the interface output), a unit's output."""
DEST_KINDS = ("in", "return")
"""Points a signal arrives at: a unit's input, a loop's return (the interface input)."""


@dataclass(frozen=True)
class Endpoint:
    """A jack a chain passes through: a loop's ``send``/``return`` or a unit's ``in``/``out``."""

    kind: str
    name: str

    @property
    def is_loop(self) -> bool:
        return self.kind in ("send", "return")

    def __str__(self) -> str:
        return f"loop {self.name} {self.kind}" if self.is_loop else f"{self.name} {self.kind}"


@dataclass
class Chain:
    """One insert of one track: ``loop send -> units -> loop return``."""

    track: str
    insert: int
    """0-based position in the track's insert list (= the print round)."""
    loop: str
    devices: tuple[str, ...]
    """The units in signal order (the insert's own, else the loop's hard-wired gear)."""
    out_channel: int = 0
    """The loop's interface output (1-based; 0 when the loop is not in the studio)."""
    in_channel: int = 0
    hard_wired: bool = False
    """True when the chain is the loop's own wiring: nothing to patch (set by routing)."""

    @classmethod
    def of(cls, track: str, index: int, insert: Insert, studio: Studio) -> Chain:
        """The chain of ``track``'s ``index``-th insert in ``studio``."""
        loop = studio.loops.get(insert.loop)
        units = tuple(insert.devices) or tuple(loop.devices if loop else ())
        return cls(track=track, insert=index, loop=insert.loop, devices=units,
                   out_channel=loop.out_channel if loop else 0, in_channel=loop.in_channel if loop else 0)

    @property
    def key(self) -> str:
        """Where the insert sits in the sheet (``tracks."1Kick".inserts[0]``)."""
        return key_path("tracks", self.track, "inserts", self.insert)

    @property
    def text(self) -> str:
        return " -> ".join([f"loop {self.loop} send", *self.devices, f"loop {self.loop} return"])

    def hops(self) -> list[tuple[Endpoint, Endpoint]]:
        """The ties the chain needs, source to destination, in signal order."""
        points = [Endpoint("send", self.loop)]
        for dev in self.devices:
            points += [Endpoint("in", dev), Endpoint("out", dev)]
        points.append(Endpoint("return", self.loop))
        return [(points[i], points[i + 1]) for i in range(0, len(points), 2)]

    def to_dict(self) -> dict[str, Any]:
        return {"track": self.track, "insert": self.insert, "loop": self.loop, "devices": list(self.devices),
                "hard_wired": self.hard_wired, "key": self.key}


def song_chains(sheet: Sheet, studio: Studio) -> list[Chain]:
    """Every insert of every track, in track order then signal order."""
    return [Chain.of(track.name, i, ins, studio) for track in sheet.tracks for i, ins in enumerate(track.inserts)]


def track_chains(sheet: Sheet, studio: Studio) -> dict[str, list[Chain]]:
    """:func:`song_chains` by track (every track of the sheet; ``[]`` for a dry one)."""
    out: dict[str, list[Chain]] = {track.name: [] for track in sheet.tracks}
    for chain in song_chains(sheet, studio):
        out[chain.track].append(chain)
    return out
