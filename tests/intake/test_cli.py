"""``hybrid intake`` as a user runs it: text and JSON reports, exit statuses, Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import zipfile

from tests.conftest import ROOT
from tests.intake.helpers import good_stems, make_zip, tone, tree, wav_bytes


def test_text_report_and_sheet(cli, studio, uploads):
    stems = dict(good_stems(), **{"Audio 1.wav": wav_bytes(tone(0.5), subtype="PCM_16")})
    archive = make_zip(uploads / "Night_Drive.zip", stems)
    out = cli("intake", str(archive), "--studio", str(studio))
    assert out.returncode == 0, out.stderr
    assert "song 'Night Drive'" in out.stdout
    assert "FAIL  stems/Audio 1.wav" in out.stdout and "16 bit" in out.stdout
    assert "Summary: 5 imported (4 pass, 0 info, 0 warn, 1 fail)" in out.stdout
    assert (studio / "songs" / "night-drive" / "sheet.toml").is_file()


def test_json_report(cli, studio, uploads):
    archive = make_zip(uploads / "up.zip", dict(good_stems(), **{"notes.txt": b"tempo 120"}))
    out = cli("intake", str(archive), "--studio", str(studio), "--song", "Blue Hour", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["song"] == "Blue Hour" and doc["refused"] is False
    assert doc["song_dir"].endswith("songs/blue-hour")
    assert doc["summary"]["imported"] == 4 and doc["summary"]["skipped"] == 1
    kick = next(f for f in doc["files"] if f["track"] == "1Kick")
    assert kick["file"] == "stems/1Kick.wav" and kick["status"] == "pass"
    assert {x["rule"] for x in kick["findings"]} >= {"format", "samplerate", "resolution", "clipping"}


def test_refusal_exit_status_and_one_error_line(cli, studio, uploads, sandbox):
    archive = make_zip(uploads / "evil.zip", dict(good_stems(), **{"../../x.wav": b"RIFF"}))
    before = tree(sandbox)
    out = cli("intake", str(archive), "--studio", str(studio), "--json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["refused"] and doc["refusal"]["rule"] == "path" and doc["refusal"]["member"] == "../../x.wav"
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hybrid: error: ") and "upload refused" in lines[0]
    assert tree(sandbox) == before


def test_strict_exits_2_on_failed_rules(cli, studio, uploads):
    stems = dict(good_stems(), **{"5Vox.wav": wav_bytes(tone(0.5), subtype="PCM_16")})
    out = cli("intake", str(make_zip(uploads / "s.zip", stems)), "--studio", str(studio), "--strict")
    assert out.returncode == 2 and (studio / "songs" / "s").is_dir()


def test_bad_arguments_are_one_line(cli, studio, uploads, tmp_path):
    out = cli("intake", str(uploads / "missing.zip"), "--studio", str(studio))
    assert out.returncode == 1 and out.stderr.strip() == f"hybrid: error: {uploads / 'missing.zip'}: archive not found"
    archive = make_zip(uploads / "a.zip", good_stems())
    out = cli("intake", str(archive), "--studio", str(tmp_path / "nowhere"))
    assert out.returncode == 1 and "not a studio folder" in out.stderr and "Traceback" not in out.stderr


def test_ctrl_c_leaves_nothing(studio, uploads, sandbox):
    """SIGINT while the stems are being unpacked/checked: exit 130, no staging, no song."""
    big = wav_bytes(tone(60.0, channels=2))  # 17 MB a stem: long enough to interrupt
    archive = make_zip(uploads / "big.zip", {f"{i}Gtr.wav": big for i in range(1, 7)},
                       compression=zipfile.ZIP_STORED)
    before = tree(sandbox)
    proc = subprocess.Popen([sys.executable, "-m", "hybrid", "intake", str(archive), "--studio", str(studio)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(studio.glob("songs/.intake-*")):
        assert proc.poll() is None, f"finished before it could be interrupted: {proc.stderr.read()}"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert tree(sandbox) == before


def test_leftovers_of_killed_runs_are_swept(studio, uploads):
    """A staging folder whose process is gone (SIGKILL) is removed by the next intake."""
    import os
    import socket

    from hybrid.files.intake import intake_archive
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    host = socket.gethostname()
    stale = studio / f".intake-{host}-{int(dead.stdout)}-x1"
    live = studio / f".intake-{host}-{os.getpid()}-x2"
    for folder in (stale, live):
        (folder / "song" / "stems").mkdir(parents=True)
        (folder / "song" / "stems" / "1Kick.wav").write_bytes(b"RIFF")
    report = intake_archive(make_zip(uploads / "a.zip", good_stems()), studio)
    assert not stale.exists() and live.exists()
    assert "Removed 1 staging folder" in report.notes[-1]


def test_song_title_from_archive_name():
    from hybrid.files.intake import song_title_from_archive as title
    assert title("Night_Drive - STEMS.zip") == "Night Drive"
    assert title("Blue Hour (Multitracks).rar") == "Blue Hour"
    assert title("01 Intro_wavs.tar.gz") == "01 Intro"
    assert title("Stems.zip") == "Stems"
    assert title("Tracks of My Tears.zip") == "Tracks of My Tears"
