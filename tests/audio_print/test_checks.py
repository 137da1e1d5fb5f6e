"""Dropout detection on a return: holes while the send plays, not silence the gear meant."""

import numpy as np
import pytest

from hybrid.live.audio.checks import DropoutDetector


def _run(send, ret, block):
    det = DropoutDetector(0, 48000)
    for i in range(0, len(send), block):
        det.feed(send[i:i + block], ret[i:i + block])
    return det.finish()


@pytest.mark.parametrize("block", [37, 1000, 20000])
def test_hole_found_whatever_the_blocks(block):
    rng = np.random.default_rng(0)
    send = rng.standard_normal(20000) * 0.1
    ret = send.copy()
    ret[3000:3480] = 0.0          # 10 ms hole while the send plays
    ret[5000:5020] = 0.0          # 0.4 ms: shorter than a millisecond, ignored
    send[9000:12000] = 0.0        # digital silence in the stem ...
    ret[9030:12000] = 0.0         # ... passes through: not a dropout
    ret[:200] = 0.0               # a pre-delay from silence at the start: not a dropout
    found = _run(send, ret, block)
    assert [(d.start_frame, d.frames) for d in found] == [(3000, 480)]
    assert "10.0 ms" in found[0].describe(48000)


def test_hole_running_to_the_end_is_found():
    send = np.ones(5000) * 0.1
    ret = send.copy()
    ret[4000:] = 0.0
    assert [(d.start_frame, d.frames) for d in _run(send, ret, 512)] == [(4000, 1000)]
