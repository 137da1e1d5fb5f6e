"""MIDI: ports by name through a mido backend; CC, NRPN, program and SysEx encodings; dumps.

The port is a MIDI port name (or a part of it: :func:`devices.midi_port.find_port`).
Sends are paced at the wire's rate with the gaps the gear asks for (``[midi]``);
read-back asks for the unit's dump; learning hears its panel moves. The simulator opens
virtual ports named after the unit's port.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from typing import Any

import mido

from devices.errors import DeviceError
from devices.midi_codec import MidiDecoder
from devices.midi_port import MidiPort, close_ports, find_port, list_ports, midi_backend, retry_busy
from devices.parameter import Parameter
from devices.profile import MidiSettings, Profile, _load_midi, check_midi_profile, load_midi_encoding
from devices.transports.base import DeviceContext, Identity, Link, Listener, SimSide, Transport
from devices.wire import WireClock


def _wire_value(param: Parameter, value: Any) -> int:
    enc = param.encoding
    return param.to_wire(value, enc.wire_max, list(enc.wire) if enc.wire else None)


def _from_wire(param: Parameter, wire: int) -> Any:
    enc = param.encoding
    return param.from_wire(wire, enc.wire_max, list(enc.wire) if enc.wire else None)


class MidiTransport(Transport):
    name = "midi"
    protocol = "midi"
    encoding_key = "midi"
    carries_sysex = True
    identifies_alongside = False

    def load_settings(self, reader: Any, _base: Any) -> MidiSettings:
        return _load_midi(reader)

    def load_encoding(self, reader: Any, param: Parameter, settings: MidiSettings) -> Any:
        return load_midi_encoding(reader, param, settings)

    def check_profile(self, reader: Any, parameters: dict[str, Parameter], settings: MidiSettings) -> None:
        check_midi_profile(reader, parameters, settings)

    def readback_possible(self, parameters: dict[str, Parameter], settings: MidiSettings, _router: Any) -> bool:
        return settings.dump_request is not None and bool(parameters) and \
            all(p.dump is not None for p in parameters.values())

    def listens(self, _profile: Profile) -> bool:
        return True

    def plan(self, device: DeviceContext, _name: str, param: Parameter, value: Any) -> list[Any]:
        return list(param.encoding.encode(_wire_value(param, value), device.channel, device_id=device.device_id))

    def quantize(self, param: Parameter, value: Any) -> Any:
        enc = param.encoding
        return param.quantize(value, enc.wire_max, list(enc.wire) if enc.wire else None)

    def wire_time_s(self, profile: Profile, messages: list[Any]) -> float:
        midi: MidiSettings = profile.settings[self.name]
        rate = midi.rate_bytes_per_s
        total = sum(len(m.bytes()) for m in messages) / rate if rate > 0 else 0.0
        gaps = [max(midi.min_gap_ms, midi.gap_after_sysex_ms if m.type == "sysex" else 0.0) / 1000
                for m in messages]
        return total + sum(gaps[:-1])

    def link(self, device: DeviceContext, port: str) -> Link:
        return MidiLink(device, port)

    def simulate(self, sim: Any) -> SimSide:
        return MidiSim(sim)

    def scan_ports(self) -> list[str]:
        return list_ports(quiet=True)["outputs"]

    def identify(self, port: str, profiles: list[Profile], timeout_s: float) -> Identity | None:
        """Send a MIDI device inquiry (``F0 7E 7F 06 01 F7``) and read the identity reply
        (``F0 7E <dev> 06 02 <maker> <family> <member> <version> F7``)."""
        backend = midi_backend()
        names = list_ports(backend, quiet=True)
        try:
            out_name = find_port(port, names["outputs"])
            in_name = find_port(port, names["inputs"], direction="input")
        except DeviceError:
            return None
        if out_name is None or in_name is None:
            return None
        replies: queue.Queue[mido.Message] = queue.Queue()
        inport = outport = None
        try:
            inport = retry_busy(lambda: backend.open_input(in_name, callback=replies.put))
            outport = retry_busy(lambda: backend.open_output(out_name))
            outport.send(mido.Message("sysex", data=list(INQUIRY[1:-1])))
            deadline = time.monotonic() + timeout_s
            while (left := deadline - time.monotonic()) > 0:
                try:
                    msg = replies.get(timeout=left)
                except queue.Empty:
                    break
                data = list(msg.data) if msg.type == "sysex" else []
                if len(data) >= 4 and data[0] == 0x7E and data[2:4] == [0x06, 0x02]:
                    maker = tuple(data[4:7]) if data[4] == 0 else (data[4],)
                    rest = data[4 + len(maker):]
                    fits = [p.id for p in profiles if maker in manufacturer_ids(p)]
                    return Identity(port, self.name, msg.hex(), fits, {
                        "manufacturer": " ".join(f"{b:02X}" for b in maker),
                        "family": " ".join(f"{b:02X}" for b in rest[0:2]),
                        "member": " ".join(f"{b:02X}" for b in rest[2:4]),
                        "version": " ".join(f"{b:02X}" for b in rest[4:8])})
            return None
        except (OSError, RuntimeError, SystemError):
            return None
        finally:
            close_ports(inport, outport)

    def presence(self, port: str, cache: dict[str, Any]) -> tuple[bool, str]:
        if "midi_outputs" not in cache:
            try:
                cache["midi_outputs"] = list_ports()["outputs"]
            except DeviceError as exc:
                cache["midi_outputs"], cache["midi_problem"] = [], str(exc)
        try:
            found = find_port(port, cache["midi_outputs"])
        except DeviceError as exc:
            return False, exc.reason
        if found is None:
            return False, cache.get("midi_problem") or f"no MIDI port matching {port!r}"
        return True, found


class MidiLink(Link):
    """A MIDI output (and, once asked, the unit's answering input), paced and monitored."""

    def __init__(self, device: DeviceContext, port: str):
        super().__init__(device, port)
        self.settings: MidiSettings = device.profile.settings["midi"]
        self._port: MidiPort | None = None

    def open(self) -> None:
        m = self.settings
        clock = None
        if self.device.rate_limit and (m.rate_bytes_per_s > 0 or m.min_gap_ms or m.gap_after_sysex_ms):
            clock = WireClock(m.rate_bytes_per_s, min_gap_s=m.min_gap_ms / 1000,
                              gap_after_sysex_s=m.gap_after_sysex_ms / 1000)
        self._port = MidiPort(self.port, device=self.device.name, backend=self.device.backend, clock=clock,
                              monitor=self.device.monitor, want_input=False).open()

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
        self._port = None

    @property
    def midi(self) -> MidiPort:
        if self._port is None:
            raise self.error("is not open", "sending")
        return self._port

    def send(self, message: Any, *, note: str = "") -> None:
        self.midi.send(message, note=note)

    def drain(self) -> None:
        self.midi.drain()

    @property
    def books_ahead(self) -> bool:
        return self._port is not None and self._port.books_ahead

    def open_input(self) -> None:
        self.midi.open_input("opening for read-back")

    def query(self, message: Any, *, action: str, fits: Callable[[mido.Message], bool] | None = None,
              timeout_s: float | None = None) -> mido.Message:
        port = self.midi
        port.open_input(action)      # listening before asking, so the answer is not missed
        port.flush_input()
        port.send(message, note=action)
        wait = self.settings.reply_timeout_ms / 1000 if timeout_s is None else timeout_s
        return port.receive(fits or (lambda _msg: True), wait, action=action)

    def receive(self, fits: Callable[[Any], bool], timeout_s: float, *, action: str, send_first: Any = None,
                flush: bool = True) -> mido.Message:
        port = self.midi
        port.open_input(action)
        if flush:
            port.flush_input()
        if send_first is not None:
            port.send(send_first, note=action)
            port.drain()
        return port.receive(fits, timeout_s, action=action)

    def read(self, names: list[str]) -> dict[str, Any]:
        midi = self.settings
        device = self.device
        action = "reading back (dump request)"
        if midi.dump_request is None or midi.dump_reply is None:
            raise self.error("its profile has no dump request", action)
        request = midi.dump_request.build(dev=device.device_id, channel=device.channel)
        reply_t = midi.dump_reply
        checked: dict[str, Any] = {}

        def fits(msg: mido.Message) -> bool:
            if msg.type != "sysex":
                return False
            found = reply_t.match([0xF0, *msg.data, 0xF7], dev=device.device_id)
            if found is not None:
                checked.update(found)
                return True
            return False

        msg = self.query(mido.Message("sysex", data=request[1:-1]), action=action, fits=fits)
        if not checked["checksum_ok"]:
            raise self.error(f"garbled dump (checksum mismatch): {msg.hex()}", action, code="garbled_reply")
        return values_from_dump_data(device.profile, checked["data"], names)

    def listen(self, callback: Listener) -> Callable[[], None]:
        decoder = decoder_for(self.device)
        profile = self.device.profile

        def on_message(msg: mido.Message) -> None:
            for name, wire in decoder.feed(msg):
                callback(name, _from_wire(profile.parameters[name], wire))
        return self.midi.add_listener(on_message)


def values_from_dump_data(profile: Profile, data: list[int], names: list[str] | None = None) -> dict[str, Any]:
    """Parameter values (engineer's units) held in a dump's data block, by each parameter's
    ``dump = { offset, size }``; ``names`` None: every parameter the profile maps."""
    out: dict[str, Any] = {}
    for name in (names if names is not None else list(profile.parameters)):
        param = profile.parameters[name]
        if param.dump is None:
            continue
        offset, size = param.dump["offset"], param.dump["size"]
        chunk = data[offset: offset + size]
        if len(chunk) < size:
            continue
        out[name] = _from_wire(param, chunk[0] if size == 1 else (chunk[0] << 7) | chunk[1])
    return out


def values_in_dump_message(profile: Profile, message: bytes | list[int], device_id: int | None = None) -> dict[str, Any] | None:
    """The parameter values a dump message carries when it fits the profile's ``[midi.dump]``
    reply (the bytes the profile maps); None when it does not fit or its checksum is wrong."""
    midi: MidiSettings | None = profile.settings.get("midi")
    if midi is None or midi.dump_reply is None:
        return None
    found = midi.dump_reply.match(list(message), dev=device_id)
    if found is None or not found["checksum_ok"]:
        return None
    return values_from_dump_data(profile, found["data"])


INQUIRY = bytes([0xF0, 0x7E, 0x7F, 0x06, 0x01, 0xF7])
"""The MIDI universal device inquiry (MIDI 1.0 Detailed Specification, General Information)."""


def manufacturer_ids(profile: Profile) -> set[tuple[int, ...]]:
    """The SysEx manufacturer ids a profile's messages carry (``(0x43,)``, ``(0x00, 0x20, 0x3C)``)."""
    templates: list[Any] = []
    midi: MidiSettings | None = profile.settings.get("midi")
    if midi is not None:
        templates += [midi.dump_request, midi.dump_reply]
    templates += [getattr(p.encoding, "template", None) for p in profile.parameters.values()]
    dump = getattr(profile, "dump", None)
    heads: list[tuple[Any, ...]] = [tuple(t.tokens) for t in templates if t is not None]
    if dump is not None:
        heads.append(tuple(dump.head))
    found: set[tuple[int, ...]] = set()
    for tokens in heads:
        if len(tokens) > 1 and tokens[0] == 0xF0 and isinstance(tokens[1], int) and tokens[1] != 0x7E:
            maker = tokens[1:4] if tokens[1] == 0 else tokens[1:2]
            if all(isinstance(b, int) for b in maker):
                found.add(tuple(maker))
    return found


def identity_reply(profile: Profile, device_id: int) -> mido.Message | None:
    """A simulated unit's answer to a device inquiry: its manufacturer id, family and member 0."""
    makers = sorted(manufacturer_ids(profile))
    if not makers:
        return None
    data = [0x7E, device_id & 0x7F, 0x06, 0x02, *makers[0], 0, 0, 0, 0, 0, 0, 0, 1]
    return mido.Message("sysex", data=data)


def decoder_for(device: DeviceContext) -> MidiDecoder:
    encodings = {n: p.encoding for n, p in device.profile.parameters.items()}
    return MidiDecoder(encodings, channel=device.channel, device_id=device.device_id)


class MidiSim(SimSide):
    """Virtual MIDI ports: decode what comes in, answer dump requests, transmit panel moves."""

    def __init__(self, sim: Any):
        self.sim = sim
        self.backend = sim.backend or midi_backend()
        self.decoder = decoder_for(sim)
        self._in: Any = None
        self._out: Any = None
        self.port = self.in_name = self.out_name = sim.port

    def start(self) -> None:
        port = self.sim.port
        try:
            self._out = retry_busy(lambda: self.backend.open_output(port, client_name=port))
            self._in = retry_busy(lambda: self.backend.open_input(port, client_name=port, callback=self._received))
        except (OSError, RuntimeError, SystemError) as exc:
            self.stop()
            raise DeviceError(f"cannot open virtual MIDI port {port!r}: {exc}",
                              device=f"simulated {self.sim.profile.id}", action="starting") from None
        try:
            names = list_ports(self.backend)
        except DeviceError:
            names = {"outputs": [], "inputs": []}
        # What others see (JACK renames a second client "NAME-01"): for describe().
        self.in_name = _seen_as(port, names["outputs"])
        self.out_name = _seen_as(port, names["inputs"])

    def stop(self) -> None:
        close_ports(self._in, self._out)
        self._in = self._out = None

    def describe(self) -> str:
        return f"MIDI ports {self.in_name!r} (in) and {self.out_name!r} (out), channel {self.sim.channel}"

    def send(self, msg: mido.Message) -> None:
        if self._out is not None:
            self._out.send(msg)

    def transmit(self, param: str, value: Any) -> None:
        sim = self.sim
        if sim.profile.settings["midi"].transmits:
            parameter = sim.profile.parameters[param]
            for msg in parameter.encoding.encode(_wire_value(parameter, value), sim.channel,
                                                 device_id=sim.device_id):
                self.send(msg)

    def _received(self, msg: mido.Message) -> None:
        sim = self.sim
        sim.received.append(bytes(msg.bytes()))
        if msg.type == "sysex" and bytes(msg.bytes()) == INQUIRY:
            reply = identity_reply(sim.profile, sim.device_id)
            if reply is not None:
                self.send(reply)
            return
        if sim.decoder is not None:
            if not sim.decoder(sim, msg):
                sim.rejected.append(f"not in the document: {msg.hex()}")
            return
        midi: MidiSettings = sim.profile.settings["midi"]
        if msg.type == "sysex" and midi.dump_request is not None:
            found = midi.dump_request.match([0xF0, *msg.data, 0xF7], dev=sim.device_id)
            if found is not None:
                if not found["checksum_ok"]:
                    sim.rejected.append(f"dump request with a bad checksum: {msg.hex()}")
                    return
                sim.dump_requests += 1
                self.send(self._dump())
                return
        if msg.type == "sysex" and midi.dump_reply is not None:
            # its own dump sent back (a Roland-style DT1 of the whole block) sets the unit
            held = values_in_dump_message(sim.profile, bytes(msg.bytes()), sim.device_id)
            if held is not None:
                for name, value in held.items():
                    sim._update(name, value)
                return
        before = self.decoder.bad_checksums
        updates = self.decoder.feed(msg)
        if self.decoder.bad_checksums != before:
            sim.rejected.append(f"bad checksum: {msg.hex()}")
            return
        if not updates and msg.type == "sysex":
            sim.rejected.append(f"unknown SysEx: {msg.hex()}")
        for name, wire in updates:
            param = sim.profile.parameters[name]
            enc = param.encoding
            if enc.wire is None and wire > enc.wire_max:
                sim.rejected.append(f"{name}: wire value {wire} above {enc.wire_max}")
                continue
            if enc.wire is not None and wire not in enc.wire:
                sim.rejected.append(f"{name}: no detent at wire value {wire}")
                continue
            sim._update(name, _from_wire(param, wire))

    def _dump(self) -> mido.Message:
        sim = self.sim
        template = sim.profile.settings["midi"].dump_reply
        data = [0] * template.data_size
        with sim._lock:
            state = dict(sim.state)
        for name, param in sim.profile.parameters.items():
            if param.dump is None:
                continue
            wire = _wire_value(param, state[name])
            offset = param.dump["offset"]
            if param.dump["size"] == 1:
                data[offset] = wire & 0x7F
            else:
                data[offset], data[offset + 1] = (wire >> 7) & 0x7F, wire & 0x7F
        full = template.build(dev=sim.device_id, channel=sim.channel, data=data)
        return mido.Message("sysex", data=full[1:-1])


def _seen_as(port: str, names: list[str]) -> str:
    try:
        return find_port(port, names) or port
    except DeviceError:
        return port


TRANSPORT = MidiTransport()
