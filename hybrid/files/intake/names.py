"""The naming rules clients are given: a number and an instrument, drums split, effects apart.

"1Kick", "02 Snare", "3 Bass DI" pass. A name without a leading number, or whose words
are only what a DAW writes by itself ("Audio 1", "Track 07", "Bounce", "Untitled"), is
flagged. Names that say "whole drum kit" ("Drums", "DrumBus", "Kit") are flagged, since
the rules ask for drums on individual tracks. Names that look like an effect return
("Vox Delay", "FX 1", "Verb") are listed as info: those are effects on their own track,
as asked. An effect printed into a dry stem cannot be told from the audio; that is said
once in the report's notes rather than guessed per file.
"""

from __future__ import annotations

import re

from hybrid.files.intake.report import FileReport

_NUMBERED = re.compile(r"^\s*(\d{1,3})(?!\d)[\s._-]*(.*)$")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])")

GENERIC_WORDS = {
    "audio", "track", "trk", "tr", "bounce", "bounced", "untitled", "stem", "stems", "new",
    "export", "exported", "output", "out", "mix", "master", "st", "mono", "stereo", "copy",
    "inst", "instrument", "midi", "aux", "bus", "take", "comp", "file", "sample", "render",
    "rendered", "print", "printed", "l", "r", "dup", "final", "v", "version", "edit",
}
DRUM_PARTS = {
    "kick", "kik", "bd", "snare", "sn", "snr", "tom", "toms", "hat", "hats", "hihat", "hh",
    "oh", "ohs", "overhead", "overheads", "ride", "crash", "cymbal", "cymbals", "china",
    "splash", "room", "rooms", "clap", "claps", "rim", "rimshot", "floor", "rack", "sub",
    "trash", "mono", "top", "bottom", "ambience", "amb",
}
DRUM_BUS_WORDS = {"drums", "drum", "drumkit", "drumset", "kit", "drumbus", "drumsbus", "batterie",
                  "bateria", "schlagzeug"}
EFFECT_WORDS = {
    "fx", "sfx", "efx", "verb", "reverb", "rev", "delay", "dly", "echo", "plate", "hall",
    "chamber", "spring", "chorus", "flanger", "phaser", "throw", "throws", "ambience",
}


def words(name: str) -> list[str]:
    """Lower-case words of a track name, splitting camelCase and digit boundaries."""
    spaced = _CAMEL.sub(" ", name)
    return [w for w in re.split(r"[^0-9A-Za-z\u00c0-\uffff]+", spaced.lower()) if w]


def check_name(report: FileReport, track: str) -> None:
    """Add the name, drums and effects findings for ``track`` to ``report``."""
    m = _NUMBERED.match(track)
    rest = m.group(2) if m else track
    ws = [w for w in words(rest) if not w.isdigit()]
    meaningful = [w for w in ws if w not in GENERIC_WORDS]
    if not meaningful:
        report.add("name", "warn", f"{track!r} does not say which instrument it is "
                   "(a DAW's default name?); ask for e.g. '1Kick', '2Snare'")
    elif not m:
        report.add("name", "warn", f"{track!r} has no track number in front "
                   "(the rules ask for e.g. '1Kick', '2Snare')")
    else:
        report.add("name", "pass", f"number {int(m.group(1))} and instrument {rest.strip()!r}")

    wset = set(ws)
    joined = "".join(ws)
    if (wset & DRUM_BUS_WORDS or joined in DRUM_BUS_WORDS) and not wset & DRUM_PARTS:
        report.add("drums", "warn", "looks like a whole drum kit on one track; the rules ask "
                   "for drums on individual tracks (kick, snare, toms, overheads, room)")

    effects = sorted(wset & EFFECT_WORDS)
    if effects:
        report.add("effects", "info", f"looks like an effect track ({', '.join(effects)}): "
                   "effects on their own track, as asked")
