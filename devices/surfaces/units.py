"""One surface unit (an MCU, an MCU XT, a HUI): 8 strips on one MIDI in/out pair.

A unit keeps what the surface *should* show (``desired``) and what was last sent
(``sent``). Setters only change ``desired`` and mark the key dirty; a writer thread
sends the difference in frames (at most one message per key per frame) and paces the
bytes with a token bucket at the surface's wire speed. That is what keeps a fader storm
from flooding the port: a thousand updates of one fader within a frame become one
message, and the last value always wins.

A touched fader is never driven: its key stays dirty-but-held until the hand lets go,
then the final desired position is sent.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

import mido

from devices.errors import DeviceError
from devices.surfaces import hui, mcu
from devices.surfaces.codec import STRIPS_PER_UNIT, SurfaceInput, display_text
from devices.surfaces.ports import SEND_ERRORS

DIN_MIDI_BYTES_PER_S = 3125  # 31250 baud, 10 bits a byte: what an MCU/HUI's MIDI input takes
LED_STATES = ("off", "on", "blink")

Key = tuple[Any, ...]
"""A display key: ``("fader", strip)``, ``("led", name, strip)``, ``("lcd", row)`` ..."""


class TokenBucket:
    """Byte pacing: ``rate`` bytes/s sustained, ``burst`` bytes at once; ``rate`` None or 0
    = unpaced (a USB-MIDI surface that takes bytes as fast as they come)."""

    def __init__(self, rate: float | None, burst: float):
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._stamp = time.monotonic()

    def delay_for(self, nbytes: int) -> float:
        """Take ``nbytes``; return how long to wait before sending them."""
        if not self.rate:
            return 0.0
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= nbytes
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


class SurfaceUnit:
    """Base of the protocol units. Subclasses define the codec, the keys and ``_encode``."""

    kind = "surface"
    strips = STRIPS_PER_UNIT

    def __init__(self, name: str, out_port: Any, *, max_bytes_per_s: float | None = DIN_MIDI_BYTES_PER_S,
                 burst_bytes: int = 64, frame_s: float = 0.005):
        """``max_bytes_per_s``: the surface's input speed (DIN MIDI by default; None for
        unpaced USB); ``burst_bytes``: what may go out at once (a MIDI interface's FIFO);
        ``frame_s``: at most one message per control per frame (coalescing)."""
        self.name = name
        self.out_port = out_port
        self.in_port: Any = None
        self.frame_s = frame_s
        self._bucket = TokenBucket(max_bytes_per_s, burst_bytes)
        self._cond = threading.Condition()
        self._desired: dict[Key, object] = {}
        self._sent: dict[Key, object] = {}
        self._dirty: OrderedDict[Key, None] = OrderedDict()
        self.touched = [False] * self.strips
        self._sending = False
        self._closing = False
        self.messages_sent = 0
        self.bytes_sent = 0
        self.send_error: str | None = None
        self._writer = threading.Thread(target=self._write_loop, name=f"surface-out {name}", daemon=True)
        self._writer.start()

    # --- state -----------------------------------------------------------------------
    def _set(self, key: Key, value: object) -> None:
        with self._cond:
            self._desired[key] = value
            if self._sent.get(key, _UNSENT) != value:
                self._dirty[key] = None
                self._cond.notify_all()
            else:
                self._dirty.pop(key, None)

    def set_fader(self, strip: int, value14: int) -> None:
        self._set(("fader", strip), value14)

    def fader_moved_by_hand(self, strip: int, value14: int) -> None:
        """The fader is physically at ``value14``: nothing to send to get it there."""
        with self._cond:
            self._desired[("fader", strip)] = value14
            self._sent[("fader", strip)] = value14
            self._dirty.pop(("fader", strip), None)

    def set_touched(self, strip: int, touched: bool) -> None:
        with self._cond:
            self.touched[strip] = touched
            key = ("fader", strip)
            if not touched and self._sent.get(key, _UNSENT) != self._desired.get(key, _UNSENT) \
                    and key in self._desired:
                self._dirty[key] = None
                self._cond.notify_all()

    def set_ring(self, strip: int, ring_byte: int) -> None:
        self._set(("ring", strip), ring_byte)

    def set_led(self, name: str, strip: int | None, state: str) -> None:
        if state not in LED_STATES:
            raise ValueError(f"LED state {state!r}, expected one of {LED_STATES}")
        self._set(("led", name, strip), state)

    def set_strip_text(self, strip: int, name: str, value: str) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        """Blank the displays, park the faders, rings and LEDs off (leaving a session)."""
        with self._cond:
            for strip in range(self.strips):
                self.set_strip_text(strip, "", "")
                self.set_fader(strip, 0)
                self.set_ring(strip, 0)
            for key in [k for k in self._desired if k[0] == "led"]:
                self._set(key, "off")

    def redraw(self) -> None:
        """Forget what the surface shows (it rebooted, or came back online): resend all."""
        with self._cond:
            self._sent.clear()
            for key in self._desired:
                self._dirty[key] = None
            self._cond.notify_all()

    def send_now(self, *messages: mido.Message) -> None:
        """Send outside the frame queue (heartbeat pings, queries): they must not wait."""
        try:
            for msg in messages:
                self.out_port.send(msg)
        except SEND_ERRORS as exc:  # a vanished port: report it, do not kill the caller
            self.send_error = f"{type(exc).__name__}: {exc}"

    def wait_idle(self, timeout_s: float = 2.0) -> bool:
        """Block until everything dirty has been sent (held touched faders excepted)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._sending or self._sendable_dirty():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # --- the writer ------------------------------------------------------------------
    def _sendable_dirty(self) -> list[Key]:
        return [k for k in self._dirty if not (k[0] == "fader" and self.touched[k[1]])]

    def _write_loop(self) -> None:
        next_frame = 0.0
        while True:
            with self._cond:
                while not self._closing and not self._sendable_dirty():
                    self._cond.notify_all()
                    self._cond.wait()
                if self._closing and not self._sendable_dirty():
                    return
                self._sending = True
            pause = next_frame - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            with self._cond:
                batch: list[tuple[Key, list[mido.Message]]] = []
                for key in self._sendable_dirty():
                    del self._dirty[key]
                    value = self._desired.get(key, _UNSENT)
                    batch.append((key, self._encode(key, value, self._sent.get(key, _UNSENT))))
                    self._sent[key] = value
            next_frame = time.monotonic() + self.frame_s
            self._send_batch(batch)
            with self._cond:
                self._sending = False
                self._cond.notify_all()

    def _send_batch(self, batch: list[tuple[Key, list[mido.Message]]]) -> None:
        """Send at the paced rate. A fader touched while its move waited for the wire is
        skipped (and resent on release): pacing must not turn into fighting a hand."""
        for key, messages in batch:
            if key[0] == "fader" and self.touched[key[1]]:
                with self._cond:
                    self._sent.pop(key, None)
                continue
            for msg in messages:
                size = len(msg.bytes())
                wait = self._bucket.delay_for(size)
                if wait > 0:
                    time.sleep(wait)
                try:
                    self.out_port.send(msg)
                except SEND_ERRORS as exc:  # a vanished port: record it, keep the thread alive
                    self.send_error = f"{type(exc).__name__}: {exc}"
                    return
                self.messages_sent += 1
                self.bytes_sent += size

    def _encode(self, key: Key, value: Any, sent: object) -> list[mido.Message]:
        raise NotImplementedError

    def decode(self, msg: mido.Message) -> list[SurfaceInput]:
        """What the surface said, as events."""
        raise NotImplementedError

    def alive_query(self) -> mido.Message:
        """The message the surface answers to show it is there."""
        raise NotImplementedError

    def close(self, timeout_s: float = 1.0) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._writer.join(timeout_s)
        self.out_port.close()  # the input belongs to the surface's poller, which closes it


class _Unsent:
    def __repr__(self) -> str:
        return "<unsent>"


_UNSENT = _Unsent()


class McuUnit(SurfaceUnit):
    """An MCU (``device_id`` 0x14) or MCU XT (0x15)."""

    kind = "mcu"

    def __init__(self, name: str, out_port: Any, *, device_id: int = mcu.MCU_ID, **kwargs: Any):
        self.codec = mcu.McuCodec(device_id)
        self._rows = [[" "] * mcu.LCD_COLUMNS for _ in range(mcu.LCD_ROWS)]
        super().__init__(name, out_port, **kwargs)

    def decode(self, msg: mido.Message) -> list[SurfaceInput]:
        return self.codec.decode(msg)

    def alive_query(self) -> mido.Message:
        return self.codec.device_query()

    def set_strip_text(self, strip: int, name: str, value: str) -> None:
        """Top row ``name``, bottom row ``value``: 6 characters and a gap per strip."""
        with self._cond:
            for row, text in enumerate((name, value)):
                cell = display_text(text, mcu.LCD_CELL - 1) + " "
                start = strip * mcu.LCD_CELL
                self._rows[row][start:start + mcu.LCD_CELL] = cell
                self._set(("lcd", row), "".join(self._rows[row]))

    def _encode(self, key: Key, value: Any, sent: object) -> list[mido.Message]:
        kind = key[0]
        if value is _UNSENT:
            return []
        if kind == "fader":
            return [self.codec.fader(key[1], value)]
        if kind == "ring":
            return [self.codec.ring(key[1], value)]
        if kind == "led":
            state = {"on": mcu.LED_ON, "blink": mcu.LED_BLINK, "off": mcu.LED_OFF}[value]
            return [self.codec.led(key[1], state, key[2])]
        if kind == "lcd":
            row = key[1]
            return [self.codec.lcd(row * mcu.LCD_COLUMNS + start, text)
                    for start, text in _changed_spans(value, sent if isinstance(sent, str) else None)]
        raise DeviceError(f"unknown display key {key!r}", device=self.name)


def _changed_spans(new: str, old: str | None, merge_gap: int = 7) -> list[tuple[int, str]]:
    """The runs of ``new`` that differ from ``old``; runs closer than ``merge_gap``
    characters merge (a SysEx header costs 7 bytes, resending a few equal ones less)."""
    if old is None or len(old) != len(new):
        return [(0, new)]
    spans: list[list[int]] = []
    for i, (a, b) in enumerate(zip(new, old, strict=False)):
        if a != b:
            if spans and i - spans[-1][1] <= merge_gap:
                spans[-1][1] = i + 1
            else:
                spans.append([i, i + 1])
    return [(start, new[start:end]) for start, end in spans]


class HuiUnit(SurfaceUnit):
    """A HUI: 4-character strip displays, a 2 x 40 main display in 10-character slices."""

    kind = "hui"
    NAME_CHARS = 5  # per strip on the 40-character main display

    BLINK_S = 0.4  # HUI LEDs cannot blink by themselves: the host toggles them

    def __init__(self, name: str, out_port: Any, **kwargs: Any):
        self.codec = hui.HuiCodec()
        self._large = [[" "] * hui.LARGE_COLUMNS for _ in range(2)]
        self._blink_on = True
        super().__init__(name, out_port, **kwargs)
        self._blinker = threading.Thread(target=self._blink_loop, name=f"surface-blink {name}", daemon=True)
        self._blinker.start()

    def decode(self, msg: mido.Message) -> list[SurfaceInput]:
        return self.codec.decode(msg)

    def alive_query(self) -> mido.Message:
        return self.codec.ping()

    def _blink_loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closing, timeout=self.BLINK_S)
                if self._closing:
                    return
                self._blink_on = not self._blink_on
                for key, value in self._desired.items():
                    if value == "blink":
                        self._dirty[key] = None
                self._cond.notify_all()

    def set_strip_text(self, strip: int, name: str, value: str) -> None:
        with self._cond:
            self._set(("small", strip), display_text(name, hui.SMALL_DISPLAY_CHARS))
            for row, text in enumerate((name, value)):
                start = strip * self.NAME_CHARS
                self._large[row][start:start + self.NAME_CHARS] = display_text(text, self.NAME_CHARS - 1) + " "
                line = "".join(self._large[row])
                for part in range(4):
                    piece = line[part * hui.LARGE_SLICE_CHARS:(part + 1) * hui.LARGE_SLICE_CHARS]
                    self._set(("large", row * 4 + part), piece)

    def _encode(self, key: Key, value: Any, _sent: object) -> list[mido.Message]:
        kind = key[0]
        if value is _UNSENT:
            return []
        if kind == "fader":
            return self.codec.fader(key[1], value)
        if kind == "ring":
            return [self.codec.ring(key[1], value)]
        if kind == "led":
            return self.codec.led(key[1], value == "on" or (value == "blink" and self._blink_on), key[2])
        if kind == "small":
            return [self.codec.small_text(key[1], value)]
        if kind == "large":
            return [self.codec.large_text(key[1], value)]
        raise DeviceError(f"unknown display key {key!r}", device=self.name)
