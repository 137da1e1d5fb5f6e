"""``hybrid deliver approve ALBUM|DDP``: the client's approval set, made from the DDP itself.

Everything comes from the image a plant will press, not from the masters, so what the
client approves is what will be pressed::

    approval/
      01 Performer - Title.wav       each track cut at its PQ marks: index 01 to the next
                                     track's first mark (or the lead-out), 44.1 kHz/16-bit
      01 Performer - Title (pregap).wav   a pregap that holds audio (a hidden track)
      PQ sheet.html                  the PQ sheet for people, printable on A4
      PQ sheet.txt / PQ sheet.csv    the same as text and as CSV (one row per index)
      <master id or folder>.zip      the DDP fileset with CHECKSUM.MD5, for a plant's upload
      approval.json                  everything above as data

Any DDP 2.00 audio fileset is read (hybrid's or another tool's): the map (DDPMS) names
the streams; numbers may be zero- or space-padded; CD-Text and checksums are optional
(missing checksums are computed). The zip is read back and every member's MD5 compared
before the set is moved in (all or nothing, see hybrid.files.deliver.staging).
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from hybrid.errors import HybridError
from hybrid.files.deliver.cdtext import CdText, CdTextError
from hybrid.files.deliver.ddp import (CHECKSUM_NAME, FRAMES_PER_SECTOR, SECTOR_BYTES, DdpFormatError,
                                      DdpImage, Mark, cue_msf, layout_from_marks, read_ddp)
from hybrid.files.deliver.names import safe_component, track_file_name
from hybrid.files.deliver.staging import Staging

CD_RATE = 44100
SHEET_NAME = "PQ sheet"


@dataclass
class ApprovalTrack:
    number: int
    title: str
    performer: str
    isrc: str
    start_sector: int
    end_sector: int
    pregap_sector: int | None
    index_sectors: list[int]
    control: str
    file: str
    md5: str
    pregap_file: str | None = None


def _md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _text(block: CdText | None, field: str, number: int) -> str:
    values = getattr(block, field) if block is not None else []
    return values[number] if number < len(values) else ""


def _write_range(image: Path, lo_sector: int, hi_sector: int, destination: Path) -> str:
    """Write image sectors ``[lo, hi)`` as a WAV; returns the WAV's MD5."""
    with open(image, "rb") as raw, sf.SoundFile(str(destination), "w", CD_RATE, 2, subtype="PCM_16",
                                                 format="WAV") as out:
        raw.seek(lo_sector * SECTOR_BYTES)
        remaining = (hi_sector - lo_sector) * SECTOR_BYTES
        while remaining > 0:
            data = raw.read(min(remaining, 75 * 60 * SECTOR_BYTES))
            if not data:
                raise HybridError(f"image ends before sector {hi_sector}", where=str(image))
            out.write(np.frombuffer(data, dtype="<i2").reshape(-1, 2))
            remaining -= len(data)
    return _md5_file(destination)


def _is_silent(image: Path, lo_sector: int, hi_sector: int) -> bool:
    with open(image, "rb") as raw:
        raw.seek(lo_sector * SECTOR_BYTES)
        data = raw.read((hi_sector - lo_sector) * SECTOR_BYTES)
    return data.count(0) == len(data)


def resolve_ddp(studio: str | Path | None, target: str) -> tuple[Path, Path, str]:
    """``(ddp folder, approval folder, name)`` for an album name or a DDP folder path."""
    path = Path(target)
    if (path / "DDPID").is_file():
        return path, path.parent / f"{path.name} approval", path.name
    if studio is None:
        raise HybridError("not a DDP folder (no DDPID) and no --studio to find an album in", where=target)
    from recall.paths import StudioPaths

    album = StudioPaths(Path(studio)).album(target)
    ddp = album.deliver / "DDP"
    if not (ddp / "DDPID").is_file():
        raise HybridError("no delivered DDP (run `hybrid deliver master` first)", where=str(ddp))
    return ddp, album.folder / "approval", target


def pq_layout(image: DdpImage):
    marks = [Mark(int(e.track), e.index, e.sector * FRAMES_PER_SECTOR, e.isrc, e.control)
             for e in image.pq if e.track not in ("00", "AA")]
    leadouts = [e.sector for e in image.pq if e.track == "AA"]
    upc = next((e.upc for e in image.pq if e.track == "00" and e.upc), None) or image.ident.get("upc")
    try:
        return layout_from_marks(marks, leadouts[0] if leadouts else image.image_sectors, upc)
    except (ValueError, IndexError) as exc:
        raise HybridError(f"PQ descriptor: {exc}", where=str(image.folder)) from exc


def make_approval(studio: str | Path | None, target: str, out: Path | None = None) -> dict:
    """Write the approval set (see the module doc); returns its report."""
    ddp_dir, destination, name = resolve_ddp(studio, target)
    destination = Path(out) if out is not None else destination
    try:
        image = read_ddp(ddp_dir)
    except (DdpFormatError, CdTextError, OSError) as exc:
        raise HybridError(f"not a readable DDP: {exc}", where=str(ddp_dir)) from exc
    layout = pq_layout(image)
    if layout.leadout_sector > image.image_sectors:
        raise HybridError(f"the lead-out ({cue_msf(layout.leadout_sector)}) is past the image's end "
                          f"({cue_msf(image.image_sectors)})", where=str(ddp_dir))
    block = image.cdtext_blocks[0] if image.cdtext_blocks else None
    checksums = _checksums(ddp_dir, image)
    with Staging(destination) as stage:
        tracks = []
        for track in layout.tracks:
            title = _text(block, "titles", track.number) or f"Track {track.number}"
            performer = _text(block, "performers", track.number)
            file = track_file_name(track.number, performer, title)
            md5 = _write_range(image.image, track.start_sector, track.end_sector, stage.path / file)
            entry = ApprovalTrack(track.number, title, performer, track.isrc, track.start_sector,
                                  track.end_sector, track.pregap_sector, list(track.index_sectors),
                                  track.control, file, md5)
            if track.pregap_sector is not None and not _is_silent(image.image, track.pregap_sector,
                                                                   track.start_sector):
                entry.pregap_file = track_file_name(track.number, performer, title + " (pregap)")
                _write_range(image.image, track.pregap_sector, track.start_sector, stage.path / entry.pregap_file)
            tracks.append(entry)
        report = {
            "ddp": str(ddp_dir), "folder": str(destination), "upc": layout.upc,
            "master_id": image.ident.get("master_id", ""),
            "title": _text(block, "titles", 0), "performer": _text(block, "performers", 0),
            "leadout": cue_msf(layout.leadout_sector), "sectors": layout.leadout_sector,
            "tracks": [_track_dict(t) for t in tracks], "checksums": checksums,
        }
        zip_name = safe_component(report["master_id"] or name) + ".zip"
        _write_zip(ddp_dir, checksums, stage.path / zip_name)
        report["zip"] = {"file": zip_name, "md5": _md5_file(stage.path / zip_name)}
        rows = sheet_rows(report)
        (stage.path / f"{SHEET_NAME}.csv").write_text(_csv(rows), encoding="utf-8")
        (stage.path / f"{SHEET_NAME}.txt").write_text(sheet_text(report, rows), encoding="utf-8")
        (stage.path / f"{SHEET_NAME}.html").write_text(sheet_html(report, rows), encoding="utf-8")
        (stage.path / "approval.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        stage.commit(replace_folder=True)
    return report


def _track_dict(t: ApprovalTrack) -> dict:
    control = int(t.control, 16) >> 4 if t.control.strip() else 0
    return {"number": t.number, "title": t.title, "performer": t.performer, "isrc": t.isrc,
            "start": cue_msf(t.start_sector), "length": cue_msf(t.end_sector - t.start_sector),
            "pregap": cue_msf(t.start_sector - t.pregap_sector) if t.pregap_sector is not None else "00:00:00",
            "indexes": [cue_msf(s) for s in t.index_sectors],
            "pre_emphasis": bool(control & 1), "copy_permitted": bool(control & 2),
            "file": t.file, "md5": t.md5, "pregap_file": t.pregap_file}


def _checksums(ddp_dir: Path, image: DdpImage) -> dict[str, str]:
    """MD5 of every file of the fileset: from CHECKSUM.MD5, each one checked, else computed."""
    names = ["DDPID", "DDPMS"] + [p.file for p in image.packets]
    listed: dict[str, str] = {}
    checksum_file = ddp_dir / CHECKSUM_NAME
    if checksum_file.is_file():
        for line in checksum_file.read_text(encoding="ascii", errors="replace").splitlines():
            if len(line) > 34:
                listed[line[34:].strip()] = line[:32].lower()
    out = {}
    for file in names:
        digest = _md5_file(ddp_dir / file)
        if file in listed and listed[file] != digest:
            raise HybridError(f"{file}: MD5 {digest} differs from CHECKSUM.MD5 ({listed[file]}); the "
                              "fileset changed since it was made", where=str(ddp_dir))
        out[file] = digest
    return out


def _write_zip(ddp_dir: Path, checksums: dict[str, str], path: Path) -> None:
    folder = path.stem
    manifest = "".join(f"{digest} *{file}\n" for file, digest in checksums.items())
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for file in checksums:
            archive.write(ddp_dir / file, f"{folder}/{file}")
        archive.writestr(f"{folder}/{CHECKSUM_NAME}", manifest)
    with zipfile.ZipFile(path) as archive:          # read back: every member against its MD5
        for file, digest in checksums.items():
            h = hashlib.md5()
            with archive.open(f"{folder}/{file}") as member:
                for chunk in iter(lambda member=member: member.read(1 << 20), b""):
                    h.update(chunk)
            if h.hexdigest() != digest:
                raise HybridError(f"{file}: the zipped copy does not match", where=str(path))


def sheet_rows(report: dict) -> list[dict]:
    """One row per PQ mark: track, index, start, length (index 01 rows), ISRC, CD-Text, flags."""
    rows = []
    for t in report["tracks"]:
        flags = ", ".join(f for f, on in (("pre-emphasis", t["pre_emphasis"]), ("copy permitted",
                                                                                t["copy_permitted"])) if on)
        base = {"track": f"{t['number']:02d}", "isrc": t["isrc"], "title": t["title"],
                "performer": t["performer"], "flags": flags or "-", "md5": t["md5"]}
        if t["pregap"] != "00:00:00":
            rows.append({**base, "index": "00", "start": _minus(t["start"], t["pregap"]), "length": t["pregap"],
                         "gap": t["pregap"], "md5": ""})
        rows.append({**base, "index": "01", "start": t["start"], "length": t["length"], "gap": t["pregap"]})
        for i, start in enumerate(t["indexes"], start=2):
            rows.append({**base, "index": f"{i:02d}", "start": start, "length": "", "gap": "", "md5": ""})
    return rows


def _sectors(msf: str) -> int:
    m, s, f = (int(p) for p in msf.split(":"))
    return (m * 60 + s) * 75 + f


def _minus(a: str, b: str) -> str:
    return cue_msf(_sectors(a) - _sectors(b))


COLUMNS = ["track", "index", "start", "length", "gap", "isrc", "title", "performer", "flags", "md5"]


def _csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _header(report: dict) -> list[tuple[str, str]]:
    return [("Title", report["title"] or "-"), ("Performer", report["performer"] or "-"),
            ("UPC/EAN", report["upc"] or "-"), ("Master ID", report["master_id"] or "-"),
            ("Tracks", str(len(report["tracks"]))), ("Lead-out (total)", report["leadout"]),
            ("DDP", report["ddp"]), ("Upload archive", f"{report['zip']['file']}  MD5 {report['zip']['md5']}")]


def sheet_text(report: dict, rows: list[dict]) -> str:
    lines = ["PQ SHEET"] + [f"{k + ':':<18}{v}" for k, v in _header(report)] + [""]
    lines.append(f"{'TR':<3}{'IX':<3}{'START':<10}{'LENGTH':<10}{'GAP':<10}{'ISRC':<13}TITLE / PERFORMER / FLAGS")
    for r in rows:
        lines.append(f"{r['track']:<3}{r['index']:<3}{r['start']:<10}{r['length']:<10}{r['gap']:<10}"
                     f"{r['isrc'] or '-':<13}{r['title']} / {r['performer'] or '-'} / {r['flags']}")
    lines += ["", "MD5 of the DDP fileset:"] + [f"  {d}  {f}" for f, d in report["checksums"].items()]
    lines += ["MD5 of the approval WAVs:"] + [f"  {t['md5']}  {t['file']}" for t in report["tracks"]]
    return "\n".join(lines) + "\n"


def sheet_html(report: dict, rows: list[dict]) -> str:
    esc = html.escape
    head = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in _header(report))
    body = "".join("<tr>" + "".join(f"<td>{esc(str(r[c]))}</td>" for c in COLUMNS[:-1]) + "</tr>"
                   for r in rows)
    sums = "".join(f"<tr><td><code>{esc(d)}</code></td><td>{esc(f)}</td></tr>"
                   for f, d in list(report["checksums"].items())
                   + [(t["file"], t["md5"]) for t in report["tracks"]])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>PQ sheet: {esc(report['title'] or report['ddp'])}</title>
<style>
@page {{ size: A4 portrait; margin: 15mm; }}
body {{ font: 9pt/1.3 sans-serif; margin: 0; }}
h1 {{ font-size: 14pt; margin: 0 0 4mm; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 5mm; page-break-inside: auto; }}
tr {{ page-break-inside: avoid; }}
th, td {{ border: 0.2mm solid #888; padding: 0.8mm 1.5mm; text-align: left; vertical-align: top; }}
thead {{ display: table-header-group; }}
code {{ font-size: 8pt; }}
</style></head><body>
<h1>PQ sheet</h1>
<table>{head}</table>
<table><thead><tr>{''.join(f'<th>{c.upper()}</th>' for c in COLUMNS[:-1])}</tr></thead><tbody>{body}</tbody></table>
<table><thead><tr><th>MD5</th><th>FILE</th></tr></thead><tbody>{sums}</tbody></table>
</body></html>
"""
