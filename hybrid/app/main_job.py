"""The main job on one song: recall -> hand-set gear -> verify -> measure the loops -> print -> report.

``hybrid demo --no-tui`` runs it (through :meth:`hybrid.app.session.StudioSession.run_main_job`);
every step goes through the session, so it prints the way the CLI and the TUI do (routing,
xrun retry, child process, latency store). A failing step is reported and the job goes on
where later steps still make sense.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hybrid.app.rows import PrintProgress
from hybrid.errors import LAYER_ERRORS, HybridError


@dataclass
class JobStep:
    """One step of the main job in the report: what, whether it went well, the figures."""

    name: str
    ok: bool
    summary: str
    details: list[str] = field(default_factory=list)
    data: Any = None
    warning: bool = False
    """Done, but not all of it could be (e.g. a chain that cannot be measured): see details."""

    def to_dict(self) -> dict:
        data = self.data.to_dict() if hasattr(self.data, "to_dict") else self.data
        return {"step": self.name, "ok": self.ok, "warning": self.warning, "summary": self.summary,
                "details": self.details, "data": data}


@dataclass
class MainJobReport:
    """The main job on one song: recall, hand-set gear, verify, loops, print."""

    song: str
    title: str
    steps: list[JobStep] = field(default_factory=list)
    wall_time_s: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    def to_dict(self) -> dict:
        return {"song": self.song, "title": self.title, "ok": self.ok,
                "wall_time_s": round(self.wall_time_s, 3), "steps": [s.to_dict() for s in self.steps]}

    def text(self, _data: Any = None, *, details: bool = True) -> str:
        lines = [f"Main job on {self.title!r} ({self.song}): {'OK' if self.ok else 'FAILED'} "
                 f"in {self.wall_time_s:.1f} s"]
        for step in self.steps:
            mark = "FAIL" if not step.ok else ("warn" if step.warning else "ok")
            lines.append(f"  [{mark}] {step.name}: {step.summary}")
            if details:
                lines.extend(f"        {d}" for d in step.details)
        return "\n".join(lines)


def run_main_job(session, slug: str, *, on_event: Callable[[str], None] | None = None) -> MainJobReport:
    """Recall ``slug`` -> hand-set gear -> verify (read back, then by ear) -> measure its
    loops -> print its stems.

    ``on_event`` gets one line per thing that happened (for a CLI). A failing step is
    reported and, where later steps still make sense, the job goes on: a print after
    a failed verify is still made, and the report says which step failed and why.
    """
    say = on_event or (lambda _line: None)
    t0 = time.perf_counter()
    sheet = session.sheet(slug)
    report = MainJobReport(song=slug, title=sheet.title)
    run = step_runner(report, say)

    applied = run("recall: apply the sheet to the gear", lambda: _apply(session, slug, say))
    run("recall: hand-set gear (walk-through)", lambda: _walkthrough(session, slug, applied))
    run("verify: read the gear back against the sheet", lambda: _verify(session, slug))
    run("verify: listen to each chain", lambda: _listen(session, slug))
    run("loops: measure the round trips", lambda: _measure(session, slug))
    run("print: stems through their insert chains", lambda: _print(session, slug, say))
    report.wall_time_s = time.perf_counter() - t0
    return report


def step_runner(report: MainJobReport, say: Callable[[str], None]) -> Callable[[str, Callable[[], JobStep]], JobStep]:
    """``run(name, fn)``: a step of ``report``, its lines said as it goes; a layer's error is a failed step."""
    def run(name: str, fn: Callable[[], JobStep]) -> JobStep:
        say(f"{name}…")
        try:
            step = fn()
        except LAYER_ERRORS as exc:
            step = JobStep(name, False, str(exc))
        report.steps.append(step)
        say(f"  {'FAILED' if not step.ok else ('warning' if step.warning else 'ok')}: {step.summary}")
        for line in step.details:
            say(f"    {line}")
        return step

    return run


def _apply(session, slug: str, say: Callable[[str], None]) -> JobStep:
    result = session.apply(slug, on_progress=lambda p: say(f"    {p.device}: {p.status.label}") if p.final else None)
    details = [f"{r.device}: {r.status.label}" + (f" ({r.detail()})" if r.detail() else "")
               for r in result.devices]
    return JobStep("recall: apply the sheet to the gear", result.ok, result.summary_line(), details, result)


def _walkthrough(session, slug: str, applied: JobStep) -> JobStep:
    steps = applied.data.steps if applied.data is not None else session.walkthrough(slug)
    name = "recall: hand-set gear (walk-through)"
    if not steps:
        return JobStep(name, True, "nothing to set by hand")
    if session.hands is None:
        return JobStep(name, False, f"{len(steps)} steps wait for a person (run the walk-through in the TUI)",
                       [str(s) for s in steps], [s.to_dict() for s in steps])
    for step in steps:
        session.confirm_step(step)
    return JobStep(name, True, f"{len(steps)} steps set by the demo's stand-in at the rack",
                   [str(s).strip() for s in steps], [s.to_dict() for s in steps])


def _verify(session, slug: str) -> JobStep:
    name = "verify: read the gear back against the sheet"
    changes = session.diff_gear(slug)
    readable = [d for d in session.sheet(slug).used_devices()
                if d in session.studio.devices and session.studio.devices[d].readback]
    if changes:
        return JobStep(name, False, f"{len(changes)} value(s) differ from the sheet",
                       [str(c) for c in changes], [c.to_dict() for c in changes])
    return JobStep(name, True, f"{len(readable)} device(s) read back, all as on the sheet "
                               f"({', '.join(readable) or 'none can be read back'})")


def _listen(session, slug: str) -> JobStep:
    """Verify by ear against the stored fingerprints; on a song's first recall, store them."""
    name = "verify: listen to each chain"
    if not session.fingerprinted(slug):
        # every chain in one measurement (loops share a stream); a chain that cannot be
        # measured is named and the others are stored
        refused: list[HybridError] = []
        stored = [fp.key.label for fp in session.fingerprint(slug, failed=refused)]
        failed = [str(exc) for exc in refused]
        summary = (f"first recall: stored how its {len(stored)} chain(s) sound, "
                   "the next recall is checked against it")
        if failed:
            # Not a failed recall: this chain cannot be fingerprinted (hybrid.live.verify's limits,
            # e.g. a long reverb tail); the report names it and why.
            summary += f"; {len(failed)} could not be measured (not checked by ear)"
        return JobStep(name, True, summary, stored + failed, warning=bool(failed))
    verdict = session.verify_by_ear(slug)
    details = []
    for chain in verdict.chains:
        line = f"{chain.key.label}: {'as stored' if chain.ok else 'CHANGED'}"
        if chain.error:
            line += f" ({chain.error})"
        elif not chain.ok and chain.suspect is not None:
            line += f"; suspect: {chain.suspect.text}"
        details.append(line)
    changed = sum(1 for c in verdict.chains if not c.ok)
    summary = (f"{len(verdict.chains)} chain(s) sound as stored" if verdict.ok
               else f"{changed} of {len(verdict.chains)} chain(s) sound different")
    return JobStep(name, verdict.ok, summary + f" ({verdict.seconds:.1f} s)", details, verdict)


def _measure(session, slug: str) -> JobStep:
    name = "loops: measure the round trips"
    details, results, ok = [], [], True
    for loop in session.song_loops(slug):
        try:
            state = session.measure_loop(loop)
        except HybridError as exc:
            ok = False
            details.append(f"loop {loop}: {exc}")
            continue
        results.append(state)
        details.append(f"loop {loop}: {state.latency_samples:.3f} samples ({state.latency_ms:.3f} ms), "
                       f"polarity {'normal' if state.polarity > 0 else 'INVERTED'}, "
                       f"gain {state.gain_db:+.2f} dB, SNR {state.snr_db:.0f} dB")
    summary = f"{len(results)} loop(s) measured" + ("" if ok else f", {len(details) - len(results)} failed")
    return JobStep(name, ok, summary, details, [r.to_dict() for r in results])


def _print(session, slug: str, say: Callable[[str], None]) -> JobStep:
    name = "print: stems through their insert chains"
    last = {"number": 0}

    def progress(p: PrintProgress) -> None:
        if p.number != last["number"]:
            last["number"] = p.number
            say(f"    pass {p.number} of {p.passes}")

    result = session.print_song(slug, on_progress=progress, separate_process=True)
    details = list(result.routing) + list(result.notes)
    for f in result.files:
        drift = "-" if f.drift_samples is None else f"{f.drift_samples + 0.0:+.4f}".replace("-0.0000", "+0.0000")
        details.append(f"{f.name}: {'good' if f.good else 'BAD'} via loop {f.loop}, peak {f.peak_dbfs:.1f} dBFS, "
                       f"RMS {f.rms_dbfs:.1f} dBFS, clips {f.clips}, drift {drift} samples"
                       + (f" ({f.reason})" if f.reason else ""))
    good = sum(1 for f in result.files if f.good)
    summary = (f"{good} of {len(result.files)} files good in {result.passes} pass(es) -> {result.folder}"
               + (" (printed again after xruns)" if result.retried_for_xruns else "")
               + (f"; dry (no insert): {', '.join(result.dry)}" if result.dry else ""))
    return JobStep(name, result.good, summary, details, result)


