"""The demo's main job on an idle machine and with both cores busy: xruns per print pass, before and after.

Runs ``hybrid demo --no-tui --song-only --json --jack NAME`` (recall, verify, ping, print one song's
stems through the simulated room at JACK period 1024) on a JACK server this bench
starts, once per condition:

- ``idle``: nothing else started by the bench (other users of the machine still run);
- ``busy``: two ``python -c 'while 1: pass'`` loops (one per core) and a ``dd
  if=/dev/zero of=FILE bs=1M count=4000 conv=fsync`` writer (restarted when it ends) for
  the whole run.

With ``--before REV`` the same demo also runs from revision REV (a git worktree made in
this run), alternating with this tree run by run, so before and after meet the same
machine. ``--scheduling nort`` runs the server ``--no-realtime`` as well. ``--clock
real,virtual`` runs each on both kinds of server: ``real`` (asynchronous, a late client
loses its cycle: an interface's clock) and ``virtual`` (the demo's own: synchronous, a
late cycle is waited for and counted as a clock slip, ``JackServer.virtual_clock``); ``offline``
(the demo's default: the server freewheels while each pass and ping streams, no clock at all,
``JackServer.offline``) as well with ``--clock real,virtual,offline`` (the default).

Beside each demo a probe thread at SCHED_FIFO 80 (above jackd and every client) sleeps
1 ms at a time and counts the wake-ups that came more than a JACK period late: the
machine's floor, CPU time withheld from every real-time thread at once (this machine's
kernel runs without preemption, ``PREEMPT_NONE``: another task's system call, a big
file write's page-cache work, finishes first; or the hypervisor takes the vCPU). An xrun
the probe saw too is not ours to fix by scheduling.

Per run it prints the files good, the print attempts (a pass spoilt by xruns between
its pings is printed again, up to twice) and how many were spoilt, the xruns between the
pings of the last attempt, the xruns jackd reported over the whole demo (and which
clients were late), and the wall time.

    python bench/demo_load.py [--runs N] [--conditions idle,busy] [--scheduling rt,nort] [--before REV]
                              [--period FRAMES] [--clock real,virtual,offline]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devices.jack_server import JackServer, realtime_allowed  # noqa: E402

PERIOD = 1024
XRUNS = re.compile(r"xruns in (\d+) period\(s\) between the pings")
LATE = re.compile(r"client = (\S+) was not finished")


class Load:
    """Two busy loops and a large fsync'ed file writer, until stopped."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "big"
        self.procs: list[subprocess.Popen] = []
        self.writer: subprocess.Popen | None = None

    def __enter__(self) -> Load:
        for _ in range(2):
            self.procs.append(subprocess.Popen([sys.executable, "-c", "while 1: pass"]))
        self._write()
        return self

    def _write(self) -> None:
        self.writer = subprocess.Popen(["dd", "if=/dev/zero", f"of={self.file}", "bs=1M", "count=4000",
                                        "conv=fsync"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def keep_writing(self) -> None:
        if self.writer is not None and self.writer.poll() is not None:
            self._write()

    def __exit__(self, *exc) -> None:
        for proc in [*self.procs, self.writer]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait()
        self.file.unlink(missing_ok=True)


PROBE_PRIORITY = 80
"""Above jackd (70) and its clients: the probe measures what no priority of ours can beat."""


def probe(priority: int, period: int = PERIOD) -> int:
    """The machine's floor: a thread at SCHED_FIFO ``priority`` (above every JACK thread)
    sleeps 1 ms again and again and records how late it wakes; on SIGTERM it prints one
    JSON line: wakeups, p99.9 and max lateness, and how many came more than a JACK period
    late. Such a late wake-up is the CPU withheld from every real-time thread at once (a
    kernel without preemption finishing another task's system call, the hypervisor),
    which no scheduling of ours can undo; each is a likely xrun."""
    import signal

    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (OSError, AttributeError):
        priority = 0
    late: list[float] = []
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    while not stop[0]:
        t = time.monotonic()
        time.sleep(0.001)
        late.append(time.monotonic() - t - 0.001)
    late.sort()
    period_s = period / 48000
    n = max(len(late), 1)
    print(json.dumps({"priority": priority, "wakeups": len(late), "p999_ms": 1000 * late[int(0.999 * (n - 1))] if late else 0,
                      "max_ms": 1000 * late[-1] if late else 0,
                      "over_period": sum(1 for x in late if x > period_s)}), flush=True)
    return 0


def run_demo(realtime: bool, load: Load | None, tag: str, tree: Path = ROOT, period: int = PERIOD,
             clock: str = "real") -> dict:
    server = JackServer(name=f"bench-demo-load-{os.getpid()}-{tag}", period_frames=period, realtime=realtime,
                        virtual_clock=clock == "virtual", offline=clock == "offline")
    server.start(slot_wait_s=120)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")])))
    env.update(server.environ())   # the demo (--jack) takes the server as it is, its clock included
    start = time.monotonic()
    prober = subprocess.Popen([sys.executable, __file__, "--probe", str(PROBE_PRIORITY), "--period", str(period)],
                              stdout=subprocess.PIPE,
                              text=True)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "hybrid", "demo", "--no-tui", "--song-only", "--json", "--jack",
                                 server.name],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tree)
        while proc.poll() is None:
            if load is not None:
                load.keep_writing()
            time.sleep(0.5)
        out, err = proc.communicate()
    finally:
        wall = time.monotonic() - start
        server.stop()
        prober.terminate()
        floor = json.loads(prober.communicate()[0] or "{}")
    late = Counter(m.group(1) for line in server.log_tail(200) for m in [LATE.search(line)] if m)
    result = {"scheduling": "rt" if server.realtime_granted else "nort", "wall_s": wall,
              "server_xruns": server.xruns_logged, "late_cycles": server.late_cycles_logged, "good": 0, "files": 0, "pass_xruns": [], "error": None,
              "late": ", ".join(f"{name} {count}" for name, count in late.most_common(4)), "floor": floor}
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        result["error"] = (err.strip().splitlines() or ["no output"])[-1]
        return result
    printing = next((s for s in report.get("steps", []) if s.get("step", "").startswith("print")), None)
    if printing is None:
        result["error"] = "no print step in the report"
        return result
    data = printing.get("data") or {}
    if not data:
        result["error"] = f"print step: {printing.get('summary')}"
        return result
    files = data.get("files", [])
    result["files"] = len(files)
    result["good"] = sum(1 for f in files if f.get("good"))
    # every file of a pass spoilt by xruns says how many fell between its pings
    reasons = [f.get("reason") or "" for f in files]
    found = [int(m.group(1)) for r in reasons for m in [XRUNS.search(r)] if m]
    result["pass_xruns"] = [max(found) if found else 0]
    result["retried"] = int(data.get("retried_for_xruns", 0))
    result["attempts"] = result["retried"] + 1
    result["spoilt"] = result["retried"] + (1 if found else 0)
    return result


def _floor(floor: dict) -> str:
    if not floor:
        return "-"
    return f"{floor['over_period']} (max {floor['max_ms']:.0f} ms)"


def worktree(rev: str, folder: Path) -> Path:
    """A checkout of ``rev`` (git worktree, removed by the caller's cleanup)."""
    path = folder / f"before-{rev}"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(path), rev], check=True,
                   stdout=subprocess.DEVNULL)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per condition (default 1)")
    parser.add_argument("--conditions", default="idle,busy", help="idle, busy or both (default idle,busy)")
    parser.add_argument("--scheduling", default="rt",
                        help="rt (real-time server, default) and/or nort (--no-realtime)")
    parser.add_argument("--before", metavar="REV", help="also run the demo from git revision REV, alternating")
    parser.add_argument("--period", default=str(PERIOD),
                        help=f"JACK period in frames, or several (1024,2048) run alternately (default {PERIOD})")
    parser.add_argument("--clock", default="real,virtual,offline",
                        help="real (async server), virtual (sync), offline (freewheeling passes: the "
                             "demo's own), comma-separated (default all three)")
    parser.add_argument("--probe", type=int, metavar="PRIO", help=argparse.SUPPRESS)  # the floor probe's process
    args = parser.parse_args()
    if args.probe is not None:
        return probe(args.probe, int(args.period))
    periods = [int(p) for p in args.period.split(",") if p]
    conditions = [c for c in args.conditions.split(",") if c]
    schedules = [s for s in args.scheduling.split(",") if s]
    clocks = [c for c in args.clock.split(",") if c]
    if "rt" in schedules and not realtime_allowed():
        print("note: this process may not use real-time scheduling: 'rt' runs fall back to --no-realtime")
    print(f"hybrid demo --no-tui at JACK period {args.period} frames (48 kHz); busy = 2 busy loops + dd 4000 MB conv=fsync; "
          f"load average now {os.getloadavg()[0]:.1f}")
    print(f"{'tree':<11}{'machine':<8}{'jackd':<13}{'run':>4}{'files good':>12}{'attempts':>9}{'spoilt':>8}"
          f"{'xruns in pass':>15}{'jackd xruns':>13}{'late cycles':>13}{'wall s':>8}{'floor: late > period':>22}")
    totals: dict[tuple[str, str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-demo-load-") as tmp:
        trees = [("after", ROOT)]
        if args.before:
            trees.insert(0, (args.before[:8], worktree(args.before, Path(tmp))))
        try:
            for condition in conditions:
                for sched, clock in [(s, c) for s in schedules for c in clocks]:
                    for run in range(1, args.runs + 1):
                        for (label, tree), period in [(t, p) for t in trees for p in periods]:
                            if len(periods) > 1:
                                label = f"{label[:5]}/{period}"
                            tag = f"{condition}-{sched}-{clock}-{label.replace('/', '-')}-{run}"
                            if condition == "busy":
                                with Load(Path(tmp)) as load:
                                    time.sleep(2)  # let the writer fill the page cache first
                                    result = run_demo(sched == "rt", load, tag, tree, period, clock)
                            else:
                                result = run_demo(sched == "rt", None, tag, tree, period, clock)
                            result["scheduling"] += f"/{clock}"
                            totals.setdefault((label, condition, result["scheduling"]), []).append(result)
                            good = f"{result['good']} of {result['files']}"
                            xruns = ",".join(str(x) for x in result["pass_xruns"]) or "-"
                            print(f"{label:<11}{condition:<8}{result['scheduling']:<13}{run:>4}{good:>12}"
                                  f"{result.get('attempts', 0):>9}{result.get('spoilt', 0):>8}{xruns:>15}"
                                  f"{result['server_xruns']:>13}{result['late_cycles']:>13}{result['wall_s']:>8.1f}"
                                  f"{_floor(result['floor']):>22}"
                                  + (f"  error: {result['error']}" if result["error"] else "")
                                  + (f"  late: {result['late']}" if result["late"] else ""), flush=True)
        finally:
            if args.before:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(trees[0][1])],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print()
    for (label, condition, sched), results in totals.items():
        passes = sum(1 for r in results if r["files"] and r["good"] == r["files"])
        attempts = sum(r.get("attempts", 0) for r in results)
        spoilt = sum(r.get("spoilt", 0) for r in results)
        print(f"{label:<11}{condition:<8}{sched:<13}all files good in {passes} of {len(results)} run(s); "
              f"{spoilt} of {attempts} print attempts spoilt by xruns; "
              f"jackd xruns per run {sum(r['server_xruns'] for r in results) / len(results):.1f}; "
              f"FIFO {PROBE_PRIORITY} probe woken more than a period late {sum(r['floor'].get('over_period', 0) for r in results)} "
              f"time(s) in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
