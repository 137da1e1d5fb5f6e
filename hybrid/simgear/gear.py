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

from hybrid.errors import HybridError
from hybrid.simgear.loop import LoopChannel, LoopSpec


class SimGear:
    """A JACK client with one in/out port pair per loop.

    ``loops`` is a list of LoopSpec (or a number of plain wires). ``servername`` defaults
    to ``$JACK_DEFAULT_SERVER``. Loops are numbered from 1, like the interface channels.
    ``xruns`` counts the server's xruns seen while running; ``errors`` collects what went
    wrong inside the audio callback (it outputs silence then, rather than dying).
    """

    def __init__(self, loops: Sequence[LoopSpec] | int = 2, *, name: str = "hybrid-gear",
                 servername: str | None = None) -> None:
        if isinstance(loops, int):
            loops = [LoopSpec() for _ in range(loops)]
        if not loops:
            raise HybridError("the simulated gear needs at least one loop", where=name)
        self.specs = list(loops)
        self.name = name
        self.servername = servername or os.environ.get("JACK_DEFAULT_SERVER")
        self.loops: list[LoopChannel] = []
        self.xruns = 0
        self.errors: list[str] = []
        self._client = None
        self._inports = []
        self._outports = []

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
        self.loops = [LoopChannel(spec, client.samplerate) for spec in self.specs]
        # register in order: PortAudio maps its channel K to the K-th port
        self._inports = [client.inports.register(f"in_{k}") for k in range(1, len(self.loops) + 1)]
        self._outports = [client.outports.register(f"out_{k}") for k in range(1, len(self.loops) + 1)]
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
        """Loop ``number`` (1-based) of a started gear."""
        if not self.loops:
            raise HybridError("not started", where=self.name)
        if not 1 <= number <= len(self.loops):
            raise HybridError(f"no loop {number}; loops are 1..{len(self.loops)}", where=self.name)
        return self.loops[number - 1]

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

    def _process(self, frames: int) -> None:
        for loop, inport, outport in zip(self.loops, self._inports, self._outports, strict=False):
            out = outport.get_array()
            try:
                loop.process(inport.get_array(), out)
            except Exception as exc:  # keep the graph running; report at the next look
                out.fill(0.0)
                if len(self.errors) < 100:
                    self.errors.append(f"{type(exc).__name__}: {exc}")

    def _xrun(self, delayed_usecs: float) -> None:
        self.xruns += 1

    def _blocksize(self, blocksize: int) -> None:
        self.blocksize = blocksize
