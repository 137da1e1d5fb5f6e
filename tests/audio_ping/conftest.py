"""Fixtures for the ping tests: simulated gear on the session's JACK server, PortAudio rescanned."""

from __future__ import annotations

import pytest

GEAR = "hy-ping-gear"
PERIOD = 256   # the fixture server's period: with blocksize=0 the stream sees it on every loop
RATE = 48000

# Loops (1-based, like interface channels) and their own delays.
FRAC = 1           # 37.25 samples
INVERTED = 2       # 100.3 samples, polarity -1
HIGHPASS = 3       # 100.3 samples through a 20 Hz transformer high-pass
NOISY = 4          # 100.3 samples, noise at -60 dBFS
HOOKS = 5          # 50 samples, -90 dBFS noise: opened, run hot, drowned in noise by the tests
COMPRESSOR = 6     # 20 samples through a compressor
EQ = 7             # 20 samples through a one-band EQ


@pytest.fixture(scope="module")
def gear(jack_server):
    from hybrid.simgear import LoopSpec, SimGear
    from hybrid.models.dsp import Band, Compressor, Equaliser

    loops = [
        LoopSpec(delay_samples=37.25),
        LoopSpec(delay_samples=100.3, polarity=-1),
        LoopSpec(delay_samples=100.3, highpass_hz=20.0),
        LoopSpec(delay_samples=100.3, noise_dbfs=-60.0, seed=1),
        LoopSpec(delay_samples=50.0, noise_dbfs=-90.0, seed=2),
        LoopSpec(delay_samples=20.0, processors=[Compressor(threshold_db=0.0, ratio=4.0, attack_ms=1.0,
                                                            release_ms=50.0, knee_db=0.0)]),
        LoopSpec(delay_samples=20.0, processors=[Equaliser([Band("peak", 1000.0, 0.0, 1.0)])]),
    ]
    with SimGear(loops, name=GEAR) as g:
        from hybrid.live.audio.portaudio import rescan as rescan_portaudio

        rescan_portaudio()  # PortAudio lists JACK clients when it initialises: rescan
        yield g
