"""``hybrid devices``: profiles and ports (list, show), simulated gear (simulate), set and get.

A device is named, for now, by ``--profile ID --port PORT [--channel N]``. Every
command that talks to a device gets it from ``resolve_device`` only, so a studio form
(``--studio DIR DEVICE``, resolved through recall's studio loader) slots in there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

from devices.device import Device
from devices.errors import DeviceError, ProfileError
from devices.midi_port import list_ports
from devices.monitor import TrafficMonitor
from devices.profile import Profile, builtin_profiles, load_profiles_dir, resolve_profile
from devices.scan import scan
from devices.serial_port import list_serial_ports
from devices.simulator import Simulator
from devices.unit_sims import DECODERS
from hybrid.cli.output import add_json_flag, emit
from hybrid.cli.stopping import stop_signals, wait_until
from recall.values import same


def register(sub) -> None:
    """Add ``devices`` and its actions to ``sub`` (an argparse subparsers action)."""
    parser = sub.add_parser("devices", help="device profiles, ports, simulated gear; set and read gear",
                            description="Device profiles and ports, simulated gear, and setting/reading a unit.")
    parser.set_defaults(func=lambda _args: _help(parser))
    actions = parser.add_subparsers(dest="devices_action", metavar="ACTION")

    p = actions.add_parser("list", help="profiles (built-in and from --profiles DIR) and the MIDI/serial ports present")
    p.add_argument("--profiles", metavar="DIR", help="also list the profiles in this folder")
    add_json_flag(p)
    p.set_defaults(func=cmd_list)

    p = actions.add_parser("scan", help="what answers on which port (MIDI device inquiry, TCP banner, "
                                        "OSC query) and the profiles that fit")
    p.add_argument("--port", dest="ports", action="append", metavar="PORT",
                   help="a port or URL to try (repeatable; default: every MIDI port present)")
    p.add_argument("--timeout-ms", type=float, default=500.0, metavar="MS", help="wait per port (default 500)")
    p.add_argument("--profiles", metavar="DIR", help="also match the profiles in this folder")
    add_json_flag(p)
    p.set_defaults(func=cmd_scan)

    p = actions.add_parser("show", help="one profile's parameters, ranges and encodings")
    p.add_argument("profile", metavar="PROFILE", help="built-in id or path to a profile .toml")
    p.add_argument("--profiles", metavar="DIR", help="a folder of profiles to look in")
    add_json_flag(p)
    p.set_defaults(func=cmd_show)

    p = actions.add_parser("simulate", help="run a simulated unit until Ctrl-C, printing where it listens")
    p.add_argument("profile", metavar="PROFILE", help="built-in id or path to a profile .toml")
    p.add_argument("--port", metavar="NAME", help="MIDI port name to open (default: the profile id); "
                                                   "serial units get a pseudo-terminal, network units a free "
                                                   "port on 127.0.0.1 (osc.tcp://127.0.0.1:0 for OSC over TCP, "
                                                   "tcp://127.0.0.1:0 for a serial protocol over TCP)")
    p.add_argument("--channel", type=int, metavar="N", help="MIDI channel 1..16 (default: the profile's)")
    p.add_argument("--profiles", metavar="DIR", help="a folder of profiles to look in")
    p.add_argument("--set", dest="initial", action="append", default=[], metavar="PARAM=VALUE",
                   help="start with this value on the panel (repeatable)")
    p.add_argument("--for", dest="duration_s", type=float, metavar="SECONDS",
                   help="stop after this long instead of waiting for Ctrl-C")
    p.add_argument("--profile-codec", action="store_true",
                   help="read what arrives with the profile's own codec, even where a simulator written "
                        "from the maker's document exists (devices.unit_sims)")
    add_json_flag(p)
    p.set_defaults(func=cmd_simulate)

    p = actions.add_parser("set", help="set parameters of a unit: PARAM VALUE [PARAM VALUE ...]",
                           epilog="Negative values: write threshold=-12dB, or put -- before the pairs.")
    _add_target(p)
    p.add_argument("words", nargs="+", metavar="PARAM VALUE",
                   help="parameter and value pairs (threshold 4:1) or PARAM=VALUE words (threshold=-12dB)")
    p.add_argument("--no-verify", action="store_true", help="do not read back after setting")
    add_json_flag(p)
    p.set_defaults(func=cmd_set)

    p = actions.add_parser("get", help="read parameters back from a unit (all when none are named); "
                                       "a router reports its ties")
    _add_target(p)
    p.add_argument("words", nargs="*", metavar="PARAM", help="parameters to read (default: all)")
    add_json_flag(p)
    p.set_defaults(func=cmd_get)


def _help(parser) -> int:
    parser.print_help()
    return 2


def _add_target(p) -> None:
    group = p.add_argument_group("the device")
    group.add_argument("--profile", metavar="ID", required=True, help="built-in profile id or path to a .toml")
    group.add_argument("--port", metavar="PORT", required=True,
                       help="MIDI port name (or a part of it), serial device path, or a URL: tcp://HOST:PORT, "
                            "osc.udp://HOST:PORT, osc.tcp://HOST:PORT, pyserial's socket:// and spy://")
    group.add_argument("--channel", type=int, metavar="N", help="MIDI channel 1..16 (default: the profile's)")
    group.add_argument("--name", metavar="NAME", help="what to call the unit in messages")
    group.add_argument("--profiles", metavar="DIR", help="a folder of profiles to look in")


# ---- resolving profiles and devices ------------------------------------------------------
def _profile(name: str, folder: str | None) -> Profile:
    if folder:
        found = load_profiles_dir(folder)
        if name in found:
            return found[name]
    return resolve_profile(name)


def resolve_device(args: argparse.Namespace, *, monitor: TrafficMonitor | None = None) -> tuple[Device, list[str]]:
    """The device a command names, and the words left for the command.

    Today: ``--profile ID --port PORT [--channel N]``. A studio form (``--studio DIR
    DEVICE``) resolves here too: take DEVICE from ``args.words``, load the studio, and
    build the Device from its entry.
    """
    _quiet_jack()
    profile = _profile(args.profile, getattr(args, "profiles", None))
    if args.channel is not None and not 1 <= args.channel <= 16:
        raise DeviceError(f"--channel must be 1..16, got {args.channel}", device=args.name or profile.id,
                          action="choosing the device")
    device = Device(profile, args.port, name=args.name or profile.id, channel=args.channel, monitor=monitor)
    return device, list(args.words)


def _quiet_jack() -> None:
    # Never let a MIDI listing start a JACK server behind the user's back.
    os.environ.setdefault("JACK_NO_START_SERVER", "1")


# ---- list / show -----------------------------------------------------------------------------
def cmd_list(args) -> int:
    _quiet_jack()
    profiles = dict(builtin_profiles())
    origin = {pid: "built-in" for pid in profiles}
    if args.profiles:
        for pid, profile in load_profiles_dir(args.profiles).items():
            profiles[pid] = profile
            origin[pid] = str(args.profiles)
    ports: dict[str, Any] = {"midi_outputs": [], "midi_inputs": [], "serial": [], "problems": []}
    try:
        midi = list_ports(quiet=True)
        ports["midi_outputs"], ports["midi_inputs"] = midi["outputs"], midi["inputs"]
    except DeviceError as exc:
        ports["problems"].append(f"MIDI: {exc.reason}")
    try:
        ports["serial"] = list_serial_ports()
    except (OSError, ImportError) as exc:
        ports["problems"].append(f"serial: {exc}")
    result = {
        "profiles": [{"id": p.id, "kind": p.kind, "transport": p.transport, "readback": p.readback,
                      "recallable": p.recallable,
                      "maker": p.maker, "model": p.model, "from": origin[p.id], "source": str(p.source),
                      "parameters": len(p.parameters), "sound": p.sound["model"] if p.sound else None}
                     for p in sorted(profiles.values(), key=lambda p: p.id)],
        "ports": ports,
    }
    emit(result, args.json, _list_text)
    return 0


def _list_text(result: dict) -> str:
    lines = ["Profiles:"]
    width = max(len(p["id"]) for p in result["profiles"])
    for p in result["profiles"]:
        flags = "read-back" if p["readback"] else ("write-only" if p["recallable"] else "hand-set")
        lines.append(f"  {p['id']:<{width}}  {p['kind']:<10} {p['transport']:<7} {flags:<10} {p['model']}"
                     + ("" if p["from"] == "built-in" else f"  [{p['from']}]"))
    ports = result["ports"]
    lines.append("MIDI outputs (gear you can send to):")
    lines += [f"  {n}" for n in ports["midi_outputs"]] or ["  (none)"]
    lines.append("MIDI inputs (gear you can hear from):")
    lines += [f"  {n}" for n in ports["midi_inputs"]] or ["  (none)"]
    lines.append("Serial ports:")
    lines += [f"  {n}" for n in ports["serial"]] or ["  (none)"]
    lines += [f"Note: {p}" for p in ports["problems"]]
    return "\n".join(lines)


def cmd_scan(args) -> int:
    _quiet_jack()
    if not 1 <= args.timeout_ms <= 60000:
        raise DeviceError(f"--timeout-ms must be 1..60000, got {args.timeout_ms:g}", action="scanning")
    profiles = dict(builtin_profiles())
    if args.profiles:
        profiles.update(load_profiles_dir(args.profiles))
    result = scan(list(profiles.values()), args.ports, timeout_s=args.timeout_ms / 1000).to_dict()
    emit(result, args.json, _scan_text)
    return 0


def _scan_text(r: dict) -> str:
    lines = []
    for f in r["found"]:
        fits = ", ".join(f["profiles"]) or "no profile fits"
        answer = " ".join(f["answer"].split())[:60]
        lines.append(f"{f['port']} ({f['transport']}): {answer}  ->  {fits}")
    lines += [f"{port}: no answer" for port in r["silent"]]
    lines += [f"Note: {p}" for p in r["problems"]]
    return "\n".join(lines or ["Nothing to scan (no MIDI ports; give network units with --port URL)."])


def cmd_show(args) -> int:
    profile = _profile(args.profile, args.profiles)
    result = profile.to_dict()
    for entry in result["parameters"]:
        param = profile.parameters[entry["name"]]
        entry["default_text"] = param.format(param.default)
        entry["encoding"] = param.encoding.describe() if hasattr(param.encoding, "describe") else \
            getattr(getattr(param.encoding, "set", None), "text", None)
    emit(result, args.json, _show_text)
    return 0


def _show_text(r: dict) -> str:
    lines = [f"{r['id']}: {r['maker']} {r['model']} ({r['kind']}, {r['transport']}"
             + (", read-back" if r["readback"] else "") + ")"]
    if r["description"]:
        lines.append(f"  {r['description']}")
    for p in r["parameters"]:
        if p["kind"] == "continuous":
            span = f"{p['minimum']:g} .. {p['maximum']:g} {p['unit']}".rstrip() + (" log" if p["taper"] == "log" else "")
        else:
            span = " | ".join(p["labels"])
        lines.append(f"  {p['name']:<14} {p['label']:<16} {span:<40} default {p['default_text']:<10} "
                     f"{p['encoding'] or ''}")
    if r["router"]:
        lines.append(f"  router: {r['router']['inputs']} inputs x {r['router']['outputs']} outputs")
    if r["sound"]:
        lines.append(f"  sound model: {r['sound']['model']}")
    return "\n".join(lines)


# ---- simulate ------------------------------------------------------------------------------
def cmd_simulate(args) -> int:
    _quiet_jack()
    profile = _profile(args.profile, args.profiles)
    initial = {}
    for item in args.initial:
        name, sep, value = item.partition("=")
        if not sep:
            raise ProfileError(f"expected PARAM=VALUE, got {item!r}", file=profile.id, key="--set")
        initial[name.strip()] = value.strip()
    # A shipped unit is simulated as its maker's document says it reads the wire, so what a
    # profile sends lands as the real unit would take it (a profile that agrees only with
    # itself is caught here); other profiles are read with their own codec.
    decoder = None if args.profile_codec else DECODERS.get(profile.id)
    sim = Simulator(profile, args.port, channel=args.channel, state=initial, decoder=decoder)
    def on_change(param: str, value: Any) -> None:
        if param.startswith("tie."):
            text = f"output {param[4:]} <- input {value}" if value else f"output {param[4:]} untied"
        else:
            text = f"{param} = {profile.parameters[param].format(value)}"
        if args.json:
            _json_line({"event": "change", "param": param, "value": value})
        else:
            print(f"  {text}", flush=True)

    sim.on_change(on_change)
    with stop_signals() as stop, sim:
        reads = "the maker's document" if decoder is not None else "the profile's codec"
        where = {"event": "listening", "profile": profile.id, "transport": profile.transport,
                 "port": sim.port, "channel": sim.channel if profile.midi is not None else None,
                 "where": sim.describe(), "reads_by": "document" if decoder is not None else "profile"}
        if args.json:
            _json_line(where)
        else:
            print(f"Simulating {profile.id} ({profile.maker} {profile.model}) on {sim.describe()}, "
                  f"reading the wire by {reads}.", flush=True)
            if profile.recallable:
                verb = "get" if profile.readback or profile.router is not None else "set"
                print(f"  Talk to it with: hybrid devices {verb} --profile {profile.id} --port {sim.port}"
                      + (" PARAM VALUE" if verb == "set" else ""), flush=True)
            print("  Ctrl-C stops it.", flush=True)
        sys.stdout.flush()
        wait_until(stop, args.duration_s)
    if not args.json:
        print("Stopped.", flush=True)
    return 0


def _json_line(obj: dict) -> None:
    """A long-running command streams one compact JSON object per line (JSON Lines)."""
    print(json.dumps(obj), flush=True)


# ---- set / get -----------------------------------------------------------------------------
def cmd_set(args) -> int:
    monitor = TrafficMonitor()
    device, words = resolve_device(args, monitor=monitor)
    values = _pairs(words, device.name)
    checked = device.check(values)            # refused before any port is opened
    with device:
        messages = device.plan(checked)
        start = time.monotonic()
        device.apply(checked)
        elapsed = time.monotonic() - start
        verified = None
        if device.readback and not args.no_verify:
            got = device.read(list(checked))
            want = device.quantize(checked)
            verified = {name: {"want": want[name], "got": got[name],
                               "ok": same(device.profile.parameters[name], want[name], got[name])}
                        for name in checked}
    params = device.profile.parameters
    result = {
        "device": device.name, "profile": device.profile.id, "port": device.port,
        "values": {n: v for n, v in checked.items()},
        "formatted": {n: params[n].format(v) for n, v in checked.items()},
        "messages": len(messages), "bytes": sum(len(m.bytes()) for m in messages),
        "wire_time_s": round(device.wire_time_s(messages), 6), "elapsed_s": round(elapsed, 6),
        "traffic": [e.to_dict() for e in monitor.entries()],
        "verified": verified,
    }
    emit(result, args.json, _set_text)
    if verified is not None and not all(v["ok"] for v in verified.values()):
        bad = [n for n, v in verified.items() if not v["ok"]]
        raise DeviceError(f"read-back differs for {', '.join(bad)}", device=device.name, action="verifying")
    return 0


def _pairs(words: list[str], where: str) -> dict[str, str]:
    """``PARAM VALUE`` pairs and ``PARAM=VALUE`` words, in order."""
    values: dict[str, str] = {}
    pending: str | None = None
    for word in words:
        if pending is not None:
            values[pending], pending = word, None
        elif "=" in word:
            name, _, value = word.partition("=")
            values[name.strip()] = value.strip()
        else:
            pending = word
    if pending is not None or not values:
        raise ProfileError(f"expected PARAM VALUE pairs or PARAM=VALUE, got: {' '.join(words)}",
                           file=where, key="set")
    return values


def _set_text(r: dict) -> str:
    lines = [f"{r['device']}: {name} = {text}" for name, text in r["formatted"].items()]
    lines.append(f"  {r['messages']} messages, {r['bytes']} bytes, {r['elapsed_s'] * 1000:.1f} ms "
                 f"(wire {r['wire_time_s'] * 1000:.1f} ms)"
                 + ("" if r["verified"] is None else ", read back and verified"))
    return "\n".join(lines)


def cmd_get(args) -> int:
    device, words = resolve_device(args)
    profile = device.profile
    if not profile.readback and not (profile.router is not None and not words):
        raise DeviceError(f"cannot be read back (profile {profile.id} has no dump or queries); "
                          "its values live on the recall sheet", device=device.name, action="reading back")
    for word in words:                            # names checked before any port is opened
        profile.parameter(word)
    with device:
        if profile.router is not None and not words:
            ties = device.ties()
            result = {"device": device.name, "profile": profile.id, "port": device.port,
                      "ties": {str(k): v for k, v in sorted(ties.items())}}
            emit(result, args.json, lambda r: "\n".join(
                [f"{r['device']}: output {o} <- input {i}" for o, i in r["ties"].items()]
                or [f"{r['device']}: no ties"]))
            return 0
        values = device.read(words or None)
    result = {"device": device.name, "profile": profile.id, "port": device.port, "values": values,
              "formatted": {n: profile.parameters[n].format(v) for n, v in values.items()}}
    emit(result, args.json, lambda r: "\n".join(f"{r['device']}: {n} = {t}" for n, t in r["formatted"].items()))
    return 0
