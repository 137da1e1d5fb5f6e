"""A studio recall with network gear: tcp:// and osc.udp:// ports in studio.toml.

One unit is dead (nothing listens on its port), one answers garbage, one never answers
over UDP: each fails with one line naming the unit, the port and what was expected, within
its profile's timeout, and the other units' recall goes on and is verified.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from recall.apply import apply_song
from recall.status import ApplyStatus

FAILED, VERIFIED = ApplyStatus.FAILED, ApplyStatus.VERIFIED
from recall.sheet import Sheet
from recall.store import create_song, save_sheet
from recall.studio import init_studio, load_studio

from devices.profile import load_profile
from devices.simulator import Simulator
from tests.devices.helpers import RawServer

PROFILES = Path(__file__).resolve().parent.parent / "devices" / "profiles"
SAT = PROFILES / "test-tcp-sat.toml"
DESK = PROFILES / "test-osc-desk.toml"


def _free_tcp_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _garbage_server() -> RawServer:
    def talk_nonsense(conn) -> None:
        conn.sendall(b"TN-1 ready\r\nPassword:")      # greets like the unit, then talks nonsense
        while conn.recv(100):
            conn.sendall(b"\x00??\r\n")
    return RawServer(talk_nonsense)


def test_network_faults_fail_one_unit_each_and_the_rest_is_recalled(tmp_path):
    sat, desk = load_profile(SAT), load_profile(DESK)
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    garbage = _garbage_server()
    dead_port = f"tcp://127.0.0.1:{_free_tcp_port()}"
    mute_port = f"osc.udp://127.0.0.1:{silent.getsockname()[1]}"
    garbage_port = garbage.url
    with Simulator(sat) as sat_sim, Simulator(desk, "osc.udp://127.0.0.1:0") as desk_sim:
        root = tmp_path / "studio"
        init_studio(root)
        units = {"Net Sat": (SAT, sat_sim.port), "Desk": (DESK, desk_sim.port), "Dead Sat": (SAT, dead_port),
                 "Mute Desk": (DESK, mute_port), "Noisy Sat": (SAT, garbage_port)}
        with open(root / "studio.toml", "a") as fh:
            for name, (profile, port) in units.items():
                fh.write(f'\n[devices."{name}"]\nprofile = "{profile}"\nport = "{port}"\n')
        studio = load_studio(root)
        path = create_song(root, "Song", samplerate=48000, tracks={})
        sheet = Sheet.load(path)
        for name, (profile, _port) in units.items():
            values = {"drive": 9.5, "mode": "hot"} if profile == SAT else \
                {"fader": -12.0, "mute": True, "insert": "FX1L", "gain": 30.0}
            sheet.set_values(name, values)
        save_sheet(sheet, studio=studio)
        start = time.monotonic()
        report = apply_song(studio, path.parent.name, verify=True, resume=False)
        elapsed = time.monotonic() - start
    silent.close()
    garbage.close()
    by_name = {d.device: d for d in report.devices}
    assert by_name["Net Sat"].status == VERIFIED and sat_sim.state == {"drive": 9.5, "mode": "hot"}
    assert by_name["Desk"].status == VERIFIED and desk_sim.state["insert"] == "FX1L"
    for name in ("Dead Sat", "Mute Desk", "Noisy Sat"):
        assert by_name[name].status == FAILED, by_name[name]
        assert len(by_name[name].reason.splitlines()) == 1
        assert units[name][1] in by_name[name].reason, by_name[name].reason
    assert by_name["Dead Sat"].reason.startswith(f"Dead Sat ({dead_port}): opening: cannot connect to 127.0.0.1:")
    assert by_name["Mute Desk"].reason.startswith(
        f"Mute Desk ({mute_port}): reading fader: no OSC reply on /ch/01/mix/fader within 300 ms")
    assert by_name["Noisy Sat"].reason == \
        f"Noisy Sat ({garbage_port}): opening: no 'Login OK' after the password within 400 ms (got '\\x00??')"
    assert elapsed < 3.0          # units run side by side; none waits past its 300-400 ms timeouts much
