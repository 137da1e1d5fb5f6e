"""Recall by dump: capture an edit buffer, keep it beside the sheet, replay it, verify it.

The SPX2000's dump follows its manual (p. 91): F0 43 0n 7E ch cl "LM  8D11E" mh ml tt bb
data ee F7, "data count = ch * 128 + cl", "ee=(Invert('L'+...de)+1)&0x7F", 256 (02 00) =
EDIT BUFFER. The test builds those bytes by the manual's formulas, not by hybrid's code.
"""

from __future__ import annotations

import threading
import time

import pytest

from devices.device import Device
from devices.dump import Dump, DumpError, capture, replay
from devices.profile import builtin_profiles
from devices.simulator import Simulator
from devices.unit_sims import DECODERS, front_panel_dump
from recall.dumps import dump_path, load_dump, recall_from_song, capture_to_song
from recall.errors import RecallError

from tests.devices.helpers import wait_for as _wait_for


def wait_for(condition, timeout_s: float = 5.0) -> bool:
    """Up to 5 s: the machine is shared and JACK delivery slows under load."""
    return _wait_for(condition, timeout_s)

pytestmark = pytest.mark.usefixtures("jack_server")
NAME = [0x4C, 0x4D, 0x20, 0x20, 0x38, 0x44, 0x31, 0x31, 0x45]


def spx_edit_buffer(channel: int, data: list[int]) -> list[int]:
    """Sysex data bytes (no F0/F7) of an edit-buffer bulk dump, by the manual's formulas."""
    body = NAME + [0x02, 0x00, 0x00, 0x00] + data          # 'L' ... last data byte
    count = len(body)
    ee = ((~sum(body)) + 1) & 0x7F                           # Invert('L'+...de)+1, & 0x7F
    return [0x43, channel - 1, 0x7E, count >> 7, count & 0x7F, *body, ee]


@pytest.fixture(scope="module")
def lib():
    return builtin_profiles()


def test_spx2000_edit_buffer_round_trip_through_the_song_folder(lib, tmp_path):
    profile = lib["yamaha-spx2000"]
    first = spx_edit_buffer(2, list(range(40)))
    second = spx_edit_buffer(2, [7] * 40)
    with Simulator(profile, "spx-dump-good", channel=2, decoder=DECODERS[profile.id]) as sim, \
            Device(profile, sim.port, channel=2, name="SPX") as dev:
        sim.memory["edit_buffer"] = first
        path = capture_to_song(dev, tmp_path, "SPX #1")
        assert path == dump_path(tmp_path, "SPX #1") and path.read_bytes() == bytes([0xF0, *first, 0xF7])
        listing = path.with_name(path.name + ".txt").read_text()
        assert "F0 43 01 7E" in listing
        sim.memory["edit_buffer"] = second                   # someone turned knobs
        assert recall_from_song(dev, tmp_path, "SPX #1") is True
        assert sim.memory["edit_buffer"] == first
        assert sim.dump_requests == 2 and sim.rejected == []


def test_a_dump_with_a_bad_checksum_or_size_is_refused_and_never_sent(lib, tmp_path):
    profile = lib["yamaha-spx2000"]
    good = spx_edit_buffer(1, list(range(30)))
    bad_sum = good[:-1] + [(good[-1] + 1) & 0x7F]
    short = good[:4] + good[6:]
    with Simulator(profile, "spx-dump-bad", decoder=DECODERS[profile.id]) as sim, \
            Device(profile, sim.port, name="SPX") as dev:
        sim.memory["edit_buffer"] = bad_sum
        with pytest.raises(DumpError, match="checksum"):
            capture(dev)
        for broken, reason in ((bad_sum, "checksum"), (short, "byte count|bytes")):
            before = len(sim.received)
            with pytest.raises(DumpError, match=reason):
                replay(dev, Dump((bytes([0xF0, *broken, 0xF7]),)))
            time.sleep(0.05)
            assert len(sim.received) == before              # nothing went out
        path = dump_path(tmp_path, "SPX")
        path.parent.mkdir(parents=True)
        path.write_bytes(bytes([0xF0, *good]))               # truncated file: no F7
        with pytest.raises(RecallError, match="no F7"):
            load_dump(tmp_path, "SPX")


def test_m7_dump_is_caught_in_learn_mode_and_replayed(lib, tmp_path):
    # Bricasti M7 V2 addendum, p. 4: "Press and momentarily hold EDIT and the system data will be sent to
    # your receiving device"; "When the M7 receives the specific data packet, regardless of the state the
    # M7 is in, it will set itself to that saved state."
    profile = lib["bricasti-m7"]
    packet = [0x00, 0x21, 0x3B, 0x01] + [n % 128 for n in range(200)]   # opaque to hybrid
    with Simulator(profile, "dump-m7", decoder=DECODERS[profile.id]) as sim, \
            Device(profile, sim.port, name="M7") as dev:
        sim.memory["edit_buffer"] = packet
        stop = dev.listen(lambda *_: None)        # the MIDI input is up before the person presses EDIT
        timer = threading.Timer(1.0, front_panel_dump, args=(sim,))
        timer.start()
        try:
            capture_to_song(dev, tmp_path, "M7", learn=True, timeout_s=5)
        finally:
            timer.cancel()
            stop()
        sim.memory["edit_buffer"] = [0x00]
        assert recall_from_song(dev, tmp_path, "M7") is False     # the M7 cannot be asked back
        assert wait_for(lambda: sim.memory["edit_buffer"] == packet)
