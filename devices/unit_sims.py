"""Simulators that read MIDI by the maker's document, not by the profile's own codec.

A round trip through one codec proves only that a profile agrees with itself: the old
BigSky profile sent 42C as ``B0 00 00 / B0 20 01 / C0 00`` and its own decoder read it
back as 42C. The decoders here are written from the documents' tables and prose, with
no import of the codec; a simulator given one (``Simulator(profile, decoder=...)``)
lands exactly what the real unit would make of the bytes.

``DECODERS`` maps a profile id to its decoder. Each returns True for a message it
handled; the simulator records anything else as rejected.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mido

from devices.simulator import PanelMove

if TYPE_CHECKING:
    from devices.simulator import Simulator

Decoder = Callable[["Simulator", Any], Any]
"""Called with each incoming message (a mido.Message, a python-osc OscMessage, a text line); returns
True when handled, False when the unit would refuse it, or the unit's answer (a text line, or an OSC
``(address, args)`` pair for a query)."""


def _channel_ok(sim: Simulator, msg: mido.Message) -> bool:
    return getattr(msg, "channel", None) == sim.channel - 1


# ---- Strymon BigSky: User Manual p. 23 ------------------------------------------------------
# "MIDI BANK 0 = PRESETS 00A-42B / MIDI BANK 1 = PRESETS 42C-85A / MIDI BANK 2 = PRESETS 85B-99C",
# "PRESET 00A = MIDI program # 0, PRESET 00B = MIDI program # 1, ... 01A = MIDI program # 3";
# the bank is "a standard MIDI Bank Change message (MIDI CC# 0 with a value equal to the MIDI Bank#)".
_BIGSKY_CC = {17: "decay", 18: "predelay", 15: "mix", 3: "tone", 9: "param1", 16: "param2", 14: "mod"}
_BIGSKY_TYPES = ["Room", "Hall", "Plate", "Spring", "Swell", "Bloom", "Cloud", "Chorale", "Shimmer",
                 "Magneto", "Nonlinear", "Reflections"]


def _strymon_preset(sim: Simulator, program: int, letters: str, width: int) -> bool:
    """The bank chosen by CC 0 times 128 plus the program: the preset's place in the list, ``letters`` per number."""
    index = sim.memory.get("bank", 0) * 128 + program
    if index >= 300:
        return False
    sim._update("preset", f"{index // len(letters):0{width}d}{letters[index % len(letters)]}")
    return True


def bigsky(sim: Simulator, msg: mido.Message) -> bool:
    if not _channel_ok(sim, msg):
        return False
    memory = sim.memory
    if msg.type == "control_change" and msg.control == 0:
        memory["bank"] = msg.value                    # CC 0 only; CC 32 is not in the chart
        return True
    if msg.type == "program_change":
        return _strymon_preset(sim, msg.program, "ABC", 2)
    if msg.type != "control_change":
        return False
    if msg.control in _BIGSKY_CC:
        sim._update(_BIGSKY_CC[msg.control], float(msg.value))
        return True
    if msg.control == 19 and msg.value <= 11:        # "Type encoder 19 0-11"
        sim._update("type", _BIGSKY_TYPES[msg.value])
        return True
    if msg.control == 23 and msg.value <= 60:        # "Boost 23 0-60"
        sim._update("boost", round(-3.0 + msg.value * 0.1, 1))
        return True
    return False


# ---- Lexicon PCM 90: MIDI Implementation Details p. 13 and p. 41 ---------------------------------
# 0x0B Parameter Dump: F0 06 08 <device id> 0B <type> <offset> <tempo mode flag> <4 nibbles, least
# significant first> F7. Type 2 offset 0: "Add 40 to parameter value to derive BPM".
_PCM90_TYPE2: dict[int, tuple[str, Callable[[int], float]]] = {
    0: ("tempo", lambda v: float(v + 40)), 1: ("ar_threshold", float)}
_PCM90_TAP = ["1/8 beat", "1/7 beat", "1/6 beat", "1/5 beat", "1/4 beat", "1/3 beat", "1/2 beat", "1 beat",
              "2 beats", "3 beats", "4 beats", "5 beats", "6 beats", "7 beats", "8 beats"]
_PCM90_BEAT = ["Eighth Note", "Dotted Eighth", "Quarter Note", "Dotted Quarter", "Half Note", "Dotted Half",
               "Whole Note"]


def pcm90(sim: Simulator, msg: mido.Message) -> bool:
    return _lexicon_parameter_dump(sim, msg, 0x08, _PCM90_TYPE2)


def _lexicon_parameter_dump(sim: Simulator, msg: mido.Message, product: int,
                            type2: dict[int, tuple[str, Callable[[int], float]]]) -> bool:
    if msg.type != "sysex":
        return False
    d = list(msg.data)
    if len(d) != 11 or d[:2] != [0x06, product] or d[2] != sim.device_id or d[3] != 0x0B:
        return False
    kind, offset, flag, nibbles = d[4], d[5], d[6], d[7:11]
    if flag != 0 or any(n > 0x0F for n in nibbles) or kind != 2:
        return False
    value = nibbles[0] | nibbles[1] << 4 | nibbles[2] << 8 | nibbles[3] << 12
    if offset in type2:
        name, law = type2[offset]
        sim._update(name, law(value))
        return True
    if offset == 0x0A and value < len(_PCM90_TAP):
        sim._update("tap_duration", _PCM90_TAP[value])
        return True
    if offset == 0x0B and value < len(_PCM90_BEAT):
        sim._update("tempo_beat", _PCM90_BEAT[value])
        return True
    return False


# ---- Yamaha SPX2000: Owner's Manual pp. 90-92 --------------------------------------------------------
# Bank select: "Bank number MSB (0); fixed at 0", "Bank number LSB (0, 1, 2); 0: table A, 1: table B,
# 2: table C", then "Program number (0-127)". Bulk dump: F0 43 0n 7E ch cl "LM  8D11E" mh ml tt bb
# data cs F7, "ee=(Invert('L'+...de)+1)&0x7F"; request F0 43 2n 7E "LM  8D11E" mh ml F7, 256 = EDIT BUFFER.
_DATA_NAME = [0x4C, 0x4D, 0x20, 0x20, 0x38, 0x44, 0x31, 0x31, 0x45]


def spx2000(sim: Simulator, msg: mido.Message) -> bool:
    memory = sim.memory
    n = sim.channel - 1
    if msg.type == "control_change" and _channel_ok(sim, msg):
        if msg.control == 0 and msg.value == 0:
            return True
        if msg.control == 32 and msg.value <= 2:
            memory["table"] = msg.value
            return True
        return False
    if msg.type == "program_change" and _channel_ok(sim, msg):
        sim._update("program", f"{'ABC'[memory.get('table', 0)]}{msg.program:03d}")
        return True
    if msg.type != "sysex":
        return False
    d = list(msg.data)
    if d[:3] == [0x43, 0x20 | n, 0x7E] and d[3:12] == _DATA_NAME and d[12:14] == [2, 0] and len(d) == 14:
        sim.dump_requests += 1
        edit = memory.get("edit_buffer")
        if edit is not None:
            sim.transmit(mido.Message("sysex", data=edit))
        return True
    if len(d) > 17 and d[:3] == [0x43, n, 0x7E] and d[5:14] == _DATA_NAME:
        count = d[3] * 128 + d[4]
        body = d[5:-1]                                 # 'L' .. last data byte
        if count != len(body) or (-sum(body)) & 0x7F != d[-1]:
            sim.rejected.append("bulk dump with a bad count or check sum")
            return True
        if d[14:16] == [2, 0]:
            memory["edit_buffer"] = d
        return True
    if d[:5] == [0x43, 0x10 | n, 0x1E, 0x09, 0x01] and len(d) == 12 and d[5:8] == [0x01, 0x14, 0x00]:
        raw = d[8] << 12 | d[9] << 8 | d[10] << 4 | d[11]      # inferred layout (see the profile)
        sim._update("output_level", float(raw - 0x10000 if raw & 0x8000 else raw))
        return True
    return False


# ---- Bricasti M7: V2 addendum p. 4 ---------------------------------------------------------------------
# "When the M7 receives the specific data packet, regardless of the state the M7 is in, it will set
# itself to that saved state." The packet's layout is unpublished: the simulator keeps what it got and
# sends it out again when a person "holds EDIT" (Simulator.memory["hold_edit"] via front_panel_dump).
def m7(sim: Simulator, msg: mido.Message) -> bool:
    if msg.type != "sysex":
        return False
    sim.memory["edit_buffer"] = list(msg.data)
    return True


def front_panel_dump(sim: Simulator) -> None:
    """A person holds EDIT on the (simulated) M7: it sends its edit buffer."""
    edit = sim.memory.get("edit_buffer")
    if edit is not None:
        sim.transmit(mido.Message("sysex", data=edit))


# ---- Behringer X32 / Midas M32: Unofficial X32/M32 OSC Remote Protocol (P.-G. Maillot) ----------------
# "float to dB: if (f >= 0.5) d = f * 40. - 30.; else if (f >= 0.25) d = f * 80. - 50.; else if (f >=
# 0.0625) d = f * 160. - 70.; else if (f >= 0.0) d = f * 480. - 90.;" with 1024 fader steps (the console
# rounds f to idx / 1023) and f = 0 meaning -inf; /ch/NN/mix/on 0 = muted; insert/pos {PRE, POST};
# insert/sel {OFF, FX1L, FX1R, ..., FX8R, AUX1 ... AUX6}.
_X32_SEL = ["OFF"] + [f"FX{k}{side}" for k in range(1, 9) for side in "LR"] + [f"AUX{k}" for k in range(1, 7)]


def x32_fader_db(f: float) -> float:
    f = round(f * 1023) / 1023
    if f >= 0.5:
        return f * 40.0 - 30.0
    if f >= 0.25:
        return f * 80.0 - 50.0
    if f >= 0.0625:
        return f * 160.0 - 70.0
    return f * 480.0 - 90.0


def x32_fader_float(db: float) -> float:
    """The document's "dB to float": "if (d < -60.) f = (d + 90.) / 480.; else if (d < -30.) f = (d + 70.) / 160.;
    else if (d < -10.) f = (d + 50.) / 80.; else if (d <= 10.) f = (d + 30.) / 40.;", on the console's 1024 steps."""
    if db < -60.0:
        f = (max(db, -90.0) + 90.0) / 480.0
    elif db < -30.0:
        f = (db + 70.0) / 160.0
    elif db < -10.0:
        f = (db + 50.0) / 80.0
    else:
        f = (min(db, 10.0) + 30.0) / 40.0
    return round(f * 1023) / 1023


def _x32_answer(sim: Simulator, address: str, ch: str, what: str) -> tuple[str, tuple[Any, ...]] | bool:
    """A query (the address without arguments): the console answers with its value, typed as the document says."""
    with sim._lock:
        state = dict(sim.state)
    if what == "mix/fader":
        return address, (float(x32_fader_float(float(state[f"ch{ch}.fader"]))),)
    if what == "mix/on":
        return address, (0 if state[f"ch{ch}.mute"] else 1,)
    if what == "insert/on":
        return address, (1 if state[f"ch{ch}.insert.on"] else 0,)
    if what == "insert/pos":
        return address, (["PRE", "POST"].index(state[f"ch{ch}.insert.pos"]),)
    if what == "insert/sel":
        return address, (_X32_SEL.index(state[f"ch{ch}.insert.sel"]),)
    return False


def x32(sim: Simulator, msg: Any) -> tuple[str, tuple[Any, ...]] | bool:
    if isinstance(msg, PanelMove):           # moved at the desk: /xremote clients hear the address and value
        ch, _, what = msg.param[2:].partition(".")
        address = {"fader": "mix/fader", "mute": "mix/on", "insert.on": "insert/on", "insert.pos": "insert/pos",
                   "insert.sel": "insert/sel"}.get(what)
        return False if address is None else _x32_answer(sim, f"/ch/{ch}/{address}", ch, address)
    address = getattr(msg, "address", "")
    params = list(getattr(msg, "params", []))
    parts = address.split("/")
    if len(parts) < 5 or parts[1] != "ch" or len(params) > 1 or not (parts[2].isdigit() and 1 <= int(parts[2]) <= 32):
        return False
    if not params:
        return _x32_answer(sim, address, parts[2], "/".join(parts[3:]))
    ch, what, arg = parts[2], "/".join(parts[3:]), params[0]
    if what == "mix/fader" and isinstance(arg, float) and 0.0 <= arg <= 1.0:
        sim._update(f"ch{ch}.fader", x32_fader_db(arg))
        return True
    if not isinstance(arg, int) or isinstance(arg, bool):
        return False
    if what == "mix/on" and arg in (0, 1):
        sim._update(f"ch{ch}.mute", arg == 0)
        return True
    if what == "insert/on" and arg in (0, 1):
        sim._update(f"ch{ch}.insert.on", arg == 1)
        return True
    if what == "insert/pos" and arg in (0, 1):
        sim._update(f"ch{ch}.insert.pos", ["PRE", "POST"][arg])
        return True
    if what == "insert/sel" and 0 <= arg < len(_X32_SEL):
        sim._update(f"ch{ch}.insert.sel", _X32_SEL[arg])
        return True
    return False


# ---- Alesis Midiverb III: manual, 03 - MIDI Editing --------------------------------------------------
# "F0 00 00 0E 03 03 <parameter#> <value lsb> <value msb> F7"; "<value lsb> = 0aaaaaaaB = new parameter value
# lsb (bits 0-6)", "<value msb> = 00000bbbB ... (bit 0-2)"; "6=REVERB ALGORITHM 0-19, 7=REVERB DECAY 0-99,
# 8=REVERB MIX 0-99, 4=DELAY TIME 1-100, 12=MOD AMPLITUDE 0-198 ... offset binary ... 99 represents 00".
_MIDIVERB = {6: ("reverb_algorithm", 0, 19), 7: ("reverb_decay", 0, 99), 8: ("reverb_mix", 0, 99),
             4: ("delay_time", 1, 100), 12: ("mod_amplitude", 0, 198)}


def midiverb3(sim: Simulator, msg: Any) -> bool:
    if msg.type != "sysex":
        return False
    d = list(msg.data)
    if len(d) != 8 or d[:5] != [0x00, 0x00, 0x0E, 0x03, 0x03] or d[7] > 0x07 or d[5] not in _MIDIVERB:
        return False
    name, lo, hi = _MIDIVERB[d[5]]
    value = d[6] | d[7] << 7
    if not lo <= value <= hi:
        return False
    sim._update(name, float(value - 99 if name == "mod_amplitude" else value))
    return True


# ---- Behringer DSP1100: manual, Tab. 8.2 Controller functions with MIDI ---------------------------------
# "Filter Mode O, P, A, S 11 0..3", "Frequency 20 (Hz)..20 (kHz) 13 0..30", "Fine (1/60 Oct) -9..+10 14 0..19",
# "Bandwidth 1..120 15 0..119", "Gain -48..+16 16 0..64", "In/Out 19 0..2". Frequency steps: third octaves.
_THIRDS = [20, 25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000, 1250, 1600, 2000,
           2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000, 20000]
_DSP1100: dict[int, tuple[str, int, Callable[[int], Any]]] = {
    10: ("filter", 11, lambda v: str(v + 1)), 11: ("mode", 3, lambda v: "OPAS"[v]),
    13: ("frequency", 30, lambda v: float(_THIRDS[v])), 14: ("fine", 19, lambda v: float(v - 9)),
    15: ("bandwidth", 119, lambda v: float(v + 1)), 16: ("gain", 64, lambda v: float(v - 48)),
    19: ("in_out", 2, lambda v: ["out", "in", "auto"][v]),
}


def dsp1100(sim: Simulator, msg: Any) -> bool:
    if msg.type != "control_change" or not _channel_ok(sim, msg) or msg.control not in _DSP1100:
        return False
    name, top, meaning = _DSP1100[msg.control]
    if msg.value > top:
        return False
    sim._update(name, meaning(msg.value))
    return True


# ---- Yamaha TF series: RCP over TCP port 49280 -------------------------------------------------------
# Yamaha Python Script Template V1.00 (TF): "set MIXER:Current/InCh/Fader/Level 4 0 500" (channel 5, X from 0,
# Y 0, +5.00 dB in hundredths), "set MIXER:Current/InCh/Fader/On 1 0 0" (channel 2 off). RCP grammar (MTX/MRX
# RCP Specifications V4.0.0, section 3): a command is answered "OK <command> ..." or "ERROR <command> <reason>".
# Levels: "Max Fader Value: 1000", "Min Fader Value: -13800", "Negative Infinity Value: -32768".
_TF_FADERS = {"MIXER:Current/InCh/Fader/Level": ("ch{:02d}.fader", 40), "MIXER:Current/St/Fader/Level": ("st.fader", 1)}
_TF_ONS = {"MIXER:Current/InCh/Fader/On": ("ch{:02d}.mute", 40)}
_TF_NEG_INF = -32768


def _tf_error(sim: Simulator, verb: str, reason: str, line: str) -> str:
    sim.rejected.append(f"{reason}: {line!r}")
    return f"ERROR {verb} {reason}"


def _tf_notice(move: PanelMove) -> str | None:
    """A fader or On key moved at the desk: "NOTIFY set <address> <x> <y> <value>" to every client."""
    for table in (_TF_FADERS, _TF_ONS):
        for address, (pattern, count) in table.items():
            for x in range(count):
                if pattern.format(x + 1) != move.param:
                    continue
                if table is _TF_ONS:
                    return f"NOTIFY set {address} {x} 0 {_tf_on(not move.value)}"
                value = float(move.value)
                return f"NOTIFY set {address} {x} 0 {_tf_level(-math.inf if value < -138.0 else value)}"
    return None


def _tf_level(db: float) -> str:
    """A level and its display string, as the RCP notices print them: '-7760 "-77.60"', '-32768 "-Inf"'."""
    if db == -math.inf:
        return f'{_TF_NEG_INF} "-Inf"'
    return f'{round(db * 100)} "{db:.2f}"'


def _tf_on(on: bool) -> str:
    return '1 "1"' if on else '0 "0"'      # as the specification's 'NOTIFY set MTX:EvntScd_On 0 0 1 "1"'


TF_PRODUCT_NAME = "TF5"
"""What the simulated desk calls itself when asked ``devinfo productname``."""


def yamaha_tf(sim: Simulator, line: Any) -> str | bool | None:
    if isinstance(line, PanelMove):
        return _tf_notice(line)
    words = str(line).split(" ")
    verb = words[0]
    if words == ["devinfo", "productname"]:   # RM series RCP spec p. 16: 'OK devinfo <item> "xxxx"'
        return f'OK devinfo productname "{TF_PRODUCT_NAME}"'
    if verb == "devinfo":
        return _tf_error(sim, verb, "UnknownAddress", line)
    if verb not in ("set", "get") or len(words) != (5 if verb == "set" else 4):
        return False
    address, x_text, y_text = words[1:4]
    table = _TF_FADERS if address in _TF_FADERS else _TF_ONS if address in _TF_ONS else None
    if table is None:
        return _tf_error(sim, verb, "UnknownAddress", line)
    pattern, count = table[address]
    if not (x_text.isdigit() and y_text == "0" and int(x_text) < count):
        return _tf_error(sim, verb, "InvalidArgument", line)
    name = pattern.format(int(x_text) + 1)
    head = " ".join(words[1:4])
    if verb == "get":
        with sim._lock:
            value = sim.state[name]
        if table is _TF_ONS:
            return f"OK get {head} {_tf_on(not value)}"
        return f"OK get {head} {_tf_level(float(value))}"
    raw = words[4]
    if not raw.lstrip("-").isdigit():
        return _tf_error(sim, verb, "InvalidArgument", line)
    number = int(raw)
    if table is _TF_ONS:
        if number not in (0, 1):
            return _tf_error(sim, verb, "InvalidArgument", line)
        sim._update(name, number == 0)                  # "On" 0 = the channel is off: muted
    else:
        if number != _TF_NEG_INF and not -13800 <= number <= 1000:
            return _tf_error(sim, verb, "InvalidArgument", line)
        sim._update(name, float("-inf") if number == _TF_NEG_INF else number / 100)
    return f"OK set {head} {raw}"


# ---- Lexicon PCM 80 v1.10: MIDI Implementation Details, p. 43, Appendix G (Type 2, non-patchable) -----------
# The same 0x0B Parameter Dump as the PCM 90 with the PCM 80's product byte 07: "Tempo (Rate)" at offset 0,
# "Add 40 to parameter value to derive BPM"; the tempo beat value at offset 0x0B.
_PCM80_TYPE2: dict[int, tuple[str, Callable[[int], float]]] = {0: ("tempo", lambda v: float(v + 40))}


def pcm80(sim: Simulator, msg: mido.Message) -> bool:
    return _lexicon_parameter_dump(sim, msg, 0x07, _PCM80_TYPE2)


# ---- Eventide H9: User Guide p. 39 [RCV.MAP] and p. 36 [RCV.CTL] -----------------------------------------
# "Default map: Prg No. (1-99) map to the 99 Presets (P01-P99)"; the knobs KB0..KB9 listen on the CCs the user
# sets in RCV.CTL (the simulator's ``memory["rcv_ctl"]``, {cc: knob}); a CC's 0..127 sweeps the knob's 0..99.
def h9(sim: Simulator, msg: mido.Message) -> bool:
    if not _channel_ok(sim, msg):
        return False
    if msg.type == "program_change":
        if not 1 <= msg.program <= 99:
            return False
        sim._update("preset", f"P{msg.program:02d}")
        return True
    rcv_ctl: dict[int, int] = sim.memory.get("rcv_ctl") or {22 + k: k for k in range(10)}
    if msg.type == "control_change" and msg.control in rcv_ctl:
        sim._update(f"kb{rcv_ctl[msg.control]}", round(msg.value * 99 / 127, 6))
        return True
    return False


# ---- TC Electronic M3000: manual (November 1998), p. 59, MIDI Implementation Chart ---------------------------
# "Program change: 0-127"; "CC 10: Mix, CC 11: Output Level, CC 12..: parameters of the Edit page", each "single
# byte type, scaled to parameter range" (Mix 0..100 %, Output -100..0 dB as the profile's inferred ranges).
_M3000_CC: dict[int, tuple[str, float, float]] = {
    10: ("mix", 0.0, 100.0), 11: ("output", -100.0, 0.0), 12: ("edit1", 0.0, 127.0), 13: ("edit2", 0.0, 127.0),
    14: ("edit3", 0.0, 127.0)}


def m3000(sim: Simulator, msg: mido.Message) -> bool:
    if not _channel_ok(sim, msg):
        return False
    if msg.type == "program_change":
        sim._update("program", float(msg.program))
        return True
    if msg.type == "control_change" and msg.control in _M3000_CC:
        name, lo, hi = _M3000_CC[msg.control]
        sim._update(name, round(lo + msg.value * (hi - lo) / 127, 6))
        return True
    return False


# ---- Strymon BigSky MX: user manual p. 76, Hardware Control and Other ----------------------------------------
# "MIDI Patch Bank CC 0": bank 0 = 000A-063B, 1 = 064A-127B, 2 = 128A-149B, then a program change within the
# bank (two presets, A and B, per number); "Bypass 102", "Infinite 97" (0 off, 127 on), "Expression 100".
def bigsky_mx(sim: Simulator, msg: mido.Message) -> bool:
    if not _channel_ok(sim, msg):
        return False
    if msg.type == "control_change" and msg.control == 0:
        if msg.value > 2:
            return False
        sim.memory["bank"] = msg.value
        return True
    if msg.type == "program_change":
        return _strymon_preset(sim, msg.program, "AB", 3)
    if msg.type != "control_change":
        return False
    if msg.control in (102, 97) and msg.value in (0, 127):
        sim._update("bypass" if msg.control == 102 else "infinite", msg.value == 127)
        return True
    if msg.control == 100:
        sim._update("expression", float(msg.value))
        return True
    return False


# ---- Elektron Analog Drive: manual's MIDI appendix (as quoted) ------------------------------------------------
# "MIDI CC: 8 bits. 7 in MSB, 1 in LSB." Gain 16/48, Low 17/49; "Circuit Select 3: 0-15 = Clean Boost,
# 16-31 = Mid Drive, ...". The MSB sets the top 7 bits; the LSB's top bit (64) is the eighth.
_DRIVE_PAIRS = {16: "gain", 17: "low"}
_DRIVE_LSB = {48: "gain", 49: "low"}


def analog_drive(sim: Simulator, msg: mido.Message) -> bool:
    if msg.type != "control_change" or not _channel_ok(sim, msg):
        return False
    if msg.control == 3:
        if msg.value > 31:
            return False                                # circuits after Mid Drive are not in the profile
        sim._update("circuit", ["Clean Boost", "Mid Drive"][msg.value // 16])
        return True
    if msg.control in _DRIVE_PAIRS:
        name = _DRIVE_PAIRS[msg.control]
        sim.memory[f"{name}_msb"] = msg.value
        sim._update(name, float(msg.value << 1))
        return True
    if msg.control in _DRIVE_LSB:
        name = _DRIVE_LSB[msg.control]
        sim._update(name, float(sim.memory.get(f"{name}_msb", 0) << 1 | msg.value >> 6))
        return True
    return False


# ---- Elektron Analog Heat MKII: user manual's MIDI appendix (as transcribed, see the profile) ---------------
# "Drive 12 37", "Wet Level 11 38", "Dry/wet Mix 8 39", "Preset Volume 7", "EQ Low 9 40", "EQ High 10 41",
# "VCF Frequency 74 42", "VCF Frequency Pan 79 49", "VCF Resonance 71 43", "VCF Dirt 13", "ENV to Filter 14 44",
# "LFO to Filter 15 45": the MSB controller moves the knob to 0..127, its LSB controller adds 1/128 steps.
_HEAT_MSB = {12: "drive", 11: "wet_level", 8: "mix", 7: "volume", 9: "eq_low", 10: "eq_high", 74: "filter_freq",
             79: "filter_pan", 71: "resonance", 13: "dirt", 14: "env_to_filter", 15: "lfo_to_filter"}
_HEAT_LSB = {37: "drive", 38: "wet_level", 39: "mix", 40: "eq_low", 41: "eq_high", 42: "filter_freq",
             49: "filter_pan", 43: "resonance", 44: "env_to_filter", 45: "lfo_to_filter"}


def analog_heat_mk2(sim: Simulator, msg: mido.Message) -> bool:
    if msg.type != "control_change" or not _channel_ok(sim, msg):
        return False
    if msg.control in _HEAT_MSB:
        name = _HEAT_MSB[msg.control]
        sim.memory[f"{name}_msb"] = msg.value
        sim._update(name, float(msg.value))
        return True
    if msg.control in _HEAT_LSB:
        name = _HEAT_LSB[msg.control]
        sim._update(name, sim.memory.get(f"{name}_msb", 0) + msg.value / 128)
        return True
    return False


# ---- MOTU MIDI Express XT: ClockWorks chapter, p. 94, "Switching presets using a patch change" ---------------
# "Each preset has a MIDI patch change number assigned to it"; "to call up the Live Keyboards factory preset ...
# you would send a MIDI patch change event with a value of 10"; only on the channel of the preset trigger source.
def midi_express_xt(sim: Simulator, msg: mido.Message) -> bool:
    if msg.type != "program_change" or not _channel_ok(sim, msg):
        return False
    sim._update("preset", float(msg.program))
    return True


# ---- Routers: each answers its tie commands as its document prints them ----------------------------------------
# Blackmagic Videohub Developer Information: a "VIDEO OUTPUT ROUTING:" block of "<output> <input>" lines, numbered
# from 0, ended by a blank line; the hub answers "ACK" (or "NAK" for a block it refuses). 12 x 12 here.
def videohub(sim: Simulator, block: Any) -> str | bool:
    if isinstance(block, PanelMove):
        return False
    lines = str(block).strip("\n").split("\n")
    if lines[0] != "VIDEO OUTPUT ROUTING:" or len(lines) < 2:
        return False
    pairs = [line.split(" ") for line in lines[1:]]
    if not all(len(p) == 2 and p[0].isdigit() and p[1].isdigit() and int(p[0]) < 12 and int(p[1]) < 12
               for p in pairs):
        sim.rejected.append(f"NAK: {block!r}")
        return "NAK"
    for out, source in pairs:
        sim._set_tie(int(out) + 1, int(source) + 1)
    return "ACK"


# Extron MAV Plus SIS (CrossPoint/MAV Programmer's Guide 4-13..4-16): "X!*X@$" ties input X! audio to output X@ and
# answers "OutX@ InX! Aud" (two digits each; "X!*X@!" ties all and answers "... All"), input 0 unties; "X@$" answers the tied input. "E01" invalid input
# number, "E10" invalid command, "E13" invalid value. 24 inputs x 12 outputs.
def extron_mav(sim: Simulator, line: Any) -> str | bool:
    if isinstance(line, PanelMove):
        return False
    text = str(line)
    if text[-1:] not in ("$", "!") or not text[:-1].replace("*", "", 1).isdigit():
        sim.rejected.append(f"E10: {text!r}")
        return "E10"
    kind = "Aud" if text.endswith("$") else "All"             # "!" ties video and audio together
    if "*" in text:
        source, output = (int(x) for x in text[:-1].split("*"))
        if source > 24:
            sim.rejected.append(f"E01: {text!r}")
            return "E01"
        if not 1 <= output <= 12:
            sim.rejected.append(f"E13: {text!r}")
            return "E13"
        sim._set_tie(output, source)
        return f"Out{output:02d} In{source:02d} {kind}"
    output = int(text[:-1])
    if not 1 <= output <= 12:
        sim.rejected.append(f"E13: {text!r}")
        return "E13"
    with sim._lock:
        return f"{sim.ties.get(output, 0):02d}"


# Kramer Protocol 3000 (VP-81K manual p. 31; VS-88HN manual p. 28): "#AUD IN>OUT" CR answered "~01@AUD IN>OUT OK",
# IN 0 disconnects; "#AUD? OUT" answered "~01@AUD IN>OUT"; "ERR003" parameter out of range, "ERR001" syntax. 8 x 8.
def kramer_p3000(sim: Simulator, line: Any) -> str | bool:
    if isinstance(line, PanelMove):
        return False
    text = str(line)
    if text.startswith("#AUD? ") and text[6:].isdigit():
        output = int(text[6:])
        if not 1 <= output <= 8:
            sim.rejected.append(f"ERR003: {text!r}")
            return "~01@AUD ERR003"
        with sim._lock:
            return f"~01@AUD {sim.ties.get(output, 0)}>{output}"
    if text.startswith("#AUD ") and ">" in text:
        source_text, _, output_text = text[5:].partition(">")
        if source_text.isdigit() and output_text.isdigit():
            source, output = int(source_text), int(output_text)
            if source > 8 or not 1 <= output <= 8:
                sim.rejected.append(f"ERR003: {text!r}")
                return "~01@AUD ERR003"
            sim._set_tie(output, source)
            return f"~01@AUD {source}>{output} OK"
    sim.rejected.append(f"ERR001: {text!r}")
    return "~01@ ERR001"


DECODERS: dict[str, Decoder] = {
    "alesis-midiverb3": midiverb3,
    "behringer-dsp1100": dsp1100,
    "behringer-x32": x32,
    "strymon-bigsky": bigsky,
    "lexicon-pcm90": pcm90,
    "yamaha-spx2000": spx2000,
    "bricasti-m7": m7,
    "yamaha-tf": yamaha_tf,
    "lexicon-pcm80": pcm80,
    "eventide-h9": h9,
    "tc-m3000": m3000,
    "strymon-bigsky-mx": bigsky_mx,
    "elektron-analog-drive": analog_drive,
    "elektron-analog-heat-mk2": analog_heat_mk2,
    "motu-midi-express-xt": midi_express_xt,
    "blackmagic-videohub": videohub,
    "extron-mav-plus": extron_mav,
    "kramer-p3000-matrix": kramer_p3000,
}
