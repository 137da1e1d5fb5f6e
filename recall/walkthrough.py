"""The hand-set part of a recall: an ordered list of steps for the person at the rack.

Order is signal flow: track by track as the sheet lists them, each insert in order,
each device in its chain order, each parameter in panel order (the profile's order).
Gear the sheet sets but no chain uses comes last. A device appears once, at its first
place in the flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from collections.abc import Iterable

from recall.sheet import Sheet
from recall.values import position, show

if TYPE_CHECKING:
    from recall.studio import Studio


@dataclass
class Step:
    """Set ``parameter`` of ``device`` to ``target`` (``setting`` as printed; ``detent`` label if any)."""

    number: int
    device: str
    parameter: str
    label: str
    target: Any
    setting: str
    detent: str | None
    kind: str
    position: float
    chain: str
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "device": self.device, "parameter": self.parameter,
                "label": self.label, "target": self.target, "setting": self.setting,
                "detent": self.detent, "kind": self.kind, "position": round(self.position, 4),
                "chain": self.chain, "notes": self.notes}

    def __str__(self) -> str:
        where = f" [{self.chain}]" if self.chain else ""
        return f"{self.number:3d}. {self.device}: {self.label} -> {self.setting}{where}"


def chain_order(sheet: Sheet) -> list[tuple[str, str]]:
    """(device, chain text) in signal-flow order, each device once."""
    seen: dict[str, str] = {}
    for track in sheet.tracks:
        for ins in track.inserts:
            for dev in ins.devices:
                seen.setdefault(dev, f"{track.name} > {ins.loop}")
    for dev in sheet.device_names:
        seen.setdefault(dev, "")
    return list(seen.items())


def walkthrough(sheet: Sheet, studio: Studio, *, extra: Iterable[str] = ()) -> list[Step]:
    """Steps for every hand-set device on the sheet (and the machine-set ones named in ``extra``,
    e.g. those an apply could not set)."""
    extra = set(extra)
    steps: list[Step] = []
    for dev, chain in chain_order(sheet):
        entry = studio.devices.get(dev)
        if entry is None or (entry.machine_settable and dev not in extra):
            continue
        values = sheet.values(dev)
        if not values:
            continue
        first = True
        applies = set(entry.profile.applicable_to(values))
        for name, param in entry.profile.parameters.items():
            if name not in values or name not in applies:   # an algorithm's controls only when it runs
                continue
            try:
                target = param.parse(values[name])
            except ValueError:
                target = values[name]
            detent = None
            if param.kind == "stepped":
                detent = str(target)
            elif param.kind == "switch":
                detent = show(param, target)
            steps.append(Step(
                number=len(steps) + 1, device=dev, parameter=name, label=param.label or name,
                target=target, setting=show(param, target), detent=detent, kind=param.kind,
                position=position(param, target), chain=chain,
                notes=sheet.device_notes(dev) if first else "",
            ))
            first = False
    return steps
