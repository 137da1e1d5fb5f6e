"""MIDI encodings of one parameter: 7-bit CC, 14-bit CC, NRPN, RPN, program change, SysEx.

Each encoding turns a wire number (0..``wire_max``) into mido messages on a channel, and
``MidiDecoder`` turns incoming messages back into ``(parameter, wire number)`` pairs,
keeping the NRPN/RPN and bank-select state a receiver needs. The same tables serve the
device (sending, learning from a panel) and the simulator (receiving).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mido

from devices.errors import ProfileError
from devices.sysex import SysexTemplate
from devices.value_law import ValueLaw, check_table_fits, parse_law

ENCODING_TYPES = ("cc", "cc14", "nrpn", "rpn", "program", "sysex")
BANK_STYLES = ("none", "cc0", "cc32", "both")
"""How a unit takes a bank before a program change: not at all, CC 0 only (Strymon),
CC 32 only (Yamaha SPX2000's tables A/B/C), or CC 0 then CC 32 (a 14-bit bank)."""

# Controller numbers of the registered/non-registered parameter protocol.
CC_BANK_MSB, CC_BANK_LSB = 0, 32
CC_DATA_MSB, CC_DATA_LSB = 6, 38
CC_NRPN_LSB, CC_NRPN_MSB = 98, 99
CC_RPN_LSB, CC_RPN_MSB = 100, 101


def _cc(channel: int, control: int, value: int) -> mido.Message:
    return mido.Message("control_change", channel=channel - 1, control=control, value=value)


@dataclass(frozen=True)
class MidiEncoding:
    """How one parameter goes over MIDI. ``wire`` optionally lists each detent's number."""

    type: str
    control: int = 0
    lsb_control: int = 0
    number: int = 0
    bits: int = 14
    bank: str = "none"
    template: SysexTemplate | None = None
    wire_max: int = 127
    wire: tuple[int, ...] | None = None
    null_after: bool = False
    """Send the RPN null (101/100 = 127) after an NRPN/RPN so stray data entry does no harm."""
    law: ValueLaw | None = None
    """The value law (None = spread over 0..wire_max); the loader hands it to the parameter."""

    @property
    def bank_select(self) -> bool:
        return self.bank != "none"

    def encode(self, wire: int, channel: int, *, device_id: int = 0x10) -> list[mido.Message]:
        if self.type == "cc":
            return [_cc(channel, self.control, wire)]
        if self.type == "cc14":
            return [_cc(channel, self.control, wire >> 7), _cc(channel, self.lsb_control, wire & 0x7F)]
        if self.type in ("nrpn", "rpn"):
            msb_cc, lsb_cc = (CC_NRPN_MSB, CC_NRPN_LSB) if self.type == "nrpn" else (CC_RPN_MSB, CC_RPN_LSB)
            out = [_cc(channel, msb_cc, self.number >> 7), _cc(channel, lsb_cc, self.number & 0x7F)]
            if self.bits == 14:
                out += [_cc(channel, CC_DATA_MSB, wire >> 7), _cc(channel, CC_DATA_LSB, wire & 0x7F)]
            else:
                out.append(_cc(channel, CC_DATA_MSB, wire))
            if self.null_after:
                out += [_cc(channel, CC_RPN_MSB, 127), _cc(channel, CC_RPN_LSB, 127)]
            return out
        if self.type == "program":
            out = []
            bank = wire // 128
            if self.bank == "both":
                out += [_cc(channel, CC_BANK_MSB, bank >> 7), _cc(channel, CC_BANK_LSB, bank & 0x7F)]
            elif self.bank == "cc0":
                out.append(_cc(channel, CC_BANK_MSB, bank))
            elif self.bank == "cc32":
                out.append(_cc(channel, CC_BANK_LSB, bank))
            out.append(mido.Message("program_change", channel=channel - 1, program=wire % 128))
            return out
        if self.type == "sysex":
            assert self.template is not None
            data = self.template.build(value=wire, dev=device_id, channel=channel)
            return [mido.Message("sysex", data=data[1:-1])]
        raise AssertionError(self.type)

    def describe(self) -> str:
        if self.type == "cc":
            return f"CC {self.control}"
        if self.type == "cc14":
            return f"CC {self.control}/{self.lsb_control} (14-bit)"
        if self.type in ("nrpn", "rpn"):
            return f"{self.type.upper()} {self.number} ({self.bits}-bit)"
        if self.type == "program":
            styles = {"none": "", "cc0": " after bank (CC 0)", "cc32": " after bank (CC 32)",
                      "both": " after bank (CC 0 + CC 32)"}
            return "program change" + styles[self.bank]
        return "SysEx " + (self.template.describe() if self.template is not None else "?")


def parse_encoding(table: Any, *, file: str | None, key: str, sysex_defaults: dict[str, Any],
                   null_after: bool = False) -> MidiEncoding:
    """Read a parameter's ``midi = {...}`` table, refusing anything malformed with its key path."""
    if not isinstance(table, dict):
        raise ProfileError("expected a table like { type = \"cc\", control = 20 }", file=file, key=key)
    kind = table.get("type")
    if kind not in ENCODING_TYPES:
        raise ProfileError(f"type must be one of {', '.join(ENCODING_TYPES)}, got {kind!r}",
                           file=file, key=f"{key}.type")
    allowed = {"type", "wire", "wire_max", "law", "zero", "step", "points", "table", "signed"} | {
        "cc": {"control"}, "cc14": {"control", "lsb_control"}, "nrpn": {"number", "bits"},
        "rpn": {"number", "bits"}, "program": {"bank_select", "bank"},
        "sysex": {"template", "checksum", "checksum_start"},
    }[kind]
    for name in table:
        if name not in allowed:
            raise ProfileError(f"unknown key for a {kind} encoding; expected one of {', '.join(sorted(allowed))}",
                               file=file, key=f"{key}.{name}")

    def integer(name: str, lo: int, hi: int, default: int | None = None) -> int:
        value = table.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ProfileError(f"expected an integer {lo}..{hi}, got {value!r}", file=file, key=f"{key}.{name}")
        return value

    args: dict[str, Any] = {"type": kind}
    if kind == "cc":
        args.update(control=integer("control", 0, 119), wire_max=127)
    elif kind == "cc14":
        control = integer("control", 0, 119)
        lsb = integer("lsb_control", 0, 119, control + 32 if control < 32 else None)
        if lsb == control:
            raise ProfileError("the LSB controller must differ from the MSB controller",
                               file=file, key=f"{key}.lsb_control")
        args.update(control=control, lsb_control=lsb, wire_max=16383)
    elif kind in ("nrpn", "rpn"):
        bits = integer("bits", 7, 14, 14)
        if bits not in (7, 14):
            raise ProfileError("bits must be 7 or 14", file=file, key=f"{key}.bits")
        args.update(number=integer("number", 0, 16383), bits=bits, wire_max=16383 if bits == 14 else 127,
                    null_after=null_after)
    elif kind == "program":
        old = table.get("bank_select", False)
        if not isinstance(old, bool):
            raise ProfileError("expected true or false", file=file, key=f"{key}.bank_select")
        bank = table.get("bank", "both" if old else "none")
        if bank not in BANK_STYLES:
            raise ProfileError(f"expected one of {', '.join(BANK_STYLES)}, got {bank!r}", file=file, key=f"{key}.bank")
        if "bank" in table and "bank_select" in table:
            raise ProfileError("give bank (the style) or bank_select, not both", file=file, key=f"{key}.bank_select")
        wire_max = {"none": 127, "cc0": 128 * 128 - 1, "cc32": 128 * 128 - 1, "both": 128 * 16384 - 1}[bank]
        args.update(bank=bank, wire_max=wire_max)
    else:
        template = SysexTemplate.parse(
            table.get("template"), checksum_kind=table.get("checksum", sysex_defaults.get("checksum", "none")),
            checksum_start=table.get("checksum_start", sysex_defaults.get("checksum_start", 1)),
            file=file, key=f"{key}.template")
        if not template.value_fields:
            raise ProfileError("the template carries no value ({v}, {v_msb}/{v_lsb}, {v_hi4}/{v_lo4} or {n0}..{n3})",
                               file=file, key=f"{key}.template")
        args.update(template=template, wire_max=template.wire_max)
    if "wire_max" in table:
        args["wire_max"] = integer("wire_max", 1, args["wire_max"])
    if "wire" in table:
        wire = table["wire"]
        if not isinstance(wire, list) or not all(isinstance(w, int) and 0 <= w <= args["wire_max"] for w in wire):
            raise ProfileError(f"expected a list of integers 0..{args['wire_max']}", file=file, key=f"{key}.wire")
        args["wire"] = tuple(wire)
    law = parse_law(table, file=file, key=key, field_bits=max(1, int(args["wire_max"]).bit_length()))
    if law is not None:
        if "wire" in table:
            raise ProfileError("a value law and a wire list say the same thing twice", file=file, key=f"{key}.wire")
        check_table_fits(law, args["wire_max"], file=file, key=f"{key}.table")
        args["law"] = law
    return MidiEncoding(**args)


@dataclass
class MidiDecoder:
    """Turns a stream of incoming messages into ``(parameter, wire)`` updates.

    Keeps what a receiver must remember between messages: the selected NRPN/RPN number,
    a pending 14-bit CC MSB, the bank selected before a program change.
    """

    encodings: dict[str, MidiEncoding]
    channel: int = 1
    device_id: int = 0x10
    _cc: dict[int, str] = field(default_factory=dict, init=False)
    _cc14_msb: dict[int, str] = field(default_factory=dict, init=False)
    _cc14_lsb: dict[int, str] = field(default_factory=dict, init=False)
    _nrpn: dict[int, str] = field(default_factory=dict, init=False)
    _rpn: dict[int, str] = field(default_factory=dict, init=False)
    _programs: list[str] = field(default_factory=list, init=False)
    _sysex: list[str] = field(default_factory=list, init=False)
    _selected: tuple[str, int] | None = field(default=None, init=False)   # ("nrpn"|"rpn", number)
    _nrpn_msb: int = field(default=127, init=False)
    _nrpn_lsb: int = field(default=127, init=False)
    _data_msb: int = field(default=0, init=False)
    _bank_msb: int = field(default=0, init=False)
    _bank_lsb: int = field(default=0, init=False)
    bad_checksums: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        for name, enc in self.encodings.items():
            if enc.type == "cc":
                self._cc[enc.control] = name
            elif enc.type == "cc14":
                self._cc14_msb[enc.control] = name
                self._cc14_lsb[enc.lsb_control] = name
            elif enc.type == "nrpn":
                self._nrpn[enc.number] = name
            elif enc.type == "rpn":
                self._rpn[enc.number] = name
            elif enc.type == "program":
                self._programs.append(name)
            elif enc.type == "sysex":
                self._sysex.append(name)
        self._pending_msb: dict[str, int] = {}

    def feed(self, msg: mido.Message) -> list[tuple[str, int]]:
        """Updates carried by ``msg`` (usually zero or one)."""
        if msg.type == "sysex":
            return self._feed_sysex(msg)
        if getattr(msg, "channel", None) != self.channel - 1:
            return []
        if msg.type == "program_change":
            return [(name, self._bank(self.encodings[name].bank) * 128 + msg.program) for name in self._programs]
        if msg.type != "control_change":
            return []
        control, value = msg.control, msg.value
        if control == CC_BANK_MSB and control not in self._cc14_msb and control not in self._cc14_lsb \
                and control not in self._cc:
            self._bank_msb = value
            return []
        if control == CC_BANK_LSB and control not in self._cc14_lsb and control not in self._cc14_msb \
                and control not in self._cc:
            self._bank_lsb = value
            return []
        if control in (CC_NRPN_MSB, CC_NRPN_LSB, CC_RPN_MSB, CC_RPN_LSB):
            return self._select(control, value)
        if control == CC_DATA_MSB and self._selected is not None:
            self._data_msb = value
            name = self._selected_name()
            if name is None:
                return []
            if self.encodings[name].bits == 7:
                return [(name, value)]
            return []   # wait for the LSB: a 14-bit value is whole only then
        if control == CC_DATA_LSB and self._selected is not None:
            name = self._selected_name()
            if name is None or self.encodings[name].bits == 7:
                return []
            return [(name, (self._data_msb << 7) | value)]
        if control in self._cc:
            return [(self._cc[control], value)]
        if control in self._cc14_msb:
            name = self._cc14_msb[control]
            self._pending_msb[name] = value
            return [(name, value << 7)]
        if control in self._cc14_lsb:
            name = self._cc14_lsb[control]
            return [(name, (self._pending_msb.get(name, 0) << 7) | value)]
        return []

    def _bank(self, style: str) -> int:
        if style == "cc0":
            return self._bank_msb
        if style == "cc32":
            return self._bank_lsb
        if style == "both":
            return (self._bank_msb << 7) | self._bank_lsb
        return 0

    def _select(self, control: int, value: int) -> list[tuple[str, int]]:
        if control in (CC_NRPN_MSB, CC_NRPN_LSB):
            if control == CC_NRPN_MSB:
                self._nrpn_msb = value
            else:
                self._nrpn_lsb = value
            self._selected = ("nrpn", (self._nrpn_msb << 7) | self._nrpn_lsb)
        else:
            if control == CC_RPN_MSB:
                self._nrpn_msb = value
            else:
                self._nrpn_lsb = value
            number = (self._nrpn_msb << 7) | self._nrpn_lsb
            self._selected = None if number == 16383 else ("rpn", number)
        return []

    def _selected_name(self) -> str | None:
        if self._selected is None:
            return None
        kind, number = self._selected
        return (self._nrpn if kind == "nrpn" else self._rpn).get(number)

    def _feed_sysex(self, msg: mido.Message) -> list[tuple[str, int]]:
        full = [0xF0, *msg.data, 0xF7]
        for name in self._sysex:
            template = self.encodings[name].template
            if template is None:
                continue
            found = template.match(full, dev=self.device_id, channel=self.channel)
            if found is None:
                continue
            if not found["checksum_ok"]:
                self.bad_checksums += 1
                return []
            return [(name, found["value"])]
        return []
