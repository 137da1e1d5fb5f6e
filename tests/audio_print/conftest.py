"""Fixtures for print tests: the simulated analog gear on the session's JACK server, and stems."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from hybrid.live.audio.printing import PingSettings, PrintOptions, print_pass
from hybrid.live.audio.wavio import Bext, WavWriter

RATE = 48000
GEAR = "hy-print-gear"
PERIOD = 1024                     # the print server's period: PortAudio adds it to every loop

# Loops of the simulated gear (1-based, like interface channels).
LOOP_FRAC = 1                     # 37.25 samples, inverted
LOOP_FRAC2 = 2                    # 100.3 samples, -3 dB
LOOP_HOT = 3                      # +6 dB: a loud stem clips the input converter
LOOP_HOOKS = 4                    # 10.5 samples: delay changes, dropouts, open loop

# Short pings, stems and tails keep a pass under a second.
FAST_PING = PingSettings(sweep_s=0.1, preroll_s=0.03, capture_s=0.03)
FAST = PrintOptions(settle_s=0.02, tail_s=0.02, progress_interval_s=0.01)


def jack_print_server(*, offline: bool):
    """A private JACK dummy server with a 1024-frame period for a package's prints, PortAudio
    pointed at it while it runs and back at the session's server afterwards (a generator for
    a package fixture).

    ``offline``: the simulated room's clock (``JackServer(offline=True)``: each pass freewheels,
    as the demo prints): a pass takes what the CPU needs, not its length in real time, and a
    busy machine cannot spoil it. These prints check printing; what only a real clock shows
    (xruns, the stream's ring, the callback's deadline, Ctrl-C while streaming) is tested in
    tests/audio_realtime on a server that keeps time.

    Why 1024 frames and not the session's 256 on a real clock: a print pass with any xrun is
    bad by design, and on two shared cores a JACK server without realtime scheduling misses
    5.3 ms deadlines whenever the other suites load the machine (measured at load 5: six
    passes in seven had an xrun at 256 frames, none of eight at 1024).
    """
    import os

    import sounddevice as sd

    from devices.jack_server import JackServer

    server = JackServer(name=f"hybrid-print-{os.getpid()}", period_frames=PERIOD, offline=offline)
    server.start(slot_wait_s=120)        # JACK allows 8 servers per machine: wait for a slot
    saved = {k: os.environ.get(k) for k in server.environ()}
    os.environ.update(server.environ())
    try:
        yield server
    finally:
        sd._terminate()
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        sd._initialize()


@pytest.fixture(scope="package")
def print_server():
    """This package's JACK server: the simulated room's offline clock (see jack_print_server)."""
    yield from jack_print_server(offline=True)


@pytest.fixture(scope="package")
def gear(print_server):
    """The simulated analog gear on the print server: four loops (see LOOP_*)."""
    from hybrid.simgear import LoopSpec, SimGear

    loops = [LoopSpec(delay_samples=37.25, polarity=-1), LoopSpec(delay_samples=100.3, gain_db=-3.0),
             LoopSpec(delay_samples=3.0, gain_db=6.0), LoopSpec(delay_samples=10.5)]
    with SimGear(loops, name=GEAR, servername=print_server.name) as g:
        from hybrid.live.audio.portaudio import rescan as rescan_portaudio

        rescan_portaudio()           # PortAudio lists JACK clients at initialisation: rescan
        yield g


def band_limited(frames: int, channels: int = 1, *, peak: float = 0.5, top_hz: float = 12000.0,
                 seed: int = 0) -> np.ndarray:
    """Noise low-passed well under Nyquist (the gear's fractional delay is exact to 0.42 fs),
    faded in and out like a real stem starting from silence."""
    rng = np.random.default_rng(seed)
    sos = butter(10, top_hz, fs=RATE, output="sos")
    x = sosfilt(sos, rng.standard_normal((frames + 2000, channels)), axis=0)[2000:]
    fade = int(0.005 * RATE)          # 5 ms fades: no abrupt edge spraying energy up to Nyquist
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    x[:fade] *= ramp[:, None]
    x[-fade:] *= ramp[::-1, None]
    return np.ascontiguousarray(x / np.abs(x).max() * peak, dtype=np.float32)


def write_stem(path, x: np.ndarray, time_reference: int | None = None, fmt: str = "pcm24"):
    bext = Bext.new(time_reference, description="test stem") if time_reference is not None else None
    with WavWriter(path, RATE, x.shape[1], fmt, bext=bext) as w:
        w.write(x)
    return path


def print_clean(jobs, options=FAST, attempts: int = 3, **kw):
    """A pass, run again (up to ``attempts``) only when the loaded machine gave it xruns.

    Xruns make a pass bad by design; the retry keeps the test about what it checks, and
    the pass returned has none.
    """
    for _ in range(attempts):
        result = print_pass(jobs, _settings(), options, ping=FAST_PING, **kw)
        if result.stats.xruns == 0:
            return result
    raise AssertionError(f"xruns in {attempts} passes in a row: {result.problems}")


def _settings():
    from hybrid.live.audio.interface import InterfaceSettings

    return InterfaceSettings(device=GEAR)


def residual_db(reference: np.ndarray, printed: np.ndarray, gain_db: float = 0.0) -> float:
    """Level of ``reference - printed / gain`` relative to the reference, in dB."""
    if reference.shape != printed.shape:
        raise ValueError(f"compare like with like: {reference.shape} vs {printed.shape}")
    r = reference - printed / 10 ** (gain_db / 20)
    return float(20 * np.log10(np.sqrt(np.mean(r ** 2)) / np.sqrt(np.mean(reference ** 2))))
