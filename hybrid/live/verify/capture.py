"""Play stimuli through several insert loops at once and record their returns, sample-locked.

One duplex stream on the studio's interface (``hybrid.live.audio.ping.run_streams``, the
ping's own) plays each loop's stimulus on its output channel and records its input
channel; ``received[k][i]`` arrived in the callback position where ``sent[k][i]`` was
written. Loops measured together must not share a channel.

Xruns (a simulated room's clock slips are none: see ``devices.jack_server.virtual_clock``):
on a loaded machine a JACK client may miss a cycle, and a pass that reported
xruns may have lost or repeated a block somewhere. Such a pass is not thrown away: the
pass is played again, and the return is assembled block by block (``BLOCK`` samples)
from passes that *agree* on that block (see ``_agree``); a block no two passes agree on
needs another pass, up to ``retries`` more. A clean pass (no xruns) is used as it is.
When blocks stay disputed, the measurement is refused rather than trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybrid.errors import HybridError
from hybrid.live.audio.portaudio import rescan as rescan_portaudio

#: samples per block when assembling a return from passes that had xruns
BLOCK = 256
#: two passes agree on a block when the RMS of their difference is within this share of the
#: block's level plus ``AGREE_NOISE`` times the loop's hiss (the quietest blocks' RMS: two
#: hisses differ by sqrt(2) of it); a lost or repeated block of a sweep or tone differs by far more
AGREE_RELATIVE = 0.03
AGREE_NOISE = 3.0
AGREE_ABSOLUTE = 1e-6


@dataclass(frozen=True)
class Route:
    """One loop to measure: 1-based interface channels and what to play."""

    out_channel: int
    in_channel: int
    sent: np.ndarray


@dataclass
class Capture:
    received: list[np.ndarray]
    xruns: int
    passes: int
    warnings: list[str]


def open_device(device: str, hostapi: str | None = None, *, rescan: bool = True):
    """The interface as PortAudio lists it; PortAudio re-initialised once if it is not there yet."""
    from hybrid.live.audio.portaudio import find_device

    return find_device(str(device), hostapi, rescan_if_missing=rescan)


def play_record(device: str, routes: list[Route], samplerate: int, *, blocksize: int = 0,
                hostapi: str | None = None, retries: int = 2, rescan: bool = True,
                fresh_client: bool = True) -> Capture:
    """Play every route's ``sent`` on its output, record its input; all the same length.

    ``fresh_client``: re-initialise PortAudio first (a new JACK client; no other stream of
    this process may be open). A JACK server under load may drop a client that was late
    (JACK "zombifies" it); every later stream on that client then hangs in PortAudio's
    open. A fresh client per measurement keeps one late pass from stopping the rest.
    """
    if not routes:
        raise HybridError("nothing to measure", where=str(device))
    frames = len(routes[0].sent)
    if any(len(r.sent) != frames for r in routes):
        raise HybridError("the loops measured together need stimuli of one length", where=str(device))
    outs = [r.out_channel for r in routes]
    ins = [r.in_channel for r in routes]
    if len(set(outs)) != len(outs) or len(set(ins)) != len(ins):
        raise HybridError("two loops measured together share a channel", where=str(device))
    if fresh_client:
        rescan_portaudio()
    dev = open_device(device, hostapi, rescan=rescan)
    where = f"{dev.name}"
    if max(outs) > dev.max_outputs or min(outs) < 1:
        raise HybridError(f"output channel {max(outs)} out of range 1..{dev.max_outputs}", where=where)
    if max(ins) > dev.max_inputs or min(ins) < 1:
        raise HybridError(f"input channel {max(ins)} out of range 1..{dev.max_inputs}", where=where)
    passes: list[list[np.ndarray]] = []
    total_xruns = 0
    for _ in range(max(2, retries + 3)):
        received, xruns = _one_pass(dev.index, routes, samplerate, blocksize, where)
        if xruns == 0:
            return Capture(received, total_xruns, len(passes) + 1, [])
        total_xruns += xruns
        passes.append(received)
        if len(passes) >= 2:
            assembled = _assemble(passes)
            if assembled is not None:
                return Capture(assembled, total_xruns, len(passes),
                               [f"xruns in {len(passes)} passes; every block taken where two passes agreed"])
    raise HybridError(f"xruns in every one of {len(passes)} passes and they disagree on some blocks; "
                      "the machine is too loaded to measure now", where=where)


def _assemble(passes: list[list[np.ndarray]]) -> list[np.ndarray] | None:
    """Each route's return built from blocks two passes agree on; None if some block has no agreeing pair."""
    out = []
    for k in range(len(passes[0])):
        takes = np.stack([p[k].astype(np.float64) for p in passes])   # (passes, frames)
        frames = takes.shape[1]
        nblocks = -(-frames // BLOCK)
        padded = np.zeros((len(passes), nblocks * BLOCK))
        padded[:, :frames] = takes
        blocks = padded.reshape(len(passes), nblocks, BLOCK)
        rms = np.sqrt(np.mean(blocks ** 2, axis=2))                   # (passes, blocks)
        hiss = float(np.percentile(rms, 1))                            # the preroll holds only the loop's hiss
        chosen = np.full(nblocks, -1)
        for i in range(len(passes)):
            for j in range(i + 1, len(passes)):
                diff = np.sqrt(np.mean((blocks[i] - blocks[j]) ** 2, axis=1))
                agree = diff <= AGREE_RELATIVE * np.maximum(rms[i], rms[j]) + AGREE_NOISE * hiss + AGREE_ABSOLUTE
                chosen = np.where((chosen < 0) & agree, i, chosen)
        if (chosen < 0).any():
            return None
        result = blocks[chosen, np.arange(nblocks)].reshape(-1)[:frames]
        out.append(result.astype(np.float32))
    return out


def _one_pass(device_index: int, routes: list[Route], samplerate: int, blocksize: int,
              where: str) -> tuple[list[np.ndarray], int]:
    """One stream through every route (``hybrid.live.audio.ping.run_streams``: the one duplex
    play-and-record, which also knows a simulated room's clock slips are no xruns)."""
    from hybrid.live.audio.ping import run_streams

    sends = np.stack([np.asarray(r.sent, dtype=np.float32) for r in routes], axis=1)
    received, xruns = run_streams(device_index, sends, [r.out_channel for r in routes],
                                  [r.in_channel for r in routes], samplerate, blocksize, where)
    return [received[:, k].copy() for k in range(len(routes))], xruns
