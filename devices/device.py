"""One piece of gear on one port: plan, send (paced), read back, route, learn.

``Device`` is what recall, routing and surfaces use. It never knows a song: it is given
values in the engineer's units, checks every one before a byte goes out, turns them into
messages with the profile's codecs, and sends them at the pace of the wire.

    with Device(resolve_profile("hy-comp-cc"), "hy-comp-cc", name="1176 #2") as comp:
        comp.apply({"threshold": "-12 dB", "ratio": "4:1"})
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import mido

from devices.errors import DeviceError, DeviceTimeoutError, ProfileError
from devices.monitor import TrafficMonitor
from devices.profile import Profile, RouterSpec
from devices.text_codec import TextTemplate
from devices.transports import transport, transport_for_port
from devices.transports.base import Link
from devices.transports.text import SerialCommand, TextLink

READ_ATTEMPTS = 2
"""A read-back that got no answer within the profile's reply time is asked once more before
the unit is reported silent (a dump request is harmless to repeat): on a loaded machine one
answer can miss its window (the gear is another process, JACK MIDI delivers per cycle).
A unit that is off costs twice its reply time to report."""

__all__ = ["Device", "Message", "SerialCommand"]

Message = Any
"""A planned message: a ``mido.Message`` for MIDI gear, a ``SerialCommand`` for text gear,
an ``OscCommand`` for OSC gear. Each has ``bytes()``."""


@dataclass
class _Planned:
    message: Message
    param: str | None = None
    action: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Prepared:
    """Values checked and encoded for one device, ready to send (``Device.prepare``): a
    recall encodes every unit before its ports start sending, so the sending threads only
    hand bytes to the wire."""

    device: str
    items: tuple[_Planned, ...]
    wire_time_s: float

    @property
    def messages(self) -> list[Message]:
        return [item.message for item in self.items]


class Device:
    """A device of ``profile`` reached at ``port``: a MIDI port name, a serial path, or a URL
    (``tcp://HOST:PORT``, ``osc.udp://HOST:PORT``, pyserial's ``socket://``...).

    The port's transport (:mod:`devices.transports`) does the talking; the device checks
    values, plans messages with the profile's codecs and keeps what the unit said unasked
    in ``known``.
    """

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
        self.channel: int = channel or (midi.channel if midi else 1)
        self.device_id: int = device_id if device_id is not None else (midi.device_id if midi else 0x10)
        self.transport = transport(profile.transport)
        """The profile's own transport: it plans the messages (the port's may carry them)."""
        self.known: dict[str, Any] = {}
        """Values the unit reported without being asked (panel moves, status blocks)."""
        self._link: Link | None = None
        self._heard: list[Callable[[str, Any], None]] = []
        self._lock = threading.RLock()

    # ---- life cycle ----------------------------------------------------------------
    def open(self) -> Device:
        if not self.profile.recallable:
            raise DeviceError("is set by hand (no remote control); recall it with the walk-through",
                              device=self.name, action="opening")
        if not self.port:
            raise DeviceError("no port given", device=self.name, action="opening")
        if self.is_open:
            return self
        try:
            link = transport_for_port(self.profile.transport, self.port).link(self, self.port)
        except DeviceError as exc:
            raise DeviceError(exc.reason, device=self.name, action="opening", code=exc.code) from None
        link.open()
        self._link = link
        return self

    def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            link.close()

    def __enter__(self) -> Device:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._link is not None

    @property
    def readback(self) -> bool:
        return self.profile.readback

    def open_input(self) -> None:
        """Get ready to hear the unit now (MIDI opens its answering port lazily otherwise)."""
        self._require_open("opening for read-back").open_input()

    def heard(self, param: str, value: Any) -> None:
        """The unit reported ``param`` unasked (called by the transport's reader)."""
        self.known[param] = value
        for callback in list(self._heard):
            callback(param, value)

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

    def prepare(self, values: dict[str, Any]) -> Prepared:
        """Check and encode ``values`` now, to send later with ``send_prepared``."""
        items = tuple(self._plan(values))
        return Prepared(self.name, items, float(self.wire_time_s([item.message for item in items])))

    def _plan(self, values: dict[str, Any]) -> list[_Planned]:
        if not self.profile.recallable:
            raise DeviceError("is set by hand; there is nothing to send", device=self.name, action="planning")
        checked = self.check(values)
        out: list[_Planned] = []
        for name, value in checked.items():
            param = self.profile.parameters[name]
            action = f"set {name} {param.format(value)}"
            for msg in self.transport.plan(self, name, param, value):
                out.append(_Planned(msg, name, action))
        return out

    def wire_time_s(self, messages: list[Message]) -> float:
        """How long the bytes of ``messages`` take on the wire, plus the gaps the gear asks for."""
        return self.transport.wire_time_s(self.profile, messages)

    def quantize(self, values: dict[str, Any]) -> dict[str, Any]:
        """What the gear will hold (and read back) once ``values`` have crossed its wire.

        MIDI: the wire number's resolution (7 or 14 bits, or the detents' numbers).
        Text: the command's own formatting (``DRV {value:.1f}`` keeps one decimal).
        """
        checked = self.check(values)
        return {name: self.transport.quantize(self.profile.parameters[name], value)
                for name, value in checked.items()}

    # ---- sending -------------------------------------------------------------------
    def apply(self, values: dict[str, Any]) -> list[Message]:
        """Check every value, then send them all, paced; returns what was sent.

        Returns when the last byte has left the (modelled) wire. A port that vanished,
        a reply that did not come or an error reply raises DeviceError naming the parameter.
        """
        return self.send_prepared(self.prepare(values))

    def send_prepared(self, prepared: Prepared) -> list[Message]:
        """Send what ``prepare`` encoded, paced, as ``apply`` does; returns what was sent."""
        link = self._prepared_link(prepared)
        with self._lock:
            link.apply(list(prepared.items))
        return prepared.messages

    def _prepared_link(self, prepared: Prepared) -> Link:
        if prepared.device != self.name:
            raise DeviceError(f"was given the messages prepared for {prepared.device!r}", device=self.name,
                              action="applying")
        return self._require_open("applying")

    def handing_over(self, prepared: Prepared) -> Iterator[Message]:
        """Hand what ``prepare`` encoded to a port that books ahead (``books_ahead``), one
        message at each step, yielding it: a recall steps several units in turn, so every
        port's first message is booked within microseconds of the others' instead of after
        whole units (each message keeps its own slot on its own wire). ``drain()`` waits for
        the wire."""
        link = self._prepared_link(prepared)
        for item in prepared.items:
            with self._lock:
                link.hand_over([item])
            yield item.message

    def drain(self) -> None:
        """Wait until what was sent has left the wire (a port gone meanwhile: DeviceError)."""
        link = self._require_open("applying")
        with self._lock:
            link.drain()

    @property
    def books_ahead(self) -> bool:
        """Whether this unit's port places messages at their slot on the wire itself: its
        messages are handed over in microseconds (``handing_over``)."""
        return self._link is not None and self._link.books_ahead

    def set(self, param: str, value: Any) -> Any:
        """Set one parameter; returns the checked value."""
        checked = self.check({param: value})
        self.apply(checked)
        return checked[param]

    def send_raw(self, message: Message, *, note: str = "raw") -> Any:
        """Send one already built message (a mido.Message, a SerialCommand or text line, an
        OSC command), paced like the rest. Returns a text unit's reply line, unjudged."""
        link = self._require_open(note)
        with self._lock:
            return link.send_raw(message, note=note)

    def receive_raw(self, fits: Callable[[mido.Message], bool], timeout_s: float, *, action: str,
                    send_first: mido.Message | None = None, flush: bool = True) -> mido.Message:
        """The first incoming MIDI message ``fits`` accepts (listening starts before ``send_first``
        goes out, so the answer is not missed). Used to capture a unit's dumps."""
        link = self._require_open(action)
        with self._lock:
            return link.receive(fits, timeout_s, action=action, send_first=send_first, flush=flush)

    # ---- reading back --------------------------------------------------------------
    def read(self, params: list[str] | None = None) -> dict[str, Any]:
        """Ask the gear what it is set to; values in the engineer's units, panel order."""
        p = self.profile
        if not p.readback:
            raise DeviceError("its profile has no read-back (no dump or queries)", device=self.name,
                              action="reading back")
        names = list(p.parameters) if params is None else [p.parameter(n).name for n in params]
        link = self._require_open("reading back")
        with self._lock:
            for _ in range(READ_ATTEMPTS - 1):
                try:
                    return link.read(names)
                except DeviceTimeoutError:
                    pass   # asked again below; the last ask's timeout is the one reported
            return link.read(names)

    # ---- router ----------------------------------------------------------------------
    def _router(self, action: str) -> tuple[RouterSpec, TextLink]:
        spec = self.profile.router
        if spec is None:
            raise DeviceError(f"profile {self.profile.id} is not a router", device=self.name, action=action)
        link = self._require_open(action)
        if not isinstance(link, TextLink):
            raise DeviceError("routes by text commands, which its port's transport does not carry",
                              device=self.name, action=action)
        return spec, link

    def _check_port(self, kind: str, number: int, count: int, action: str) -> None:
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= count:
            raise DeviceError(f"{kind} {number!r} is out of range; expected 1..{count}", device=self.name,
                              action=action)

    def tie(self, input: int, output: int) -> None:
        """Connect ``input`` to ``output`` (1-based), checked against the unit's answer."""
        action = f"tie input {input} to output {output}"
        spec, link = self._router(action)
        self._check_port("input", input, spec.inputs, action)
        self._check_port("output", output, spec.outputs, action)
        self._route(link, spec.tie.build(input=spec.wire_port(input), output=spec.wire_port(output)),
                    spec.tie_reply, action, want={"input": spec.wire_port(input), "output": spec.wire_port(output)})

    def untie(self, output: int) -> None:
        """Disconnect whatever feeds ``output``."""
        action = f"untie output {output}"
        spec, link = self._router(action)
        if spec.untie is None or spec.untie_reply is None:
            raise DeviceError("its profile has no untie command", device=self.name, action=action)
        self._check_port("output", output, spec.outputs, action)
        self._route(link, spec.untie.build(output=spec.wire_port(output)), spec.untie_reply, action,
                    want={"output": spec.wire_port(output)})

    def ties(self) -> dict[int, int]:
        """Read back ``{output: input}`` for every output that is fed (0 = nothing is left out)."""
        action = "reading ties"
        spec, link = self._router(action)
        if spec.query is None or spec.query_reply is None:
            raise DeviceError("its profile has no tie query", device=self.name, action=action)
        out = {}
        with self._lock:
            for output in range(1, spec.outputs + 1):
                found = self._route(link, spec.query.build(output=spec.wire_port(output)), spec.query_reply,
                                    f"reading output {output}", want={})
                source = spec.port_from_wire(int(found["input"]))
                if 1 <= source <= spec.inputs:
                    out[output] = source
        return out

    def _route(self, link: TextLink, text: str, reply_t: TextTemplate, action: str,
               want: dict[str, int]) -> dict[str, Any]:
        with self._lock:
            reply = link.query(text, action=action, expect=reply_t)
        found = reply_t.match(reply)
        if found is None:
            link.raise_reply(reply, action, expected=reply_t.text)
            raise AssertionError("unreachable")
        for key, value in want.items():
            if key in found and int(found[key]) != value:
                raise link.error(f"the unit answered {reply!r}, not {key} {value}", action, code="garbled_reply")
        return found

    # ---- learning from the panel -------------------------------------------------------
    def listen(self, callback: Callable[[str, Any], None]) -> Callable[[], None]:
        """Call ``callback(param, value)`` for each panel move the gear transmits (MIDI), or
        each value it reports unasked (a status block over TCP, an OSC subscription).

        Returns a function that stops listening. Used to learn a setting from the unit.
        """
        return self._require_open("listening").listen(callback)

    def _require_open(self, action: str) -> Link:
        if self._link is None:
            raise DeviceError("is not open", device=self.name, action=action)
        return self._link

    def __repr__(self) -> str:
        return f"Device({self.profile.id!r}, port={self.port!r}, name={self.name!r})"
