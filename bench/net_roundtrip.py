"""Per-parameter round trip on TCP and OSC over loopback: set a value, read it back.

Each trip is one ``Device.set`` (command and acknowledge on TCP, one datagram on OSC)
and one ``Device.read`` of that parameter (a query and its reply), against the
transport's simulator on 127.0.0.1. The reference, measured in the same run, is the
bare round trip of the same socket kind with no hybrid code in it: a line written to a
TCP echo server and read back, a datagram sent to a UDP echo server and received. The
ratio says what the device layer adds on top of the kernel's loopback.

    python bench/net_roundtrip.py [--trips 500]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devices.device import Device  # noqa: E402
from devices.profile import load_profile, profile_from_dict  # noqa: E402
from devices.simulator import Simulator  # noqa: E402

PROFILES = ROOT / "tests" / "devices" / "profiles"


def _plain_tcp_profile():
    """The test network saturator without its login and keepalive (one clean session)."""
    import tomllib

    path = PROFILES / "test-tcp-sat.toml"
    data = tomllib.loads(path.read_text())
    for key in ("banner", "password", "password_prompt", "login_ok", "keepalive"):
        data["tcp"].pop(key)
    data["tcp"]["timeout_ms"] = 2000
    return profile_from_dict(data, source=path)


def _echo_server(kind: int) -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, kind)
    sock.bind(("127.0.0.1", 0))
    if kind == socket.SOCK_STREAM:
        sock.listen(1)

        def serve() -> None:
            conn, _ = sock.accept()
            with conn:
                while data := conn.recv(4096):
                    conn.sendall(data)
    else:
        def serve() -> None:
            while True:
                try:
                    data, peer = sock.recvfrom(4096)
                except OSError:
                    return
                sock.sendto(data, peer)
    threading.Thread(target=serve, daemon=True).start()
    return sock, sock.getsockname()[1]


def bare_tcp(trips: int) -> list[float]:
    server, port = _echo_server(socket.SOCK_STREAM)
    client = socket.create_connection(("127.0.0.1", port))
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    out = []
    for i in range(trips):
        t0 = time.perf_counter()
        for line in (b"DRV %d.0\r\n" % (i % 24), b"DRV?\r\n"):   # a set and a query, like one trip
            client.sendall(line)
            got = b""
            while not got.endswith(b"\n"):
                got += client.recv(4096)
        out.append(time.perf_counter() - t0)
    client.close()
    server.close()
    return out


def bare_udp(trips: int) -> list[float]:
    server, port = _echo_server(socket.SOCK_DGRAM)
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out = []
    for _ in range(trips):
        t0 = time.perf_counter()
        client.sendto(b"/ch/01/mix/fader\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00", ("127.0.0.1", port))
        client.sendto(b"/ch/01/mix/fader\x00\x00\x00\x00,\x00\x00\x00", ("127.0.0.1", port))
        client.recvfrom(4096)
        client.recvfrom(4096)
        out.append(time.perf_counter() - t0)
    client.close()
    server.close()
    return out


def device_trips(profile, port: str | None, param: str, values: list, trips: int) -> list[float]:
    out = []
    with Simulator(profile, port) as sim, Device(profile, sim.port) as dev:
        for i in range(trips):
            value = values[i % len(values)]
            t0 = time.perf_counter()
            dev.set(param, value)
            got = dev.read([param])[param]
            out.append(time.perf_counter() - t0)
            if got != dev.quantize({param: value})[param]:
                raise SystemExit(f"read back {got!r} for {value!r}")
    return out


def report(name: str, times: list[float], ref: list[float]) -> None:
    med, ref_med = statistics.median(times), statistics.median(ref)
    p95 = sorted(times)[int(len(times) * 0.95)]
    print(f"{name:28s} median {med * 1e3:7.3f} ms   p95 {p95 * 1e3:7.3f} ms   "
          f"bare socket {ref_med * 1e3:6.3f} ms   ratio {med / ref_med:5.1f}x")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trips", type=int, default=500)
    args = ap.parse_args()
    trips = args.trips
    tcp = _plain_tcp_profile()
    osc = load_profile(PROFILES / "test-osc-desk.toml")
    drives = [float(v) for v in range(0, 24)]
    faders = [-60.0 + 5 * i for i in range(15)]
    ref_tcp, ref_udp = bare_tcp(trips), bare_udp(trips)
    print(f"per-parameter round trip (set + read back), {trips} trips each, loopback")
    report("tcp:// text unit", device_trips(tcp, None, "drive", drives, trips), ref_tcp)
    report("osc.udp:// fader", device_trips(osc, "osc.udp://127.0.0.1:0", "fader", faders, trips), ref_udp)
    report("osc.tcp:// fader", device_trips(osc, "osc.tcp://127.0.0.1:0", "fader", faders, trips), ref_tcp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
