"""TCP: text protocols over a network socket, ``tcp://HOST:PORT``.

What network gear does that a serial line does not: a greeting on connect (a banner,
Extron's copyright line; the Videohub's whole state dump ending ``END PRELUDE:``), a
password prompt without a line end, status blocks nobody asked for (the Videohub tells
every client of every route change), replies of several lines (blocks ending in a blank
line), and connections that drop. The link keeps one socket with a reader thread:

- replies are split on the reply terminator (``"\\n\\n"`` makes blocks of lines);
- while a command waits, a reply that could answer it (acknowledge, error, a value or
  tie reply of the profile) is its answer; with ``unsolicited = true`` anything else is
  the unit speaking unasked: fed to the device's known state and the traffic monitor;
- a dropped connection fails the waiting command at once (never a wait to the timeout)
  and is re-opened on the next command, with back-off between attempts;
- ``keepalive`` is sent when the line has been idle for ``keepalive_ms``.

Profile table ``[tcp]``: the text keys of ``[serial]`` (terminators, ack, error,
timeouts) plus ``port``, ``banner``, ``password_prompt``, ``password``, ``login_ok``,
``keepalive``, ``keepalive_ms``, ``unsolicited``, ``reconnect_ms``, ``reconnect_max_ms``.
A serial unit with a network port (Extron, Kramer) may carry a ``[tcp]`` table with just
the network keys; its ``[serial]`` text settings are used over TCP.
"""

from __future__ import annotations

import queue
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from devices.errors import DeviceError, DeviceTimeoutError
from devices.monitor import IN, OUT
from devices.profile import SerialSettings, _load_serial
from devices.text_codec import SerialEncoding, TextTemplate, decode_escapes
from devices.transports.base import DeviceContext, Identity, Link, Listener, SimSide
from devices.transports.text import TextAnswerer, TextLink, TextTransport, banner_fits

PUMP_S = 0.05
"""How often a listened-to link takes the lines a unit sent unasked between commands."""

_NET_KEYS = ("port", "banner", "greeting", "identify", "password_prompt", "password", "login_ok", "keepalive", "keepalive_ms",
             "unsolicited", "reconnect_ms", "reconnect_max_ms")


@dataclass(frozen=True)
class TcpSettings(SerialSettings):
    """``[tcp]``: a text protocol's settings plus what a network session needs."""

    port: int | None = None
    """The TCP port when the URL gives none (Videohub 9990, Extron 23)."""
    banner: TextTemplate | None = None
    """A line (or block) the unit sends on connect; commands wait until it has come."""
    greeting: TextTemplate | None = None
    """A line or block the unit sends first that says what it is (``hybrid devices scan``
    recognises it by this, else by ``banner``); may hold ``{value}``, ``{index}``, one ``{label}``."""
    identify: str | None = None
    """A question for a unit that says nothing on connect (Yamaha RCP ``devinfo productname``):
    ``hybrid devices scan`` asks it and recognises the answer by ``greeting``."""
    password_prompt: str | None = None
    """Text that asks for a password (may come without a line end: ``Password:``)."""
    password: str | None = None
    login_ok: TextTemplate | None = None
    """What the unit answers to a good password (else the next reply is taken as the login)."""
    keepalive: str | None = None
    """A harmless command sent when the line has been idle for ``keepalive_ms``."""
    keepalive_ms: float = 0.0
    unsolicited: bool = False
    """The unit sends status it was not asked for; replies are matched to requests."""
    reconnect_ms: float = 100.0
    """First pause before re-connecting after a drop; doubles up to ``reconnect_max_ms``."""
    reconnect_max_ms: float = 5000.0


def _template(reader: Any, name: str) -> TextTemplate | None:
    text = reader.get(name, str, default=None, what="a text template")
    return None if text is None else TextTemplate.parse(decode_escapes(text), file=reader.file, key=reader.key(name),
                                                        allowed=())


def _listen(sock: socket.socket, profiles: list[Any], transport: str, timeout_s: float) -> bytes:
    """What a unit says within ``timeout_s``; sooner once it fits a profile's greeting."""
    heard = b""
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([sock], [], [], left)
        if not ready:
            break
        try:
            chunk = sock.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        heard += chunk
        if banner_fits(heard.decode("latin-1"), profiles, transport):
            break              # a greeting fitted: no need to sit out the timeout
    return heard


class TcpTransport(TextTransport):
    name = "tcp"
    encoding_key = "tcp"
    schemes = ("tcp",)
    assigns_port = True

    def load_settings(self, reader: Any, base: Any) -> TcpSettings:
        text: SerialSettings = base if isinstance(base, SerialSettings) else SerialSettings()
        net: dict[str, Any] = {}
        if reader is not None:
            text_table = {k: v for k, v in reader.table.items() if k not in _NET_KEYS}
            if text_table:
                text = _load_serial(type(reader)(reader.file, text_table, reader.path))
            net["port"] = reader.get("port", int, default=None, what="a TCP port 1..65535")
            if net["port"] is not None and not 1 <= net["port"] <= 65535:
                reader.fail("port", f"expected a TCP port 1..65535, got {net['port']}")
            net["banner"] = _template(reader, "banner")
            greeting = reader.get("greeting", str, default=None, what="a text template")
            net["greeting"] = None if greeting is None else TextTemplate.parse(
                decode_escapes(greeting), file=reader.file, key=reader.key("greeting"), allowed=("value", "index", "label"))
            net["login_ok"] = _template(reader, "login_ok")
            for key in ("password_prompt", "password", "keepalive", "identify"):
                value = reader.get(key, str, default=None)
                net[key] = decode_escapes(value) if value is not None else None
            net["keepalive_ms"] = float(reader.number("keepalive_ms", default=0, lo=0, hi=3_600_000))
            net["unsolicited"] = reader.get("unsolicited", bool, default=False)
            net["reconnect_ms"] = float(reader.number("reconnect_ms", default=100, lo=1, hi=60000))
            net["reconnect_max_ms"] = float(reader.number("reconnect_max_ms", default=5000, lo=1, hi=600000))
            if net["password"] is not None and net["password_prompt"] is None:
                reader.fail("password", "a password needs the password_prompt the unit asks with")
            if net["identify"] is not None and net["greeting"] is None:
                reader.fail("identify", "a question needs the greeting its answer is recognised by")
        values = {f.name: getattr(text, f.name) for f in fields(SerialSettings)}
        return TcpSettings(**values, **net)

    def wire_time_s(self, _profile: Any, _messages: list[Any]) -> float:
        return 0.0

    def link(self, device: DeviceContext, port: str) -> Link:
        return TcpLink(device, port, self._tcp_settings(device.profile))

    def simulate(self, sim: Any) -> SimSide:
        return TcpSim(sim, self._tcp_settings(sim.profile))

    def _tcp_settings(self, profile: Any) -> TcpSettings:
        found = self.text_settings(profile)
        assert isinstance(found, TcpSettings)
        return found

    def identify(self, port: str, profiles: list[Any], timeout_s: float) -> Identity | None:
        """Connect and read what the unit says first (its banner); profiles whose banner fits.

        A unit that says nothing within half the timeout is asked the questions of the
        profiles that have one (``identify``), and its answers are read for the rest."""
        try:
            address = host_port(port, None)
            sock = socket.create_connection(address, timeout=timeout_s)
        except (DeviceError, OSError):
            return None
        questions = []
        for profile in profiles:
            settings = profile.settings.get(self.name)
            ask = getattr(settings, "identify", None)
            if ask and (ask + settings.terminator) not in questions:
                questions.append(ask + settings.terminator)
        with sock:
            heard = _listen(sock, profiles, self.name, timeout_s / 2 if questions else timeout_s)
            if not heard and questions:
                try:
                    sock.sendall("".join(questions).encode("latin-1"))
                except OSError:
                    return None
                heard = _listen(sock, profiles, self.name, timeout_s / 2)
        if not heard:
            return None                    # connected, but the unit said nothing within the timeout
        text = heard.decode("latin-1")
        return Identity(port, self.name, text, banner_fits(text, profiles, self.name))

    def presence(self, port: str, _cache: dict[str, Any]) -> tuple[bool, str]:
        try:
            host, number = host_port(port, None)
        except DeviceError as exc:
            return False, exc.reason
        try:
            with socket.create_connection((host, number), timeout=0.5):
                return True, f"answers at {host}:{number}"
        except OSError as exc:
            return False, f"nothing answers at {host}:{number} ({exc.strerror or exc})"


def host_port(url: str, default_port: int | None) -> tuple[str, int]:
    """``("10.0.0.5", 9990)`` from ``tcp://10.0.0.5:9990`` (or ``osc.udp://...``)."""
    rest = url.split("://", 1)[1] if "://" in url else url
    rest = rest.split("/", 1)[0]
    host, sep, number = rest.rpartition(":")
    if not sep:
        host, number = rest, ""
    host = host.strip("[]")
    if not host:
        raise DeviceError(f"no host in {url!r}; expected SCHEME://HOST:PORT", action="opening", code="port_not_found")
    if not number:
        if default_port is None:
            raise DeviceError(f"no port number in {url!r}; expected SCHEME://HOST:PORT", action="opening",
                              code="port_not_found")
        return host, default_port
    if not number.isdigit() or not 1 <= int(number) <= 65535:
        raise DeviceError(f"bad port number {number!r} in {url!r}; expected 1..65535", action="opening",
                          code="port_not_found")
    return host, int(number)


class _Closed:
    """Put on the reply queue when the peer hung up."""


class TcpLink(TextLink):
    def __init__(self, device: DeviceContext, port: str, settings: TcpSettings):
        super().__init__(device, port)
        self.settings = settings
        self.tcp = settings
        self.address = host_port(port, settings.port or device.profile.network_port)
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._replies: queue.Queue[str | _Closed] = queue.Queue()
        self._waiting = threading.Event()
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._last_io_s = time.monotonic()
        self._next_try_s = 0.0
        self._backoff_s = settings.reconnect_ms / 1000
        self._keepalive: threading.Thread | None = None
        self._prompted = threading.Event()
        self._pump: threading.Thread | None = None

    @property
    def timeout_s(self) -> float:
        return self.tcp.timeout_ms / 1000

    # ---- life cycle ----------------------------------------------------------------------
    def open(self) -> None:
        self._closing.clear()
        self._connect("opening")
        if self.tcp.keepalive and self.tcp.keepalive_ms > 0 and self._keepalive is None:
            self._keepalive = threading.Thread(target=self._keep_alive, name=f"tcp-keepalive {self.port}",
                                               daemon=True)
            self._keepalive.start()

    def close(self) -> None:
        self._closing.set()
        self._drop()
        if self._keepalive is not None:
            self._keepalive.join(timeout=1)
            self._keepalive = None
        pump = self._pump
        if pump is not None and pump is not threading.current_thread():
            pump.join(timeout=1)

    def _drop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        reader, self._reader = self._reader, None
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=1)

    def _connect(self, action: str) -> None:
        """Connect, read the greeting, log in; within the profile's timeout."""
        wait = self._next_try_s - time.monotonic()
        if wait > 0:             # back-off after a drop: never hammer a unit that is rebooting
            if wait > self.timeout_s:
                raise self.error(f"the connection dropped; next try in {wait:.1f} s", action, code="connection_closed")
            time.sleep(wait)
        deadline = time.monotonic() + self.timeout_s
        try:
            sock = socket.create_connection(self.address, timeout=self.timeout_s)
        except OSError as exc:
            self._failed_attempt()
            reason = exc.strerror or str(exc) or type(exc).__name__
            raise self.error(f"cannot connect to {self.address[0]}:{self.address[1]}: {reason}", action,
                             code="port_not_found") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The socket keeps the profile's timeout: a send to a unit that stopped reading gives up;
        # the reader treats a quiet spell as nothing more (replies wait on the queue's deadline).
        self._sock = sock
        self._replies = queue.Queue()
        self._prompted = threading.Event()
        self._reader = threading.Thread(target=self._read_loop, args=(sock,), name=f"tcp {self.port}", daemon=True)
        self._reader.start()
        try:
            if self.tcp.banner is not None:
                self._await(lambda r: self.tcp.banner is not None and self.tcp.banner.match(r) is not None,
                            deadline, action, f"greeting {self.tcp.banner.text!r}", code="no_banner")
            if self.tcp.password is not None:
                if not self._prompted.wait(max(0.0, deadline - time.monotonic())):
                    raise self.error(f"no password prompt {self.tcp.password_prompt!r} within "
                                     f"{self.tcp.timeout_ms:.0f} ms", action, code="no_banner")
                self._prompted.clear()
                self._write(self.tcp.password + self.tcp.terminator, "password", shown=b"*****")
                self._login(deadline, action)
        except DeviceError:
            self._failed_attempt()
            self._drop()
            raise
        self._backoff_s = self.tcp.reconnect_ms / 1000
        self._next_try_s = 0.0

    def _login(self, deadline: float, action: str) -> None:
        """After the password: the unit's welcome (or any line), not a second prompt."""
        seen: list[str] = []
        while time.monotonic() < deadline:
            if self._prompted.is_set():
                raise self.error("the unit refused the password (it asked again)", action, code="refused")
            try:
                reply = self._replies.get(timeout=0.01)
            except queue.Empty:
                continue
            if isinstance(reply, _Closed):
                raise self.error("the unit closed the connection after the password", action, code="refused")
            if self.tcp.login_ok is None or self.tcp.login_ok.match(reply) is not None:
                return
            if self.tcp.error is not None and self.tcp.error.match(reply) is not None:
                raise self.error(f"the unit refused the password (answered {ascii(reply)})", action,
                                 code="refused")
            seen.append(reply)
            self._unasked(reply)
        want = f" {self.tcp.login_ok.text!r}" if self.tcp.login_ok is not None else " answer"
        got = f" (got {ascii(seen[-1])})" if seen else ""
        raise DeviceTimeoutError(f"no{want} after the password within {self.tcp.timeout_ms:.0f} ms{got}",
                                 device=self.device.name, port=self.port, action=action, code="refused")

    def _failed_attempt(self) -> None:
        self._next_try_s = time.monotonic() + self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, self.tcp.reconnect_max_ms / 1000)

    def _await(self, fits: Any, deadline: float, action: str, expected: str, *, code: str) -> str:
        """The first reply for which ``fits`` is true; others are the unit speaking unasked."""
        seen: list[str] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                got = f" (got {ascii(seen[-1])})" if seen else ""
                raise DeviceTimeoutError(f"no {expected} within {self.tcp.timeout_ms:.0f} ms{got}",
                                         device=self.device.name, port=self.port, action=action, code=code)
            try:
                reply = self._replies.get(timeout=left)
            except queue.Empty:
                continue
            if isinstance(reply, _Closed):
                raise self.error(f"the unit closed the connection while {expected} was awaited", action,
                                 code="connection_closed")
            if fits(reply):
                return reply
            seen.append(reply)
            self._unasked(reply)

    # ---- bytes ----------------------------------------------------------------------------
    def _write(self, text: str, note: str, *, shown: bytes | None = None) -> None:
        data = text.encode("latin-1")
        sock = self._sock
        if sock is None:
            raise self.error("is not connected", note, code="connection_closed")
        if self.device.monitor is not None:
            self.device.monitor.record(OUT, self.port, shown if shown is not None else data, note)
        try:
            sock.sendall(data)
        except OSError as exc:
            self._drop()
            raise self.error(f"the connection failed: {exc.strerror or exc}", note, code="connection_closed") from None
        self._last_io_s = time.monotonic()

    def _read_loop(self, sock: socket.socket) -> None:
        end = self.tcp.reply_terminator.encode("latin-1")
        prompt = (self.tcp.password_prompt or "").encode("latin-1")
        buffer = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                if buffer and self.device.monitor is not None:
                    self.device.monitor.record(IN, self.port, buffer, "cut off")
                self._replies.put(_Closed())
                return
            if self.device.monitor is not None:
                self.device.monitor.record(IN, self.port, chunk)
            buffer += chunk
            while end in buffer:
                line, buffer = buffer.split(end, 1)
                text = line.decode("latin-1")
                if text.strip("\r\n") == "" and end != b"\n\n":
                    continue
                self._replies.put(text.strip("\r\n") if end == b"\n\n" else text)
            if prompt and buffer.rstrip().endswith(prompt.rstrip()):
                buffer = b""
                self._prompted.set()

    def _unasked(self, reply: str) -> None:
        self.heard(reply)

    # ---- the transport interface -------------------------------------------------------
    def command(self, line: str, *, action: str, expect_reply: bool | None = None,
                expect: TextTemplate | None = None) -> str | None:
        with self._lock:
            if self._sock is None:
                self._connect(action)
            wait = self.tcp.wait_reply if expect_reply is None else expect_reply
            self._take_unasked()
            self._write(line + self.tcp.terminator, action)
            if not wait:
                return None
            return self._reply_for(action, expect, time.monotonic() + self.timeout_s)

    # ---- several commands back to back ------------------------------------------------------
    def _pipelined(self, count: int) -> bool:
        """Send ``count`` commands back to back and take their replies in order? Over TCP the unit
        reads them from its socket buffer one by one, and replies come in the order asked; not
        when the profile asks for a gap between commands, nor for a single command."""
        return count > 1 and self.tcp.wait_reply and self.tcp.min_gap_ms <= 0

    def _send_all(self, lines: list[tuple[str, str]]) -> None:
        if self._sock is None:
            self._connect(lines[0][1])
        self._take_unasked()
        for line, action in lines:
            self._write(line + self.tcp.terminator, action)

    def _reply_for(self, action: str, expect: TextTemplate | None, deadline: float) -> str:
        fits = (lambda r: self.matches_reply(r, expect)) if self.tcp.unsolicited else (lambda _r: True)
        try:
            return self._await(fits, deadline, action, "reply", code="timeout")
        except DeviceError as exc:
            if exc.code != "connection_closed":
                raise
            self._failed_attempt()
            self._drop()
            raise self.error("the unit closed the connection before its reply was complete", action,
                             code="connection_closed") from None

    def apply(self, planned: list[Any]) -> None:
        """Every setting back to back, then their acknowledges in order: one round trip for the
        lot instead of one per parameter (see :meth:`_pipelined`)."""
        if not self._pipelined(len(planned)):
            super().apply(planned)
            return
        with self._lock:
            self._send_all([(item.message.text, item.action) for item in planned])
            deadline = time.monotonic() + self.timeout_s
            for item in planned:
                self.expect_ack(self._reply_for(item.action, None, deadline), item.action)

    def read(self, names: list[str]) -> dict[str, Any]:
        """Every query back to back, then the replies in order (each matched to its template,
        status lines between them go to the known state); nothing waits past the timeout."""
        params = self.device.profile.parameters
        encodings: dict[str, SerialEncoding] = {n: params[n].encoding for n in names}
        if not self._pipelined(len(names)) or any(not e.query for e in encodings.values()):
            return super().read(names)
        out: dict[str, Any] = {}
        with self._lock:
            self._send_all([(str(encodings[n].query), f"reading {n}") for n in names])
            deadline = time.monotonic() + self.timeout_s
            for name in names:
                action = f"reading {name}"
                reply = self._reply_for(action, encodings[name].reply, deadline)
                out[name] = self.value_in_reply(name, reply, action)
        return out

    def _take_unasked(self) -> None:
        """What arrived between commands was not asked for: a late answer, a status block."""
        while True:
            try:
                reply = self._replies.get_nowait()
            except queue.Empty:
                return
            if isinstance(reply, _Closed):
                self._failed_attempt()
                self._drop()
                self._connect("re-connecting")
                return
            self._unasked(reply)

    def listen(self, callback: Listener) -> Callable[[], None]:
        """``callback`` hears what the unit says unasked (a Videohub's routing block, a Yamaha
        console's ``NOTIFY``) as it arrives, not only at the next command: while anyone listens,
        lines that wait between commands are taken every ``PUMP_S``."""
        stop = self.add_listener(callback)
        if self._pump is None:
            self._pump = threading.Thread(target=self._pump_unasked, name=f"tcp-unasked {self.port}", daemon=True)
            self._pump.start()
        return stop

    def _pump_unasked(self) -> None:
        while not self._closing.wait(PUMP_S) and self._listeners:
            if self._sock is None or not self._lock.acquire(timeout=PUMP_S):
                continue
            try:
                self._take_unasked()
            except DeviceError:
                pass                      # a dropped line: the next command reconnects and says so
            finally:
                self._lock.release()
        self._pump = None

    def _keep_alive(self) -> None:
        every_s = self.tcp.keepalive_ms / 1000
        while not self._closing.wait(min(every_s, 0.05)):
            if time.monotonic() - self._last_io_s < every_s or self._sock is None:
                continue
            if not self._lock.acquire(timeout=0.01):
                continue
            try:
                self.command(self.tcp.keepalive or "", action="keepalive", expect_reply=True)
            except DeviceError:
                pass
            finally:
                self._lock.release()


class TcpSim(SimSide):
    """A unit on a TCP port of 127.0.0.1 (a free one): greets, asks for a password, answers.

    Every connected client hears the unit's unasked status when its panel moves (with
    ``unsolicited``), as a Videohub tells all clients of a route change.
    """

    def __init__(self, sim: Any, settings: TcpSettings):
        self.sim = sim
        self.settings = settings
        self._server: socket.socket | None = None
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        self._server = server
        self.port = self.sim.port = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, name=f"sim-tcp {self.sim.profile.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.close()
        with self._lock:
            clients, self._clients = list(self._clients), []
        for client in clients:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def describe(self) -> str:
        return f"TCP {self.port}"

    def transmit(self, param: str, value: Any, *, but: socket.socket | None = None) -> None:
        """The unit reports a changed value unasked (to every client ``but`` the one that changed it)."""
        if not self.settings.unsolicited:
            return
        decoder = getattr(self.sim, "decoder", None)
        if decoder is not None:              # the unit's notice as its document prints it
            from devices.simulator import PanelMove
            notice = decoder(self.sim, PanelMove(param, value))
            if isinstance(notice, str):
                self.broadcast(notice, but=but)
            return
        parameter = self.sim.profile.parameters[param]
        enc = parameter.encoding
        template = enc.notify if enc.notify is not None else enc.reply
        self.broadcast(template.build(**enc.fields_for(parameter, value)), but=but)

    def broadcast(self, text: str, *, but: socket.socket | None = None) -> None:
        """Send ``text`` (plus the reply terminator) to every connected client (``but`` one), unasked."""
        data = (text + self.settings.reply_terminator).encode("latin-1")
        with self._lock:
            clients = [c for c in self._clients if c is not but]
        for client in clients:
            try:
                client.sendall(data)
            except OSError:
                pass

    def _accept(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._server], [], [], 0.05)
                if not ready:
                    continue
                client, _ = self._server.accept()
                client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                return
            with self._lock:
                self._clients.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True,
                             name=f"sim-tcp-client {self.sim.profile.id}").start()

    def _serve(self, client: socket.socket) -> None:
        s = self.settings

        def write(data: bytes) -> None:
            try:
                client.sendall(data)
            except OSError:
                pass

        fixed = {s.keepalive: s.ack.text} if s.keepalive and s.ack is not None and not s.ack.fields else {}
        answerer = TextAnswerer(self.sim, s, write, fixed,
                                tell_others=lambda name, value: self.transmit(name, value, but=client))
        if s.banner is not None and not s.banner.fields:
            write((s.banner.text + s.reply_terminator).encode("latin-1"))
        logged_in = s.password is None
        if not logged_in:
            write((s.password_prompt or "").encode("latin-1"))
        buffer = b""
        last_s = time.monotonic()
        term = s.terminator.encode("latin-1")
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([client], [], [], 0.05)
                chunk = client.recv(65536) if ready else None
            except OSError:
                break
            if chunk == b"":
                break
            if chunk:
                buffer += chunk
                last_s = time.monotonic()
            if not logged_in and term in buffer:
                given, buffer = buffer.split(term, 1)
                if given.decode("latin-1") == s.password:
                    logged_in = True
                    if s.login_ok is not None and not s.login_ok.fields:
                        write((s.login_ok.text + s.reply_terminator).encode("latin-1"))
                else:
                    self.sim.rejected.append("wrong password")
                    write((s.password_prompt or "").encode("latin-1"))
                continue
            if logged_in and buffer:
                buffer = answerer.feed(buffer, idle=time.monotonic() - last_s > 0.1)
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)
        client.close()


def settings_with(settings: TcpSettings, **changes: Any) -> TcpSettings:
    """A copy of ``settings`` with ``changes`` (tests and per-unit overrides)."""
    return replace(settings, **changes)


TRANSPORT = TcpTransport()
