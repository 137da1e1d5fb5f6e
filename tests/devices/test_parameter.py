"""Parameters: the engineer's values, tapers and the wire mapping."""

import math

import pytest

from devices.errors import ProfileError
from devices.profile import builtin_profiles


@pytest.fixture(scope="module")
def lib():
    return builtin_profiles()


def test_parse_units_and_prefixes(lib):
    eq = lib["hy-eq-nrpn"].parameters
    assert eq["hmf_freq"].parse("2.2 kHz") == pytest.approx(2200.0)
    assert eq["hmf_freq"].parse("2.2k") == pytest.approx(2200.0)
    assert eq["hmf_freq"].parse("900 Hz") == pytest.approx(900.0)
    assert eq["hmf_gain"].parse("-4.5 dB") == pytest.approx(-4.5)
    comp = lib["hy-comp-cc"].parameters
    assert comp["attack"].parse("800 us") == pytest.approx(0.8)
    assert comp["release"].parse("1.2 s") == pytest.approx(1200.0)


def test_out_of_range_names_the_range(lib):
    gain = lib["hy-eq-nrpn"].parameters["hmf_gain"]
    with pytest.raises(ProfileError, match=r"hmf_gain.*out of range; expected -15 dB \.\. 15 dB"):
        gain.parse("16 dB")
    with pytest.raises(ProfileError, match="unit 'ms' does not fit"):
        gain.parse("3 ms")
    with pytest.raises(ProfileError):
        gain.check(float("nan"))


def test_stepped_labels_values_and_numbers(lib):
    ratio = lib["hy-comp-cc"].parameters["ratio"]
    assert ratio.parse("4:1") == "4:1"
    assert ratio.parse(8) == "8:1"          # by its values entry
    assert ratio.number("12:1") == 12.0
    with pytest.raises(ProfileError, match="one of 2:1, 4:1, 8:1, 12:1, 20:1"):
        ratio.parse("3:1")
    freq = lib["hy-pultec-manual"].parameters["high_freq"]
    assert freq.parse("10K") == "10k" and freq.number("10k") == 10000.0
    assert freq.parse(12000) == "12k"


def test_switch(lib):
    bypass = lib["hy-comp-cc"].parameters["bypass"]
    assert bypass.parse("bypassed") is True
    assert bypass.parse("in") is False
    assert bypass.parse("on") is True
    assert bypass.format(True) == "bypassed"
    with pytest.raises(ProfileError):
        bypass.parse("maybe")


def test_log_taper_spreads_decades_evenly(lib):
    freq = lib["hy-eq-nrpn"].parameters["hmf_freq"]   # 600 Hz .. 12 kHz
    mid = freq.to_wire(math.sqrt(600 * 12000), 16383)
    assert abs(mid - 8191.5) <= 1
    for value in (600.0, 1000.0, 2200.0, 12000.0):
        assert freq.quantize(value, 16383) == pytest.approx(value, rel=2e-4)
    attack = lib["hy-comp-cc"].parameters["attack"]     # 7-bit: coarse but monotonic
    wires = [attack.to_wire(v, 127) for v in (0.1, 1.0, 10.0, 100.0)]
    assert wires == sorted(wires) and wires[0] == 0 and wires[-1] == 127


def test_format(lib):
    eq = lib["hy-eq-nrpn"].parameters
    assert eq["hmf_freq"].format(2200.0) == "2.2 kHz"
    assert eq["hmf_gain"].format(-4.5) == "-4.5 dB"
    assert lib["hy-comp-cc"].parameters["attack"].format(0.8) == "0.8 ms"


def test_stepped_wire_list_and_nearest_detent(lib):
    ratio = lib["hy-comp-cc"].parameters["ratio"]
    wire = [0, 32, 64, 96, 127]
    assert ratio.to_wire("12:1", 127, wire) == 96
    assert ratio.from_wire(90, 127, wire) == "12:1"
