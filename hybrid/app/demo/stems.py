"""Synthesised client stems for the demo studio: drums, bass, chords and a vocal-ish line.

The demo has to feel like a real session with no audio files shipped, so each song's
stems are rendered with numpy from a tiny arrangement (tempo, key, chord roots, a
melody). They are short (two bars, a few seconds) so that printing them through the
simulated analog chains stays quick, and they are written the way clients send them:
numbered names (``1Kick.wav``), 24-bit PCM WAV, one mono file per instrument.

Everything is deterministic for a given arrangement, so tests and snapshots see the
same files every time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from hybrid.errors import HybridError

# Semitones above A for note names (A=0), used to turn chord roots into frequencies.
_NOTE_OFFSETS = {"A": 0, "A#": 1, "Bb": 1, "B": 2, "C": 3, "C#": 4, "Db": 4, "D": 5, "D#": 6,
                 "Eb": 6, "E": 7, "F": 8, "F#": 9, "Gb": 9, "G": 10, "G#": 11, "Ab": 11}
_MINOR = (0, 3, 7, 10)
_MAJOR = (0, 4, 7, 11)

STEM_NAMES = ("1Kick", "2Snare", "3Bass", "4Keys", "5Vox")


@dataclass(frozen=True)
class Arrangement:
    """Just enough of a song to render believable stems.

    ``chords`` are (root note name, "maj"|"min") per bar half; ``melody`` is scale-degree
    semitones above the key root per eighth note (None = rest).
    """

    tempo_bpm: float
    chords: tuple[tuple[str, str], ...]
    melody: tuple[int | None, ...]
    bars: int = 2
    swing: float = 0.0
    seed: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def beat_s(self) -> float:
        return 60.0 / self.tempo_bpm

    @property
    def length_s(self) -> float:
        return self.bars * 4 * self.beat_s


def note_hz(name: str, octave: int) -> float:
    """Equal-tempered frequency of ``name`` in ``octave`` (A4 = 440 Hz, octaves start at C)."""
    try:
        offset = _NOTE_OFFSETS[name]
    except KeyError:
        raise HybridError(f"unknown note name {name!r}", where="demo stems") from None
    semis_from_a4 = offset + 12 * (octave - 4) - (12 if offset >= 3 else 0)
    return 440.0 * 2.0 ** (semis_from_a4 / 12.0)


def _env(n: int, attack_s: float, decay_s: float, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    att = np.clip(t / max(attack_s, 1e-4), 0.0, 1.0)
    return att * np.exp(-t / max(decay_s, 1e-4))


def _place(track: np.ndarray, sound: np.ndarray, start_s: float, sr: int) -> None:
    start = int(round(start_s * sr))
    if start >= len(track):
        return
    end = min(len(track), start + len(sound))
    track[start:end] += sound[: end - start]


def _kick(sr: int) -> np.ndarray:
    n = int(0.45 * sr)
    t = np.arange(n) / sr
    freq = 45.0 + 85.0 * np.exp(-t / 0.03)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    body = np.sin(phase) * _env(n, 0.001, 0.18, sr)
    click = np.exp(-t / 0.002) * 0.4
    return body + click


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    n = int(0.3 * sr)
    t = np.arange(n) / sr
    b, a = signal.butter(2, [1200, 7000], btype="bandpass", fs=sr)
    noise = signal.lfilter(b, a, rng.standard_normal(n)) * _env(n, 0.0005, 0.07, sr)
    tone = np.sin(2 * np.pi * 185 * t) * _env(n, 0.0005, 0.05, sr) * 0.6
    return noise * 1.4 + tone


def _bass_note(freq: float, dur_s: float, sr: int) -> np.ndarray:
    n = int(dur_s * sr)
    t = np.arange(n) / sr
    saw = 2.0 * ((freq * t) % 1.0) - 1.0
    b, a = signal.butter(2, 4 * freq, fs=sr)
    tone = signal.lfilter(b, a, saw) + 0.5 * np.sin(2 * np.pi * freq * t)
    env = _env(n, 0.004, dur_s * 1.5, sr)
    env[-int(0.01 * sr):] *= np.linspace(1, 0, int(0.01 * sr))
    return tone * env


def _keys_chord(freqs: list[float], dur_s: float, sr: int) -> np.ndarray:
    """An electric-piano-like chord: sine partials with a bell-ish second partial."""
    n = int(dur_s * sr)
    t = np.arange(n) / sr
    out = np.zeros(n)
    for f in freqs:
        out += np.sin(2 * np.pi * f * t) * _env(n, 0.003, 1.2, sr)
        out += 0.25 * np.sin(2 * np.pi * 2 * f * t) * _env(n, 0.001, 0.25, sr)
    release = int(0.02 * sr)
    out[-release:] *= np.linspace(1, 0, release)
    return out / len(freqs)


# Formants of an open "ah" (Hz, bandwidth Hz, relative gain) for the vocal-ish line.
_FORMANTS_AH = ((730, 90, 1.0), (1090, 110, 0.5), (2440, 170, 0.25))


def _vox_line(notes: list[tuple[float, float, float]], length_n: int, sr: int) -> np.ndarray:
    """A sung-sounding line: a glottal-ish pulse train with vibrato through vowel formants."""
    freq = np.zeros(length_n)
    gate = np.zeros(length_n)
    for start_s, dur_s, f in notes:
        a = int(start_s * sr)
        b = min(length_n, int((start_s + dur_s) * sr))
        freq[a:b] = f
        g = np.ones(b - a)
        ramp = min(int(0.03 * sr), (b - a) // 3)
        if ramp:
            g[:ramp] = np.linspace(0, 1, ramp)
            g[-ramp:] = np.linspace(1, 0, ramp)
        gate[a:b] = g
    # Glide between notes (portamento) and add a 5.5 Hz vibrato.
    held = np.maximum.accumulate(np.where(freq > 0, np.arange(length_n), 0))
    freq = freq[held]
    freq[freq == 0] = notes[0][2] if notes else 220.0
    b, a = signal.butter(1, 12.0, fs=sr)
    freq = signal.lfilter(b, a, freq, zi=[freq[0]])[0]
    t = np.arange(length_n) / sr
    freq = freq * (1.0 + 0.012 * np.sin(2 * np.pi * 5.5 * t))
    phase = np.cumsum(freq) / sr
    source = (2.0 * (phase % 1.0) - 1.0) ** 3  # softened saw: fewer harsh highs
    out = np.zeros(length_n)
    for fc, bw, gain in _FORMANTS_AH:
        r = np.exp(-np.pi * bw / sr)
        theta = 2 * np.pi * fc / sr
        out += gain * signal.lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], source)
    return out * gate


def render_stems(arr: Arrangement, samplerate: int, key_root: tuple[str, int]) -> dict[str, np.ndarray]:
    """Render the five stems of ``arr`` as float arrays in -1..1 (mono), peak-normalised per stem."""
    sr = samplerate
    n = int(round(arr.length_s * sr))
    rng = np.random.default_rng(arr.seed)
    beat = arr.beat_s
    eighth = beat / 2
    kick, snare, bass, keys = (np.zeros(n) for _ in range(4))
    kick_sound, snare_sound = _kick(sr), _snare(sr, rng)
    steps = arr.bars * 8
    for step in range(steps):
        pos = step * eighth + (arr.swing * eighth if step % 2 else 0.0)
        in_bar = step % 8
        if in_bar in (0, 3, 5) or (in_bar == 7 and step // 8 == arr.bars - 1):
            _place(kick, kick_sound * (1.0 if in_bar == 0 else 0.85), pos, sr)
        if in_bar in (2, 6):
            _place(snare, snare_sound, pos, sr)
    chord_len_s = arr.length_s / len(arr.chords)
    for i, (root, quality) in enumerate(arr.chords):
        start = i * chord_len_s
        intervals = _MINOR if quality == "min" else _MAJOR
        root_hz = note_hz(root, 2)
        # Bass: root on the beat, octave on the off-beat before the change.
        beats_in_chord = int(round(chord_len_s / beat))
        for j in range(beats_in_chord):
            f = root_hz * (2.0 if j == beats_in_chord - 1 else 1.0)
            _place(bass, _bass_note(f, beat * 0.9, sr), start + j * beat, sr)
        chord = [note_hz(root, 4) * 2 ** (iv / 12) for iv in intervals]
        _place(keys, _keys_chord(chord, chord_len_s * 0.98, sr), start, sr)
    key_hz = note_hz(*key_root)
    notes = []
    for step, degree in enumerate(arr.melody[:steps]):
        if degree is None:
            continue
        notes.append((step * eighth, eighth * 0.95, key_hz * 2 ** (degree / 12)))
    vox = _vox_line(notes, n, sr) if notes else np.zeros(n)
    stems = {"1Kick": kick, "2Snare": snare, "3Bass": bass, "4Keys": keys, "5Vox": vox}
    peaks_dbfs = {"1Kick": -3.0, "2Snare": -6.0, "3Bass": -6.0, "4Keys": -9.0, "5Vox": -6.0}
    for name, data in stems.items():
        peak = float(np.max(np.abs(data))) or 1.0
        stems[name] = data / peak * 10 ** (peaks_dbfs[name] / 20)
    return stems


def write_stems(folder: Path, arr: Arrangement, samplerate: int,
                key_root: tuple[str, int]) -> list[Path]:
    """Write the stems of ``arr`` into ``folder`` as 24-bit mono WAVs; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in render_stems(arr, samplerate, key_root).items():
        path = folder / f"{name}.wav"
        try:
            sf.write(path, data.astype(np.float32), samplerate, subtype="PCM_24")
        except (OSError, RuntimeError) as exc:
            raise HybridError(f"cannot write stem: {exc}", where=str(path)) from exc
        paths.append(path)
    return paths
