"""Reading .rar (and .7z, .tar, .tar.gz ...) through bsdtar (libarchive-tools) and unar.

bsdtar never writes to the disk here. The archive is listed first: ``bsdtar -t`` for
exact names, read line by line and stopped as soon as there are more entries than
allowed; ``lsar -j`` (unar) for types, sizes and the encryption flags as JSON (the
archive's own numbers: libarchive 3.6 passes a stored, encrypted RAR 4 member through
as if it were plain, and ``bsdtar -tv`` text cannot be parsed safely). ``lsar -t`` then
decompresses every member without writing it and checks its CRC: bsdtar passes damaged
RAR and 7z data through. Links, devices, unsafe names, encryption, damage and oversized
uploads are refused before anything is unpacked.
Then bsdtar re-emits the archive's entries as a pax tar stream on a pipe
(``bsdtar -cf - @ARCHIVE``), which Python's tarfile reads member by member: every entry
is checked again (type, name), every byte is counted by ``Budget`` (sizes, the whole
archive's compression ratio, free space), and only the wanted stems are written, by us,
under names we chose, into the private staging folder.
When bsdtar cannot read an archive that lsar can (formats or RAR features libarchive
lacks), unar is the extractor instead: entries come from the ``lsar -j`` listing and each
wanted member is streamed from ``unar -o - -i INDEX`` (stdout, never the disk) through
the same Budget, and must come out exactly as long as listed. That costs one unar run
per stem (a solid archive is decompressed again for each), so it is the fallback only.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
import threading
from pathlib import Path

from hybrid.errors import HybridError
from hybrid.files.intake.limits import Budget
from hybrid.files.intake.members import Entry, safe_parts
from hybrid.files.intake.report import Refusal

_LIST_TIMEOUT_S = 120
_REASON_CHARS = 160


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C.UTF-8"  # names come out as UTF-8, not escaped
    return env


EXTRACTORS = ("auto", "bsdtar", "unar")


class ExternalSource:
    """An archive read through bsdtar (or unar). Use as a context manager.

    ``extractor``: ``auto`` (bsdtar, unar when bsdtar cannot read the archive), or one of
    ``bsdtar`` / ``unar`` to force it. ``self.extractor`` says which one was used.
    """

    def __init__(self, path: Path, extractor: str = "auto", *, max_files: int | None = None):
        if extractor not in EXTRACTORS:
            raise HybridError(f"unknown extractor {extractor!r}; expected one of {', '.join(EXTRACTORS)}")
        self.extractor = extractor
        self.path = Path(path).resolve()
        need = {"lsar": "unar"}  # the encryption/link check always runs
        if extractor in ("auto", "bsdtar"):
            need["bsdtar"] = "libarchive-tools"
        if extractor in ("auto", "unar"):
            need["unar"] = "unar"
        found = {tool: shutil.which(tool) for tool in need}
        missing = [f"{tool} (package {need[tool]})" for tool, where in found.items() if where is None]
        if missing:
            raise HybridError(f"needs {', '.join(missing)} to read this archive", where=str(path))
        self._tool = found.get("bsdtar") or "bsdtar"
        self._lister = found["lsar"]
        self._unar = found.get("unar") or "unar"
        self._listing: list[dict] = []
        self._proc: subprocess.Popen | None = None
        self._max_files = max_files

    def __enter__(self) -> ExternalSource:
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    def _list_names(self) -> list[str]:
        """``bsdtar -t``'s names, read as they come: past ``max_files`` entries the listing is
        stopped at once (not after a full listing of a million-entry archive)."""
        errors = tempfile.TemporaryFile()
        self._proc = subprocess.Popen([self._tool, "-t", "-f", str(self.path)], stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=errors, env=_env())
        names: list[bytes] = []
        try:
            timer = threading.Timer(_LIST_TIMEOUT_S, self._proc.kill)
            timer.start()
            try:
                for line in self._proc.stdout:
                    names.append(line)
                    if self._max_files is not None and len(names) > self._max_files:
                        raise Refusal(f"more than the {self._max_files} entries allowed", rule="bomb")
                rc = self._proc.wait()
            finally:
                timer.cancel()
            if rc != 0:
                raise _tool_refusal(_read(errors))
        finally:
            self._stop()
            errors.close()
        text = b"".join(names).decode("utf-8", "surrogateescape")
        return text.split("\n")[:-1] if text else []

    def _test_integrity(self) -> None:
        """``lsar -t``: every member decompressed and its checksum (CRC) checked, nothing
        written. bsdtar re-emits damaged RAR and 7z members without complaint."""
        try:
            out = subprocess.run([self._lister, "-t", "--", str(self.path)], capture_output=True,
                                 env=_env(), timeout=_LIST_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise Refusal(f"checking the archive took longer than {_LIST_TIMEOUT_S} s",
                          rule="corrupt") from None
        if out.returncode == 0:
            return
        text = out.stdout.decode("utf-8", "replace")
        for line in text.splitlines():
            name, sep, verdict = line.rpartition("... ")
            if sep and not verdict.startswith("OK"):
                raise Refusal(f"damaged: {verdict.strip(' .!').lower()} (checksum or data error)",
                              member=name, rule="corrupt")
        raise _tool_refusal(out.stderr.decode("utf-8", "replace") + text, fallback="lsar cannot check it")

    def _check_flags(self) -> None:
        """Refuse encrypted archives/members and links as unar's lsar sees them."""
        try:
            out = subprocess.run([self._lister, "-j", "--", str(self.path)], capture_output=True,
                                 env=_env(), timeout=_LIST_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise Refusal(f"listing took longer than {_LIST_TIMEOUT_S} s", rule="corrupt") from None
        try:
            listing = json.loads(out.stdout.decode("utf-8", "replace"))
        except ValueError:
            listing = None
        if out.returncode != 0 or not isinstance(listing, dict):
            raise _tool_refusal(out.stderr.decode("utf-8", "replace"), fallback="lsar cannot read it")
        for item in listing.get("lsarContents") or []:
            name = str(item.get("XADFileName", "?"))
            if item.get("XADIsEncrypted"):
                raise Refusal("is encrypted (password-protected); ask for an archive without a password",
                              member=name, rule="encrypted")
            if item.get("XADIsLink") or item.get("XADIsHardLink"):
                raise Refusal("is a link; links are never unpacked", member=name, rule="link")
        self._listing = [i for i in listing.get("lsarContents") or [] if isinstance(i, dict)]
        if (listing.get("lsarProperties") or {}).get("XADIsEncrypted"):
            raise Refusal("the archive is encrypted (password-protected); ask for one without a password",
                          rule="encrypted")

    def entries(self) -> list[Entry]:
        names = None
        if self.extractor in ("auto", "bsdtar"):
            try:
                names = self._list_names()
            except Refusal as refusal:
                if self.extractor == "bsdtar" or refusal.rule != "corrupt":
                    raise  # else unar, which reads formats and RAR features libarchive lacks
        self._check_flags()
        if self._max_files is not None and len(self._listing) > self._max_files:
            raise Refusal(f"{len(self._listing)} entries, more than the {self._max_files} allowed",
                          rule="bomb")
        self._test_integrity()
        if names is not None:
            self.extractor = "bsdtar"
            return self._bsdtar_entries(names)
        self.extractor = "unar"
        return [_lsar_entry(item) for item in self._listing]

    def _bsdtar_entries(self, names: list[str]) -> list[Entry]:
        """bsdtar's exact names; types and sizes from lsar's JSON listing (the archive's own
        numbers, never parsed from ``bsdtar -tv`` text, where an owner name with a space
        shifts the columns)."""
        by_key: dict[str, Entry] = {}
        for item in self._listing:
            entry = _lsar_entry(item)
            by_key["/".join(safe_parts(entry.name))] = entry
        out = []
        for name in names:
            known = by_key.get("/".join(safe_parts(name)))
            if name.endswith("/"):
                kind = "dir"
            else:
                kind = known.kind if known is not None else "file"
            out.append(Entry(name=name, kind=kind, size=known.size if known is not None else None))
        return out

    def extract(self, wanted: dict[str, Path], budget: Budget, *, chunk_bytes: int,
                max_files: int) -> None:
        """Write the wanted members (normalised name -> destination), counting every byte."""
        if self.extractor == "unar":
            self._unar_extract(wanted, budget, chunk_bytes)
        else:
            self._bsdtar_extract(wanted, budget, chunk_bytes, max_files)

    def _unar_extract(self, wanted: dict[str, Path], budget: Budget, chunk_bytes: int) -> None:
        by_name = {}
        for item in self._listing:
            by_name["/".join(safe_parts(str(item.get("XADFileName", ""))))] = item
        for key, dest in wanted.items():
            item = by_name[key]
            name = str(item.get("XADFileName"))
            budget.start(name, None)
            errors = tempfile.TemporaryFile()
            self._proc = subprocess.Popen(
                [self._unar, "-q", "-no-recursion", "-o", "-", "-i", str(self.path),
                 str(int(item["XADIndex"]))],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, env=_env())
            try:
                written = 0
                with open(dest, "xb") as out:
                    while chunk := self._proc.stdout.read(chunk_bytes):
                        budget.charge(len(chunk))
                        out.write(chunk)
                        written += len(chunk)
                rc = self._proc.wait()
                if rc != 0:
                    raise _tool_refusal(_read(errors), fallback=f"unar failed on {name!r}")
                listed = item.get("XADFileSize")
                if listed is not None and written != int(listed):
                    raise Refusal(f"unpacked {written} bytes where the archive lists {listed}",
                                  member=name, rule="corrupt")
            finally:
                self._stop()
                errors.close()

    def _bsdtar_extract(self, wanted: dict[str, Path], budget: Budget, chunk_bytes: int,
                        max_files: int) -> None:
        """Stream the archive as tar; write the wanted members."""
        errors = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [self._tool, "-c", "-f", "-", "--format", "pax", f"@{self.path}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors, env=_env())
        try:
            try:
                self._stream(self._proc.stdout, wanted, budget, chunk_bytes, max_files)
            except tarfile.TarError as exc:
                self._stop()
                raise _tool_refusal(_read(errors), fallback=f"unreadable archive ({exc})") from None
            self._proc.stdout.close()
            rc = self._proc.wait()
            if rc != 0:
                raise _tool_refusal(_read(errors))
        finally:
            self._stop()
            errors.close()

    def _stream(self, pipe, wanted, budget, chunk_bytes, max_files) -> None:
        count = 0
        with tarfile.open(fileobj=pipe, mode="r|", encoding="utf-8", errors="surrogateescape") as tf:
            for member in tf:
                count += 1
                if count > max_files:
                    raise Refusal(f"more than {max_files} entries", rule="bomb")
                parts = safe_parts(member.name)
                if member.issym() or member.islnk():
                    raise Refusal(f"is a link (to {member.linkname!r}); links are never unpacked",
                                  member=member.name, rule="link")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise Refusal("is a device, pipe or other special file", member=member.name,
                                  rule="link")
                budget.start(member.name, None)
                dest = wanted.get("/".join(parts))
                if dest is None:
                    budget.charge(member.size)  # skipped, but it still passes through the pipe
                    continue
                src = tf.extractfile(member)
                with open(dest, "xb") as out:
                    while True:
                        chunk = src.read(chunk_bytes)
                        if not chunk:
                            break
                        budget.charge(len(chunk))
                        out.write(chunk)

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc is not None and proc.stdout and not proc.stdout.closed:
            proc.stdout.close()


def _lsar_entry(item: dict) -> Entry:
    mode = int(item.get("XADPosixPermissions") or 0)
    fmt = stat.S_IFMT(mode)
    if item.get("XADIsDirectory") or fmt == stat.S_IFDIR:
        kind = "dir"
    elif item.get("XADIsHardLink"):
        kind = "hardlink"
    elif item.get("XADIsLink") or fmt == stat.S_IFLNK:
        kind = "symlink"
    elif fmt in (stat.S_IFCHR, stat.S_IFBLK):
        kind = "device"
    elif fmt in (stat.S_IFIFO, stat.S_IFSOCK):
        kind = "fifo"
    else:
        kind = "file"
    size = item.get("XADFileSize")
    return Entry(name=str(item.get("XADFileName", "")), kind=kind,
                 size=int(size) if size is not None else None,
                 encrypted=bool(item.get("XADIsEncrypted")))


def _read(fh) -> str:
    fh.seek(0)
    return fh.read(4000).decode("utf-8", "replace")


def _tool_refusal(stderr: str, fallback: str = "not an archive bsdtar can read") -> Refusal:
    """A tool's complaint as a short reason: its first lines, without noise such as
    ``(null)``, JSON fragments or paths, at most ``_REASON_CHARS`` characters."""
    lines = []
    for ln in stderr.splitlines():
        ln = ln.removeprefix("bsdtar: ").removeprefix("lsar: ").strip()
        if not ln or "Error exit delayed" in ln or ln in ("(null)", "null") or ln[:1] in "{}[\"":
            continue
        lines.append(ln.replace("(null)", "").strip())
    text = "; ".join(lines[:2]) or fallback
    if len(text) > _REASON_CHARS:
        text = text[:_REASON_CHARS - 3] + "..."
    if "ncrypt" in text or "assword" in text:
        return Refusal(f"encrypted archive or member ({text}); ask for one without a password",
                       rule="encrypted")
    return Refusal(f"corrupt or unreadable archive ({text})", rule="corrupt")
