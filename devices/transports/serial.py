"""Serial: text commands over a tty (a device path) or a pyserial URL (``socket://``, ``spy://``...).

One command at a time (:class:`devices.serial_port.SerialPort`); the simulator sits on a
pseudo-terminal whose path is its port.

``[serial] banner`` is the greeting a unit sends on its own when it powers up (Extron's
copyright line); it may hold ``{value}``/``{index}`` and one ``{label}`` for what varies
(year, firmware, part number). ``hybrid devices scan --port /dev/ttyUSB0`` listens for it
(never longer than the scan's timeout) and lists the profiles whose banner fits.
"""

from __future__ import annotations

import os
import select
import threading
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from devices.errors import DeviceError
from devices.profile import SerialSettings, _load_serial
from devices.serial_port import SerialPort
from devices.text_codec import TextTemplate, decode_escapes
from devices.transports.base import DeviceContext, Identity, Link, SimSide
from devices.transports.text import TextAnswerer, TextLink, TextTransport, banner_fits

BANNER_FIELDS = ("value", "index", "label")


@dataclass(frozen=True)
class SerialUnitSettings(SerialSettings):
    """``[serial]`` with the greeting the unit sends on its own at power-up."""

    banner: TextTemplate | None = None


class SerialTransport(TextTransport):
    name = "serial"
    encoding_key = "serial"
    schemes = ("socket", "spy", "loop", "rfc2217", "alt", "hwgrep", "cp2110")
    """pyserial's own URL handlers."""
    assigns_port = True

    def load_settings(self, reader: Any, _base: Any) -> SerialSettings:
        if reader is None or "banner" not in reader.table:
            return _load_serial(reader)
        text = reader.get("banner", str, what="the greeting the unit sends at power-up")
        banner = TextTemplate.parse(decode_escapes(text), file=reader.file, key=reader.key("banner"),
                                    allowed=BANNER_FIELDS)
        rest = {k: v for k, v in reader.table.items() if k != "banner"}
        base = _load_serial(type(reader)(reader.file, rest, reader.path))
        return SerialUnitSettings(**{f.name: getattr(base, f.name) for f in fields(SerialSettings)}, banner=banner)

    def identify(self, port: str, profiles: list[Any], timeout_s: float) -> Identity | None:
        """Listen on ``port`` for a greeting (at the line settings of the first profile that has a
        serial banner) for at most ``timeout_s``; the profiles whose banner fits. None when the
        line stays silent or cannot be opened."""
        greeters = [p for p in profiles if getattr(p.settings.get(self.name), "banner", None) is not None]
        if not greeters:
            return None
        settings = greeters[0].settings[self.name]
        line = SerialPort(port, settings, device="scan")
        try:
            line.open()
        except DeviceError:
            return None
        try:
            heard = line.listen(timeout_s, lambda text: bool(banner_fits(text, greeters, self.name)))
        except DeviceError:
            return None
        finally:
            line.close()
        if not heard:
            return None
        return Identity(port, self.name, heard, banner_fits(heard, greeters, self.name))

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
        banner = getattr(self.answerer.settings, "banner", None)
        if banner is not None and not banner.fields:       # powered up: it greets once
            self._write((banner.text + self.answerer.settings.reply_terminator).encode("latin-1"))
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
