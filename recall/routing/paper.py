"""A paper bay: the ties of a pass as hand steps of the walk-through ("patch Send 3 -> 1176 #2 In")."""

from __future__ import annotations

from collections.abc import Iterable

from recall.routing.bay import PAPER, Bay, load_bay
from recall.routing.plan import RoutePass, plan_routes
from recall.sheet import Sheet
from recall.studio import Studio
from recall.walkthrough import Step, walkthrough


def patch_steps(bay: Bay, rp: RoutePass, *, first: int = 1) -> list[Step]:
    """The walk-through steps that make a pass on a paper bay ("patch Send 3 -> 1176 #2 In")."""
    steps: list[Step] = []
    for tie in rp.ties:
        src, dst = bay.label(tie.source), bay.label(tie.dest)
        steps.append(Step(number=first + len(steps), device="Patchbay", parameter=f"patch {tie.source}",
                          label=f"patch {src}", target=dst, setting=dst, detent=None, kind="patch",
                          position=0.0, chain=tie.chain,
                          notes=f"{tie.source} -> {tie.dest}"))
    return steps


def walkthrough_with_patching(sheet: Sheet, studio: Studio, rp: RoutePass | None = None, *,
                              extra: Iterable[str] = ()) -> list[Step]:
    """The song's walk-through with the paper bay's patching first (patch, then set the knobs).

    ``rp`` is the pass to patch (default: every chain of the song at once); ``extra`` as for
    :func:`recall.walkthrough.walkthrough`."""
    steps = walkthrough(sheet, studio, extra=extra)
    bay = load_bay(studio)
    if bay.kind != PAPER:
        return steps
    if rp is None:
        plan = plan_routes(studio, sheet, together=True)
        rp = plan.passes[0] if plan.passes else None
    patches = patch_steps(bay, rp) if rp is not None else []
    for i, step in enumerate(steps):
        step.number = len(patches) + i + 1
    return patches + steps
