"""SysEx templates: fixed bytes, value placement and checksums, written as data.

A template is a line of hex bytes and placeholders, as a MIDI implementation chart
prints it::

    F0 41 {dev} 00 42 12 40 01 30 {v} {cs} F7

Placeholders: ``{dev}`` device id, ``{ch}`` channel-1, ``{v}`` a 7-bit value,
``{v_msb} {v_lsb}`` a 14-bit value in two 7-bit bytes, ``{v_hi4} {v_lo4}`` an 8-bit
value in two nibbles, ``{n0} {n1} {n2} {n3}`` a value of up to 16 bits in nibbles
(``n0`` the least significant; the template's order is the wire's order, so both
"least significant first" and "most significant first" charts are written as printed),
``{data}`` a dump's data block (``size`` bytes), ``{cs}`` the checksum over the bytes
from ``checksum_start`` to the one before it.

A chart's ``1n`` / ``3n`` (a fixed high nibble, the low nibble the device number = MIDI
channel - 1, as Yamaha prints it) is written as is: ``F0 43 1n 3E ...``.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from devices.errors import ProfileError

CHECKSUMS = ("roland", "sum7", "xor", "none")
VALUE_FIELDS = {"v": 127, "v_msb": 16383, "v_lsb": 16383, "v_hi4": 255, "v_lo4": 255,
                "n0": 15, "n1": 255, "n2": 4095, "n3": 65535}
FIELDS = {"dev", "ch", "cs", "data", *VALUE_FIELDS}
_NIBBLES = ("n0", "n1", "n2", "n3")


def _status_nibble(word: str) -> int | None:
    """``"1n"`` -> 0x10: a byte whose low nibble is the channel (Yamaha's "1n")."""
    if len(word) == 2 and word[1] == "n" and word[0] in "0123456789ABCDEFabcdef":
        return int(word[0], 16) << 4
    return None


def checksum(kind: str, data: Sequence[int]) -> int:
    """The checksum byte of ``data`` (ints 0..127).

    ``roland``: (128 - sum % 128) % 128, so that data + checksum sums to 0 mod 128.
    ``sum7``: sum & 0x7F. ``xor``: all bytes XORed, & 0x7F.
    """
    if kind == "roland":
        return int((128 - sum(data) % 128) % 128)
    if kind == "sum7":
        return int(sum(data) & 0x7F)
    if kind == "xor":
        return int(functools.reduce(operator.xor, data, 0) & 0x7F)
    raise ValueError(f"unknown checksum {kind!r}")


@dataclass(frozen=True)
class SysexTemplate:
    """A parsed template; tokens are ints (fixed bytes) or field names."""

    tokens: tuple[int | str, ...]
    checksum: str = "none"
    checksum_start: int = 1
    """Index (into the full message, F0 = 0) of the first byte the checksum covers."""
    data_size: int = 0

    @classmethod
    def parse(cls, text: Any, *, checksum_kind: str = "none", checksum_start: int = 1,
              data_size: int = 0, file: str | None = None, key: str | None = None) -> SysexTemplate:
        if not isinstance(text, str):
            raise ProfileError("expected a SysEx template string like 'F0 41 {dev} ... F7'",
                               file=file, key=key)
        tokens: list[int | str] = []
        for word in text.split():
            if word.startswith("{") and word.endswith("}"):
                name = word[1:-1]
                if name not in FIELDS:
                    raise ProfileError(f"unknown placeholder {word}; expected one of "
                                       + ", ".join("{" + f + "}" for f in sorted(FIELDS)), file=file, key=key)
                if name == "data":
                    if data_size <= 0:
                        raise ProfileError("{data} needs a positive 'size'", file=file, key=key)
                    tokens.extend(("data",) * data_size)
                    continue
                tokens.append(name)
                continue
            high = _status_nibble(word)
            if high is not None:
                if high > 0x70:
                    raise ProfileError(f"{word!r} is not a data byte (00..7F)", file=file, key=key)
                tokens.append(f"chn{high:02X}")
                continue
            try:
                byte = int(word, 16)
            except ValueError:
                raise ProfileError(f"{word!r} is neither a hex byte nor a {{placeholder}}",
                                   file=file, key=key) from None
            if not 0 <= byte <= 255:
                raise ProfileError(f"{word!r} is not a byte", file=file, key=key)
            tokens.append(byte)
        if len(tokens) < 3 or tokens[0] != 0xF0 or tokens[-1] != 0xF7:
            raise ProfileError("a SysEx template starts with F0 and ends with F7", file=file, key=key)
        if any(isinstance(t, int) and t > 127 for t in tokens[1:-1]):
            raise ProfileError("SysEx data bytes must be 00..7F", file=file, key=key)
        if checksum_kind not in CHECKSUMS:
            raise ProfileError(f"unknown checksum {checksum_kind!r}; expected one of {', '.join(CHECKSUMS)}",
                               file=file, key=key)
        has_cs = "cs" in tokens
        if has_cs and checksum_kind == "none":
            raise ProfileError("template has {cs} but no checksum kind is set", file=file, key=key)
        if has_cs and not 1 <= checksum_start < tokens.index("cs"):
            raise ProfileError(f"checksum_start {checksum_start} must fall between F0 and {{cs}}",
                               file=file, key=key)
        return cls(tuple(tokens), checksum_kind if has_cs else "none", checksum_start, data_size)

    @property
    def value_fields(self) -> set[str]:
        return {t for t in self.tokens if t in VALUE_FIELDS}

    @property
    def wire_max(self) -> int:
        fields = self.value_fields
        nibbles = [f for f in fields if f in _NIBBLES]
        if nibbles:
            return (1 << (4 * len(nibbles))) - 1
        return max((VALUE_FIELDS[f] for f in fields), default=0)

    @property
    def value_bits(self) -> int:
        return self.wire_max.bit_length()

    def build(self, *, value: int = 0, dev: int = 0x10, channel: int = 1, data: Iterable[int] = ()) -> list[int]:
        """The whole message, F0 .. F7, with fields filled and the checksum computed."""
        out: list[int] = []
        block = list(data)
        data_index = 0
        cs_at = None
        for token in self.tokens:
            if isinstance(token, int):
                out.append(token)
            elif token == "dev":
                out.append(dev & 0x7F)
            elif token == "ch":
                out.append((channel - 1) & 0x0F)
            elif token == "v":
                out.append(value & 0x7F)
            elif token == "v_msb":
                out.append((value >> 7) & 0x7F)
            elif token == "v_lsb":
                out.append(value & 0x7F)
            elif token == "v_hi4":
                out.append((value >> 4) & 0x0F)
            elif token == "v_lo4":
                out.append(value & 0x0F)
            elif token in _NIBBLES:
                out.append((value >> (4 * _NIBBLES.index(token))) & 0x0F)
            elif token.startswith("chn"):
                out.append(int(token[3:], 16) | ((channel - 1) & 0x0F))
            elif token == "data":
                out.append(block[data_index] & 0x7F if data_index < len(block) else 0)
                data_index += 1
            elif token == "cs":
                cs_at = len(out)
                out.append(0)
        if cs_at is not None:
            out[cs_at] = checksum(self.checksum, out[self.checksum_start:cs_at])
        return out

    def match(self, message: Sequence[int], *, dev: int | None = None,
              channel: int | None = None) -> dict[str, Any] | None:
        """Fields of ``message`` (F0 .. F7) if it fits this template, else None.

        The result has ``value`` (when the template carries one), ``data`` (a dump's
        block), ``dev`` and ``checksum_ok``. Fixed bytes must match exactly; a device id
        other than ``dev`` (when given) does not match.
        """
        if len(message) != len(self.tokens):
            return None
        found: dict[str, Any] = {"data": []}
        msb = lsb = hi = lo = None
        nibbles: dict[str, int] = {}
        cs_at = None
        for token, byte in zip(self.tokens, message, strict=False):
            if isinstance(token, int):
                if byte != token:
                    return None
            elif token == "dev":
                if dev is not None and byte != dev & 0x7F and byte != 0x7F:
                    return None
                found["dev"] = byte
            elif token == "ch":
                found["channel"] = byte + 1
            elif token == "v":
                found["value"] = byte
            elif token == "v_msb":
                msb = byte
            elif token == "v_lsb":
                lsb = byte
            elif token == "v_hi4":
                hi = byte
            elif token == "v_lo4":
                lo = byte
            elif token in _NIBBLES:
                if byte > 0x0F:
                    return None
                nibbles[token] = byte
            elif token.startswith("chn"):
                if byte & 0xF0 != int(token[3:], 16):
                    return None
                if channel is not None and byte & 0x0F != (channel - 1) & 0x0F:
                    return None
                found["channel"] = (byte & 0x0F) + 1
            elif token == "data":
                found["data"].append(byte)
            elif token == "cs":
                cs_at = self.tokens.index("cs")
        if msb is not None or lsb is not None:
            found["value"] = ((msb or 0) << 7) | (lsb or 0)
        if hi is not None or lo is not None:
            found["value"] = ((hi or 0) << 4) | (lo or 0)
        if nibbles:
            found["value"] = sum(n << (4 * _NIBBLES.index(t)) for t, n in nibbles.items())
        if cs_at is not None:
            found["checksum_ok"] = message[cs_at] == checksum(self.checksum, message[self.checksum_start:cs_at])
        else:
            found["checksum_ok"] = True
        return found

    def describe(self) -> str:
        return " ".join(f"{t:02X}" if isinstance(t, int) else f"{t[3]}n" if t.startswith("chn")
                        else "{" + t + "}" for t in self.tokens)
