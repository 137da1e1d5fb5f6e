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
