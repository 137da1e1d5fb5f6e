"""Apply a sheet to the gear: plan, send per port in parallel, read back, verify, report.

- Devices on different ports run at the same time, one worker thread per port; devices
  sharing a port (a DIN chain on several MIDI channels) go one after the other on that
  port's thread, so each port keeps its own rate limit (the Device paces its wire).
- A device that fails does not stop the others. Its known state is forgotten (the gear
  may be half set), and its parameters join the hand walk-through.
- A re-run of the same sheet after a failure resumes: devices the interrupted run
  finished are not sent again (``resume=False`` sends everything).
- ``changed_only`` sends only parameters that differ from the gear's known state
  (``STUDIO/.state/gear.json``: what hybrid last set or read back).

Progress goes to ``on_event(ApplyEvent)``, called from the worker threads (a UI must
hand it to its own thread, e.g. Textual's ``post_message``).
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from collections.abc import Callable, Iterable, Iterator, Mapping

import mido

from devices.device import Device, Prepared
from devices.dump import Dump, replay
from devices.errors import DeviceError
from devices.parameter import Parameter
from devices.gc_pause import gc_paused
from devices.wire import AHEAD_S
from recall.dumps import checked_dump, kept_dumps
from recall.errors import RecallError
from recall.sheet import Sheet, require_valid
from recall.state import StudioState
from recall.status import ApplyStatus
from recall.store import load_sheet, song_paths
from recall.studio import Studio, StudioDevice
from recall.values import same, show
from recall.walkthrough import Step, walkthrough

DeviceOpener = Callable[[StudioDevice], AbstractContextManager[Device]]
"""Opens a studio device for a run: :func:`device_for` (a Device is its own context manager) or
``DevicePool.borrow``."""
_PoolKey = tuple[str, str, str | None, int | None]

REPORTED = (ApplyStatus.VERIFIED, ApplyStatus.SET, ApplyStatus.UNCHANGED, ApplyStatus.DONE_EARLIER,
            ApplyStatus.FAILED, ApplyStatus.NEEDS_HAND)
"""The final statuses a run's summary counts, in the order it names them."""


@dataclass
class DeviceReport:
    """How one device's recall went."""

    device: str
    status: ApplyStatus = ApplyStatus.PENDING
    reason: str = ""
    port: str | None = None
    sent: dict[str, Any] = field(default_factory=dict)
    mismatches: dict[str, tuple[str, str]] = field(default_factory=dict)
    """param -> (wanted, read back), as the panel prints them."""
    resent: list[str] = field(default_factory=list)
    """Parameters sent a second time because the first read-back did not show them."""
    messages: int = 0
    wire_time_s: float = 0.0
    elapsed_s: float = 0.0

    def detail(self) -> str:
        if self.status == ApplyStatus.FAILED:
            return self.reason
        if self.status in (ApplyStatus.SET, ApplyStatus.VERIFIED):
            params = len(self.sent) - ("dump" in self.sent)
            what = (f"dump ({self.sent['dump']})" + (f" + {params} parameters" if params else "")
                    if "dump" in self.sent else f"{params} parameters")
            return f"{what}, {self.messages} messages, {self.elapsed_s * 1000:.0f} ms"
        return self.reason

    def to_dict(self) -> dict[str, Any]:
        return {"device": self.device, "status": self.status, "reason": self.reason, "port": self.port,
                "sent": self.sent, "mismatches": {k: list(v) for k, v in self.mismatches.items()}, "resent": list(self.resent),
                "messages": self.messages, "wire_time_s": round(self.wire_time_s, 6),
                "elapsed_s": round(self.elapsed_s, 6)}


@dataclass
class ApplyEvent:
    """``kind``: ``start`` (of the run), ``device`` (a device changed status), ``done`` (a device
    finished), ``finish`` (of the run). ``report`` is the device's report (a snapshot)."""

    kind: str
    device: str | None = None
    report: DeviceReport | None = None
    song: str = ""


@dataclass
class ApplyReport:
    """The whole run: a report per device (signal order), the hand steps, timings."""

    song: str
    devices: list[DeviceReport]
    steps: list[Step]
    wall_time_s: float = 0.0
    """Sending and verifying, all ports together (opening the ports is ``open_time_s``)."""
    open_time_s: float = 0.0
    wire_time_by_port_s: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(r.status.ok for r in self.devices)

    def count(self, status: ApplyStatus) -> int:
        return sum(1 for r in self.devices if r.status == status)

    def summary_line(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in REPORTED if self.count(s)]
        return (f"{self.song}: " + (", ".join(parts) or "nothing to do") +
                f" in {self.open_time_s + self.wall_time_s:.2f} s")

    def to_dict(self) -> dict[str, Any]:
        return {"song": self.song, "ok": self.ok, "devices": [r.to_dict() for r in self.devices],
                "steps": [s.to_dict() for s in self.steps], "wall_time_s": round(self.wall_time_s, 6),
                "open_time_s": round(self.open_time_s, 6), "wire_time_by_port_s": {k: round(v, 6) for k, v in self.wire_time_by_port_s.items()},
                "summary": self.summary_line()}


def sheet_digest(sheet: Sheet) -> str:
    return hashlib.sha256(sheet.dumps().encode("utf-8")).hexdigest()[:16]


def targets(sheet: Sheet, studio: Studio) -> dict[str, dict[str, Any]]:
    """Checked values per device, in signal-flow order (the sheet must be valid)."""
    out = {}
    for dev in sheet.used_devices():
        values = sheet.values(dev)
        if not values or dev not in studio.devices:
            continue
        params = studio.devices[dev].profile.parameters
        ordered = [name for name in params if name in values]
        out[dev] = {name: params[name].check(params[name].parse(values[name])) for name in ordered}
    return out


def apply_song(studio: Studio, song: str, **options: Any) -> ApplyReport:
    """Load ``song``'s sheet and :func:`apply_sheet` it (``options``: apply_sheet's keywords)."""
    path = song_paths(studio, song).sheet
    sheet = load_sheet(studio, song)
    return apply_sheet(studio, sheet, slug=path.parent.name, **options)


def apply_sheet(studio: Studio, sheet: Sheet, *, slug: str | None = None, changed_only: bool = False,
                verify: bool = True, resume: bool = True, only: Iterable[str] | None = None,
                on_event: Callable[[ApplyEvent], None] | None = None,
                open_device: DeviceOpener | None = None) -> ApplyReport:
    """Set every machine-settable device of ``sheet``; see the module docstring.

    Raises RecallProblems before anything is sent when the sheet does not fit the
    studio. ``only`` limits the run to the named devices. ``open_device`` builds the
    Device for a studio device (default: :func:`device_for`).
    """
    require_valid(sheet, studio)
    slug = slug or "sheet"
    wanted = targets(sheet, studio)
    # units recalled by dump: the song keeps their edit buffer beside sheet.toml (recall.dumps)
    song_folder = Path(sheet.file).parent if sheet.file else None
    dumped = kept_dumps(studio, song_folder) if song_folder is not None else {}
    for name in dumped:
        wanted.setdefault(name, {})
    if only is not None:
        only = list(only)
        for name in only:
            if name not in wanted:
                raise RecallError(f"the sheet sets no values for {name!r} and the song keeps no dump of it",
                                  file=sheet.file, key=f'devices."{name}"')
        wanted = {k: v for k, v in wanted.items() if k in only}
    state = StudioState(studio.state_dir)
    digest = sheet_digest(sheet)
    journal = state.journal(slug) if resume else {}
    earlier: dict[str, str] = {}
    if journal.get("digest") == digest and not journal.get("complete"):
        kept = (ApplyStatus.SET, ApplyStatus.VERIFIED, ApplyStatus.UNCHANGED)
        earlier = {k: v for k, v in journal.get("done", {}).items() if v in kept}
    state.start_journal(slug, digest, earlier)
    known = state.all_known() if changed_only else {}
    writer = _StateWriter(state, slug)     # the workers' state updates, written off the send path
    emit = _Emitter(on_event, slug)
    opener = open_device or device_for

    reports: dict[str, DeviceReport] = {}
    by_port: dict[str, list[str]] = {}
    for dev, values in wanted.items():
        entry = studio.devices[dev]
        report = DeviceReport(device=dev, port=entry.port)
        reports[dev] = report
        if not entry.machine_settable:
            report.status = ApplyStatus.NEEDS_HAND
            report.reason = f"set by hand: {len(values)} controls"
        elif dev in earlier:
            report.status = ApplyStatus.DONE_EARLIER
            report.reason = f"{earlier[dev]} by the interrupted run of this sheet"
        else:
            by_port.setdefault(_port_key(entry.port), []).append(dev)
    emit(ApplyEvent("start", song=slug))
    for report in reports.values():
        if report.status != ApplyStatus.PENDING:
            emit.device(report, done=True)

    wire_by_port: dict[str, float] = {}
    t_open = time.perf_counter()
    # Open every device first, one at a time: JACK client creation stalls when several
    # threads do it at once, and a recall should spend its parallel time on the wire.
    sessions: dict[str, tuple[AbstractContextManager[Device], Device, dict[str, Any], Prepared | None]] = {}
    wire_ahead: dict[str, float] = {}     # each port's wire time, known before sending
    dumps: dict[str, Dump] = {}
    for _port, names in by_port.items():
        for name in names:
            report, entry = reports[name], studio.devices[name]
            if name in dumped and song_folder is not None:
                try:      # checked before the port opens: a bad file is never sent
                    dumps[name] = checked_dump(song_folder, entry)
                except RecallError as exc:
                    _fail(report, str(exc), writer)
                    emit.device(report, done=True)
                    continue
            to_send = _to_send(entry, wanted[name], known.get(name, {}), changed_only)
            if not to_send and name not in dumps:
                report.status = ApplyStatus.UNCHANGED
                report.reason = "the gear already has these values"
                writer.journal_done(name, ApplyStatus.UNCHANGED)
                emit.device(report, done=True)
                continue
            try:
                fmt = entry.profile.dump
                asks_dump = name in dumps and fmt is not None and fmt.verify
                cm, device = enter_device(opener, entry, answers=verify and (entry.readback or asks_dump))
            except DeviceError as exc:
                _fail(report, str(exc), writer)
                emit.device(report, done=True)
                continue
            except Exception as exc:  # noqa: BLE001 - a unit that will not open must not stop the others
                _fail(report, f"{name}: opening: {type(exc).__name__}: {exc}", writer)
                emit.device(report, done=True)
                continue
            # encoded now, so the sending threads below only hand bytes to their wires
            try:
                prepared = device.prepare(to_send) if to_send or name not in dumps else None
            except DeviceError as exc:
                _fail(report, str(exc), writer)
                emit.device(report, done=True)
                cm.__exit__(None, None, None)
                continue
            sessions[name] = (cm, device, to_send, prepared)
            if prepared is not None:
                port_key = _port_key(entry.port)
                wire_ahead[port_key] = wire_ahead.get(port_key, 0.0) + prepared.wire_time_s
    open_s = time.perf_counter() - t_open
    failures: dict[str, BaseException | None] = {}

    began: dict[str, float] = {}

    def run_device(name: str) -> None:
        """Recall one unit on its port's thread: send, wait for the wire, read back."""
        report = reports[name]
        entry = studio.devices[name]
        cm, device, to_send, prepared = sessions[name]
        failure: BaseException | None = None
        began[name] = time.perf_counter()
        try:
            if name in dumps:
                _replay_dump(device, dumps[name], report, verify, emit)
            if prepared is not None:
                _apply_one(entry, device, wanted[name], to_send, prepared, report, writer, slug, verify, emit)
        except Exception as exc:  # noqa: BLE001 - a broken device must not stop the others
            failure = record_failure(name, exc)
        finish(name, failure)

    def drain_device(name: str) -> None:
        """Wait for the wire of a unit handed over by ``hand_over_together``; then it is set."""
        report, device = reports[name], sessions[name][1]
        failure: BaseException | None = None
        try:
            device.drain()
        except DeviceError as exc:
            failure = record_failure(name, exc)
        else:
            _set(report, device)
        report.elapsed_s = time.perf_counter() - began[name]     # from hand-over to the wire's end
        finish(name, failure)

    def record_failure(name: str, exc: Exception) -> Exception:
        """Record ``name``'s failure: a DeviceError with its port, anything else by its type."""
        if isinstance(exc, DeviceError):
            if exc.port is None:
                exc.port = studio.devices[name].port
            _fail(reports[name], str(exc), writer)
        else:
            _fail(reports[name], f"{type(exc).__name__}: {exc}", writer)
        return exc

    def finish(name: str, failure: BaseException | None) -> None:
        report = reports[name]
        failures[name] = failure
        if report.status.good:
            writer.journal_done(name, report.status)
        emit.device(report, done=True)

    def run_port(names: list[str]) -> None:
        for name in names:
            if name in sessions:
                run_device(name)

    # The port expected to take longest starts first (threads start one after another, and
    # on a busy machine the last of 30 starts tens of ms after the first): its wire time, or
    # the time its units took at the last recall in this process (a serial or network unit's
    # replies cost more than its wire), whichever is longer.
    def expected_s(port: str) -> float:
        took = sum(_TOOK_S.get((name, port), 0.0) for name in by_port[port])
        return max(wire_ahead.get(port, 0.0), took)

    # A port whose units place their messages at their slot on the wire themselves (JACK
    # MIDI), with nothing to read back, needs no thread: handing its messages over takes
    # microseconds, and this thread waits for its wire with the others at the end (one
    # thread for all of them instead was worse: 1.35-1.58x against 1.08x, bench/recall_apply.py).
    def handed_over_here(port: str) -> bool:
        names = [n for n in by_port[port] if n in sessions]
        return bool(names) and wire_ahead.get(port, 0.0) < AHEAD_S and all(
            n not in dumps and sessions[n][1].books_ahead and not (verify and sessions[n][1].readback)
            for n in names)

    def hand_over_together(ports: list[str]) -> list[str]:
        """Hand the units of ``ports`` (all handed over here) their messages a message of each
        port in turn (a port's units one after another), so every port's first message is
        booked within microseconds of the others' and none waits for whole units handed over
        before it (bench/recall_apply.py, worst of 7: 1.01x the longest wire, against
        1.055-1.14x unit by unit). Returns the units whose wire is still to be waited for."""
        handed: list[str] = []

        def port_steps(port: str) -> Iterator[Any]:
            for name in [n for n in by_port[port] if n in sessions]:
                _cm, device, _to_send, prepared = sessions[name]
                assert prepared is not None       # only a unit replayed from a dump has none
                began[name] = time.perf_counter()
                _sending(reports[name], prepared)
                try:
                    yield from device.handing_over(prepared)
                except Exception as exc:  # noqa: BLE001 - a broken device must not stop the others
                    finish(name, record_failure(name, exc))
                    continue
                handed.append(name)

        steps = [port_steps(port) for port in ports]
        with gc_paused():
            while steps:
                for step in list(steps):
                    if next(step, _DONE) is _DONE:
                        steps.remove(step)
        on_the_wire = []
        for name in handed:      # sending until drain_device has waited for the wire
            try:
                _sent(studio.devices[name], reports[name], sessions[name][2], writer, slug)
            except Exception as exc:  # noqa: BLE001 - a broken device must not stop the others
                finish(name, record_failure(name, exc))
                continue
            emit.device(reports[name])
            on_the_wire.append(name)
        return on_the_wire

    start = time.perf_counter()
    ordered_ports = sorted(by_port, key=expected_s, reverse=True)
    here = [port for port in ordered_ports if handed_over_here(port)]
    threaded = [port for port in ordered_ports if port not in here]
    threads = [threading.Thread(target=run_port, args=(by_port[port],), name=f"recall-{port}", daemon=True)
               for port in threaded]
    # whichever is expected to take longest goes first: the handed-over ports (all of them
    # within a millisecond or two) or the threads' ports
    first_here = bool(here) and (not threaded or expected_s(here[0]) >= expected_s(threaded[0]))
    on_the_wire = hand_over_together(here) if first_here else []
    for t in threads:
        t.start()
    if not first_here:
        on_the_wire = hand_over_together(here)
    for name in sorted(on_the_wire, key=lambda n: reports[n].wire_time_s):   # the first to end first
        drain_device(name)
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    for port, names in by_port.items():      # in the studio's order, whichever port finished first
        ran = [reports[n].wire_time_s for n in names if n in sessions]
        if ran:
            wire_by_port[port] = sum(ran)
        for n in names:
            if n in sessions and reports[n].elapsed_s:
                _TOOK_S[(n, port)] = reports[n].elapsed_s
    # Close after every port is done, one at a time, for the same reason as opening.
    for name, (cm, _device, _values, _prepared) in sessions.items():
        failure = failures.get(name)
        try:
            cm.__exit__(type(failure) if failure else None, failure, None)
        except DeviceError:
            pass
    writer.close()
    if writer.error is not None:
        raise writer.error

    ordered = [reports[d] for d in wanted]
    failed = [r.device for r in ordered if r.status == ApplyStatus.FAILED]
    steps = walkthrough(sheet, studio, extra=failed)
    if only is not None:
        steps = [s for s in steps if s.device in only]
    run = ApplyReport(song=slug, devices=ordered, steps=steps, wall_time_s=wall, open_time_s=open_s,
                      wire_time_by_port_s=wire_by_port)
    state.finish_journal(slug, complete=run.ok)
    state.record_recall(slug, run.ok, {s.value: run.count(s) for s in REPORTED})
    emit(ApplyEvent("finish", song=slug))
    return run


# (device, port) -> how long its last recall in this process kept the port busy (seconds)
_TOOK_S: dict[tuple[str, str], float] = {}
_DONE = object()


def _to_send(entry: StudioDevice, values: dict[str, Any], known: dict[str, Any], changed_only: bool) -> dict[str, Any]:
    if not changed_only:
        return dict(values)
    params = entry.profile.parameters
    return {k: v for k, v in values.items() if k not in known or not same(params[k], known[k], v)}


class _StateWriter:
    """The studio state as the apply workers change it. Their updates are queued and one thread
    writes them in batches (one gear.json and one journal write per batch, however many ports
    finished meanwhile), so no port waits on the disk's fsyncs or on another port's write.
    ``close()`` writes what is left; ``error`` is the first write that failed."""

    def __init__(self, state: StudioState, slug: str) -> None:
        self.state, self.slug = state, slug
        self.error: RecallError | None = None
        self._queue: queue.SimpleQueue[tuple[str, str, Any, str | None] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="recall-state", daemon=True)
        self._thread.start()

    def remember(self, device: str, values: dict[str, Any], *, song: str | None = None) -> None:
        self._queue.put(("gear", device, dict(values), song))

    def forget(self, device: str) -> None:
        self._queue.put(("gear", device, None, None))

    def journal_done(self, device: str, status: str) -> None:
        self._queue.put(("journal", device, str(status), None))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        finished = False
        while not finished:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            finished = None in batch
            items = [b for b in batch if b is not None]
            try:
                self.state.update_gear([(d, v, song) for kind, d, v, song in items if kind == "gear"])
                self.state.journal_done_many(self.slug, {d: v for kind, d, v, _ in items if kind == "journal"})
            except RecallError as exc:
                if self.error is None:
                    self.error = exc
            except Exception as exc:  # noqa: BLE001 - reported after the run, never a dead writer
                if self.error is None:
                    self.error = RecallError(f"cannot save the gear's state: {type(exc).__name__}: {exc}",
                                             file=str(self.state.gear_file))


def _fail(report: DeviceReport, reason: str, state: _StateWriter) -> None:
    report.status = ApplyStatus.FAILED
    report.reason = reason
    state.forget(report.device)


def _apply_one(entry: StudioDevice, device: Device, values: dict[str, Any], to_send: dict[str, Any],
               prepared: Prepared, report: DeviceReport, state: _StateWriter, slug: str, verify: bool,
               emit: _Emitter) -> None:
    """Send one unit's prepared messages, wait for its wire, then read back and judge (``verify``)."""
    params = entry.profile.parameters
    t0 = time.perf_counter()
    _sending(report, prepared)
    emit.device(report)
    device.send_prepared(prepared)
    _sent(entry, report, to_send, state, slug)
    if verify and device.readback:
        report.status = ApplyStatus.VERIFYING
        emit.device(report)
        read = device.read(list(values))
        wrong = _mismatched(params, values, read)
        if wrong:
            # one resend of what did not take (a dropped message on a busy wire), then judge
            again = {k: values[k] for k in wrong}
            device.apply(again)
            report.resent = sorted(again)
            read.update(device.read(list(again)))
            wrong = _mismatched(params, values, read)
        for name in wrong:
            have = read.get(name)
            report.mismatches[name] = (show(params[name], values[name]),
                                       "nothing" if have is None else show(params[name], have))
        state.remember(entry.name, {k: v for k, v in read.items() if k in params}, song=slug)
        if report.mismatches:
            report.status = ApplyStatus.FAILED
            report.reason = "read back differs: " + ", ".join(
                f"{k} = {h} (wanted {w})" for k, (w, h) in report.mismatches.items())
        else:
            report.status = ApplyStatus.VERIFIED
    else:
        _set(report, device)
    report.elapsed_s += time.perf_counter() - t0


def _sending(report: DeviceReport, prepared: Prepared) -> None:
    report.status = ApplyStatus.SENDING
    report.messages += len(prepared.items)
    report.wire_time_s += prepared.wire_time_s


def _sent(entry: StudioDevice, report: DeviceReport, to_send: dict[str, Any], state: _StateWriter,
          slug: str) -> None:
    params = entry.profile.parameters
    report.sent = {k: show(params[k], v) for k, v in to_send.items()}
    state.remember(entry.name, to_send, song=slug)


def _set(report: DeviceReport, device: Device) -> None:
    report.status = ApplyStatus.SET
    report.reason = "set (no read-back)" if not device.readback else "set (not verified)"


def _replay_dump(device: Device, dump: Dump, report: DeviceReport, verify: bool, emit: _Emitter) -> None:
    """Send a unit its kept edit buffer; verified by asking for it back where the profile allows."""
    t0 = time.perf_counter()
    report.status = ApplyStatus.SENDING
    emit.device(report)
    messages = [mido.Message("sysex", data=m[1:-1]) for m in dump.messages]
    report.messages += len(messages)
    report.wire_time_s += float(device.wire_time_s(messages))
    fmt = device.profile.dump
    asks = verify and fmt is not None and fmt.verify
    if asks:
        report.status = ApplyStatus.VERIFYING
        emit.device(report)
    verified = replay(device, dump, verify=asks)
    report.sent["dump"] = f"{len(dump.messages)} message(s), {sum(len(m) for m in dump.messages)} bytes"
    report.status = ApplyStatus.VERIFIED if verified else ApplyStatus.SET
    report.reason = "dump verified" if verified else "dump sent (the unit cannot be asked for it back)" \
        if fmt is None or not fmt.verify else "dump sent (not verified)"
    report.elapsed_s += time.perf_counter() - t0


def enter_device(opener: DeviceOpener, entry: StudioDevice, *,
                 answers: bool = True) -> tuple[AbstractContextManager[Device], Device]:
    """Open ``entry`` through ``opener`` and, when ``answers``, its answer port (see
    :func:`open_answer_port`); returns ``(context, device)``, exit the context to close. When
    the answer port fails the device is closed again: nothing stays half open."""
    cm = opener(entry)
    device = cm.__enter__()
    if answers:
        try:
            open_answer_port(device)
        except BaseException as exc:
            cm.__exit__(type(exc), exc, None)
            raise
    return cm, device


def open_answer_port(device: Any) -> None:
    """Open a MIDI unit's input (its answers) now, in the one-at-a-time opening phase.

    ``Device`` opens it lazily on the first read-back; doing that inside the parallel
    phase creates a JACK client while other threads send and receive, which stalls the
    JACK server (python-rtmidi holds the GIL in jack_client_open while the server waits
    for this process's clients). Asks the device layer for a public way when it has one.
    """
    opener = getattr(device, "open_input", None)
    if callable(opener):
        opener()
        return
    port = getattr(device, "_midi", None)
    if port is not None and hasattr(port, "open_input"):
        port.open_input("opening for read-back")


def _mismatched(params: Mapping[str, Parameter], values: dict[str, Any], read: dict[str, Any]) -> list[str]:
    return [k for k, want in values.items() if read.get(k) is None or not same(params[k], want, read[k])]


def device_for(entry: StudioDevice) -> Device:
    """The Device that talks to a studio device over its port."""
    return Device(entry.profile, entry.port, name=entry.name, channel=entry.channel)


def _port_key(port: str | None) -> str:
    return (port or "").strip()


class _Emitter:
    """Calls the progress callback with snapshots; a failing callback never breaks a recall."""

    def __init__(self, callback: Callable[[ApplyEvent], None] | None, slug: str) -> None:
        self.callback = callback
        self.slug = slug
        self.lock = threading.Lock()

    def __call__(self, event: ApplyEvent) -> None:
        if self.callback is None:
            return
        with self.lock:
            try:
                self.callback(event)
            except Exception:  # noqa: BLE001 - a UI callback error must not abort the recall
                pass

    def device(self, report: DeviceReport, *, done: bool = False) -> None:
        snap = replace(report, sent=dict(report.sent), mismatches=dict(report.mismatches),
                       resent=list(report.resent))
        self(ApplyEvent("done" if done else "device", device=report.device, report=snap, song=self.slug))


class DevicePool:
    """Devices kept open between runs, for a session that recalls many songs (the TUI, the demo).

    Opening a MIDI client costs tens to hundreds of milliseconds on JACK, more than a
    whole recall of a small unit takes on the wire; a pool pays it once. Pass
    ``pool.borrow`` as ``open_device``. A device that fails is closed and dropped, so
    the next run opens it afresh. Thread-safe; ``close()`` closes everything.
    """

    def __init__(self, factory: Callable[[StudioDevice], Device] | None = None) -> None:
        self._factory = factory or device_for
        self._open: dict[_PoolKey, Device] = {}
        self._lock = threading.Lock()

    def _key(self, entry: StudioDevice) -> _PoolKey:
        return (entry.name, entry.profile.id, entry.port, entry.channel)

    def get(self, entry: StudioDevice) -> Device:
        """The open Device for ``entry`` (opened on first use)."""
        key = self._key(entry)
        with self._lock:
            dev = self._open.get(key)
        if dev is None:
            dev = self._factory(entry).open()
            with self._lock:
                self._open[key] = dev
        return dev

    def borrow(self, entry: StudioDevice) -> _Borrowed:
        return _Borrowed(self, entry)

    def discard(self, entry: StudioDevice) -> None:
        with self._lock:
            dev = self._open.pop(self._key(entry), None)
        if dev is not None:
            dev.close()

    def open_all(self, entries: Iterable[StudioDevice]) -> dict[str, DeviceError]:
        """Open every machine-settable entry now; returns the errors of those that would not open."""
        errors: dict[str, DeviceError] = {}
        for entry in entries:
            if entry.machine_settable:
                try:
                    self.get(entry)
                except DeviceError as exc:
                    errors[entry.name] = exc
        return errors

    def close(self) -> None:
        with self._lock:
            devices, self._open = list(self._open.values()), {}
        for dev in devices:
            dev.close()

    def __enter__(self) -> DevicePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Borrowed(AbstractContextManager[Device]):
    """``with pool.borrow(entry) as dev``: an open pooled device, dropped from the pool on error."""

    def __init__(self, pool: DevicePool, entry: StudioDevice) -> None:
        self.pool, self.entry = pool, entry

    def __enter__(self) -> Device:
        return self.pool.get(self.entry)

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None:
            self.pool.discard(self.entry)
