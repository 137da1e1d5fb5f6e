"""Apply a 40-device studio (mixed profiles) to simulators: wall time against wire time.

The studio: CC compressors, NRPN equalisers, SysEx reverbs and program-change patchbays
on JACK MIDI ports of their own, serial saturators on pseudo-terminals (simulated in
processes of their own, one per transport, as real gear would be), and hand-set units; 40 devices in all. Every machine-set
device is on its own port, so recall sends on all ports at once, each at its own rate.

Printed: the sum of the per-port wire times (bytes / rate, plus the gaps the profiles
ask for), the longest single port's wire time (the floor for a parallel recall), and
the wall time of the send phase, as ratios; then, per transport, how long a unit kept
its port busy against its wire time (where the time goes: a serial unit's command/reply
round trips, a MIDI unit's pacing, a read-back's round trip). Goal: wall < 1.2 x the sum of per-port wire
times. Runs: send only (no read-back), then send + verify (read-back round trips add
to the wall time, not to the wire time of the sends), then cold (opening every port in
the same call). Run first: JACK 2 serves at most 64 clients and a closed rtmidi port keeps
its client until Python collects it.

``--network`` mixes all four transports: MIDI, serial, TCP text units (with their login
and keepalive) and OSC desks over UDP, 40 units; the goal there is the issue's: wall
time at most 1.05 x the longest port's wire time in the worst of the runs (``--runs 7``).

A JACK MIDI port writes each message one period after its slot (the output latency of any
JACK port: 5.3 ms at this server's 256 frames); the recall's wall time ends with the last
slot, as the wire time does, and that constant latency is counted in neither.

    python bench/recall_apply.py [--runs 3] [--network --runs 7]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devices.jack_server import JackServer  # noqa: E402
from devices.midi_port import JACK_BACKEND  # noqa: E402
from devices.profile import resolve_profile  # noqa: E402

SAT_PROFILE = "hy-sat-serial"
# JACK 2 allows 64 clients per server and every MIDI unit costs four (the simulator's in
# and out, the Device's out and in): 12 MIDI units, the rest serial and hand-set.
MIX = [("hy-comp-cc", 4), ("hy-eq-nrpn", 3), ("hy-verb-sysex", 3), ("hy-patchbay-pc", 2),
       (SAT_PROFILE, 22), ("hy-pultec-manual", 6)]
NET_PROFILES = ROOT / "tests" / "devices" / "profiles"
MIX_NETWORK = [("hy-comp-cc", 4), ("hy-eq-nrpn", 3), ("hy-verb-sysex", 3), ("hy-patchbay-pc", 2),
               (SAT_PROFILE, 12), (str(NET_PROFILES / "test-tcp-sat.toml"), 6),
               (str(NET_PROFILES / "test-osc-desk.toml"), 4), ("hy-pultec-manual", 6)]


def random_values(profile, rng: random.Random) -> dict:
    out = {}
    for name, p in profile.parameters.items():
        if p.kind == "switch":
            out[name] = rng.random() < 0.5
        elif p.kind == "stepped":
            out[name] = rng.choice(p.labels)
        else:
            lo, hi = p.minimum, p.maximum
            out[name] = round(lo * (hi / lo) ** rng.random(), 2) if p.taper == "log" else round(rng.uniform(lo, hi), 2)
            out[name] = min(max(out[name], lo), hi)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--network", action="store_true", help="mix in TCP and OSC units (four transports)")
    ap.add_argument("--hang-dump-s", type=float, default=0, help="dump all thread stacks after this long")
    args = ap.parse_args()
    if args.hang_dump_s:
        import faulthandler

        faulthandler.dump_traceback_later(args.hang_dump_s, exit=False)
    server = JackServer(name=f"bench-recall-apply-{os.getpid()}", max_ports=512)
    try:
        server.start()
    except Exception as exc:  # noqa: BLE001 - say why and stop
        print(f"cannot start a JACK server: {exc}", file=sys.stderr)
        return 1
    os.environ.update(server.environ())
    os.environ["MIDO_BACKEND"] = JACK_BACKEND
    from recall.apply import DevicePool, apply_song
    from recall.sheet import Sheet
    from recall.store import create_song, save_sheet
    from recall.studio import init_studio, load_studio
    from tests.recall.simhost import SimHost

    hosts: list = []
    try:
        rng = random.Random(7)
        devices = []
        for profile_ref, count in (MIX_NETWORK if args.network else MIX):
            prof = resolve_profile(profile_ref)
            for i in range(1, count + 1):
                devices.append((f"{prof.id} #{i}", profile_ref, prof, f"br-{prof.id}-{i}-{os.getpid()}"))
        specs = [{"name": n, "profile": ref, "port": port} for n, ref, prof, port in devices
                 if prof.recallable]
        # One simulator process per transport, as real units do not share a computer: twelve MIDI
        # simulators starved of the GIL by the serial and network ones in the same process lose
        # SysEx under a burst (JACK MIDI input), which is the bench's artefact, not the recall's.
        ports: dict[str, str] = {}
        kind_of = {n: prof.transport for n, _ref, prof, _port in devices}
        for kind in sorted({kind_of[spec["name"]] for spec in specs}):
            hosts.append(SimHost([spec for spec in specs if kind_of[spec["name"]] == kind]))
            ports.update(hosts[-1].ports)
        with tempfile.TemporaryDirectory(prefix="bench-recall-apply-") as tmp:
            root = Path(tmp) / "studio"
            init_studio(root)
            lines = []
            for name, ref, prof, _port in devices:
                lines.append(f'[devices."{name}"]\nprofile = "{ref}"\n')
                if prof.recallable:
                    lines.append(f'port = "{ports[name]}"\n')
            with open(root / "studio.toml", "a") as fh:
                fh.write("\n" + "\n".join(lines))
            studio = load_studio(root)
            songs = []
            for s in range(args.runs):
                path = create_song(root, f"Song {s}", samplerate=48000, tracks={})
                sheet = Sheet.load(path)
                for name, _ref, prof, _port in devices:
                    sheet.set_values(name, random_values(prof, rng))
                save_sheet(sheet, studio=studio)
                songs.append(path.parent.name)
            kinds_of = {name: prof.transport for name, _ref, prof, _port in devices}
            machine = sum(1 for d in devices if d[2].recallable)
            kinds = sorted({d[2].transport for d in devices if d[2].recallable})
            print(f"{len(devices)} devices ({machine} machine-set on {machine} ports: {', '.join(kinds)}; "
                  f"{len(devices) - machine} hand-set); {args.runs} songs of random settings")

            def show(label, reports):
                sums = [sum(r.wire_time_by_port_s.values()) for r in reports]
                maxes = [max(r.wire_time_by_port_s.values()) for r in reports]
                walls = [r.wall_time_s for r in reports]
                opens = [r.open_time_s for r in reports]
                bad = [d for r in reports for d in r.devices if d.status == "failed"]
                print(f"{label}:")
                print(f"  sum of per-port wire times  {statistics.median(sums) * 1000:8.1f} ms (median)")
                print(f"  max per-port wire time      {statistics.median(maxes) * 1000:8.1f} ms")
                print(f"  wall time (send phase)      {statistics.median(walls) * 1000:8.1f} ms   "
                      f"= {statistics.median([w / s for w, s in zip(walls, sums, strict=False)]):.2f} x the sum "
                      f"(goal < 1.2), {statistics.median([w / m for w, m in zip(walls, maxes, strict=False)]):.2f} x the max port")
                print(f"  opening ports, encoding     {statistics.median(opens) * 1000:8.1f} ms")
                worst = max(w / m for w, m in zip(walls, maxes, strict=False))
                print(f"  worst of {len(reports)}: wall = {worst:.3f} x the max port's wire time (goal <= 1.05)")
                # the longest unit's share: its own time over its wire, and the wall's time outside it
                # (before its hand-over: opening the phase, encoding nothing; after: the others, joins)
                longest = [max(r.devices, key=lambda d: d.wire_time_s) for r in reports]
                over = [(d.elapsed_s - d.wire_time_s) * 1000 for d in longest]
                outside = [(r.wall_time_s - d.elapsed_s) * 1000 for r, d in zip(reports, longest, strict=True)]
                print(f"  longest unit ({longest[0].device}): its time over its wire p50 {statistics.median(over):.2f} ms, "
                      f"max {max(over):.2f} ms; the wall outside its time p50 {statistics.median(outside):.2f} ms, "
                      f"max {max(outside):.2f} ms")
                # where the time goes: per transport, a device's time on its port against its wire time
                by_kind: dict[str, list[tuple[float, float, int]]] = {}
                for r in reports:
                    for d in r.devices:
                        if d.port and d.elapsed_s:
                            kind = kinds_of[d.device]
                            by_kind.setdefault(kind, []).append((d.elapsed_s, d.wire_time_s, d.messages))
                for kind, rows in sorted(by_kind.items()):
                    el = sorted(x[0] for x in rows)
                    print(f"    {kind:7s} {len(rows) // len(reports):3d} units: time on the port p50 {el[len(el) // 2] * 1000:6.1f} ms, "
                          f"max {el[-1] * 1000:6.1f} ms; wire max {max(x[1] for x in rows) * 1000:5.1f} ms; "
                          f"{statistics.median(x[2] for x in rows):.0f} messages")
                if bad:
                    print(f"  FAILED devices: {len(bad)}: {bad[0].device}: {bad[0].reason}")

            cold = [apply_song(studio, songs[0], verify=False, resume=False)]
            show("send only, cold (ports opened by the call; open time separate)", cold)
            gc.collect()  # rtmidi frees a closed port's JACK client only when collected
            with DevicePool() as pool:
                errors = pool.open_all(studio.devices.values())
                if errors:
                    name, err = next(iter(errors.items()))
                    print(f"{len(errors)} devices would not open, e.g. {name}: {err}", file=sys.stderr)
                send = [apply_song(studio, song, verify=False, resume=False, open_device=pool.borrow)
                        for song in songs]
                show("send only, ports open (a control-room session)", send)
                verify = [apply_song(studio, song, verify=True, resume=False, open_device=pool.borrow)
                          for song in songs]
                show("send + read back + verify, ports open", verify)
    finally:
        for host in hosts:
            host.close()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
