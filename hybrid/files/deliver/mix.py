"""``hybrid deliver mix``: a song's mix deliverables in ``songs/<song>/deliver/``.

- ``Artist - Title (Mix).wav``: the full mix, a bit-exact copy of the mix file;
- ``Artist - Title (Instrumental).wav``: the instrumental, bit-exact, when there is one;
- ``Artist - Title (Listening -14 LUFS).wav``: the mix at the target loudness under the
  true-peak ceiling, 24-bit (policy in hybrid.files.deliver.listening);
- ``delivery-report.txt`` / ``delivery-report.json``: what was delivered, with the
  loudness and peaks of every file, and warnings (clipping, mismatched lengths).

Which mix files are used is explained in hybrid.files.deliver.song.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from hybrid.files.deliver.listening import make_listening_copy
from hybrid.files.deliver.names import deliverable_name
from hybrid.files.deliver.song import Song, find_mix_files, load_song
from hybrid.files.deliver.staging import Staging
from hybrid.errors import HybridError
from hybrid.files.loudness import LoudnessResult, measure_file
from hybrid.files.loudness.files import open_audio
from recall.paths import SongPaths

WAV_FORMATS = ("WAV", "WAVEX", "RF64")
PCM_SUBTYPES = {"PCM_16": 16, "PCM_24": 24, "PCM_32": 32, "FLOAT": 32, "DOUBLE": 64}


def describe_wav(path: Path) -> dict:
    """Format facts of a mix file; refuses what is not a PCM/float WAV."""
    with open_audio(path) as handle:
        info = {"samplerate_hz": handle.samplerate, "channels": handle.channels,
                "frames": handle.frames, "format": handle.format, "subtype": handle.subtype}
    if info["format"] not in WAV_FORMATS or info["subtype"] not in PCM_SUBTYPES:
        raise HybridError(f"expected a PCM or float WAV, got {info['format']} {info['subtype']}",
                          where=str(path))
    if info["frames"] == 0:
        raise HybridError("has no audio", where=str(path))
    return info


def _file_entry(kind: str, source: Path, path: Path, info: dict, measured: LoudnessResult) -> dict:
    return {
        "kind": kind, "source": str(source), "path": str(path), "name": path.name,
        "samplerate_hz": info["samplerate_hz"], "channels": info["channels"],
        "subtype": info["subtype"], "duration_s": round(info["frames"] / info["samplerate_hz"], 3),
        "integrated_lufs": None if measured.integrated_lufs is None else round(measured.integrated_lufs, 2),
        "true_peak_dbtp": None if measured.true_peak_dbtp is None else round(measured.true_peak_dbtp, 2),
        "sample_peak_dbfs": None if measured.sample_peak_dbfs is None else round(measured.sample_peak_dbfs, 2),
        "loudness_range_lu": None if measured.loudness_range_lu is None else round(measured.loudness_range_lu, 1),
    }


def _warnings(kind: str, source: Path, info: dict, measured: LoudnessResult) -> list[str]:
    out = []
    if measured.sample_peak_dbfs is not None and measured.sample_peak_dbfs >= -0.001:
        out.append(f"{kind} {source.name}: samples at full scale ({measured.sample_peak_dbfs:+.2f} dBFS), "
                   "probably clipped")
    elif measured.true_peak_dbtp is not None and measured.true_peak_dbtp > 0:
        out.append(f"{kind} {source.name}: true peak {measured.true_peak_dbtp:+.2f} dBTP, over full "
                   "scale between samples (will clip in converters and encoders)")
    if info["subtype"] == "PCM_16":
        out.append(f"{kind} {source.name}: 16-bit; a 24-bit or float mix keeps more for mastering")
    return out


def deliver_mix(studio: str | Path, song_name: str, *, target_lufs: float = -14.0,
                ceiling_dbtp: float = -1.0, max_limiting_db: float = 12.0) -> dict:
    """Write the song's mix deliverables; returns the report (also written beside them)."""
    if not -60.0 <= target_lufs <= 0.0:
        raise HybridError(f"--target-lufs {target_lufs:g} is out of range (expected -60..0 LUFS)")
    if not -20.0 <= ceiling_dbtp <= 0.0:
        raise HybridError(f"--ceiling-dbtp {ceiling_dbtp:g} is out of range (expected -20..0 dBTP)")
    if not 0.0 <= max_limiting_db <= 20.0:
        raise HybridError(f"--max-limiting-db {max_limiting_db:g} is out of range (expected 0..20 dB)")
    song: Song = load_song(studio, song_name)
    mix_path, instrumental_path = find_mix_files(song)
    sources = [("Mix", mix_path)] + ([("Instrumental", instrumental_path)] if instrumental_path else [])
    infos = {kind: describe_wav(path) for kind, path in sources}
    measured = {kind: measure_file(path) for kind, path in sources}
    warnings: list[str] = []
    for kind, path in sources:
        warnings += _warnings(kind.lower(), path, infos[kind], measured[kind])
    if instrumental_path is not None:
        a, b = infos["Mix"], infos["Instrumental"]
        if a["samplerate_hz"] != b["samplerate_hz"]:
            warnings.append(f"mix is {a['samplerate_hz']} Hz, instrumental {b['samplerate_hz']} Hz")
        elif a["frames"] != b["frames"]:
            warnings.append(f"mix and instrumental differ in length by {abs(a['frames'] - b['frames'])} "
                            "samples (exported from different ranges?)")

    destination = SongPaths(song.folder).deliver
    files = []
    listening_name = deliverable_name(song.artist, song.title, f"Listening {target_lufs:g} LUFS")
    with Staging(destination) as stage:
        for kind, source in sources:
            name = deliverable_name(song.artist, song.title, kind)
            staged = stage.path / name
            shutil.copyfile(source, staged)
            if staged.stat().st_size != source.stat().st_size:
                raise HybridError("copy is incomplete (disk full?)", where=str(staged))
            files.append(_file_entry(kind.lower(), source, destination / name, infos[kind], measured[kind]))
        copy = make_listening_copy(mix_path, stage.path / listening_name, target_lufs=target_lufs,
                                   ceiling_dbtp=ceiling_dbtp, max_limiting_db=max_limiting_db,
                                   measured=measured["Mix"])
        if not copy.target_reached:
            listening_name = deliverable_name(song.artist, song.title,
                                              f"Listening {copy.integrated_lufs:.1f} LUFS")
            os.replace(stage.path / deliverable_name(song.artist, song.title,
                                                     f"Listening {target_lufs:g} LUFS"),
                       stage.path / listening_name)
            warnings.append(
                f"listening copy: {target_lufs:g} LUFS under {ceiling_dbtp:g} dBTP needs "
                f"{copy.needed_limiting_db:.1f} dB of peak limiting (mix: "
                f"{measured['Mix'].integrated_lufs:.1f} LUFS, true peak "
                f"{measured['Mix'].true_peak_dbtp:+.1f} dBTP); the limit is {max_limiting_db:g} dB, so "
                f"the closest copy is delivered at {copy.integrated_lufs:.1f} LUFS (raise "
                "--max-limiting-db or lower --target-lufs for another)")
        listening = copy.to_dict()
        listening["path"] = str(destination / listening_name)
        listening["name"] = listening_name
        listening["source"] = str(mix_path)
        report = {
            "song": song.slug, "title": song.title, "artist": song.artist, "album": song.album,
            "folder": str(destination), "files": files, "listening": listening,
            "warnings": warnings,
        }
        (stage.path / "delivery-report.json").write_text(json.dumps(report, indent=2) + "\n",
                                                         encoding="utf-8")
        (stage.path / "delivery-report.txt").write_text(mix_report_text(report) + "\n",
                                                        encoding="utf-8")
        stage.commit()
    return report


def _num(value, fmt: str) -> str:
    return "n/a" if value is None else format(value, fmt)


def mix_report_text(report: dict) -> str:
    lines = [f"{report['artist']} - {report['title']}: mix deliverables in {report['folder']}"]
    for item in report["files"]:
        lines.append(f"  {item['name']}")
        lines.append(f"    {item['samplerate_hz']} Hz {item['subtype']} {item['channels']} ch "
                     f"{item['duration_s']:.1f} s, {_num(item['integrated_lufs'], '.1f')} LUFS, "
                     f"LRA {_num(item['loudness_range_lu'], '.1f')} LU, true peak "
                     f"{_num(item['true_peak_dbtp'], '+.1f')} dBTP")
    lst = report["listening"]
    lines.append(f"  {lst['name']}")
    lines.append(f"    gain {lst['gain_db']:+.2f} dB, limiting {lst['limiting_db']:.2f} dB -> "
                 f"{_num(lst['integrated_lufs'], '.1f')} LUFS, true peak "
                 f"{_num(lst['true_peak_dbtp'], '+.2f')} dBTP (ceiling {lst['ceiling_dbtp']:+.1f}), "
                 f"{lst['bits']}-bit {lst['samplerate_hz']} Hz")
    for warning in report["warnings"]:
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)
