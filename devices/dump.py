"""Recall by dump: a unit's edit buffer captured as SysEx, kept, replayed, verified.

Some units are recalled best (or only) by their own memory image: the Bricasti M7
sends its edit buffer when EDIT is held on the front panel and sets itself to any such
packet it receives; the SPX2000 answers a bulk dump request for its edit buffer. A
profile's ``[dump]`` table says what such a dump looks like::

    [dump]
    request = "F0 43 2n 7E 4C 4D 20 20 38 44 31 31 45 02 00 F7"   # optional: ask for it
    head = "F0 43 0n 7E"                  # every dump message starts so
    size = [20, 4096]                     # bytes per message, F0..F7 (one number = exact)
    count = { at = 4, from = 6 }          # two bytes (hi, lo: hi*128+lo) = bytes counted from index 6 to the checksum
    checksum = "roland"                   # (128 - sum) % 128 over checksum_start .. the byte before it
    checksum_start = 6
    front_panel = "Press and momentarily hold EDIT"   # how a person sends it (learn mode)
    verify = true                         # ask for it back after a replay

A dump of the wrong size, count or checksum is refused, with one line saying which
message and what was expected, and is never sent to the unit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mido

from devices.errors import DeviceError, DeviceTimeoutError, ProfileError
from devices.transports import transport as transport_of
from devices.sysex import CHECKSUMS, SysexTemplate, checksum

if TYPE_CHECKING:
    from devices.device import Device

DUMP_KEYS = {"request", "head", "size", "count", "checksum", "checksum_start", "front_panel", "verify",
             "quiet_ms", "timeout_ms"}


class DumpError(DeviceError):
    """A dump that does not look like the profile says (refused, never sent)."""


@dataclass(frozen=True)
class DumpFormat:
    head: tuple[int | str, ...]
    """Fixed leading bytes (ints), or ``"chnX0"`` for a byte whose low nibble is the channel."""
    request: SysexTemplate | None = None
    min_size: int = 3
    max_size: int = 65536
    count_at: int | None = None
    count_from: int = 0
    checksum: str = "none"
    checksum_start: int = 1
    front_panel: str = ""
    verify: bool = False
    quiet_ms: float = 300.0
    timeout_ms: float = 2000.0

    def is_dump(self, data: bytes | list[int], channel: int) -> bool:
        """Whether a message starts like one of this unit's dumps (it may still be malformed)."""
        if len(data) < len(self.head):
            return False
        for token, byte in zip(self.head, data, strict=False):
            if isinstance(token, int):
                if byte != token:
                    return False
            elif byte != int(token[3:], 16) | ((channel - 1) & 0x0F):
                return False
        return True

    def problem(self, data: bytes | list[int], channel: int) -> str | None:
        """Why ``data`` (one message, F0..F7) is not a good dump, or None."""
        n = len(data)
        if n < 2 or data[0] != 0xF0 or data[-1] != 0xF7:
            return "not a SysEx message (expected F0 ... F7)"
        if any(b > 0x7F for b in data[1:-1]):
            return "a data byte has its top bit set"
        if not self.is_dump(data, channel):
            return "does not start with " + self.describe_head(channel)
        if not self.min_size <= n <= self.max_size:
            want = str(self.min_size) if self.min_size == self.max_size else f"{self.min_size}..{self.max_size}"
            return f"{n} bytes; expected {want}"
        end = n - 2 if self.checksum != "none" else n - 1
        if self.count_at is not None:
            if self.count_at + 1 >= n:
                return "too short to hold its byte count"
            count = data[self.count_at] * 128 + data[self.count_at + 1]
            if count != end - self.count_from:
                return f"its byte count says {count}, it carries {end - self.count_from}"
        if self.checksum != "none":
            expected_cs = checksum(self.checksum, list(data[self.checksum_start:n - 2]))
            if data[n - 2] != expected_cs:
                return f"checksum {data[n - 2]:02X}; expected {expected_cs:02X}"
        return None

    def describe_head(self, channel: int) -> str:
        return " ".join(f"{t:02X}" if isinstance(t, int) else f"{int(t[3:], 16) | ((channel - 1) & 0x0F):02X}"
                        for t in self.head)


@dataclass(frozen=True)
class Dump:
    """One captured edit buffer: its SysEx messages, as the unit sent them."""

    messages: tuple[bytes, ...]

    def to_syx(self) -> bytes:
        return b"".join(self.messages)

    @classmethod
    def from_syx(cls, data: bytes) -> Dump:
        """Split a ``.syx`` file into messages (each F0 ... F7); stray bytes are refused."""
        messages: list[bytes] = []
        start = None
        for i, byte in enumerate(data):
            if byte == 0xF0:
                if start is not None:
                    raise DumpError("a message starts before the last one ended (F0 without F7)",
                                    action="reading the dump")
                start = i
            elif byte == 0xF7:
                if start is None:
                    raise DumpError(f"F7 at byte {i} ends no message", action="reading the dump")
                messages.append(bytes(data[start:i + 1]))
                start = None
            elif start is None:
                raise DumpError(f"byte {i} ({byte:02X}) is outside any SysEx message", action="reading the dump")
        if start is not None:
            raise DumpError("the last message has no F7 (truncated file?)", action="reading the dump")
        if not messages:
            raise DumpError("holds no SysEx message", action="reading the dump")
        return cls(tuple(messages))

    def listing(self) -> str:
        """A diffable text form: one hex line of 16 bytes per row, messages apart."""
        lines = []
        for k, message in enumerate(self.messages):
            lines.append(f"# message {k + 1}: {len(message)} bytes")
            for i in range(0, len(message), 16):
                lines.append(f"{i:06X}  " + " ".join(f"{b:02X}" for b in message[i:i + 16]))
        return "\n".join(lines) + "\n"


def parse_dump(table: Any, *, file: str, transport: str) -> DumpFormat:
    """``[dump]`` of a profile, checked."""
    key = "dump"
    if not isinstance(table, dict):
        raise ProfileError("expected a table", file=file, key=key)
    if not transport_of(transport).carries_sysex:
        raise ProfileError("a [dump] table needs transport \"midi\"", file=file, key=key)
    for name in table:
        if name not in DUMP_KEYS:
            raise ProfileError("unknown key; expected one of " + ", ".join(sorted(DUMP_KEYS)), file=file,
                               key=f"{key}.{name}")
    head_text = table.get("head")
    if not isinstance(head_text, str):
        raise ProfileError('missing; expected the bytes every dump starts with, like "F0 43 0n 7E"',
                           file=file, key=f"{key}.head")
    head = _head(head_text, file=file, key=f"{key}.head")
    size = table.get("size", [len(head) + 1, 65536])
    if isinstance(size, int) and not isinstance(size, bool):
        size = [size, size]
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                               for v in size) and len(head) < size[0] <= size[1]):
        raise ProfileError(f"expected a size in bytes or [minimum, maximum] above the head's {len(head)}",
                           file=file, key=f"{key}.size")
    kind = table.get("checksum", "none")
    if kind not in CHECKSUMS:
        raise ProfileError(f"expected one of {', '.join(CHECKSUMS)}, got {kind!r}", file=file, key=f"{key}.checksum")
    start = table.get("checksum_start", 1)
    if not isinstance(start, int) or isinstance(start, bool) or not 1 <= start < size[0] - 1:
        raise ProfileError(f"expected an index 1..{size[0] - 2}", file=file, key=f"{key}.checksum_start")
    count_at = count_from = None
    count = table.get("count")
    if count is not None:
        if not (isinstance(count, dict) and set(count) == {"at", "from"} and all(
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v < size[0] for v in count.values())):
            raise ProfileError("expected { at = INDEX, from = INDEX } inside the message", file=file,
                               key=f"{key}.count")
        count_at, count_from = int(count["at"]), int(count["from"])
    request = None
    if "request" in table:
        request = SysexTemplate.parse(table["request"], file=file, key=f"{key}.request",
                                      checksum_kind=kind, checksum_start=start)
    verify = table.get("verify", request is not None)
    if not isinstance(verify, bool) or (verify and request is None):
        raise ProfileError("verify needs a request to ask the unit with", file=file, key=f"{key}.verify")
    front = table.get("front_panel", "")
    if not isinstance(front, str):
        raise ProfileError("expected the front-panel gesture as text", file=file, key=f"{key}.front_panel")
    if request is None and not front:
        raise ProfileError("a dump needs a request, or front_panel saying how a person sends it",
                           file=file, key=key)

    def ms(name: str, default: float) -> float:
        value = table.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= 600000:
            raise ProfileError("expected milliseconds 1..600000", file=file, key=f"{key}.{name}")
        return float(value)

    return DumpFormat(head=head, request=request, min_size=int(size[0]), max_size=int(size[1]),
                      count_at=count_at, count_from=count_from or 0, checksum=kind, checksum_start=start,
                      front_panel=front, verify=verify, quiet_ms=ms("quiet_ms", 300.0),
                      timeout_ms=ms("timeout_ms", 2000.0))


def _head(text: str, *, file: str, key: str) -> tuple[int | str, ...]:
    out: list[int | str] = []
    for word in text.split():
        if len(word) == 2 and word[1] == "n":
            out.append(f"chn{int(word[0], 16) << 4:02X}")
            continue
        try:
            out.append(int(word, 16))
        except ValueError:
            raise ProfileError(f"{word!r} is not a hex byte", file=file, key=key) from None
    if not out or out[0] != 0xF0:
        raise ProfileError("a dump starts with F0", file=file, key=key)
    return tuple(out)


# ---- capture, replay, verify ---------------------------------------------------------------
def _format(device: Device) -> DumpFormat:
    fmt = device.profile.dump
    if fmt is None:
        raise DeviceError(f"profile {device.profile.id} has no [dump]", device=device.name, port=device.port,
                          action="dump")
    return fmt


def capture(device: Device, *, learn: bool = False, timeout_s: float | None = None) -> Dump:
    """The unit's edit buffer: asked for (``request``), or, with ``learn`` or no request, waited
    for while a person sends it from the front panel. Checked before it is returned."""
    fmt = _format(device)
    ask = fmt.request is not None and not learn
    action = "capturing the edit buffer" if ask else f"waiting for a dump ({fmt.front_panel or 'from the unit'})"
    request = None
    if ask:
        assert fmt.request is not None
        data = fmt.request.build(dev=device.device_id, channel=device.channel)
        request = mido.Message("sysex", data=data[1:-1])

    def fits(msg: mido.Message) -> bool:
        return msg.type == "sysex" and fmt.is_dump(bytes(msg.bytes()), device.channel)

    wait = timeout_s if timeout_s is not None else fmt.timeout_ms / 1000
    # learn mode keeps what came in since the input opened: the person may be quicker than the prompt
    first = device.receive_raw(fits, wait, action=action, send_first=request, flush=ask)
    messages = [bytes(first.bytes())]
    deadline = time.monotonic() + max(wait, 1.0) * 4
    while time.monotonic() < deadline:
        try:
            more = device.receive_raw(fits, fmt.quiet_ms / 1000, action=action, flush=False)
        except DeviceTimeoutError:
            break
        messages.append(bytes(more.bytes()))
    dump = Dump(tuple(messages))
    check(device, dump, action=action)
    return dump


def check(device: Device, dump: Dump, *, action: str = "checking the dump") -> None:
    """Refuse a dump whose messages the profile would not accept (size, count, checksum)."""
    problem = dump_problem(_format(device), dump, device.channel)
    if problem is not None:
        raise DumpError(f"{problem}; refused, nothing sent", device=device.name, port=device.port, action=action)


def dump_problem(fmt: DumpFormat, dump: Dump, channel: int) -> str | None:
    """What is wrong with ``dump`` for a unit of format ``fmt`` on ``channel`` (first bad message), or None."""
    for k, message in enumerate(dump.messages):
        problem = fmt.problem(message, channel)
        if problem is not None:
            where = f"message {k + 1} of {len(dump.messages)}" if len(dump.messages) > 1 else "the dump"
            return f"{where}: {problem}"
    return None


def replay(device: Device, dump: Dump, *, verify: bool | None = None) -> bool:
    """Send a checked dump back to the unit; then, where the unit answers requests, ask for it
    back and compare. Returns whether it was verified. Nothing is sent if any message is bad."""
    fmt = _format(device)
    check(device, dump, action="replaying the dump")
    for message in dump.messages:
        device.send_raw(mido.Message("sysex", data=message[1:-1]), note="replaying the dump")
    want = fmt.verify if verify is None else verify
    if not want:
        return False
    back = capture(device)
    if back.messages != dump.messages:
        raise DeviceError("the unit's edit buffer differs from the dump just sent", device=device.name,
                          port=device.port, action="verifying the replayed dump")
    return True
