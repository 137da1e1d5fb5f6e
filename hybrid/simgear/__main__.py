"""Run the simulated gear as its own process (the demo): ``python -m hybrid.simgear --config FILE``.

Starts the JACK client and the device simulators named in the file, prints one JSON
line (``{"ready": true, "name": ..., "loops": N, "devices": [...]}``) once everything
runs, and stays up until SIGTERM or Ctrl-C. Without ``--config``, ``--loops N`` plain
wires with ``--delay`` samples each. Errors: one line on stderr, exit status 1.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hybrid.simgear", description=__doc__.splitlines()[0])
    parser.add_argument("--config", metavar="FILE", help="the gear as TOML (see hybrid.simgear.config)")
    parser.add_argument("--name", help="JACK client name (overrides the file; default hybrid-gear)")
    parser.add_argument("--server", help="JACK server name (default $JACK_DEFAULT_SERVER)")
    parser.add_argument("--loops", type=int, default=2, help="without --config: number of plain loops")
    parser.add_argument("--delay", type=float, default=0.0, help="without --config: each loop's delay in samples")
    args = parser.parse_args(argv)

    from devices.errors import DeviceError
    from hybrid.errors import HybridError
    from hybrid.simgear.config import GearConfig, load_config
    from hybrid.simgear.gear import SimGear
    from hybrid.simgear.loop import LoopSpec

    simulators = []
    gear = None
    try:
        if args.config:
            config = load_config(args.config)
        else:
            config = GearConfig(loops=[LoopSpec(delay_samples=args.delay) for _ in range(args.loops)])
        gear = SimGear(config.loops, name=args.name or config.name, servername=args.server or config.server)
        devices = []
        if config.devices:
            from devices.simulator import Simulator

            for entry in config.devices:
                sim = Simulator(entry.profile, entry.port, channel=entry.channel).start()
                simulators.append(sim)
                entry.unit.bind(sim)
                devices.append({"loop": entry.loop, "profile": entry.profile.id, "listens": sim.describe(),
                                "port": str(sim.port)})
        gear.start()
        from hybrid.simgear.gear import steady_gear_process

        steady = steady_gear_process()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        print(json.dumps({"ready": True, "name": gear.name, "samplerate": gear.samplerate,
                          "loops": len(gear.units), "channels": gear.channels, "devices": devices,
                          "realtime_priority": steady.priority, "memory_locked": steady.locked}), flush=True)
        while not stop.wait(0.5):
            pass
        if gear.errors:
            print(f"hybrid.simgear: audio callback errors: {gear.errors[0]}", file=sys.stderr)
        return 0
    except (HybridError, DeviceError) as exc:
        print(f"hybrid.simgear: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if gear is not None:
            gear.stop()
        for sim in simulators:
            sim.stop()


if __name__ == "__main__":
    sys.exit(main())
