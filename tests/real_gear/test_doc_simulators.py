"""Shipped MIDI profiles against simulators that read the bytes by the maker's document.

Each simulator here decodes with ``devices.unit_sims`` (written from the document's tables,
no codec shared with the profile), over real JACK MIDI ports.
"""

from __future__ import annotations

import dataclasses

import pytest

from devices.device import Device
from devices.profile import builtin_profiles
from devices.simulator import Simulator
from devices.unit_sims import DECODERS

from tests.devices.helpers import wait_for as _wait_for


def wait_for(condition, timeout_s: float = 5.0) -> bool:
    """Up to 5 s: the machine is shared and JACK delivery slows under load."""
    return _wait_for(condition, timeout_s)

pytestmark = pytest.mark.usefixtures("jack_server")


@pytest.fixture(scope="module")
def lib():
    return builtin_profiles()


def _sim(profile, port, **kw):
    return Simulator(profile, port, decoder=DECODERS[profile.id], **kw)


def test_bigsky_presets_and_knobs_land_as_the_manual_reads_them(lib):
    profile = lib["strymon-bigsky"]
    with _sim(profile, "doc-bigsky") as sim, Device(profile, sim.port, name="BigSky") as dev:
        dev.apply({"preset": "42C", "type": "Shimmer", "decay": 100, "boost": "-1.5 dB"})
        assert wait_for(lambda: sim.state["preset"] == "42C" and sim.state["boost"] == -1.5), sim.state
        assert sim.state["type"] == "Shimmer" and sim.state["decay"] == 100.0
        assert sim.rejected == []


def test_a_14_bit_bank_lands_on_the_wrong_bigsky_preset(lib):
    """The old encoding (CC 0 + CC 32) is what the issue saw: the pedal loads 00A, not 42C."""
    profile = lib["strymon-bigsky"]
    preset = profile.parameters["preset"]
    wrong = dataclasses.replace(preset, encoding=dataclasses.replace(preset.encoding, bank="both"))
    broken = dataclasses.replace(profile, parameters={**profile.parameters, "preset": wrong})
    with _sim(profile, "bigsky-wrong-bank") as sim, Device(broken, sim.port, name="BigSky") as dev:
        dev.apply({"preset": "85A"})
        dev.apply({"preset": "42C"})
        assert wait_for(lambda: len(sim.received) >= 6, 15.0)
        assert wait_for(lambda: sim.state["preset"] == "00A"), sim.state
        assert any("B0 20 01" in r for r in sim.rejected)


def test_pcm90_reads_120_bpm(lib):
    profile = lib["lexicon-pcm90"]
    with _sim(profile, "doc-pcm90", device_id=3) as sim, Device(profile, sim.port, device_id=3) as dev:
        dev.apply({"tempo": "120", "tap_duration": "1/2 beat", "tempo_beat": "Dotted Quarter"})
        assert wait_for(lambda: sim.state["tempo"] == 120.0 and sim.state["tempo_beat"] == "Dotted Quarter")
        assert sim.state["tap_duration"] == "1/2 beat"
        assert sim.rejected == []


def test_spx2000_program_tables_and_channel_in_status(lib):
    profile = lib["yamaha-spx2000"]
    with _sim(profile, "spx-five", channel=5) as sim, Device(profile, sim.port, channel=5) as dev:
        dev.apply({"program": "C017", "output_level": "-6 dB"})
        assert wait_for(lambda: sim.state["program"] == "C017" and sim.state["output_level"] == -6.0), sim.state
        assert sim.rejected == []
    with _sim(profile, "spx-six", channel=6) as sim, Device(profile, sim.port, channel=5) as dev:
        dev.apply({"output_level": "-6 dB"})                    # device number 4 != the unit's 5
        assert wait_for(lambda: len(sim.rejected) >= 1, 5.0), sim.received
        assert all("F0 43 14 1E" in r for r in sim.rejected)
        assert sim.state["output_level"] == 0.0


def test_midiverb3_lands_by_the_manual(lib):
    profile = lib["alesis-midiverb3"]
    with _sim(profile, "midiverb-three") as sim, Device(profile, sim.port, name="MV3") as dev:
        dev.apply({"reverb_decay": 77, "mod_amplitude": -40, "delay_time": 100})
        assert wait_for(lambda: sim.state["reverb_decay"] == 77.0 and sim.state["mod_amplitude"] == -40.0
                        and sim.state["delay_time"] == 100.0), sim.state
        assert sim.rejected == []


def test_dsp1100_lands_by_the_controller_table(lib):
    profile = lib["behringer-dsp1100"]
    with _sim(profile, "dsp-eleven") as sim, Device(profile, sim.port, name="DSP") as dev:
        dev.apply({"filter": "7", "mode": "A", "frequency": "2.5 kHz", "gain": "-12 dB", "fine": 3,
                   "bandwidth": 60, "in_out": "auto"})
        assert wait_for(lambda: sim.state["frequency"] == 2500.0 and sim.state["gain"] == -12.0
                        and sim.state["in_out"] == "auto"), sim.state
        assert sim.state["filter"] == "7" and sim.state["mode"] == "A" and sim.state["fine"] == 3.0
        assert sim.rejected == []


def _wrong(profile, name, **changes):
    """``profile`` with one parameter's encoding changed: what the simulator must catch."""
    param = profile.parameters[name]
    broken = dataclasses.replace(param, encoding=dataclasses.replace(param.encoding, **changes))
    return dataclasses.replace(profile, parameters={**profile.parameters, name: broken})


def _wrong_law(profile, name, **changes):
    """``profile`` with one parameter's value law changed."""
    param = profile.parameters[name]
    broken = dataclasses.replace(param, law=dataclasses.replace(param.law, **changes))
    return dataclasses.replace(profile, parameters={**profile.parameters, name: broken})


def test_pcm80_reads_120_bpm_and_refuses_the_pcm90_product_byte(lib):
    # PCM 80 v1.10 MIDI Implementation Details p. 43: Tempo "Add 40 to parameter value to derive BPM";
    # the 0x0B Parameter Dump F0 06 07 <device id> 0B 02 <offset> 00 <4 nibbles, least significant first> F7.
    profile = lib["lexicon-pcm80"]
    with _sim(profile, "doc-pcm80") as sim, Device(profile, sim.port, name="PCM80") as dev:
        dev.apply({"tempo": "120", "tempo_beat": "Dotted Quarter"})
        assert wait_for(lambda: sim.state["tempo"] == 120.0 and sim.state["tempo_beat"] == "Dotted Quarter")
        assert "F0 06 07 00 0B 02 00 00 00 05 00 00 F7" in [bytes(r).hex(" ").upper() for r in sim.received]
        assert sim.rejected == []
    with _sim(profile, "doc-pcm80-wrong") as sim, Device(lib["lexicon-pcm90"], sim.port, device_id=0) as dev:
        dev.apply({"tempo": "100"})                               # a PCM 90 message (product 08)
        assert wait_for(lambda: len(sim.rejected) >= 1)
        assert sim.state["tempo"] == 120.0


def test_h9_presets_from_1_and_knobs_on_the_users_ccs(lib):
    # Eventide H9 User Guide p. 39: "Default map: Prg No. (1-99) map to the 99 Presets (P01-P99)".
    profile = lib["eventide-h9"]
    with _sim(profile, "doc-h9") as sim, Device(profile, sim.port, name="H9") as dev:
        dev.apply({"preset": "P42", "kb3": 99, "kb0": 0})
        assert wait_for(lambda: sim.state["preset"] == "P42" and sim.state["kb3"] == 99.0
                        and sim.state["kb0"] == 0.0), sim.state
        assert sim.rejected == []
    from devices.unit_settings import UnitSettings, customise
    moved = customise(profile, UnitSettings(cc={"kb0": 40}), where="devices.H9")
    with _sim(profile, "doc-h9-moved") as sim, Device(moved, sim.port, name="H9") as dev:
        dev.apply({"kb0": 99})                         # the unit's RCV.CTL still says CC 22
        assert wait_for(lambda: len(sim.rejected) == 1)
        assert "B0 28" in sim.rejected[0] and sim.state["kb0"] == 50.0
        sim.memory["rcv_ctl"] = {40: 0}                # set RCV.CTL on the unit to match the studio
        dev.apply({"kb0": 99})
        assert wait_for(lambda: sim.state["kb0"] == 99.0)
    wrong = _wrong_law(profile, "preset", zero=1.0)
    with _sim(profile, "doc-h9-wrong") as sim, Device(wrong, sim.port, name="H9") as dev:
        dev.apply({"preset": "P42"})                   # a profile counting programs from 0 lands on P41
        assert wait_for(lambda: sim.state["preset"] == "P41"), sim.state


def test_m3000_cc_scaled_to_the_parameter_range(lib):
    # TC M3000 manual p. 59: "CC 10: Mix", "CC 11: Output Level", "single byte type, scaled to parameter range".
    profile = lib["tc-m3000"]
    with _sim(profile, "doc-m3000") as sim, Device(profile, sim.port, name="M3000") as dev:
        dev.apply({"program": 5, "mix": 100, "output": "-50 dB", "edit1": 12})
        assert wait_for(lambda: sim.state["program"] == 5.0 and sim.state["mix"] == 100.0
                        and sim.state["edit1"] == 12.0), sim.state
        assert sim.state["output"] == pytest.approx(-50.0, abs=100 / 127)
        assert sim.rejected == []
    with _sim(profile, "doc-m3000-ch2") as sim, Device(profile, sim.port, channel=2) as dev:
        dev.apply({"mix": 10})                          # Eng2's channel: engine 1 does not take it
        assert wait_for(lambda: len(sim.rejected) == 1)
        assert sim.state["mix"] == 100.0


def test_bigsky_mx_banks_by_cc0_alone(lib):
    # Strymon BigSky MX user manual p. 76: "MIDI Patch Bank CC 0" (0 = 00A-63B, 1 = 64A-127B, 2 = 128A-149B).
    profile = lib["strymon-bigsky-mx"]
    with _sim(profile, "doc-mx") as sim, Device(profile, sim.port, name="MX") as dev:
        dev.apply({"preset": "128B", "bypass": False, "infinite": True, "expression": 90})
        assert wait_for(lambda: sim.state["preset"] == "128B" and sim.state["expression"] == 90.0), sim.state
        assert sim.state["bypass"] is False and sim.state["infinite"] is True and sim.rejected == []
    wrong = _wrong(profile, "preset", bank="both")
    with _sim(profile, "doc-mx-wrong") as sim, Device(wrong, sim.port, name="MX") as dev:
        dev.apply({"preset": "064A"})
        assert wait_for(lambda: any("B0 20" in r for r in sim.rejected))


def test_analog_drive_eight_bits_seven_in_msb_one_in_lsb(lib):
    # Elektron Analog Drive manual (as quoted): "MIDI CC: 8 bits. 7 in MSB, 1 in LSB." Gain 16 48;
    # "Circuit Select 3: 0-15 = Clean Boost, 16-31 = Mid Drive".
    profile = lib["elektron-analog-drive"]
    with _sim(profile, "doc-drive") as sim, Device(profile, sim.port, name="Drive") as dev:
        dev.apply({"circuit": "Mid Drive", "gain": 201, "low": 6})
        assert wait_for(lambda: sim.state["gain"] == 201.0 and sim.state["circuit"] == "Mid Drive"
                        and sim.state["low"] == 6.0), sim.state
        assert sim.rejected == []
    low_aligned = _wrong_law(profile, "gain", step=1.0)
    with _sim(profile, "doc-drive-wrong") as sim, Device(low_aligned, sim.port, name="Drive") as dev:
        dev.apply({"gain": 201})                        # MSB 1, LSB 73: the pedal reads 3
        assert wait_for(lambda: sim.state["gain"] == 3.0), sim.state


def test_analog_heat_mk2_knobs_on_the_appendix_cc_pairs(lib):
    # Elektron Analog Heat MKII User Manual, MIDI appendix (midi.guide transcription, Elektron/Analog Heat
    # MKII.csv): "Drive,,12,37", "Wet Level,,11,38", "Preset Volume,,7", "VCF Frequency,,74,42".
    profile = lib["elektron-analog-heat-mk2"]
    drive = profile.parameters["drive"]
    assert [m.hex() for m in drive.encoding.encode(drive.to_wire(64.5, drive.encoding.wire_max), 1)] == \
        ["B0 0C 40", "B0 25 40"]
    with _sim(profile, "heat-mk-two") as sim, Device(profile, sim.port, name="Heat") as dev:
        dev.apply({"drive": 64.5, "wet_level": 127, "volume": 90, "filter_freq": 12.25, "dirt": 5})
        assert wait_for(lambda: sim.state["drive"] == 64.5 and sim.state["filter_freq"] == 12.25
                        and sim.state["dirt"] == 5.0), (sim.state, sim.received, sim.rejected)
        assert sim.state["wet_level"] == 127.0 and sim.state["volume"] == 90.0 and sim.state["dirt"] == 5.0
        assert sim.rejected == []
    swapped = _wrong(profile, "drive", control=37, lsb_control=12)
    with _sim(profile, "doc-heat-wrong") as sim, Device(swapped, sim.port, name="Heat") as dev:
        dev.apply({"drive": 64.5})                     # the fine step lands first, then the coarse one wipes it
        assert wait_for(lambda: sim.memory.get("drive_msb") == 64), sim.received
        assert sim.state["drive"] == 64.0


def test_every_shipped_machine_set_unit_has_a_document_decoder(lib):
    """No shipped machine-set profile is checked only against its own codec."""
    machine = {pid for pid, p in lib.items() if not pid.startswith("hy-") and p.transport != "manual"}
    assert machine - set(DECODERS) == set()


def test_midi_express_xt_recalls_a_routing_preset_by_patch_change(lib):
    # MOTU ClockWorks chapter (Micro Lite user's guide) p. 94: "to call up the Live Keyboards factory preset
    # ... you would send a MIDI patch change event with a value of 10" on the preset trigger source's channel.
    profile = lib["motu-midi-express-xt"]
    assert profile.kind == "patchbay"
    preset = profile.parameters["preset"]
    assert [m.hex() for m in preset.encoding.encode(preset.to_wire(10.0, preset.encoding.wire_max), 16)] == ["CF 0A"]
    with _sim(profile, "express-xt") as sim, Device(profile, sim.port, name="Express") as dev:
        dev.apply({"preset": 10})
        assert wait_for(lambda: sim.state["preset"] == 10.0), sim.state
        assert sim.rejected == []
    with _sim(profile, "express-xt-ch1", channel=1) as sim, Device(profile, sim.port, name="Express") as dev:
        dev.apply({"preset": 10})                        # sent on 16; the trigger source listens on 1
        assert wait_for(lambda: len(sim.rejected) >= 1), sim.received
        assert sim.state["preset"] == 0.0
