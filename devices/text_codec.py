"""Text command templates for serial gear, and the patterns that read them back.

A template is a Python format string, as the manual prints the command:
``"DRV {value:.1f}"``, ``"{input}*{output}!"``, ``"Out{output:02d} In{input:02d} All"``.
The same template both builds a line and, turned into a regular expression, parses one,
so the device and the simulator read one table. Fields: ``value`` (the engineer's number,
or the detent label), ``index`` (detent index), ``on`` (1/0), ``wire`` (integer wire
number), ``input``/``output`` (router ports).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from devices.errors import ProfileError

FIELDS = ("value", "index", "on", "wire", "input", "output", "label")
_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_INT = r"[-+]?\d+"


@dataclass(frozen=True)
class TextTemplate:
    """A command or reply line. ``regex`` matches a whole line (without its terminator)."""

    text: str
    regex: re.Pattern[str]
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, text: Any, *, file: str | None = None, key: str | None = None,
              allowed: tuple[str, ...] = FIELDS) -> TextTemplate:
        if not isinstance(text, str) or not text:
            raise ProfileError("expected a command template string", file=file, key=key)
        pattern = ""
        fields: list[str] = []
        try:
            parts = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ProfileError(f"bad template {text!r}: {exc}", file=file, key=key) from None
        for literal, name, spec, _conversion in parts:
            pattern += re.escape(literal)
            if name is None:
                continue
            if name not in allowed:
                raise ProfileError(f"unknown field {{{name}}}; expected one of "
                                   + ", ".join("{" + f + "}" for f in allowed), file=file, key=key)
            if name in fields:
                pattern += f"(?P={name})"
                continue
            fields.append(name)
            if name in ("label", "message"):             # free text (an error reply's reason)
                pattern += f"(?P<{name}>.+?)"
            elif name == "value" or (spec and spec[-1:] in "feEgG%"):
                pattern += f"(?P<{name}>{_NUM}|\\S+?)" if name == "value" else f"(?P<{name}>{_NUM})"
            else:
                pattern += f"(?P<{name}>{_INT})"
        try:
            text.format(**{f: 1 for f in fields})
        except (ValueError, IndexError, KeyError) as exc:
            raise ProfileError(f"bad template {text!r}: {exc}", file=file, key=key) from None
        return cls(text, re.compile(pattern + r"\Z"), tuple(fields))

    def build(self, **values: Any) -> str:
        return self.text.format(**values)

    def with_display(self) -> TextTemplate:
        """The same line, optionally followed by a quoted display string (Yamaha RCP:
        ``NOTIFY set ... 0 0 -7760 "-77.60"``), which is matched and ignored."""
        return TextTemplate(self.text, re.compile(self.regex.pattern[:-2] + r'(?: "[^"]*")?\Z'), self.fields)

    def match(self, line: str) -> dict[str, Any] | None:
        found = self.regex.match(line)
        return None if found is None else found.groupdict()


@dataclass(frozen=True)
class SerialEncoding:
    """How one parameter is set and read over a serial line."""

    set: TextTemplate
    query: str | None
    reply: TextTemplate
    """The value reply to ``query`` (defaults to the ``set`` template: gear that echoes)."""
    wire_max: int = 0
    """Range of ``{wire}`` (0 = the template uses ``value``/``index``/``on`` instead)."""
    wire: tuple[int, ...] | None = None
    notify: TextTemplate | None = None
    """What the unit says unasked when the value changes elsewhere (Yamaha RCP ``NOTIFY set ...``)."""
    scale: float = 0.0
    """``{wire}`` is the value times ``scale``, rounded (Yamaha RCP: dB in hundredths, scale 100)."""
    floor_wire: int | None = None
    """With ``scale``: the wire number of the range's floor (-inf on a fader; Yamaha RCP -32768)."""

    def fields_for(self, parameter: Any, value: Any) -> dict[str, Any]:
        """Template fields for a checked value of ``parameter``."""
        out: dict[str, Any] = {}
        if parameter.kind == "continuous":
            out["value"] = float(value)
        elif parameter.kind == "stepped":
            out["value"] = parameter.number(value)
            out["label"] = value
            out["index"] = parameter.index(value)
        else:
            out["on"] = 1 if value else 0
            out["value"] = out["on"]
            out["index"] = out["on"]
        if self.scale:
            out["wire"] = self.scaled_wire(parameter, float(value))
        elif self.wire_max:
            out["wire"] = parameter.to_wire(value, self.wire_max, list(self.wire) if self.wire else None)
        return out

    def scaled_wire(self, parameter: Any, value: float) -> int:
        if self.floor_wire is not None and parameter.floor_label is not None and value <= parameter.bounds()[0]:
            return self.floor_wire
        return round(value * self.scale)

    def scaled_value(self, parameter: Any, wire: int) -> float:
        """The engineer's number for a scaled ``{wire}``: the floor, or wire / scale within the range."""
        if self.floor_wire is not None and wire == self.floor_wire:
            return float(parameter.bounds()[0])
        value = wire / self.scale
        lo, hi = parameter.bounds()
        if not lo <= value <= hi:
            floor = f" (or {self.floor_wire})" if self.floor_wire is not None else ""
            raise ProfileError(f"wire value {wire} is out of range {round(lo * self.scale)}..{round(hi * self.scale)}"
                               f"{floor}", key=f"parameter {parameter.name}")
        return float(value)

    def value_from(self, parameter: Any, fields: dict[str, Any]) -> Any:
        """The engineer's value from parsed template fields (the inverse of ``fields_for``)."""
        if self.scale and fields.get("wire") is not None:
            return self.scaled_value(parameter, int(fields["wire"]))
        if "wire" in fields and fields["wire"] is not None and self.wire_max:
            if not 0 <= int(fields["wire"]) <= self.wire_max:
                raise ProfileError(f"wire value {fields['wire']} is out of range 0..{self.wire_max}",
                                   key=f"parameter {parameter.name}")
            return parameter.from_wire(int(fields["wire"]), self.wire_max, list(self.wire) if self.wire else None)
        if parameter.kind == "switch":
            raw = fields.get("on", fields.get("index", fields.get("value")))
            return parameter.parse(int(float(raw)) if raw is not None and re.fullmatch(_NUM, str(raw)) else raw)
        if parameter.kind == "stepped":
            if fields.get("label") is not None:
                return parameter.parse(fields["label"])
            if fields.get("index") is not None:
                index = int(fields["index"])
                if not 0 <= index < len(parameter.labels):
                    raise ProfileError(f"detent index {index} is out of range 0..{len(parameter.labels) - 1}",
                                       key=f"parameter {parameter.name}")
                return parameter.labels[index]
        return parameter.parse(fields.get("value"))


def parse_serial_encoding(table: Any, *, file: str | None, key: str) -> SerialEncoding:
    if not isinstance(table, dict):
        raise ProfileError('expected a table like { set = "DRV {value:.1f}", query = "DRV?" }',
                           file=file, key=key)
    for name in table:
        if name not in ("set", "query", "reply", "notify", "wire_max", "wire", "scale", "floor_wire", "display"):
            raise ProfileError("unknown key; expected set, query, reply, notify, wire_max, wire, scale, floor_wire "
                               "or display", file=file, key=f"{key}.{name}")
    set_t = TextTemplate.parse(table.get("set"), file=file, key=f"{key}.set")
    query = table.get("query")
    if query is not None and (not isinstance(query, str) or not query):
        raise ProfileError("expected a query command string", file=file, key=f"{key}.query")
    reply = TextTemplate.parse(table["reply"], file=file, key=f"{key}.reply") if "reply" in table else set_t
    wire_max = table.get("wire_max", 0)
    if not isinstance(wire_max, int) or wire_max < 0:
        raise ProfileError("expected a positive integer", file=file, key=f"{key}.wire_max")
    wire = table.get("wire")
    if wire is not None and (not isinstance(wire, list) or not all(isinstance(w, int) for w in wire)):
        raise ProfileError("expected a list of integers", file=file, key=f"{key}.wire")
    notify = TextTemplate.parse(table["notify"], file=file, key=f"{key}.notify") if "notify" in table else None
    display = table.get("display", False)
    if not isinstance(display, bool):
        raise ProfileError("expected true or false (replies may end in a quoted display string)",
                           file=file, key=f"{key}.display")
    if display:
        reply = reply.with_display()
        notify = notify.with_display() if notify is not None else None
    scale = table.get("scale", 0)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale <= 1e6 or scale != scale:
        raise ProfileError("expected a positive number (the wire integer per unit, e.g. 100 for 1/100 dB)",
                           file=file, key=f"{key}.scale")
    floor_wire = table.get("floor_wire")
    if floor_wire is not None and (isinstance(floor_wire, bool) or not isinstance(floor_wire, int)):
        raise ProfileError("expected an integer (the wire number of the floor, e.g. -32768)",
                           file=file, key=f"{key}.floor_wire")
    if floor_wire is not None and not scale:
        raise ProfileError("floor_wire needs scale", file=file, key=f"{key}.floor_wire")
    if scale and wire_max:
        raise ProfileError("give scale or wire_max, not both", file=file, key=f"{key}.scale")
    return SerialEncoding(set_t, query, reply, wire_max, tuple(wire) if wire else None, notify,
                          float(scale), floor_wire)


def decode_escapes(text: str) -> str:
    r"""Terminators are written as in C: ``"\r\n"`` in TOML already is CR LF; accept ``"CR"``/``"LF"`` too."""
    names = {"CR": "\r", "LF": "\n", "CRLF": "\r\n", "NONE": ""}
    return names.get(text.upper(), text) if isinstance(text, str) else text
