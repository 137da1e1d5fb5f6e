"""A printable recall sheet: a self-contained HTML page and Markdown.

The HTML page carries everything inline (CSS, SVG knobs, photos as data URIs) so it
can be mailed, printed on A4 (panels never split across pages) or opened on a tablet
in the live room. Each device is drawn as a panel: a knob per continuous or stepped
control with its pointer at the setting (detent ticks for stepped ones), a lever per
switch. The Markdown version is for pasting into a ticket or a chat.
"""

from __future__ import annotations

import base64
import html
import math
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recall.errors import RecallError
from recall.sheet import Sheet
from recall.values import position, show
from recall.walkthrough import chain_order, walkthrough

if TYPE_CHECKING:
    from recall.studio import Studio

KNOB_TRAVEL_DEG = 270.0
PHOTO_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
               ".webp": "image/webp", ".svg": "image/svg+xml"}

CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111;
       margin: 0 auto; padding: 16px; max-width: 1000px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 20px 0 8px; border-bottom: 1px solid #999; }
.meta { color: #444; margin-bottom: 8px; }
.stage { display: inline-block; border: 1px solid #333; border-radius: 10px; padding: 0 8px; }
.panels { display: flex; flex-wrap: wrap; gap: 10px; }
.panel { border: 2px solid #222; border-radius: 6px; padding: 8px; break-inside: avoid;
         page-break-inside: avoid; background: #f4f4f0; flex: 1 1 300px; }
.panel h3 { margin: 0 0 2px; font-size: 15px; }
.panel .model { color: #555; font-size: 12px; margin-bottom: 6px; }
.panel .how { float: right; font-size: 11px; border: 1px solid #555; border-radius: 3px; padding: 0 4px; }
.panel .how.hand { background: #ffe9a8; }
.controls { display: flex; flex-wrap: wrap; gap: 4px; }
.control { width: 86px; text-align: center; font-size: 11px; }
.control .name { font-weight: 600; }
.control .value { font-family: ui-monospace, Menlo, monospace; }
.control.unset { opacity: 0.35; }
.notes { white-space: pre-wrap; font-size: 12px; margin-top: 6px; border-left: 3px solid #999; padding-left: 6px; }
.photos img { max-width: 100%; max-height: 240px; margin-top: 6px; border: 1px solid #999; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
.check { font-family: ui-monospace, monospace; }
@media print { body { padding: 0; } .panel { background: #fff; } a { color: inherit; text-decoration: none; } }
@media (max-width: 640px) { .control { width: 76px; } }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def knob_svg(param: Any, value: Any, *, size: int = 64) -> str:
    """An SVG knob with its pointer at ``value`` (None = not on the sheet: no pointer)."""
    c = size / 2
    r = size * 0.32
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
             f'viewBox="0 0 {size} {size}" role="img" aria-label="{_e(param.label or param.name)}">']
    if param.kind == "stepped":
        n = len(param.labels)
        ticks = [(i / (n - 1) if n > 1 else 0.0) for i in range(n)]
    else:
        ticks = [i / 10 for i in range(11)]
    for t in ticks:
        a = math.radians(-KNOB_TRAVEL_DEG / 2 + KNOB_TRAVEL_DEG * t)
        x1, y1 = c + (r + 3) * math.sin(a), c - (r + 3) * math.cos(a)
        x2, y2 = c + (r + 7) * math.sin(a), c - (r + 7) * math.cos(a)
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#333" stroke-width="1.2"/>')
    parts.append(f'<circle cx="{c}" cy="{c}" r="{r:.1f}" fill="#2b2b2b" stroke="#000" stroke-width="1.5"/>')
    if value is not None:
        pos = position(param, value)
        a = math.radians(-KNOB_TRAVEL_DEG / 2 + KNOB_TRAVEL_DEG * pos)
        x, y = c + (r - 2) * math.sin(a), c - (r - 2) * math.cos(a)
        parts.append(f'<line class="pointer" data-position="{pos:.4f}" x1="{c}" y1="{c}" x2="{x:.1f}" '
                     f'y2="{y:.1f}" stroke="#fff" stroke-width="3" stroke-linecap="round"/>')
    parts.append("</svg>")
    return "".join(parts)


def switch_svg(param: Any, value: Any, *, size: int = 64) -> str:
    """A toggle: lever up for on, down for off (None: no lever)."""
    w, h = size * 0.4, size * 0.8
    x0, y0 = (size - w) / 2, (size - h) / 2
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
             f'role="img" aria-label="{_e(param.label or param.name)}">',
             f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{w:.1f}" height="{h:.1f}" rx="4" fill="#ddd" stroke="#222" stroke-width="1.5"/>']
    if value is not None:
        ly = y0 + 4 if value else y0 + h / 2
        parts.append(f'<rect class="lever" data-on="{str(bool(value)).lower()}" x="{x0 + 3:.1f}" y="{ly:.1f}" '
                     f'width="{w - 6:.1f}" height="{h / 2 - 4:.1f}" rx="3" fill="{"#c22" if value else "#555"}"/>')
    parts.append("</svg>")
    return "".join(parts)


def control_svg(param: Any, value: Any, *, size: int = 64) -> str:
    """The control the panel really has (``Parameter.panel_control``): a button bank, a two- or
    three-way toggle, one ring of a concentric knob, a stepped switch with its labels, a knob."""
    kind = param.panel_control() if hasattr(param, "panel_control") else param.kind
    if kind == "buttons":
        return buttons_svg(param, value)
    if kind == "toggle3":
        return toggle3_svg(param, value, size=size)
    if kind in ("switch", "toggle") and param.kind == "switch":
        return switch_svg(param, value, size=size)
    if kind == "concentric":
        return concentric_svg(param, value, size=size)
    if kind == "stepped" and param.kind == "stepped":
        return stepped_svg(param, value, size=size)
    return knob_svg(param, value, size=size)


def buttons_svg(param: Any, value: Any) -> str:
    """A row of push buttons, one per detent, the pressed one lit (the 1176's ratio buttons)."""
    labels = list(param.labels) if param.kind == "stepped" else list(param.labels or ["off", "on"])
    current = value if param.kind == "stepped" else (labels[1] if value else labels[0]) if value is not None else None
    w, h, gap = 34, 26, 4
    width = len(labels) * (w + gap)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="buttons" width="{width}" height="{h + 4}" '
             f'viewBox="0 0 {width} {h + 4}" role="img" aria-label="{_e(param.label or param.name)}">']
    for i, label in enumerate(labels):
        lit = label == current
        x = i * (w + gap) + 2
        parts.append(f'<rect class="button{" lit" if lit else ""}" data-label="{_e(label)}" x="{x}" y="2" '
                     f'width="{w}" height="{h}" rx="3" fill="{"#f5d142" if lit else "#ddd"}" stroke="#222"/>'
                     f'<text x="{x + w / 2}" y="{h / 2 + 6}" font-size="11" text-anchor="middle">{_e(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def toggle3_svg(param: Any, value: Any, *, size: int = 64) -> str:
    """A three-position toggle: the lever up, centre or down, the positions' labels beside it."""
    labels = list(param.labels)
    index = labels.index(value) if value in labels else None
    c = size / 2
    ys = [size * 0.18, c, size * 0.82]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="toggle3" width="{size * 2}" height="{size}" '
             f'viewBox="0 0 {size * 2} {size}" role="img" aria-label="{_e(param.label or param.name)}">',
             f'<circle cx="{c / 2 + 4}" cy="{c}" r="7" fill="#999" stroke="#222"/>']
    for i, (label, y) in enumerate(zip(labels, ys, strict=False)):
        weight = ' font-weight="bold"' if i == index else ""
        parts.append(f'<text x="{c / 2 + 16}" y="{y + 4:.1f}" font-size="11"{weight}>{_e(label)}</text>')
    if index is not None:
        parts.append(f'<line class="lever" data-position="{index}" x1="{c / 2 + 4}" y1="{c}" x2="{c / 2 + 4}" '
                     f'y2="{ys[index]:.1f}" stroke="#222" stroke-width="4" stroke-linecap="round"/>')
    parts.append("</svg>")
    return "".join(parts)


def stepped_svg(param: Any, value: Any, *, size: int = 96) -> str:
    """A detented rotary switch with every position's label (and the unit) printed round it."""
    c = size / 2
    r = size * 0.2
    labels = list(param.labels)
    n = len(labels)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="stepped" width="{size}" height="{size}" '
             f'viewBox="0 0 {size} {size}" role="img" aria-label="{_e(param.label or param.name)}">']
    for i, label in enumerate(labels):
        t = i / (n - 1) if n > 1 else 0.0
        a = math.radians(-KNOB_TRAVEL_DEG / 2 + KNOB_TRAVEL_DEG * t)
        x, y = c + (r + 14) * math.sin(a), c - (r + 14) * math.cos(a)
        bold = ' font-weight="bold"' if label == value else ""
        parts.append(f'<text class="detent" x="{x:.1f}" y="{y + 3:.1f}" font-size="8" text-anchor="middle"{bold}>'
                     f"{_e(label)}</text>")
    parts.append(f'<circle cx="{c}" cy="{c}" r="{r:.1f}" fill="#2b2b2b" stroke="#000"/>')
    if param.unit:
        parts.append(f'<text x="{c}" y="{size - 2}" font-size="8" text-anchor="middle">{_e(param.unit)}</text>')
    if value in labels:
        t = labels.index(value) / (n - 1) if n > 1 else 0.0
        a = math.radians(-KNOB_TRAVEL_DEG / 2 + KNOB_TRAVEL_DEG * t)
        x, y = c + (r - 2) * math.sin(a), c - (r - 2) * math.cos(a)
        parts.append(f'<line class="pointer" data-position="{t:.4f}" x1="{c}" y1="{c}" x2="{x:.1f}" y2="{y:.1f}" '
                     f'stroke="#fff" stroke-width="3" stroke-linecap="round"/>')
    parts.append("</svg>")
    return "".join(parts)


def concentric_svg(param: Any, value: Any, *, size: int = 64) -> str:
    """One ring of a concentric pair: the outer ring drawn as a collar round the inner knob,
    this parameter's pointer on the ring it sits on."""
    c = size / 2
    outer = getattr(param, "concentric_with", None) is None
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="concentric" width="{size}" height="{size}" '
             f'viewBox="0 0 {size} {size}" role="img" aria-label="{_e(param.label or param.name)}">',
             f'<circle cx="{c}" cy="{c}" r="{size * 0.42:.1f}" fill="#555" stroke="#000"/>',
             f'<circle cx="{c}" cy="{c}" r="{size * 0.24:.1f}" fill="#2b2b2b" stroke="#000"/>']
    if value is not None:
        pos = position(param, value)
        a = math.radians(-KNOB_TRAVEL_DEG / 2 + KNOB_TRAVEL_DEG * pos)
        r0, r1 = (size * 0.26, size * 0.41) if outer else (0.0, size * 0.22)
        parts.append(f'<line class="pointer" data-ring="{"outer" if outer else "inner"}" data-position="{pos:.4f}" '
                     f'x1="{c + r0 * math.sin(a):.1f}" y1="{c - r0 * math.cos(a):.1f}" x2="{c + r1 * math.sin(a):.1f}" '
                     f'y2="{c - r1 * math.cos(a):.1f}" stroke="#fff" stroke-width="3" stroke-linecap="round"/>')
    parts.append("</svg>")
    return "".join(parts)


def _photo_tag(folder: Path, rel: str) -> str:
    path = (folder / rel)
    kind = PHOTO_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    try:
        data = path.read_bytes()
    except OSError:
        return f'<p class="notes">photo missing: {_e(rel)}</p>'
    if not kind or not kind.startswith("image/"):
        return f'<p class="notes">not an image: {_e(rel)}</p>'
    b64 = base64.b64encode(data).decode("ascii")
    return f'<img alt="{_e(rel)}" src="data:{kind};base64,{b64}">'


def _parsed(param: Any, value: Any) -> Any:
    try:
        return param.parse(value)
    except ValueError:
        return value


def export_html(sheet: Sheet, studio: Studio, *, song_folder: Path | None = None) -> str:
    """The sheet as one self-contained HTML page."""
    folder = Path(song_folder or Path(sheet.file or ".").parent)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{_e(sheet.title)} — recall sheet</title>", f"<style>{CSS}</style></head><body>"]
    out.append(f"<h1>{_e(sheet.title)}</h1>")
    meta = " · ".join(_e(x) for x in (sheet.artist, sheet.album, f"{sheet.samplerate} Hz", studio.name) if x)
    out.append(f'<div class="meta">{meta} · stage <span class="stage">{_e(sheet.stage)}</span></div>')
    if sheet.notes:
        out.append(f'<div class="notes song-notes">{_e(sheet.notes)}</div>')
    for rel in sheet.photos:
        out.append(f'<div class="photos">{_photo_tag(folder, rel)}</div>')

    chains = [(t, t.inserts) for t in sheet.tracks if t.inserts]
    if chains:
        out.append("<h2>Insert chains</h2><table><tr><th>Track</th><th>Loop</th><th>Chain</th></tr>")
        for track, inserts in chains:
            for ins in inserts:
                loop = studio.loops.get(ins.loop)
                io = f" (out {loop.out_channel} → in {loop.in_channel})" if loop else ""
                out.append(f"<tr><td>{_e(track.name)}</td><td>{_e(ins.loop)}{_e(io)}</td>"
                           f"<td>{' → '.join(_e(d) for d in ins.devices)}</td></tr>")
        out.append("</table>")

    out.append('<h2>Devices</h2><div class="panels">')
    for dev, chain in chain_order(sheet):
        entry = studio.devices.get(dev)
        values = sheet.values(dev)
        how = "machine" if entry is not None and entry.machine_settable else "by hand"
        cls = "how" if how == "machine" else "how hand"
        out.append(f'<section class="panel" data-device="{_e(dev)}"><span class="{cls}">{how}</span>'
                   f"<h3>{_e(dev)}</h3>")
        if entry is None:
            out.append('<div class="model">not in this studio</div>')
            for name, value in values.items():
                out.append(f"<div>{_e(name)}: {_e(value)}</div>")
        else:
            prof = entry.profile
            sub = " ".join(x for x in (prof.maker, prof.model) if x)
            out.append(f'<div class="model">{_e(sub)}{" · " + _e(chain) if chain else ""}</div><div class="controls">')
            applies = set(prof.applicable_to(values))
            for name, param in prof.parameters.items():
                if name not in applies:
                    continue
                shown_value = _parsed(param, values[name]) if name in values else None
                svg = control_svg(param, shown_value)
                text = show(param, shown_value) if shown_value is not None else "—"
                unset = "" if shown_value is not None else " unset"
                out.append(f'<div class="control{unset}" data-param="{_e(name)}">{svg}'
                           f'<div class="name">{_e(param.label or name)}</div>'
                           f'<div class="value">{_e(text)}</div></div>')
            out.append("</div>")
        if sheet.device_notes(dev):
            out.append(f'<div class="notes">{_e(sheet.device_notes(dev))}</div>')
        photos = sheet.device_photos(dev)
        if photos:
            out.append('<div class="photos">' + "".join(_photo_tag(folder, p) for p in photos) + "</div>")
        out.append("</section>")
    out.append("</div>")

    steps = walkthrough(sheet, studio)
    if steps:
        out.append("<h2>Walk-through (hand-set gear, in signal order)</h2><table>"
                   "<tr><th>#</th><th>Device</th><th>Control</th><th>Set to</th><th>Chain</th></tr>")
        for s in steps:
            out.append(f"<tr><td>{s.number}</td><td>{_e(s.device)}</td><td>{_e(s.label)}</td>"
                       f"<td>{_e(s.setting)}</td><td>{_e(s.chain)}</td></tr>")
        out.append("</table>")
    if sheet.checklist:
        out.append("<h2>Checklist</h2><ul>")
        for c in sheet.checklist:
            out.append(f'<li><span class="check">[{"x" if c.done else " "}]</span> {_e(c.item)}</li>')
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def export_markdown(sheet: Sheet, studio: Studio) -> str:
    """The sheet as Markdown, for a ticket or a chat."""
    lines = [f"# {sheet.title}", ""]
    meta = [x for x in (sheet.artist, sheet.album, f"{sheet.samplerate} Hz") if x]
    lines += [" · ".join(meta) + f" · stage: **{sheet.stage}**", ""]
    if sheet.notes:
        lines += ["> " + sheet.notes.replace("\n", "\n> "), ""]
    chains = [t for t in sheet.tracks if t.inserts]
    if chains:
        lines += ["## Insert chains", "", "| Track | Loop | Chain |", "|---|---|---|"]
        for t in chains:
            for ins in t.inserts:
                lines.append(f"| {_md(t.name)} | {_md(ins.loop)} | {_md(' → '.join(ins.devices))} |")
        lines.append("")
    lines += ["## Devices", ""]
    for dev, chain in chain_order(sheet):
        entry = studio.devices.get(dev)
        how = "machine" if entry is not None and entry.machine_settable else "by hand"
        model = f"{entry.profile.maker} {entry.profile.model}".strip() if entry else "not in this studio"
        lines += [f"### {dev}", "", f"*{model}* · {how}" + (f" · {chain}" if chain else ""), ""]
        values = sheet.values(dev)
        if values:
            lines += ["| Control | Setting |", "|---|---|"]
            params = entry.profile.parameters if entry else {}
            order = [n for n in params if n in values] + [n for n in values if n not in params]
            for name in order:
                p = params.get(name)
                lines.append(f"| {_md(p.label if p else name)} | {_md(show(p, _parsed(p, values[name]) if p else values[name]))} |")
            lines.append("")
        if sheet.device_notes(dev):
            lines += ["> " + sheet.device_notes(dev).replace("\n", "\n> "), ""]
        for photo in sheet.device_photos(dev):
            lines += [f"![{dev}]({photo})", ""]
    steps = walkthrough(sheet, studio)
    if steps:
        lines += ["## Walk-through", ""]
        lines += [f"{s.number}. **{s.device}** — {s.label}: {s.setting}" + (f" ({s.chain})" if s.chain else "")
                  for s in steps]
        lines.append("")
    if sheet.checklist:
        lines += ["## Checklist", ""] + [f"- [{'x' if c.done else ' '}] {c.item}" for c in sheet.checklist] + [""]
    return "\n".join(lines)


def export_song(sheet: Sheet, studio: Studio, out_dir: Path | None = None, *, fmt: str = "both") -> list[Path]:
    """Write ``<slug>.html`` and/or ``<slug>.md`` (default: the song's ``export/`` folder)."""
    from recall.tomlio import save_text

    folder = Path(sheet.file).parent if sheet.file else None
    if out_dir is None:
        if folder is None:
            raise RecallError("the sheet has no folder; give an output folder")
        out_dir = folder / "export"
    slug = folder.name if folder else "sheet"
    written = []
    if fmt in ("html", "both"):
        p = Path(out_dir) / f"{slug}.html"
        save_text(p, export_html(sheet, studio, song_folder=folder))
        written.append(p)
    if fmt in ("md", "markdown", "both"):
        p = Path(out_dir) / f"{slug}.md"
        save_text(p, export_markdown(sheet, studio))
        written.append(p)
    return written
