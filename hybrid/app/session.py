"""The main job, orchestrated: recall a song -> apply -> verify -> measure loops -> print -> report.

:class:`StudioSession` is the one façade the control-room UI and ``hybrid demo`` use
on a studio folder. It strings the layers together (recall for sheets, history and
apply; hybrid.live.audio for loops and prints) and reports progress through plain
callbacks, so a CLI prints lines and the TUI posts messages from its worker threads;
nothing here knows about either. Every failure is raised as a layer's exception root
with the context a person needs (song, device, loop, file).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

from devices.errors import DeviceError
from devices.monitor import TrafficEntry, TrafficMonitor
from hybrid.errors import LAYER_ERRORS, HybridError
from recall import store
from recall.diff import Change, diff_sheets
from recall.errors import RecallError
from recall.paths import SongPaths, StudioPaths
from recall.status import ApplyStatus
from recall.sheet import Sheet, normalise_value
from recall.studio import Studio, load_studio
from recall.walkthrough import Step, walkthrough


XRUN_RETRIES = 2
"""A print spoilt only by xruns is run again up to this often (machines shared with other work
drop a period now and then); the delivered files always come from a pass with none."""


@dataclass(frozen=True)
class DeviceProgress:
    """One device moved on during an apply (``status.label`` for people); ``detail`` says why
    (a failure's reason)."""

    device: str
    status: ApplyStatus
    detail: str = ""

    @property
    def final(self) -> bool:
        return self.status.final

    def to_dict(self) -> dict:
        return {"device": self.device, "status": self.status.value, "detail": self.detail}


@dataclass(frozen=True)
class DeviceStatus:
    """A unit of the room and whether hybrid can reach it now (the Devices view's row)."""

    name: str
    model: str
    kind: str
    transport: str
    port: str | None
    state: str  # connected | missing | hand-set
    detail: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "model": self.model, "kind": self.kind, "transport": self.transport,
                "port": self.port, "state": self.state, "detail": self.detail}


@dataclass(frozen=True)
class TrafficLine:
    """A traffic entry with the room's device name (the monitor knows only ports)."""

    device: str
    entry: TrafficEntry

    @property
    def direction(self) -> str:
        return self.entry.direction

    @property
    def note(self) -> str:
        return self.entry.note

    def hex(self) -> str:
        return self.entry.hex()

    def clock(self) -> str:
        return f"{self.entry.time_s:12.3f}"


@dataclass
class LoopState:
    """An insert loop and what is known of its round trip (the Loops view's row)."""

    name: str
    out_channel: int
    in_channel: int
    devices: list[str]
    latency_samples: float | None = None
    polarity: int = 1
    gain_db: float | None = None
    snr_db: float | None = None
    samplerate: int = 48000
    state: str = "never measured"  # fresh | stale | never measured | failed
    detail: str = ""
    measured_at: str | None = None
    impulse: Any = field(default=None, repr=False)
    """The measured impulse response around its peak (for a plot), when just measured."""

    @property
    def latency_ms(self) -> float | None:
        if self.latency_samples is None:
            return None
        return 1000.0 * self.latency_samples / self.samplerate

    def to_dict(self) -> dict:
        return {"loop": self.name, "out": self.out_channel, "in": self.in_channel, "devices": self.devices,
                "latency_samples": self.latency_samples, "latency_ms": self.latency_ms,
                "polarity": self.polarity, "gain_db": self.gain_db, "snr_db": self.snr_db,
                "state": self.state, "detail": self.detail, "measured_at": self.measured_at}


@dataclass
class PrintPlan:
    """The passes a print will run: per pass, (stem, loops in order); ``dry`` tracks have no insert."""

    passes: list[list[tuple[str, list[str]]]]
    dry: list[str]
    length_s: float

    def to_dict(self) -> dict:
        return {"passes": [[{"stem": stem, "loops": loops} for stem, loops in p] for p in self.passes],
                "dry": self.dry, "length_s": round(self.length_s, 3)}


@dataclass
class PrintProgress:
    """Where a print is: pass ``number`` of ``passes``, the share of it done, and the meters.

    Meter dicts are keyed by stem name: peak and RMS in dBFS since the previous report,
    clip counts so far.
    """

    number: int
    passes: int
    fraction_of_pass: float
    stage: str
    position_s: float
    xruns: int = 0
    peak_db: dict[str, float] = field(default_factory=dict)
    rms_db: dict[str, float] = field(default_factory=dict)
    clips: dict[str, int] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        """Share of the whole print done, 0..1."""
        if self.passes <= 0:
            return 1.0
        return min(1.0, ((self.number - 1) + self.fraction_of_pass) / self.passes)

    def text(self) -> str:
        line = f"pass {self.number} of {self.passes}: {self.stage} {self.position_s:5.1f} s"
        if self.xruns:
            line += f" · {self.xruns} xruns (the pass will be marked bad)"
        return line


@dataclass
class PrintedStem:
    """One printed file and whether it can be delivered."""

    name: str
    loop: str
    path: str | None
    good: bool
    peak_dbfs: float
    rms_dbfs: float
    clips: int
    drift_samples: float | None
    latency_samples: float | None
    polarity: int
    reason: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "loop": self.loop, "path": self.path, "good": self.good,
                "peak_dbfs": _finite(self.peak_dbfs), "rms_dbfs": _finite(self.rms_dbfs), "clips": self.clips,
                "drift_samples": self.drift_samples, "latency_samples": self.latency_samples,
                "polarity": self.polarity, "reason": self.reason}


@dataclass
class PrintReport:
    """A song's print: every file, and where they are."""

    song: str
    folder: str
    files: list[PrintedStem]
    passes: int
    dry: list[str]
    retried_for_xruns: int = 0
    routing: list[str] = field(default_factory=list)
    """One line per routed pass (the router's outcome), a paper bay's hand steps under it."""

    @property
    def good(self) -> bool:
        return bool(self.files) and all(f.good for f in self.files)

    def to_dict(self) -> dict:
        return {"song": self.song, "folder": self.folder, "good": self.good, "passes": self.passes,
                "dry": self.dry, "retried_for_xruns": self.retried_for_xruns, "routing": self.routing,
                "files": [f.to_dict() for f in self.files]}


def _finite(value: float) -> float | None:
    return round(value, 2) if value == value and abs(value) != float("inf") else None


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


class TrafficLog:
    """Every byte the session's devices send and receive, numbered so a UI can poll for new ones.

    Wraps a :class:`devices.monitor.TrafficMonitor` (which the session hands to each
    Device it opens); ``since(n)`` returns the entries after the n-th and the new count.
    """

    def __init__(self, capacity: int = 5000) -> None:
        self.monitor = TrafficMonitor(capacity)
        self._lock = threading.Lock()
        self._lines: list[TrafficLine] = []
        self._dropped = 0
        self._capacity = capacity
        self._ports: dict[str, str] = {}
        self.monitor.subscribe(self._record)

    def name_port(self, port: str, device: str) -> None:
        with self._lock:
            self._ports[port] = device

    def _device_of(self, port: str) -> str:
        """The room's name for a port: its configured port string, or one contained in it
        (MIDI ports are resolved to full JACK names such as ``demo-comp:in``)."""
        if port in self._ports:
            return self._ports[port]
        for wanted, device in self._ports.items():
            if wanted and wanted in port:
                self._ports[port] = device
                return device
        return port

    def _record(self, entry: TrafficEntry) -> None:
        with self._lock:
            device = self._device_of(entry.port)
            self._lines.append(TrafficLine(device, entry))
            if len(self._lines) > self._capacity:
                cut = len(self._lines) - self._capacity
                del self._lines[:cut]
                self._dropped += cut

    def since(self, count: int) -> tuple[list[TrafficLine], int]:
        with self._lock:
            total = self._dropped + len(self._lines)
            start = max(0, count - self._dropped)
            return self._lines[start:], total


class StudioSession:
    """One open studio folder and the main job on its songs.

    Thread-safe where the TUI needs it: sheet reads and saves take a lock, so a worker
    applying a song and the Sheet view saving an edit never interleave on one file.
    """

    def __init__(self, studio_dir: str | Path) -> None:
        self.root = Path(studio_dir).expanduser().resolve()
        if not StudioPaths(self.root).is_studio():
            raise HybridError("not a studio folder (no studio.toml); create one with `hybrid init DIR`",
                              where=str(self.root))
        self._lock = threading.RLock()
        # One audio stream at a time, and no MIDI port scans while one runs: python-rtmidi's
        # JACK calls hold the GIL while they wait for the server, which waits for the
        # stream's Python callback (a deadlock in one process).
        self._audio_lock = threading.RLock()
        self.studio: Studio = load_studio(self.root, strict=False)
        self._summaries: dict[str, store.SongSummary] = {}
        self.traffic = TrafficLog()
        self.hands: Any = None
        """Who turns hand-set knobs when a walk-through step is confirmed: None in a real room
        (a person does), the demo rig in the demo (its simulated units have panels)."""

    @property
    def studio_name(self) -> str:
        return self.studio.name

    def reload_studio(self) -> Studio:
        with self._lock:
            self.studio = load_studio(self.root, strict=False)
            return self.studio

    # -- songs ----------------------------------------------------------------------------

    def songs(self) -> list[store.SongSummary]:
        """Every song of the studio, by album then title (broken sheets listed with their problems)."""
        found = store.list_songs(self.root)
        self._summaries = {s.slug: s for s in found}
        return found

    def known_songs(self) -> list[store.SongSummary]:
        """The songs as last read by :meth:`songs` (no disk access; for menus and palettes)."""
        if not self._summaries:
            return self.songs()
        return list(self._summaries.values())

    def song_summary(self, slug: str) -> store.SongSummary:
        summary = self._summaries.get(slug)
        if summary is None:
            self.songs()
            summary = self._summaries.get(slug)
            if summary is None:
                raise HybridError(f"no song {slug!r} in this studio", where=str(self.root))
        return summary

    def song_dir(self, slug: str) -> Path:
        return store.song_dir(self.root, slug)

    # -- the sheet ------------------------------------------------------------------------

    def sheet(self, slug: str) -> Sheet:
        with self._lock:
            return store.load_sheet(self.root, slug)

    def parse_value(self, device: str, param: str, text: Any) -> Any:
        """``text`` as a value of ``device``'s ``param``, checked by its profile (ProfileError if not)."""
        profile = self.studio.device(device).profile
        try:
            parameter = profile.parameters[param]
        except KeyError:
            raise RecallError(f"{profile.id} has no parameter {param!r}", key=f"devices.{device}") from None
        return normalise_value(parameter, text)

    def save_sheet(self, slug: str, sheet: Sheet) -> bool:
        """Save an edited sheet (checked against the studio; the old text goes to history)."""
        with self._lock:
            changed = store.save_sheet(sheet, store.sheet_path(self.root, slug), studio=self.studio)
            self._summaries.pop(slug, None)
            return changed

    def history(self, slug: str) -> list[store.Version]:
        return store.history(self.root, slug)

    def diff_version(self, slug: str, ref: str) -> list[Change]:
        """The current sheet against an earlier version (``ref`` as recall.store reads it)."""
        with self._lock:
            old = store.read_version(self.root, slug, ref)
            new = store.load_sheet(self.root, slug)
        return diff_sheets(old, new, self.studio)

    def walkthrough(self, slug: str, *, extra: list[str] | tuple[str, ...] = ()) -> list[Step]:
        """The hand-set part of the song's recall, in signal order (plus ``extra`` devices)."""
        return walkthrough(self.sheet(slug), self.studio, extra=extra)

    def confirm_step(self, step: Step) -> None:
        """A walk-through step is done. With ``hands`` (the demo's stand-in for the person at
        the rack) the knob is turned on the simulated unit too, so it sounds as set."""
        if self.hands is not None:
            self.hands.turn_knob(step.device, step.parameter, step.target)

    def diff_gear(self, slug: str) -> list[Change]:
        """The sheet against what the gear reports now (devices that can be read back)."""
        from recall.capture import read_gear
        from recall.diff import diff_gear

        sheet = self.sheet(slug)
        names = [d for d in sheet.used_devices() if d in self.studio.devices]
        with self._audio_lock:
            readings, failures = read_gear(self.studio, names, open_device=self._open_device)
        if failures:
            name, err = next(iter(failures.items()))
            raise DeviceError(f"could not read {len(failures)} device(s): {err}", device=name,
                              action="reading back")
        return diff_gear(sheet, self.studio, readings)

    # -- verify by ear (hybrid.live.verify) ------------------------------------------------------

    def fingerprinted(self, slug: str) -> bool:
        """Whether the song's chains have a stored fingerprint (how they sounded when stored)."""
        folder = SongPaths(self.song_dir(slug)).fingerprints
        return folder.is_dir() and any(folder.glob("*.npz"))

    def fingerprint(self, slug: str, *, loops: list[str] | None = None,
                    progress: Callable[[str], None] | None = None):
        """Store how each insert chain of the song (or those on ``loops``) sounds now
        (hybrid.live.verify.fingerprint_song)."""
        from hybrid.live.verify import song as verify

        self._resolve_interface(self._interface())
        with self._audio_lock:
            return verify.fingerprint_song(self.root, slug, loops=loops, progress=progress)

    def verify_by_ear(self, slug: str, *, progress: Callable[[str], None] | None = None):
        """Measure each chain again against its fingerprint (hybrid.live.verify.verify_song): a SongVerdict."""
        from hybrid.live.verify import song as verify

        self._resolve_interface(self._interface())
        with self._audio_lock:
            return verify.verify_song(self.root, slug, progress=progress)

    # -- devices --------------------------------------------------------------------------

    def device_status(self) -> list[DeviceStatus]:
        """Every unit of the room and whether its port is there now (MIDI by name, serial by path,
        a network unit by connecting)."""
        from devices.transports import transport_for_port

        seen: dict = {}          # what one listing found (the MIDI ports), shared by the units
        rows = []
        for entry in self.studio.devices.values():
            profile = entry.profile
            base = dict(name=entry.name, model=profile.model, kind=profile.kind,
                        transport=profile.transport, port=entry.port)
            if not entry.machine_settable:
                rows.append(DeviceStatus(**base, state="hand-set", detail="set by hand from the walk-through"))
                continue
            try:
                with self._audio_lock:
                    present, detail = transport_for_port(profile.transport, entry.port).presence(entry.port, seen)
            except DeviceError as exc:
                present, detail = False, exc.reason
            if present and entry.effective_channel is not None:
                detail += f", channel {entry.effective_channel}"
            rows.append(DeviceStatus(**base, state="connected" if present else "missing", detail=detail))
        return rows

    # -- loops ----------------------------------------------------------------------------

    def loop_states(self) -> list[LoopState]:
        """Every loop of the studio with its stored latency (fresh or stale) where there is one."""
        rate = self.studio.interface.samplerate if self.studio.interface else 48000
        out = []
        for loop in self.studio.loops.values():
            state = LoopState(loop.name, loop.out_channel, loop.in_channel, list(loop.devices), samplerate=rate)
            self._stored_latency(state)
            out.append(state)
        return out

    def measure_loop(self, name: str) -> LoopState:
        """Ping loop ``name`` through the studio's interface; the result is stored per loop.

        Uses the ping's two public halves (play and record, then estimate) rather than
        ``measure_loop`` so the recording is at hand for the impulse-response plot.
        """
        from hybrid.live.audio import ping

        loop = self._loop(name)
        iface = self._interface()
        where = f"loop {name}"
        dev = self._resolve_interface(iface)
        rate = int(iface.samplerate or 48000)
        signal_ = ping.ping_signal(rate)
        for attempt in range(2):
            with self._audio_lock:
                try:
                    received, xruns = ping.run_duplex(dev.index, signal_, loop.out_channel, loop.in_channel,
                                                      rate, iface.blocksize or 0, where)
                except HybridError as exc:
                    if attempt or "host error" not in str(exc):
                        raise
                    # PortAudio's JACK client was dropped by the server (a stall under load):
                    # a fresh PortAudio gets a new one.
                    _reinitialise_portaudio()
                    dev = self._resolve_interface(iface)
                    continue
            if xruns == 0:
                break
        else:
            raise HybridError(f"xruns during the ping ({xruns}) twice; the machine is too loaded", where=where)
        result = ping.estimate(signal_.sent, received, rate, max_latency_samples=signal_.max_latency_samples,
                               where=where)
        self._store_latency(loop, result, iface)
        state = self._state_from(loop, result, rate, "fresh")
        state.impulse = impulse_around(signal_.sent, received, result.latency_samples)
        return state

    def _loop(self, name: str):
        try:
            return self.studio.loops[name]
        except KeyError:
            raise HybridError(f"no loop {name!r} in this studio (known: {', '.join(self.studio.loops) or 'none'})",
                              where=str(self.studio.file)) from None

    def _resolve_interface(self, iface):
        """The interface as PortAudio lists it; PortAudio scans JACK clients once, so rescan
        when it is not there yet (gear started after PortAudio; no stream is open here)."""
        from hybrid.live.audio.interface import resolve_device

        with self._audio_lock:
            try:
                return resolve_device(iface.device, iface.hostapi)
            except HybridError:
                _reinitialise_portaudio()
                return resolve_device(iface.device, iface.hostapi)

    def _interface(self):
        from hybrid.live.audio.interface import load_interface

        return load_interface(self.root)

    @staticmethod
    def _state_from(loop, result, rate: int, state: str) -> LoopState:
        return LoopState(loop.name, loop.out_channel, loop.in_channel, list(loop.devices),
                         latency_samples=float(result.latency_samples), polarity=int(result.polarity),
                         gain_db=float(result.gain_db), snr_db=None if result.snr_db is None else float(result.snr_db),
                         samplerate=rate, state=state)

    # -- apply ----------------------------------------------------------------------------

    def apply(self, slug: str, *, on_progress: Callable[[DeviceProgress], None] | None = None,
              changed_only: bool = False):
        """Apply the song's sheet to the gear (recall.apply), reporting each device's progress.

        Devices are opened with the session's traffic monitor, so the Devices view shows
        every byte of the recall. Returns recall's ApplyReport.
        """
        from recall.apply import ApplyEvent, apply_sheet

        def relay(event: ApplyEvent) -> None:
            if on_progress is None or event.kind not in ("device", "done") or event.report is None:
                return
            report = event.report
            on_progress(DeviceProgress(report.device, report.status, report.detail()))

        with self._lock:
            sheet = store.load_sheet(self.root, slug)
        with self._audio_lock:
            return apply_sheet(self.studio, sheet, slug=slug, changed_only=changed_only, on_event=relay,
                               open_device=self._open_device)

    def _open_device(self, entry):
        """A Device for a studio unit that logs its bytes to the session's traffic monitor."""
        from devices.device import Device

        self.traffic.name_port(str(entry.port), entry.name)
        return Device(entry.profile, entry.port, name=entry.name, channel=entry.channel,
                      monitor=self.traffic.monitor)


    def _stored_latency(self, state: LoopState) -> None:
        from hybrid.live.audio import latency_store

        try:
            key = self._latency_key()
            status = latency_store.status(self.root, state.name, key)
        except HybridError as exc:
            state.state, state.detail = "failed", str(exc)
            return
        entry = status.entry
        if entry is None:
            return
        result = entry.result
        state.latency_samples = float(result.latency_samples)
        state.polarity = int(result.polarity)
        state.gain_db = float(result.gain_db)
        state.snr_db = None if result.snr_db is None else float(result.snr_db)
        state.measured_at = entry.measured_at
        state.state = "stale" if status.stale else "fresh"
        state.detail = "; ".join(status.reasons)

    def _latency_key(self):
        from hybrid.live.audio import latency_store

        iface = self._interface()
        return latency_store.LatencyKey(device=iface.device, samplerate=int(iface.samplerate or 48000),
                                        blocksize=int(iface.blocksize or 0))

    def _store_latency(self, loop, result, iface) -> None:
        from hybrid.live.audio import latency_store

        latency_store.store(self.root, loop.name, result, self._latency_key())

    # -- print ----------------------------------------------------------------------------

    def _song_plan(self, slug: str):
        from hybrid.live.audio.song import pass_rule, plan_song

        sheet = self.sheet(slug)
        return sheet, plan_song(self.studio, sheet, self.song_dir(slug), slug, fits=pass_rule(self.studio))

    def print_plan(self, slug: str) -> PrintPlan:
        """The passes that would print ``slug``'s stems (hybrid.live.audio's planner), for people."""
        import soundfile as sf

        sheet, plan = self._song_plan(slug)
        loops_of = {t.name: [i.loop for i in t.inserts] for t in sheet.tracks}
        passes = []
        length_s = 0.0
        for round_passes in plan.rounds[:1]:  # later rounds follow the same stems down their chains
            for planned in round_passes:
                items = []
                for job in planned.jobs:
                    name = Path(job.stem).stem
                    items.append((name, loops_of.get(name, [job.loop or "?"])))
                    try:
                        length_s = max(length_s, sf.info(str(job.stem)).duration)
                    except RuntimeError as exc:
                        raise HybridError(f"cannot read stem: {exc}", where=str(job.stem)) from exc
                passes.append(items)
        return PrintPlan(passes=passes, dry=sorted(plan.skipped), length_s=length_s)

    def print_song(self, slug: str, *, on_progress: Callable[[PrintProgress], None] | None = None,
                   xrun_retries: int = XRUN_RETRIES, separate_process: bool = False) -> PrintReport:
        """Print every stem of ``slug`` through its insert chain (hybrid.live.audio.song), with meters.

        A print whose only fault was xruns (the machine busy for a moment) is run again, up
        to ``xrun_retries`` times; the report says how often. ``separate_process`` runs the
        audio in a child process (hybrid.app.print_process: the UI passes True so its rendering
        never competes with the audio callback for the GIL). Holds the session's audio
        lock: one stream at a time.
        """
        from hybrid.live.audio.song import interface_of, print_song
        from hybrid.app.print_process import run_print

        sheet, plan = self._song_plan(slug)
        settings = interface_of(self.studio)
        routing: list[str] = []
        self._resolve_interface(settings)
        current: dict[str, Any] = {"number": 0, "total": plan.passes, "names": {}}
        clips: dict[str, int] = {}

        def on_pass(number: int, total: int, planned) -> None:
            current["number"], current["total"] = number, total
            current["names"] = {job.in_channels[0] - 1: Path(job.stem).stem.split(".round")[0]
                                for job in planned.jobs}

        def on_route(number: int, total: int, routed) -> None:
            # the session cannot stop for a person mid-print: a paper bay's cords are listed
            # (the main job's walk-through shows the first pass's before the print)
            routing.append(f"pass {number} of {total}: {routed.report.device} {routed.report.status} "
                           f"({routed.report.reason})")
            routing.extend(f"  {step}" for step in routed.steps)

        def relay(progress) -> None:
            if on_progress is None:
                return
            names = current["names"]
            peak = {names[i]: v for i, v in enumerate(progress.peak_dbfs) if i in names}
            rms = {names[i]: v for i, v in enumerate(progress.rms_dbfs) if i in names}
            for name, value in peak.items():
                if value >= -0.01:
                    clips[name] = clips.get(name, 0) + 1
            on_progress(PrintProgress(number=max(1, current["number"]), passes=current["total"],
                                      fraction_of_pass=progress.fraction, stage=progress.stage,
                                      position_s=progress.position_s, xruns=progress.xruns,
                                      peak_db=peak, rms_db=rms, clips=dict(clips)))

        retried = 0
        while True:
            routing.clear()  # a print run again reports its own routing
            with self._audio_lock:
                if separate_process:
                    result = run_print(self.root, slug, on_pass=on_pass, on_progress=relay, on_route=on_route)
                else:
                    result = print_song(self.studio, sheet, self.song_dir(slug), slug, settings,
                                        on_pass=on_pass, on_progress=relay, on_route=on_route)
            files = [_printed_stem(f) for outcome in result.passes for f in outcome.files
                     if ".rounds" not in Path(f.job.output).parts]
            bad = [f for f in files if not f.good]
            if not bad or retried >= xrun_retries or not all(_only_xruns(f.reason) for f in bad):
                break
            retried += 1  # the machine was busy for a moment: the pass is worth one more go
        return PrintReport(song=slug, folder=str(SongPaths(self.song_dir(slug)).prints), files=files,
                           passes=len(result.passes), dry=sorted(plan.skipped), retried_for_xruns=retried,
                           routing=routing)

    # -- the main job ---------------------------------------------------------------------

    def song_loops(self, slug: str) -> list[str]:
        """The loops the song's insert chains go through, in signal order, each once."""
        seen: dict[str, None] = {}
        for track in self.sheet(slug).tracks:
            for insert in track.inserts:
                seen.setdefault(insert.loop, None)
        return list(seen)

    def run_main_job(self, slug: str, *, on_event: Callable[[str], None] | None = None) -> MainJobReport:
        """Recall ``slug`` -> hand-set gear -> verify (read back, then by ear) -> measure its
        loops -> print its stems.

        ``on_event`` gets one line per thing that happened (for a CLI). A failing step is
        reported and, where later steps still make sense, the job goes on: a print after
        a failed verify is still made, and the report says which step failed and why.
        """
        import time

        say = on_event or (lambda line: None)
        t0 = time.perf_counter()
        sheet = self.sheet(slug)
        report = MainJobReport(song=slug, title=sheet.title)

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

        applied = run("recall: apply the sheet to the gear", lambda: self._job_apply(slug, say))
        run("recall: hand-set gear (walk-through)", lambda: self._job_walkthrough(slug, applied))
        run("verify: read the gear back against the sheet", lambda: self._job_verify(slug))
        run("verify: listen to each chain", lambda: self._job_listen(slug, say))
        run("loops: measure the round trips", lambda: self._job_measure(slug, say))
        run("print: stems through their insert chains", lambda: self._job_print(slug, say))
        report.wall_time_s = time.perf_counter() - t0
        return report

    def _job_apply(self, slug: str, say: Callable[[str], None]) -> JobStep:
        result = self.apply(slug, on_progress=lambda p: say(f"    {p.device}: {p.status.label}") if p.final else None)
        details = [f"{r.device}: {r.status.label}" + (f" ({r.detail()})" if r.detail() else "")
                   for r in result.devices]
        return JobStep("recall: apply the sheet to the gear", result.ok, result.summary_line(), details, result)

    def _job_walkthrough(self, slug: str, applied: JobStep) -> JobStep:
        steps = applied.data.steps if applied.data is not None else self.walkthrough(slug)
        name = "recall: hand-set gear (walk-through)"
        if not steps:
            return JobStep(name, True, "nothing to set by hand")
        if self.hands is None:
            return JobStep(name, False, f"{len(steps)} steps wait for a person (run the walk-through in the TUI)",
                           [str(s) for s in steps], [s.to_dict() for s in steps])
        for step in steps:
            self.confirm_step(step)
        return JobStep(name, True, f"{len(steps)} steps set by the demo's stand-in at the rack",
                       [str(s).strip() for s in steps], [s.to_dict() for s in steps])

    def _job_verify(self, slug: str) -> JobStep:
        name = "verify: read the gear back against the sheet"
        changes = self.diff_gear(slug)
        readable = [d for d in self.sheet(slug).used_devices()
                    if d in self.studio.devices and self.studio.devices[d].readback]
        if changes:
            return JobStep(name, False, f"{len(changes)} value(s) differ from the sheet",
                           [str(c) for c in changes], [c.to_dict() for c in changes])
        return JobStep(name, True, f"{len(readable)} device(s) read back, all as on the sheet "
                                   f"({', '.join(readable) or 'none can be read back'})")

    def _job_listen(self, slug: str, say: Callable[[str], None]) -> JobStep:
        """Verify by ear against the stored fingerprints; on a song's first recall, store them."""
        name = "verify: listen to each chain"
        if not self.fingerprinted(slug):
            stored, failed = [], []
            try:  # every chain in one measurement (loops share a stream)
                stored = [fp.key.label for fp in self.fingerprint(slug)]
            except HybridError:
                for loop in self.song_loops(slug):  # chain by chain: the one that cannot be measured is named
                    try:
                        stored.extend(fp.key.label for fp in self.fingerprint(slug, loops=[loop]))
                    except HybridError as exc:
                        failed.append(f"loop {loop}: {exc}")
            summary = (f"first recall: stored how its {len(stored)} chain(s) sound, "
                       "the next recall is checked against it")
            if failed:
                # Not a failed recall: this chain cannot be fingerprinted (hybrid.live.verify's limits,
                # e.g. a long reverb tail); the report names it and why.
                summary += f"; {len(failed)} could not be measured (not checked by ear)"
            return JobStep(name, True, summary, stored + failed, warning=bool(failed))
        verdict = self.verify_by_ear(slug)
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

    def _job_measure(self, slug: str, say: Callable[[str], None]) -> JobStep:
        name = "loops: measure the round trips"
        details, results, ok = [], [], True
        for loop in self.song_loops(slug):
            try:
                state = self.measure_loop(loop)
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

    def _job_print(self, slug: str, say: Callable[[str], None]) -> JobStep:
        name = "print: stems through their insert chains"
        last = {"number": 0}

        def progress(p: PrintProgress) -> None:
            if p.number != last["number"]:
                last["number"] = p.number
                say(f"    pass {p.number} of {p.passes}")

        result = self.print_song(slug, on_progress=progress, separate_process=True)
        details = list(result.routing)
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


def impulse_around(sent, received, latency_samples: float, half_width: int = 48):
    """The loop's impulse response around its peak, by cross-correlating the return with the
    stimulus (normalised by the stimulus energy): enough to see timing, polarity and ringing."""
    import numpy as np
    from scipy import signal as sps

    x = np.asarray(sent, dtype=np.float64)
    y = np.asarray(received, dtype=np.float64)
    corr = sps.correlate(y, x, mode="full", method="fft")[len(x) - 1:] / max(float(np.dot(x, x)), 1e-12)
    centre = int(round(latency_samples))
    lo, hi = max(0, centre - half_width), min(len(corr), centre + half_width + 1)
    return corr[lo:hi]


def _reinitialise_portaudio() -> None:
    """PortAudio scans JACK clients once: rescan to see gear started since (no streams open here)."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()




def _only_xruns(reason: str) -> bool:
    """True when every problem of a printed file was an xrun (nothing wrong with the gear)."""
    problems = [p for p in reason.split("; ") if p]
    return bool(problems) and all("xrun" in p for p in problems)


def _printed_stem(f) -> PrintedStem:
    lat = f.channels[0] if f.channels else None
    levels = f.levels
    return PrintedStem(
        name=Path(f.job.output).name, loop=f.job.label, path=None if f.path is None else str(f.path),
        good=bool(f.good),
        peak_dbfs=levels.file_peak_dbfs if levels else float("-inf"),
        rms_dbfs=levels.file_rms_dbfs if levels else float("-inf"),
        clips=int(sum(f.return_clipped_samples)),
        drift_samples=None if lat is None or lat.change_samples is None else round(lat.change_samples, 4),
        latency_samples=None if lat is None or lat.applied_samples is None else round(lat.applied_samples, 4),
        polarity=lat.polarity if lat else 1,
        reason="; ".join(f.problems),
    )
