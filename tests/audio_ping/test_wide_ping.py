"""The short, wide ping: 0.3 s for one loop, 16 loops in under 1 s of one stream, judged by timing.

Offline through the simulated gear's DSP (``hybrid.simgear.loop.LoopChannel``), then
through a real PortAudio stream on the JACK dummy server (``measure_loops``).
"""

from __future__ import annotations

import numpy as np
import pytest

from hybrid.errors import HybridError
from hybrid.live.audio.ping import PingRoute, estimate, estimate_routes, measure_loops, route_ping, route_sends
from hybrid.live.audio.signals import ping_signal
from hybrid.models.dsp import Reverb
from hybrid.simgear.loop import LoopChannel, LoopSpec

from .conftest import FRAC, GEAR, HIGHPASS, INVERTED, NOISY, PERIOD

RATE = 48000


def _through(spec: LoopSpec, x: np.ndarray) -> np.ndarray:
    loop = LoopChannel(spec, RATE)
    out = np.zeros(len(x))
    for i in range(0, len(x), 256):
        loop.process(x[i:i + 256].astype(np.float64), out[i:i + 256])
    return out


def test_one_loop_takes_at_most_0_3_s_of_signal_and_times_it_to_a_thousandth():
    ping = ping_signal(RATE)
    assert ping.signal_s <= 0.3
    for spec, delay in ((LoopSpec(delay_samples=100.3), 100.3),
                        (LoopSpec(delay_samples=37.25, polarity=-1, noise_dbfs=-60.0, seed=4), 37.25)):
        result = estimate(ping.sent, _through(spec, ping.sent), RATE, max_latency_samples=ping.max_latency_samples)
        assert result.latency_samples == pytest.approx(delay, abs=0.002)
        assert result.polarity == spec.polarity


def test_sixteen_loops_with_crosstalk_in_one_second_each_against_its_own_slot():
    """Each input hears its own loop and, 20 dB down and later, its neighbour's: the
    staggered sweeps put the neighbour in another slot's lags."""
    routes = [PingRoute((k,), (k,), label=f"L{k}") for k in range(1, 17)]
    ping = route_ping({}, RATE, routes)
    assert ping.slots == 16 and ping.signal_s <= 1.0
    outs, sends = route_sends(ping, routes)
    assert outs == list(range(1, 17))
    delays = [20.0 + 13.37 * k for k in range(16)]
    received = np.zeros((ping.frames, 16))
    for k in range(16):
        own = _through(LoopSpec(delay_samples=delays[k], polarity=-1 if k % 3 == 0 else 1), sends[:, k])
        leak = _through(LoopSpec(delay_samples=delays[k] + 40.0, gain_db=-20.0), sends[:, (k + 1) % 16])
        received[:, k] = own + leak
    results = estimate_routes(ping, routes, received, list(range(1, 17)), RATE)
    for k, (res,) in enumerate(results):
        assert res.latency_samples == pytest.approx(delays[k], abs=0.005), k
        assert res.polarity == (-1 if k % 3 == 0 else 1)


def test_a_summing_bus_route_sends_on_every_input_at_the_ping_level():
    route = PingRoute((1, 2, 3, 4), (9, 10), label="summing")
    ping = route_ping({}, RATE, [route])
    outs, sends = route_sends(ping, [route])
    assert outs == [1, 2, 3, 4]
    assert np.max(np.abs(sends.sum(axis=1))) == pytest.approx(np.max(np.abs(ping.sent)), rel=1e-6)


def test_a_plate_right_after_its_own_tail_is_timed_not_refused():
    """The demo's plate: a loud passage just before the ping leaves its tail in the
    ping's silence. Broadband SNR over that 'floor' is poor; the timing is not."""
    ping = ping_signal(RATE)
    rng = np.random.default_rng(3)
    loud = rng.standard_normal(RATE) * 0.1   # -20 dBFS RMS of program into the plate
    spec = LoopSpec(delay_samples=61.5, processors=[Reverb(decay_s=2.5, predelay_ms=10.0, mix=0.5)])
    both = _through(spec, np.concatenate([loud, ping.sent]))[len(loud):]
    result = estimate(ping.sent, both, RATE, max_latency_samples=ping.max_latency_samples)
    assert result.latency_samples == pytest.approx(61.5, abs=0.015)
    assert result.uncertainty_samples < 0.01
    assert result.snr_db < 20.0           # what the old SNR rule refused as "too noisy to time"
    with pytest.raises(HybridError, match="too noisy"):
        estimate(ping.sent, both, RATE, max_latency_samples=ping.max_latency_samples, min_snr_db=20.0)


def test_a_loop_drowned_in_noise_is_refused_by_its_timing_uncertainty():
    ping = ping_signal(RATE)
    y = _through(LoopSpec(delay_samples=50.0, noise_dbfs=-20.0, seed=9), ping.sent)
    with pytest.raises(HybridError, match=r"too noisy to time: \+-0\.\d+ sample of timing uncertainty"):
        estimate(ping.sent, y, RATE, max_latency_samples=ping.max_latency_samples)


def test_measure_loops_times_every_loop_in_one_stream(gear):
    routes = [PingRoute((FRAC,), (FRAC,)), PingRoute((INVERTED,), (INVERTED,)),
              PingRoute((HIGHPASS,), (HIGHPASS,)), PingRoute((NOISY,), (NOISY,))]
    results = measure_loops(GEAR, routes)
    figures = [r[0].latency_samples - PERIOD for r in results]
    assert figures == pytest.approx([37.25, 100.3, 100.3, 100.3], abs=0.01)
    assert [r[0].polarity for r in results] == [1, -1, 1, 1]
