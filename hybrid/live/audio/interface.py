"""Which audio interface to open, at what rate and block size: from studio.toml or the command line.

``[interface]`` in studio.toml (docs/CONTRACTS.md) names the device as PortAudio lists it
(on JACK, the JACK client name), optionally its host API, the sample rate and the block
size (0 = the host's own). Command-line values override the studio's. The device is
resolved against PortAudio's list once, here, so a missing or ambiguous device gives one
clear error naming what is available instead of a PortAudio traceback mid-print.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from hybrid.errors import HybridError


@dataclass(frozen=True)
class InterfaceSettings:
    """What the stream opens. ``samplerate`` None means "the stems' rate"."""

    device: str
    hostapi: str | None = None
    samplerate: int | None = None
    blocksize: int = 0

    def override(self, *, device: str | None = None, hostapi: str | None = None,
                 samplerate: int | None = None, blocksize: int | None = None) -> InterfaceSettings:
        """These settings with any given (not None) value replacing the studio's."""
        changes = {k: v for k, v in dict(device=device, hostapi=hostapi, samplerate=samplerate,
                                          blocksize=blocksize).items() if v is not None}
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return {"device": self.device, "hostapi": self.hostapi, "samplerate": self.samplerate,
                "blocksize": self.blocksize}


def load_interface(studio_dir: str | os.PathLike) -> InterfaceSettings:
    """Read ``[interface]`` from ``STUDIO/studio.toml`` (recall's reader; a rate left out of the
    file is None here: the stems' rate)."""
    from recall.errors import RecallError
    from recall.studio import load_interface as read_interface

    try:
        iface = read_interface(studio_dir)
    except RecallError as exc:
        raise HybridError(str(exc)) from exc
    return InterfaceSettings(device=iface.device, hostapi=iface.hostapi,
                             samplerate=iface.samplerate if iface.samplerate_given else None,
                             blocksize=iface.blocksize)


@dataclass(frozen=True)
class ResolvedDevice:
    """A PortAudio device index with its name and channel counts."""

    index: int
    name: str
    hostapi: str
    max_inputs: int
    max_outputs: int


def resolve_device(name: str, hostapi: str | None = None) -> ResolvedDevice:
    """Find ``name`` among PortAudio's devices: an exact name first, else one unique substring match.

    A number is taken as a PortAudio device index.
    """
    import sounddevice as sd

    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
    except sd.PortAudioError as exc:
        raise HybridError(f"PortAudio cannot list devices: {exc}", where=f"device {name}") from exc
    rows = []
    for dev in devices:
        api = apis[dev["hostapi"]]["name"]
        if hostapi and hostapi.lower() not in api.lower():
            continue
        rows.append(ResolvedDevice(dev["index"], dev["name"], api, dev["max_input_channels"],
                                   dev["max_output_channels"]))
    if name.isdigit():
        hits = [r for r in rows if r.index == int(name)]
    else:
        hits = [r for r in rows if r.name == name] or [r for r in rows if name.lower() in r.name.lower()]
    if len(hits) == 1:
        return hits[0]
    listed = ", ".join(f"{r.name!r} ({r.hostapi})" for r in rows) or "none"
    where = f"device {name}" + (f" on {hostapi}" if hostapi else "")
    if not hits:
        raise HybridError(f"no such audio device; PortAudio lists: {listed}", where=where)
    raise HybridError(f"ambiguous: matches {', '.join(repr(r.name) for r in hits)}; give the full name",
                      where=where)
