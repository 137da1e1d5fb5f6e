"""A song's insert chains, fingerprinted and verified: the public API of hybrid.live.verify.

- ``fingerprint_song(studio, song, takes=2) -> list[Fingerprint]``: measure every chain
  of the song's sheet (each track's inserts: loop + gear), ``takes`` times, and store the
  mean with tolerances from the spread (``songs/<song>/fingerprints/<loop>.npz``). Call
  it when the sheet is stored and the chains sound right (``hybrid recall fingerprint``).
- ``verify_song(studio, song) -> SongVerdict``: measure again, compare per chain, name
  the suspect of a failing chain (``hybrid recall verify``).
- ``verify_step(studio, song, device, parameter) -> StepCheck``: during the hand-set
  walk-through, did this knob land where it was?
- ``ChainVerdict.plot_data()``: stored against now, per chain, for the TUI (plain lists).

Loops that share no channel are measured together in one stream (a song's chains in one
pass of about 2 s); a loop used by two chains with different gear is measured once per
chain, in separate passes.

Hand-set and machine-set gear alike are modelled from their profiles' ``[sound]``
tables; a device whose profile has none counts as a wire (its knobs cannot be named).
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np

from hybrid.errors import HybridError
from hybrid.live.verify import fingerprint as fpmod
from hybrid.live.verify.analysis import Measurement, analyse
from hybrid.live.verify.capture import Route, play_record
from hybrid.live.verify.compare import Comparison, compare
from hybrid.live.verify.fingerprint import ChainKey, Fingerprint, check_current, tolerance_from_takes
from hybrid.live.verify.isolate import device_file_stem, reason_not, restore, route, snapshot
from hybrid.live.verify.model import DeviceModel
from hybrid.live.verify.stimulus import Plan, build, default_plan
from hybrid.live.verify.suspects import ChainModel, Suspect, find_suspects, fit_parameter
from recall.chain import song_chains
from recall.paths import SongPaths

Progress = Callable[[str], None]

SETTLE_RELEASES = 8.0
MAX_SETTLE_S = 20.0


# ---- the song's chains ---------------------------------------------------------------------

@dataclass
class MeasuredChain:
    """One distinct chain of a song as the sheet has it now (``recall.chain`` gives the song's
    chains; tracks sharing loop and gear share one): the loop's channels and the gear's models."""

    key: ChainKey
    out_channel: int
    in_channel: int
    devices: list[DeviceModel]
    path: Path

    @property
    def profiles(self) -> dict[str, str]:
        return {d.name: d.profile.id for d in self.devices}

    def alone(self, index: int) -> MeasuredChain:
        """The chain's ``index``-th unit alone in the same loop (its own fingerprint file)."""
        dev = self.devices[index]
        path = self.path.with_name(device_file_stem(self.path.stem, dev.name) + ".npz")
        return MeasuredChain(ChainKey(self.key.loop, (dev.name,), self.key.tracks), self.out_channel, self.in_channel,
                     [dev], path)

    @property
    def values(self) -> dict[str, dict[str, Any]]:
        return {d.name: _jsonable(d.values) for d in self.devices}


def _jsonable(values: dict) -> dict:
    return {k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
            for k, v in values.items()}


def load_song(studio_dir: str | Path, song: str):
    """``(studio, sheet, song folder)``; recall's errors become one HybridError line."""
    from recall.errors import RecallError
    from recall.store import load_sheet, song_dir
    from recall.studio import load_studio

    try:
        studio = load_studio(studio_dir)
        sheet = load_sheet(studio, song)
        folder = song_dir(studio, song)
    except RecallError as exc:
        raise HybridError(str(exc)) from exc
    if studio.interface is None:
        raise HybridError("studio.toml has no [interface]: nothing to measure through", where=str(studio.file))
    return studio, sheet, Path(folder)


def measured_chains(studio, sheet, folder: Path) -> list[MeasuredChain]:
    """Every distinct (loop, gear) chain of the sheet's tracks, in track order, with the tracks using it."""
    found: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for chain in song_chains(sheet, studio):
        if chain.loop not in studio.loops:
            raise HybridError(f"track {chain.track}: loop {chain.loop!r} is not in studio.toml",
                              where=str(studio.file))
        found.setdefault((chain.loop, chain.devices), []).append(chain.track)
    chains = []
    per_loop: dict[str, int] = {}
    for (loop_name, devices), tracks in found.items():
        loop = studio.loops[loop_name]
        models = []
        for name in devices:
            entry = studio.devices.get(name)
            if entry is None:
                raise HybridError(f"chain {loop_name}: device {name!r} is not in studio.toml", where=str(studio.file))
            values = {}
            for pname, value in sheet.values(name).items():
                param = entry.profile.parameters.get(pname)
                if param is None:
                    continue
                try:
                    values[pname] = param.parse(value)
                except (ValueError, TypeError) as exc:
                    raise HybridError(f"{name}.{pname} = {value!r}: {exc}",
                                      where=str(SongPaths(folder).sheet)) from exc
            models.append(DeviceModel(name, entry.profile, values))
        per_loop[loop_name] = per_loop.get(loop_name, 0) + 1
        stem = fpmod.file_stem(loop_name) + ("" if per_loop[loop_name] == 1 else f"~{per_loop[loop_name]}")
        chains.append(MeasuredChain(ChainKey(loop_name, devices, tuple(tracks)), loop.out_channel, loop.in_channel, models,
                            SongPaths(folder).fingerprints / f"{stem}.npz"))
    return chains


def plan_for(devices: list[DeviceModel], samplerate: int) -> Plan:
    """The standard plan, its second tone where the chain's EQs act most (away from 1 kHz).

    That is where an EQ in front of a compressor moves its threshold the most, so a swapped
    order shows; with no EQ acting, 5 kHz. The silence before the stimulus lasts
    ``SETTLE_RELEASES`` release times of the slowest compressor (its gain reduction then
    within 0.01 dB of rest) or a reverb's decay, at most ``MAX_SETTLE_S``.
    """
    from hybrid.models.dsp import Equaliser

    freqs = np.geomspace(60.0, min(12000.0, 0.4 * samplerate), 200)
    total = np.zeros_like(freqs)
    for dev in devices:
        for proc in dev.processors(samplerate):
            if isinstance(proc, Equaliser) and not proc.bypass:
                total += proc.response_db(freqs)
    settle_s = 0.0
    for dev in devices:
        sound = dev.profile.sound or {}
        roles = sound.get("roles") or {}
        if sound.get("model") == "compressor" and "release_ms" in roles:
            settle_s = max(settle_s, SETTLE_RELEASES * dev.number(roles["release_ms"]) / 1000.0)
        if sound.get("model") == "reverb" and "decay_s" in roles:
            settle_s = max(settle_s, dev.number(roles["decay_s"]))
    settle_s = round(min(settle_s, MAX_SETTLE_S), 3)
    far = np.abs(np.log2(freqs / 1000.0)) >= 0.75
    second = 5000.0
    if far.any() and np.max(np.abs(total[far] - np.interp(1000.0, freqs, total))) >= 1.0:
        second = float(freqs[far][np.argmax(np.abs(total[far] - np.interp(1000.0, freqs, total)))])
    return default_plan(samplerate, second_tone_hz=second, settle_s=settle_s)


# ---- measuring -------------------------------------------------------------------------------

@dataclass
class _Job:
    chain: MeasuredChain
    plan: Plan
    takes: list[Measurement] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: HybridError | None = None
    """Why this chain's return could not be measured (too noisy to time, open, clipping);
    the chains measured in the same stream are not spoilt by it."""

    def measured(self) -> Measurement:
        """The first take, or this chain's refusal raised."""
        if self.error is not None:
            raise self.error
        return self.takes[0]


def _measure(studio, jobs: list[_Job], takes: int, progress: Progress | None) -> None:
    """Fill each job's ``takes``: loops without a shared channel and with equal-length plans go together.

    A chain whose return is refused (``analyse``'s refusals) gets ``error`` and no more takes;
    the others measured beside it keep theirs. A stream that fails raises for all."""
    iface = studio.interface
    rate = int(iface.samplerate)
    pending = list(jobs)
    while pending:
        group: list[_Job] = []
        used_out: set[int] = set()
        used_in: set[int] = set()
        for job in list(pending):
            c = job.chain
            if c.out_channel in used_out or c.in_channel in used_in:
                continue
            if group and job.plan.frames != group[0].plan.frames:
                continue
            group.append(job)
            used_out.add(c.out_channel)
            used_in.add(c.in_channel)
            pending.remove(job)
        sents = [build(job.plan) for job in group]
        routes = [Route(job.chain.out_channel, job.chain.in_channel, s) for job, s in zip(group, sents, strict=False)]
        for take in range(takes):
            if progress:
                progress(f"measuring {', '.join(j.chain.key.label for j in group)}"
                         + (f" (take {take + 1}/{takes})" if takes > 1 else ""))
            cap = play_record(iface.device, routes, rate, blocksize=int(iface.blocksize or 0), hostapi=iface.hostapi)
            for job, sent, received in zip(group, sents, cap.received, strict=False):
                if job.error is not None:
                    continue
                try:
                    job.takes.append(analyse(job.plan, sent, received, where=f"loop {job.chain.key.loop}"))
                except HybridError as exc:
                    job.error = exc
                job.warnings.extend(cap.warnings)


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fingerprint_song(studio_dir: str | Path, song: str, *, takes: int = 2, loops: list[str] | None = None,
                     isolate: bool = True, progress: Progress | None = None,
                     failed: list[HybridError] | None = None) -> list[Fingerprint]:
    """Measure and store the fingerprint of every chain of ``song`` (or only those on ``loops``).

    All chains are measured in one stream where their loops allow. A chain whose return is
    refused (too noisy to time, an open loop, clipping) is put in ``failed`` when that is
    given, and the others are stored; without it, the first refusal is raised and nothing stored.

    With ``isolate`` and a matrix router, each unit of a multi-unit chain is also patched
    alone into the loop and fingerprinted (``<loop>@<unit>.npz``; ``Fingerprint.alone``;
    one take, judged with the chain's tolerance: same loop, same stimulus), then the
    router is put back as it was.
    """
    if takes < 1:
        raise HybridError(f"takes must be >= 1, got {takes}")
    studio, sheet, folder = load_song(studio_dir, song)
    chains = [c for c in measured_chains(studio, sheet, folder) if not loops or c.key.loop in loops]
    if not chains:
        raise HybridError("the sheet has no insert chains to fingerprint", where=str(SongPaths(folder).sheet))
    rate = int(studio.interface.samplerate)
    plans = [plan_for(c.devices, rate) for c in chains]
    settle_s = max(p.settle_s for p in plans)   # one length for all: measured in one stream
    jobs = [_Job(c, replace(p, settle_s=settle_s)) for c, p in zip(chains, plans, strict=False)]
    _measure(studio, jobs, takes, progress)
    refused = [job.error for job in jobs if job.error is not None]
    if refused and failed is None:
        raise refused[0]
    if failed is not None:
        failed.extend(refused)
    jobs = [job for job in jobs if job.error is None]
    out = [_store(studio, job, takes) for job in jobs]
    if isolate:
        for job, fp in zip(jobs, out, strict=False):
            chain = job.chain
            if reason_not(studio, chain.key) is not None:
                continue
            before = snapshot(studio)
            try:
                for index in range(len(chain.devices)):
                    alone = chain.alone(index)
                    route(studio, alone.key, alone.key.devices, chain.out_channel, chain.in_channel)
                    ajob = _Job(alone, job.plan)
                    _measure(studio, [ajob], 1, progress)
                    ajob.measured()      # a unit that cannot be measured alone: refused as the chain would be
                    fp.alone[alone.key.devices[0]] = _store(studio, ajob, 1, tolerance=fp.tolerance)
            finally:
                restore(studio, before)
    return out


def _store(studio, job: _Job, takes: int, *, tolerance=None) -> Fingerprint:
    c = job.chain
    fp = Fingerprint(key=c.key, plan=job.plan, reference=Measurement.mean(job.takes),
                     tolerance=tolerance or tolerance_from_takes(job.takes), out_channel=c.out_channel,
                     in_channel=c.in_channel, interface=studio.interface.device,
                     samplerate=int(studio.interface.samplerate), blocksize=int(studio.interface.blocksize or 0),
                     profiles=c.profiles, values=c.values, created=_utc_now(), takes=takes,
                     warnings=sorted(set(job.warnings)))
    fpmod.save(fp, c.path)
    return fp


# ---- verifying -------------------------------------------------------------------------------

@dataclass
class ChainVerdict:
    """One chain: pass/fail, the comparison, the suspects, the two measurements (for plots)."""

    key: ChainKey
    ok: bool
    error: str | None = None
    comparison: Comparison | None = None
    suspects: list[Suspect] = field(default_factory=list)
    stored: Measurement | None = None
    now: Measurement | None = None
    fingerprint_file: str | None = None
    created: str | None = None
    seconds: float = 0.0
    alone: dict[str, Comparison] = field(default_factory=dict)
    """Each unit measured alone (matrix router) against its own fingerprint, when the chain failed."""
    isolation: str | None = None
    """Why the units were not measured alone, or what measuring them alone showed."""

    @property
    def suspect(self) -> Suspect | None:
        return self.suspects[0] if self.suspects else None

    def to_dict(self) -> dict:
        out = {"chain": self.key.to_dict(), "ok": self.ok, "error": self.error,
               "fingerprint": self.fingerprint_file, "fingerprinted": self.created,
               "seconds": round(self.seconds, 3), "suspects": [s.to_dict() for s in self.suspects],
               "isolation": self.isolation,
               "alone": {name: {"ok": c.ok, "failures": list(c.failures), "worst_ratio": round(c.worst_ratio, 3)}
                         for name, c in self.alone.items()}}
        if self.comparison is not None:
            out["comparison"] = self.comparison.to_dict()
        if self.stored is not None and self.now is not None:
            out["figures"] = {
                "gain_ref_db": {"stored": round(self.stored.gain_ref_db, 3), "now": round(self.now.gain_ref_db, 3)},
                "thd_percent_1k": {f"{lvl:+.0f} dBFS": {"stored": round(self.stored.thd_at(lvl), 4),
                                                        "now": round(self.now.thd_at(lvl), 4)} for lvl in (-20, -4)},
                "noise_floor_dbfs": {"stored": round(self.stored.noise_floor_dbfs, 2),
                                     "now": round(self.now.noise_floor_dbfs, 2)},
                "latency_samples": {"stored": round(self.stored.latency_samples, 3),
                                    "now": round(self.now.latency_samples, 3)},
            }
        return out

    def plot_data(self) -> dict:
        """Stored against now for a plot (plain lists; see docs/CONTRACTS.md "Verify by ear")."""
        s, n, c = self.stored, self.now, self.comparison
        suspect = self.suspect
        data: dict[str, Any] = {
            "chain": self.key.label, "loop": self.key.loop, "devices": list(self.key.devices),
            "tracks": list(self.key.tracks), "ok": self.ok, "error": self.error,
            "suspect": suspect.text if suspect else None,
            "suspect_device": suspect.device if suspect else None,
            "suspect_parameter": suspect.parameter if suspect else None,
            "alone": {name: c.ok for name, c in self.alone.items()}, "isolation": self.isolation,
        }
        if s is None or n is None or c is None:
            return data
        r = lambda a, d=2: np.round(np.asarray(a, float), d).tolist()  # noqa: E731
        data["response"] = {"freqs_hz": r(s.freqs_hz, 1), "stored_db": r(s.magnitude_db), "now_db": r(n.magnitude_db),
                            "stored_phase_deg": r(s.phase_deg, 1), "now_phase_deg": r(n.phase_deg, 1)}
        data["bands"] = {"centres_hz": r(c.band_centres_hz, 1), "deviation_db": r(c.band_dev_db, 3),
                         "tolerance_db": r(c.tolerance.band_db, 3)}
        data["transfer"] = {"tones_hz": r(s.tone_freqs_hz, 0), "levels_in_dbfs": r(s.tone_levels_dbfs, 1),
                            "stored_out_dbfs": r(s.transfer_out_dbfs), "now_out_dbfs": r(n.transfer_out_dbfs),
                            "tolerance_db": r(c.tolerance.transfer_db, 3)}
        data["thd_percent"] = {"stored": r(s.thd_percent, 4), "now": r(n.thd_percent, 4)}
        data["noise_floor_dbfs"] = {"stored": round(s.noise_floor_dbfs, 2), "now": round(n.noise_floor_dbfs, 2)}
        return data


@dataclass
class SongVerdict:
    song: str
    chains: list[ChainVerdict]
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.chains) and all(c.ok for c in self.chains)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "song": self.song, "seconds": round(self.seconds, 3),
                "chains": [c.to_dict() for c in self.chains]}

    def plot_data(self) -> list[dict]:
        return [c.plot_data() for c in self.chains]


def _stored_for(chain: MeasuredChain, rate: int) -> Fingerprint:
    fp = fpmod.load(chain.path)
    check_current(fp, key=chain.key, samplerate=rate, profiles=chain.profiles, values=chain.values,
                  where=str(chain.path))
    return fp


def _model_for(fp: Fingerprint, chain: MeasuredChain) -> ChainModel:
    weights = np.concatenate([1.0 / fp.tolerance.band_db, (1.0 / fp.tolerance.transfer_db).ravel()])
    return ChainModel(chain.devices, fp.plan, weights)


def verify_song(studio_dir: str | Path, song: str, *, loops: list[str] | None = None, suspects: bool = True,
                isolate: bool = True, progress: Progress | None = None) -> SongVerdict:
    """Measure every fingerprinted chain of ``song`` again and judge it (see the module docstring).

    For a failing chain of several units on a matrix router (and ``isolate``), each unit
    is patched alone into the loop and measured against its own fingerprint
    (``hybrid.live.verify.isolate``); the suspects are then looked for in the units that fail
    alone, or, when none does, among the chain's orders. The chain is patched back after.
    """
    t0 = time.perf_counter()
    studio, sheet, folder = load_song(studio_dir, song)
    chains = [c for c in measured_chains(studio, sheet, folder) if not loops or c.key.loop in loops]
    if not chains:
        raise HybridError("the sheet has no insert chains to verify", where=str(SongPaths(folder).sheet))
    rate = int(studio.interface.samplerate)
    verdicts: dict[int, ChainVerdict] = {}
    jobs: list[tuple[int, _Job, Fingerprint]] = []
    for i, chain in enumerate(chains):
        try:
            fp = _stored_for(chain, rate)
        except HybridError as exc:
            verdicts[i] = ChainVerdict(chain.key, False, error=str(exc), fingerprint_file=str(chain.path))
            continue
        jobs.append((i, _Job(chain, fp.plan), fp))
    _measure(studio, [j for _, j, _ in jobs], 1, progress)
    for i, job, fp in jobs:
        t1 = time.perf_counter()
        if job.error is not None:      # this chain's return refused; the others are judged
            verdicts[i] = ChainVerdict(job.chain.key, False, error=str(job.error), fingerprint_file=str(job.chain.path),
                                       created=fp.created)
            continue
        now = job.takes[0]
        comp = compare(fp, now)
        verdict = ChainVerdict(job.chain.key, comp.ok, comparison=comp, stored=fp.reference, now=now,
                               fingerprint_file=str(job.chain.path), created=fp.created)
        if not comp.ok:
            if isolate:
                _measure_alone(studio, job.chain, rate, verdict, progress)
            if suspects:
                if progress:
                    progress(f"looking for the suspect on {job.chain.key.label}")
                verdict.suspects = _suspects(job.chain, fp, comp, verdict, rate)
        verdict.seconds = time.perf_counter() - t1
        verdicts[i] = verdict
    return SongVerdict(song, [verdicts[i] for i in range(len(chains))], time.perf_counter() - t0)


def _measure_alone(studio, chain: MeasuredChain, rate: int, verdict: ChainVerdict, progress: Progress | None) -> None:
    why = reason_not(studio, chain.key)
    if why is not None:
        verdict.isolation = f"units not measured alone: {why}"
        return
    stored = []
    for index in range(len(chain.devices)):
        alone = chain.alone(index)
        try:
            stored.append((alone, _stored_for(alone, rate)))
        except HybridError as exc:
            verdict.isolation = f"units not measured alone: {exc}"
            return
    before = snapshot(studio)
    try:
        for alone, fp in stored:
            if progress:
                progress(f"measuring {alone.key.devices[0]} alone in loop {chain.key.loop}")
            route(studio, alone.key, alone.key.devices, chain.out_channel, chain.in_channel)
            job = _Job(alone, fp.plan)
            _measure(studio, [job], 1, None)
            verdict.alone[alone.key.devices[0]] = compare(fp, job.measured())
    finally:
        restore(studio, before)
    failing = [name for name, c in verdict.alone.items() if not c.ok]
    verdict.isolation = (f"measured alone: {', '.join(failing)} differ(s) from the fingerprint" if failing else
                         "measured alone, every unit is as stored: the order or the patching changed")


def _suspects(chain: MeasuredChain, fp: Fingerprint, comp: Comparison, verdict: ChainVerdict, rate: int) -> list[Suspect]:
    if not verdict.alone:
        return find_suspects(_model_for(fp, chain), comp.deviation_vector())
    failing = [name for name, c in verdict.alone.items() if not c.ok]
    if not failing:
        found = find_suspects(_model_for(fp, chain), comp.deviation_vector(), top=10)
        return [s for s in found if s.kind != "parameter"][:3]
    found: list[Suspect] = []
    for index, dev in enumerate(chain.devices):
        if dev.name not in failing:
            continue
        alone = chain.alone(index)
        afp = _stored_for(alone, rate)
        found += find_suspects(_model_for(afp, alone), verdict.alone[dev.name].deviation_vector())
    found.sort(key=lambda s: -s.explained)
    return found[:3]


# ---- the walk-through's step check ----------------------------------------------------------

@dataclass
class StepCheck:
    """Did ``parameter`` of ``device`` land where the sheet has it? Judged on the figures it moves."""

    device: str
    parameter: str
    chain: str
    target: Any
    estimate: Any
    ok: bool
    affected_ok: bool
    worst_ratio: float
    text: str

    def to_dict(self) -> dict:
        est = round(float(self.estimate), 3) if isinstance(self.estimate, float) else self.estimate
        return {"device": self.device, "parameter": self.parameter, "chain": self.chain, "target": self.target,
                "estimate": est, "ok": self.ok, "affected_ok": self.affected_ok,
                "worst_ratio": round(self.worst_ratio, 3), "text": self.text}


def verify_step(studio_dir: str | Path, song: str, device: str, parameter: str, *,
                progress: Progress | None = None) -> StepCheck:
    """Measure the (first) chain holding ``device`` and judge only the figures ``parameter`` moves.

    ``ok``: the deviation this knob accounts for (its fitted position against the sheet's)
    is within tolerance everywhere it acts. ``affected_ok``: the figures it moves are all
    within tolerance (False while other knobs of the chain are still off). ``estimate``:
    where the knob seems to be.
    """
    return check_steps(studio_dir, song, [(device, parameter)], progress=progress)[0]


def check_steps(studio_dir: str | Path, song: str, steps: list[tuple[str, str]], *,
                progress: Progress | None = None) -> list[StepCheck]:
    """``verify_step`` for several knobs at once: each chain concerned is measured once."""
    studio, sheet, folder = load_song(studio_dir, song)
    chains = measured_chains(studio, sheet, folder)
    rate = int(studio.interface.samplerate)
    wanted: list[tuple[MeasuredChain, int, str, str]] = []
    for device, parameter in steps:
        holding = [c for c in chains if device in c.key.devices]
        if not holding:
            raise HybridError(f"device {device!r} is on no insert chain of this song",
                              where=str(SongPaths(folder).sheet))
        chain = holding[0]
        index = list(chain.key.devices).index(device)
        dev = chain.devices[index]
        if parameter not in dev.profile.parameters:
            raise HybridError(f"{device} has no parameter {parameter!r}; it has "
                              f"{', '.join(dev.profile.parameters)}", where=dev.profile.id)
        if parameter not in dev.sound_parameters():
            raise HybridError(f"{device}.{parameter}: the profile's [sound] table does not say what it does; "
                              "it cannot be checked by ear", where=dev.profile.id)
        wanted.append((chain, index, device, parameter))
    jobs: dict[str, tuple[_Job, Fingerprint]] = {}
    for chain, *_ in wanted:
        if str(chain.path) not in jobs:
            fp = _stored_for(chain, rate)
            jobs[str(chain.path)] = (_Job(chain, fp.plan), fp)
    _measure(studio, [job for job, _ in jobs.values()], 1, progress)
    out = []
    models: dict[str, ChainModel] = {}
    for chain, index, device, parameter in wanted:
        job, fp = jobs[str(chain.path)]
        comp = compare(fp, job.measured())
        d = comp.deviation_vector()
        model = models.setdefault(str(chain.path), _model_for(fp, chain))
        out.append(_judge_step(model, d, comp, chain, index, device, parameter))
    return out


def _judge_step(model: ChainModel, d: np.ndarray, comp: Comparison, chain: MeasuredChain, index: int, device: str,
                parameter: str) -> StepCheck:
    dev = chain.devices[index]
    estimate, mask, predicted = fit_parameter(model, d, index, parameter)
    param = dev.profile.parameters[parameter]
    target = dev.values.get(parameter, param.default)
    explained_worst = float(np.max(np.abs(predicted[mask]))) if mask.any() else 0.0
    affected_worst = float(np.max(np.abs(d[mask]))) if mask.any() else comp.worst_ratio
    ok = explained_worst <= 1.0
    try:
        shown_target, shown_est = param.format(target), param.format(estimate)
    except (ValueError, TypeError):
        shown_target, shown_est = str(target), str(estimate)
    label = param.label or parameter
    if ok:
        text = f"{device}: {label} is where the sheet has it ({shown_target})"
    else:
        text = f"{device}: {label} seems to be at ~{shown_est}, the sheet has {shown_target}"
    return StepCheck(device, parameter, chain.key.label, target, estimate, ok, affected_worst <= 1.0,
                     affected_worst, text)
