"""Text command protocols (serial lines, TCP sessions): what serial and TCP gear share.

A unit that speaks lines of text (``DRV 3.5``, SIS ``1*2!``, a Videohub block) is the
same over a serial cable or a network socket: the profile's templates build the
commands and read the replies. :class:`TextTransport` reads those parts of a profile,
:class:`TextLink` judges replies (acknowledge, error reply, value), and
:class:`TextAnswerer` is the unit's side for simulators on any byte stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devices.errors import ProfileError
from devices.parameter import Parameter
from devices.profile import Profile, SerialSettings, load_text_encoding
from devices.text_codec import SerialEncoding, TextTemplate
from devices.transports.base import DeviceContext, Link, Transport


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


def heard_parts(text: str) -> list[str]:
    """What a unit said, as the pieces a banner template is matched against: each line, and each
    block of lines (a Videohub's preamble ends with a blank line)."""
    lines = [line.strip() for line in text.replace("\r", "\n").split("\n") if line.strip()]
    blocks = [b.strip("\n") for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    return [*lines, *blocks]


def banner_fits(text: str, profiles: list[Any], transport: str) -> list[str]:
    """Ids of the profiles whose ``[<transport>] greeting`` (else ``banner``) matches something the
    unit said."""
    parts = heard_parts(text)
    fits = []
    for profile in profiles:
        settings = profile.settings.get(transport)
        for name in ("greeting", "banner"):
            template = getattr(settings, name, None)
            if template is not None and any(template.match(x) is not None for x in parts):
                fits.append(profile.id)
                break
    return fits


class TextTransport(Transport):
    """The text side of a transport; subclasses add the byte stream (a tty, a socket)."""

    protocol = "text"
    routes_by_text = True

    def load_encoding(self, reader: Any, _param: Parameter, _settings: Any) -> SerialEncoding:
        return load_text_encoding(reader, self.encoding_key or self.name)

    def readback_possible(self, parameters: dict[str, Parameter], _settings: Any, router: Any) -> bool:
        return all(isinstance(p.encoding, SerialEncoding) and p.encoding.query for p in parameters.values()) \
            and (router is None or router.query is not None)

    def text_settings(self, profile: Profile) -> SerialSettings:
        """This transport's settings for ``profile``: its own table, or defaults over the
        text settings of the profile's own transport (a serial unit reached over TCP)."""
        mine: SerialSettings | None = profile.settings.get(self.name)
        if mine is None:
            mine = self.load_settings(None, profile.settings[profile.transport])
        assert isinstance(mine, SerialSettings)
        return mine

    def plan(self, device: DeviceContext, name: str, param: Parameter, value: Any) -> list[Any]:
        enc: SerialEncoding = param.encoding
        text = enc.set.build(**enc.fields_for(param, value))
        terminator = self.text_settings(device.profile).terminator
        return [SerialCommand(text, terminator, name, None, f"set {name} {param.format(value)}")]

    def quantize(self, param: Parameter, value: Any) -> Any:
        enc: SerialEncoding = param.encoding
        fields = enc.set.match(enc.set.build(**enc.fields_for(param, value)))
        return enc.value_from(param, fields) if fields is not None else value


class TextLink(Link):
    """Commands and replies as text lines; subclasses move the bytes (``command``)."""

    settings: SerialSettings

    def command(self, line: str, *, action: str, expect_reply: bool | None = None,
                expect: TextTemplate | None = None) -> str | None:
        """Send ``line`` (plus the terminator); the reply line, or None when the protocol
        does not wait for replies. ``expect``: the reply's template, when the link must tell
        the answer from what the unit says unasked."""
        raise NotImplementedError

    def send(self, message: Any, *, note: str = "") -> None:
        text = message.text if isinstance(message, SerialCommand) else str(message)
        self.command(text, action=note, expect_reply=False)

    def send_raw(self, message: Any, *, note: str) -> str | None:
        text = message.text if isinstance(message, SerialCommand) else str(message)
        return self.command(text, action=note)

    def query(self, message: Any, *, action: str, expect: TextTemplate | None = None) -> str:
        text = message.text if isinstance(message, SerialCommand) else str(message)
        reply = self.command(text, action=action, expect_reply=True, expect=expect)
        assert reply is not None
        return reply

    def apply(self, planned: list[Any]) -> None:
        for item in planned:
            reply = self.command(item.message.text, action=item.action)
            if reply is not None:
                self.expect_ack(reply, item.action)

    def read(self, names: list[str]) -> dict[str, Any]:
        return {name: self._read_one(name) for name in names}

    def _read_one(self, name: str) -> Any:
        enc: SerialEncoding = self.device.profile.parameters[name].encoding
        action = f"reading {name}"
        return self.value_in_reply(name, self.query(enc.query, action=action, expect=enc.reply), action)

    def value_in_reply(self, name: str, reply: str, action: str) -> Any:
        """The value of ``name`` in the unit's ``reply`` to its query (DeviceError when it holds none)."""
        param = self.device.profile.parameters[name]
        enc: SerialEncoding = param.encoding
        found = enc.reply.match(reply)
        if found is None:
            self.raise_reply(reply, action, expected=enc.reply.text)
            raise AssertionError("unreachable")
        try:
            return enc.value_from(param, found)
        except ProfileError as exc:
            raise self.error(f"reply {reply!r} holds no valid value: {exc.reason}", action,
                             code="garbled_reply") from None

    # ---- judging replies ------------------------------------------------------------------
    def expect_ack(self, reply: str, action: str) -> None:
        s = self.settings
        if s.ack is not None and s.ack.match(reply) is not None:
            return
        self.raise_reply(reply, action, expected=s.ack.text if s.ack else None)

    def raise_reply(self, reply: str, action: str, expected: str | None) -> None:
        s = self.settings
        if s.error is not None:
            found = s.error.match(reply)
            if found is not None:
                code = found.get("code") or ""
                meaning = s.error_messages.get(code) or found.get("message") or "no explanation in the profile"
                raise self.error(f"the unit answered {ascii(reply)}: {meaning}", action, code="error_reply")
        want = f"; expected {expected!r}" if expected else ""
        raise self.error(f"garbled reply {ascii(reply)}{want}", action, code="garbled_reply")

    def matches_reply(self, reply: str, expect: TextTemplate | None = None) -> bool:
        """Could ``reply`` answer a command (an acknowledge, an error, the ``expect``ed reply,
        else any value reply)? Lines that cannot are the unit speaking unasked (status blocks)."""
        s = self.settings
        if s.ack is not None and s.ack.match(reply) is not None:
            return True
        if s.error is not None and s.error.match(reply) is not None:
            return True
        if expect is not None:
            return expect.match(reply) is not None
        profile = self.device.profile
        for param in profile.parameters.values():
            if isinstance(param.encoding, SerialEncoding) and param.encoding.reply.match(reply) is not None:
                return True
        router = profile.router
        if router is not None:
            for t in (router.tie_reply, router.untie_reply, router.query_reply):
                if t is not None and t.match(reply) is not None:
                    return True
        return False

    def heard(self, reply: str) -> list[tuple[str, Any]]:
        """Text the unit sent unasked: each parameter value in it (a line of a block too)
        goes to the device's known state; returns them."""
        out: list[tuple[str, Any]] = []
        for name, param in self.device.profile.parameters.items():
            enc = param.encoding
            if not isinstance(enc, SerialEncoding):
                continue
            for line in {reply, *reply.splitlines()}:
                found = enc.reply.match(line)
                if found is None and enc.notify is not None:
                    found = enc.notify.match(line)
                if found is None:
                    continue
                try:
                    value = enc.value_from(param, found)
                except ProfileError:
                    continue
                self.tell(name, value)
                out.append((name, value))
        return out


class TextAnswerer:
    """A simulated unit's side of a text protocol: parse a command, change state, reply.

    ``write(bytes)`` sends to the controller; the transport feeds ``answer(line)``.
    """

    def __init__(self, sim: Any, settings: SerialSettings, write: Any, fixed: dict[str, str] | None = None,
                 tell_others: Callable[[str, Any], None] | None = None):
        self.sim = sim
        self.settings = settings
        self.write = write
        self.fixed = dict(fixed or {})
        """Lines with a fixed answer (a keepalive's)."""
        self.tell_others = tell_others
        """Called with each value a command changed, for the unit's other clients (a console's NOTIFY)."""
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
        self.verbs = {v for v in verbs if v and not v.isalnum() and v not in "}"}

    def take_unterminated(self, buffer: bytes, idle: bool) -> bytes:
        """Protocols like SIS have no line end: a command is whole when it parses or ends in its verb."""
        text = buffer.decode("latin-1")
        if self.parse(text) is not None or text[-1:] in self.verbs or idle:
            self.answer(text)
            return b""
        return buffer

    def feed(self, buffer: bytes, idle: bool) -> bytes:
        """Answer every whole command in ``buffer``; return what is left of it."""
        term = self.settings.terminator.encode("latin-1")
        if term:
            while term in buffer:
                line, buffer = buffer.split(term, 1)
                self.answer(line.decode("latin-1"))
            return buffer
        return self.take_unterminated(buffer, idle) if buffer else buffer

    def reply(self, text: str) -> None:
        self.write((text + self.settings.reply_terminator).encode("latin-1"))

    def error(self, reason: str, detail: str) -> None:
        self.sim.rejected.append(f"{reason}: {detail}")
        replies = self.settings.error_replies
        reply = replies.get(reason) or replies.get("unknown_command")
        if reply is not None:
            self.reply(reply)

    def parse(self, line: str) -> tuple[str, str | None, dict[str, Any]] | None:
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

    def answer(self, line: str) -> None:
        sim = self.sim
        sim.received.append(line.encode("latin-1"))
        if line in self.fixed:
            self.reply(self.fixed[line])
            return
        if sim.decoder is not None:          # the maker's document reads the line, not the profile's templates
            with sim._lock:
                before = dict(sim.state)
            answer = sim.decoder(sim, line)
            if isinstance(answer, str):
                self.reply(answer)
            elif not answer:
                self.error("unknown_command", f"not in the document: {line!r}")
            if self.tell_others is not None:
                with sim._lock:
                    changed = {k: v for k, v in sim.state.items() if before.get(k) != v}
                for name, value in changed.items():
                    self.tell_others(name, value)
            return
        parsed = self.parse(line)
        if parsed is None:
            self.error("unknown_command", repr(line))
            return
        what, name, fields = parsed
        if name is None:
            self.route(what, fields)
            return
        param = sim.profile.parameters[name]
        enc = param.encoding
        if what == "get":
            with sim._lock:
                value = sim.state[name]
            self.reply(enc.reply.build(**enc.fields_for(param, value)))
            return
        try:
            value = enc.value_from(param, fields)
        except ProfileError as exc:
            self.error("out_of_range", f"{line!r}: {exc.reason}")
            return
        sim._update(name, value)
        ack = self.settings.ack
        self.reply(ack.text if ack is not None else enc.reply.build(**enc.fields_for(param, value)))

    def route(self, what: str, fields: dict[str, Any]) -> None:
        sim = self.sim
        router = sim.profile.router
        # ports as the unit numbers them on the wire (Videohub: from 0) -> hybrid's 1-based numbers
        output = router.port_from_wire(int(fields["output"])) if fields.get("output") is not None else None
        source = router.port_from_wire(int(fields["input"])) if fields.get("input") is not None else None
        if what == "tie" and source == 0 and router.port_base == 1:
            what = "untie"
        if what == "tie" and (source is None or not 1 <= source <= router.inputs):
            self.error("invalid_input", f"input {source}")
            return
        if output is None or not 1 <= output <= router.outputs:
            self.error("invalid_output", f"output {output}")
            return
        if what == "tie":
            assert source is not None
            sim._set_tie(output, source)
            self.reply(router.tie_reply.build(input=router.wire_port(source), output=router.wire_port(output)))
        elif what == "untie":
            sim._set_tie(output, 0)
            template: TextTemplate = router.untie_reply or router.tie_reply
            self.reply(template.build(input=0, output=router.wire_port(output)))
        else:
            with sim._lock:
                source = sim.ties.get(output, 0)
            self.reply(router.query_reply.build(input=router.wire_port(source) if source else 0,
                                                output=router.wire_port(output)))
