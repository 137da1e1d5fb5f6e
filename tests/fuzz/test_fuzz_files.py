"""Fuzzing every kind of file the program reads, through the real CLI (``python -m hybrid``).

Bounded and seeded: a fixed number of mutated profiles, studio.toml files, sheets,
album.toml files, latency.toml files, WAVs, fingerprints and archives (byte flips, a
Latin-1 ``µ``, truncation, hostile values such as ``-inf``/``nan``/huge integers/deep
nesting/``/dev/zero``, special files). Each run must end with exit 0 or with exit 1
and only ``hybrid: error: ...`` lines on stderr, never a traceback. A mutated sheet must
never stop ``recall list`` from listing the other song.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from hybrid.errors import HybridError
from hybrid.live.verify import fingerprint as fpmod
from tests.fuzz.forked import run_forked

SEED = 15
CASES = {"profile": 40, "studio": 40, "sheet": 50, "album": 15, "latency": 20, "wav": 25,
         "archive": 25, "split-archive": 15, "demo": 20}
NO_JACK = "hybrid-fuzz-no-such-server"
"""``hybrid demo --jack`` with a server nobody runs: a demo folder that passes its checks
ends at the JACK probe (one line), so no case starts a JACK server."""
HOSTILE_VALUES = [
    "-inf", "nan", "inf", "+nan", "1e999", "9" * 30, "-" + "9" * 25, "1" * 5000, '"/dev/zero"',
    '"."', '""', "true", "[]", "{}", '[1, "a"]', '"\\u0000"', "1979-05-27T07:32:00Z",
    "0x7fffffffffffffff", "-0.0", "1e-320", '"' + "x" * 3000 + '"', "'µs'", "{ a = { b = nan } }",
    "[" * 3000 + "]" * 3000, "{a=" * 400 + "1" + "}" * 400, '"../../../etc/passwd"', "-1", "0",
    "4294967296", '"\\ud800"', "[[1], [[2]]]",
]
_VALUE = re.compile(rb"(=\s*)([^\n]+)")


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One random mutation of a text or binary file."""
    how = rng.choice(["flip", "latin1", "truncate", "value", "value", "value", "deep", "dotted",
                      "dup", "drop"])
    if not data:
        return b"\xb5"
    if how == "flip":
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    if how == "latin1":
        at = rng.randrange(len(data))
        return data[:at] + "µs".encode("latin-1") + data[at:]
    if how == "truncate":
        return data[:rng.randrange(len(data))]
    if how == "value":
        found = list(_VALUE.finditer(data))
        if found:
            m = rng.choice(found)
            value = rng.choice(HOSTILE_VALUES).encode("utf-8", "surrogatepass")
            return data[:m.start(2)] + value + data[m.end(2):]
        return data + b"\nx = nan\n"
    if how == "deep":
        return data + b"\nzz = " + b"[" * 2000 + b"]" * 2000 + b"\n"
    if how == "dotted":
        return data + b"\n" + b".".join([b"k"] * 300) + b" = 1\n"
    lines = data.split(b"\n")
    i = rng.randrange(len(lines))
    if how == "dup":
        lines.insert(i, lines[i])
    else:
        del lines[i]
    return b"\n".join(lines)


def _case(base: Path, where: Path, kind: str, i: int, rng: random.Random) -> tuple[list[str], Path]:
    """Copy the studio to ``where``, mutate one file of ``kind``; the CLI arguments to run."""
    studio = where / "studio"
    shutil.copytree(base, studio, symlinks=True)
    s = ["--studio", str(studio)]

    def hit(path: Path) -> None:
        special = rng.random() < 0.06
        if special:  # a FIFO, a directory or a link to /dev/zero in the file's place
            path.unlink()
            choice = rng.choice(["fifo", "dir", "zero"])
            if choice == "fifo":
                os.mkfifo(path)
            elif choice == "dir":
                path.mkdir()
            else:
                path.symlink_to("/dev/zero")
        else:
            path.write_bytes(mutate(path.read_bytes(), rng))

    if kind == "profile":
        hit(studio / "paper-eq.toml")
        args = rng.choice([["devices", "show", str(studio / "paper-eq.toml")],
                           ["recall", "show", "night-drive", *s], ["recall", "list", *s]])
    elif kind == "studio":
        hit(studio / "studio.toml")
        args = rng.choice([["recall", "list", *s], ["recall", "show", "night-drive", *s],
                           ["latency", "show", *s], ["recall", "walkthrough", "night-drive", *s]])
    elif kind == "sheet":
        hit(studio / "songs" / "night-drive" / "sheet.toml")
        args = rng.choice([["recall", "list", *s], ["recall", "list", *s],
                           ["recall", "show", "night-drive", *s], ["recall", "diff", "night-drive", *s],
                           ["recall", "walkthrough", "night-drive", *s]])
    elif kind == "album":
        hit(studio / "albums" / "demo-ep" / "album.toml")
        args = ["deliver", "master", "demo-ep", *s]
    elif kind == "latency":
        hit(studio / "latency.toml")
        args = ["latency", "show", *s]
    elif kind == "wav":
        wav = where / "stem.wav"
        shutil.copy(base.parent / "stem.wav", wav)
        hit(wav)
        return ["loudness", str(wav), "--json"], studio
    elif kind == "demo":  # the demo folder as the engineer left it, one file of it broken
        demo = where / "Demo Room"
        shutil.copytree(base.parent / "demo", demo)
        hit(rng.choice([demo / "studio.toml", demo / "songs" / "night-drive" / "sheet.toml",
                        demo / "songs" / "night-drive" / "stems" / "3Bass.wav"]))
        return ["demo", "--no-tui", "--json", "--studio", str(demo), "--jack", NO_JACK], studio
    else:
        name = "two-songs.zip" if kind == "split-archive" else "upload.zip"
        upload = where / name
        shutil.copy(base.parent / name, upload)
        upload.write_bytes(mutate(upload.read_bytes(), rng))
        return ["intake", str(upload), *s, "--json"], studio
    return [*args, "--json"], studio


def _judge(kind: str, args: list[str], out) -> str | None:
    """Why this run is wrong, or None."""
    if "Traceback" in out.stderr or out.returncode not in (0, 1):
        return f"exit {out.returncode}: {out.stderr[-1500:]}"
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    if out.returncode == 1:
        if not lines or any(not ln.startswith("hybrid: error: ") for ln in lines):
            return f"stderr is not hybrid: error: lines: {out.stderr[-800:]!r}"
        if any(len(ln) > 800 for ln in lines):
            return "an error line longer than 800 characters"
    if kind == "sheet" and args[:2] == ["recall", "list"]:
        slugs = [song["slug"] for song in json.loads(out.stdout)["songs"]]
        if slugs != ["night-drive", "other-song"]:
            return f"recall list lost a song because one sheet is broken: {slugs}"
        if out.returncode == 1 and not all("song night-drive:" in ln for ln in lines):
            return f"recall list blamed the wrong song: {lines}"
    return None


def _cases(base: Path, tmp_path: Path) -> list[tuple[str, list[str], Path]]:
    rng = random.Random(SEED)
    cases = []
    for kind, count in CASES.items():
        for i in range(count):
            where = tmp_path / f"{kind}-{i}"
            where.mkdir()
            args, _ = _case(base, where, kind, i, rng)
            cases.append((kind, args, where))
    return cases


def _failures(cases, outs) -> list[str]:
    failures = []
    for (kind, args, _), out in zip(cases, outs, strict=True):
        why = _judge(kind, args, out)
        if why:
            failures.append(f"{kind}: {' '.join(args[:3])}: {why}")
    return failures


def test_fuzzed_files_end_in_one_error_line_never_a_traceback(base, tmp_path):
    cases = _cases(base, tmp_path)
    outs = [run_forked(args, where) for _, args, where in cases]
    failures = _failures(cases, outs)
    assert not failures, f"{len(failures)} of {len(cases)} runs went wrong:\n" + "\n\n".join(failures[:8])
    refused = sum(out.returncode == 1 for out in outs)
    assert refused > len(cases) // 2  # the mutations do hit: most runs are refusals


def test_a_sample_through_the_installed_command(base, tmp_path, cli):
    """Every 20th case again as a separate ``python -m hybrid`` process (the ``cli`` fixture)."""
    cases = _cases(base, tmp_path)[::20]
    with ThreadPoolExecutor(max_workers=2) as pool:
        outs = list(pool.map(lambda c: cli(*c[1], timeout=120), cases))
    failures = _failures(cases, outs)
    assert not failures, f"{len(failures)} of {len(cases)} runs went wrong:\n" + "\n\n".join(failures[:8])


def test_fuzzed_fingerprints_are_one_hybrid_error(tmp_path):
    """Fingerprints are read only inside `recall verify` (which measures audio first), so
    their reader is fuzzed directly: the npz bytes mutated, then hostile metadata."""
    rng = random.Random(SEED)
    arrays = {"ref_band_db": np.zeros(8, np.float32), "tol_band_db": np.ones(8, np.float32),
              "meta": np.frombuffer(json.dumps({"spec": fpmod.SPEC, "loop": "A"}).encode(), np.uint8)}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    good = buf.getvalue()
    metas = [b"[1, 2]", b'{"spec": NaN}', b"[" * 5000 + b"]" * 5000, b'{"spec": 1e999}', b"\xb5",
             json.dumps({"spec": fpmod.SPEC, "loop": "A", "samplerate": 1e400}).encode()]
    for i in range(60):
        path = tmp_path / f"{i}.npz"
        if i < len(metas):
            buf = io.BytesIO()
            np.savez_compressed(buf, **{**arrays, "meta": np.frombuffer(metas[i], np.uint8)})
            path.write_bytes(buf.getvalue())
        else:
            path.write_bytes(mutate(good, rng))
        with pytest.raises(HybridError) as info:
            fpmod.load(path)
        assert "\n" not in str(info.value) and str(path) in str(info.value)
