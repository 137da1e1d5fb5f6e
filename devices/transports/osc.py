"""OSC: ``osc.udp://HOST:PORT`` and ``osc.tcp://HOST:PORT`` through python-osc.

Messages are built and parsed by python-osc (``OscMessageBuilder``, ``OscPacket``, which
also opens bundles); over TCP they are SLIP-framed (OSC 1.1). A parameter is one
address and one argument:

    [parameters.fader]
    osc = { address = "/ch/01/mix/fader", type = "f" }          # 0..1 of the control's travel
    osc = { address = "/ch/01/mix/on", type = "i", invert = true }   # a switch sent as 0 when on
    osc = { address = "/ch/01/insert/sel", type = "s" }         # a stepped control by label

``scale = "value"`` sends a float or int as the engineer's number instead of the travel.

Reading back asks the address without arguments (``query = "empty"``, X32 style) or
with a prefix (``query_prefix = "/get"``) and takes the reply on the same address.
``subscribe = "/xremote"`` is sent on open and every ``subscribe_ms`` (X32: within 10 s),
so the unit keeps telling of changes made elsewhere: fed to the device's known state,
its listeners and the traffic monitor. ``bundle = true`` sends a recall as one bundle.

Profile table ``[osc]``: ``port`` (default port), ``timeout_ms``, ``query``,
``query_prefix``, ``subscribe``, ``subscribe_ms``, ``bundle``.
"""

from __future__ import annotations

import math
import queue
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import BuildError, OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError
from pythonosc import slip

from devices.errors import DeviceError, DeviceTimeoutError, ProfileError
from devices.monitor import IN, OUT
from devices.parameter import Parameter
from devices.transports.base import DeviceContext, Identity, Link, Listener, SimSide, Transport
from devices.transports import url_scheme
from devices.transports.tcp import host_port
from devices.value_law import ValueLaw, parse_law

TYPES = ("f", "i", "s")
_TYPE_NAMES = {"f": "a float", "i": "an integer", "s": "a string"}


@dataclass(frozen=True)
class OscSettings:
    """``[osc]``: how a unit is reached and asked over OSC."""

    port: int | None = None
    """The port when the URL gives none (X32: 10023)."""
    timeout_ms: float = 500.0
    query: str = "empty"
    """``empty``: the address without arguments answers with its value; ``prefix``: ask
    ``query_prefix + address``; ``none``: the unit cannot be asked."""
    query_prefix: str = ""
    subscribe: str | None = None
    """An address that asks the unit to report changes (X32 ``/xremote``)."""
    subscribe_ms: float = 9000.0
    """How often to renew the subscription (the X32 forgets a client after 10 s)."""
    bundle: bool = False
    """Send a recall's messages as one bundle."""


@dataclass(frozen=True)
class OscEncoding:
    """One parameter on one OSC address."""

    address: str
    type: str = "f"
    scale: str = "unit"
    """``unit``: a number is the control's travel 0..1 (taper applied); ``value``: the engineer's number."""
    invert: bool = False
    """A switch sent as 0 when on (X32 ``mix/on``: 0 = muted)."""
    wire: tuple[int, ...] | None = None
    """The integer of each detent, when not its index."""
    law: ValueLaw | None = None
    """A float sent by a value law (X32 fader: four segments over 1024 steps) instead of the linear travel."""
    steps: int = 0
    """How many positions the unit's float takes (X32 faders: 1024, level = index / 1023); 0 = any."""

    def describe(self) -> str:
        return f"OSC {self.address} ,{self.type}"

    def to_arg(self, param: Parameter, value: Any) -> float | int | str:
        """The argument that sets ``value`` (a checked value in the engineer's units)."""
        if param.kind == "switch":
            on = bool(value) != self.invert
            if self.type == "s":
                return param.format(value)
            return float(on) if self.type == "f" else int(on)
        if param.kind == "stepped":
            index = param.index(value)
            if self.type == "s":
                return str(value)
            number = self.wire[index] if self.wire else index
            if self.type == "i":
                return int(number)
            count = len(param.labels)
            return index / (count - 1) if count > 1 else 0.0
        if self.type == "s":
            return param.format(value)
        if self.law is not None:
            steps_max = (self.steps or 1_000_001) - 1
            return float(self.law.to_wire(float(value), steps_max) / steps_max)
        amount = float(value) if self.scale == "value" else travel(param, float(value))
        return int(round(amount)) if self.type == "i" else amount

    def from_arg(self, param: Parameter, arg: Any) -> Any:
        """The engineer's value an argument stands for; ProfileError if it cannot be one."""
        where = f"parameter {param.name}"
        want = {"f": (float, int), "i": (int,), "s": (str,)}[self.type]
        if isinstance(arg, bool) or not isinstance(arg, want):
            raise ProfileError(f"expected {_TYPE_NAMES[self.type]} (,{self.type}), got {arg!r}", key=where)
        if isinstance(arg, float) and not math.isfinite(arg):
            raise ProfileError(f"expected a finite number, got {arg!r}", key=where)
        if param.kind == "switch":
            on = param.parse(arg) if self.type == "s" else bool(round(float(arg)))
            return bool(on) != self.invert if self.type != "s" else on
        if param.kind == "stepped":
            if self.type == "s":
                return param.parse(arg)
            if self.type == "i":
                numbers = list(self.wire) if self.wire else list(range(len(param.labels)))
                if int(arg) not in numbers:
                    raise ProfileError(f"no detent at {arg!r}; expected one of {numbers}", key=where)
                return param.labels[numbers.index(int(arg))]
            count = len(param.labels)
            if not 0.0 <= float(arg) <= 1.0:
                raise ProfileError(f"expected 0..1, got {arg!r}", key=where)
            return param.labels[round(float(arg) * (count - 1))]
        if self.type == "s":
            return param.parse(arg)
        if self.scale == "value":
            return param.check(float(arg))
        if self.law is not None and 0.0 <= float(arg) <= 1.0:
            wire_max = (self.steps or 1_000_001) - 1
            return param.check(self.law.from_wire(round(float(arg) * wire_max), wire_max))
        if not 0.0 <= float(arg) <= 1.0:
            raise ProfileError(f"expected 0..1 of the travel, got {arg!r}", key=where)
        return param.check(untravel(param, float(arg)))


def travel(param: Parameter, value: float) -> float:
    """0..1 of a continuous control's travel (its taper applied)."""
    lo, hi = float(param.minimum or 0.0), float(param.maximum or 1.0)
    if param.taper == "log":
        return math.log(value / lo) / math.log(hi / lo)
    return (value - lo) / (hi - lo)


def untravel(param: Parameter, position: float) -> float:
    lo, hi = float(param.minimum or 0.0), float(param.maximum or 1.0)
    if param.taper == "log":
        return float(lo * (hi / lo) ** position)
    return lo + (hi - lo) * position


@dataclass(frozen=True)
class OscCommand:
    """One OSC message (address and arguments), ready for the wire."""

    address: str
    args: tuple[Any, ...] = ()
    types: str = ""

    def message(self) -> OscMessage:
        builder = OscMessageBuilder(address=self.address)
        for i, arg in enumerate(self.args):
            builder.add_arg(arg, self.types[i] if i < len(self.types) else None)
        try:
            return builder.build()
        except BuildError as exc:
            raise DeviceError(f"cannot build OSC message {self.address}: {exc}", action="sending") from None

    def bytes(self) -> bytes:
        return bytes(self.message().dgram)


class OscTransport(Transport):
    name = "osc"
    protocol = "osc"
    schemes = ("osc.udp", "osc.tcp", "osc")
    encoding_key = "osc"
    assigns_port = True

    def load_settings(self, reader: Any, _base: Any) -> OscSettings:
        if reader is None:
            return OscSettings()
        reader.only({"port", "timeout_ms", "query", "query_prefix", "subscribe", "subscribe_ms", "bundle"})
        port = reader.get("port", int, default=None, what="a port 1..65535")
        if port is not None and not 1 <= port <= 65535:
            reader.fail("port", f"expected a port 1..65535, got {port}")
        query = reader.choice("query", ("empty", "prefix", "none"), default="empty")
        prefix = reader.get("query_prefix", str, default="")
        if query == "prefix" and not prefix.startswith("/"):
            reader.fail("query_prefix", "expected an address prefix like \"/get\"")
        subscribe = reader.get("subscribe", str, default=None)
        if subscribe is not None and not subscribe.startswith("/"):
            reader.fail("subscribe", f"expected an OSC address starting with /, got {subscribe!r}")
        return OscSettings(
            port=port, timeout_ms=float(reader.number("timeout_ms", default=500, lo=1, hi=60000)),
            query=query, query_prefix=prefix, subscribe=subscribe,
            subscribe_ms=float(reader.number("subscribe_ms", default=9000, lo=10, hi=3_600_000)),
            bundle=reader.get("bundle", bool, default=False))

    def load_encoding(self, reader: Any, param: Parameter, _settings: Any) -> OscEncoding:
        table = reader.get("osc", dict, required=True, what='a table like { address = "/ch/01/mix/fader", type = "f" }')
        sub = type(reader)(reader.file, table, reader.key("osc"))
        sub.only({"address", "type", "scale", "invert", "wire", "law", "points", "steps"})
        address = sub.get("address", str, required=True, what="an OSC address like /ch/01/mix/fader")
        if not address.startswith("/") or any(c in address for c in " #*,?[]{}"):
            sub.fail("address", f"expected an OSC address like /ch/01/mix/fader, got {address!r}")
        kind = sub.choice("type", TYPES, default="f" if param.kind == "continuous" else "i")
        scale = sub.choice("scale", ("unit", "value"), default="unit")
        invert = sub.get("invert", bool, default=False)
        if invert and param.kind != "switch":
            sub.fail("invert", "only a switch can be inverted")
        wire = sub.get("wire", list, default=None)
        if wire is not None:
            if param.kind != "stepped" or kind != "i":
                sub.fail("wire", "only stepped controls sent as integers list wire numbers")
            if len(wire) != len(param.labels) or not all(isinstance(w, int) and not isinstance(w, bool)
                                                          for w in wire):
                sub.fail("wire", f"expected {len(param.labels)} integers, one per label")
        law = None
        if "law" in table:      # a piecewise law over the float (X32's fader), from devices.value_law
            if param.kind != "continuous" or kind != "f":
                sub.fail("law", "a value law shapes a continuous control sent as a float")
            law = parse_law(table, file=reader.file, key=reader.key("osc"), field_bits=20)
            if law is None or law.kind != "points":
                sub.fail("law", 'expected law = "points" with points = [[position, value], ...]')
        steps = int(sub.number("steps", default=0, lo=0, hi=1_000_000))
        return OscEncoding(address, kind, scale, invert, tuple(wire) if wire else None, law, steps)

    def check_profile(self, reader: Any, parameters: dict[str, Parameter], _settings: Any) -> None:
        seen: dict[str, str] = {}
        for name, param in parameters.items():
            address = param.encoding.address
            if address in seen:
                reader.fail(f"{name}.osc.address", f"{address} is also used by parameters.{seen[address]}")
            seen[address] = name

    def readback_possible(self, parameters: dict[str, Parameter], settings: OscSettings, _router: Any) -> bool:
        return settings.query != "none" and bool(parameters)

    def listens(self, profile: Any) -> bool:
        return profile.settings[self.name].subscribe is not None

    def plan(self, _device: DeviceContext, _name: str, param: Parameter, value: Any) -> list[Any]:
        enc: OscEncoding = param.encoding
        return [OscCommand(enc.address, (enc.to_arg(param, value),), enc.type)]

    def quantize(self, param: Parameter, value: Any) -> Any:
        enc: OscEncoding = param.encoding
        arg = enc.to_arg(param, value)
        if enc.type == "f":
            arg = _float32(float(arg))
        return enc.from_arg(param, arg)

    def link(self, device: DeviceContext, port: str) -> Link:
        return OscLink(device, port, device.profile.settings[self.name])

    def identify(self, port: str, profiles: list[Any], timeout_s: float) -> Identity | None:
        """Ask each OSC profile's first parameter; a reply of the right type names the profile."""
        try:
            address = host_port(port, None)
        except DeviceError:
            return None
        answers, fits = [], []
        for profile in profiles:
            if profile.settings.get(self.name) is None or not profile.parameters:
                continue
            name, param = next(iter(profile.parameters.items()))
            enc: OscEncoding = param.encoding
            try:
                wire = _Wire(_protocol(port), address, timeout_s)
            except OSError:
                return None
            try:
                wire.send(OscCommand(enc.address).bytes())
                packets = wire.receive(timeout_s) or []
                for message in (m for data in packets for m in _messages(data)):
                    if message.address == enc.address and len(message.params) == 1:
                        enc.from_arg(param, message.params[0])
                        answers.append(f"{message.address} {message.params[0]!r}")
                        fits.append(profile.id)
            except (OSError, ParseError, ProfileError, slip.ProtocolError):
                pass
            finally:
                wire.close()
            del name
        return Identity(port, self.name, "; ".join(answers), fits) if fits else None

    def simulate(self, sim: Any) -> SimSide:
        return OscSim(sim, sim.profile.settings[self.name])

    def presence(self, port: str, _cache: dict[str, Any]) -> tuple[bool, str]:
        if url_scheme(port) not in self.schemes:
            return False, "an OSC unit's port is osc.udp://HOST:PORT or osc.tcp://HOST:PORT"
        return True, f"{port} (checked when used)"


def _float32(number: float) -> float:
    import struct

    return float(struct.unpack(">f", struct.pack(">f", number))[0])


def _protocol(url: str) -> str:
    return "tcp" if url.lower().startswith("osc.tcp://") else "udp"


def _messages(data: bytes) -> list[OscMessage]:
    """Every message in a packet (a bundle opened, nested ones too)."""
    return [timed.message for timed in OscPacket(data).messages]


def slip_frames(buffer: bytes) -> tuple[list[bytes], bytes]:
    """The whole SLIP frames in ``buffer`` (decoded) and the unfinished rest."""
    parts = buffer.split(slip.END)
    rest = parts.pop()
    return [slip.decode(slip.END + part + slip.END) for part in parts if part], rest


class _Wire:
    """A UDP or SLIP-framed TCP socket that sends and receives whole OSC packets."""

    def __init__(self, protocol: str, address: tuple[str, int], timeout_s: float):
        self.protocol = protocol
        self.address = address
        if protocol == "tcp":
            self.sock = socket.create_connection(address, timeout=timeout_s)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # no Nagle wait on each message
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.sock.bind(("0.0.0.0" if address[0] not in ("127.0.0.1", "localhost") else "127.0.0.1", 0))
        self._buffer = b""

    def send(self, data: bytes) -> None:
        if self.protocol == "tcp":
            self.sock.sendall(slip.encode(data))
        else:
            self.sock.sendto(data, self.address)

    def receive(self, wait_s: float) -> list[bytes] | None:
        """Packets that arrived within ``wait_s`` ([] if none); None when a TCP peer hung up."""
        ready, _, _ = select.select([self.sock], [], [], max(0.0, wait_s))
        if not ready:
            return []
        if self.protocol == "udp":
            data, _ = self.sock.recvfrom(65536)
            return [data]
        chunk = self.sock.recv(65536)
        if not chunk:
            return None
        packets, self._buffer = slip_frames(self._buffer + chunk)
        return packets

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class OscLink(Link):
    """A client of an OSC unit: sends, asks (query = the address without arguments),
    and hears what the unit reports unasked (a subscription kept alive)."""

    def __init__(self, device: DeviceContext, port: str, settings: OscSettings):
        super().__init__(device, port)
        self.settings = settings
        self.address = host_port(port, settings.port or device.profile.network_port)
        self.protocol = _protocol(port)
        self._wire: _Wire | None = None
        self._replies: queue.Queue[OscMessage | None] = queue.Queue()
        self._waiting: set[str] = set()
        self._by_address = {p.encoding.address: name for name, p in device.profile.parameters.items()}
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None
        self._lock = threading.RLock()
        self._subscribed_s = float("-inf")

    @property
    def timeout_s(self) -> float:
        return self.settings.timeout_ms / 1000

    def open(self) -> None:
        try:
            self._wire = _Wire(self.protocol, self.address, self.timeout_s)
        except OSError as exc:
            raise self.error(f"cannot reach {self.address[0]}:{self.address[1]} over OSC/{self.protocol}: "
                             f"{exc.strerror or exc}", "opening", code="port_not_found") from None
        self._stop.clear()
        self._reader = threading.Thread(target=self._read_loop, name=f"osc {self.port}", daemon=True)
        self._reader.start()
        self._renew()

    def close(self) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.join(timeout=1)
            self._reader = None
        if self._wire is not None:
            self._wire.close()
            self._wire = None

    def _send_packet(self, data: bytes, note: str) -> None:
        if self._wire is None:
            raise self.error("is not open", note)
        if self.device.monitor is not None:
            self.device.monitor.record(OUT, self.port, data, note)
        try:
            self._wire.send(data)
        except OSError as exc:
            raise self.error(f"OSC/{self.protocol} send failed: {exc.strerror or exc}", note,
                             code="connection_closed") from None

    def send(self, message: Any, *, note: str = "") -> None:
        self._send_packet(message.bytes(), note)

    def apply(self, planned: list[Any]) -> None:
        with self._lock:
            self._renew()
            if not self.settings.bundle or len(planned) < 2:
                for item in planned:
                    self.send(item.message, note=item.action)
                return
            builder = OscBundleBuilder(IMMEDIATELY)
            for item in planned:
                builder.add_content(item.message.message())
            self._send_packet(bytes(builder.build().dgram), f"bundle of {len(planned)} settings")

    def query(self, message: Any, *, action: str) -> OscMessage:
        """Send ``message`` and return the unit's message on the address asked about."""
        address = message.address if isinstance(message, OscCommand) else str(message)
        asked = OscCommand(self.settings.query_prefix + address if self.settings.query == "prefix" else address)
        with self._lock:
            self._renew()
            while not self._replies.empty():
                self._replies.get_nowait()
            self._waiting = {address, asked.address}
            try:
                self.send(asked, note=action)
                deadline = time.monotonic() + self.timeout_s
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise DeviceTimeoutError(
                            f"no OSC reply on {address} within {self.settings.timeout_ms:.0f} ms "
                            f"(OSC/{self.protocol}; is the unit on and is this its address?)",
                            device=self.device.name, port=self.port, action=action)
                    try:
                        reply = self._replies.get(timeout=left)
                    except queue.Empty:
                        continue
                    if reply is None:
                        raise self.error("the unit closed the OSC connection before answering", action,
                                         code="connection_closed")
                    if reply.address in self._waiting:
                        return reply
            finally:
                self._waiting = set()

    def read(self, names: list[str]) -> dict[str, Any]:
        """Ask for every parameter at once (the queries back to back, then the replies as they
        come, matched by address), so a read-back costs one round trip, not one per parameter;
        nothing waits past the profile's timeout."""
        params = self.device.profile.parameters
        prefix = self.settings.query_prefix if self.settings.query == "prefix" else ""
        name_of: dict[str, str] = {}
        for name in names:
            address = params[name].encoding.address
            name_of[address] = name_of[prefix + address] = name
        replies: dict[str, OscMessage] = {}
        with self._lock:
            self._renew()
            while not self._replies.empty():
                self._replies.get_nowait()
            self._waiting = set(name_of)
            try:
                for name in names:
                    self.send(OscCommand(prefix + params[name].encoding.address), note=f"reading {name}")
                deadline = time.monotonic() + self.timeout_s
                while len(replies) < len(names):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        name = next(n for n in names if n not in replies)
                        raise DeviceTimeoutError(
                            f"no OSC reply on {params[name].encoding.address} within {self.settings.timeout_ms:.0f} ms "
                            f"(OSC/{self.protocol}; is the unit on and is this its address?)",
                            device=self.device.name, port=self.port, action=f"reading {name}")
                    try:
                        reply = self._replies.get(timeout=left)
                    except queue.Empty:
                        continue
                    if reply is None:
                        raise self.error("the unit closed the OSC connection before answering",
                                         f"reading {next(n for n in names if n not in replies)}",
                                         code="connection_closed")
                    if reply.address in name_of:
                        replies.setdefault(name_of[reply.address], reply)
            finally:
                self._waiting = set()
        out: dict[str, Any] = {}
        for name in names:
            param = params[name]
            enc: OscEncoding = param.encoding
            action = f"reading {name}"
            reply = replies[name]
            args = list(reply.params)
            if len(args) != 1:
                raise self.error(f"OSC reply {enc.address} carries {len(args)} arguments; expected one "
                                 f"{_TYPE_NAMES[enc.type]} (,{enc.type})", action, code="wrong_type")
            try:
                out[name] = enc.from_arg(param, args[0])
            except ProfileError as exc:
                raise self.error(f"OSC reply {enc.address} {args[0]!r}: {exc.reason}", action,
                                 code="wrong_type") from None
        return out

    def listen(self, callback: Listener) -> Callable[[], None]:
        return self.add_listener(callback)

    # ---- the reader and the subscription -------------------------------------------------
    def _renew(self) -> None:
        s = self.settings
        if s.subscribe is None or time.monotonic() - self._subscribed_s < s.subscribe_ms / 1000:
            return
        self._subscribed_s = time.monotonic()
        self.send(OscCommand(s.subscribe), note="subscribe")

    def _read_loop(self) -> None:
        wire = self._wire
        assert wire is not None
        while not self._stop.is_set():
            try:
                packets = wire.receive(0.05)
                if self.settings.subscribe is not None and \
                        time.monotonic() - self._subscribed_s >= self.settings.subscribe_ms / 1000:
                    self._renew()
            except (OSError, DeviceError, slip.ProtocolError):
                packets = None
            if packets is None:
                self._replies.put(None)
                return
            for data in packets:
                if self.device.monitor is not None:
                    self.device.monitor.record(IN, self.port, data)
                try:
                    messages = _messages(data)
                except ParseError:
                    continue
                for msg in messages:
                    if msg.address in self._waiting:
                        self._replies.put(msg)
                    else:
                        self._unasked(msg)

    def _unasked(self, msg: OscMessage) -> None:
        name = self._by_address.get(msg.address)
        if name is None or len(msg.params) != 1:
            return
        param = self.device.profile.parameters[name]
        try:
            value = param.encoding.from_arg(param, msg.params[0])
        except ProfileError:
            return
        self.tell(name, value)


class OscSim(SimSide):
    """A unit listening for OSC on 127.0.0.1 (a free port), over UDP or SLIP-framed TCP.

    An address with an argument sets; without one (or with the query prefix) it answers
    with the value; the subscribe address makes the sender hear every change made by
    others (or on the panel) for ``lease_s`` (10 s, as the X32).
    """

    lease_s = 10.0

    def __init__(self, sim: Any, settings: OscSettings):
        self.sim = sim
        self.settings = settings
        self.protocol = _protocol(sim.port or "")
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._subscribers: dict[Any, float] = {}
        self._tcp_clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._by_address = {p.encoding.address: name for name, p in sim.profile.parameters.items()}
        self.answers = True
        """False: a unit that never answers (for fault tests)."""

    def start(self) -> None:
        kind = socket.SOCK_STREAM if self.protocol == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(socket.AF_INET, kind)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        if self.protocol == "tcp":
            sock.listen(8)
        self._sock = sock
        self.port = self.sim.port = f"osc.{self.protocol}://127.0.0.1:{sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._run, name=f"sim-osc {self.sim.profile.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
            clients, self._tcp_clients = self._tcp_clients, []
        for client in clients:
            client.close()
        if self._sock is not None:
            self._sock.close()

    def describe(self) -> str:
        return f"OSC {self.port}"

    @property
    def subscribers(self) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(1 for until in self._subscribers.values() if until > now)

    def transmit(self, param: str, value: Any) -> None:
        self._tell_subscribers(param, value, None)

    def _tell_subscribers(self, param: str, value: Any, source: Any) -> None:
        decoder = getattr(self.sim, "decoder", None)
        if decoder is not None:              # the unit's report as its document types it
            from devices.simulator import PanelMove
            report = decoder(self.sim, PanelMove(param, value))
            if not isinstance(report, tuple):
                return
            data = OscCommand(report[0], tuple(report[1])).bytes()
        else:
            parameter = self.sim.profile.parameters[param]
            enc: OscEncoding = parameter.encoding
            data = OscCommand(enc.address, (enc.to_arg(parameter, value),), enc.type).bytes()
        now = time.monotonic()
        with self._lock:
            targets = [peer for peer, until in self._subscribers.items() if until > now and peer != source]
        for peer in targets:
            self._send(peer, data)

    def _send(self, peer: Any, data: bytes) -> None:
        assert self._sock is not None
        try:
            if isinstance(peer, socket.socket):
                peer.sendall(slip.encode(data))
            else:
                self._sock.sendto(data, peer)
        except OSError:
            pass

    def _run(self) -> None:
        assert self._sock is not None
        buffers: dict[socket.socket, bytes] = {}
        while not self._stop.is_set():
            with self._lock:
                watched = [self._sock, *self._tcp_clients]
            try:
                ready, _, _ = select.select(watched, [], [], 0.05)
            except (OSError, ValueError):
                return
            for sock in ready:
                try:
                    if self.protocol == "udp":
                        data, peer = sock.recvfrom(65536)
                        self._packet(data, peer)
                    elif sock is self._sock:
                        client, _ = sock.accept()
                        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                        with self._lock:
                            self._tcp_clients.append(client)
                    else:
                        chunk = sock.recv(65536)
                        if not chunk:
                            with self._lock:
                                self._tcp_clients.remove(sock)
                            sock.close()
                            continue
                        packets, buffers[sock] = slip_frames(buffers.get(sock, b"") + chunk)
                        for data in packets:
                            self._packet(data, sock)
                except (OSError, slip.ProtocolError):
                    continue

    def _packet(self, data: bytes, peer: Any) -> None:
        sim = self.sim
        sim.received.append(data)
        try:
            messages = _messages(data)
        except ParseError as exc:
            sim.rejected.append(f"not OSC: {exc}")
            return
        for msg in messages:
            self._message(msg, peer)

    def _message(self, msg: OscMessage, peer: Any) -> None:
        sim = self.sim
        s = self.settings
        if s.subscribe is not None and msg.address == s.subscribe:
            with self._lock:
                self._subscribers[peer] = time.monotonic() + self.lease_s
            return
        address = msg.address
        asking = not msg.params
        decoder = getattr(sim, "decoder", None)
        if decoder is not None:      # the maker's document decodes and answers, not the profile's codec
            with sim._lock:
                before = dict(sim.state)
            answer = decoder(sim, msg)
            if isinstance(answer, tuple):
                if self.answers:
                    self._send(peer, OscCommand(answer[0], tuple(answer[1])).bytes())
            elif not answer:
                sim.rejected.append(f"not in the document: {msg.address} {list(msg.params)!r}")
            with sim._lock:
                changed = {k: v for k, v in sim.state.items() if before.get(k) != v}
            for name, value in changed.items():         # the other subscribed clients hear the change
                self._tell_subscribers(name, value, peer)
            return
        if s.query == "prefix" and address.startswith(s.query_prefix + "/"):
            address, asking = address[len(s.query_prefix):], True
        name = self._by_address.get(address)
        if name is None:
            sim.rejected.append(f"unknown address {msg.address}")
            return
        param = sim.profile.parameters[name]
        enc: OscEncoding = param.encoding
        if asking:
            if self.answers:
                with sim._lock:
                    value = sim.state[name]
                self._send(peer, OscCommand(address, (enc.to_arg(param, value),), enc.type).bytes())
            return
        if len(msg.params) != 1:
            sim.rejected.append(f"{address}: {len(msg.params)} arguments; expected one")
            return
        try:
            value = enc.from_arg(param, msg.params[0])
        except ProfileError as exc:
            sim.rejected.append(f"{address}: {exc.reason}")
            return
        sim._update(name, value)
        self._tell_subscribers(name, value, peer)


TRANSPORT = OscTransport()
