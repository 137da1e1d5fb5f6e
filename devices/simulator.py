"""Simulated gear for any profile, on the transport the real unit would use.

Each transport brings its simulator side (:mod:`devices.transports`): MIDI gear opens
virtual ports (on JACK here: a client named after ``port`` with an input that receives
and an output that answers dumps and transmits panel moves); serial gear sits on a
pseudo-terminal whose path is ``.port``; TCP and OSC gear listen on 127.0.0.1 at a free
port (``.port`` is then its URL). Hand-set units have no transport: their knobs are
turned with ``set``. Every simulator keeps ``.state`` (values in the engineer's units),
answers dumps and queries, rejects bad commands as its profile says, and calls its
``on_change`` callbacks, so the simulated analog gear can sound like where the knobs are.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mido

from devices.errors import ProfileError
from devices.profile import Profile
from devices.transports import transport_for_port
from devices.transports.base import SimSide


@dataclass(frozen=True)
class PanelMove:
    """Handed to a document decoder when a knob on the simulated unit is turned: the decoder
    answers with what the unit then says unasked (a Yamaha ``NOTIFY`` line), or None."""

    param: str
    value: Any


class Callbacks(list[Callable[[str, Any], None]]):
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
                 decoder: Callable[[Simulator, Any], Any] | None = None):
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
        """Reads incoming messages (MIDI, OSC, text lines) by the maker's document instead of the
        profile's codec (``devices.unit_sims``); returns True when it handled the message, False
        when the unit would refuse it, or the unit's answer (a text line; an OSC ``(address, args)``)."""
        self._impl: SimSide | None = None
        self._lock = threading.Lock()

    # ---- life cycle ----------------------------------------------------------------
    def start(self) -> Simulator:
        if self._impl is not None:
            return self
        impl = transport_for_port(self.profile.transport, self.port).simulate(self)
        impl.start()
        self._impl = impl
        return self

    def stop(self) -> None:
        impl, self._impl = self._impl, None
        if impl is not None:
            impl.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._impl is not None

    @property
    def assigns_port(self) -> bool:
        """Its port is chosen when it starts (a pseudo-terminal path, a free TCP/UDP port's URL)."""
        return transport_for_port(self.profile.transport, self.port).assigns_port

    def describe(self) -> str:
        """Where it listens, for a person."""
        if self._impl is None:
            return f"{self.profile.transport} port {self.port!r} (stopped)"
        return self._impl.describe()

    # ---- the panel ----------------------------------------------------------------
    def set(self, param: str, value: Any, *, transmit: bool = True) -> Any:
        """Turn a knob on the front panel. Gear that reports its panel sends the move."""
        parameter = self.profile.parameter(param)
        value = parameter.parse(value)
        self._update(param, value)
        if transmit and self._impl is not None:
            self._impl.transmit(param, value)
        return value

    def transmit(self, msg: mido.Message) -> None:
        """Send a raw MIDI message out of the unit (a dump reply, a front-panel dump)."""
        send = getattr(self._impl, "send", None)
        if send is not None and isinstance(msg, mido.Message):
            send(msg)

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
