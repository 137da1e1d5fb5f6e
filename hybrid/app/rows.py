"""The rows the front ends show: devices, loops, print plans, progress and reports.

Plain dataclasses with ``to_dict()`` (for ``--json``), made by the session
(hybrid.app.session) and shown by the CLI and the TUI's views; nothing here does work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recall.status import ApplyStatus

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
    transfer: Any = field(default=None, repr=False)
    """The loop's magnitude and excess phase against frequency (hybrid.live.audio.transfer), when just measured."""

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
            line += f" · {self.xruns} xruns (between the pings they spoil the pass: it is printed again)"
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
    codes: tuple[str, ...] = ()
    """The problems' codes (hybrid.errors), in the order of ``reason``'s parts."""

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
    cancelled: str | None = None
    """Why the print stopped early on request (the running pass kept nothing), else None."""
    kept: list[str] = field(default_factory=list)
    """The printed files on disk afterwards (good under their names, bad as NAME.BAD.wav)."""
    notes: list[str] = field(default_factory=list)
    """Reported, not spoiling: xruns outside the pings, earlier attempts spoilt by xruns."""
    result: Any = field(default=None, repr=False)
    """The last attempt's ``hybrid.live.audio.song.SongPrintResult`` (what ``hybrid print --json`` shows)."""

    @property
    def good(self) -> bool:
        return self.cancelled is None and bool(self.files) and all(f.good for f in self.files)

    def to_dict(self) -> dict:
        return {"song": self.song, "folder": self.folder, "good": self.good, "passes": self.passes,
                "dry": self.dry, "retried_for_xruns": self.retried_for_xruns, "routing": self.routing,
                "cancelled": self.cancelled, "kept": self.kept, "notes": self.notes,
                "files": [f.to_dict() for f in self.files]}


def _finite(value: float) -> float | None:
    return round(value, 2) if value == value and abs(value) != float("inf") else None


