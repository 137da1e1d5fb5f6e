"""`hybrid print SONG` prints through the session's child process: Ctrl-C stops the running pass
within a period, nothing half-written is left, and the last line says which files were kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.audio_print.conftest import RATE, band_limited, write_stem
from tests.audio_print.test_song_and_cli import _song

ROOT = Path(__file__).resolve().parents[2]


def test_ctrl_c_cancels_the_print_and_names_the_files_kept(gear, tmp_path):
    _, _, song_dir, _ = _song(tmp_path, {"1Kick": [("A", ["1176"])], "2Snare": [("B", ["Pultec"])]})
    for k, name in enumerate(("1Kick", "2Snare")):      # long enough to be caught while streaming
        write_stem(song_dir / "stems" / f"{name}.wav", band_limited(6 * RATE, seed=40 + k))
    prints = song_dir / "prints"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen([sys.executable, "-m", "hybrid", "print", "night-drive", "--studio", str(tmp_path),
                             "--tail-s", "0.02"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        deadline = time.monotonic() + 90
        while not (prints.is_dir() and any(".rec.w64" in p.name for p in prints.iterdir())):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the print never started recording"
            time.sleep(0.05)
        time.sleep(0.5)                                   # well inside the stems
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("hybrid: error: song night-drive: print cancelled (pass 1 of 1") and \
        last.endswith("files kept: none"), err
    assert sorted(p.name for p in prints.iterdir()) == []   # no print, no BAD file, no temp recording
