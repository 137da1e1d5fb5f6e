"""``hybrid demo`` in a real terminal (tmux): it paints, takes keys, recalls a song, quits cleanly,
and leaves no JACK server or simulator process behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

EXIT_MARK = "DEMO-EXIT="
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Terminal:
    """A tmux session on a private socket, 120x40."""

    def __init__(self, socket: str, command: str) -> None:
        self.socket = socket
        self._tmux("new-session", "-d", "-s", "S", "-x", "120", "-y", "40", command)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True,
                              timeout=10).stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "S")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "S", *keys)

    def wait_for(self, text: str, timeout_s: float = 30.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            if EXIT_MARK in screen and EXIT_MARK not in text:
                raise AssertionError(f"the demo ended while waiting for {text!r}:\n{screen}")
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on screen after {timeout_s:.0f} s:\n{self.screen()}")

    def pane_pid(self) -> int:
        return int(self._tmux("list-panes", "-t", "S", "-F", "#{pane_pid}").split()[0])

    def close(self) -> None:
        self._tmux("kill-server")


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        p, pp = map(int, line.split())
        children.setdefault(pp, []).append(p)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def test_demo_in_a_real_terminal(tmp_path):
    studio = tmp_path / "Demo Room"
    command = (f"cd {ROOT} && {sys.executable} -m hybrid demo --studio '{studio}'; "
               f"echo {EXIT_MARK}$?; sleep 600")
    term = Terminal(f"hybrid-tmux-{os.getpid()}", command)
    try:
        term.wait_for("Night Drive", timeout_s=60)
        time.sleep(0.3)
        screen = term.screen()
        assert "1 Songs" in screen and "Glass Harbour" in screen and "demo rig: JACK" in screen, screen
        # every process of the demo, found while it runs: the python, its JACK server, its gear process
        demo = [p for p in _descendants(term.pane_pid()) if "hybrid" in _cmdline(p)]
        names = " ".join(_cmdline(p) for p in demo)
        assert "jackd -n hybrid-demo-" in names and "hybrid.app.demo.gear" in names
        term.keys("Down", "Enter")
        screen = term.wait_for("Threshold")
        assert "VCA Comp" in screen and "Pultec" in screen
        term.keys("3")
        term.wait_for("Recall Night Drive")
        term.keys("a")
        screen = term.wait_for("RECALLED", timeout_s=30)
        assert "verified" in screen and "Step 1 of 9" in screen
        term.keys("Enter")
        term.wait_for("Step 2 of 9")
        term.keys("q")
        screen = term.wait_for(EXIT_MARK, timeout_s=20)
        assert f"{EXIT_MARK}0" in screen, screen
        assert "Traceback" not in screen
        left = [f"{p} {_cmdline(p)}" for p in demo if _alive(p)]
        assert not left, left
    finally:
        term.close()
