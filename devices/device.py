"""One piece of gear on one port: plan, send (paced), read back, route, learn.

``Device`` is what recall, routing and surfaces use. It never knows a song: it is given
values in the engineer's units, checks every one before a byte goes out, turns them into
messages with the profile's codecs, and sends them at the pace of the wire.

    with Device(resolve_profile("hy-comp-cc"), "hy-comp-cc", name="1176 #2") as comp:
        comp.apply({"threshold": "-12 dB", "ratio": "4:1"})
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable

import mido

from devices.errors import DeviceError, ProfileError
from devices.midi_codec import MidiDecoder
from devices.midi_port import MidiPort
from devices.monitor import TrafficMonitor
from devices.profile import Profile
from devices.serial_port import SerialPort
from devices.text_codec import SerialEncoding, TextTemplate
from devices.wire import WireClock

Message = Any
"""A planned message: a ``mido.Message`` for MIDI gear, a ``SerialCommand`` for serial gear.
Both have ``bytes()``."""


@dataclass(frozen=True)
class SerialCommand:
    """One text command line and what its answer should look like."""

    text: str
    terminator: str
    param: str | None = None
    reply: TextTemplate | None = None
    """Template of a value reply (queries, router ties); None = an acknowledge is expected."""
    action: str = ""

    def bytes(self) -> bytes:
        return (self.text + self.terminator).encode("latin-1")


@dataclass
class _Planned:
    message: Message
    param: str | None = None
    action: str = ""
    extra: dict = field(default_factory=dict)


class Device:
    """A device of ``profile`` reached at ``port`` (MIDI port name, serial path or pyserial URL)."""

    def __init__(self, profile: Profile, port: str | None = None, *, name: str | None = None,
                 channel: int | None = None, monitor: TrafficMonitor | None = None,
                 backend: mido.Backend | None = None, rate_limit: bool = True, device_id: int | None = None):
        self.profile = profile
        self.port = port
        self.name = name or profile.id
        self.monitor = monitor
        self.backend = backend
        self.rate_limit = rate_limit
        midi = profile.midi
        if channel is not None and (not isinstance(channel, int) or not 1 <= channel <= 16):
            raise DeviceError(f"MIDI channel must be 1..16, got {channel!r}", device=self.name, action="configuring")
        self.channel = channel or (midi.channel if midi else 1)
        self.device_id = device_id if device_id is not None else (midi.device_id if midi else 0x10)
        self._midi: MidiPort | None = None
        self._serial: SerialPort | None = None
        self._lock = threading.RLock()

    # ---- life cycle ----------------------------------------------------------------
    def open(self) -> Device:
        p = self.profile
        if p.transport == "manual":
            raise DeviceError("is set by hand (no remote control); recall it with the walk-through",
                              device=self.name, action="opening")
        if not self.port:
            raise DeviceError("no port given", device=self.name, action="opening")
        if self.is_open:
            return self
        if p.transport == "midi":
            clock = None
            if self.rate_limit and (p.midi.rate_bytes_per_s > 0 or p.midi.min_gap_ms or p.midi.gap_after_sysex_ms):
                clock = WireClock(p.midi.rate_bytes_per_s, min_gap_s=p.midi.min_gap_ms / 1000,
                                  gap_after_sysex_s=p.midi.gap_after_sysex_ms / 1000)
            self._midi = MidiPort(self.port, device=self.name, backend=self.backend, clock=clock,
                                  monitor=self.monitor, want_input=False).open()
        else:
            self._serial = SerialPort(self.port, p.serial, device=self.name, monitor=self.monitor).open()
        return self

    def close(self) -> None:
        for port in (self._midi, self._serial):
            if port is not None:
                port.close()
        self._midi = self._serial = None

    def __enter__(self) -> Device:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._midi is not None or self._serial is not None

    @property
    def readback(self) -> bool:
        return self.profile.readback

    # ---- planning ------------------------------------------------------------------
    def check(self, values: dict[str, Any]) -> dict[str, Any]:
        """Parse and check values (text allowed) against the profile, in panel order."""
        try:
            checked = self.profile.check_values(values)
        except ProfileError as exc:
            raise ProfileError(exc.reason, file=self.name, key=exc.key) from None
        order = list(self.profile.parameters)
        return dict(sorted(checked.items(), key=lambda kv: order.index(kv[0])))

    def plan(self, values: dict[str, Any]) -> list[Message]:
        """The messages that would set ``values`` (checked first; nothing is sent)."""
        return [item.message for item in self._plan(values)]

    def _plan(self, values: dict[str, Any]) -> list[_Planned]:
        p = self.profile
        if p.transport == "manual":
            raise DeviceError("is set by hand; there is nothing to send", device=self.name, action="planning")
        checked = self.check(values)
        out: list[_Planned] = []
        for name, value in checked.items():
            param = p.parameters[name]
            action = f"set {name} {param.format(value)}"
            if p.transport == "midi":
                enc = param.encoding
                wire = param.to_wire(value, enc.wire_max, list(enc.wire) if enc.wire else None)
                for msg in enc.encode(wire, self.channel, device_id=self.device_id):
                    out.append(_Planned(msg, name, action))
            else:
                enc: SerialEncoding = param.encoding
                text = enc.set.build(**enc.fields_for(param, value))
                out.append(_Planned(SerialCommand(text, p.serial.terminator, name, None, action), name, action))
        return out

    def wire_time_s(self, messages: list[Message]) -> float:
        """How long the bytes of ``messages`` take on the wire, plus the gaps the gear asks for."""
        p = self.profile
        if p.transport == "midi":
            rate = p.midi.rate_bytes_per_s
            total = sum(len(m.bytes()) for m in messages) / rate if rate > 0 else 0.0
            gaps = [max(p.midi.min_gap_ms, p.midi.gap_after_sysex_ms if m.type == "sysex" else 0.0) / 1000
                    for m in messages]
            return total + sum(gaps[:-1])
        if p.transport == "serial":
            nbytes = sum(len(m.bytes()) for m in messages)
            return nbytes * p.serial.bits_per_char / p.serial.baudrate
        return 0.0

    def quantize(self, values: dict[str, Any]) -> dict[str, Any]:
        """What the gear will hold (and read back) once ``values`` have crossed its wire.

        MIDI: the wire number's resolution (7 or 14 bits, or the detents' numbers).
        Serial: the command's own formatting (``DRV {value:.1f}`` keeps one decimal).
        """
        checked = self.check(values)
        out = {}
        for name, value in checked.items():
            param = self.profile.parameters[name]
            enc = param.encoding
            if isinstance(enc, SerialEncoding):
                fields = enc.set.match(enc.set.build(**enc.fields_for(param, value)))
                out[name] = enc.value_from(param, fields) if fields is not None else value
            elif enc is not None and getattr(enc, "wire_max", 0):
                out[name] = param.quantize(value, enc.wire_max, list(enc.wire) if enc.wire else None)
            else:
                out[name] = value
        return out

    # ---- sending -------------------------------------------------------------------
    def apply(self, values: dict[str, Any]) -> list[Message]:
        """Check every value, then send them all, paced; returns what was sent.

        Returns when the last byte has left the (modelled) wire. A port that vanished,
        a reply that did not come or an error reply raises DeviceError naming the parameter.
        """
        planned = self._plan(values)
        self._require_open("applying")
        with self._lock:
            if self._midi is not None:
                for item in planned:
                    self._midi.send(item.message, note=item.action)
                self._midi.drain()
            else:
                for item in planned:
                    reply = self._serial.command(item.message.text, action=item.action)
                    if reply is not None:
                        self._expect_ack(reply, item.action)
        return [item.message for item in planned]

    def set(self, param: str, value: Any) -> Any:
        """Set one parameter; returns the checked value."""
        checked = self.check({param: value})
        self.apply(checked)
        return checked[param]

    def send_raw(self, message: Message, *, note: str = "raw") -> str | None:
        """Send one already built message (a mido.Message, or a SerialCommand / text line),
        paced like the rest. Returns a serial unit's reply line, unjudged."""
        self._require_open(note)
        with self._lock:
            if self._midi is not None:
                self._midi.send(message, note=note)
                self._midi.drain()
                return None
            text = message.text if isinstance(message, SerialCommand) else str(message)
            return self._serial.command(text, action=note)

    def receive_raw(self, fits: Callable[[mido.Message], bool], timeout_s: float, *, action: str,
                    send_first: mido.Message | None = None, flush: bool = True) -> mido.Message:
        """The first incoming MIDI message ``fits`` accepts (listening starts before ``send_first``
        goes out, so the answer is not missed). Used to capture a unit's dumps."""
        self._require_open(action)
        if self._midi is None:
            raise DeviceError("only MIDI gear sends SysEx dumps", device=self.name, action=action)
        with self._lock:
            self._midi.open_input(action)
            if flush:
                self._midi.flush_input()
            if send_first is not None:
                self._midi.send(send_first, note=action)
                self._midi.drain()
            return self._midi.receive(fits, timeout_s, action=action)

    # ---- reading back --------------------------------------------------------------
    def read(self, params: list[str] | None = None) -> dict[str, Any]:
        """Ask the gear what it is set to; values in the engineer's units, panel order."""
        p = self.profile
        if not p.readback:
            raise DeviceError("its profile has no read-back (no dump or queries)", device=self.name,
                              action="reading back")
        names = list(p.parameters) if params is None else [p.parameter(n).name for n in params]
        self._require_open("reading back")
        with self._lock:
            if self._midi is not None:
                return self._read_dump(names)
            return {name: self._query(name) for name in names}

    def _read_dump(self, names: list[str]) -> dict[str, Any]:
        midi = self.profile.midi
        action = "reading back (dump request)"
        request = midi.dump_request.build(dev=self.device_id, channel=self.channel)
        self._midi.open_input(action)      # listening before asking, so the answer is not missed
        self._midi.flush_input()
        self._midi.send(mido.Message("sysex", data=request[1:-1]), note="dump request")
        reply_t = midi.dump_reply
        checked: dict = {}

        def fits(msg: mido.Message) -> bool:
            if msg.type != "sysex":
                return False
            found = reply_t.match([0xF0, *msg.data, 0xF7], dev=self.device_id)
            if found is not None:
                checked.update(found)
                return True
            return False

        msg = self._midi.receive(fits, midi.reply_timeout_ms / 1000, action=action)
        if not checked["checksum_ok"]:
            raise DeviceError(f"garbled dump (checksum mismatch): {msg.hex()}", device=self.name, action=action)
        data = checked["data"]
        out = {}
        for name in names:
            param = self.profile.parameters[name]
            offset, size = param.dump["offset"], param.dump["size"]
            chunk = data[offset: offset + size]
            wire = chunk[0] if size == 1 else (chunk[0] << 7) | chunk[1]
            enc = param.encoding
            out[name] = param.from_wire(wire, enc.wire_max, list(enc.wire) if enc.wire else None)
        return out

    def _query(self, name: str) -> Any:
        param = self.profile.parameters[name]
        enc: SerialEncoding = param.encoding
        action = f"reading {name}"
        reply = self._serial.command(enc.query, action=action, expect_reply=True)
        found = enc.reply.match(reply)
        if found is None:
            self._raise_reply(reply, action, expected=enc.reply.text)
        try:
            return enc.value_from(param, found)
        except ProfileError as exc:
            raise DeviceError(f"reply {reply!r} holds no valid value: {exc.reason}", device=self.name,
                              action=action) from None

    # ---- serial replies --------------------------------------------------------------
    def _expect_ack(self, reply: str, action: str) -> None:
        s = self.profile.serial
        if s.ack is not None and s.ack.match(reply) is not None:
            return
        self._raise_reply(reply, action, expected=s.ack.text if s.ack else None)

    def _raise_reply(self, reply: str, action: str, expected: str | None) -> None:
        s = self.profile.serial
        if s.error is not None:
            found = s.error.match(reply)
            if found is not None:
                code = found.get("code") or ""
                meaning = s.error_messages.get(code) or found.get("message") or "no explanation in the profile"
                raise DeviceError(f"the unit answered {ascii(reply)}: {meaning}", device=self.name, action=action)
        want = f"; expected {expected!r}" if expected else ""
        raise DeviceError(f"garbled reply {ascii(reply)}{want}", device=self.name, action=action)

    # ---- router ----------------------------------------------------------------------
    def _router(self, action: str):
        spec = self.profile.router
        if spec is None:
            raise DeviceError(f"profile {self.profile.id} is not a router", device=self.name, action=action)
        self._require_open(action)
        return spec

    def _check_port(self, kind: str, number: int, count: int, action: str) -> None:
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= count:
            raise DeviceError(f"{kind} {number!r} is out of range; expected 1..{count}", device=self.name,
                              action=action)

    def tie(self, input: int, output: int) -> None:
        """Connect ``input`` to ``output`` (1-based), checked against the unit's answer."""
        action = f"tie input {input} to output {output}"
        spec = self._router(action)
        self._check_port("input", input, spec.inputs, action)
        self._check_port("output", output, spec.outputs, action)
        self._route(spec.tie.build(input=spec.wire_port(input), output=spec.wire_port(output)), spec.tie_reply,
                    action, want={"input": spec.wire_port(input), "output": spec.wire_port(output)})

    def untie(self, output: int) -> None:
        """Disconnect whatever feeds ``output``."""
        action = f"untie output {output}"
        spec = self._router(action)
        if spec.untie is None:
            raise DeviceError("its profile has no untie command", device=self.name, action=action)
        self._check_port("output", output, spec.outputs, action)
        self._route(spec.untie.build(output=spec.wire_port(output)), spec.untie_reply, action,
                    want={"output": spec.wire_port(output)})

    def ties(self) -> dict[int, int]:
        """Read back ``{output: input}`` for every output that is fed (0 = nothing is left out)."""
        action = "reading ties"
        spec = self._router(action)
        if spec.query is None:
            raise DeviceError("its profile has no tie query", device=self.name, action=action)
        out = {}
        with self._lock:
            for output in range(1, spec.outputs + 1):
                found = self._route(spec.query.build(output=spec.wire_port(output)), spec.query_reply,
                                    f"reading output {output}", want={})
                source = spec.port_from_wire(int(found["input"]))
                if 1 <= source <= spec.inputs:
                    out[output] = source
        return out

    def _route(self, text: str, reply_t: TextTemplate, action: str, want: dict) -> dict:
        with self._lock:
            reply = self._serial.command(text, action=action, expect_reply=True)
        found = reply_t.match(reply)
        if found is None:
            self._raise_reply(reply, action, expected=reply_t.text)
        for key, value in want.items():
            if key in found and int(found[key]) != value:
                raise DeviceError(f"the unit answered {reply!r}, not {key} {value}", device=self.name, action=action)
        return found

    # ---- learning from the panel -------------------------------------------------------
    def listen(self, callback: Callable[[str, Any], None]) -> Callable[[], None]:
        """Call ``callback(param, value)`` for each panel move the gear transmits (MIDI).

        Returns a function that stops listening. Used to learn a setting from the unit.
        """
        self._require_open("listening")
        if self._midi is None:
            raise DeviceError("only MIDI gear transmits its panel", device=self.name, action="listening")
        decoder = self.decoder()

        def on_message(msg: mido.Message) -> None:
            for name, wire in decoder.feed(msg):
                param = self.profile.parameters[name]
                enc = param.encoding
                callback(name, param.from_wire(wire, enc.wire_max, list(enc.wire) if enc.wire else None))
        return self._midi.add_listener(on_message)

    def decoder(self) -> MidiDecoder:
        encodings = {n: p.encoding for n, p in self.profile.parameters.items()}
        return MidiDecoder(encodings, channel=self.channel, device_id=self.device_id)

    def _require_open(self, action: str) -> None:
        if not self.is_open:
            raise DeviceError("is not open", device=self.name, action=action)

    def __repr__(self) -> str:
        return f"Device({self.profile.id!r}, port={self.port!r}, name={self.name!r})"
