"""Encoding and parsing 10,000 messages: messages per second, against mido's own floor.

Encode: engineer's value -> checked -> wire number -> mido messages (Device.plan's path).
Parse: raw bytes -> mido.Message -> MidiDecoder -> parameter and value (the simulator's
and the learn path). The reference in the same run is mido alone building/parsing the
same messages (``Message.from_bytes``), the floor any codec on mido pays.

    python bench/devices_codec_rate.py [--count 10000]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mido  # noqa: E402

from devices.midi_codec import MidiDecoder  # noqa: E402
from devices.profile import builtin_profiles  # noqa: E402


def workload(count: int):
    """``count`` (profile, parameter, value) triples cycling over every MIDI parameter."""
    items = []
    for profile in builtin_profiles().values():
        if profile.midi is None:
            continue
        for _name, p in profile.parameters.items():
            if p.kind == "continuous":
                values = [p.minimum + (p.maximum - p.minimum) * f for f in (0.1, 0.5, 0.9)]
            elif p.kind == "stepped":
                values = list(p.labels)
            else:
                values = [False, True]
            items += [(profile, p, v) for v in values]
    return list(itertools.islice(itertools.cycle(items), count))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    args = parser.parse_args()
    work = workload(args.count)

    start = time.perf_counter()
    encoded = []
    for profile, p, value in work:
        checked = p.check(p.parse(value))
        enc = p.encoding
        wire = p.to_wire(checked, enc.wire_max, list(enc.wire) if enc.wire else None)
        encoded.append((profile, enc.encode(wire, profile.midi.channel, device_id=profile.midi.device_id)))
    encode_s = time.perf_counter() - start
    n_msgs = sum(len(m) for _, m in encoded)
    raw = [(profile, [bytes(msg.bytes()) for msg in msgs]) for profile, msgs in encoded]

    decoders = {pid: MidiDecoder({n: q.encoding for n, q in prof.parameters.items()}, channel=prof.midi.channel,
                                 device_id=prof.midi.device_id)
                for pid, prof in builtin_profiles().items() if prof.midi is not None}
    start = time.perf_counter()
    updates = 0
    for profile, datas in raw:
        decoder = decoders[profile.id]
        for data in datas:
            for name, wire in decoder.feed(mido.Message.from_bytes(data)):
                param = profile.parameters[name]
                enc = param.encoding
                param.from_wire(wire, enc.wire_max, list(enc.wire) if enc.wire else None)
                updates += 1
    parse_s = time.perf_counter() - start

    start = time.perf_counter()
    for _, datas in raw:
        for data in datas:
            mido.Message.from_bytes(data)
    mido_parse_s = time.perf_counter() - start
    start = time.perf_counter()
    for _, datas in raw:
        for data in datas:
            mido.Message.from_bytes(data).bytes()
    mido_round_s = time.perf_counter() - start

    assert updates >= len(work), (updates, len(work))   # every parameter value came back out
    print(f"{len(work)} parameter values = {n_msgs} MIDI messages (CC, 14-bit CC, NRPN, program+bank, SysEx)")
    print(f"encode: {len(work) / encode_s:>10,.0f} values/s   {n_msgs / encode_s:>10,.0f} messages/s")
    print(f"parse:  {len(work) / parse_s:>10,.0f} values/s   {n_msgs / parse_s:>10,.0f} messages/s")
    print(f"reference, mido alone: parse {n_msgs / mido_parse_s:,.0f} messages/s, "
          f"parse+bytes {n_msgs / mido_round_s:,.0f} messages/s")
    print(f"ratio to mido's parse: encode {mido_parse_s / encode_s:.2f}x, parse {mido_parse_s / parse_s:.2f}x "
          f"(1.0 = as fast as mido alone)")
    print(f"at DIN speed the wire carries ~1,040 three-byte messages/s: "
          f"the codec is {n_msgs / max(encode_s, parse_s) / 1042:,.0f}x faster than the wire")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
