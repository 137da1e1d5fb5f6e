"""Turn a knob over MIDI or serial and the simulated gear sounds different ([sound] tables)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from devices.device import Device
from devices.profile import builtin_profiles
from devices.simulator import Simulator
from hybrid.simgear import LoopSpec, SimGear
from hybrid.models.sound import SoundUnit

from .test_gear_sound import tone_through

# No `gear` fixture here: see the note on MIDI ports below.


def wait_for(check, timeout_s=3.0):
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_compressor_knobs_over_midi_change_the_printed_level(jack_server):
    profile = builtin_profiles()["hy-comp-cc"]
    unit = SoundUnit(profile)
    # MIDI ports first: python-rtmidi opens its JACK client holding the GIL, which would
    # wait forever on a Python JACK client (the gear) already running in this process.
    with Simulator(profile, "ping-comp") as sim, Device(profile, sim.port, name="comp") as dev, \
            SimGear([LoopSpec(delay_samples=10.0, processors=unit.processors)], name="hy-ping-sound"):
        from hybrid.live.audio.portaudio import rescan as rescan_portaudio

        rescan_portaudio()   # see the new JACK client
        unit.bind(sim)
        dev.apply({"threshold": 0.0, "ratio": "4:1", "output": 0.0, "bypass": False})
        assert wait_for(lambda: sim.state["threshold"] == 0.0 and sim.state["ratio"] == "4:1")
        assert tone_through(1, 1000.0, -6.0, device="hy-ping-sound") == pytest.approx(0.0, abs=0.5)

        dev.set("threshold", -30.0)   # 24 dB over at 4:1: 18 dB of gain reduction
        assert wait_for(lambda: unit.main.threshold_db == pytest.approx(-30.0, abs=0.5))
        assert tone_through(1, 1000.0, -6.0, device="hy-ping-sound") == pytest.approx(-18.0, abs=1.5)

        dev.set("bypass", True)       # hard-wire bypass: the tone comes back untouched
        assert wait_for(lambda: unit.bypassed)
        assert tone_through(1, 1000.0, -6.0, device="hy-ping-sound") == pytest.approx(0.0, abs=0.5)
    assert unit.errors == []


def test_saturator_drive_over_serial_adds_harmonics(jack_server):
    profile = builtin_profiles()["hy-sat-serial"]
    unit = SoundUnit(profile)
    for proc in unit.processors:
        proc.prepare(48000)
    unit.noise.bypass = True   # look at the harmonics alone

    def third_harmonic_db():
        t = np.arange(4800) / 48000
        x = 0.5 * np.sin(2 * np.pi * 1000 * t)
        y = x.copy()
        for proc in unit.processors[:-1]:
            y = proc(y)
        spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
        return 20 * np.log10(spectrum[300] / spectrum[100])   # 3 kHz against 1 kHz (10 Hz bins)

    with Simulator(profile) as sim:
        unit.bind(sim)
        with Device(profile, sim.port, name="sat") as dev:
            dev.apply({"drive": 0.0, "bypass": False})
            assert wait_for(lambda: unit.main.drive_db == 0.0)
            clean = third_harmonic_db()
            dev.set("drive", 18.0)
            assert wait_for(lambda: unit.main.drive_db == pytest.approx(18.0, abs=0.5))
            driven = third_harmonic_db()
    assert driven > clean + 15
