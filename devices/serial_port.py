"""Serial ports through pyserial, by device path or pyserial URL, one command at a time.

Each command is written, then (when the protocol says so) its reply is awaited up to the
profile's timeout before the next command goes: gear with a small input buffer never
sees two commands at once. Replies are lines; what a line means (acknowledge, error,
value) is the caller's business, with the templates of the profile.
"""

from __future__ import annotations

import errno
import os
import select
import time
from collections.abc import Callable

import serial

_LINE_ERRORS: tuple[type[Exception], ...]
try:
    import termios
    _LINE_ERRORS = (serial.SerialException, OSError, termios.error)
except ImportError:  # Windows
    _LINE_ERRORS = (serial.SerialException, OSError)
_OPEN_ERRORS: tuple[type[Exception], ...] = (*_LINE_ERRORS, ValueError)

from devices.errors import DeviceError, DeviceTimeoutError, PortNotFoundError
from devices.monitor import IN, OUT, TrafficMonitor
from devices.profile import SerialSettings


def list_serial_ports() -> list[str]:
    """Serial devices present (what a user would pass as ``--port``)."""
    from serial.tools import list_ports

    return sorted(p.device for p in list_ports.comports())


class SerialPort:
    """A line-oriented serial connection to one piece of gear."""

    def __init__(self, url: str, settings: SerialSettings, *, device: str, monitor: TrafficMonitor | None = None):
        self.url = url
        self.settings = settings
        self.device = device
        self.monitor = monitor
        self._serial: serial.SerialBase | None = None
        self._last_end_s = float("-inf")

    def open(self) -> SerialPort:
        try:
            try:
                self._serial = self._open(self.settings.parity)
            except _LINE_ERRORS as exc:
                # A pseudo-terminal has no parity bit, and some kernels refuse to set one
                # (EINVAL) once it has been set: parity only matters on a real UART.
                if self.settings.parity == "N" or not _is_pty(self.url) or _errno(exc) != errno.EINVAL:
                    raise
                self._serial = self._open("N")
        except FileNotFoundError:
            raise PortNotFoundError("no such serial device", device=self.device, port=self.url,
                                    action="opening") from None
        except _OPEN_ERRORS as exc:
            if _errno(exc) in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
                raise PortNotFoundError("no such serial device (unplugged or mistyped?)", device=self.device,
                                        port=self.url, action="opening") from None
            raise DeviceError(f"cannot open serial port: {exc}", device=self.device, port=self.url,
                              action="opening") from None
        return self

    def _open(self, parity: str) -> serial.SerialBase:
        s = self.settings
        return serial.serial_for_url(
            self.url, baudrate=s.baudrate, bytesize=s.bytesize, parity=parity,
            stopbits=s.stopbits, timeout=s.timeout_ms / 1000, write_timeout=s.timeout_ms / 1000,
            xonxoff=False, rtscts=False,   # XON/XOFF would eat 0x11/0x13 from binary replies
        )

    def close(self) -> None:
        port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def wire_time_s(self, nbytes: int) -> float:
        return float(nbytes * self.settings.bits_per_char / self.settings.baudrate)

    def command(self, line: str, *, action: str, expect_reply: bool | None = None) -> str | None:
        """Send ``line`` (plus the terminator); return the reply line (without its terminator).

        Returns None when the protocol does not wait for replies.
        """
        if self._serial is None:
            raise DeviceError("port is not open", device=self.device, port=self.url, action=action)
        s = self.settings
        wait = s.wait_reply if expect_reply is None else expect_reply
        gap = s.min_gap_ms / 1000 - (time.monotonic() - self._last_end_s)
        if gap > 0:
            time.sleep(gap)
        data = (line + s.terminator).encode("latin-1")
        try:
            self._serial.reset_input_buffer()   # a late answer to an earlier command is not ours
            self._serial.write(data)
            self._serial.flush()
        except _LINE_ERRORS as exc:
            raise DeviceError(f"serial port failed: {_reason(exc)}", device=self.device, port=self.url,
                              action=action) from None
        if self.monitor is not None:
            self.monitor.record(OUT, self.url, data, action)
        if not wait:
            self._last_end_s = time.monotonic()
            return None
        reply = self._read_line(action)
        self._last_end_s = time.monotonic()
        return reply

    def listen(self, duration_s: float, enough: Callable[[str], bool]) -> str:
        """What the unit says on its own (a greeting) within ``duration_s``, as text; returns early
        once ``enough(text)`` says it has heard what it listens for. Nothing is sent."""
        if self._serial is None:
            raise DeviceError("port is not open", device=self.device, port=self.url, action="listening")
        heard = b""
        deadline = time.monotonic() + duration_s
        try:
            self._serial.timeout = 0.02
            while time.monotonic() < deadline:
                chunk = self._serial.read(4096)
                if chunk:
                    heard += chunk
                    if enough(heard.decode("latin-1")):
                        break
        except _LINE_ERRORS as exc:
            raise DeviceError(f"serial port failed: {_reason(exc)}", device=self.device, port=self.url,
                              action="listening") from None
        finally:
            if self._serial is not None:
                self._serial.timeout = self.settings.timeout_ms / 1000
        if heard and self.monitor is not None:
            self.monitor.record(IN, self.url, heard, "listening")
        return heard.decode("latin-1")

    def _read_line(self, action: str) -> str:
        s = self.settings
        end = s.reply_terminator.encode("latin-1")
        if self._serial is None:
            raise DeviceError("port is not open", device=self.device, port=self.url, action=action)
        try:
            buffer = self._read_reply(end, s.timeout_ms / 1000)
        except _LINE_ERRORS as exc:
            raise DeviceError(f"serial port failed: {_reason(exc)}", device=self.device, port=self.url,
                              action=action) from None
        if buffer and self.monitor is not None:
            self.monitor.record(IN, self.url, buffer, action)
        if not buffer.endswith(end):
            if buffer:
                shown = ascii(buffer.decode("latin-1"))
                raise DeviceError(f"garbled reply {shown} (no line end within {s.timeout_ms:.0f} ms)",
                                  device=self.device, port=self.url, action=action)
            raise DeviceTimeoutError(f"no reply within {s.timeout_ms:.0f} ms", device=self.device, port=self.url,
                                     action=action)
        return buffer[: -len(end)].decode("latin-1")


    def _read_reply(self, end: bytes, timeout_s: float) -> bytes:
        """Bytes up to and including ``end`` (or what came before the deadline). A device path is
        read in chunks as they arrive (pyserial's read_until takes a byte per call, each a select
        and a read: slow when many ports are busy at once); a pyserial URL keeps read_until. Bytes
        after ``end`` are dropped: one command is answered at a time, and the next command's
        input flush would drop them too. Nothing waits past ``timeout_s``."""
        port = self._serial
        assert port is not None
        try:
            fd = port.fileno()
        except (AttributeError, NotImplementedError, serial.SerialException, OSError, ValueError):
            fd = None
        if not isinstance(fd, int):
            # read_until gives up after the port's timeout over the whole call: nothing hangs.
            return bytes(port.read_until(end, size=4096))
        buffer = b""
        deadline = time.monotonic() + timeout_s
        while end not in buffer and len(buffer) < 4096:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                raise serial.SerialException("device reports readiness to read but returned no data")
            buffer += chunk
        if end in buffer:
            buffer = buffer[: buffer.index(end) + len(end)]
        return buffer


def _errno(exc: BaseException) -> int | None:
    """The OS error number of ``exc`` (pyserial keeps it as ``errno`` or as its first argument)."""
    number = getattr(exc, "errno", None)
    if number is None and exc.args and isinstance(exc.args[0], int):
        number = exc.args[0]
    return number if isinstance(number, int) else None


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if _errno(exc) == errno.EIO:
        return "the device went away (unplugged or switched off?)"
    # pyserial reports a vanished device with this sentence and no error number.
    if "readiness to read but returned no data" in text:
        return "the device went away (unplugged or switched off?)"
    return text


def _is_pty(url: str) -> bool:
    return "/dev/pts/" in url or "/dev/ttyp" in url     # a path, or inside a URL like spy:///dev/pts/3
