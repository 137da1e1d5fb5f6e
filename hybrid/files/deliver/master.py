"""``hybrid deliver master``: an album's master deliverables in ``albums/<album>/deliver/``.

::

    deliver/
      WAV/01 Performer - Title.wav   the masters at their own resolution (bit-exact copies)
      CD/01 Performer - Title.wav    44.1 kHz / 16-bit: resampled (hybrid.files.deliver.resample)
                                     and TPDF-dithered (hybrid.files.deliver.dither)
      DDP/DDPID DDPMS PQDESCR CDTEXT.BIN IMAGE.DAT   the DDP 2.00 fileset (hybrid.files.deliver.ddp)
      DDP/CHECKSUM.MD5 DDP/IMAGE.cue                 checksums and a cue sheet beside it
      album-report.txt / album-report.json           loudness per track and album, checks

The DDP is then read back with the parser (not the writer's memory) and verified: the
map, every PQ packet against the intended running order, the CD-Text (CRCs and
strings), every audio byte of every track against its CD WAV, silence in the gaps, and
the MD5 of every file. Only a verified set replaces the previous ``deliver/`` (kept as
``deliver.previous``); on any failure nothing changes.

Dither is seeded per album and track, so the same inputs give byte-identical output
(and checksums) on every run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

from hybrid.files.deliver.album import Album, AlbumTrack, load_album
from hybrid.files.deliver.cdtext import CdText, CdTextError
from hybrid.files.deliver.cue import cue_sheet
from hybrid.files.deliver.ddp import (CHECKSUM_NAME, CUE_NAME, FRAMES_PER_SECTOR, DdpFormatError,
                                DdpLayout, DdpWriter, plan_layout, read_ddp)
from hybrid.files.deliver.dither import for_soundfile, is_on_grid, quantize_tpdf
from hybrid.files.deliver.names import track_file_name
from hybrid.files.deliver.resample import Resampler
from hybrid.files.deliver.staging import Staging
from hybrid.errors import HybridError
from hybrid.files.loudness import LoudnessMeter, measure_file
from hybrid.files.loudness.files import BLOCK_FRAMES, open_audio
from recall.paths import AlbumPaths

CD_RATE = 44100
CD_BITS = 16


def _read_range(handle: sf.SoundFile, path: Path, lo: int, hi: int) -> np.ndarray:
    handle.seek(lo)
    try:
        block = handle.read(hi - lo, dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise HybridError(f"read failed ({exc})", where=str(path)) from exc
    if len(block) != hi - lo:
        raise HybridError(f"file ended at frame {lo + len(block)}, expected {hi}", where=str(path))
    return block


def _cd_blocks(track: AlbumTrack, handle: sf.SoundFile):
    """Float stereo blocks of the track at 44.1 kHz (resampled when needed)."""
    def read(lo, hi):
        block = _read_range(handle, track.file, lo, hi)
        return np.repeat(block, 2, axis=1) if block.shape[1] == 1 else block

    if track.samplerate_hz == CD_RATE:
        for start in range(0, track.frames, BLOCK_FRAMES):
            yield read(start, min(track.frames, start + BLOCK_FRAMES))
    else:
        yield from Resampler(track.samplerate_hz, CD_RATE).run(track.frames, read)


def _seed(album: Album, track: AlbumTrack) -> int:
    return zlib.crc32(f"{album.name}/{track.number}/{track.file.name}".encode())


def _convert_track(album: Album, track: AlbumTrack, cd_path: Path, writer: DdpWriter,
                   album_meter: LoudnessMeter) -> dict:
    """Write the CD version of ``track`` to ``cd_path`` and into the DDP image."""
    rng = np.random.default_rng(_seed(album, track))
    meter = LoudnessMeter(CD_RATE, 2)
    frames = clipped = 0
    dithered = False
    writer.begin_track(track.number, round(track.pregap_s * 75), track.isrc)
    with open_audio(track.file) as handle, \
            sf.SoundFile(str(cd_path), "w", CD_RATE, 2, subtype="PCM_16", format="WAV") as out:
        for block in _cd_blocks(track, handle):
            dither = track.samplerate_hz != CD_RATE or not is_on_grid(block, CD_BITS)
            dithered |= dither
            integers, over = quantize_tpdf(block, CD_BITS, rng, dither=dither)
            clipped += over
            pcm = for_soundfile(integers, CD_BITS)
            out.write(pcm)
            writer.write_audio(pcm)
            as_float = pcm / 32768.0
            meter.process(as_float)
            album_meter.process(as_float)
            frames += len(pcm)
    layout = writer.end_track()
    measured = meter.result(path=str(cd_path))
    return {"frames": frames, "clipped_samples": clipped, "dithered": dithered,
            "resampled": track.samplerate_hz != CD_RATE, "layout": layout, "measured": measured}


def _copy_master(track: AlbumTrack, destination: Path) -> None:
    """The master at its own resolution: a byte copy of a WAV, else a lossless WAV re-wrap."""
    with open_audio(track.file) as handle:
        is_wav = handle.format in ("WAV", "WAVEX", "RF64")
        subtype = handle.subtype
    if is_wav:
        shutil.copyfile(track.file, destination)
        return
    if subtype not in sf.available_subtypes("WAV"):
        subtype = "FLOAT"
    with open_audio(track.file) as handle, sf.SoundFile(
            str(destination), "w", handle.samplerate, handle.channels, subtype=subtype, format="WAV") as out:
        for block in handle.blocks(BLOCK_FRAMES, dtype="float64", always_2d=True):
            out.write(block)


# -- verification -----------------------------------------------------------------------
def verify_ddp(ddp_dir: Path, layout: DdpLayout, album: Album, cd_files: list[Path],
               cdtext: CdText) -> list[str]:
    """Read the fileset back and compare with what was intended; returns the checks passed.
    Raises HybridError naming the first discrepancies."""
    failures: list[str] = []
    passed: list[str] = []
    try:
        image = read_ddp(ddp_dir)
    except (DdpFormatError, CdTextError, OSError) as exc:
        raise HybridError(f"DDP read-back failed: {exc}", where=str(ddp_dir)) from exc

    def check(ok: bool, what: str, detail: str = "") -> None:
        (passed if ok else failures).append(what if ok else f"{what}: {detail}")

    check(image.ident["level"] == "DDP 2.00" and image.ident["type"] == "CD", "DDPID level and type",
          f"got {image.ident}")
    check(image.ident["upc"] == album.upc, "DDPID UPC/EAN", f"{image.ident['upc']} != {album.upc}")
    check(image.image_sectors == layout.leadout_sector, "image length = lead-out",
          f"{image.image_sectors} != {layout.leadout_sector} sectors")
    check(image.pre2 == layout.tracks[0].start_sector, "track 1 pregap (PRE2)",
          f"{image.pre2} != {layout.tracks[0].start_sector}")
    got = [(e.track, e.index, e.sector, e.isrc, e.upc) for e in image.pq]
    want = [(e.track, e.index, e.sector, e.isrc, e.upc) for e in layout.pq]
    diffs = [f"packet {i}: {g} != {w}" for i, (g, w) in enumerate(zip(got, want, strict=False)) if g != w]
    if len(got) != len(want):
        diffs.append(f"{len(got)} packets, expected {len(want)}")
    check(not diffs, f"PQ timings, ISRCs and UPC ({len(want)} packets)", "; ".join(diffs[:3]))
    want_text = (cdtext.titles, cdtext.performers)
    got_text = (image.cdtext.titles, image.cdtext.performers) if image.cdtext else None
    check(got_text == want_text, "CD-Text (CRCs, titles, performers)", f"{got_text} != {want_text}")

    samples = np.memmap(image.image, dtype="<i2", mode="r").reshape(-1, 2)
    audio_ok, detail = True, ""
    previous_end = 0
    for track, cd_file in zip(layout.tracks, cd_files, strict=False):
        gap = samples[previous_end * FRAMES_PER_SECTOR:track.start_sector * FRAMES_PER_SECTOR]
        if np.any(gap):
            audio_ok, detail = False, f"track {track.number}: pregap is not digital silence"
            break
        offset = track.start_sector * FRAMES_PER_SECTOR
        with sf.SoundFile(str(cd_file)) as handle:
            if handle.frames != track.audio_frames:
                audio_ok, detail = False, f"track {track.number}: CD WAV has {handle.frames} frames, image {track.audio_frames}"
                break
            position = 0
            for block in handle.blocks(BLOCK_FRAMES, dtype="int16", always_2d=True):
                if not np.array_equal(block, samples[offset + position:offset + position + len(block)]):
                    audio_ok, detail = False, (f"track {track.number}: image differs from {cd_file.name} "
                                               f"near frame {position}")
                    break
                position += len(block)
        if not audio_ok:
            break
        padding = samples[offset + track.audio_frames:track.end_sector * FRAMES_PER_SECTOR]
        if np.any(padding):
            audio_ok, detail = False, f"track {track.number}: padding to the sector is not silence"
            break
        previous_end = track.end_sector
    del samples
    check(audio_ok, f"audio image bytes ({layout.leadout_sector} sectors) = CD WAVs", detail)

    md5_ok, detail = True, ""
    lines = (ddp_dir / CHECKSUM_NAME).read_text(encoding="ascii").splitlines()
    for line in lines:
        digest, name = line[:32], line[34:]
        h = hashlib.md5()
        with open(ddp_dir / name, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                h.update(chunk)
        if h.hexdigest() != digest:
            md5_ok, detail = False, f"{name}: MD5 {h.hexdigest()} != {digest}"
            break
    check(md5_ok and len(lines) >= 4, f"MD5 of {len(lines)} files", detail or "too few files listed")
    if failures:
        raise HybridError("DDP verification failed: " + "; ".join(failures), where=str(ddp_dir))
    return passed


def _plan(album: Album, cd_frames: list[int]) -> DdpLayout:
    return plan_layout([(t.number, round(t.pregap_s * 75), frames, t.isrc or "")
                        for t, frames in zip(album.tracks, cd_frames, strict=False)], album.upc)


def _cdtext(album: Album) -> CdText:
    performers = [album.performer] + [t.performer for t in album.tracks]
    return CdText(titles=[album.title] + [t.title for t in album.tracks],
                  performers=performers if any(performers) else [])


def verify_delivery(studio: str | Path, album_name: str) -> list[str]:
    """Verify an existing ``deliver/`` folder against album.toml (after copying it to a
    plant's upload folder and back, say): the DDP against the running order and the
    CD WAVs. Returns the checks passed; raises HybridError on the first failures."""
    album = load_album(studio, album_name)
    deliver = AlbumPaths(album.folder).deliver
    cd_files = [deliver / "CD" / track_file_name(t.number, t.performer, t.title) for t in album.tracks]
    frames = []
    for path in cd_files:
        with open_audio(path) as handle:
            if (handle.samplerate, handle.channels, handle.subtype) != (CD_RATE, 2, "PCM_16"):
                raise HybridError("expected 44.1 kHz 16-bit stereo", where=str(path))
            frames.append(handle.frames)
    return verify_ddp(deliver / "DDP", _plan(album, frames), album, cd_files, _cdtext(album))


# -- the command ------------------------------------------------------------------------
def _round(value, digits=2):
    return None if value is None else round(value, digits)


def deliver_master(studio: str | Path, album_name: str) -> dict:
    """Validate, render, write the DDP, verify it, report; returns the report."""
    album = load_album(studio, album_name)
    destination = AlbumPaths(album.folder).deliver
    cdtext = _cdtext(album)
    warnings: list[str] = []
    with Staging(destination) as stage:
        for sub in ("WAV", "CD", "DDP"):
            (stage.path / sub).mkdir()
        try:
            writer = DdpWriter(stage.path / "DDP", upc=album.upc, master_id=album.master_id,
                               cdtext=cdtext)
        except CdTextError as exc:
            raise HybridError(f"CD-Text: {exc}", where=str(album.file)) from exc
        album_meter = LoudnessMeter(CD_RATE, 2)
        entries, cd_files = [], []
        try:
            for track in album.tracks:
                name = track_file_name(track.number, track.performer, track.title)
                _copy_master(track, stage.path / "WAV" / name)
                cd_files.append(stage.path / "CD" / name)
                converted = _convert_track(album, track, cd_files[-1], writer, album_meter)
                master = measure_file(track.file)
                entries.append((track, name, converted, master))
                if converted["clipped_samples"]:
                    warnings.append(f"track {track.number}: {converted['clipped_samples']} samples clipped "
                                    "in the CD version (lower the master's peak level)")
                cd_tp = converted["measured"].true_peak_dbtp
                if cd_tp is not None and cd_tp > 0.0:
                    warnings.append(f"track {track.number}: CD version true peak {cd_tp:+.2f} dBTP "
                                    "(over full scale between samples)")
            layout = writer.finish()
        except BaseException:
            writer.abort()
            raise
        (stage.path / "DDP" / CUE_NAME).write_bytes(cue_sheet(
            layout, title=album.title, performer=album.performer,
            track_titles=[t.title for t in album.tracks],
            track_performers=[t.performer for t in album.tracks]).encode("latin-1"))
        planned = _plan(album, [entry[2]["frames"] for entry in entries])
        if [(t.start_sector, t.end_sector) for t in planned.tracks] != \
                [(t.start_sector, t.end_sector) for t in layout.tracks]:
            raise HybridError("DDP writer placed tracks differently from the running order",
                              where=str(album.file))
        checks = verify_ddp(stage.path / "DDP", planned, album, cd_files, cdtext)

        album_result = album_meter.result()
        album_lufs = album_result.integrated_lufs
        tracks = []
        for (track, name, converted, master), placed in zip(entries, layout.tracks, strict=False):
            cd = converted["measured"]
            tracks.append({
                "number": track.number, "title": track.title, "performer": track.performer,
                "isrc": track.isrc, "source": str(track.file), "file": name,
                "master_samplerate_hz": track.samplerate_hz, "master_subtype": track.subtype,
                "duration_s": round(track.duration_s, 3), "pregap_s": track.pregap_s,
                "start": _msf_text(placed.start_sector),
                "integrated_lufs": _round(master.integrated_lufs),
                "true_peak_dbtp": _round(master.true_peak_dbtp),
                "loudness_range_lu": _round(master.loudness_range_lu, 1),
                "cd_integrated_lufs": _round(cd.integrated_lufs),
                "cd_true_peak_dbtp": _round(cd.true_peak_dbtp),
                "delta_from_album_lu": (None if cd.integrated_lufs is None or album_lufs is None
                                        else round(cd.integrated_lufs - album_lufs, 2)),
                "resampled": converted["resampled"], "dithered": converted["dithered"],
                "clipped_samples": converted["clipped_samples"],
            })
        report = {
            "album": album.name, "title": album.title, "performer": album.performer,
            "upc": album.upc, "folder": str(destination), "tracks": tracks,
            "album_integrated_lufs": _round(album_lufs),
            "album_true_peak_dbtp": _round(album_result.true_peak_dbtp),
            "album_loudness_range_lu": _round(album_result.loudness_range_lu, 1),
            "leadout": _msf_text(layout.leadout_sector),
            "ddp": {"folder": str(destination / "DDP"), "sectors": layout.leadout_sector,
                    "checksums": layout.checksums, "verified": checks},
            "warnings": warnings,
        }
        (stage.path / "album-report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        (stage.path / "album-report.txt").write_text(master_report_text(report) + "\n", encoding="utf-8")
        stage.commit(replace_folder=True)
    return report


def _msf_text(sector: int) -> str:
    minutes, rest = divmod(sector, 75 * 60)
    seconds, frames = divmod(rest, 75)
    return f"{minutes:02d}:{seconds:02d}:{frames:02d}"


def _n(value, fmt):
    return "  n/a" if value is None else format(value, fmt)


def master_report_text(report: dict) -> str:
    lines = [f"{report['performer']} - {report['title']}: master deliverables in {report['folder']}",
             f"  UPC/EAN {report['upc'] or '(none)'}, {len(report['tracks'])} tracks, lead-out "
             f"{report['leadout']}",
             "  #  start     title                          ISRC          LUFS   dBTP   CD LUFS  CD dBTP  vs album"]
    for t in report["tracks"]:
        lines.append(
            f"  {t['number']:<2} {t['start']}  {t['title'][:30]:<30} {t['isrc'] or '-':<12} "
            f"{_n(t['integrated_lufs'], '6.1f')} {_n(t['true_peak_dbtp'], '+6.1f')} "
            f"{_n(t['cd_integrated_lufs'], '8.1f')} {_n(t['cd_true_peak_dbtp'], '+8.1f')} "
            f"{_n(t['delta_from_album_lu'], '+8.1f')}")
    lines.append(f"  album: {_n(report['album_integrated_lufs'], '.1f')} LUFS integrated, true peak "
                 f"{_n(report['album_true_peak_dbtp'], '+.1f')} dBTP, LRA "
                 f"{_n(report['album_loudness_range_lu'], '.1f')} LU (CD programme)")
    lines.append("  DDP 2.00 verified: " + "; ".join(report["ddp"]["verified"]))
    for warning in report["warnings"]:
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)
