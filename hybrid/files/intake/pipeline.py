"""Intake of one client upload: unpack safely, check every stem, create the song.

Policy (what a studio wants: the engineer keeps what can be listened to and talked
about, and nothing dangerous or ambiguous ever lands):

Refused, nothing kept (exit status 1):
  * unsafe entries anywhere in the archive: ``..`` paths, absolute names, drive letters,
    NUL bytes; symlinks, hard links, devices and pipes (``path``, ``link``);
  * encrypted members or archives (``encrypted``): they cannot be checked;
  * zip bombs and oversized uploads: file-count, per-file, total and ratio caps, checked
    on declared sizes and again on the bytes actually streamed (``bomb``);
  * corrupt archives (bad CRC, truncated, unknown compression) (``corrupt``);
  * two stems that would get the same name in ``stems/`` (duplicates after dropping
    folders, or names differing only in case) (``duplicate``);
  * two songs in one upload (``two-songs``): folders holding the same stem names, or
    folders each of one length different from the others', unless the folders say which
    song is which (one top-level folder per song, each numbered from its own first stem;
    hybrid.files.intake.split): then each folder becomes a song named after it (not with
    ``--song``, which names one song), all or none;
  * no readable WAV at all (``empty``), a song that already exists (``exists``), not
    enough disk space (``disk``), a read or write error (``io``), a sheet recall refuses
    (``sheet``), an interrupt (``interrupted``).
Skipped with a finding, the rest imported:
  * non-audio files (warn), other audio formats such as AIFF or MP3 (fail), ``.wav``
    files that are not WAV data (fail), nested archives (warn: never unpacked; the
    client should send the stems in one archive).
  * ``__MACOSX``, ``.DS_Store``, ``._*``, ``Thumbs.db`` and folders are ignored quietly.
Imported with their findings (the report is loud, the stems are kept):
  * 16-bit or below-44.1 kHz files, other rates or lengths than the song's, a different
    BWF start, silence, clipping (fail); 32-bit integer, mono saved as stereo, names
    without a number or instrument, drum-bus stems (warn); effect returns (info).

Atomicity: everything is unpacked into a private ``.intake-<host>-<pid>-*`` folder inside
the studio (same file system), the song folder is moved into ``songs/`` with one rename,
then the sheet is written by recall. Any failure, KeyboardInterrupt included, removes the
staging folder and a song folder this run created. A run killed outright (SIGKILL, power
cut) leaves its staging folder; the next intake on the same host removes staging folders
whose process is gone.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
from collections import Counter
from pathlib import Path, PurePosixPath
from collections.abc import Callable

from devices.safe_read import display_path
from hybrid.errors import HybridError
from hybrid.tomlfile import regular_file
from hybrid.files.intake.audio_checks import Rules, read_header, scan_samples
from hybrid.files.intake.ext_source import ExternalSource
from hybrid.files.intake.limits import Budget, Limits, size_text
from hybrid.files.intake.members import classify, clash_key, safe_parts, stem_filename
from hybrid.files.intake.names import check_name
from hybrid.files.intake.report import FileReport, IntakeRefused, IntakeReport, Refusal
from hybrid.files.intake.split import song_folders, songs_differ, top_folder
from hybrid.files.intake.zip_source import ZipSource
from recall import store
from recall.errors import RecallError
from devices.processes import process_exists
from recall.paths import StudioPaths

Progress = Callable[[str, str, int, int], None]
STAGING_PREFIX = ".intake-"
DEFAULT_LIMITS = Limits()
DEFAULT_RULES = Rules()
STEMS_DIR = "stems"
NOTES = [
    "Effects printed into a stem cannot be detected from the audio; names that look like "
    "effect returns are listed as info.",
    "'Starting together' is checked as equal length and, where files carry one, equal BWF "
    "time reference; a stem padded to the same length from a different start cannot be told apart.",
]
_ARCHIVE_SUFFIXES = re.compile(r"(\.(zip|rar|7z|tar|tgz|tbz2?|txz|gz|bz2|xz|zst))+$", re.I)


_STEMS_WORDS = re.compile(r"[\s_\-.()\[\]]*\b(stems?|multi-?tracks?|tracks|wavs?|bounces|audio files)"
                          r"[\s_\-.()\[\]]*$", re.I)


def song_title_from_archive(archive: Path) -> str:
    """'Night_Drive - STEMS.zip' -> 'Night Drive': archive suffixes and a trailing 'stems',
    'multitracks', 'wavs'... go; underscores become spaces."""
    name = _ARCHIVE_SUFFIXES.sub("", Path(archive).name)
    name = re.sub(r"_+", " ", name).strip()
    bare = _STEMS_WORDS.sub("", name).strip(" -")
    return bare or name or "Untitled"


def intake_archive(archive: str | Path, studio_dir: str | Path, *, song: str | None = None,
                   artist: str = "", album: str = "", limits: Limits = DEFAULT_LIMITS,
                   rules: Rules = DEFAULT_RULES, extractor: str = "auto",
                   progress: Progress | None = None) -> IntakeReport:
    """Unpack ``archive`` into a new song of the studio and check it; returns the report.

    Raises IntakeRefused (a HybridError carrying the report) when the upload is refused;
    the studio is then exactly as before. Bad arguments raise HybridError.
    ``extractor`` applies to non-zip archives: auto | bsdtar | unar (see ext_source).
    ``progress(stage, name, done, total)`` is called as each stem is unpacked
    (stage ``unpack``) and checked (``check``), for a progress line on big uploads.
    """
    tell = progress or (lambda *_a: None)
    archive = Path(archive)
    studio = Path(studio_dir).expanduser().resolve()
    if not os.path.lexists(archive):
        raise HybridError("archive not found", where=display_path(archive))
    regular_file(archive)  # not a FIFO, a device or a folder
    if not StudioPaths(studio).is_studio():
        raise HybridError("not a studio folder (no studio.toml; create one with `hybrid init DIR`)",
                          where=str(studio))
    # names from argv or the file system may carry undecodable bytes: shown as \xNN
    title = display_path(song or song_title_from_archive(archive)).strip()
    artist, album = display_path(artist), display_path(album)
    if not title:
        raise HybridError("the song needs a name (--song)", where=str(archive))
    report = IntakeReport(archive=str(archive), song=title)
    reports = [report]
    split_hint = ""
    staging: Path | None = None
    placed: list[Path] = []
    try:
        songs_dir = StudioPaths(studio).song(store.slugify(title)).folder.parent
        with _open_source(archive, extractor, report, limits) as source:
            entries = source.entries()
            report.extractor = getattr(source, "extractor", "zipfile")
            if len(entries) > limits.max_files:
                raise Refusal(f"{len(entries)} entries, more than the {limits.max_files} allowed", rule="bomb")
            folders = song_folders(entries)
            if folders and song is not None:  # --song names one song: no split, but say how
                split_hint = (f"; the folders {', '.join(repr(f) for f in folders[:3])} would each be "
                              "taken as a song without --song")
                folders = None
            if not folders:
                _refuse_existing(StudioPaths(studio).song(store.slugify(title)).folder)
            if folders:  # one folder per song, each numbered on its own: try them as songs
                reports = [IntakeReport(archive=str(archive), song=display_path(f).strip() or "Untitled",
                                        extractor=report.extractor) for f in folders]
                groups = [[e for e in entries if top_folder(e.name) == f] for f in folders]
                staging = _staging_path(songs_dir)    # named first: an interrupt never leaves it
                _take(source, archive, groups, reports, songs_dir, staging, limits, rules, tell)
                if not songs_differ([[f for f in r.files if f.imported] for r in reports]):
                    shutil.rmtree(staging, ignore_errors=True)  # one song in folders after all
                    staging, reports = None, [report]
            if staging is None:
                staging = _staging_path(songs_dir)
                _take(source, archive, [entries], reports, songs_dir, staging, limits, rules, tell)
        targets = [StudioPaths(studio).song(store.slugify(r.song or "")).folder for r in reports]
        for r, song_dir in zip(reports, targets, strict=True):
            _refuse_existing(song_dir, None if len(reports) == 1 else r.song)
        if len(set(targets)) < len(targets):
            raise Refusal("two of the upload's song folders get one folder name: "
                          f"{', '.join(repr(r.song) for r in reports[:3])}; ask for one archive per song",
                          rule="two-songs")
        for k, (r, song_dir) in enumerate(zip(reports, targets, strict=True)):
            r.notes[:0] = NOTES
            if len(reports) > 1:
                r.notes.insert(0, f"One of {len(reports)} songs in this upload (one folder each): "
                               f"{', '.join(repr(x.song) for x in reports)}.")
            _place(studio, r.song or "", artist, album, staging / str(k) / "song", song_dir, r)
            r.song_dir = str(song_dir)
            placed.append(song_dir)
        reports[0].also = reports[1:]
        return reports[0]
    except KeyboardInterrupt:
        _undo(placed)
        _refused(reports, Refusal("interrupted; nothing was imported", rule="interrupted"))
        raise
    except Refusal as refusal:
        _undo(placed)
        refusal.archive = str(archive)
        if refusal.rule == "two-songs" and split_hint:
            refusal.reason += split_hint
        _refused(reports, refusal)
        raise IntakeRefused(refusal, reports[0]) from None
    except OSError as exc:
        _undo(placed)
        refusal = Refusal(f"cannot read the archive or write the stems ({exc.strerror or exc}"
                          f"{': ' + str(exc.filename) if exc.filename else ''})", rule="io",
                          archive=str(archive))
        _refused(reports, refusal)
        raise IntakeRefused(refusal, reports[0]) from None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _take(source, archive: Path, groups: list[list], reports: list[IntakeReport], songs_dir: Path,
          staging: Path, limits: Limits, rules: Rules, tell: Progress) -> None:
    """Plan, unpack and check each group of entries as one song (``reports[k]`` for group k),
    into the new staging folder ``staging`` (``_staging_path``: made here), whose
    ``K/song/stems`` holds group K's stems. Refusals are raised as they are found (nothing is
    placed here)."""
    declared_total = sum(e.size or 0 for group in groups for e in group if e.kind != "dir")
    if declared_total > limits.max_total_bytes:
        raise Refusal(f"declares {size_text(declared_total)} in all, more than the "
                      f"{size_text(limits.max_total_bytes)} allowed", rule="bomb")
    plans = [_plan(group, r, limits) for group, r in zip(groups, reports, strict=True)]
    songs_dir.mkdir(parents=True, exist_ok=True)
    _check_space(songs_dir, sum(declared for _, declared in plans), limits)
    swept = _sweep_stale_staging(songs_dir.parent) + _sweep_stale_staging(songs_dir)
    if swept:
        reports[0].notes.append(f"Removed {swept} staging folder(s) left by interrupted intakes.")
    try:
        staging.mkdir(mode=0o700)
        targets: dict[str, Path] = {}
        raw_to_stem: dict[str, str] = {}
        for k, (wanted, _) in enumerate(plans):
            stems_tmp = staging / str(k) / "song" / STEMS_DIR
            stems_tmp.mkdir(parents=True)
            targets.update({key: stems_tmp / name for key, (name, _) in wanted.items()})
            raw_to_stem.update({raw: name for name, raw in wanted.values()})
        done = [0]

        def unpacking(member: str) -> None:
            if member in raw_to_stem:
                done[0] += 1
                tell("unpack", raw_to_stem[member], done[0], len(raw_to_stem))

        source.extract(targets, Budget(limits, on_member=unpacking, archive_bytes=archive.stat().st_size,
                                       space_dir=songs_dir), chunk_bytes=limits.chunk_bytes,
                       max_files=limits.max_files)
        for k, ((wanted, _), r) in enumerate(zip(plans, reports, strict=True)):
            stems_tmp = staging / str(k) / "song" / STEMS_DIR
            _verify_staging(stems_tmp, {name for name, _ in wanted.values()})
            _check_stems(stems_tmp, wanted, r, rules, tell)
            imported = [f for f in r.files if f.imported]
            if not imported:
                where = f" (folder {r.song!r})" if len(reports) > 1 else ""
                raise Refusal(f"no WAV stems in the archive{where}" + _skipped_hint(r), rule="empty")
            _refuse_two_songs(imported)
            _check_together(imported, r)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _undo(placed: list[Path]) -> None:
    """Remove the song folders this run placed (a later song of the upload was refused)."""
    for song_dir in placed:
        shutil.rmtree(song_dir, ignore_errors=True)


def _staging_path(songs_dir: Path) -> Path:
    """A new staging folder's path, not made yet: the caller holds it before it exists, so a
    Ctrl-C the moment it is made still finds it to remove (``mkdtemp`` returned it only after
    making it, and an interrupt in between left it behind; seen in CI). It sits in songs/
    itself, so the final rename never crosses disks (songs/ may be a mount or a link to another
    disk)."""
    return songs_dir / f"{_staging_prefix()}{secrets.token_hex(6)}"


def _staging_prefix() -> str:
    return f"{STAGING_PREFIX}{socket.gethostname()}-{os.getpid()}-"


def _sweep_stale_staging(studio: Path) -> int:
    """Remove this host's staging folders whose intake process no longer exists."""
    host_prefix = f"{STAGING_PREFIX}{socket.gethostname()}-"
    removed = 0
    for folder in studio.glob(f"{host_prefix}*"):
        pid_text = folder.name[len(host_prefix):].split("-", 1)[0]
        if not pid_text.isdigit() or not folder.is_dir() or folder.is_symlink():
            continue
        if process_exists(int(pid_text)):
            continue  # alive (or someone else's process): leave it
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _open_source(archive: Path, extractor: str, report: IntakeReport, limits: Limits):
    """zipfile for zips it can decode; unar for zips it cannot; bsdtar/unar for the rest."""
    with open(archive, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] != b"PK":
        return ExternalSource(archive, extractor, max_files=limits.max_files)
    source = ZipSource(archive, max_files=limits.max_files)
    methods = source.unsupported_methods()
    if not methods:
        return source
    source.close()
    report.notes.append(f"The zip uses {', '.join(sorted(methods))}, which Python's zipfile cannot "
                        "read; it was unpacked with unar.")
    return ExternalSource(archive, "unar", max_files=limits.max_files)


def _plan(entries, report: IntakeReport, limits: Limits) -> tuple[dict[str, tuple[str, str]], int]:
    """Judge every entry before unpacking anything: refuse, ignore, skip or want.

    Returns ({normalised name: (stem file name, raw name)}, declared bytes of the wanted stems).
    """
    if len(entries) > limits.max_files:
        raise Refusal(f"{len(entries)} entries, more than the {limits.max_files} allowed", rule="bomb")
    wanted: dict[str, tuple[str, str]] = {}
    seen: dict[str, str] = {}
    declared_total = declared_wanted = 0
    for entry in entries:
        parts = safe_parts(entry.name)
        if entry.kind in ("symlink", "hardlink"):
            raise Refusal("is a link; links are never unpacked", member=entry.name, rule="link")
        if entry.kind not in ("file", "dir"):
            raise Refusal("is a device, pipe or other special file", member=entry.name, rule="link")
        if entry.encrypted:
            raise Refusal("is encrypted (password-protected); ask for an archive without a password",
                          member=entry.name, rule="encrypted")
        if entry.kind == "dir":
            continue
        size = entry.size or 0
        if size > limits.max_file_bytes:
            raise Refusal(f"declares {size_text(size)}, more than the {size_text(limits.max_file_bytes)} "
                          "allowed for one file", member=entry.name, rule="bomb")
        declared_total += size
        kind = classify(parts)
        if kind == "junk":
            report.ignored.append(entry.name)
            continue
        fr = FileReport(member=entry.name)
        if kind == "wav":
            name = stem_filename(parts)
            key = clash_key(name)
            if key in seen and safe_parts(seen[key])[:-1] != parts[:-1]:
                raise Refusal(f"two songs in one upload? {_folder(seen[key])!r} and "
                              f"{_folder(entry.name)!r} both hold {name}; ask for one archive "
                              "per song", member=entry.name, rule="two-songs")
            if key in seen:
                raise Refusal(f"would land as stems/{name}, like {seen[key]!r} (duplicate or "
                              "names differing only in case); ask the client which one is right",
                              member=entry.name, rule="duplicate")
            seen[key] = entry.name
            wanted["/".join(parts)] = (name, entry.name)
            declared_wanted += size
            continue
        if kind == "archive":
            fr.add("nested", "warn", "an archive inside the archive: not unpacked; ask for the "
                   "stems in one archive")
        elif kind == "audio":
            suffix = PurePosixPath(parts[-1]).suffix.lstrip(".").upper()
            fr.add("format", "fail", f"{suffix} file, not WAV: skipped; ask for WAV")
        else:
            fr.add("skipped", "warn", "not an audio file: skipped")
        report.files.append(fr)
    if declared_total > limits.max_total_bytes:
        raise Refusal(f"declares {size_text(declared_total)} in all, more than the "
                      f"{size_text(limits.max_total_bytes)} allowed", rule="bomb")
    return wanted, declared_wanted


def _check_space(folder: Path, declared: int, limits: Limits) -> None:
    """Before writing: the stems' declared sizes (from the archive's own listing) must fit."""
    free = shutil.disk_usage(folder).free
    if declared + limits.min_free_bytes > free:
        raise Refusal(f"the stems need {size_text(declared)} and the studio's disk has "
                      f"{size_text(free)} free", rule="disk")


def _verify_staging(stems: Path, expected: set[str]) -> None:
    """After unpacking: exactly the expected names, each a plain file with one link."""
    found = set()
    with os.scandir(stems) as it:
        for item in it:
            st = item.stat(follow_symlinks=False)
            if item.is_symlink() or not item.is_file(follow_symlinks=False) or st.st_nlink != 1:
                raise Refusal(f"unpacked {item.name!r} is not a plain file", member=item.name, rule="link")
            found.add(item.name)
    if found != expected:
        odd = sorted(found ^ expected)
        raise Refusal(f"unpacked files do not match the listing ({', '.join(odd[:5])})", rule="corrupt")


def _check_stems(stems: Path, wanted, report: IntakeReport, rules: Rules, tell: Progress) -> None:
    """Header and content rules, one file at a time (each streamed block-wise)."""
    checked = []
    ordered = sorted(wanted.values(), key=lambda nm: _natural(nm[0]))
    for i, (name, member) in enumerate(ordered, 1):
        tell("check", name, i, len(ordered))
        path = stems / name
        fr = FileReport(member=member)
        if read_header(path, fr, rules):
            fr.imported = True
            fr.file = f"{STEMS_DIR}/{name}"
            fr.track = name[:-len(".wav")]
            if fr.frames:
                scan_samples(path, fr, rules)
            check_name(fr, fr.track)
        else:
            path.unlink()
        checked.append(fr)
    report.files[:0] = checked


def _folder(member: str) -> str:
    return "/".join(safe_parts(member)[:-1]) or "(top level)"


def _refuse_two_songs(imported: list[FileReport]) -> None:
    """Stems in two or more folders, each folder's stems of one length (and rate) but the
    folders different from each other: two songs were zipped together. Folders per
    instrument ("Drums/", "Bass/") of one song share the length and pass."""
    groups: dict[str, set[tuple]] = {}
    counts: Counter[str] = Counter()
    for f in imported:
        folder = _folder(f.member)
        groups.setdefault(folder, set()).add((f.samplerate, f.frames))
        counts[folder] += 1
    if len(groups) < 2 or any(len(shapes) != 1 for shapes in groups.values()):
        return
    if min(counts.values()) < 2 or len(set().union(*groups.values())) < 2:
        return
    names = ", ".join(repr(folder) for folder in sorted(groups)[:3])
    raise Refusal(f"two songs in one upload? the folders {names} each hold stems of their own "
                  "length; ask for one archive per song", rule="two-songs")


def _check_together(imported: list[FileReport], report: IntakeReport) -> None:
    """One sample rate, one length, one start (BWF time reference) for the whole song."""
    rates = Counter(f.samplerate for f in imported)
    song_rate = max(rates, key=lambda r: (rates[r], r))
    report.samplerate = song_rate
    same_rate = [f for f in imported if f.samplerate == song_rate]
    lengths = Counter(f.frames for f in same_rate)
    song_frames = max(lengths, key=lambda n: (lengths[n], n))
    refs = Counter(f.time_reference for f in imported if f.time_reference is not None)
    song_ref = max(refs, key=lambda r: (refs[r], -r)) if refs else None
    for f in imported:
        if f.samplerate != song_rate:
            f.add("one-rate", "fail", f"{f.samplerate} Hz while the song's stems are {song_rate} Hz")
            f.add("one-length", "info", "not compared: different sample rate")
            continue
        if len(rates) == 1 and len(imported) > 1:
            f.add("one-rate", "pass", f"all stems at {song_rate} Hz")
        diff = f.frames - song_frames
        if diff:
            f.add("one-length", "fail", f"{f.frames} samples, {diff:+d} ({diff / song_rate * 1000:+.1f} ms) "
                  f"against the song's {song_frames}: the stems will not line up")
        elif len(imported) > 1:
            f.add("one-length", "pass", f"same length as the others ({song_frames} samples)")
        if song_ref is not None:
            if f.time_reference is None:
                f.add("start", "info", "no BWF time reference (others have one)")
            elif f.time_reference != song_ref:
                d = f.time_reference - song_ref
                f.add("start", "fail", f"BWF start {d:+d} samples ({d / song_rate:+.3f} s) from the "
                      "others: exported from a different position")
            else:
                f.add("start", "pass", f"BWF start equal to the others ({song_ref})")


def _place(studio: Path, title: str, artist: str, album: str, staged_song: Path,
           song_dir: Path, report: IntakeReport) -> None:
    """Move the staged song folder into songs/ in one rename, then write its sheet."""
    tracks = {f.track: f.file for f in report.files if f.imported}
    song_dir.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(staged_song, song_dir)
    except OSError:
        if not song_dir.exists():
            raise  # reported as an io refusal with the system's reason
        raise Refusal(f"song folder {song_dir} appeared while unpacking; nothing was imported",
                      rule="exists") from None
    try:
        store.create_song(studio, title, artist=artist, album=album,
                          samplerate=report.samplerate, tracks=tracks)
    except BaseException as exc:
        shutil.rmtree(song_dir, ignore_errors=True)
        if isinstance(exc, RecallError):
            raise Refusal(f"cannot create the song's sheet ({exc})", rule="sheet") from None
        raise


def _refused(reports: list[IntakeReport], refusal: Refusal) -> None:
    """Mark every song of the upload refused (all or none); the first carries the others."""
    for report in reports:
        report.refused = True
        report.song_dir = None
        report.refusal = {"rule": refusal.rule, "member": refusal.member, "reason": refusal.reason}
        for f in report.files:
            f.imported = False
            f.file = None
    reports[0].also = reports[1:]


def _refuse_existing(song_dir: Path, folder: str | None = None) -> None:
    if song_dir.exists():
        raise Refusal(f"song folder {song_dir} already exists; pick another name with --song" if folder is None
                      else f"song folder {song_dir} (for the upload's folder {folder!r}) already exists; "
                      "nothing was imported", rule="exists")


def _skipped_hint(report: IntakeReport) -> str:
    kinds = {f.findings[0].rule for f in report.files if f.findings}
    if "nested" in kinds:
        return " (only nested archives, which are not unpacked: ask for the WAVs in one archive)"
    if report.files:
        return f" ({len(report.files)} other file(s) skipped)"
    return ""


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", name)]
