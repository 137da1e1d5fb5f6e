"""The simulated analog gear as a JACK client: N insert loops, each ``in_K`` -> processing -> ``out_K``.

It stands where an interface's insert loops would be: a stream that plays on output
channel K reaches ``in_K``, and what the loop returns on ``out_K`` arrives on input
channel K. PortAudio lists every JACK client as a device, and a stream opened on the
device named after this client (``hybrid-gear`` by default) connects its channels to
these ports in order, so ``--device hybrid-gear --out 2 --in 2`` is loop 2.

Start it before PortAudio initialises (or re-initialise PortAudio afterwards): PortAudio
scans the JACK clients once. Run in-process (tests) with ``SimGear(...).start()`` /
``stop()`` or ``with SimGear(...) as gear:``; as a process with ``python -m hybrid.simgear``.

In-process, open MIDI ports (python-rtmidi: device simulators, ``Device``) *before*
starting the gear: rtmidi opens its JACK client while holding the GIL, the JACK server
waits for every client's process callback to run a cycle, and this client's callback
needs the GIL: a deadlock. The separate process has no such constraint.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from hybrid.errors import HybridError
from hybrid.simgear.loop import (LoopChannel, LoopSpec, StereoLoopChannel, StereoLoopSpec, SummingChannel,
                                 SummingSpec)

UnitSpec = LoopSpec | StereoLoopSpec | SummingSpec
Unit = LoopChannel | StereoLoopChannel | SummingChannel


class SimGear:
    """A JACK client with one in/out port pair per gear channel.

    ``loops`` is a list of units, or a number of plain wires. A ``LoopSpec`` is a mono
    loop on its ``channel``, by default its position in the list (the K-th spec:
    ``in_K`` -> ``out_K``);
    a ``StereoLoopSpec`` takes the two channels it names, a ``SummingSpec`` reads its N
    ``sends`` and returns the bus on its two ``returns``. A channel returned by no unit
    is silent; a channel returned by two is refused. ``servername`` defaults to
    ``$JACK_DEFAULT_SERVER``. Channels are numbered from 1, like the interface's.
    ``xruns`` counts the server's xruns seen while running; ``errors`` collects what went
    wrong inside the audio callback (it outputs silence then, rather than dying).

    One client and one process callback run every unit: per period it fetches each
    port's buffer once and hands every unit its sends and returns (no per-unit client,
    no Python loop per sample; the DSP is numpy/scipy over the whole period).
    """

    def __init__(self, loops: Sequence[UnitSpec] | int = 2, *, name: str = "hybrid-gear",
                 servername: str | None = None) -> None:
        if isinstance(loops, int):
            loops = [LoopSpec() for _ in range(loops)]
        if not loops:
            raise HybridError("the simulated gear needs at least one loop", where=name)
        self.specs = list(loops)
        self.name = name
        self.servername = servername or os.environ.get("JACK_DEFAULT_SERVER")
        self.wiring = _wiring(self.specs, name)
        self.channels = max(max(max(sends), max(returns)) for sends, returns in self.wiring)
        self.units: list[Unit] = []
        self.loops: list[LoopChannel] = []
        self.xruns = 0
        self.errors: list[str] = []
        self._client = None
        self._inports: list = []
        self._outports: list = []
        self._silent: list[int] = []

    # ---- life cycle

    def start(self) -> SimGear:
        import jack  # JACK-Client; here so importing this module needs no JACK library

        if self._client is not None:
            return self
        try:
            client = jack.Client(self.name, no_start_server=True, servername=self.servername)
        except jack.JackError as exc:
            raise HybridError(f"cannot open a JACK client (is the JACK server "
                              f"{self.servername or 'default'} running?): {exc}", where=self.name) from exc
        if client.name != self.name:
            client.close()
            raise HybridError(f"a JACK client named {self.name!r} already exists", where=self.name)
        self.samplerate = client.samplerate
        self.blocksize = client.blocksize
        self.units = [_start_unit(spec, client.samplerate) for spec in self.specs]
        self.loops = [u for u in self.units if isinstance(u, LoopChannel)]
        returned = {ch for _, returns in self.wiring for ch in returns}
        self._silent = [ch - 1 for ch in range(1, self.channels + 1) if ch not in returned]
        # register in order: PortAudio maps its channel K to the K-th port
        self._inports = [client.inports.register(f"in_{k}") for k in range(1, self.channels + 1)]
        self._outports = [client.outports.register(f"out_{k}") for k in range(1, self.channels + 1)]
        client.set_process_callback(self._process)
        client.set_xrun_callback(self._xrun)
        client.set_blocksize_callback(self._blocksize)
        client.activate()
        self._client = client
        return self

    def stop(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        client.deactivate()
        client.close()

    def __enter__(self) -> SimGear:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._client is not None

    # ---- access and hooks

    def loop(self, number: int) -> LoopChannel:
        """The mono loop returning on channel ``number`` (1-based), or a stereo loop's side there."""
        unit, index = self.unit(number)
        if isinstance(unit, LoopChannel):
            return unit
        if isinstance(unit, StereoLoopChannel):
            return unit.side(index)
        raise HybridError(f"channel {number} is the summing mixer's return, not a loop", where=self.name)

    def unit(self, number: int) -> tuple[Unit, int]:
        """``(running unit, index among its returns)`` of the unit returning on channel ``number``."""
        if not self.units:
            raise HybridError("not started", where=self.name)
        for unit, (_, returns) in zip(self.units, self.wiring, strict=True):
            if number in returns:
                return unit, returns.index(number)
        raise HybridError(f"no unit returns on channel {number}; channels are 1..{self.channels}",
                          where=self.name)

    def port_names(self, number: int) -> tuple[str, str]:
        """``(input port, output port)`` full JACK names of loop ``number``."""
        return f"{self.name}:in_{number}", f"{self.name}:out_{number}"

    def set_delay(self, number: int, delay_samples: float) -> None:
        self.loop(number).set_delay(delay_samples)

    def dropout(self, number: int, duration_ms: float, *, slip: bool = False) -> int:
        return self.loop(number).dropout(duration_ms, slip=slip)

    def set_open(self, number: int, is_open: bool = True) -> None:
        self.loop(number).set_open(is_open)

    def set_hot(self, number: int, gain_db: float) -> None:
        self.loop(number).set_hot(gain_db)

    # ---- JACK callbacks (audio thread)

    def _process(self, _frames: int) -> None:
        ins = [port.get_array() for port in self._inports]
        outs = [port.get_array() for port in self._outports]
        for unit, (sends, returns) in zip(self.units, self.wiring, strict=False):
            try:
                if isinstance(unit, LoopChannel):
                    unit.process(ins[sends[0] - 1], outs[returns[0] - 1])
                else:
                    unit.process_many([ins[ch - 1] for ch in sends], [outs[ch - 1] for ch in returns])
            except Exception as exc:  # keep the graph running; report at the next look
                for ch in returns:
                    outs[ch - 1].fill(0.0)
                if len(self.errors) < 100:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
        for ch in self._silent:
            outs[ch].fill(0.0)

    def _xrun(self, _delayed_usecs: float) -> None:
        self.xruns += 1

    def _blocksize(self, blocksize: int) -> None:
        self.blocksize = blocksize


SWITCH_INTERVAL_S = 0.0005
"""The gear process's GIL switch interval (Python's default, 5 ms, is a quarter of a period)."""


def steady_gear_process():
    """For a process that runs the simulated gear (``python -m hybrid.simgear``, the demo's
    gear process), once its JACK clients are active: every ordinary thread under SCHED_FIFO
    below the process callbacks (``devices.jack_server.realtime_gil_holders``),
    the GIL switch interval at 0.5 ms, and what start-up built frozen out of the collector's
    reach (a full collection over it took up to 50 ms in the demo's gear process, holding the GIL).
    Returns what realtime_gil_holders changed (``priority`` 0 where real time is not allowed)."""
    import gc
    import sys

    from devices.jack_server import favour_this_process, realtime_gil_holders

    favour_this_process()  # the fallback where SCHED_FIFO is not allowed
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
    gc.collect()
    gc.freeze()
    return realtime_gil_holders()


def _wiring(specs: Sequence[UnitSpec], name: str) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """``(sends, returns)`` gear channels of each unit; a channel returned twice is refused."""
    wiring = []
    taken: dict[int, int] = {}
    for position, spec in enumerate(specs, start=1):
        if isinstance(spec, LoopSpec):
            sends = returns = (spec.channel or position,)
        elif isinstance(spec, (StereoLoopSpec, SummingSpec)):
            sends, returns = tuple(spec.sends), tuple(spec.returns)
        else:
            raise HybridError(f"unit {position}: expected a LoopSpec, StereoLoopSpec or SummingSpec, "
                              f"got {type(spec).__name__}", where=name)
        for ch in (*sends, *returns):
            if not isinstance(ch, (int, np.integer)) or ch < 1:
                raise HybridError(f"unit {position}: channels are numbered from 1, got {ch!r}", where=name)
        for ch in returns:
            if ch in taken:
                raise HybridError(f"unit {position}: channel {ch} already returns unit {taken[ch]}", where=name)
            taken[ch] = position
        wiring.append((sends, returns))
    return wiring


def _start_unit(spec: UnitSpec, samplerate: int) -> Unit:
    if isinstance(spec, LoopSpec):
        return LoopChannel(spec, samplerate)
    if isinstance(spec, StereoLoopSpec):
        return StereoLoopChannel(spec, samplerate)
    return SummingChannel(spec, samplerate)
