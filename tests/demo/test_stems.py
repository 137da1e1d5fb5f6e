"""The demo's synthesised stems: named and encoded the way clients send them, and musical."""

from __future__ import annotations

import numpy as np
import soundfile as sf
from scipy import signal

from hybrid.app.demo.stems import STEM_NAMES, Arrangement, note_hz, render_stems, write_stems

ARR = Arrangement(tempo_bpm=120, chords=(("A", "min"), ("F", "maj"), ("C", "maj"), ("G", "maj")),
                  melody=(12, None, 15, 17, 19, None, 17, 15) * 2, seed=5)
RATE = 48000


def _dominant_hz(x: np.ndarray, rate: int = RATE) -> float:
    freqs, psd = signal.welch(x, fs=rate, nperseg=8192)
    return float(freqs[np.argmax(psd)])


def test_note_frequencies_are_equal_tempered():
    assert note_hz("A", 4) == 440.0
    assert abs(note_hz("C", 4) - 261.626) < 0.01
    assert abs(note_hz("E", 2) - 82.407) < 0.01


def test_files_are_named_and_encoded_like_a_clients(tmp_path):
    paths = write_stems(tmp_path, ARR, RATE, ("A", 3))
    assert [p.name for p in paths] == [f"{n}.wav" for n in STEM_NAMES]
    assert STEM_NAMES[:3] == ("1Kick", "2Snare", "3Bass")
    for path in paths:
        info = sf.info(path)
        assert info.subtype == "PCM_24" and info.samplerate == RATE and info.channels == 1
        assert abs(info.duration - ARR.length_s) < 1e-3  # two bars at 120 bpm = 4 s


def test_each_instrument_sits_where_it_should():
    stems = render_stems(ARR, RATE, ("A", 3))
    assert _dominant_hz(stems["1Kick"]) < 120          # a kick's thump
    assert _dominant_hz(stems["3Bass"]) < 250          # bass fundamentals (A1..G2)
    snare_f, snare_p = signal.welch(stems["2Snare"], fs=RATE, nperseg=4096)
    assert snare_p[snare_f > 1000].sum() > snare_p[snare_f < 1000].sum()  # crack, not boom
    vox = _dominant_hz(stems["5Vox"])
    assert 100 < vox < 1500                            # a voice's range and its first formant
    for name, data in stems.items():
        peak = np.max(np.abs(data))
        assert 0.2 < peak < 0.8, name                  # headroom, never clipped
        assert np.sqrt(np.mean(data ** 2)) > 0.01, name  # not silent


def test_rendering_is_deterministic():
    a = render_stems(ARR, RATE, ("A", 3))
    b = render_stems(ARR, RATE, ("A", 3))
    for name in STEM_NAMES:
        assert np.array_equal(a[name], b[name])


def test_kick_lands_on_the_beat():
    kick = render_stems(ARR, RATE, ("A", 3))["1Kick"]
    onset = int(np.argmax(np.abs(kick) > 0.1))
    assert onset < 0.005 * RATE  # the first downbeat starts the file
