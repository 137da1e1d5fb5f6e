"""A note to the client: what to fix in their upload, in words a client can act on.

Built from an :class:`~hybrid.files.intake.report.IntakeReport`: every ``warn`` and
``fail`` finding becomes a line under the stem it concerns, with the fix to ask for
(one per rule, :data:`FIXES`). Song-wide problems (stems of different lengths or
rates) are said once. A refused upload gets the reason and what to send instead.
The control room's Intake view shows it and saves it beside the song
(``songs/<song>/intake/client-note.txt``) ready to paste into a mail.
"""

from __future__ import annotations

from collections import defaultdict

from hybrid.files.intake.report import IntakeReport

FIXES: dict[str, str] = {
    "format": "export it again as a WAV file (Broadcast Wave is fine)",
    "integrity": "export it again: the file is damaged or was cut off during the upload",
    "length": "export it again: the file holds no audio",
    "samplerate": "export it at the session's sample rate, 44.1 kHz or higher",
    "resolution": "export it at 24-bit (or 32-bit float)",
    "channels": "send mono or stereo stems, one instrument per file",
    "one-rate": "export every stem at the same sample rate as the others",
    "one-length": "export every stem from the same start to the same end (bar 1 to the end of the song)",
    "start": "export every stem from the same start point so they line up",
    "name": "name it with its track number and instrument, e.g. \"3Bass\"",
    "drums": "send the drums as separate stems (kick, snare, overheads...), not one drum bus",
    "silence": "check the export: this stem is silent (wrong track or muted?)",
    "clipping": "export it again with lower level: it clips",
    "mono-as-stereo": "a mono source can be sent as a mono file",
    "nested": "send all the stems in one archive, not an archive inside the archive",
    "skipped": "leave this file out (it is not audio)",
}
"""The fix to ask for, per rule id of the intake checks."""

REFUSAL_FIXES: dict[str, str] = {
    "path": "zip the stems again from a plain folder",
    "link": "zip the stems themselves, not links to them",
    "encrypted": "send the archive without a password",
    "bomb": "send the stems as they are (the archive unpacked to more than the studio accepts)",
    "corrupt": "upload the archive again: it arrived damaged",
    "duplicate": "give every stem its own name",
    "empty": "send the stems as WAV files",
}
"""The fix to ask for when an upload is refused, per refusal rule."""


def client_note(report: IntakeReport, *, studio_name: str = "the studio") -> str:
    """The note as plain text: a greeting line, one block per stem to fix, a closing line."""
    song = report.song or "your song"
    if report.refused:
        refusal = report.refusal or {}
        rule = str(refusal.get("rule") or "")
        member = refusal.get("member")
        where = f" ({member})" if member else ""
        fix = REFUSAL_FIXES.get(rule, "send the stems again as WAV files in one zip")
        return (f"Hello,\n\nwe could not take in the stems for \"{song}\"{where}: {refusal.get('reason')}.\n"
                f"Please {fix}.\n\nThank you,\n{studio_name}\n")
    per_file: dict[str, list[str]] = defaultdict(list)
    song_wide: list[str] = []
    for f in report.files:
        name = f.member or f.file  # as the client named it in the upload
        for finding in f.findings:
            if finding.level not in ("warn", "fail"):
                continue
            fix = FIXES.get(finding.rule)
            line = f"{finding.message}" + (f" -> please {fix}" if fix else "")
            if finding.rule in ("one-rate", "one-length", "start"):
                if fix and fix not in song_wide:
                    song_wide.append(fix)
                per_file[name].append(finding.message)
            else:
                per_file[name].append(line)
    if not per_file and not song_wide:
        return (f"Hello,\n\nthe stems for \"{song}\" arrived complete and ready to mix; nothing to fix.\n\n"
                f"Thank you,\n{studio_name}\n")
    lines = [f"Hello,\n\nthank you for the stems of \"{song}\". Before we mix, please fix the following "
             f"and send the corrected files:\n"]
    for name, problems in per_file.items():
        lines.append(f"- {name}:")
        lines.extend(f"    {p}" for p in problems)
    if song_wide:
        lines.append("")
        lines.extend(f"For all stems: please {fix}." for fix in song_wide)
    lines.append(f"\nThank you,\n{studio_name}\n")
    return "\n".join(lines)
