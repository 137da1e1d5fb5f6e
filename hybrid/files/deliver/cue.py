"""A CDRWin cue sheet for the DDP's audio image (``FILE "IMAGE.DAT" BINARY``).

BINARY means raw little-endian 16-bit stereo, which is what IMAGE.DAT holds, so any
cue-reading burner or player can audition or burn a reference CD-R straight from the
image. cdrdao is the exception: it takes a cue's image from the cue's own name
(``IMAGE.bin``) and reads raw audio as big-endian. So beside the cue goes ``IMAGE.toc``,
cdrdao's own format, which names IMAGE.DAT with the ``SWAP`` flag (little-endian
samples), each track as a range of it, pregaps (``START``), indexes, ISRC and flags;
the cue's first line (a REM, which cue readers skip) points cdrdao users to it. Index times are absolute (MM:SS:FF, 75 frames per second) and track 1 starts
with ``INDEX 00 00:00:00``. Text is ISO 8859-1, as CD-Text is.
"""

from __future__ import annotations

from hybrid.files.deliver.ddp import IMAGE_NAME, SECTORS_PER_SECOND, DdpLayout


def cue_time(sector: int) -> str:
    minutes, rest = divmod(sector, 60 * SECTORS_PER_SECOND)
    seconds, frames = divmod(rest, SECTORS_PER_SECOND)
    return f"{minutes:02d}:{seconds:02d}:{frames:02d}"


def _quoted(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def cue_sheet(layout: DdpLayout, *, title: str, performer: str, track_titles: list[str],
              track_performers: list[str], image_name: str = IMAGE_NAME) -> str:
    lines = ["REM little-endian samples; for cdrdao use IMAGE.toc (cdrdao reads raw audio big-endian)"]
    if layout.upc:
        lines.append(f"CATALOG {layout.upc}")
    if performer:
        lines.append(f"PERFORMER {_quoted(performer)}")
    lines.append(f"TITLE {_quoted(title)}")
    lines.append(f"FILE {_quoted(image_name)} BINARY")
    for track, t_title, t_performer in zip(layout.tracks, track_titles, track_performers, strict=False):
        lines.append(f"  TRACK {track.number:02d} AUDIO")
        lines.append(f"    TITLE {_quoted(t_title)}")
        if t_performer:
            lines.append(f"    PERFORMER {_quoted(t_performer)}")
        if track.isrc:
            lines.append(f"    ISRC {track.isrc}")
        if track.control[0] in "13":
            lines.append("    FLAGS PRE" + (" DCP" if track.control[0] == "3" else ""))
        elif track.control[0] == "2":
            lines.append("    FLAGS DCP")
        if track.pregap_sector is not None:
            lines.append(f"    INDEX 00 {cue_time(track.pregap_sector)}")
        lines.append(f"    INDEX 01 {cue_time(track.start_sector)}")
        for index, sector in enumerate(track.index_sectors, start=2):
            lines.append(f"    INDEX {index:02d} {cue_time(sector)}")
    return "\n".join(lines) + "\n"


def toc_file(layout: DdpLayout, *, image_name: str = IMAGE_NAME) -> str:
    """cdrdao's TOC for the image: ``cdrdao write IMAGE.toc`` burns a reference CD-R."""
    lines = ["CD_DA"]
    if layout.upc:
        lines.append(f'CATALOG "{layout.upc}"')
    for track in layout.tracks:
        control = int(track.control, 16) >> 4
        first = track.pregap_sector if track.pregap_sector is not None else track.start_sector
        lines += ["", f"// track {track.number:02d}", "TRACK AUDIO"]
        lines += ["COPY"] if control & 2 else ["NO COPY"]
        lines += ["PRE_EMPHASIS"] if control & 1 else []     # cdrdao 1.2.4 has no "NO PRE_EMPHASIS"
        if track.isrc:
            lines.append(f'ISRC "{track.isrc}"')
        lines.append(f'FILE "{image_name}" SWAP {cue_time(first)} {cue_time(track.end_sector - first)}')
        if track.start_sector != first:
            lines.append(f"START {cue_time(track.start_sector - first)}")
        for sector in track.index_sectors:
            lines.append(f"INDEX {cue_time(sector - track.start_sector)}")
    return "\n".join(lines) + "\n"
