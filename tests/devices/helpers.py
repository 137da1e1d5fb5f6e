"""Small helpers for the device tests."""

from __future__ import annotations

import socket
import threading
import time


def wait_for(condition, timeout_s: float = 2.0, interval_s: float = 0.005) -> bool:
    """Poll ``condition()`` until it is true or ``timeout_s`` passes; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return bool(condition())
        time.sleep(interval_s)


def off_default_values(profile) -> dict:
    """A value for every parameter that differs from its default (so every message matters)."""
    out = {}
    for name, p in profile.parameters.items():
        if p.kind == "continuous":
            out[name] = p.minimum + (p.maximum - p.minimum) * 0.37
            if p.taper == "log":
                out[name] = p.minimum * (p.maximum / p.minimum) ** 0.61
        elif p.kind == "stepped":
            out[name] = p.labels[-1] if p.default != p.labels[-1] else p.labels[0]
        else:
            out[name] = not p.default
    return out


class RawServer:
    """A misbehaving unit: ``handler(conn)`` runs for each TCP connection on 127.0.0.1."""

    def __init__(self, handler, kind=socket.SOCK_STREAM):
        self.sock = socket.socket(socket.AF_INET, kind)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.kind = kind
        if kind == socket.SOCK_STREAM:
            self.sock.listen(4)
            threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handler, args=(conn,), daemon=True).start()

    def close(self):
        self.sock.close()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"
