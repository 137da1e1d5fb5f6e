"""``hybrid loudness``: files read block-wise give the same figures as in memory; bad
files get one clear line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from hybrid.errors import HybridError
from hybrid.files.loudness import measure_array, measure_file
from tests.loudness.signals import FS, sequence


@pytest.fixture
def programme(tmp_path):
    signal = sequence((-30, 4), (-18, 6), (-26, 3)) * np.array([1.0, 0.7])
    path = tmp_path / "prog.wav"
    sf.write(path, signal, FS, subtype="FLOAT")
    return path, signal


def test_block_size_does_not_change_the_figures(programme):
    path, signal = programme
    in_memory = measure_array(signal, FS).to_dict()
    for block_frames in (4096, 48000, 1 << 20):
        from_file = measure_file(path, block_frames=block_frames).to_dict()
        for key in ("integrated_lufs", "momentary_max_lufs", "short_term_max_lufs",
                    "loudness_range_lu", "true_peak_dbtp", "sample_peak_dbfs"):
            assert from_file[key] == pytest.approx(in_memory[key], abs=1e-3), key


def test_cli_json_reports_every_file(cli, programme, tmp_path):
    path, _ = programme
    other = tmp_path / "quiet.wav"
    sf.write(other, np.zeros((FS, 1)), FS, subtype="PCM_24")
    out = cli("loudness", str(path), str(other), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    first, second = data["files"]
    assert first["path"] == str(path) and first["channels"] == 2
    assert -24 < first["integrated_lufs"] < -19
    assert first["loudness_range_lu"] > 3
    assert second["integrated_lufs"] is None and second["true_peak_dbtp"] is None


def test_cli_text(cli, programme):
    path, _ = programme
    out = cli("loudness", str(path))
    assert out.returncode == 0, out.stderr
    assert "integrated" in out.stdout and "LUFS" in out.stdout and "dBTP" in out.stdout


def test_missing_and_corrupt_files_name_the_file(cli, tmp_path):
    bogus = tmp_path / "bogus.wav"
    bogus.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk")
    out = cli("loudness", str(bogus))
    assert out.returncode == 1
    assert out.stderr.startswith("hybrid: error: ") and str(bogus) in out.stderr
    assert "Traceback" not in out.stderr
    with pytest.raises(HybridError, match="no such audio file"):
        measure_file(tmp_path / "absent.wav")


def test_a_closed_pipe_ends_quietly(tmp_path):
    """``hybrid loudness --json FILES | head``: the reader goes away, hybrid exits without a
    traceback."""
    import os
    import subprocess
    import sys


    from tests.conftest import ROOT

    path = tmp_path / "tone.wav"
    sf.write(path, np.zeros((48000, 2)) + 0.1, 48000)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "hybrid", "loudness", "--json"] + [str(path)] * 300,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    process.stdout.close()                      # like `| head` that has read what it wanted
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141          # hybrid.cli.main.PIPE_CLOSED_STATUS, like `yes | head`
    assert err == ""
