"""The studio every fuzz and hostile-environment test starts from (copied per case)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hybrid.app.demo.studio import build_demo_studio
from hybrid.live.audio import latency_store
from hybrid.live.audio.ping import LatencyResult
from recall.store import create_song, load_sheet, save_sheet
from recall.studio import load_studio
from tests.recall.studio_kit import PAPER_STUDIO, make_studio


def _wav(seconds: float = 0.2, seed: int = 0, subtype: str = "PCM_24") -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    sf.write(buf, 0.3 * rng.standard_normal((int(48000 * seconds), 2)), 48000, subtype=subtype,
             format="WAV")
    return buf.getvalue()

INTERFACE = '\n[interface]\ndevice = "hybrid-gear"\nsamplerate = 48000\nblocksize = 0\n'


@pytest.fixture(scope="session")
def base(tmp_path_factory) -> Path:
    """A studio with a profile, two songs, an album and a latency.toml; stems and an archive."""
    root = tmp_path_factory.mktemp("fuzz") / "studio"
    studio = load_studio(make_studio(root, PAPER_STUDIO + INTERFACE))
    create_song(studio.root, "Night Drive", album="Demo EP", samplerate=48000,
                tracks={"1Kick": "stems/1Kick.wav"})
    create_song(studio.root, "Other Song", album="Demo EP", samplerate=48000, tracks={})
    for boost in ("3", "6"):
        sheet = load_sheet(studio, "night-drive")
        sheet.set_values("Pultec A", {"low_boost": boost, "gain": 2.5})
        save_sheet(sheet, studio=studio)
    album = root / "albums" / "demo-ep"
    album.mkdir(parents=True)
    (album / "album.toml").write_text(
        'title = "Demo EP"\nartist = "The Examples"\nupc = "036000291452"\n\n'
        '[[tracks]]\nsong = "night-drive"\nfile = "songs/night-drive/mix/master.wav"\n'
        'pause_s = 2.0\nisrc = "USRC17607839"\n', encoding="utf-8")
    latency_store.store(root, "A", LatencyResult(
        latency_samples=293.25, polarity=-1, gain_db=-0.5, snr_db=44.8, noise_floor_dbfs=-60.1,
        confidence=0.999, uncertainty_samples=2e-4, samplerate=48000, peak_dbfs=-12.0),
        latency_store.LatencyKey(device="hy-gear", samplerate=48000, blocksize=0, route=""))
    (root.parent / "stem.wav").write_bytes(_wav())
    with zipfile.ZipFile(root.parent / "upload.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("Song/1Kick.wav", _wav(seed=1))
        zf.writestr("Song/2Snare.wav", _wav(seed=2, subtype="FLOAT"))
    with zipfile.ZipFile(root.parent / "two-songs.zip", "w", zipfile.ZIP_DEFLATED) as zf:  # split in two
        for folder, seconds in (("Song A", 0.2), ("Song B", 0.3)):
            zf.writestr(f"{folder}/1Kick.wav", _wav(seconds, seed=1))
            zf.writestr(f"{folder}/2Snare.wav", _wav(seconds, seed=2))
    build_demo_studio(root.parent / "demo", mix_and_master=True)  # as `hybrid demo` builds it
    return root


