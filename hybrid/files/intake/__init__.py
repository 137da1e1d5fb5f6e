"""Stem intake: a client's archive becomes a new song, checked against the preparation rules.

Public API: ``intake_archive(archive, studio_dir, *, song=None, ...) -> IntakeReport``
(raises ``IntakeRefused``, a HybridError carrying the report, when the upload is
refused); ``Limits`` (archive caps), ``Rules`` (audio thresholds). The policy of what
refuses, what is skipped and what is imported with a loud report is in
hybrid.files.intake.pipeline.
"""

from hybrid.files.intake.audio_checks import Rules
from hybrid.files.intake.limits import Limits
from hybrid.files.intake.pipeline import intake_archive, song_title_from_archive
from hybrid.files.intake.report import FileReport, Finding, IntakeRefused, IntakeReport, Refusal, format_text

__all__ = ["intake_archive", "song_title_from_archive", "Limits", "Rules", "IntakeReport",
           "IntakeRefused", "Refusal", "FileReport", "Finding", "format_text"]
