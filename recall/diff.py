"""Differences between two versions of a sheet, or between a sheet and the gear now.

A diff is a list of :class:`Change`, one per key path that differs, in sheet order.
Device values are compared the way the gear sees them (recall.values.same): a value
read back quantised to the wire is not a change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recall.errors import key_path
from recall.sheet import Sheet
from recall.values import same, show

if TYPE_CHECKING:
    from recall.studio import Studio


@dataclass
class Change:
    """``key`` changed from ``old`` to ``new`` (None = absent). ``device``/``param`` set for values."""

    key: str
    old: Any
    new: Any
    device: str | None = None
    param: str | None = None
    old_text: str = ""
    new_text: str = ""

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "old": self.old, "new": self.new,
                "old_text": self.old_text, "new_text": self.new_text,
                "device": self.device, "param": self.param}

    def __str__(self) -> str:
        if self.kind == "added":
            return f"+ {self.key} = {self.new_text}"
        if self.kind == "removed":
            return f"- {self.key} (was {self.old_text})"
        return f"~ {self.key}: {self.old_text} -> {self.new_text}"


def _flatten(sheet: Sheet) -> dict[str, tuple[Any, str | None, str | None]]:
    """key path -> (value, device, param), in sheet order."""
    out: dict[str, tuple[Any, str | None, str | None]] = {}
    for name in ("title", "artist", "album", "samplerate", "stage", "notes"):
        value = getattr(sheet, name)
        if value not in ("", None):
            out[key_path("song", name)] = (value, None, None)
    if sheet.photos:
        out["song.photos"] = (sheet.photos, None, None)
    for track in sheet.tracks:
        out[key_path("tracks", track.name, "file")] = (track.file, None, None)
        if track.inserts:
            chain = " | ".join(f"{i.loop}: {' > '.join(i.devices) or '(loop gear)'}" for i in track.inserts)
            out[key_path("tracks", track.name, "inserts")] = (chain, None, None)
    for dev in sheet.device_names:
        for param, value in sheet.values(dev).items():
            out[key_path("devices", dev, "values", param)] = (value, dev, param)
        if sheet.device_notes(dev):
            out[key_path("devices", dev, "notes")] = (sheet.device_notes(dev), dev, None)
        if sheet.device_photos(dev):
            out[key_path("devices", dev, "photos")] = (sheet.device_photos(dev), dev, None)
    for item in sheet.checklist:
        out[key_path("checklist", item.item)] = (item.done, None, None)
    return out


def _param(studio: Studio | None, device: str | None, param: str | None) -> Any:
    if studio is None or device is None or param is None:
        return None
    entry = studio.devices.get(device)
    return entry.profile.parameters.get(param) if entry else None


def diff_sheets(old: Sheet, new: Sheet, studio: Studio | None = None) -> list[Change]:
    """What changed from ``old`` to ``new``: keys of ``new`` in order, then removed keys."""
    a, b = _flatten(old), _flatten(new)
    changes = []
    for key, (value, dev, param) in b.items():
        p = _param(studio, dev, param)
        if key not in a:
            changes.append(Change(key, None, value, dev, param, "", show(p, value)))
        elif not same(p, a[key][0], value):
            changes.append(Change(key, a[key][0], value, dev, param, show(p, a[key][0]), show(p, value)))
    for key, (value, dev, param) in a.items():
        if key not in b:
            p = _param(studio, dev, param)
            changes.append(Change(key, value, None, dev, param, show(p, value), ""))
    return changes


def diff_gear(sheet: Sheet, studio: Studio, readings: dict[str, dict[str, Any]]) -> list[Change]:
    """Sheet values (old) against what the gear reports now (new), for the devices read.

    Only parameters the sheet sets are compared; a parameter the sheet leaves out is
    "as found" and never a difference.
    """
    changes = []
    for dev, gear in readings.items():
        for param, want in sheet.values(dev).items():
            if param not in gear:
                continue
            p = _param(studio, dev, param)
            try:
                want_v = p.parse(want) if p is not None else want
            except ValueError:
                want_v = want
            have = gear[param]
            if not same(p, want_v, have):
                changes.append(Change(key_path("devices", dev, "values", param), want_v, have, dev, param,
                                      show(p, want_v), show(p, have)))
    return changes
