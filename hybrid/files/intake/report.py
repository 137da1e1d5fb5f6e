"""What intake found: per-file findings, the song summary, and the refusal.

Levels, mildest first: ``pass`` (the rule holds), ``info`` (worth knowing, no action),
``warn`` (imported; tell the client), ``fail`` (a preparation rule is broken; the file is
still imported when it is a readable WAV, so the engineer can listen and talk to the
client, unless it is ``skipped``). A ``Refusal`` is different: the whole upload is
rejected and nothing is kept (see hybrid.files.intake.pipeline for the policy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hybrid.errors import HybridError

LEVELS = ("pass", "info", "warn", "fail")


class Refusal(HybridError):
    """The upload is refused as a whole: unsafe, corrupt, too big, or nothing usable in it.

    ``member`` names the archive entry at fault (if any), ``rule`` the guard that tripped
    (``path``, ``link``, ``encrypted``, ``bomb``, ``corrupt``, ``duplicate``, ``two-songs``, ``empty``,
    ``exists``, ``disk``, ``io``, ``sheet``, ``interrupted``).
    """

    def __init__(self, reason: str, *, member: str | None = None, rule: str = "refused",
                 archive: str | None = None):
        super().__init__(reason, where=archive)
        self.member = member
        self.rule = rule
        self.archive = archive

    def __str__(self) -> str:
        head = f"{self.archive}: " if self.archive else ""
        who = f"member {_short(self.member)!r}: " if self.member else ""
        return f"{head}upload refused: {who}{_short(self.reason, 300)}"


def _short(text: str, limit: int = 120) -> str:
    """A refusal stays one readable line: a crafted 60 KB member name or tool message is cut."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


class IntakeRefused(Refusal):
    """A Refusal raised by ``intake_archive``, carrying the report built so far."""

    def __init__(self, refusal: Refusal, report: IntakeReport):
        super().__init__(refusal.reason, member=refusal.member, rule=refusal.rule,
                         archive=refusal.archive)
        self.report = report


@dataclass
class Finding:
    """One rule's verdict on one file (or on the song as a whole)."""

    rule: str
    """Rule id: format, integrity, samplerate, resolution, channels, one-rate, one-length,
    start, name, drums, effects, silence, clipping, mono-as-stereo, nested, skipped."""
    level: str
    """pass | info | warn | fail."""
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "level": self.level, "message": self.message}


@dataclass
class FileReport:
    """One archive member that looked like a stem (or was skipped with a reason)."""

    member: str
    """Its name in the archive."""
    file: str | None = None
    """Path relative to the song folder once imported (``stems/1Kick.wav``)."""
    track: str | None = None
    """Track name in the sheet (the file name without extension)."""
    imported: bool = False
    format: str | None = None
    subtype: str | None = None
    samplerate: int | None = None
    channels: int | None = None
    frames: int | None = None
    time_reference: int | None = None
    """BWF time reference (samples since midnight) when the file has a bext chunk."""
    peak_dbfs: float | None = None
    findings: list[Finding] = field(default_factory=list)

    def add(self, rule: str, level: str, message: str) -> None:
        self.findings.append(Finding(rule, level, message))

    @property
    def status(self) -> str:
        """The worst level among the findings; ``skip`` for a file that was not imported."""
        if not self.imported:
            return "skip"
        worst = max((LEVELS.index(f.level) for f in self.findings), default=0)
        return LEVELS[worst]

    @property
    def duration_s(self) -> float | None:
        if self.frames is None or not self.samplerate:
            return None
        return self.frames / self.samplerate

    def to_dict(self) -> dict[str, Any]:
        return {
            "member": self.member, "file": self.file, "track": self.track,
            "imported": self.imported, "status": self.status, "format": self.format,
            "subtype": self.subtype, "samplerate": self.samplerate, "channels": self.channels,
            "frames": self.frames, "duration_s": self.duration_s,
            "time_reference": self.time_reference,
            # JSON has no -inf: digital silence is null here and a silence finding below.
            "peak_dbfs": None if self.peak_dbfs in (None, float("-inf")) else round(self.peak_dbfs, 2),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass
class IntakeReport:
    """The whole upload: what came in, what each rule said, and where the song landed."""

    archive: str
    song: str | None = None
    """The song's title."""
    song_dir: str | None = None
    """The new song's folder (absent when refused)."""
    samplerate: int | None = None
    """The song's sample rate (the rate most stems share)."""
    refused: bool = False
    refusal: dict[str, Any] | None = None
    extractor: str | None = None
    """What unpacked it: zipfile, bsdtar or unar."""
    files: list[FileReport] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    """System junk dropped quietly (__MACOSX, .DS_Store, folders)."""
    notes: list[str] = field(default_factory=list)
    """What the checks can and cannot tell (said once, not per file)."""
    also: list[IntakeReport] = field(default_factory=list)
    """The upload's other songs, when its folders held one song each (this is the first)."""

    def summary(self) -> dict[str, int]:
        counts = {"imported": 0, "pass": 0, "info": 0, "warn": 0, "fail": 0, "skipped": 0,
                  "ignored": len(self.ignored)}
        for f in self.files:
            if f.imported:
                counts["imported"] += 1
                counts[f.status] += 1
            else:
                counts["skipped"] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "archive": self.archive, "song": self.song, "song_dir": self.song_dir,
            "samplerate": self.samplerate, "refused": self.refused, "refusal": self.refusal,
            "extractor": self.extractor,
            "summary": self.summary(), "files": [f.to_dict() for f in self.files],
            "ignored": self.ignored, "notes": self.notes,
            **({"also": [other.to_dict() for other in self.also]} if self.also else {}),
        }


def format_text(report: IntakeReport) -> str:
    """The report for people: one line per file, its failing rules under it, then a summary
    (the upload's other songs follow, each the same way)."""
    if report.also and not report.refused:
        return "\n\n".join(_format_one(r) for r in [report, *report.also])
    return _format_one(report)


def _format_one(report: IntakeReport) -> str:
    lines = []
    if report.refused:
        r = report.refusal or {}
        who = f" (member {r['member']!r})" if r.get("member") else ""
        lines.append(f"REFUSED {report.archive}{who}: {r.get('reason')}")
        lines.append("Nothing was imported; the studio is as it was.")
    else:
        lines.append(f"Intake of {report.archive} -> song {report.song!r} in {report.song_dir}"
                     f" ({report.samplerate} Hz, unpacked with {report.extractor})")
    width = max((len(f.file or f.member) for f in report.files), default=10)
    for f in report.files:
        label = {"skip": "SKIP"}.get(f.status, f.status.upper())
        name = (f.file or f.member).ljust(width)
        lines.append(f"  {label:<4}  {name}  {_describe(f)}")
        for finding in f.findings:
            if finding.level != "pass":
                lines.append(f"          {finding.level:<4}  {finding.rule}: {finding.message}")
    if report.refused:
        return "\n".join(lines)
    s = report.summary()
    lines.append(f"Summary: {s['imported']} imported ({s['pass']} pass, {s['info']} info, "
                 f"{s['warn']} warn, {s['fail']} fail), {s['skipped']} skipped, "
                 f"{s['ignored']} ignored")
    for note in report.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines)


def _describe(f: FileReport) -> str:
    if f.samplerate is None:
        return ""
    bits = {"PCM_16": "16-bit", "PCM_24": "24-bit", "PCM_32": "32-bit int", "FLOAT": "32-bit float",
            "DOUBLE": "64-bit float", "PCM_U8": "8-bit", "PCM_S8": "8-bit"}.get(f.subtype or "", f.subtype)
    chans = {1: "mono", 2: "stereo"}.get(f.channels or 0, f"{f.channels} ch")
    parts = [f"{f.samplerate} Hz", str(bits), chans]
    if f.duration_s is not None:
        m, s = divmod(f.duration_s, 60)
        parts.append(f"{int(m)}:{s:06.3f}")
    if f.peak_dbfs is not None:
        parts.append("peak -inf dBFS" if f.peak_dbfs == float("-inf") else f"peak {f.peak_dbfs:.1f} dBFS")
    return "  ".join(parts)
