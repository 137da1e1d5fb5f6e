"""The environment turns hostile: stdout closed (``| head``), a read-only studio, a disk
that fills part-way, file names that are not UTF-8. Each ends quietly or in one
``hybrid: error:`` line, and the studio is left as it was."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.fuzz.forked import run_forked


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"")
            for p in sorted(root.rglob("*"))}


def _one_error_line(out) -> str:
    assert out.returncode == 1, (out.returncode, out.stderr)
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hybrid: error: "), out.stderr
    assert "Traceback" not in out.stderr
    return lines[0]


@pytest.fixture
def room(base, tmp_path) -> Path:
    studio = tmp_path / "studio"
    shutil.copytree(base, studio)
    return studio


def _commands(studio: Path, base: Path, tmp: Path) -> list[list[str]]:
    s = ["--studio", str(studio)]
    return [
        ["devices", "list"], ["devices", "show", "hy-comp-cc"],
        ["recall", "list", *s], ["recall", "show", "night-drive", *s],
        ["recall", "history", "night-drive", *s], ["recall", "diff", "night-drive", *s],
        ["recall", "walkthrough", "night-drive", *s],
        ["recall", "export", "night-drive", *s, "--out", str(tmp / "export")],
        ["recall", "copy", "night-drive", "Third Song", *s], ["latency", "show", *s],
        ["loudness", str(base.parent / "stem.wav")], ["intake", str(base.parent / "upload.zip"), *s],
        ["init", str(tmp / "new-studio")],
    ]


@pytest.mark.parametrize("as_json", [True, False])
def test_closed_stdout_ends_quietly_on_every_command(base, room, tmp_path, as_json):
    for args in _commands(room, base, tmp_path):
        if as_json and args[0] != "init":
            args = [*args, "--json"]
        out = run_forked(args, tmp_path, stdout_closed=True)
        assert out.returncode in (0, 141) and out.stderr == "", (args, out.returncode, out.stderr)


def test_read_only_studio_is_one_line_and_unchanged(base, tmp_path):
    """Every file and folder of the studio immutable (``chattr +i``: refused even to root,
    which ignores permission bits), as on a read-only mount."""
    top = tmp_path / "ro"
    studio = top / "studio"
    shutil.copytree(base, studio)
    before = _tree(studio)
    subprocess.run(["chattr", "-R", "+i", str(top)], check=True)
    try:
        s = ["--studio", str(studio)]
        for args in (["recall", "copy", "night-drive", "New Song", *s],
                     ["recall", "export", "night-drive", *s],
                     ["init", str(top / "another")],
                     ["intake", str(base.parent / "upload.zip"), *s]):
            out = run_forked(args, tmp_path)
            line = _one_error_line(out)
            assert "Operation not permitted" in line and str(top) in line, line
    finally:
        subprocess.run(["chattr", "-R", "-i", str(top)], check=True)
    assert _tree(studio) == before


def test_disk_full_part_way_is_one_line_and_no_half_files(base, room, tmp_path):
    before = _tree(room)
    for args in (["recall", "copy", "night-drive", "New Song", "--studio", str(room)],
                 ["intake", str(base.parent / "upload.zip"), "--studio", str(room)]):
        out = run_forked(args, tmp_path, max_file_bytes=300)
        line = _one_error_line(out)
        assert "File too large" in line, line
    assert _tree(room) == before


def test_non_utf8_names(base, tmp_path, cli):
    raw = os.fsencode(tmp_path) + b"/studio-\xff"
    studio = Path(os.fsdecode(raw))
    shutil.copytree(base, studio)
    upload = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9 stems.zip"))
    shutil.copy(base.parent / "upload.zip", upload)
    out = cli("intake", str(upload), "--studio", str(studio), "--json")
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    report = json.loads(out.stdout)
    assert report["song"] == "caf\\xe9" and b"/studio-\xff/songs/" in os.fsencode(report["song_dir"])
    out = cli("recall", "list", "--studio", str(studio))
    assert out.returncode == 0 and "caf\\xe9" in out.stdout, out.stderr
    out = cli("recall", "show", "no-such-song", "--studio", str(studio))
    assert "studio-\\xff" in _one_error_line(out) or "no song" in out.stderr
