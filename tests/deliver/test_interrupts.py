"""SIGTERM, SIGHUP and SIGINT during ``hybrid deliver master`` leave no staging folder
behind; a folder a ``kill -9`` left is removed by the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from hybrid.files.deliver.staging import Staging
from tests.conftest import ROOT
from tests.deliver.studio import music, write_wav


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    root = tmp_path_factory.mktemp("interrupts")
    folder = root / "albums" / "big"
    folder.mkdir(parents=True)
    (folder / "album.toml").write_text('title = "Big"\n[[tracks]]\nfile = "long.wav"\ntitle = "Long"\n')
    write_wav(folder / "long.wav", music(240.0, 96000, seed=2), 96000)   # resampling takes seconds
    return root


def _start(root):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "hybrid", "deliver", "master", "big", "--studio", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)])
def test_a_signal_mid_run_removes_the_staging_folder(studio, signum, code):
    albums = studio / "albums" / "big"
    process = _start(studio)
    deadline = time.monotonic() + 60
    while not list(albums.glob(".tmp-deliver.*/CD/*.wav")):
        assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
        time.sleep(0.05)
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert "Traceback" not in err and "interrupted" in err
    assert list(albums.glob(".tmp-deliver.*")) == []
    assert not (albums / "deliver").exists()


def test_a_folder_left_by_a_kill_is_removed_by_the_next_run(tmp_path):
    destination = tmp_path / "deliver"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    stale = tmp_path / f".tmp-deliver.{dead.stdout.strip()}.0123abcd"
    (stale / "CD").mkdir(parents=True)
    (stale / "CD" / "half.wav").write_bytes(b"x" * 1000)
    with Staging(destination) as stage:
        assert stage.path.name.startswith(f".tmp-deliver.{os.getpid()}.")
        other = tmp_path / f".tmp-deliver.{os.getpid()}.89abcdef"   # a live run's folder is left alone
        other.mkdir()
        (stage.path / "report.txt").write_text("done")
        stage.commit()
    assert not stale.exists() and other.exists()
    assert sorted(p.name for p in destination.iterdir()) == ["report.txt"]
