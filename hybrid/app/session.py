"""The one façade both front ends use on a studio folder: songs, sheets, apply, devices, loops, verify, print.

:class:`StudioSession` strings the layers together (recall for sheets, history and
apply; hybrid.live for loops, prints and verify by ear) and reports progress through
plain callbacks, so a CLI prints lines and the TUI posts messages from its worker
threads; nothing here knows about either. Every failure is raised as a layer's
exception root with the context a person needs (song, device, loop, file).

Its parts live beside it, one idea each: the rows it returns (hybrid.app.rows), the
traffic log (hybrid.app.traffic), a print through the session (hybrid.app.print_job, run
in hybrid.app.print_process) and the main job (hybrid.app.main_job).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from devices.errors import DeviceError
from hybrid.app.print_job import XRUN_RETRIES, PrintRequest, print_request, run_request
from hybrid.app.rows import DeviceProgress, DeviceStatus, LoopState, PrintPlan, PrintProgress, PrintReport
from hybrid.app.traffic import TrafficLog
from hybrid.errors import HOST_ERROR, HybridError
from hybrid.live.audio.portaudio import rescan
from recall import store
from recall.diff import Change, diff_sheets
from recall.errors import RecallError
from recall.paths import SongPaths, StudioPaths
from recall.sheet import Sheet, normalise_value
from recall.studio import Studio, load_studio
from recall.walkthrough import Step, walkthrough

TAIL_LISTEN_S = 0.5
"""Measuring a loop listens this long after its ping, to hear how long the loop rings on."""


class StudioSession:
    """One open studio folder and the main job on its songs.

    Thread-safe where the TUI needs it: sheet reads and saves take a lock, so a worker
    applying a song and the Sheet view saving an edit never interleave on one file.
    """

    def __init__(self, studio_dir: str | Path, *, strict: bool = False) -> None:
        """``strict``: refuse a studio.toml with any broken key (the CLI); else load the good parts
        and keep ``studio.problems`` (the TUI shows them)."""
        self.root = Path(studio_dir).expanduser().resolve()
        if not StudioPaths(self.root).is_studio():
            raise HybridError("not a studio folder (no studio.toml); create one with `hybrid init DIR`",
                              where=str(self.root))
        self._lock = threading.RLock()
        # One audio stream at a time, and no MIDI port scans while one runs: python-rtmidi's
        # JACK calls hold the GIL while they wait for the server, which waits for the
        # stream's Python callback (a deadlock in one process).
        self.audio_lock = threading.RLock()
        self._strict = strict
        self.studio: Studio = load_studio(self.root, strict=strict)
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
            self.studio = load_studio(self.root, strict=self._strict)
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

    def copy_from(self, source: str, slug: str) -> None:
        """Start ``slug``'s sheet from ``source``'s: device settings, the insert chains and
        ``[mix]`` of the stems both have, the checklist (recall.store.copy_sheet; the old
        text goes to history)."""
        with self._lock:
            store.copy_sheet(self.studio, source, slug)
            self._summaries.pop(slug, None)

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
        with self.audio_lock:
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
                    progress: Callable[[str], None] | None = None, failed: list[HybridError] | None = None):
        """Store how each insert chain of the song (or those on ``loops``) sounds now
        (hybrid.live.verify.fingerprint_song; ``failed``: see there)."""
        from hybrid.live.verify import song as verify

        self.find_interface(self._interface())
        with self.audio_lock:
            return verify.fingerprint_song(self.root, slug, loops=loops, progress=progress, failed=failed)

    def verify_by_ear(self, slug: str, *, progress: Callable[[str], None] | None = None):
        """Measure each chain again against its fingerprint (hybrid.live.verify.verify_song): a SongVerdict."""
        from hybrid.live.verify import song as verify

        self.find_interface(self._interface())
        with self.audio_lock:
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
                with self.audio_lock:
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
        from hybrid.live.audio.printing import FLOOR_FIT_S
        from hybrid.live.audio.signals import PREROLL_S
        from hybrid.live.audio.transfer import loop_transfer

        loop = self._loop(name)
        iface = self._interface()
        where = f"loop {name}"
        dev = self.find_interface(iface)
        rate = int(iface.samplerate or 48000)
        # silence long enough before the ping to tell a floor from a tail still dying away from
        # what went through the loop before (printing.FLOOR_FIT_S), and after it, to hear how
        # long the loop rings on (a reverb's decay: _store_tail)
        signal_ = ping.ping_signal(rate, preroll_s=max(PREROLL_S, FLOOR_FIT_S))
        listen = replace(signal_, sent=np.concatenate([signal_.sent, np.zeros(int(TAIL_LISTEN_S * rate),
                                                                              dtype=signal_.sent.dtype)]))
        for attempt in range(2):
            with self.audio_lock:
                try:
                    heard, xruns = ping.run_duplex(dev.index, listen, loop.out_channel, loop.in_channel,
                                                   rate, iface.blocksize or 0, where)
                except HybridError as exc:
                    if attempt or exc.code != HOST_ERROR:
                        raise
                    # PortAudio's JACK client was dropped by the server (a stall under load):
                    # a fresh PortAudio gets a new one.
                    rescan()
                    dev = self.find_interface(iface)
                    continue
            if xruns == 0:
                break
        else:
            raise HybridError(f"xruns during the ping ({xruns}) twice; the machine is too loaded", where=where)
        received = heard[:signal_.frames]      # the ping as a print embeds it
        result = ping.estimate(signal_.sent, received, rate, max_latency_samples=signal_.max_latency_samples,
                               where=where)
        self._store_latency(loop, result)
        self._store_tail(loop, signal_, heard, result.latency_samples, rate)
        state = self._state_from(loop, result, rate, "fresh")
        state.impulse = impulse_around(signal_.sent, received, result.latency_samples)
        state.transfer = loop_transfer(signal_.sent, received, rate, result.latency_samples)
        return state

    def _loop(self, name: str):
        try:
            return self.studio.loops[name]
        except KeyError:
            raise HybridError(f"no loop {name!r} in this studio (known: {', '.join(self.studio.loops) or 'none'})",
                              where=str(self.studio.file)) from None

    def find_interface(self, iface):
        """The interface as PortAudio lists it (rescanned once when it is not there yet: gear
        started after PortAudio; no stream is open while the audio lock is held)."""
        from hybrid.live.audio.portaudio import find_device

        with self.audio_lock:
            return find_device(iface.device, iface.hostapi)

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
        with self.audio_lock:
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

    def _store_latency(self, loop, result) -> None:
        from hybrid.live.audio import latency_store

        latency_store.store(self.root, loop.name, result, self._latency_key())

    def _store_tail(self, loop, signal_, heard, latency_samples: float, rate: int) -> None:
        """How long ``loop``'s ping rings on, judged as a print judges its first ping
        (``hybrid.live.audio.printing.ping_tail``), into latency.toml [tails]: the first print
        through a reverb then leaves that gap before the stems instead of learning it from
        a spoilt pass. ``heard``: the ping's return and ``TAIL_LISTEN_S`` more."""
        from hybrid.live.audio import latency_store
        from hybrid.live.audio.printing import ping_tail

        def read(offset: int, count: int):
            return heard[offset:offset + count]

        floor, sweep_end = (0, signal_.start), signal_.stop
        if ping_tail(read, latency_samples, floor, sweep_end, signal_.frames, rate) is None:
            return                       # quiet where a print's stems would start
        longer = ping_tail(read, latency_samples, floor, sweep_end, len(heard), rate)
        extra_s = (len(heard) - signal_.frames) / rate
        latency_store.store_tail(self.root, loop.name, extra_s + (longer[2] if longer is not None else 0.0))

    # -- print ----------------------------------------------------------------------------

    def print_plan_of(self, slug: str):
        """The song's print plan as hybrid.live.audio.song makes it (rounds of passes, router's rule)."""
        from hybrid.live.audio.song import pass_rule, plan_song

        return plan_song(self.studio, self.sheet(slug), self.song_dir(slug), slug, fits=pass_rule(self.studio))

    def print_plan(self, slug: str) -> PrintPlan:
        """The passes that would print ``slug``'s stems (hybrid.live.audio's planner), for people."""
        import soundfile as sf

        sheet, plan = self.sheet(slug), self.print_plan_of(slug)
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

    def print_song(self, slug: str, *, request: PrintRequest | None = None,
                   on_progress: Callable[[PrintProgress], None] | None = None,
                   on_pass: Callable[..., None] | None = None, on_route: Callable[..., None] | None = None,
                   xrun_retries: int = XRUN_RETRIES, separate_process: bool = True,
                   cancel: threading.Event | None = None) -> PrintReport:
        """Print every stem of ``slug`` through its insert chain, the way every front end does
        (hybrid.app.print_job): routed pass by pass, run again after xruns (up to
        ``xrun_retries``), in a child process unless ``separate_process`` is False, good pings
        stored in latency.toml. ``request`` carries options and interface overrides (default:
        the studio's). ``cancel`` stops the running pass within a period; the report says
        which files were kept. Holds the session's audio lock: one stream at a time.
        """
        request = request or PrintRequest(song=slug)
        if request.song != slug:
            raise HybridError(f"the request is for {request.song!r}, not {slug!r}", where=str(self.root))
        return print_request(self, request, on_progress=on_progress, on_pass=on_pass, on_route=on_route,
                             xrun_retries=xrun_retries, separate_process=separate_process, cancel=cancel)

    def print_mix(self, slug: str, *, request: PrintRequest | None = None,
                  on_pass: Callable[..., None] | None = None, on_progress: Callable[..., None] | None = None,
                  separate_process: bool = True, cancel: threading.Event | None = None):
        """Print ``slug``'s mix variants through the summing mixer (hybrid.live.audio.mix) the way
        every front end does (hybrid.app.print_job.run_request): ``(MixResult, attempts spoilt by xruns)``."""
        request = request or PrintRequest(song=slug, mix=True)
        if request.song != slug or not request.mix:
            raise HybridError(f"the request is not a mix of {slug!r}", where=str(self.root))
        return run_request(self, request, on_pass=on_pass, on_progress=on_progress,
                           separate_process=separate_process, cancel=cancel)

    def print_master(self, album: str, *, request: PrintRequest | None = None,
                     on_steps: Callable[..., None] | None = None, on_pass: Callable[..., None] | None = None,
                     on_progress: Callable[..., None] | None = None, separate_process: bool = True,
                     cancel: threading.Event | None = None):
        """Print ``album``'s mastering passes (hybrid.live.audio.master), each master recorded in
        album.toml: ``(MasterResult, attempts spoilt by xruns)``. ``on_steps(song, steps)`` gets a
        song's hand-set walk-through and returns when it is set (without it, and with ``hands``,
        the demo's stand-in turns the knobs)."""
        request = request or PrintRequest(song="", album=album)
        if request.album != album:
            raise HybridError(f"the request is not a master of {album!r}", where=str(self.root))
        if on_steps is None and self.hands is not None:
            def on_steps(_song: str, steps: list[Step]) -> None:
                for step in steps:
                    self.confirm_step(step)
        return run_request(self, request, on_pass=on_pass, on_progress=on_progress, on_steps=on_steps,
                           separate_process=separate_process, cancel=cancel)

    # -- the main job ---------------------------------------------------------------------

    def song_loops(self, slug: str) -> list[str]:
        """The loops the song's insert chains go through, in signal order, each once."""
        seen: dict[str, None] = {}
        for track in self.sheet(slug).tracks:
            for insert in track.inserts:
                seen.setdefault(insert.loop, None)
        return list(seen)

    def run_main_job(self, slug: str, *, on_event: Callable[[str], None] | None = None):
        """The main job on ``slug`` (hybrid.app.main_job.run_main_job): a MainJobReport."""
        from hybrid.app.main_job import run_main_job

        return run_main_job(self, slug, on_event=on_event)


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
