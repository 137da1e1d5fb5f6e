"""What every transport provides: its profile tables, its encodings, a link, a simulator.

A :class:`Transport` is registered once (``devices.transports._MODULES``). It describes a
way of reaching gear: which URL schemes it opens, which protocol its parameters speak
(``midi``, ``text``, ``osc``; ``none`` for hand-set units), how a profile's settings table
and each parameter's encoding table are read, and how a :class:`Link` (the one transport
interface: open, close, send, query, listen) and a simulator are made.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from devices.errors import DeviceError
from devices.gc_pause import gc_paused

if TYPE_CHECKING:
    from devices.monitor import TrafficMonitor
    from devices.parameter import Parameter
    from devices.profile import Profile


class DeviceContext(Protocol):
    """What a link needs from the device it serves (``devices.device.Device`` is one)."""

    profile: Profile
    name: str
    channel: int
    device_id: int
    monitor: TrafficMonitor | None
    backend: Any
    rate_limit: bool

    def heard(self, param: str, value: Any) -> None:
        """A value the unit reported without being asked (a panel move, a status block)."""


Listener = Callable[[str, Any], None]


class Link:
    """An open connection to one unit: the one transport interface.

    ``send`` hands one planned message to the wire (paced as the gear needs);
    ``query`` sends and returns the matching answer (or raises naming unit, port and
    what was expected, within the profile's timeout); ``listen`` calls back with what the
    unit says unasked. ``apply`` and ``read`` are the device-level operations built on them.
    """

    def __init__(self, device: DeviceContext, port: str):
        self.device = device
        self.port = port
        self._listeners: list[Listener] = []

    # ---- the transport interface ------------------------------------------------------
    def open(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def send(self, message: Any, *, note: str = "") -> None:
        raise NotImplementedError

    def query(self, _message: Any, *, action: str) -> Any:
        raise self.error("this transport cannot ask the unit anything", action)

    def listen(self, _callback: Listener) -> Callable[[], None]:
        raise self.error("this unit does not report its panel over this transport", "listening")

    # ---- device operations ------------------------------------------------------------
    def apply(self, planned: list[Any]) -> None:
        """Send planned messages (``.message``, ``.action``) in order; return once they are out."""
        self.hand_over(planned)
        self.drain()

    def hand_over(self, planned: list[Any]) -> None:
        """Send planned messages in order, not waiting for the wire after the last (``drain``).
        No garbage collection while they are handed over (a pause there makes them late)."""
        with gc_paused():
            for item in planned:
                self.send(item.message, note=item.action)

    @property
    def books_ahead(self) -> bool:
        """Whether messages are placed at their slot on the wire by the port itself, so that
        handing a unit's messages over takes microseconds and waiting is left to ``drain``."""
        return False

    def drain(self) -> None:
        """Wait until what was sent has left the wire."""

    def read(self, _names: list[str]) -> dict[str, Any]:
        raise self.error("its profile has no read-back over this transport", "reading back")

    def send_raw(self, message: Any, *, note: str) -> Any:
        self.send(message, note=note)
        self.drain()
        return None

    def open_input(self) -> None:
        """Get ready to hear the unit (a MIDI input is opened lazily otherwise)."""

    def receive(self, _fits: Callable[[Any], bool], _timeout_s: float, *, action: str, send_first: Any = None,
                flush: bool = True) -> Any:
        """The first incoming message ``fits`` accepts, listening before ``send_first`` goes out
        (a unit's SysEx dump)."""
        del send_first, flush
        raise self.error("only MIDI gear sends SysEx dumps", action)

    # ---- helpers ------------------------------------------------------------------------
    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """For links that hear the unit unasked: ``callback`` is told by :meth:`tell`."""
        self._listeners.append(callback)

        def stop() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)
        return stop

    def tell(self, param: str, value: Any) -> None:
        """The unit reported ``param`` unasked: the device's known state and every listener."""
        self.device.heard(param, value)
        for callback in list(self._listeners):
            callback(param, value)

    def error(self, reason: str, action: str, *, code: str | None = None) -> DeviceError:
        return DeviceError(reason, device=self.device.name, action=action, port=self.port, code=code)


class SimSide:
    """The transport end of a simulated unit (``devices.simulator.Simulator`` owns the state)."""

    port: str = ""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def transmit(self, param: str, value: Any) -> None:
        """The panel moved: tell the connected controller if the unit does that."""

    def send(self, message: Any) -> None:
        """Send one message out of the unit as it is (a MIDI dump reply); ignored where
        the transport has no such thing."""


@dataclass
class Identity:
    """What answered on a port, as ``hybrid devices scan`` reports it."""

    port: str
    transport: str
    answer: str
    """What the unit said (its inquiry reply in hex, its banner)."""
    profiles: list[str] = field(default_factory=list)
    """Ids of the profiles that fit the answer."""
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"port": self.port, "transport": self.transport, "answer": self.answer,
                "profiles": list(self.profiles), **self.detail}


class Transport:
    """One registered way of reaching gear. Subclasses set the class attributes."""

    name: str = ""
    """The profile's ``transport`` value, and the table its settings live in (``[tcp]``)."""
    protocol: str = "none"
    """What its parameters speak: ``midi``, ``text``, ``osc``; ``none`` (hand-set)."""
    schemes: tuple[str, ...] = ()
    """URL schemes this transport opens (``tcp`` for ``tcp://host:port``)."""
    encoding_key: str | None = None
    """The key of a parameter's encoding table (``parameters.X.midi``); None: no wire encoding."""
    machine_settable: bool = True
    routes_by_text: bool = False
    """Router profiles (``[router]``, text tie commands) work over it."""
    assigns_port: bool = False
    """Its simulator picks its own port (a pseudo-terminal, a free TCP/UDP port)."""
    carries_sysex: bool = False
    """It carries SysEx, so a unit's edit buffer can be dumped and replayed (``[dump]``)."""
    identifies_alongside: bool = True
    """``identify`` may run while other ports are asked (False: one at a time, e.g. JACK MIDI clients)."""

    # ---- the profile ---------------------------------------------------------------------
    def load_settings(self, _reader: Any, _base: Any) -> Any:
        """This transport's table of a profile (``reader`` None when absent). ``base``: the
        settings of the profile's own transport when this is another one (or None)."""
        return None

    def load_encoding(self, _reader: Any, _param: Parameter, _settings: Any) -> Any:
        """A parameter's encoding, from ``reader.table[self.encoding_key]``."""
        return None

    def check_profile(self, reader: Any, parameters: dict[str, Parameter], settings: Any) -> None:
        """Checks across parameters once all are read (collisions, dump sizes)."""

    def readback_possible(self, _parameters: dict[str, Parameter], _settings: Any, _router: Any) -> bool:
        return False

    def listens(self, _profile: Profile) -> bool:
        """The unit tells of its panel moves (lets a device learn a setting from the gear)."""
        return False

    # ---- the device ----------------------------------------------------------------------
    def plan(self, device: DeviceContext, _name: str, _param: Parameter, _value: Any) -> list[Any]:
        raise DeviceError("is set by hand; there is nothing to send", device=device.name, action="planning")

    def quantize(self, _param: Parameter, value: Any) -> Any:
        """What the gear holds once ``value`` has crossed the wire."""
        return value

    def wire_time_s(self, _profile: Profile, _messages: list[Any]) -> float:
        return 0.0

    def link(self, device: DeviceContext, _port: str) -> Link:
        raise DeviceError("is set by hand (no remote control); recall it with the walk-through",
                          device=device.name, action="opening")

    def simulate(self, sim: Any) -> SimSide:
        raise NotImplementedError

    def scan_ports(self) -> list[str]:
        """Ports of this transport present on this machine that ``hybrid devices scan`` tries
        unasked (MIDI ports; never network addresses: those are given)."""
        return []

    def identify(self, _port: str, _profiles: list[Profile], _timeout_s: float) -> Identity | None:
        """Ask what answers on ``port`` (a device inquiry, a banner); None when nothing does."""
        return None

    def presence(self, port: str, _cache: dict[str, Any]) -> tuple[bool, str]:
        """Whether ``port`` is there now, and a word on it (``cache`` is shared by one listing)."""
        return True, f"{self.name} {port} (checked when used)"
