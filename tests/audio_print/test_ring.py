"""The callback's ring: wrap-around, never more than it holds, order kept across threads."""

import threading

import numpy as np
import pytest

from hybrid.live.audio.ring import FrameRing


def test_wraps_and_keeps_order():
    ring = FrameRing(10, 2)
    data = np.arange(40, dtype=np.float32).reshape(20, 2)
    assert ring.write(data[:7]) == 7
    out = np.zeros((5, 2), dtype=np.float32)
    assert ring.read_into(out) == 5
    assert np.array_equal(out, data[:5])
    assert ring.write(data[7:20]) == 8          # only 8 fit: 2 left + 8 free
    assert ring.space() == 0
    big = np.full((12, 2), -1.0, dtype=np.float32)
    assert ring.read_into(big) == 10
    assert np.array_equal(big[:10], data[5:15])
    assert np.all(big[10:] == -1.0)            # untouched past what was there
    assert ring.available() == 0 and ring.read_into(big) == 0


def test_zeros_and_bad_sizes():
    ring = FrameRing(4, 1)
    ring.write(np.ones((3, 1), dtype=np.float32))
    ring.read_into(np.zeros((3, 1), dtype=np.float32))
    assert ring.write_zeros(10) == 4
    out = np.ones((4, 1), dtype=np.float32)
    ring.read_into(out)
    assert not out.any()
    with pytest.raises(ValueError):
        FrameRing(0, 2)


def test_producer_and_consumer_threads_see_every_frame_once_in_order():
    ring = FrameRing(1000, 1)
    total = 60_000
    got = np.zeros(total, dtype=np.float32)

    def produce():
        pos = 0
        while pos < total:
            n = min(333, total - pos)
            block = np.arange(pos, pos + n, dtype=np.float32)[:, None]
            pos += ring.write(block)

    def consume():
        pos = 0
        out = np.zeros((257, 1), dtype=np.float32)
        while pos < total:
            n = ring.read_into(out)
            got[pos:pos + n] = out[:n, 0]
            pos += n

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert np.array_equal(got, np.arange(total, dtype=np.float32))
