"""latency.toml: entries keyed to device, rate, block size and route; stale on any change."""

from __future__ import annotations

import pytest

from hybrid.live.audio import latency_store as store
from hybrid.live.audio.ping import LatencyResult
from hybrid.errors import HybridError

KEY = store.LatencyKey(device="hy-gear", samplerate=48000, blocksize=0, route="A3>B3")
RESULT = LatencyResult(latency_samples=293.25, polarity=-1, gain_db=-0.5, snr_db=44.8,
                       noise_floor_dbfs=-60.1, confidence=0.999, uncertainty_samples=2e-4,
                       samplerate=48000, peak_dbfs=-12.0)


def test_round_trip_and_lookup(tmp_path):
    store.store(tmp_path, "A", RESULT, KEY)
    assert store.lookup(tmp_path, "A", KEY) == RESULT
    assert store.lookup(tmp_path, "B", KEY) is None


@pytest.mark.parametrize("change, reason", [
    ({"device": "other"}, "device 'hy-gear' -> 'other'"),
    ({"samplerate": 44100}, "samplerate 48000 -> 44100"),
    ({"blocksize": 256}, "blocksize 0 -> 256"),
    ({"route": "A4>B4"}, "route 'A3>B3' -> 'A4>B4'"),
])
def test_any_change_of_the_key_makes_it_stale(tmp_path, change, reason):
    store.store(tmp_path, "A", RESULT, KEY)
    now = store.LatencyKey(**{**KEY.to_dict(), **change})
    assert store.lookup(tmp_path, "A", now) is None
    state = store.status(tmp_path, "A", now)
    assert state.stale and state.reasons == (reason,)


def test_invalidate_and_remeasure(tmp_path):
    store.store(tmp_path, "A", RESULT, KEY)
    store.invalidate(tmp_path, "A", "pings around the pass disagreed by 96 samples")
    assert store.lookup(tmp_path, "A", KEY) is None
    assert store.status(tmp_path, "A", KEY).reasons[0].startswith("pings around the pass")
    store.store(tmp_path, "A", RESULT, KEY)
    assert store.lookup(tmp_path, "A", KEY) == RESULT


def test_hand_edits_survive_a_save(tmp_path):
    store.store(tmp_path, "A", RESULT, KEY)
    path = tmp_path / "latency.toml"
    path.write_text(path.read_text() + "# measured after re-patching the bay\n")
    store.store(tmp_path, "B", RESULT, KEY)
    text = path.read_text()
    assert "# measured after re-patching the bay" in text and "[loops.B]" in text


def test_malformed_file_names_the_file_and_key(tmp_path):
    (tmp_path / "latency.toml").write_text('spec = "hybrid-latency/1"\n[loops.A]\nlatency_samples = "fast"\n')
    with pytest.raises(HybridError, match=r"latency.toml: loops.A: key"):
        store.load(tmp_path)
    (tmp_path / "latency.toml").write_text("[loops.A\n")
    with pytest.raises(HybridError, match="not valid TOML"):
        store.lookup(tmp_path, "A", KEY)


STORER = r"""
import sys
from tests.audio_ping.test_store import KEY, RESULT
from hybrid.live.audio import latency_store as store
for i in range(int(sys.argv[3])):
    store.store(sys.argv[1], f"{sys.argv[2]}{i}", RESULT, KEY)
"""


def test_two_processes_storing_loops_at_once_keep_every_entry(tmp_path):
    """Two measurements (a CLI and the TUI, say) write latency.toml at the same time: each
    read-modify-write holds the file's lock, so no entry is lost."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    procs = [subprocess.Popen([sys.executable, "-c", STORER, str(tmp_path), prefix, "30"], env=env, cwd=root,
                              stderr=subprocess.PIPE) for prefix in ("A", "B")]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    assert sorted(store.load(tmp_path)) == sorted([f"A{i}" for i in range(30)] + [f"B{i}" for i in range(30)])
