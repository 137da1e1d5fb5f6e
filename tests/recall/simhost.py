"""Simulated gear in a process of its own, driven over a line protocol (JSON per line).

Real gear does not share a Python interpreter with hybrid. Keeping the simulators in
another process keeps it that way in tests and benches: the code under test owns its
process, and the JACK clients of both sides never wait on one another's GIL.

Run as ``python -m tests.recall.simhost SPEC_JSON`` where SPEC_JSON is a list of
``{"name", "profile" (built-in id or file path), "port" (MIDI name; ignored for serial)}``.
It prints ``{"ready": {name: port}}`` (serial: the pty path) and then answers requests:
``{"op": "state"|"set"|"start"|"stop"|"received"|"quit", "name", "param", "value"}``.
:class:`SimHost` is the client side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def serve(specs: list[dict]) -> None:
    from devices.profile import resolve_profile
    from devices.simulator import Simulator

    sims = {}
    for spec in specs:
        sim = Simulator(resolve_profile(spec["profile"]), spec.get("port"))
        sim.start()
        sims[spec["name"]] = sim
    out = sys.stdout
    out.write(json.dumps({"ready": {n: s.port for n, s in sims.items()}}) + "\n")
    out.flush()
    for line in sys.stdin:
        req = json.loads(line)
        op, name = req["op"], req.get("name")
        try:
            sim = sims.get(name)
            if op == "quit":
                break
            if op == "state":
                reply = {"state": sim.state}
            elif op == "set":
                reply = {"value": sim.set(req["param"], req["value"])}
            elif op == "stop":
                sim.stop()
                reply = {"ok": True}
            elif op == "start":
                sim.start()
                reply = {"ok": True, "port": sim.port}
            elif op == "received":
                reply = {"count": len(sim.received), "dump_requests": sim.dump_requests,
                         "rejected": list(sim.rejected)}
            else:
                reply = {"error": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - report to the test, keep serving
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(reply) + "\n")
        out.flush()
    for sim in sims.values():
        sim.stop()


class SimHost:
    """The client: start the simulators in a subprocess, ask them for state, turn their knobs."""

    def __init__(self, specs: list[dict], *, timeout_s: float = 60.0):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.recall.simhost", json.dumps(specs)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, cwd=ROOT, env=env)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the simulator host did not start")
        self.ports: dict[str, str] = json.loads(line)["ready"]

    def _ask(self, **req) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def state(self, name: str) -> dict[str, Any]:
        return self._ask(op="state", name=name)["state"]

    def set(self, name: str, param: str, value: Any) -> Any:
        """Turn a knob on the simulated front panel (MIDI gear that transmits sends the move)."""
        return self._ask(op="set", name=name, param=param, value=value)["value"]

    def stop(self, name: str) -> None:
        self._ask(op="stop", name=name)

    def start(self, name: str) -> None:
        self._ask(op="start", name=name)

    def received(self, name: str) -> int:
        return self._ask(op="received", name=name)["count"]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
