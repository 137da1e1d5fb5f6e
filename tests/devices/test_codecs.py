"""MIDI encodings and the stateful decoder: every kind round-trips."""

from pathlib import Path

import mido
import pytest

from devices.midi_codec import MidiDecoder
from devices.profile import builtin_profiles, load_profile

HERE = Path(__file__).parent


def _roundtrip(profile, channel):
    encodings = {n: p.encoding for n, p in profile.parameters.items()}
    decoder = MidiDecoder(encodings, channel=channel, device_id=profile.midi.device_id)
    for name, param in profile.parameters.items():
        enc = param.encoding
        for wire in ([0, enc.wire_max // 3, enc.wire_max] if enc.wire is None else list(enc.wire)):
            got = []
            for msg in enc.encode(wire, channel, device_id=profile.midi.device_id):
                # Through bytes and back, as on a wire.
                got += decoder.feed(mido.Message.from_bytes(msg.bytes()))
            assert got[-1] == (name, wire), (name, wire, got)


@pytest.mark.parametrize("pid", ["hy-comp-cc", "hy-eq-nrpn", "hy-verb-sysex", "hy-patchbay-pc"])
def test_builtin_midi_profiles_round_trip(pid):
    profile = builtin_profiles()[pid]
    _roundtrip(profile, profile.midi.channel)


def test_checksum_zoo_round_trips():
    _roundtrip(load_profile(HERE / "profiles" / "test-sysex-sums.toml"), 5)


def test_nrpn_bytes_are_the_standard_sequence():
    eq = builtin_profiles()["hy-eq-nrpn"]
    msgs = eq.parameters["hmf_freq"].encoding.encode(0x1234, 1)
    assert [m.bytes() for m in msgs] == [[0xB0, 99, 0], [0xB0, 98, 31], [0xB0, 6, 0x1234 >> 7],
                                         [0xB0, 38, 0x1234 & 0x7F]]
    trim = eq.parameters["trim"].encoding.encode(16383, 2)
    assert [m.bytes() for m in trim] == [[0xB1, 7, 127], [0xB1, 39, 127]]


def test_rpn_and_program_with_bank():
    zoo = load_profile(HERE / "profiles" / "test-sysex-sums.toml")
    assert [m.bytes() for m in zoo.parameters["tune"].encoding.encode(8192, 5)] == [
        [0xB4, 101, 0], [0xB4, 100, 1], [0xB4, 6, 64], [0xB4, 38, 0]]
    bay = builtin_profiles()["hy-patchbay-pc"]
    msgs = bay.parameters["patch"].encoding.encode(128, 16)
    assert [m.bytes() for m in msgs] == [[0xBF, 0, 0], [0xBF, 32, 1], [0xCF, 0]]


def test_decoder_ignores_other_channels_and_stray_data_entry():
    comp = builtin_profiles()["hy-comp-cc"]
    decoder = MidiDecoder({n: p.encoding for n, p in comp.parameters.items()}, channel=1)
    assert decoder.feed(mido.Message("control_change", channel=1, control=20, value=5)) == []
    assert decoder.feed(mido.Message("control_change", channel=0, control=20, value=5)) == [("threshold", 5)]
    assert decoder.feed(mido.Message("control_change", channel=0, control=6, value=5)) == []


def test_bad_checksum_is_counted_not_applied():
    verb = builtin_profiles()["hy-verb-sysex"]
    decoder = MidiDecoder({n: p.encoding for n, p in verb.parameters.items()}, device_id=0x10)
    msg = verb.parameters["decay"].encoding.encode(50, 1, device_id=0x10)[0]
    data = list(msg.data)
    data[-1] = (data[-1] + 1) % 128
    assert decoder.feed(mido.Message("sysex", data=data)) == []
    assert decoder.bad_checksums == 1
