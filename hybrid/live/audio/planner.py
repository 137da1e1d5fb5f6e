"""Group print jobs into passes: as many loops at once as the room allows, no unit twice in a pass.

A pass plays every one of its stems at the same time, so within one pass:
- an interface output or input channel carries one job only;
- a loop (by name) carries one job only;
- a unit (a device in a job's chain) sits in one job only: a compressor cannot treat the
  kick and the snare at once, even on two loops the router could patch.

Jobs go first-fit, in the order given (the song's track order), into the earliest pass
they do not clash with. First-fit keeps the order people expect and is optimal for the
usual case (distinct loops: one pass); clashes only ever add the passes they must.

A track whose insert chain has several loops in series is printed in rounds
(``hybrid.live.audio.song``): round k sends the print of round k-1 through the k-th insert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable, Sequence

from hybrid.live.audio.printing import PrintJob
from hybrid.errors import HybridError


@dataclass
class PlannedPass:
    """One pass: ``index`` from 1, its jobs, and why jobs were pushed out of it (for people)."""

    index: int
    jobs: list[PrintJob] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"pass": self.index, "jobs": [j.to_dict() for j in self.jobs]}


def _resources(job: PrintJob) -> set[tuple[str, object]]:
    res: set[tuple[str, object]] = set()
    if len(set(job.out_channels)) != len(job.out_channels) or len(set(job.in_channels)) != len(job.in_channels):
        raise HybridError(f"a channel repeats within one job (out {list(job.out_channels)}, "
                          f"in {list(job.in_channels)})", where=job.label)
    if len(set(job.chain)) != len(job.chain):
        raise HybridError(f"a unit appears twice in one chain: {list(job.chain)}", where=job.label)
    res.update(("out", ch) for ch in job.out_channels)
    res.update(("in", ch) for ch in job.in_channels)
    res.update(("unit", name) for name in job.chain)
    if job.loop:
        res.add(("loop", job.loop))
    return res


def plan_passes(jobs: Sequence[PrintJob],
                fits: Callable[[Sequence[PrintJob], PrintJob], bool] | None = None) -> list[PlannedPass]:
    """Passes for ``jobs``: each job in the first pass where none of its resources is taken.

    ``fits(pass_jobs, job)`` adds a rule of the room on top (the router's, from
    ``recall.routing.print_pass_fits``: on a program-change patchbay one stored patch
    must make every chain of a pass); a job it refuses everywhere opens a pass of its own.
    """
    passes: list[PlannedPass] = []
    taken: list[set] = []
    outputs: dict[str, str] = {}
    for job in jobs:
        key = str(job.output)
        if key in outputs:
            raise HybridError(f"two jobs write the same file ({outputs[key]} and {job.stem})", where=key)
        outputs[key] = str(job.stem)
        need = _resources(job)
        for planned, used in zip(passes, taken, strict=False):
            if not need & used and (fits is None or fits(planned.jobs, job)):
                planned.jobs.append(job)
                used |= need
                break
        else:
            passes.append(PlannedPass(len(passes) + 1, [job]))
            taken.append(set(need))
    return passes


def clashes(a: PrintJob, b: PrintJob) -> list[str]:
    """Why ``a`` and ``b`` cannot share a pass (empty if they can), for reports."""
    out = []
    for kind, value in sorted(_resources(a) & _resources(b), key=str):
        out.append({"out": f"output {value}", "in": f"input {value}", "unit": f"unit {value!r}",
                    "loop": f"loop {value!r}"}[kind])
    return out
