"""Pacing at the wire's speed (real time) and the traffic monitor."""

import time

from devices.monitor import IN, OUT, TrafficMonitor
from devices.wire import WireClock


def test_din_pacing_takes_the_wire_time_and_not_much_more():
    clock = WireClock(3125)
    start = time.monotonic()
    for _ in range(40):                 # 120 bytes = 38.4 ms on a DIN cable
        clock.wait_turn(3)
    clock.drain()
    elapsed = time.monotonic() - start
    assert 0.0384 - 1e-4 <= elapsed < 0.0384 + 0.05      # (the bench measures the overhead exactly)


def test_first_byte_times_follow_the_wire_and_gaps_are_silence():
    clock = WireClock(3125, gap_after_sysex_s=0.005, lead_s=0.002)
    starts = [clock.wait_turn(3), clock.wait_turn(12, is_sysex=True), clock.wait_turn(3)]
    assert abs((starts[1] - starts[0]) - 3 / 3125) < 1e-9          # back to back
    assert starts[2] - starts[1] >= 12 / 3125 + 0.005 - 1e-9        # sysex, then 5 ms of silence
    handed = time.monotonic()
    assert handed >= starts[2] - 1e-4                               # a gap is waited for in full


def test_monitor_ring_subscribers_and_formatting():
    mon = TrafficMonitor(capacity=3)
    seen = []
    stop = mon.subscribe(seen.append)
    mon.record(OUT, "p", b"\xb0\x14\x40", "set threshold")
    mon.record(IN, "p", b"OK\r\n")
    stop()
    for i in range(3):
        mon.record(OUT, "p", bytes([i]))
    assert len(seen) == 2 and len(mon) == 3          # ring keeps the last 3
    assert mon.bytes_out == 6 and mon.bytes_in == 4
    assert seen[0].format(seen[0].time_s).endswith("-> p: B0 14 40  (set threshold)")
    assert seen[1].text() == "OK\\r\\n"
    assert [e.data for e in mon.entries(direction=OUT)] == [b"\x00", b"\x01", b"\x02"]


def test_gc_pauses_nest_across_threads_and_restore_the_collector():
    """A recall's pause inside a print's (two threads): the collector stays off until the last
    ends, then comes back as it was; a collector that was off stays off."""
    import gc
    import threading

    from devices.gc_pause import gc_paused

    assert gc.isenabled()
    inner_done = threading.Event()
    with gc_paused():
        assert not gc.isenabled()

        def recall():
            with gc_paused():
                assert not gc.isenabled()
            inner_done.set()

        threading.Thread(target=recall).start()
        assert inner_done.wait(5)
        assert not gc.isenabled()        # the print's pause still holds
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
