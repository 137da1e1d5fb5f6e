"""The demo's gear process: every device simulator and the simulated analog chains, in one process.

Run by :class:`hybrid.app.demo.rig.DemoRig` as ``python -m hybrid.app.demo.gear STUDIO_DIR``.

Why a process of its own: the simulated analog gear is a JACK client whose process
callback is Python (it needs the GIL every period), and python-rtmidi's JACK calls
(listing or opening ports) hold the GIL while they wait for the JACK server, which in
turn waits for that process callback: in one process the two deadlock. Here the gear
is alone with its simulators, which talk to the JACK server only at start-up.

Protocol on stdin/stdout, one JSON object per line:
- at start the process prints ``{"ready": true, "serial": {device: pty path}, "loops": N,
  "simulators": [names]}`` or ``{"error": "..."}`` and exits 1;
- ``{"set": [device, param, value]}`` turns a knob (a hand-set unit's, in the demo the
  person at the rack); answered ``{"ok": value}`` or ``{"error": "..."}``;
- ``{"state": device}`` answers ``{"ok": {param: value}}``;
- ``{"quit": true}`` or end of input stops everything and exits 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from devices.errors import DeviceError
from hybrid.errors import HybridError

# Each demo loop's own round trip on top of the host's buffering: converters and gear
# delay by a fraction of a sample too, which is what hybrid measures and corrects.
LOOP_DELAYS_SAMPLES = (37.25, 61.6, 100.3, 23.8)
LOOP_GAINS_DB = (-0.4, 0.3, -1.1, 0.0)
INVERTED_LOOP_INDEX = 2  # one loop is wired with pins 2 and 3 swapped: polarity inverted
# Stereo loops: each side its own converter delay (a fraction apart) and a small level error,
# which printing measures and corrects side by side.
STEREO_SIDE_DELAYS_SAMPLES = ((15.25, 15.6), (8.5, 8.75))
STEREO_SIDE_GAINS_DB = ((0.0, -0.4), (0.2, 0.0))
SUMMING_DELAYS_SAMPLES = (23.4, 24.1)   # the summing mixer's converters, a different delay per side


def _say(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, default=str) + "\n")
    sys.stdout.flush()


class GearProcess:
    """The simulators and the SimGear client of one demo studio."""

    def __init__(self, studio_dir: Path) -> None:
        self.studio_dir = Path(studio_dir)
        self.simulators: dict = {}
        self.units: list = []
        self.gear = None
        self.studio = None

    def start(self) -> dict:
        from devices.simulator import Simulator
        from recall.studio import load_studio

        serial = {}
        self.studio = load_studio(self.studio_dir)
        for name, entry in self.studio.devices.items():
            profile = entry.profile
            port = entry.port             # serial and network simulators pick their own (assigns_port)
            sim = Simulator(profile, port, channel=entry.channel or 1 if port else None)
            sim.start()
            self.simulators[name] = sim
            if sim.assigns_port:          # a pseudo-terminal path, a free TCP/UDP port's URL
                serial[name] = str(sim.port)
        self._start_gear()
        return {"ready": True, "serial": serial, "simulators": list(self.simulators),
                "loops": len(self.gear.loops)}

    def _start_gear(self) -> None:
        """One loop per interface channel up to the highest studio loop; channels without a
        studio loop are plain wires (the main outs). Each studio loop has its own delay with
        a fraction, a small gain error, hiss and a transformer's low cut, and one is wired
        inverted, so measuring and printing have real work to do."""
        from hybrid.simgear import LoopSpec, SimGear

        loops = {name: loop for name, loop in self.studio.loops.items() if loop.sides == 1}
        channels = max([loop.out_channel for loop in loops.values()] + [2])
        specs = [LoopSpec() for _ in range(channels)]
        for index, (_name, loop) in enumerate(sorted(loops.items())):
            specs[loop.out_channel - 1] = LoopSpec(
                delay_samples=LOOP_DELAYS_SAMPLES[index % len(LOOP_DELAYS_SAMPLES)],
                polarity=-1 if index == INVERTED_LOOP_INDEX else 1,
                gain_db=LOOP_GAINS_DB[index % len(LOOP_GAINS_DB)],
                noise_dbfs=-90.0, highpass_hz=12.0, seed=index + 1,
                processors=self._processors(loop.devices),
            )
        specs += self._stereo_specs()
        interface = self.studio.interface
        self.gear = SimGear(specs, name=interface.device if interface else "hybrid-gear").start()

    def _stereo_specs(self) -> list:
        """The stereo loops (their stereo units from :func:`_stereo_units`) and the summing mixer."""
        from hybrid.simgear import LoopSpec
        from hybrid.simgear.loop import StereoLoopSpec, SummingSpec

        out: list = []
        wide = [(name, loop) for name, loop in sorted(self.studio.loops.items()) if loop.sides == 2]
        for index, (name, loop) in enumerate(wide):
            delays = STEREO_SIDE_DELAYS_SAMPLES[index % len(STEREO_SIDE_DELAYS_SAMPLES)]
            gains = STEREO_SIDE_GAINS_DB[index % len(STEREO_SIDE_GAINS_DB)]
            sides = [LoopSpec(delay_samples=d, gain_db=g, noise_dbfs=-96.0, highpass_hz=12.0, seed=20 + 2 * index + k)
                     for k, (d, g) in enumerate(zip(delays, gains, strict=True))]
            out.append(StereoLoopSpec(left=sides[0], right=sides[1], units=_stereo_units(name),
                                      channels=(loop.out_channels[0], loop.out_channels[1])))
        summing = self.studio.summing
        if summing is not None:
            from hybrid.models.stereo import SummingMixer

            n = len(summing.outs)
            pans = [(-0.3, 0.3, 0.0, 0.5, -0.1)[k % 5] for k in range(n)]
            trims = [(-2.0, -3.0, -1.0, -4.0, -2.0)[k % 5] for k in range(n)]
            mixer = SummingMixer(n, pans=pans, trims_db=trims, crosstalk_db=-80.0, drive_db=2.0, noise_dbfs=-100.0,
                                 delay_samples=SUMMING_DELAYS_SAMPLES, seed=41)
            out.append(SummingSpec(mixer=mixer, sends=tuple(summing.outs), returns=tuple(summing.ins)))
        return out

    def _processors(self, devices: list[str]) -> list:
        """The DSP of each device on a loop (its profile's ``[sound]``), following its simulator's
        knobs: set over MIDI or serial, or by hand on the hand-set unit's panel."""
        from hybrid.models.sound import SoundUnit

        out = []
        for index, name in enumerate(devices):
            sim = self.simulators.get(name)
            if sim is None or not sim.profile.sound:
                continue
            unit = SoundUnit(sim.profile, seed=len(self.units) + index + 1)
            unit.bind(sim)
            self.units.append(unit)
            out.extend(unit.processors)
        return out

    def handle(self, request: dict) -> dict:
        if "set" in request:
            device, param, value = request["set"]
            sim = self._sim(device)
            return {"ok": sim.set(param, value)}
        if "state" in request:
            return {"ok": dict(self._sim(request["state"]).state)}
        return {"error": f"unknown request {sorted(request)}"}

    def _sim(self, device: str):
        try:
            return self.simulators[device]
        except KeyError:
            raise HybridError(f"no simulated device {device!r}", where="demo gear") from None

    def stop(self) -> None:
        for unit in self.units:
            unit.unbind()
        self.units.clear()
        gear, self.gear = self.gear, None
        if gear is not None:
            gear.stop()
        for sim in reversed(list(self.simulators.values())):
            sim.stop()
        self.simulators.clear()


def _stereo_units(loop: str) -> list:
    """The stereo gear of the demo's stereo loops: a linked bus compressor after the summing
    mixer, and an M/S EQ before a gentle linked compressor on the mastering loop. Their
    settings are fixed (the hand-set units' walk-through is the recall; these models do not
    follow its knobs). Any other stereo loop is a stereo wire."""
    from hybrid.models.dsp import Band
    from hybrid.models.stereo import LinkedCompressor, MidSideEQ

    if loop == "BUS":
        return [LinkedCompressor(threshold_db=-18.0, ratio=2.0, attack_ms=10.0, release_ms=300.0, makeup_db=1.0)]
    if loop == "M":
        return [MidSideEQ(mid_bands=[Band("lowshelf", 100.0, 1.0)], side_bands=[Band("highshelf", 8000.0, 1.5)]),
                LinkedCompressor(threshold_db=-14.0, ratio=1.5, attack_ms=30.0, release_ms=400.0, makeup_db=1.5)]
    return []


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m hybrid.app.demo.gear STUDIO_DIR", file=sys.stderr)
        return 2
    import jack

    from devices.jack_server import favour_this_thread

    favour_this_thread()  # before any thread starts: they all inherit it (the GIL's holders)
    jack.set_error_function(lambda _message: None)  # keep libjack's chatter off the terminal
    jack.set_info_function(lambda _message: None)
    proc = GearProcess(Path(args[0]))
    try:
        ready = proc.start()
        from hybrid.simgear.gear import steady_gear_process

        steady = steady_gear_process()  # once every JACK client of the process is active
        _say(dict(ready, realtime_priority=steady.priority, memory_locked=steady.locked))
    except (DeviceError, HybridError, OSError, ImportError) as exc:
        _say({"error": str(exc)})
        proc.stop()
        return 1
    try:
        for line in sys.stdin:
            try:
                request = json.loads(line)
            except json.JSONDecodeError:
                _say({"error": f"not JSON: {line.strip()[:60]}"})
                continue
            if request.get("quit"):
                break
            try:
                _say(proc.handle(request))
            except (DeviceError, HybridError, ValueError, TypeError) as exc:
                _say({"error": str(exc)})
    except KeyboardInterrupt:
        pass
    finally:
        proc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
