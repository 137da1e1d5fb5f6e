"""MIDI lost under CPU load: devices.jack_midi's Python process callback against its C one.

Issue 15: a Python JACK process callback needs the GIL once a period; late for a cycle
(the GIL's holder preempted, a starved core), it loses that cycle's MIDI. The C callback
(devices/_jack_midi_ring.c) moves the bytes without Python. This runs two busy loops
(niceness 0) on both cores of the machine, then the same traffic through each callback in
turn, in a child process of its own (``HYBRID_JACK_MIDI_CALLBACK=python`` or ``c``), and
prints messages lost and reordered per 10,000, with the xruns jackd logged meanwhile.
Traffic: two streams (two non-virtual outputs on the shared client into two virtual
inputs, three clients), numbered control changes with a 500-byte SysEx every 200,
sent in groups of 40 with 2 ms between them (about 2.5 s a stream).

    python bench/jack_midi_load.py [--messages 10000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devices.jack_server import JackServer  # noqa: E402


def _stream(tag: int, count: int) -> list:
    import mido
    msgs = []
    for i in range(count):
        msgs.append(mido.Message("control_change", channel=tag, control=(i >> 7) % 120, value=i & 0x7F))
        if i % 200 == 0:
            msgs.append(mido.Message("sysex", data=[tag, (i >> 7) & 0x7F, i & 0x7F] + [i % 128] * 500))
    return msgs


def worker(messages: int) -> dict[str, object]:
    """One pass of the traffic through this process's callback kind (a child process)."""
    import mido

    from devices import jack_midi
    backend = mido.Backend("devices.jack_midi", load=True, use_environ=False)
    streams = {tag: _stream(tag, messages // 2) for tag in (1, 2)}
    got: dict[int, list] = {1: [], 2: []}
    sinks = [backend.open_input(f"in{tag}", client_name=f"bench-load-{tag}", callback=got[tag].append)
             for tag in streams]
    outs = {tag: backend.open_output(f"bench-load-{tag}:in{tag}") for tag in streams}

    def send(tag: int) -> None:
        for n, msg in enumerate(streams[tag]):
            outs[tag].send(msg)
            if n % 40 == 39:
                time.sleep(0.002)

    senders = [threading.Thread(target=send, args=(tag,)) for tag in streams]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(len(got[t]) < len(streams[t]) for t in streams):
        time.sleep(0.05)
    time.sleep(0.3)  # whatever is still on its way
    sent = received = reordered = 0
    for tag, want in streams.items():
        want_bytes = [bytes(m.bytes()) for m in want]
        got_bytes = [bytes(m.bytes()) for m in got[tag]]
        sent += len(want_bytes)
        received += len(got_bytes)
        position = {b: i for i, b in enumerate(want_bytes)}
        indices = [position.get(b, -1) for b in got_bytes]
        reordered += sum(1 for a, b in zip(indices, indices[1:], strict=False) if b <= a)
    for port in list(outs.values()) + sinks:
        port.close()
    return {"kind": jack_midi.callback_kind(), "sent": sent, "received": received, "reordered": reordered}


def _run(kind: str, messages: int, server: JackServer) -> dict[str, object]:
    env = dict(os.environ, **server.environ(), HYBRID_JACK_MIDI_CALLBACK=kind)
    before = server.xruns_logged
    run = subprocess.run([sys.executable, __file__, "--worker", str(messages)], env=env,
                         capture_output=True, text=True, timeout=180)
    if run.returncode != 0:
        raise SystemExit(f"bench worker ({kind}) failed: {run.stderr[-1500:]}")
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    result["xruns"] = server.xruns_logged - before
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000, help="short messages a pass (two streams)")
    parser.add_argument("--rounds", type=int, default=2, help="passes of each callback, alternating")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return

    def un_nice() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, 0)
        except OSError:
            pass

    server = JackServer(name="bench-jm-load").start(slot_wait_s=120)
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=un_nice) for _ in range(2)]
    totals = {kind: {"sent": 0, "received": 0, "reordered": 0, "xruns": 0} for kind in ("python", "c")}
    try:
        time.sleep(0.3)
        print(f"JACK dummy 48 kHz / 256, real-time: {server.realtime_granted}; two busy loops; "
              f"load average {os.getloadavg()[0]:.1f}")
        for round_no in range(args.rounds):
            for kind in ("python", "c"):
                result = _run(kind, args.messages, server)
                if kind == "c" and result["kind"] != "C":
                    raise SystemExit("the C callback could not be built here (see the warning above)")
                for key in totals[kind]:
                    totals[kind][key] += int(result[key])  # type: ignore[call-overload]
                print(f"  round {round_no + 1} {kind:6}: {result['received']}/{result['sent']} arrived, "
                      f"{result['reordered']} out of order, {result['xruns']} xruns logged")
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
        server.stop()
    print("messages lost per 10,000 (all rounds):")
    for kind, label in (("python", "Python process callback (before)"), ("c", "C process callback (now)")):
        t = totals[kind]
        lost = 10_000 * (t["sent"] - t["received"]) / max(1, t["sent"])
        order = 10_000 * t["reordered"] / max(1, t["sent"])
        print(f"  {label:34} {lost:7.1f} lost, {order:5.1f} reordered, {t['xruns']} xruns")


if __name__ == "__main__":
    main()
