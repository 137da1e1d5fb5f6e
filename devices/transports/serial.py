"""Serial: text commands over a tty (a device path) or a pyserial URL (``socket://``, ``spy://``...).

One command at a time (:class:`devices.serial_port.SerialPort`); the simulator sits on a
pseudo-terminal whose path is its port.
"""

from __future__ import annotations

import os
import select
import threading
import time
from pathlib import Path
from typing import Any

from devices.profile import SerialSettings, _load_serial
from devices.serial_port import SerialPort
from devices.text_codec import TextTemplate
from devices.transports.base import DeviceContext, Link, SimSide
from devices.transports.text import TextAnswerer, TextLink, TextTransport


class SerialTransport(TextTransport):
    name = "serial"
    encoding_key = "serial"
    schemes = ("socket", "spy", "loop", "rfc2217", "alt", "hwgrep", "cp2110")
    """pyserial's own URL handlers."""
    assigns_port = True

    def load_settings(self, reader: Any, _base: Any) -> SerialSettings:
        return _load_serial(reader)

    def wire_time_s(self, profile: Any, messages: list[Any]) -> float:
        s = self.text_settings(profile)
        return sum(len(m.bytes()) for m in messages) * s.bits_per_char / s.baudrate

    def link(self, device: DeviceContext, port: str) -> Link:
        return SerialLink(device, port, self.text_settings(device.profile))

    def simulate(self, sim: Any) -> SimSide:
        return SerialSim(sim, self.text_settings(sim.profile))

    def presence(self, port: str, _cache: dict[str, Any]) -> tuple[bool, str]:
        if "://" in port:
            return True, "pyserial URL (checked when used)"
        path = Path(port)
        if not path.exists():
            return False, f"no serial device at {port}"
        if not path.is_char_device() or str(path) == "/dev/null":
            return False, f"{port} is not a serial port"
        return True, f"serial {port}"


class SerialLink(TextLink):
    def __init__(self, device: DeviceContext, port: str, settings: SerialSettings):
        super().__init__(device, port)
        self.settings = settings
        self._port: SerialPort | None = None

    def open(self) -> None:
        self._port = SerialPort(self.port, self.settings, device=self.device.name, monitor=self.device.monitor).open()

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
        self._port = None

    def command(self, line: str, *, action: str, expect_reply: bool | None = None,
                expect: TextTemplate | None = None) -> str | None:
        del expect            # one command at a time on a serial line: the next line is the answer
        if self._port is None:
            raise self.error("is not open", action)
        return self._port.command(line, action=action, expect_reply=expect_reply)


class SerialSim(SimSide):
    """A pseudo-terminal: read command lines, answer as the profile says."""

    def __init__(self, sim: Any, settings: SerialSettings):
        self.sim = sim
        self.answerer = TextAnswerer(sim, settings, self._write)
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self._stop_r, self._stop_w = os.pipe()

    def start(self) -> None:
        import tty  # POSIX only, like the pseudo-terminal itself

        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = self.sim.port = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._run, name=f"sim-{self.sim.profile.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        os.write(self._stop_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self._master, self._slave, self._stop_r, self._stop_w):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None

    def describe(self) -> str:
        return f"serial pseudo-terminal {self.port}"

    def _write(self, data: bytes) -> None:
        if self._master is None:
            return
        try:
            os.write(self._master, data)
        except OSError:
            pass

    def _run(self) -> None:
        assert self._master is not None
        buffer = b""
        last_s = time.monotonic()
        while True:
            ready, _, _ = select.select([self._master, self._stop_r], [], [], 0.05)
            if self._stop_r in ready:
                return
            if self._master in ready:
                try:
                    chunk = os.read(self._master, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                last_s = time.monotonic()
            buffer = self.answerer.feed(buffer, idle=time.monotonic() - last_s > 0.1)


TRANSPORT = SerialTransport()
