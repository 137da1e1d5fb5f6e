"""The simulated gear as a TOML file, for ``python -m hybrid.simgear --config FILE`` (the demo).

    name = "hybrid-gear"            # the JACK client, i.e. the PortAudio device name
    server = "hybrid-demo"          # JACK server (default: $JACK_DEFAULT_SERVER)

    [[loops]]                       # loop 1 (ports in_1/out_1, interface channel 1)
    delay_samples = 37.25
    polarity = -1                   # 1 or -1
    gain_db = 0.0
    noise_dbfs = -90.0              # omit for a digitally clean loop
    highpass_hz = 20.0              # a transformer's low cut; omit for DC-coupled
    bypass = false                  # take the gear's processors out
    channel = 1                     # optional: the gear channel; default the table's position

      [[loops.gear]]                # the gear on this loop, in signal order: a processor ...
      model = "compressor"          # compressor | eq | reverb | saturator
      threshold_db = -20.0
      ratio = 4.0

      [[loops.gear]]                # ... or a simulated device whose knobs drive its [sound]
      profile = "hy-comp-cc"        # a built-in profile id, or a .toml path relative to this file
      port = "hy-comp-cc"           # MIDI port name of its simulator (serial gear gets a pty)
      channel = 1

EQ processors take ``bands = [{ type = "peak", freq_hz = 1000, gain_db = 3, q = 1 }, ...]``.

A stereo loop is a ``[[loops]]`` table with ``channels = [L, R]`` (gear channels, i.e.
interface outputs L, R feed it and it returns on inputs L, R). Its wire keys take one
value for both sides or a ``[left, right]`` pair, so the sides can differ by a fraction
of a sample, in polarity and in gain; its gear are stereo models:

    [[loops]]
    channels = [9, 10]
    delay_samples = [37.25, 38.0]
    polarity = [1, -1]
    gain_db = [0.0, -0.3]
    noise_dbfs = -96.0
      [[loops.gear]]
      model = "stereo_compressor"   # linked sides: threshold_db, ratio, attack_ms, release_ms, makeup_db, knee_db
      threshold_db = -18.0
      [[loops.gear]]
      model = "ms_eq"               # an EQ on mid and one on side: bands as the EQ's
      mid_bands = [{ type = "peak", freq_hz = 300, gain_db = -2, q = 1 }]
      side_bands = [{ type = "highshelf", freq_hz = 8000, gain_db = 2 }]

A summing mixer (at most one) reads interface outputs ``sends`` (its inputs 1..N, in
order) and returns its stereo bus on ``returns`` (L, R):

    [summing]
    sends = [1, 2, 3, 4, 5, 6, 7, 8]
    returns = [11, 12]
    pans = [0, 0, -0.5, 0.5, 0, -1, 1, 0]   # -1 left .. 1 right, constant power (default centre)
    trims_db = [0, 0, -3, 0, 0, 0, 0, 0]    # default 0
    crosstalk_db = -80.0            # each bus side leaking into the other; omit for none
    drive_db = 6.0                  # into the tanh bus stage; omit for a clean bus
    output_db = 0.0                 # after the bus stage
    noise_dbfs = -100.0             # hiss on each side; omit for none
    delay_samples = [30.1, 30.6]    # each side's converter delay (fractional)
    seed = 7                        # repeatable noise

Channels returned by two units are refused; channels no unit returns are silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybrid.errors import HybridError
from hybrid.tomlfile import read_toml
from hybrid.models.dsp import Band, Compressor, Equaliser, Processor, Reverb, Saturator
from hybrid.models.stereo import LinkedCompressor, MidSideEQ, StereoProcessor, SummingMixer
from hybrid.simgear.loop import LoopSpec, StereoLoopSpec, SummingSpec

PROCESSOR_MODELS = {"compressor": Compressor, "eq": Equaliser, "reverb": Reverb, "saturator": Saturator}
STEREO_MODELS = {"stereo_compressor": LinkedCompressor, "ms_eq": MidSideEQ}
LOOP_KEYS = {"delay_samples", "polarity", "gain_db", "noise_dbfs", "highpass_hz", "bypass", "gear", "seed",
             "channel", "channels"}
SUMMING_KEYS = {"sends", "returns", "pans", "trims_db", "crosstalk_db", "drive_db", "output_db", "noise_dbfs",
                "delay_samples", "seed"}


@dataclass
class DeviceEntry:
    """A simulated device on a loop: its profile, port and channel (started by the runner)."""

    loop: int
    profile: Any
    port: str | None
    channel: int | None
    unit: Any = None    # the SoundUnit whose processors sit in the loop


@dataclass
class GearConfig:
    name: str = "hybrid-gear"
    server: str | None = None
    loops: list[LoopSpec | StereoLoopSpec | SummingSpec] = field(default_factory=list)
    devices: list[DeviceEntry] = field(default_factory=list)


def load_config(path: str | Path) -> GearConfig:
    path = Path(path)
    data = read_toml(path)
    config = GearConfig(name=str(data.get("name", "hybrid-gear")), server=data.get("server"))
    loops = data.get("loops", [] if "summing" in data else None)
    if not isinstance(loops, list) or not (loops or "summing" in data):
        raise HybridError("loops: expected one or more [[loops]] tables", where=str(path))
    for number, table in enumerate(loops, start=1):
        where = f"{path}: loops[{number}]"
        if not isinstance(table, dict):
            raise HybridError("expected a table", where=where)
        unknown = set(table) - LOOP_KEYS
        if unknown:
            raise HybridError(f"unknown key {sorted(unknown)[0]!r}; expected {', '.join(sorted(LOOP_KEYS))}",
                              where=where)
        if "channels" in table:
            config.loops.append(_stereo_loop(table, where))
            continue
        processors: list[Processor] = []
        for index, gear in enumerate(_gear_tables(table, where), start=1):
            gear_where = f"{where}.gear[{index}]"
            if "profile" in gear:
                processors.extend(_device(config, number, gear, path, gear_where))
            else:
                processors.append(_processor(gear, gear_where))
        spec = _loop_spec(table, where, processors)
        if "channel" in table:
            spec.channel = _channels(table["channel"], 1, where, "channel")[0]
        config.loops.append(spec)
    if "summing" in data:
        config.loops.append(_summing(data["summing"], f"{path}: summing"))
    return config


def _gear_tables(table: dict, where: str) -> list[dict]:
    gear = table.get("gear", [])
    if not isinstance(gear, list) or not all(isinstance(g, dict) for g in gear):
        raise HybridError("gear: expected [[loops.gear]] tables", where=where)
    return gear


def _loop_spec(table: dict, where: str, processors: list[Processor], side: int | None = None) -> LoopSpec:
    """One (side of a) loop's wire; with ``side``, a key may hold a ``[left, right]`` pair."""

    def value(key: str, default: Any) -> Any:
        v = table.get(key, default)
        if side is not None and isinstance(v, list):
            if len(v) != 2:
                raise HybridError(f"{key}: expected one value or [left, right], got {len(v)} values", where=where)
            v = v[side]
        return v

    try:
        noise, highpass = value("noise_dbfs", None), value("highpass_hz", None)
        seed = value("seed", None)
        spec = LoopSpec(
            delay_samples=float(value("delay_samples", 0.0)),
            polarity=int(value("polarity", 1)),
            gain_db=float(value("gain_db", 0.0)),
            noise_dbfs=None if noise is None else float(noise),
            highpass_hz=None if highpass is None else float(highpass),
            processors=processors, bypass=bool(table.get("bypass", False)),
            seed=None if seed is None else int(seed) + (side or 0),
        )
    except (TypeError, ValueError) as exc:
        raise HybridError(f"bad value: {exc}", where=where) from exc
    if spec.polarity not in (1, -1):
        raise HybridError(f"polarity: expected 1 or -1, got {spec.polarity}", where=where)
    if not 0 <= spec.delay_samples <= spec.max_delay_samples:
        raise HybridError(f"delay_samples: expected 0..{spec.max_delay_samples}, got {spec.delay_samples}",
                          where=where)
    return spec


def _channels(value: Any, count: int | None, where: str, key: str) -> list[int]:
    values = value if isinstance(value, list) else [value]
    if (count is not None and len(values) != count) or not values or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
        want = f"{count} channel number(s)" if count else "channel numbers"
        raise HybridError(f"{key}: expected {want} from 1, got {value!r}", where=where)
    if len(set(values)) != len(values):
        raise HybridError(f"{key}: a channel is listed twice: {value!r}", where=where)
    return values


def _stereo_loop(table: dict, where: str) -> StereoLoopSpec:
    left_ch, right_ch = _channels(table["channels"], 2, where, "channels")
    units: list[StereoProcessor] = []
    for index, gear in enumerate(_gear_tables(table, where), start=1):
        gear_where = f"{where}.gear[{index}]"
        params = dict(gear)
        model = params.pop("model", None)
        if model not in STEREO_MODELS:
            raise HybridError(f"model: a stereo loop takes {' or '.join(STEREO_MODELS)}, got {model!r}",
                              where=gear_where)
        try:
            if model == "ms_eq":
                mid = [Band(**band).check() for band in params.pop("mid_bands", [])]
                side = [Band(**band).check() for band in params.pop("side_bands", [])]
                if params:
                    raise TypeError(f"unexpected key {sorted(params)[0]!r}")
                units.append(MidSideEQ(mid, side))
            else:
                units.append(STEREO_MODELS[model](**params))
        except (TypeError, ValueError) as exc:
            raise HybridError(f"{model}: {exc}", where=gear_where) from exc
    return StereoLoopSpec(left=_loop_spec(table, where, [], side=0), right=_loop_spec(table, where, [], side=1),
                          units=units, channels=(left_ch, right_ch), bypass=bool(table.get("bypass", False)))


def _summing(table: Any, where: str) -> SummingSpec:
    if not isinstance(table, dict):
        raise HybridError("expected a [summing] table", where=where)
    unknown = set(table) - SUMMING_KEYS
    if unknown:
        raise HybridError(f"unknown key {sorted(unknown)[0]!r}; expected {', '.join(sorted(SUMMING_KEYS))}",
                          where=where)
    if "sends" not in table or "returns" not in table:
        raise HybridError("expected sends = [...] (its inputs, in order) and returns = [L, R]", where=where)
    sends = _channels(table["sends"], None, where, "sends")
    returns = _channels(table["returns"], 2, where, "returns")
    try:
        mixer = SummingMixer(
            len(sends), pans=table.get("pans"), trims_db=table.get("trims_db"),
            crosstalk_db=table.get("crosstalk_db"), drive_db=table.get("drive_db"),
            output_db=float(table.get("output_db", 0.0)), noise_dbfs=table.get("noise_dbfs"),
            delay_samples=table.get("delay_samples", [0.0, 0.0]), seed=table.get("seed"))
    except (TypeError, ValueError) as exc:
        raise HybridError(f"bad value: {exc}", where=where) from exc
    return SummingSpec(mixer=mixer, sends=tuple(sends), returns=(returns[0], returns[1]))


def _processor(table: dict, where: str) -> Processor:
    params = dict(table)
    model = params.pop("model", None)
    if model not in PROCESSOR_MODELS:
        raise HybridError(f"model: expected one of {', '.join(PROCESSOR_MODELS)} (or a profile), got {model!r}",
                          where=where)
    try:
        if model == "eq":
            bands = [Band(**band) for band in params.pop("bands", [])]
            if params:
                raise TypeError(f"unexpected key {sorted(params)[0]!r}")
            return Equaliser(bands)
        return PROCESSOR_MODELS[model](**params)
    except (TypeError, ValueError) as exc:
        raise HybridError(f"{model}: {exc}", where=where) from exc


def _device(config: GearConfig, loop: int, table: dict, path: Path, where: str) -> list[Processor]:
    from devices.errors import DeviceError
    from devices.profile import resolve_profile

    from hybrid.models.sound import SoundUnit

    try:
        profile = resolve_profile(str(table["profile"]), base_dir=path.parent)
    except DeviceError as exc:
        raise HybridError(f"profile: {exc}", where=where) from exc
    channel = table.get("channel")
    entry = DeviceEntry(loop=loop, profile=profile, port=table.get("port"), channel=channel,
                        unit=SoundUnit(profile))
    config.devices.append(entry)
    return entry.unit.processors
