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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from hybrid.files.deliver.album import Album, AlbumTrack, AudioFile, cdtext_blocks, load_album
from hybrid.files.deliver.cdtext import CdText, CdTextError, encode
from hybrid.files.deliver.cue import cue_sheet, toc_file
from hybrid.files.deliver.ddp import (CHECKSUM_NAME, CUE_NAME, TOC_NAME, FRAMES_PER_SECTOR, DdpFormatError,
                                      DdpLayout, DdpWriter, Mark, control_code, layout_from_marks,
                                      loader_problems, read_ddp)
from hybrid.files.deliver.dither import for_soundfile, is_on_grid, quantize_tpdf
from hybrid.files.deliver.names import safe_component, track_file_name
from hybrid.files.deliver.resample import SoxrConverter
from hybrid.files.deliver.staging import Staging
from hybrid.errors import HybridError
from hybrid.files.loudness import LoudnessMeter
from hybrid.files.loudness.files import meter_file
from hybrid.files.loudness.meter import gated_integrated_lufs, gated_loudness_range
from hybrid.files.loudness.files import BLOCK_FRAMES, open_audio
from recall.paths import AlbumPaths

CD_RATE = 44100
CD_BITS = 16
CONTINUOUS_NAME = "00 {base} (continuous).wav"


def _read_range(handle: sf.SoundFile, path: Path, lo: int, hi: int) -> np.ndarray:
    handle.seek(lo)
    try:
        block = handle.read(hi - lo, dtype="float64", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise HybridError(f"read failed ({exc})", where=str(path)) from exc
    if len(block) != hi - lo:
        raise HybridError(f"file ended at frame {lo + len(block)}, expected {hi}", where=str(path))
    return block


def _cd_blocks(source: AudioFile, handle: sf.SoundFile, master_meter: LoudnessMeter | None):
    """Float blocks of ``source`` at 44.1 kHz (its own channel count), resampled by soxr;
    ``master_meter`` is fed the master's own samples on the way (one read for both)."""
    def read(lo, hi):
        block = _read_range(handle, source.path, lo, hi)
        if master_meter is not None:
            master_meter.process(block)
        return block

    if source.samplerate_hz == CD_RATE:
        for start in range(0, source.frames, BLOCK_FRAMES):
            yield read(start, min(source.frames, start + BLOCK_FRAMES))
    else:
        yield from SoxrConverter(source.samplerate_hz, CD_RATE).run(source.frames, read)


def _seed(album: Album, label: str) -> int:
    return zlib.crc32(f"{album.name}/{label}".encode())


def convert_to_cd(source: AudioFile, cd_path: Path, seed: int, *, gain_db: float = 0.0,
                  measure_master: bool = True) -> dict:
    """Write ``source`` as a 44.1 kHz/16-bit stereo WAV (soxr, TPDF dither; a mono master
    is dithered once and copied to both sides, so left and right stay identical). The CD
    version is measured as it is written, the master (``measure_master``) as it is read."""
    rng = np.random.default_rng(seed)
    meter = LoudnessMeter(CD_RATE, 2)
    master_meter = LoudnessMeter(source.samplerate_hz, source.channels) if measure_master else None
    frames = clipped = 0
    dithered = False
    gain = 10.0 ** (gain_db / 20.0)
    with open_audio(source.path) as handle, \
            sf.SoundFile(str(cd_path), "w", CD_RATE, 2, subtype="PCM_16", format="WAV") as out:
        for block in _cd_blocks(source, handle, master_meter):
            if gain_db:
                block = block * gain
            dither = source.samplerate_hz != CD_RATE or bool(gain_db) or not is_on_grid(block, CD_BITS)
            dithered |= dither
            integers, over = quantize_tpdf(block, CD_BITS, rng, dither=dither)
            clipped += over * (2 if integers.shape[1] == 1 else 1)
            pcm = for_soundfile(integers, CD_BITS)
            if pcm.shape[1] == 1:
                pcm = np.repeat(pcm, 2, axis=1)
            out.write(pcm)
            meter.process(pcm / 32768.0)
            frames += len(pcm)
    powers = (meter.momentary_powers(), meter.short_term_powers())
    return {"frames": frames, "clipped_samples": clipped, "dithered": dithered,
            "resampled": source.samplerate_hz != CD_RATE, "measured": meter.result(path=str(cd_path)),
            "master": master_meter.result(path=str(source.path)) if master_meter is not None else None,
            "powers": powers}


def _copy_master(source: Path, destination: Path) -> None:
    """The master at its own resolution: a byte copy of a WAV, else a lossless WAV re-wrap."""
    with open_audio(source) as handle:
        is_wav = handle.format in ("WAV", "WAVEX", "RF64")
        subtype = handle.subtype
    if is_wav:
        shutil.copyfile(source, destination)
        return
    if subtype not in sf.available_subtypes("WAV"):
        subtype = "FLOAT"
    with open_audio(source) as handle, sf.SoundFile(
            str(destination), "w", handle.samplerate, handle.channels, subtype=subtype, format="WAV") as out:
        for block in handle.blocks(BLOCK_FRAMES, dtype="float64", always_2d=True):
            out.write(block)


# -- the programme: what goes into the image, where the marks fall ----------------------
@dataclass
class Segment:
    """``frames`` of digital silence (``path`` None) or of the CD WAV at ``path``."""

    frames: int
    path: Path | None = None


@dataclass
class Programme:
    segments: list[Segment]
    marks: list[Mark]
    layout: DdpLayout


def _frames(seconds: float) -> int:
    return round(seconds * CD_RATE)


def _control(track: AlbumTrack) -> str:
    return control_code(pre_emphasis=track.pre_emphasis, copy_permitted=track.copy_permitted)


def plan_programme(album: Album, cd_files: dict[str, tuple[Path, int]]) -> Programme:
    """The image an album calls for, from the running order and the CD WAVs' lengths
    (``cd_files``: label -> (path, frames); labels ``track N``, ``pregap N``, ``continuous``).

    Tracks are padded to a sector only before a gap; with ``pregap_s = 0`` the audio runs
    on and the mark falls on the sector at or before the join."""
    segments: list[Segment] = []
    marks: list[Mark] = []
    position = 0

    def add(frames: int, path: Path | None = None) -> None:
        nonlocal position
        if frames:
            segments.append(Segment(frames, path))
            position += frames

    def mark(track: AlbumTrack, index: int, frame: int) -> None:
        marks.append(Mark(track.number, index, frame, isrc=(track.isrc or "") if not any(
            m.track == track.number for m in marks) else "", control=_control(track)))

    if album.master is not None:
        path, total = cd_files["continuous"]
        ratio = CD_RATE / album.master.samplerate_hz
        first = _frames(album.tracks[0].start_s or 0.0)
        lead = max(0, 150 * FRAMES_PER_SECTOR - first)
        lead += -(lead + first) % FRAMES_PER_SECTOR
        add(lead)
        add(total, path)
        for track in album.tracks:
            start = lead + round((track.start_s or 0.0) * album.master.samplerate_hz * ratio)
            if track.number == 1:
                mark(track, 0, 0)
            elif track.pregap_s:
                mark(track, 0, start - _frames(track.pregap_s))
            mark(track, 1, start)
            for i, offset in enumerate(track.indexes_s, start=2):
                mark(track, i, start + _frames(offset))
    else:
        for track in album.tracks:
            pregap = _frames(track.pregap_s)
            hidden_path, hidden = cd_files.get(f"pregap {track.number}", (None, 0))
            if pregap or hidden:
                add(-position % FRAMES_PER_SECTOR)
                mark(track, 0, position)
                gap = max(pregap, -(-hidden // FRAMES_PER_SECTOR) * FRAMES_PER_SECTOR)
                add(gap - hidden)
                add(hidden, hidden_path)
            start = position
            mark(track, 1, start)
            for i, offset in enumerate(track.indexes_s, start=2):
                mark(track, i, start + _frames(offset))
            path, frames = cd_files[f"track {track.number}"]
            add(frames, path)
    add(-position % FRAMES_PER_SECTOR)
    try:
        layout = layout_from_marks(marks, position // FRAMES_PER_SECTOR, album.upc)
    except ValueError as exc:
        raise HybridError(f"running order: {exc}", where=str(album.file)) from exc
    return Programme(segments, marks, layout)


def write_image(programme: Programme, writer: DdpWriter) -> DdpLayout:
    for segment in programme.segments:
        if segment.path is None:
            writer.write_silence(segment.frames)
            continue
        with sf.SoundFile(str(segment.path)) as handle:
            for block in handle.blocks(BLOCK_FRAMES * 4, dtype="int16", always_2d=True):
                writer.write_audio(block)
    for mark in programme.marks:
        writer.mark(mark.track, mark.index, frame=mark.frame, isrc=mark.isrc, control=mark.control)
    return writer.finish()


# -- verification -----------------------------------------------------------------------
def verify_ddp(ddp_dir: Path, programme: Programme, album: Album, cdtext: list[CdText]) -> list[str]:
    """Read the fileset back as a plant's loader would and compare with what was intended;
    returns the checks passed. Raises HybridError naming the first discrepancies."""
    failures: list[str] = []
    passed: list[str] = []
    layout = programme.layout
    strict = loader_problems(ddp_dir)
    try:
        image = read_ddp(ddp_dir)
    except (DdpFormatError, CdTextError, OSError) as exc:
        raise HybridError(f"DDP read-back failed: {exc}", where=str(ddp_dir)) from exc

    def check(ok: bool, what: str, detail: str = "") -> None:
        (passed if ok else failures).append(what if ok else f"{what}: {detail}")

    check(not strict, "numeric fields, sector alignment (loader rules)", "; ".join(strict[:3]))
    check(image.ident["level"] == "DDP 2.00" and image.ident["type"] == "CD", "DDPID level and type",
          f"got {image.ident}")
    check(image.ident["upc"] == album.upc, "DDPID UPC/EAN", f"{image.ident['upc']} != {album.upc}")
    check(image.image_sectors == layout.leadout_sector, "image length = lead-out",
          f"{image.image_sectors} != {layout.leadout_sector} sectors")
    check(image.pre2 == layout.tracks[0].start_sector, "track 1 pregap (PRE2)",
          f"{image.pre2} != {layout.tracks[0].start_sector}")
    got = [(e.track, e.index, e.sector, e.control, e.isrc, e.upc) for e in image.pq]
    want = [(e.track, e.index, e.sector, e.control, e.isrc, e.upc) for e in layout.pq]
    diffs = [f"packet {i}: {g} != {w}" for i, (g, w) in enumerate(zip(got, want, strict=False)) if g != w]
    if len(got) != len(want):
        diffs.append(f"{len(got)} packets, expected {len(want)}")
    check(not diffs, f"PQ timings, flags, ISRCs and UPC ({len(want)} packets)", "; ".join(diffs[:3]))
    check(image.cdtext_blocks == cdtext, f"CD-Text ({len(cdtext)} block(s), CRCs and strings)",
          f"{image.cdtext_blocks} != {cdtext}")

    audio_ok, detail = True, ""
    position = 0
    image_md5 = hashlib.md5()           # the image is read once: compared and hashed together
    with open(image.image, "rb") as raw:
        for segment in programme.segments:
            if segment.path is None:
                data = raw.read(segment.frames * 4)
                image_md5.update(data)
                if data.count(0) != len(data) or len(data) != segment.frames * 4:
                    audio_ok, detail = False, f"frames {position}..{position + segment.frames}: not silence"
            else:
                with sf.SoundFile(str(segment.path)) as handle:
                    if handle.frames != segment.frames:
                        audio_ok, detail = False, f"{segment.path.name}: {handle.frames} frames, planned {segment.frames}"
                    for block in handle.blocks(BLOCK_FRAMES * 4, dtype="int16", always_2d=True):
                        data = raw.read(block.size * 2)
                        image_md5.update(data)
                        if data != block.astype("<i2").tobytes():
                            audio_ok, detail = False, f"image differs from {segment.path.name} near frame {position}"
                            break
            if not audio_ok:
                break
            position += segment.frames
    check(audio_ok, f"audio image bytes ({layout.leadout_sector} sectors) = CD WAVs and gaps", detail)

    md5_ok, detail = True, ""
    lines = (ddp_dir / CHECKSUM_NAME).read_text(encoding="ascii").splitlines()
    whole_image = audio_ok and position * 4 == image.image.stat().st_size
    for line in lines:
        digest, name = line[:32], line[34:]
        if whole_image and (ddp_dir / name) == image.image:
            h = image_md5
        else:
            h = hashlib.md5()
            with open(ddp_dir / name, "rb") as handle:
                for chunk in iter(lambda handle=handle: handle.read(1 << 20), b""):
                    h.update(chunk)
        if h.hexdigest() != digest:
            md5_ok, detail = False, f"{name}: MD5 {h.hexdigest()} != {digest}"
            break
    check(md5_ok and len(lines) >= 4, f"MD5 of {len(lines)} files", detail or "too few files listed")
    if failures:
        raise HybridError("DDP verification failed: " + "; ".join(failures), where=str(ddp_dir))
    return passed


def _cd_names(album: Album) -> dict[str, str]:
    """CD WAV name per label (``track N``, ``pregap N``, ``continuous``)."""
    if album.master is not None:
        base = f"{album.performer} - {album.title}" if album.performer.strip() else album.title
        return {"continuous": CONTINUOUS_NAME.format(base=safe_component(base))}
    names = {}
    for t in album.tracks:
        names[f"track {t.number}"] = track_file_name(t.number, t.performer, t.title)
        if t.pregap_audio is not None:
            names[f"pregap {t.number}"] = track_file_name(t.number, t.performer, t.title + " (pregap)")
    return names


def verify_delivery(studio: str | Path, album_name: str) -> list[str]:
    """Verify an existing ``deliver/`` folder against album.toml (after copying it to a
    plant's upload folder and back, say): the DDP against the running order and the
    CD WAVs. Returns the checks passed; raises HybridError on the first failures."""
    album = load_album(studio, album_name)
    deliver = AlbumPaths(album.folder).deliver
    cd_files = {}
    for label, name in _cd_names(album).items():
        path = deliver / "CD" / name
        with open_audio(path) as handle:
            if (handle.samplerate, handle.channels, handle.subtype) != (CD_RATE, 2, "PCM_16"):
                raise HybridError("expected 44.1 kHz 16-bit stereo", where=str(path))
            cd_files[label] = (path, handle.frames)
    return verify_ddp(deliver / "DDP", plan_programme(album, cd_files), album, cdtext_blocks(album))


# -- the command ------------------------------------------------------------------------
def _round(value, digits=2):
    return None if value is None else round(value, digits)


def _measure_range(path: Path, lo: int, hi: int):
    meter = LoudnessMeter(CD_RATE, 2)
    with open_audio(path) as handle:
        handle.seek(lo)
        remaining = hi - lo
        while remaining > 0:
            block = handle.read(min(BLOCK_FRAMES, remaining), dtype="float64", always_2d=True)
            if not len(block):
                break
            meter.process(block)
            remaining -= len(block)
    return meter.result(path=str(path))


def album_gain_db(album: Album, target_lufs: float, ceiling_dbtp: float) -> tuple[float, dict]:
    """One gain for every master (relative levels kept) that puts the album's programme
    loudness at ``target_lufs``; HybridError with the figures when a track's true peak
    would pass ``ceiling_dbtp``. Returns the gain and the masters' measures by label."""
    sources = ([("continuous", album.master.path)] if album.master is not None
               else [(f"track {t.number}", t.file) for t in album.tracks])
    meters = {label: meter_file(path) for label, path in sources}
    album_lufs = gated_integrated_lufs([m.momentary_powers() for m in meters.values()])
    results = {label: meter.result(path=str(path)) for (label, path), meter in zip(
        sources, meters.values(), strict=True)}
    if album_lufs is None:
        raise HybridError("the album has no measurable loudness; cannot normalise it", where=str(album.file))
    gain = target_lufs - album_lufs
    peaks = [(label, r.true_peak_dbtp) for label, r in results.items() if r.true_peak_dbtp is not None]
    over = [(label, tp + gain) for label, tp in peaks if tp + gain > ceiling_dbtp]
    if over:
        label, peak = max(over, key=lambda item: item[1])
        raise HybridError(
            f"normalising the album from {album_lufs:.1f} to {target_lufs:g} LUFS ({gain:+.1f} dB on "
            f"every track) puts {label}'s true peak at {peak:+.1f} dBTP, over the {ceiling_dbtp:g} dBTP "
            f"ceiling; the loudest target that keeps every peak under it is "
            f"{target_lufs - (peak - ceiling_dbtp):.1f} LUFS", where=str(album.file))
    return gain, results


def deliver_master(studio: str | Path, album_name: str, *, normalize_lufs: float | None = None,
                   ceiling_dbtp: float = -1.0) -> dict:
    """Validate, render, write the DDP, verify it, report; returns the report.
    ``normalize_lufs``: bring the album's loudness to this target with one gain for every
    track (their relative levels kept)."""
    album = load_album(studio, album_name)
    destination = AlbumPaths(album.folder).deliver
    cdtext = cdtext_blocks(album)
    try:
        cdtext_blob = encode(cdtext)
    except CdTextError as exc:
        raise HybridError(f"CD-Text: {exc}", where=str(album.file)) from exc
    gain_db, masters = 0.0, {}
    if normalize_lufs is not None:
        gain_db, masters = album_gain_db(album, normalize_lufs, ceiling_dbtp)
    warnings: list[str] = []
    names = _cd_names(album)
    with Staging(destination) as stage:
        for sub in ("WAV", "CD", "DDP"):
            (stage.path / sub).mkdir()
        converted: dict[str, dict] = {}
        cd_files: dict[str, tuple[Path, int]] = {}
        sources: dict[str, AudioFile] = {}
        if album.master is not None:
            sources["continuous"] = album.master
        for track in album.tracks:
            if track.pregap_audio is not None:
                sources[f"pregap {track.number}"] = track.pregap_audio
            if track.file is not None:
                sources[f"track {track.number}"] = AudioFile(track.file, track.samplerate_hz, track.channels,
                                                             track.frames, track.subtype)
        for label, source in sources.items():
            _copy_master(source.path, stage.path / "WAV" / names[label])
            path = stage.path / "CD" / names[label]
            converted[label] = convert_to_cd(source, path, _seed(album, f"{label}/{source.path.name}"),
                                             gain_db=gain_db, measure_master=not masters)
            cd_files[label] = (path, converted[label]["frames"])
            if converted[label]["clipped_samples"]:
                warnings.append(f"{label}: {converted[label]['clipped_samples']} samples clipped "
                                "in the CD version (lower the master's peak level)")
            cd_tp = converted[label]["measured"].true_peak_dbtp
            if cd_tp is not None and cd_tp > 0.0:
                warnings.append(f"{label}: CD version true peak {cd_tp:+.2f} dBTP "
                                "(over full scale between samples)")
        programme = plan_programme(album, cd_files)
        writer = DdpWriter(stage.path / "DDP", upc=album.upc, master_id=album.master_id, cdtext=cdtext_blob)
        try:
            layout = write_image(programme, writer)
        except ValueError as exc:
            writer.abort()
            raise HybridError(f"DDP: {exc}", where=str(album.file)) from exc
        except BaseException:
            writer.abort()
            raise
        (stage.path / "DDP" / CUE_NAME).write_bytes(cue_sheet(
            layout, title=album.title, performer=album.performer,
            track_titles=[t.title for t in album.tracks],
            track_performers=[t.performer for t in album.tracks]).encode("latin-1"))
        (stage.path / "DDP" / TOC_NAME).write_text(toc_file(layout), encoding="ascii")
        checks = verify_ddp(stage.path / "DDP", programme, album, cdtext)

        played = [c for label, c in converted.items() if not label.startswith("pregap")]
        album_lufs = gated_integrated_lufs([c["powers"][0] for c in played])
        album_lra = gated_loudness_range([c["powers"][1] for c in played])
        peaks = [c["measured"].true_peak_dbtp for c in played if c["measured"].true_peak_dbtp is not None]
        album_peak = max(peaks) if peaks else None
        tracks = []
        for track, placed in zip(album.tracks, layout.tracks, strict=True):
            label = f"track {track.number}"
            if album.master is not None:
                lead = programme.segments[0].frames if programme.segments[0].path is None else 0
                path = cd_files["continuous"][0]
                lo = placed.start_sector * FRAMES_PER_SECTOR - lead
                hi = placed.end_sector * FRAMES_PER_SECTOR - lead
                cd = _measure_range(path, max(0, lo), min(cd_files["continuous"][1], hi))
                master = masters.get("continuous") if len(album.tracks) == 1 else None
                info = converted["continuous"]
            else:
                cd = converted[label]["measured"]
                master = masters.get(label) or converted[label]["master"]
                info = converted[label]
            tracks.append({
                "number": track.number, "title": track.title, "performer": track.performer,
                "isrc": track.isrc, "source": str(track.file or album.master.path),
                "file": names.get(label, names.get("continuous")),
                "master_samplerate_hz": track.samplerate_hz, "master_subtype": track.subtype,
                "duration_s": round(track.duration_s, 3), "pregap_s": track.pregap_s,
                "start": _msf_text(placed.start_sector),
                "indexes": [_msf_text(s) for s in placed.index_sectors],
                "pre_emphasis": track.pre_emphasis, "copy_permitted": track.copy_permitted,
                "integrated_lufs": _round(master.integrated_lufs) if master else None,
                "true_peak_dbtp": _round(master.true_peak_dbtp) if master else None,
                "loudness_range_lu": _round(master.loudness_range_lu, 1) if master else None,
                "gain_db": round(gain_db, 2),
                "cd_integrated_lufs": _round(cd.integrated_lufs),
                "cd_true_peak_dbtp": _round(cd.true_peak_dbtp),
                "delta_from_album_lu": (None if cd.integrated_lufs is None or album_lufs is None
                                        else round(cd.integrated_lufs - album_lufs, 2)),
                "resampled": info["resampled"], "dithered": info["dithered"],
                "clipped_samples": info["clipped_samples"],
            })
        report = {
            "album": album.name, "title": album.title, "performer": album.performer,
            "upc": album.upc, "folder": str(destination), "tracks": tracks,
            "continuous": album.master is not None,
            "normalized_to_lufs": normalize_lufs, "album_gain_db": round(gain_db, 2),
            "album_integrated_lufs": _round(album_lufs),
            "album_true_peak_dbtp": _round(album_peak),
            "album_loudness_range_lu": _round(album_lra, 1),
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
    if report.get("normalized_to_lufs") is not None:
        lines.append(f"  album normalised to {report['normalized_to_lufs']:g} LUFS: "
                     f"{report['album_gain_db']:+.2f} dB on every track (relative levels kept)")
    lines.append("  DDP 2.00 verified: " + "; ".join(report["ddp"]["verified"]))
    for warning in report["warnings"]:
        lines.append(f"  warning: {warning}")
    return "\n".join(lines)
