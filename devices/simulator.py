"""Simulated gear for any profile, on the transport the real unit would use.

MIDI gear opens virtual ports (on JACK here: a client named after ``port`` with an
input that receives and an output that answers dumps and transmits panel moves).
Serial gear sits on a pseudo-terminal whose path is ``.port``. Hand-set units have no
transport: their knobs are turned with ``set``. Every simulator keeps ``.state`` (values
in the engineer's units), answers dumps and queries, rejects bad commands as its
profile says, and calls its ``on_change`` callbacks, so the simulated analog gear can
sound like where the knobs are.
"""

from __future__ import annotations

import os
import select
import threading
import time
from typing import Any
from collections.abc import Callable

import mido

from devices.errors import DeviceError, ProfileError
from devices.midi_codec import MidiDecoder
from devices.midi_port import close_ports, find_port, list_ports, midi_backend, retry_busy
from devices.profile import Profile
from devices.text_codec import TextTemplate


class Callbacks(list):
    """A list of ``callback(param, value)``; calling it with a function subscribes that function.

    ``sim.on_change(cb)`` and ``sim.on_change.append(cb)`` do the same; the call form
    returns a function that unsubscribes.
    """

    def __call__(self, callback: Callable[[str, Any], None]) -> Callable[[], None]:
        self.append(callback)

        def unsubscribe() -> None:
            if callback in self:
                self.remove(callback)
        return unsubscribe

    def notify(self, param: str, value: Any) -> None:
        for callback in list(self):
            callback(param, value)


class Simulator:
    """A simulated unit of ``profile``; ``start()``/``stop()`` or a ``with`` block."""

    def __init__(self, profile: Profile, port: str | None = None, *, channel: int | None = None,
                 backend: mido.Backend | None = None, device_id: int | None = None,
                 state: dict[str, Any] | None = None,
                 decoder: Callable[[Simulator, mido.Message], bool] | None = None):
        self.profile = profile
        self.channel = channel or (profile.midi.channel if profile.midi else 1)
        self.device_id = device_id if device_id is not None else (profile.midi.device_id if profile.midi else 0x10)
        self.port = port or profile.id
        self.backend = backend
        self.state: dict[str, Any] = profile.defaults()
        if state:
            try:
                self.state.update(profile.check_values(state))
            except ProfileError as exc:
                raise ProfileError(exc.reason, file=f"simulated {profile.id}", key=exc.key) from None
        self.ties: dict[int, int] = {}
        """A router's ties, ``{output: input}``."""
        self.on_change = Callbacks()
        self.received: list[bytes] = []
        """Every message or line received, raw (for tests and the CLI's verbose mode)."""
        self.rejected: list[str] = []
        """Why each rejected message was rejected (bad checksum, unknown command...)."""
        self.dump_requests = 0
        self.memory: dict[str, Any] = {}
        """What a document-rule decoder keeps between messages (a selected bank, an edit buffer)."""
        self.decoder = decoder
        """Reads incoming MIDI by the maker's document instead of the profile's codec
        (``devices.unit_sims``); returns True when it handled the message."""
        self._impl = None
        self._lock = threading.Lock()

    # ---- life cycle ----------------------------------------------------------------
    def start(self) -> Simulator:
        if self._impl is not None:
            return self
        if self.profile.transport == "midi":
            self._impl = _MidiSide(self)
        elif self.profile.transport == "serial":
            self._impl = _SerialSide(self)
        else:
            self._impl = _ManualSide()
        self._impl.start()
        return self

    def stop(self) -> None:
        impl, self._impl = self._impl, None
        if impl is not None:
            impl.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._impl is not None

    def describe(self) -> str:
        """Where it listens, for a person."""
        if self.profile.transport == "midi":
            return f"MIDI ports {self._impl.in_name!r} (in) and {self._impl.out_name!r} (out), channel {self.channel}" \
                if self._impl else f"MIDI port {self.port!r} (stopped)"
        if self.profile.transport == "serial":
            return f"serial pseudo-terminal {self.port}"
        return "no transport (hand-set unit: turn its knobs with set)"

    # ---- the panel -----------------------------------------------------------------
    def set(self, param: str, value: Any, *, transmit: bool = True) -> Any:
        """Turn a knob on the front panel. MIDI gear that transmits its panel sends the move."""
        parameter = self.profile.parameter(param)
        value = parameter.parse(value)
        self._update(param, value)
        midi = self.profile.midi
        if transmit and midi is not None and midi.transmits and isinstance(self._impl, _MidiSide):
            enc = parameter.encoding
            wire = parameter.to_wire(value, enc.wire_max, list(enc.wire) if enc.wire else None)
            for msg in enc.encode(wire, self.channel, device_id=self.device_id):
                self._impl.send(msg)
        return value

    def transmit(self, msg: mido.Message) -> None:
        """Send a MIDI message out of the unit (a dump reply, a panel move)."""
        if isinstance(self._impl, _MidiSide):
            self._impl.send(msg)

    def _update(self, param: str, value: Any) -> None:
        with self._lock:
            changed = self.state.get(param) != value
            self.state[param] = value
        if changed:
            self.on_change.notify(param, value)

    def _set_tie(self, output: int, source: int) -> None:
        with self._lock:
            before = self.ties.get(output, 0)
            if source:
                self.ties[output] = source
            else:
                self.ties.pop(output, None)
        if before != source:
            self.on_change.notify(f"tie.{output}", source)


class _ManualSide:
    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class _MidiSide:
    """Virtual MIDI ports: decode what comes in, answer dump requests."""

    def __init__(self, sim: Simulator):
        self.sim = sim
        self.backend = sim.backend or midi_backend()
        encodings = {n: p.encoding for n, p in sim.profile.parameters.items()}
        self.decoder = MidiDecoder(encodings, channel=sim.channel, device_id=sim.device_id)
        self._in = self._out = None
        self.in_name = self.out_name = sim.port

    def start(self) -> None:
        try:
            port = self.sim.port
            self._out = retry_busy(lambda: self.backend.open_output(port, client_name=port))
            self._in = retry_busy(lambda: self.backend.open_input(port, client_name=port, callback=self._received))
            try:
                names = list_ports(self.backend)
            except DeviceError:
                names = {"outputs": [], "inputs": []}
            # What others see (JACK renames a second client "NAME-01"): for describe().
            self.in_name = find_port(port, names["outputs"]) or port
            self.out_name = find_port(port, names["inputs"]) or port
        except (OSError, RuntimeError, SystemError) as exc:
            self.stop()
            raise DeviceError(f"cannot open virtual MIDI port {self.sim.port!r}: {exc}",
                              device=f"simulated {self.sim.profile.id}", action="starting") from None

    def stop(self) -> None:
        close_ports(self._in, self._out)
        self._in = self._out = None

    def send(self, msg: mido.Message) -> None:
        if self._out is not None:
            self._out.send(msg)

    def _received(self, msg: mido.Message) -> None:
        sim = self.sim
        sim.received.append(bytes(msg.bytes()))
        if sim.decoder is not None:
            if not sim.decoder(sim, msg):
                sim.rejected.append(f"not in the document: {msg.hex()}")
            return
        midi = sim.profile.midi
        if msg.type == "sysex" and midi.dump_request is not None:
            found = midi.dump_request.match([0xF0, *msg.data, 0xF7], dev=sim.device_id)
            if found is not None:
                if not found["checksum_ok"]:
                    sim.rejected.append(f"dump request with a bad checksum: {msg.hex()}")
                    return
                sim.dump_requests += 1
                self.send(self._dump())
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
            sim._update(name, param.from_wire(wire, enc.wire_max, list(enc.wire) if enc.wire else None))

    def _dump(self) -> mido.Message:
        sim = self.sim
        template = sim.profile.midi.dump_reply
        data = [0] * template.data_size
        with sim._lock:
            state = dict(sim.state)
        for name, param in sim.profile.parameters.items():
            if param.dump is None:
                continue
            enc = param.encoding
            wire = param.to_wire(state[name], enc.wire_max, list(enc.wire) if enc.wire else None)
            offset = param.dump["offset"]
            if param.dump["size"] == 1:
                data[offset] = wire & 0x7F
            else:
                data[offset], data[offset + 1] = (wire >> 7) & 0x7F, wire & 0x7F
        full = template.build(dev=sim.device_id, channel=sim.channel, data=data)
        return mido.Message("sysex", data=full[1:-1])


class _SerialSide:
    """A pseudo-terminal: read command lines, answer as the profile says."""

    def __init__(self, sim: Simulator):
        self.sim = sim
        self.settings = sim.profile.serial
        self._master = self._slave = None
        self._thread: threading.Thread | None = None
        self._stop_r, self._stop_w = os.pipe()
        verbs = set()
        for param in sim.profile.parameters.values():
            verbs.add(param.encoding.set.text[-1:])
            if param.encoding.query:
                verbs.add(param.encoding.query[-1:])
        router = sim.profile.router
        if router is not None:
            for t in (router.tie, router.untie, router.query):
                if t is not None:
                    verbs.add(t.text[-1:])
        self._verbs = {v for v in verbs if v and not v.isalnum() and v not in "}"}

    def start(self) -> None:
        import tty  # POSIX only, like the pseudo-terminal itself

        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.sim.port = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.sim.profile.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        os.write(self._stop_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave, self._stop_r, self._stop_w):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None

    def _run(self) -> None:
        buffer = b""
        last_s = time.monotonic()
        term = self.settings.terminator.encode("latin-1")
        while True:
            ready, _, _ = select.select([self._master, self._stop_r], [], [], 0.05)
            if self._stop_r in ready:
                return
            if self._master in ready:
                try:
                    chunk = os.read(self._master, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                last_s = time.monotonic()
            if term:
                while term in buffer:
                    line, buffer = buffer.split(term, 1)
                    self._answer(line.decode("latin-1"))
            elif buffer:
                buffer = self._take_unterminated(buffer, idle=time.monotonic() - last_s > 0.1)

    def _take_unterminated(self, buffer: bytes, idle: bool) -> bytes:
        """Protocols like SIS have no line end: a command is whole when it parses or ends in its verb."""
        text = buffer.decode("latin-1")
        if self._parse(text) is not None or text[-1:] in self._verbs or idle:
            self._answer(text)
            return b""
        return buffer

    def _reply(self, text: str) -> None:
        data = (text + self.settings.reply_terminator).encode("latin-1")
        try:
            os.write(self._master, data)
        except OSError:
            pass

    def _error(self, reason: str, detail: str) -> None:
        self.sim.rejected.append(f"{reason}: {detail}")
        replies = self.settings.error_replies
        reply = replies.get(reason) or replies.get("unknown_command")
        if reply is not None:
            self._reply(reply)

    def _parse(self, line: str):
        """``(what, name, fields)`` for a line the unit understands, else None."""
        router = self.sim.profile.router
        if router is not None:
            for what, template in (("tie", router.tie), ("untie", router.untie), ("query", router.query)):
                if template is not None:
                    found = template.match(line)
                    if found is not None:
                        return what, None, found
        for name, param in self.sim.profile.parameters.items():
            enc = param.encoding
            if enc.query is not None and line == enc.query:
                return "get", name, {}
            found = enc.set.match(line)
            if found is not None:
                return "set", name, found
        return None

    def _answer(self, line: str) -> None:
        sim = self.sim
        sim.received.append(line.encode("latin-1"))
        parsed = self._parse(line)
        if parsed is None:
            self._error("unknown_command", repr(line))
            return
        what, name, fields = parsed
        if what in ("tie", "untie", "query"):
            self._route(what, fields)
            return
        param = sim.profile.parameters[name]
        enc = param.encoding
        if what == "get":
            with sim._lock:
                value = sim.state[name]
            self._reply(enc.reply.build(**enc.fields_for(param, value)))
            return
        try:
            value = enc.value_from(param, fields)
        except ProfileError as exc:
            self._error("out_of_range", f"{line!r}: {exc.reason}")
            return
        sim._update(name, value)
        ack = self.settings.ack
        self._reply(ack.text if ack is not None else enc.reply.build(**enc.fields_for(param, value)))

    def _route(self, what: str, fields: dict) -> None:
        sim = self.sim
        router = sim.profile.router
        output = router.port_from_wire(int(fields["output"])) if fields.get("output") is not None else None
        source = router.port_from_wire(int(fields["input"])) if fields.get("input") is not None else None
        if what == "tie" and source == 0:
            what = "untie"
        if what == "tie" and not 1 <= source <= router.inputs:
            self._error("invalid_input", f"input {source}")
            return
        if output is None or not 1 <= output <= router.outputs:
            self._error("invalid_output", f"output {output}")
            return
        if what == "tie":
            sim._set_tie(output, source)
            self._reply(router.tie_reply.build(input=router.wire_port(source), output=router.wire_port(output)))
        elif what == "untie":
            sim._set_tie(output, 0)
            template: TextTemplate = router.untie_reply or router.tie_reply
            self._reply(template.build(input=0, output=router.wire_port(output)))
        else:
            with sim._lock:
                source = sim.ties.get(output, 0)
            self._reply(router.query_reply.build(input=router.wire_port(source) if source else 0,
                                                 output=router.wire_port(output)))
