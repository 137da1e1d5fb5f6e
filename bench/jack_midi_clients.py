"""One JACK client per MIDI port (as rtmidi does) against one shared client per process.

Per-port clients keep a virtual port's ``client:port`` name and make a close a plain
``deactivate()``; a shared client runs one Python process callback a period for all
its ports, but a port leaving it must be unregistered under a running client.
devices.jack_midi uses both: virtual ports get their own client, non-virtual ports (the
gear hybrid talks to) share one. This prints what the per-port clients cost, idle, for N ports, as CPU % of one core
(this process and jackd) against the shared client doing the same per-port work, and
the time to open and close one port.

    python bench/jack_midi_clients.py [--ports 16] [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devices.jack_server import JackServer  # noqa: E402


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _measure(seconds: float, jackd_pid: int) -> tuple[float, float]:
    """(this process CPU %, jackd CPU %) over ``seconds`` of idle ports."""
    time.sleep(0.3)
    own0, jack0, t0 = time.process_time(), _cpu_s(jackd_pid), time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    return (100 * (time.process_time() - own0) / wall, 100 * (_cpu_s(jackd_pid) - jack0) / wall)


def per_port_clients(n: int, seconds: float, jackd_pid: int):
    import mido
    backend = mido.Backend("devices.jack_midi", load=True, use_environ=False)
    ports = []  # virtual ports: one client each
    for i in range(n):
        if i % 2:
            ports.append(backend.open_output(f"o{i}", client_name=f"bench-pp-{i}"))
        else:
            ports.append(backend.open_input(f"i{i}", client_name=f"bench-pp-{i}"))
    cpu = _measure(seconds, jackd_pid)
    for port in ports:
        port.close()
    return cpu


def shared_client(n: int, seconds: float, jackd_pid: int):
    import jack
    lib = jack._lib
    client = jack.Client("bench-shared", no_start_server=True)
    ins = [client.midi_inports.register(f"i{i}") for i in range(0, n, 2)]
    outs = [client.midi_outports.register(f"o{i}") for i in range(1, n, 2)]
    in_ptrs, out_ptrs = [p._ptr for p in ins], [p._ptr for p in outs]

    def process(frames):
        for ptr in in_ptrs:
            lib.jack_midi_get_event_count(lib.jack_port_get_buffer(ptr, frames))
        for ptr in out_ptrs:
            lib.jack_midi_clear_buffer(lib.jack_port_get_buffer(ptr, frames))
    client.set_process_callback(process)
    client.activate()
    cpu = _measure(seconds, jackd_pid)
    client.deactivate()
    client.close()
    return cpu


def open_close_ms(count: int = 20) -> tuple[float, float]:
    """ms to open and close a virtual input (own client), then a non-virtual one (shared client)."""
    import mido
    backend = mido.Backend("devices.jack_midi", load=True, use_environ=False)
    start = time.perf_counter()
    for i in range(count):
        backend.open_input(f"oc{i}", client_name="bench-oc").close()
    own = 1000 * (time.perf_counter() - start) / count
    source = backend.open_output("src", client_name="bench-oc-src")
    keep = backend.open_input("bench-oc-src:src")  # keeps the shared client up
    start = time.perf_counter()
    for _ in range(count):
        backend.open_input("bench-oc-src:src").close()
    shared = 1000 * (time.perf_counter() - start) / count
    keep.close()
    source.close()
    return own, shared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ports", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    server = JackServer(name=f"bench-jm-{os.getpid()}").start(slot_wait_s=120)
    os.environ.update(server.environ())
    try:
        pid = server._process.pid
        base = _measure(args.seconds, pid)
        shared = shared_client(args.ports, args.seconds, pid)
        per_port = per_port_clients(args.ports, args.seconds, pid)
        print(f"{args.ports} idle MIDI ports, 48 kHz, period 256, CPU % of one core (this process + jackd):")
        print(f"  no ports (reference)      {base[0]:5.1f} + {base[1]:5.1f}")
        print(f"  one shared client         {shared[0]:5.1f} + {shared[1]:5.1f}")
        print(f"  one client per port       {per_port[0]:5.1f} + {per_port[1]:5.1f}")
        ratio = (per_port[0] + per_port[1] - base[0] - base[1]) / max(0.1, shared[0] + shared[1] - base[0] - base[1])
        print(f"  per-port / shared (above the reference): {ratio:.1f}x")
        own, shared_ms = open_close_ms()
        print(f"open + close one input: virtual (own client) {own:.1f} ms, "
              f"non-virtual (shared client) {shared_ms:.1f} ms")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
