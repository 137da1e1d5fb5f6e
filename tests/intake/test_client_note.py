"""The note to the client, built from real intakes: what to fix per stem, song-wide fixes said once."""

from __future__ import annotations

import pytest

from hybrid.files.intake import IntakeRefused, intake_archive
from hybrid.files.intake.client_note import client_note
from tests.intake.helpers import good_stems, make_zip, tone, wav_bytes


def test_a_clean_upload_says_nothing_to_fix(studio, sandbox):
    report = intake_archive(make_zip(sandbox / "Clean.zip", good_stems()), studio)
    note = client_note(report, studio_name="Room B")
    assert "nothing to fix" in note and note.rstrip().endswith("Room B")


def test_each_broken_rule_asks_for_its_fix_and_lengths_are_said_once(studio, sandbox):
    stems = good_stems(0.5)
    stems["5Vox.wav"] = wav_bytes(tone(0.7, seed=5))           # longer than the others
    stems["6Pad.wav"] = wav_bytes(tone(0.5, seed=6), subtype="PCM_16")
    report = intake_archive(make_zip(sandbox / "Mixed.zip", stems), studio)
    note = client_note(report)
    assert "- 6Pad.wav:" in note and "please export it at 24-bit (or 32-bit float)" in note
    assert note.count("please export every stem from the same start to the same end") == 1
    assert "For all stems:" in note


def test_a_refused_upload_says_why_and_what_to_send(studio, sandbox):
    with pytest.raises(IntakeRefused) as caught:
        intake_archive(make_zip(sandbox / "Empty.zip", {"readme.txt": b"hi"}), studio)
    note = client_note(caught.value.report)
    assert "could not take in" in note and "send the stems as WAV files" in note
