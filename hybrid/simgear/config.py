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

      [[loops.gear]]                # the gear on this loop, in signal order: a processor ...
      model = "compressor"          # compressor | eq | reverb | saturator
      threshold_db = -20.0
      ratio = 4.0

      [[loops.gear]]                # ... or a simulated device whose knobs drive its [sound]
      profile = "hy-comp-cc"        # a built-in profile id, or a .toml path relative to this file
      port = "hy-comp-cc"           # MIDI port name of its simulator (serial gear gets a pty)
      channel = 1

EQ processors take ``bands = [{ type = "peak", freq_hz = 1000, gain_db = 3, q = 1 }, ...]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybrid.errors import HybridError
from hybrid.tomlfile import read_toml
from hybrid.models.dsp import Band, Compressor, Equaliser, Processor, Reverb, Saturator
from hybrid.simgear.loop import LoopSpec

PROCESSOR_MODELS = {"compressor": Compressor, "eq": Equaliser, "reverb": Reverb, "saturator": Saturator}
LOOP_KEYS = {"delay_samples", "polarity", "gain_db", "noise_dbfs", "highpass_hz", "bypass", "gear", "seed"}


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
    loops: list[LoopSpec] = field(default_factory=list)
    devices: list[DeviceEntry] = field(default_factory=list)


def load_config(path: str | Path) -> GearConfig:
    path = Path(path)
    data = read_toml(path)
    config = GearConfig(name=str(data.get("name", "hybrid-gear")), server=data.get("server"))
    loops = data.get("loops")
    if not isinstance(loops, list) or not loops:
        raise HybridError("loops: expected one or more [[loops]] tables", where=str(path))
    for number, table in enumerate(loops, start=1):
        where = f"{path}: loops[{number}]"
        if not isinstance(table, dict):
            raise HybridError("expected a table", where=where)
        unknown = set(table) - LOOP_KEYS
        if unknown:
            raise HybridError(f"unknown key {sorted(unknown)[0]!r}; expected {', '.join(sorted(LOOP_KEYS))}",
                              where=where)
        processors: list[Processor] = []
        for index, gear in enumerate(table.get("gear", []), start=1):
            gear_where = f"{where}.gear[{index}]"
            if not isinstance(gear, dict):
                raise HybridError("expected a table", where=gear_where)
            if "profile" in gear:
                processors.extend(_device(config, number, gear, path, gear_where))
            else:
                processors.append(_processor(gear, gear_where))
        try:
            spec = LoopSpec(
                delay_samples=float(table.get("delay_samples", 0.0)),
                polarity=int(table.get("polarity", 1)),
                gain_db=float(table.get("gain_db", 0.0)),
                noise_dbfs=None if table.get("noise_dbfs") is None else float(table["noise_dbfs"]),
                highpass_hz=None if table.get("highpass_hz") is None else float(table["highpass_hz"]),
                processors=processors, bypass=bool(table.get("bypass", False)),
                seed=table.get("seed"),
            )
        except (TypeError, ValueError) as exc:
            raise HybridError(f"bad value: {exc}", where=where) from exc
        if spec.polarity not in (1, -1):
            raise HybridError(f"polarity: expected 1 or -1, got {spec.polarity}", where=where)
        if not 0 <= spec.delay_samples <= spec.max_delay_samples:
            raise HybridError(f"delay_samples: expected 0..{spec.max_delay_samples}, got {spec.delay_samples}",
                              where=where)
        config.loops.append(spec)
    return config


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
