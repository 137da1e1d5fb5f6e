"""Setting one pass on the router (ties on a matrix, a stored patch on a patchbay, hand steps
on paper), read back and reported like a recall's device."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from devices.errors import DeviceError
from devices.device import Device
from recall.apply import ApplyEvent, DeviceOpener, DeviceReport, _Emitter, device_for
from recall.errors import RecallError
from recall.routing.bay import INSERT, PAPER, PATCHBAY, Bay, load_bay, patch_param
from recall.routing.paper import patch_steps
from recall.routing.plan import RoutePass, Tie, chains_for_jobs, route_pass
from recall.status import ApplyStatus
from recall.studio import Studio
from recall.values import same, show
from recall.walkthrough import Step

MIDI_CLOSE_LINGER_S = 0.05


def route_print_pass(studio: Studio, jobs: Iterable[Any], *, index: int = 1, bay: Bay | None = None,
                     on_event: Callable[[ApplyEvent], None] | None = None,
                     open_device: DeviceOpener | None = None) -> RouteResult:
    """Route one planned print pass just before it plays (``hybrid.live.audio.song.print_song``'s
    ``on_pass(number, total, planned)`` -> ``route_print_pass(studio, planned.jobs, index=number)``).

    Raises RecallProblems when the pass's chains cannot be made (nothing is sent) and
    RecallError when the router failed, so no pass plays through a wrong patch. A paper bay
    returns its steps (report status ``needs-hand``): show them and wait for the person.
    """
    bay = bay or load_bay(studio)
    rp = route_pass(studio, chains_for_jobs(studio, jobs), bay=bay, index=index)
    result = apply_routes(studio, rp, bay=bay, on_event=on_event, open_device=open_device)
    if not result.ok:
        raise RecallError(f"pass {index} not routed: {result.report.reason}", file=str(studio.file),
                          key="router.device")
    return result


@dataclass
class RouteResult:
    """How setting one pass went: the router's DeviceReport (the same as a recall's) and the steps."""

    pass_index: int
    report: DeviceReport
    """recall.apply.DeviceReport for the router (status verified/set/failed/needs-hand)."""
    ties: list[Tie]
    steps: list[Step] = field(default_factory=list)
    patch: str | None = None
    read_back: dict[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report.status.ok

    def to_dict(self, bay: Bay | None = None) -> dict[str, Any]:
        return {"pass": self.pass_index, "ok": self.ok, "router": self.report.to_dict(),
                "ties": [t.to_dict() for t in self.ties], "patch": self.patch,
                "ties_text": [t.text(bay) for t in self.ties] if bay else [],
                "steps": [s.to_dict() for s in self.steps],
                "read_back": {str(k): v for k, v in sorted(self.read_back.items())}}


def apply_routes(studio: Studio, rp: RoutePass, *, bay: Bay | None = None, verify: bool = True,
                 song: str = "", on_event: Callable[[ApplyEvent], None] | None = None,
                 open_device: DeviceOpener | None = None) -> RouteResult:
    """Set the ties of one pass on the router and read them back; progress as recall's ApplyEvents.

    The router's outcome lands in a ``DeviceReport`` like any unit's in a recall
    (``verified`` after a good read-back, ``set`` without one, ``needs-hand`` on a paper
    bay with its steps, ``failed`` with the reason). A tie the read-back does not show is
    sent once more, then judged. Never raises for a router that fails: the report says it.
    """

    bay = bay or load_bay(studio)
    emit = _Emitter(on_event, song)
    entry = studio.devices[bay.device] if bay.device else None
    report = DeviceReport(device=bay.device or "Patchbay", port=entry.port if entry else None)
    result = RouteResult(pass_index=rp.index, report=report, ties=list(rp.ties), patch=rp.patch)
    emit(ApplyEvent("start", song=song))
    t0 = time.perf_counter()
    try:
        if bay.kind == PAPER:
            result.steps = patch_steps(bay, rp)
            report.status = ApplyStatus.NEEDS_HAND if result.steps else ApplyStatus.UNCHANGED
            report.reason = (f"patch by hand: {len(result.steps)} cords" if result.steps
                             else "nothing to patch (hard-wired loops)")
            return result
        if not rp.ties and rp.patch is None:
            report.status = ApplyStatus.UNCHANGED
            report.reason = "nothing to patch (hard-wired loops)"
            return result
        if entry is None or not entry.machine_settable:
            report.status = ApplyStatus.FAILED
            report.reason = f"{bay.device!r} has no port in studio.toml: it cannot be set from here"
            return result
        cm = (open_device or device_for)(entry)
        report.status = ApplyStatus.SENDING
        emit.device(report)
        failure: BaseException | None = None
        device = cm.__enter__()
        try:
            param = patch_param(entry)
            if bay.kind == PATCHBAY and param is not None:
                device.set(param.name, rp.patch)
                report.sent = {param.name: rp.patch}
                report.messages = len(device.plan({param.name: rp.patch}))
                report.status = ApplyStatus.SET
                report.reason = f"recalled stored patch {rp.patch!r} (no read-back)"
                if open_device is None:
                    # we close the port right away: give the transport a moment to carry the
                    # last message (a JACK MIDI port closed within its cycle can drop it)
                    time.sleep(MIDI_CLOSE_LINGER_S)
            elif bay.kind == INSERT:
                _insert_all(device, bay, rp, report, verify, emit)
            else:
                _tie_all(device, rp, report, result, verify, emit)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            try:
                cm.__exit__(type(failure) if failure else None, failure, None)
            except DeviceError:
                pass
    except DeviceError as exc:
        report.status = ApplyStatus.FAILED
        report.reason = str(exc)
    finally:
        report.elapsed_s = time.perf_counter() - t0
        emit.device(report, done=True)
        emit(ApplyEvent("finish", song=song))
    return result


def insert_values(bay: Bay, rp: RoutePass) -> dict[str, Any]:
    """The channel-insert settings that make a pass's ties on a console (``bay.kind == INSERT``):
    a loop's channel gets its unit's slot, the bay's position, and the insert on; a loop whose
    chain has no unit gets its insert off. Slot and position go before the switch."""
    values: dict[str, Any] = {}
    for tie in rp.ties:
        if not tie.source.is_loop:
            continue                      # unit out -> loop return: the same slot's return
        strip = bay.strip(tie.source_point)
        if tie.dest.is_loop:
            values[f"{strip}.insert.on"] = False
            continue
        values[f"{strip}.insert.sel"] = tie.dest_point
        values[f"{strip}.insert.pos"] = bay.insert_pos
        values[f"{strip}.insert.on"] = True
    return values


def _insert_all(device: Device, bay: Bay, rp: RoutePass, report: DeviceReport, verify: bool,
                emit: _Emitter) -> None:
    """Set a console's channel inserts through its profile's parameters (any transport: OSC on
    the X32), read them back where the profile allows, resend once what did not take."""
    params = device.profile.parameters
    values = {k: v for k, v in insert_values(bay, rp).items() if k in params}
    values = {k: params[k].check(params[k].parse(v)) for k, v in values.items()}
    report.messages = len(device.plan(values))
    device.apply(values)
    report.sent = {k: show(params[k], v) for k, v in values.items()}
    if not verify or not device.readback:
        report.status = ApplyStatus.SET
        report.reason = "set (no read-back)"
        return
    report.status = ApplyStatus.VERIFYING
    emit.device(report)

    def wrong(read: dict[str, Any]) -> list[str]:
        return [k for k, v in values.items() if read.get(k) is None or not same(params[k], v, read[k])]

    read = device.read(list(values))
    missed = wrong(read)
    if missed:
        device.apply({k: values[k] for k in missed})
        report.resent = list(missed)
        read.update(device.read(missed))
        missed = wrong(read)
    for k in missed:
        have = read.get(k)
        report.mismatches[k] = (show(params[k], values[k]), "nothing" if have is None else show(params[k], have))
    if missed:
        report.status = ApplyStatus.FAILED
        report.reason = "read back differs: " + ", ".join(f"{k} = {h} (wanted {w})"
                                                          for k, (w, h) in report.mismatches.items())
    else:
        report.status = ApplyStatus.VERIFIED
        strips = sorted({k.split(".")[0] for k in values})
        report.reason = f"{len(values)} insert settings on {', '.join(strips)} read back"


def _tie_all(device: Device, rp: RoutePass, report: DeviceReport, result: RouteResult, verify: bool,
             emit: _Emitter) -> None:
    for tie in rp.ties:
        device.tie(tie.source_point, tie.dest_point)
        report.sent[f"out {tie.dest_point}"] = f"in {tie.source_point}"
    report.messages = len(rp.ties)
    spec = device.profile.router
    if not verify or spec is None or spec.query is None:
        report.status = ApplyStatus.SET
        report.reason = "set (no read-back)"
        return
    report.status = ApplyStatus.VERIFYING
    emit.device(report)
    read = device.ties()
    wrong = [t for t in rp.ties if read.get(t.dest_point) != t.source_point]
    if wrong:
        for tie in wrong:  # one resend of what did not take, then judge
            device.tie(tie.source_point, tie.dest_point)
        report.resent = [f"out {t.dest_point}" for t in wrong]
        read = device.ties()
        wrong = [t for t in rp.ties if read.get(t.dest_point) != t.source_point]
    result.read_back = read
    for tie in wrong:
        have = read.get(tie.dest_point)
        report.mismatches[f"out {tie.dest_point}"] = (f"in {tie.source_point}", f"in {have}" if have else "nothing")
    if wrong:
        report.status = ApplyStatus.FAILED
        report.reason = "read back differs: " + ", ".join(
            f"output {t.dest_point} fed by {read.get(t.dest_point) or 'nothing'} (wanted input {t.source_point})"
            for t in wrong)
    else:
        report.status = ApplyStatus.VERIFIED
        report.reason = f"{len(rp.ties)} ties read back"
