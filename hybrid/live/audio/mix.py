"""Summing prints: a song's stems out through the analog summing mixer, its stereo bus recorded.

The studio's ``[summing]`` (recall.studio.Summing) says which interface outputs feed the
mixer's inputs 1..N and which inputs its bus comes back on; the song's ``[mix]``
(recall.sheet.Mix) says which stem plays on which input (a stereo stem takes the input
it names and the next) and which stems each variant mutes (``full`` mutes none).

``print_mix`` checks everything against the studio and the song before anything plays
(:func:`plan_mix`: a stem on an input that is not wired, two stems on one input, a
variant muting a stem the song does not have, an unknown variant: one line naming the
file and key), then runs one pass per variant, consecutively, through one engine with the
insert prints (``hybrid.live.audio.printing.run_pass``): every stem that plays starts at
the pass's P; the bus is pinged before and after (all the variant's summing inputs at
once, each lowered so they sum to the ping level; each bus side timed on its own) and a
bus that does not come back stops the pass at its first ping, before any stem plays.
Each side is aligned by its own latency, fraction included, so the mix starts at the
stems' frame 0; its length is the longest stem plus the tail setting (``tail_s``), its
BWF time reference the stems'. A bus loop (``[summing] bus``, the bus compressor) is a
second pass per variant: the raw bus print through that stereo loop, aligned again.

Files: ``songs/<song>/mix/<variant>.wav``; a bad pass leaves ``<variant>.BAD.wav``.
Printed stems are played where they exist (``prints/<stem>.wav``), else the client's.

Repeatability: where the stems a variant mutes are silent (and have been for
``NULL_GUARD_S``), the variant and ``full`` carry the same audio; their difference there,
against ``full``'s level, is the variant's null residual (dB). With a bus loop it is taken
on the summing passes' prints, before the bus loop: a bus compressor reacts to the whole
mix (with the vocal muted it pumps less), so after it the variants differ by design. A residual above the
sheet's ``null_limit_db`` flags the pass (gear drifting, a knob touched between passes).
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from hybrid.errors import HybridError
from hybrid.live.audio.ping import PingRoute
from hybrid.live.audio.printing import (PassResult, PingSettings, PrintJob, PrintOptions, Return, Send,
                                        SideTolerance, again_if_spoilt, print_pass, run_pass)
from hybrid.live.audio.song import known_sides, store_pass_latency
from hybrid.live.audio.wavio import read_bext
from recall.errors import key_path
from recall.paths import SongPaths
from recall.sheet import MIX_FULL

MIX_DIR = "mix"
ROUNDS_DIR = ".rounds"
#: a muted stem counts as silent below this peak (dBFS) ...
SILENT_DBFS = -90.0
#: ... over blocks this long, and this long after it last played (release of the bus gear)
NULL_BLOCK_S = 0.05
NULL_GUARD_S = 0.25


@dataclass(frozen=True)
class MixStem:
    """A stem of the mix: the file played, and the summing inputs (1-based) it plays on."""

    name: str
    path: Path
    inputs: tuple[int, ...]
    outs: tuple[int, ...]          # the interface outputs feeding those inputs

    def to_dict(self) -> dict:
        return {"stem": self.name, "file": str(self.path), "inputs": list(self.inputs), "outs": list(self.outs)}


@dataclass
class MixPlan:
    """What ``print_mix`` will play: the stems, the variants (mutes) in order, the bus."""

    song: str
    stems: list[MixStem]
    variants: dict[str, list[str]]
    ins: tuple[int, int]
    bus_loop: object | None = None      # recall.studio.Loop
    device: str | None = None
    null_limit_db: float = -50.0
    skipped: dict[str, str] = field(default_factory=dict)

    def playing(self, variant: str) -> list[MixStem]:
        muted = set(self.variants[variant])
        return [s for s in self.stems if s.name not in muted]

    def to_dict(self) -> dict:
        return {"song": self.song, "stems": [s.to_dict() for s in self.stems],
                "variants": {k: list(v) for k, v in self.variants.items()}, "ins": list(self.ins),
                "bus": getattr(self.bus_loop, "name", None), "device": self.device,
                "null_limit_db": self.null_limit_db, "skipped": self.skipped}


@dataclass
class VariantResult:
    """One variant's print: its pass(es), where the file is, and its null against ``full``."""

    variant: str
    good: bool
    path: Path | None
    passes: list[PassResult]
    null_residual_db: float | None = None
    null_flagged: bool = False
    null_note: str = ""
    summed: Path | None = None
    """The summing pass's print (the bus before a bus loop): what the null test compares. A bus
    compressor reacts to the whole mix, so after it a variant cannot null even where the
    muted stems are silent; the summing mixer itself must."""

    def to_dict(self) -> dict:
        return {"variant": self.variant, "good": self.good, "path": None if self.path is None else str(self.path),
                "null_residual_db": None if self.null_residual_db is None else round(self.null_residual_db, 2),
                "null_flagged": self.null_flagged, "null_note": self.null_note,
                "passes": [p.to_dict() for p in self.passes]}


@dataclass
class MixResult:
    song: str
    plan: MixPlan
    variants: list[VariantResult] = field(default_factory=list)

    @property
    def good(self) -> bool:
        return bool(self.variants) and all(v.good and not v.null_flagged for v in self.variants)

    def to_dict(self) -> dict:
        return {"song": self.song, "good": self.good, "plan": self.plan.to_dict(),
                "variants": [v.to_dict() for v in self.variants]}


def _channels(path: Path) -> tuple[int, int, int]:
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise HybridError(f"cannot read as audio: {exc}", where=str(path)) from exc
    return int(info.channels), int(info.frames), int(info.samplerate)


def plan_mix(studio, sheet, song_dir: Path, song: str, variants: list[str] | None = None) -> MixPlan:
    """Check ``[summing]`` and ``[mix]`` against each other and the song; the plan, or one line why not."""
    summing = studio.summing
    if summing is None:
        raise HybridError("summing: no [summing] table (outs, ins) for a mix print", where=str(studio.file))
    mix = sheet.mix
    if mix is None:
        raise HybridError("mix: no [mix] table (inputs = { stem = summing input })", where=str(sheet.file))
    tracks = {t.name: t for t in sheet.tracks}
    stems: list[MixStem] = []
    taken: dict[int, str] = {}
    for name, first in mix.inputs.items():
        key = f"{sheet.file}: {key_path('mix', 'inputs', name)}"
        track = tracks.get(name)
        if track is None:
            raise HybridError(f"no track {name!r} on this sheet (tracks: {', '.join(tracks) or 'none'})", where=key)
        printed = SongPaths(song_dir).prints / (Path(track.file).stem + ".wav")
        path = printed if printed.is_file() else song_dir / track.file
        if not path.is_file():
            raise HybridError(f"stem {name!r} not found", where=str(path))
        channels = _channels(path)[0]
        inputs = tuple(range(first, first + channels))
        for number in inputs:
            if number > len(summing.outs):
                raise HybridError(f"summing input {number} is not wired (studio.toml summing.outs feeds inputs "
                                  f"1..{len(summing.outs)})", where=key)
            if number in taken:
                raise HybridError(f"summing input {number} already carries {taken[number]!r}", where=key)
            taken[number] = name
        stems.append(MixStem(name, path, inputs, tuple(summing.outs[n - 1] for n in inputs)))
    names = {s.name for s in stems}
    for variant, mute in mix.variants.items():
        for i, stem in enumerate(mute):
            if stem not in names:
                raise HybridError(f"mutes {stem!r}, which is not a stem of this mix (stems: {', '.join(names)})",
                                  where=f"{sheet.file}: {key_path('mix', 'variants', variant, 'mute', i)}")
    wanted = list(mix.variants) if not variants else list(dict.fromkeys(variants))
    for v in wanted:
        if v not in mix.variants:
            raise HybridError(f"--variant {v}: no such variant (known: {', '.join(mix.variants)})",
                              where=str(sheet.file))
    if MIX_FULL not in wanted and len(wanted) > 0 and any(mix.variants[v] for v in wanted):
        wanted.insert(0, MIX_FULL)      # the others null against it
    ordered = [v for v in mix.variants if v in wanted]
    for v in ordered:
        if len(mix.variants[v]) == len(stems):
            raise HybridError("mutes every stem: nothing would play",
                              where=f"{sheet.file}: {key_path('mix', 'variants', v, 'mute')}")
    rates = {_channels(s.path)[2] for s in stems}
    if len(rates) > 1:
        raise HybridError(f"the mix's stems differ in sample rate ({sorted(rates)} Hz)", where=str(sheet.file))
    bus = studio.loops.get(summing.bus) if summing.bus else None
    skipped = {t: "not on a summing input" for t in tracks if t not in names}
    return MixPlan(song=song, stems=stems, variants={v: mix.variants[v] for v in ordered}, ins=summing.ins,
                   bus_loop=bus, device=summing.device, null_limit_db=mix.null_limit_db, skipped=skipped)


def print_mix(studio, sheet, song_dir: Path, song: str, settings, options: PrintOptions | None = None, *,
              variants: list[str] | None = None, ping: PingSettings | None = None, on_pass=None,
              on_progress=None, cancel=None) -> MixResult:
    """Every planned variant through the summing mixer, in consecutive passes (the gear is
    already recalled). ``on_pass(number, total, variant)`` before each pass."""
    options = options or PrintOptions()
    ping = ping or PingSettings()
    plan = plan_mix(studio, sheet, song_dir, song, variants)
    out_dir = song_dir / MIX_DIR
    out_dir.mkdir(exist_ok=True)
    rounds = out_dir / ROUNDS_DIR
    result = MixResult(song=song, plan=plan)
    total = len(plan.variants) * (2 if plan.bus_loop is not None else 1)
    bus_outs = tuple(o for s in plan.stems for o in s.outs)
    number = 0
    try:
        for variant in plan.variants:
            number += 1
            if on_pass is not None:
                on_pass(number, total, variant)
            final = out_dir / f"{variant}.wav"
            target = final
            if plan.bus_loop is not None:
                rounds.mkdir(exist_ok=True)
                target = rounds / f"{variant}.bus.wav"
            outcome = again_if_spoilt(lambda opts, variant=variant, target=target: _summing_pass(
                plan, variant, target, bus_outs, settings, opts, ping, on_progress, cancel), options)
            passes = [outcome]
            printed = outcome.files[0]
            if printed.good and plan.bus_loop is not None:
                number += 1
                if on_pass is not None:
                    on_pass(number, total, f"{variant} through {plan.bus_loop.name}")
                loop = plan.bus_loop
                job = PrintJob(stem=target, output=final, out_channels=tuple(loop.out_channels),
                               in_channels=tuple(loop.in_channels), loop=loop.name, chain=tuple(loop.devices),
                               ms=loop.ms, sides=SideTolerance.of(studio, loop))
                bus_options = replace(options, keep_tail=False)
                outcome = again_if_spoilt(lambda opts, job=job: print_pass(
                    [job], settings, opts, ping=ping, on_progress=on_progress, cancel=cancel,
                    known_sides=known_sides(studio, settings)), bus_options)
                store_pass_latency(studio, settings, outcome)
                passes.append(outcome)
                printed = outcome.files[0]
            good = all(p.good for p in passes)
            result.variants.append(VariantResult(variant, good, printed.path, passes,
                                                 summed=passes[0].files[0].path))
        _null_tests(plan, result)       # on the summing prints, before the raw ones go
    finally:
        shutil.rmtree(rounds, ignore_errors=True)
    return result


def _summing_pass(plan: MixPlan, variant: str, target: Path, bus_outs: tuple[int, ...], settings,
                  options: PrintOptions, ping: PingSettings, on_progress, cancel) -> PassResult:
    playing = plan.playing(variant)
    sends = [Send(s.path, [o - 1 for o in s.outs]).open() for s in playing]
    try:
        first = next((s for s in sends if read_bext(s.path) is not None), sends[0])
        # No separate quick ping first: the pass's own ping before the stems already stops an
        # open bus before any stem plays (the bus sides' skew is the mixer's, reported, not refused).
        job = PrintJob(stem=first.path, output=target, out_channels=bus_outs, in_channels=tuple(plan.ins),
                       loop="summing", chain=(plan.device,) if plan.device else ())
        ret = Return(job=job, routes=[0, 0], frames=max(s.frames for s in sends), bext=read_bext(first.path),
                     reference=sends, per_channel=False)
        route = PingRoute(bus_outs, tuple(plan.ins), label="summing bus")
        return run_pass(sends, [ret], [route], settings, replace(options, keep_tail=True), ping, on_progress,
                        cancel)
    finally:
        for s in sends:
            s.file.close()


def _null_tests(plan: MixPlan, result: MixResult) -> None:
    full = next((v for v in result.variants if v.variant == MIX_FULL), None)
    for v in result.variants:
        if v.variant == MIX_FULL or not plan.variants[v.variant]:
            continue
        if full is None or not full.good or not v.good:
            v.null_note = "no null test: full and this variant did not both print good"
            continue
        muted = [s for s in plan.stems if s.name in plan.variants[v.variant]]
        residual, seconds = null_residual_db(full.summed or full.path, v.summed or v.path, [s.path for s in muted],
                                             playing=[s.path for s in plan.playing(v.variant)])
        if residual is None:
            v.null_note = "no null test: the muted stems are never silent"
            continue
        v.null_residual_db = residual
        v.null_flagged = residual > plan.null_limit_db
        where = f" (the summing bus, before {plan.bus_loop.name})" if plan.bus_loop is not None else ""
        v.null_note = (f"{residual:.1f} dB against full{where} over {seconds:.1f} s where "
                       f"{', '.join(s.name for s in muted)} is silent (limit {plan.null_limit_db:g} dB)"
                       + ("; ABOVE THE LIMIT: gear drifting, or a knob touched between passes?"
                          if v.null_flagged else ""))


def null_residual_db(full: Path, variant: Path, muted: list[Path], *, playing: list[Path] = (),
                     block_s: float = NULL_BLOCK_S, guard_s: float = NULL_GUARD_S) -> tuple[float | None, float]:
    """``(residual dB, seconds compared)``: ``variant - full`` against ``full`` where every
    ``muted`` stem has been silent for ``guard_s`` and (given ``playing``) a stem that plays in
    both is not: where nothing plays (the tail) the two passes hold only their own hiss, which
    cannot null. Streams block by block (flat memory)."""
    silent = 10.0 ** (SILENT_DBFS / 20.0)
    with sf.SoundFile(full) as fa, sf.SoundFile(variant) as fb:
        rate = fa.samplerate
        block = max(1, int(round(block_s * rate)))
        guard_blocks = int(math.ceil(guard_s / block_s))
        mutes = [sf.SoundFile(p) for p in muted]
        plays = [sf.SoundFile(p) for p in playing]
        try:
            quiet_run = 0
            err = ref = 0.0
            compared = 0
            while True:
                a = fa.read(block, dtype="float64", always_2d=True)
                b = fb.read(block, dtype="float64", always_2d=True)
                n = min(len(a), len(b))
                if n == 0:
                    break
                peak = 0.0
                for m in mutes:
                    got = m.read(n, dtype="float32", always_2d=True)
                    if len(got):
                        peak = max(peak, float(np.max(np.abs(got))))
                quiet_run = quiet_run + 1 if peak < silent else 0
                sounding = not plays
                for m in plays:
                    got = m.read(n, dtype="float32", always_2d=True)
                    sounding = sounding or (len(got) > 0 and float(np.max(np.abs(got))) >= silent)
                if quiet_run > guard_blocks and sounding:
                    d = a[:n] - b[:n]
                    err += float(np.sum(d * d))
                    ref += float(np.sum(a[:n] * a[:n]))
                    compared += n
        finally:
            for m in mutes + plays:
                m.close()
    if compared == 0 or ref <= 0.0:
        return None, 0.0
    return (10.0 * math.log10(err / ref) if err > 0 else -200.0), compared / rate
