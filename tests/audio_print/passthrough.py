"""A tiny JACK pass-through client for the print tests: whole-sample delay and polarity per channel.

Not a stand-in for the simulated gear (hybrid.simgear, with fractional delays and
processing); it lets the stream engine be tested against a real JACK client with a
loop whose round trip we know exactly.
"""

from __future__ import annotations

import jack
import numpy as np


class PassThrough:
    """A JACK client named ``name`` with ``channels`` in/out ports: out_k = polarity_k * in_k delayed."""

    def __init__(self, name: str, channels: int = 2, delay_samples: int = 0, polarity: int = 1,
                 gain: float = 1.0, clip_at: float | None = None):
        self.client = jack.Client(name, no_start_server=True)
        self.inports = [self.client.inports.register(f"in_{i + 1}") for i in range(channels)]
        self.outports = [self.client.outports.register(f"out_{i + 1}") for i in range(channels)]
        self.delay = int(delay_samples)
        self.scale = float(polarity) * gain
        self.clip_at = clip_at
        self._lines = np.zeros((channels, self.delay + 8192), dtype=np.float32)
        self.client.set_process_callback(self._process)

    def _process(self, frames: int) -> None:
        for k, (inp, out) in enumerate(zip(self.inports, self.outports, strict=False)):
            line = self._lines[k]
            line[:-frames] = line[frames:]
            line[-frames:] = inp.get_array()
            y = line[-frames - self.delay:len(line) - self.delay] * self.scale
            if self.clip_at is not None:
                np.clip(y, -self.clip_at, self.clip_at, out=y)
            out.get_array()[:] = y

    def __enter__(self) -> PassThrough:
        self.client.activate()
        return self

    def __exit__(self, *exc) -> None:
        self.client.deactivate()
        self.client.close()
