"""Per-file audio rules, streamed block by block so memory stays flat for any stem size.

Header rules (soundfile.info, and the chunk walk of hybrid.files.intake.riff for the BWF
start and truncation): a WAV container (RIFF, WAVE_FORMAT_EXTENSIBLE, RF64; BWF
is a WAV with a bext chunk), 44.1 kHz or more, 24-bit PCM or 32-bit float.
Content rules (one pass over the samples, ``BLOCK_FRAMES`` at a time into a reused
buffer): silence (peak below ``silence_dbfs``), clipping (``clip_run`` or more
consecutive samples at full scale on a channel; float files may go above full scale
without clipping, that is a warning), and mono-as-stereo (two bit-identical channels).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from hybrid.files.intake.riff import read_layout
from hybrid.files.intake.report import FileReport

BLOCK_FRAMES = 65536
WAV_FORMATS = {"WAV", "WAVEX", "RF64"}
GOOD_SUBTYPES = {"PCM_24", "FLOAT"}
FLOAT_SUBTYPES = {"FLOAT", "DOUBLE"}
PCM_BITS = {"PCM_U8": 8, "PCM_S8": 8, "PCM_16": 16, "PCM_24": 24, "PCM_32": 32}


@dataclass(frozen=True)
class Rules:
    """Thresholds of the preparation rules."""

    min_samplerate: int = 44100
    silence_dbfs: float = -90.0
    """A file whose peak stays below this is reported as silent."""
    clip_run: int = 4
    """Consecutive full-scale samples on one channel that count as clipping."""


def read_header(path: Path, report: FileReport, rules: Rules) -> bool:
    """Fill in format facts and the header findings; False if the file is not a usable WAV."""
    try:
        info = sf.info(os.fsencode(path))  # bytes: a non-UTF-8 name opens too
    except (sf.LibsndfileError, RuntimeError) as exc:
        report.add("format", "fail", f"not readable audio ({_reason(exc)}); ask for a WAV")
        return False
    report.format, report.subtype = info.format, info.subtype
    report.samplerate, report.channels, report.frames = info.samplerate, info.channels, info.frames
    if info.format not in WAV_FORMATS:
        report.add("format", "fail", f"{info.format_info} data, not WAV; ask for a WAV")
        return False
    layout = read_layout(path)
    report.time_reference = layout.time_reference if layout else None
    bwf = " (BWF)" if report.time_reference is not None else ""
    report.add("format", "pass", f"{info.format_info}{bwf}")
    if layout is not None and layout.missing_bytes:
        report.add("integrity", "fail", f"truncated: the audio is {layout.missing_bytes} bytes short "
                   "of what the file declares (interrupted export or upload); ask for it again")
    elif layout is not None and layout.trailing_bytes:
        report.add("integrity", "warn", f"{layout.trailing_bytes} bytes after the end of the WAV "
                   "(padding or damage; the audio itself reads)")
    if info.frames == 0:
        report.add("length", "fail", "the file has no audio (0 samples)")
    if info.samplerate >= rules.min_samplerate:
        report.add("samplerate", "pass", f"{info.samplerate} Hz")
    else:
        report.add("samplerate", "fail", f"{info.samplerate} Hz is below the "
                   f"{rules.min_samplerate} Hz asked for; ask for the session's own rate")
    if info.subtype in GOOD_SUBTYPES:
        report.add("resolution", "pass", info.subtype_info)
    elif info.subtype in ("PCM_32", "DOUBLE"):
        report.add("resolution", "warn", f"{info.subtype_info}: more than enough, but not the "
                   "24-bit or 32-bit float asked for (some DAWs cannot read it)")
    else:
        report.add("resolution", "fail", f"{info.subtype_info}: the rules ask for 24-bit or "
                   "32-bit float; 16-bit stems lose headroom and detail")
    if info.channels > 2:
        report.add("channels", "warn", f"{info.channels} channels: interleaved multichannel; "
                   "ask for mono or stereo stems unless it is a surround stem")
    return True


def scan_samples(path: Path, report: FileReport, rules: Rules) -> None:
    """One streamed pass: peak, clipping runs and identical channels."""
    bits = PCM_BITS.get(report.subtype or "")
    is_float = report.subtype in FLOAT_SUBTYPES
    full_scale = 1.0 if bits is None else (2 ** (bits - 1) - 1) / 2 ** (bits - 1)
    with sf.SoundFile(os.fsencode(path)) as f:
        channels = f.channels
        buf = np.empty((BLOCK_FRAMES, channels), dtype=np.float32)
        peak = 0.0
        over = 0  # float samples above full scale
        run = np.zeros(channels, dtype=np.int64)  # current full-scale run per channel
        longest = 0
        clip_events = 0
        identical = channels == 2
        while True:
            n = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True, out=buf)
            n = len(n)
            if n == 0:
                break
            block = buf[:n]
            mags = np.abs(block)
            peak = max(peak, float(mags.max()))
            # float: only a flat top exactly at full scale is clipping; samples above it are
            # legal in a float file (the rule: a warning), so they never count as a run
            at_fs = (mags == full_scale) if is_float else (mags >= full_scale)
            if is_float:
                over += int(np.count_nonzero(mags > 1.0))
            if at_fs.any() or run.any():
                for ch in range(channels):
                    run[ch], lng, ev = _runs(at_fs[:, ch], int(run[ch]), rules.clip_run)
                    longest = max(longest, lng)
                    clip_events += ev
            if identical and not np.array_equal(block[:, 0], block[:, 1]):
                identical = False
        for ch in range(channels):  # runs still open at the end of the file
            if run[ch] >= rules.clip_run:
                clip_events += 1
            longest = max(longest, int(run[ch]))

    report.peak_dbfs = 20 * math.log10(peak) if peak > 0 else float("-inf")
    if peak == 0:
        report.add("silence", "fail", "digital silence: every sample is zero (wrong track exported?)")
    elif report.peak_dbfs < rules.silence_dbfs:
        report.add("silence", "fail", f"peak {report.peak_dbfs:.1f} dBFS: silent for practical "
                   f"purposes (below {rules.silence_dbfs:g} dBFS)")
    else:
        report.add("silence", "pass", f"peak {report.peak_dbfs:.1f} dBFS")
    if clip_events:
        report.add("clipping", "fail", f"{clip_events} clipped passage(s): runs of "
                   f"{rules.clip_run} or more full-scale samples (longest {longest}); "
                   "ask for a print with the master fader or plug-ins pulled down")
    elif is_float and over:
        report.add("clipping", "warn", f"{over} samples above 0 dBFS in a float file: not clipped "
                   "here, but they will clip in any fixed-point copy")
    else:
        report.add("clipping", "pass", "no clipping")
    if channels == 2:
        if identical and report.frames:
            report.add("mono-as-stereo", "warn", "both channels are identical: a mono source "
                       "saved as stereo (twice the size, no harm to the sound)")
        else:
            report.add("mono-as-stereo", "pass", "channels differ")


def _runs(mask: np.ndarray, carry: int, min_run: int) -> tuple[int, int, int]:
    """Full-scale runs in one block of one channel, continuing a run open from the last block.

    Returns (run still open at the block end, longest run closed or seen, runs >= min_run
    that closed inside this block).
    """
    if not mask.any():
        return 0, 0, int(carry >= min_run)
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]
    lengths = ends - starts
    if starts[0] == 0:
        lengths[0] += carry
    elif carry >= min_run:
        lengths = np.concatenate(([carry], lengths))  # the carried run closed at index 0
        ends = np.concatenate(([0], ends))
    open_run = 0
    if ends[-1] == len(mask):
        open_run = int(lengths[-1])
        closed = lengths[:-1]
    else:
        closed = lengths
    return open_run, int(lengths.max()), int(np.count_nonzero(closed >= min_run))


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
