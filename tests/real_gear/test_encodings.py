"""Encodings real units use, each checked against bytes or rules quoted from the maker's document.

The documents are named in each test; the quoted lines are copied from them. No test
here compares our encoder with our own decoder.
"""

from __future__ import annotations

import pytest

from devices.errors import ProfileError
from devices.midi_codec import parse_encoding
from devices.parameter import Parameter
from devices.profile import builtin_profiles
from devices.value_law import ValueLaw


@pytest.fixture(scope="module")
def lib():
    return builtin_profiles()


def _bytes(param, value, channel=1, device_id=0x10):
    enc = param.encoding
    wire = param.to_wire(param.parse(value), enc.wire_max, list(enc.wire) if enc.wire else None)
    return [m.hex() for m in enc.encode(wire, channel, device_id=device_id)]


def _param(table, **kw):
    enc = parse_encoding(table, file="t", key="midi", sysex_defaults={"checksum": "none", "checksum_start": 1})
    p = Parameter(name="p", label="p", **kw)
    p.encoding, p.law = enc, enc.law
    return p


# ---- bank select styles ----------------------------------------------------------------------------
def test_bigsky_42C_is_bank_1_program_0_by_cc0_only(lib):
    # Strymon BigSky User Manual, p. 23: "MIDI BANK 0 = PRESETS 00A-42B / MIDI BANK 1 = PRESETS 42C-85A /
    # MIDI BANK 2 = PRESETS 85B-99C"; "PRESET 00A = MIDI program # 0 / PRESET 00B = MIDI program # 1 /
    # PRESET 00C = MIDI program # 2 / PRESET 01A = MIDI program # 3"; the bank is "MIDI CC# 0 with a value
    # equal to the MIDI Bank#".
    preset = lib["strymon-bigsky"].parameters["preset"]
    assert _bytes(preset, "42C") == ["B0 00 01", "C0 00"]          # not B0 00 00 / B0 20 01 / C0 00
    assert _bytes(preset, "00A") == ["B0 00 00", "C0 00"]
    assert _bytes(preset, "01A") == ["B0 00 00", "C0 03"]
    assert _bytes(preset, "42B") == ["B0 00 00", "C0 7F"]
    assert _bytes(preset, "85B") == ["B0 00 02", "C0 00"]
    assert _bytes(preset, "99C") == ["B0 00 02", "C0 2B"]


def test_spx2000_bank_is_msb_0_then_lsb_table(lib):
    # Yamaha SPX2000 Owner's Manual, p. 90: "B0 00 00 Bank number MSB (0); fixed at 0",
    # "Bn 20 vv Bank number LSB (0, 1, 2); 0: table A, 1: table B, 2: table C", "Cn Program number (0-127)".
    program = lib["yamaha-spx2000"].parameters["program"]
    assert _bytes(program, "B005", channel=2) == ["B1 00 00", "B1 20 01", "C1 05"]
    assert _bytes(program, "C127") == ["B0 00 00", "B0 20 02", "C0 7F"]


def test_cc32_only_bank():
    # KeyboardPartner HX3 wiki, "Bank Select on HX3.5": "From HX3.5 FW 5.516, Common Presets 0..99 are
    # selected in all CC Sets by Bank Select commands (LSB, CC #32 decimal)."
    p = _param({"type": "program", "bank": "cc32"}, kind="continuous", minimum=0.0, maximum=16383.0)
    assert [m.hex() for m in p.encoding.encode(99 * 128 + 0, 1)] == ["B0 20 63", "C0 00"]


def test_no_bank_program_only():
    # Eventide H9 User Guide, p. 39: "Default map: Prg No. (1-99) map to the 99 Presets (P01-P99)."
    from devices.profile import builtin_profiles
    preset = builtin_profiles()["eventide-h9"].parameters["preset"]
    assert _bytes(preset, "P01") == ["C0 01"]
    assert _bytes(preset, "P99") == ["C0 63"]


# ---- value + offset versus a spread range -----------------------------------------------------------
def test_pcm90_tempo_is_value_plus_40_in_nibbles_least_significant_first(lib):
    # Lexicon PCM 90 MIDI Implementation Details, p. 41, Appendix H: "Tempo (Rate) ... Add 40 to parameter
    # value to derive BPM, ie Parameter Value of 80=120 BPM"; p. 13, 0x0B Parameter Dump: F0 06 08 <device
    # id> 0B <type> <offset> <tempo mode flag> then "Least-significant nibble ... Next nibble ... Next
    # nibble ... Most-significant nibble", F7.
    tempo = lib["lexicon-pcm90"].parameters["tempo"]
    assert _bytes(tempo, "120 BPM", device_id=0) == ["F0 06 08 00 0B 02 00 00 00 05 00 00 F7"]
    assert _bytes(tempo, 400, device_id=5) == ["F0 06 08 05 0B 02 00 00 08 06 01 00 F7"]   # 360 = 0x168
    enc = tempo.encoding
    assert tempo.from_wire(80, enc.wire_max) == 120.0          # not 97 BPM from a spread range


def test_offset_starting_below_zero():
    # Alesis Midiverb III manual, "03 - MIDI Editing": "The modulation amplitude is in offset binary, so the
    # values 0 to 98 represent -99 to -1, 99 represents 00, and 100 to 198 represent 1 to 99."
    p = _param({"type": "sysex", "template": "F0 00 00 0E 03 03 0C {v_lsb} {v_msb} F7", "law": "step",
                "zero": -99}, kind="continuous", minimum=-99.0, maximum=99.0)
    assert [p.to_wire(v, p.encoding.wire_max) for v in (-99.0, -1.0, 0.0, 1.0, 99.0)] == [0, 98, 99, 100, 198]


# ---- signed numbers ------------------------------------------------------------------------------------
def test_twos_complement_14_bit_lsb_first():
    # E-mu Ultraproteus Operation Manual, p. 277, "14-bit signed 2's complement numbers": "Example: To find
    # the 'nibble-ized' Hex value of -127: -127 + 16384 = 16257 ... 127 in Hex = 7F = msb ... 1 in Hex = 01
    # = lsb ... Parameter value would be transmitted as 01 7F".
    p = _param({"type": "sysex", "template": "F0 18 04 00 03 00 00 {v_lsb} {v_msb} F7", "law": "step",
                "signed": "twos"}, kind="continuous", minimum=-1000.0, maximum=1000.0)
    wire = p.to_wire(-127.0, p.encoding.wire_max)
    assert wire == 16257
    assert p.encoding.encode(wire, 1)[0].hex() == "F0 18 04 00 03 00 00 01 7F F7"
    assert p.from_wire(16257, p.encoding.wire_max) == -127.0


def test_offset_binary_roland_sign():
    # Roland V-Piano Grand MIDI Implementation, "Decimal and Hexadecimal Table": "In the case of values which
    # have a +/- sign, 00H = -64, 40H = +/-0, and 7FH = +63".
    p = _param({"type": "cc", "control": 20, "law": "step", "signed": "offset"}, kind="continuous",
               minimum=-64.0, maximum=63.0)
    assert [p.to_wire(v, 127) for v in (-64.0, 0.0, 63.0)] == [0x00, 0x40, 0x7F]


def test_spx2000_minus_6_db_goes_out_negative_with_channel_in_status(lib):
    # Yamaha SPX2000 Owner's Manual, p. 92, 2.8.2: "SUB STATUS 0001nnnn 1n n=0-15 (Device number=Device
    # No-1)", "GROUP ID 00011110 1E", "MODEL ID 00001001 09 SPX2000", "ADDRESS 00000001 01 Edit Buffer".
    # The element/parameter numbers and the value layout after them are inferred (the profile says so).
    level = lib["yamaha-spx2000"].parameters["output_level"]
    out = _bytes(level, "-6 dB", channel=3)[0].split()
    assert out[:6] == ["F0", "43", "12", "1E", "09", "01"]       # 1n with n = channel 3 - 1
    value = int("".join(x[1] for x in out[9:13]), 16)
    assert value == 0x10000 - 6                                  # negative, not +6


def test_sign_magnitude_law():
    # No maker's document at hand prints a sign-magnitude example; the law is checked on its definition.
    law = ValueLaw(kind="step", signed="sign-magnitude", bits=8)
    assert law.to_wire(-6.0, 255) == 0x86 and law.to_wire(6.0, 255) == 0x06
    assert law.from_wire(0x86, 255) == -6.0


# ---- 14-bit CC on any controller pair -----------------------------------------------------------------
def test_cc14_on_any_pair_and_refused_when_the_pair_is_one_controller():
    # Elektron Analog Drive manual (as quoted): "MIDI CC: 8 bits. 7 in MSB, 1 in LSB. Gain 16 48".
    gain = _param({"type": "cc14", "control": 16, "lsb_control": 48}, kind="continuous", minimum=0.0,
                  maximum=16383.0)
    assert [m.hex() for m in gain.encoding.encode(0x1234, 1)] == ["B0 10 24", "B0 30 34"]
    heat = _param({"type": "cc14", "control": 109, "lsb_control": 37}, kind="continuous", minimum=0.0,
                  maximum=16383.0)
    assert [m.hex() for m in heat.encoding.encode(16383, 1)] == ["B0 6D 7F", "B0 25 7F"]
    with pytest.raises(ProfileError, match="differ"):
        parse_encoding({"type": "cc14", "control": 37, "lsb_control": 37}, file="t", key="midi",
                       sysex_defaults={})


# ---- piecewise and table laws ---------------------------------------------------------------------------
X32_POINTS = [[0.0, -90.0], [0.0625, -60.0], [0.25, -30.0], [0.5, -10.0], [1.0, 10.0]]


@pytest.mark.parametrize("f", [0.01, 0.0625, 0.1, 0.25, 0.4, 0.5, 0.75, 0.9, 1.0])
def test_x32_fader_law_is_the_documents_four_segments(f):
    # Unofficial X32/M32 OSC Remote Protocol (P.-G. Maillot), "float to dB": "if (f >= 0.5) d = f * 40. -
    # 30.; else if (f >= 0.25) d = f * 80. - 50.; else if (f >= 0.0625) d = f * 160. - 70.; else if (f >=
    # 0.0) d = f * 480. - 90.;" and the console's 1024 fader steps (level = idx / 1023).
    doc = f * 40 - 30 if f >= 0.5 else f * 80 - 50 if f >= 0.25 else f * 160 - 70 if f >= 0.0625 else f * 480 - 90
    law = ValueLaw(kind="points", points=tuple((a, b) for a, b in X32_POINTS))
    assert law.from_wire(round(f * 1023), 1023) == pytest.approx(
        (lambda g: g * 40 - 30 if g >= 0.5 else g * 80 - 50 if g >= 0.25 else g * 160 - 70 if g >= 0.0625
         else g * 480 - 90)(round(f * 1023) / 1023), abs=1e-9)
    assert law.to_wire(doc, 1023) == round(f * 1023)


def test_table_law_maps_each_wire_number_to_its_value():
    law = ValueLaw(kind="table", table=(0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0))
    assert law.to_wire(0.21, 6) == 3 and law.from_wire(5, 6) == 1.0
