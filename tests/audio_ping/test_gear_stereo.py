"""Stereo loops and the summing mixer in the simulated gear, through a real JACK server."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from hybrid.errors import HybridError
from hybrid.models.stereo import LinkedCompressor, SummingMixer
from hybrid.simgear import LoopSpec, SimGear
from hybrid.simgear.config import load_config
from hybrid.simgear.loop import StereoLoopSpec, SummingSpec


def _play_record(gear: SimGear, signals: dict[int, np.ndarray], listen: list[int], frames: int) -> np.ndarray:
    """Play ``signals`` (gear channel -> samples) into the gear's inputs and record its
    outputs ``listen`` for ``frames`` frames, through a JACK client of our own. On this real
    clock a late client loses its cycle and shifts what comes back (an xrun, seen in CI with
    the other lanes busy): such a pass is played again, up to four times."""
    for _attempt in range(4):
        recorded, xruns = _play_record_once(gear, signals, listen, frames)
        if not xruns:
            break
    return recorded


def _play_record_once(gear: SimGear, signals: dict[int, np.ndarray], listen: list[int],
                      frames: int) -> tuple[np.ndarray, int]:
    import jack

    client = jack.Client("stereo-probe", no_start_server=True)
    outs = {ch: client.outports.register(f"to_{ch}") for ch in signals}
    ins = [client.inports.register(f"from_{ch}") for ch in listen]
    recorded = np.zeros((frames, len(listen)), dtype=np.float32)
    state = {"pos": 0}
    go = threading.Event()      # set once connected; only the process callback moves ``pos``
    done = threading.Event()
    xruns = [0]

    def process(n: int) -> None:
        if not go.is_set():
            for port in outs.values():
                port.get_array().fill(0.0)
            return
        pos = state["pos"]
        for ch, port in outs.items():
            buf = port.get_array()
            chunk = signals[ch][pos:pos + n]
            buf[:len(chunk)] = chunk
            buf[len(chunk):] = 0.0
        take = min(n, frames - pos)
        if take > 0:
            for k, port in enumerate(ins):
                recorded[pos:pos + take, k] = port.get_array()[:take]
        state["pos"] = pos + n
        if pos + n >= frames:
            done.set()

    client.set_process_callback(process)
    client.set_xrun_callback(lambda _delay: xruns.__setitem__(0, xruns[0] + 1) if go.is_set() else None)
    client.activate()
    try:
        for ch, port in outs.items():
            client.connect(port, gear.port_names(ch)[0])
        for ch, port in zip(listen, ins, strict=True):
            client.connect(gear.port_names(ch)[1], port)
        time.sleep(0.1)
        go.set()  # start once connected
        assert done.wait(10), "the probe client stopped running"
    finally:
        client.deactivate()
        client.close()
    return recorded.astype(float), xruns[0]


def _centre(x: np.ndarray) -> float:
    """Where an impulse response is centred: its first moment (the delay at DC, exact for a
    linear-phase fractional-delay FIR)."""
    return float(np.sum(np.arange(len(x)) * x) / np.sum(x))


def test_a_stereo_loop_keeps_each_sides_delay_polarity_and_gain(jack_server):
    spec = StereoLoopSpec(left=LoopSpec(delay_samples=10.0), right=LoopSpec(delay_samples=20.25, polarity=-1,
                                                                           gain_db=-6.0),
                          channels=(2, 3))
    with SimGear([LoopSpec(delay_samples=5.0), spec], name="hy-stereo-gear") as gear:
        assert gear.channels == 3
        impulse = np.zeros(4096, dtype=np.float32)
        impulse[1000] = 0.5
        rec = _play_record(gear, {2: impulse, 3: impulse}, [2, 3], 8192)
    left, right = rec[:, 0], rec[:, 1]
    assert _centre(right) - _centre(left) == pytest.approx(10.25, abs=0.01)   # the skew between sides
    assert np.sum(left) == pytest.approx(0.5, rel=1e-3)
    assert np.sum(right) == pytest.approx(-0.5 * 10 ** (-6 / 20), rel=1e-3)   # inverted, 6 dB down
    assert not gear.errors


def test_a_linked_compressor_in_a_stereo_loop_turns_both_sides_down(jack_server):
    unit = LinkedCompressor(threshold_db=-20.0, ratio=10.0, attack_ms=1.0, release_ms=50.0, knee_db=0.0)
    spec = StereoLoopSpec(left=LoopSpec(), right=LoopSpec(), units=[unit], channels=(1, 2))
    t = np.arange(48000) / 48000
    loud = (0.9 * np.sin(2 * np.pi * 500 * t)).astype(np.float32)
    quiet = (0.01 * np.sin(2 * np.pi * 500 * t)).astype(np.float32)
    with SimGear([spec], name="hy-stereo-comp") as gear:
        rec = _play_record(gear, {1: loud, 2: quiet}, [1, 2], 48000)
    steady = slice(24000, 40000)
    gain = lambda out, ref: 20 * np.log10(np.std(out[steady]) / np.std(ref[steady]))  # noqa: E731
    assert gain(rec[:, 0], loud) < -15.0
    assert gain(rec[:, 1], quiet) == pytest.approx(gain(rec[:, 0], loud), abs=0.5)


def test_the_summing_mixer_returns_its_bus_with_each_sides_delay(jack_server):
    mixer = SummingMixer(3, pans=[-1.0, 1.0, 0.0], crosstalk_db=None, delay_samples=(30.0, 30.5))
    with SimGear([SummingSpec(mixer=mixer, sends=(1, 2, 3), returns=(4, 5))], name="hy-summing") as gear:
        assert gear.channels == 5
        hit = np.zeros(8192, dtype=np.float32)
        hit[1000] = 0.5
        rec = _play_record(gear, {1: hit, 2: np.roll(hit, 2000), 3: np.roll(hit, 4000)}, [4, 5, 1], 12288)
    left, right, unreturned = rec[:, 0], rec[:, 1], rec[:, 2]
    assert not np.any(unreturned)                                  # channel 1 is a send only: silent
    assert np.sum(left[:2500]) == pytest.approx(0.5, rel=1e-3)      # input 1: hard left
    assert np.max(np.abs(right[:2500])) < 1e-6
    assert np.sum(right[2500:4500]) == pytest.approx(0.5, rel=1e-3)  # input 2: hard right
    lc, rc = _centre(left[4500:6000]), _centre(right[4500:6000])    # input 3: centre, each side's delay
    assert rc - lc == pytest.approx(0.5, abs=0.01)
    assert np.sum(left[4500:6000]) == pytest.approx(0.5 * 10 ** (-3.0103 / 20), rel=1e-3)


def test_two_units_returning_on_one_channel_are_refused():
    with pytest.raises(HybridError, match="channel 2 already returns unit 1"):
        SimGear([StereoLoopSpec(left=LoopSpec(), right=LoopSpec(), channels=(1, 2)),
                 LoopSpec(channel=2)])


def test_config_file_with_a_stereo_loop_and_a_summing_mixer(tmp_path):
    path = tmp_path / "gear.toml"
    path.write_text("""
[[loops]]
delay_samples = 12.5
[[loops]]
channels = [9, 10]
delay_samples = [37.25, 38.0]
polarity = [1, -1]
noise_dbfs = -96.0
seed = 3
  [[loops.gear]]
  model = "stereo_compressor"
  threshold_db = -18.0
  [[loops.gear]]
  model = "ms_eq"
  mid_bands = [{ type = "peak", freq_hz = 300, gain_db = -2, q = 1 }]
[summing]
sends = [1, 2, 3, 4]
returns = [11, 12]
pans = [-1, 1, -0.5, 0.5]
drive_db = 6.0
delay_samples = [30.1, 30.6]
""")
    config = load_config(path)
    mono, stereo, summing = config.loops
    assert isinstance(mono, LoopSpec) and mono.delay_samples == 12.5
    assert stereo.channels == (9, 10)
    assert (stereo.left.delay_samples, stereo.right.delay_samples) == (37.25, 38.0)
    assert (stereo.left.polarity, stereo.right.polarity) == (1, -1)
    assert (stereo.left.seed, stereo.right.seed) == (3, 4)
    assert [u.kind for u in stereo.units] == ["stereo_compressor", "ms_eq"]
    assert summing.sends == (1, 2, 3, 4) and summing.returns == (11, 12)
    assert summing.mixer.delay_samples == (30.1, 30.6)


@pytest.mark.parametrize("text, expected", [
    ("[[loops]]\nchannels = [9]\n", "channels: expected 2 channel number(s) from 1"),
    ("[[loops]]\nchannels = [9, 10]\npolarity = [1, 1, 1]\n", "polarity: expected one value or [left, right]"),
    ("[[loops]]\nchannels = [1, 2]\n[[loops.gear]]\nmodel = \"compressor\"\n",
     "model: a stereo loop takes stereo_compressor or ms_eq"),
    ("[summing]\nsends = [1, 2]\nreturns = [3, 4]\npans = [0]\n", "pans needs 2 values"),
    ("[summing]\nsends = [1, 2]\nreturns = [3, 4]\nlevel = 1\n", "unknown key 'level'"),
    ("[summing]\nsends = [1, 2]\n", "expected sends = [...] (its inputs, in order) and returns = [L, R]"),
])
def test_bad_stereo_and_summing_config_is_refused_in_one_line(tmp_path, text, expected):
    path = tmp_path / "gear.toml"
    path.write_text(text)
    with pytest.raises(HybridError) as info:
        load_config(path)
    assert expected in str(info.value) and str(path) in str(info.value)
    assert "\n" not in str(info.value)
