"""Measure a device alone: patch its loop through that one unit on the matrix router, then back.

When a chain of several units fails, the model fit (``hybrid.live.verify.suspects``) ranks
what could explain it, but some changes look alike from outside (two makeup knobs give
the same flat offset). A matrix router settles it: each unit is patched alone into the
chain's loop (``recall.routing``: ``route_pass`` + ``apply_routes``, ties read back),
measured, and compared with its own fingerprint taken the same way when the song was
fingerprinted. The unit that fails alone is the one that moved; if none does, the units
are as stored and the chain's order or patching changed. The matrix is then put back
exactly as it was found (``snapshot``/``restore``): verifying never re-patches a chain.

Only a matrix (a router with tie commands) can do this unattended. A paper bay or a
program-change patchbay cannot patch one unit alone on demand: there the model fit is
all there is (``reason_not`` says why).
"""

from __future__ import annotations

from hybrid.errors import HybridError
from hybrid.live.verify.fingerprint import ChainKey


def reason_not(studio, key: ChainKey) -> str | None:
    """None when each unit of the chain can be patched alone into its loop; else why not."""
    from recall.errors import RecallError
    from recall.routing import MATRIX, load_bay

    if len(key.devices) < 2:
        return "a chain of one unit is already alone"
    try:
        bay = load_bay(studio)
    except RecallError as exc:
        return f"the router cannot be read: {exc}"
    if bay.kind != MATRIX:
        return f"the router is a {bay.kind} bay: it cannot patch one unit alone on demand"
    if key.loop not in bay.loops:
        return f"loop {key.loop} is hard-wired (not on the router)"
    missing = [d for d in key.devices if d not in bay.devices]
    if missing:
        return f"{', '.join(missing)} not on the router"
    return None


def route(studio, key: ChainKey, devices: tuple[str, ...], out_channel: int, in_channel: int) -> None:
    """Patch ``key.loop`` through ``devices`` (in order) on the matrix; read back; HybridError if not made."""
    from recall.errors import RecallError
    from recall.routing import Chain, apply_routes, route_pass

    chain = Chain(track="verify", insert=0, loop=key.loop, devices=tuple(devices), out_channel=out_channel,
                  in_channel=in_channel)
    where = f"router, loop {key.loop}"
    try:
        result = apply_routes(studio, route_pass(studio, [chain]), song="verify")
    except RecallError as exc:
        raise HybridError(f"cannot patch {' > '.join(devices)}: {exc}", where=where) from exc
    if not result.ok:
        raise HybridError(f"cannot patch {' > '.join(devices)}: {result.report.status} "
                          f"{result.report.detail()}", where=where)


def snapshot(studio) -> dict[int, int]:
    """The matrix's ties now (``{output: input}``, read back), to put back after measuring units alone."""
    from devices.errors import DeviceError
    from recall.apply import device_for

    entry = studio.devices[studio.router.device]
    try:
        with device_for(entry) as dev:
            return dict(dev.ties())
    except DeviceError as exc:
        raise HybridError(f"cannot read the router's ties before patching units alone: {exc}",
                          where=f"router {entry.name}") from exc


def restore(studio, before: dict[int, int]) -> None:
    """Put the matrix back as ``snapshot`` found it (only the outputs that changed are sent)."""
    from devices.errors import DeviceError
    from recall.apply import device_for

    entry = studio.devices[studio.router.device]
    try:
        with device_for(entry) as dev:
            now = dev.ties()
            for output in sorted(set(now) | set(before)):
                want = before.get(output, 0)
                if now.get(output, 0) == want:
                    continue
                if want:
                    dev.tie(want, output)
                else:
                    dev.untie(output)
    except DeviceError as exc:
        raise HybridError(f"could not put the router's ties back as they were ({before}): {exc}",
                          where=f"router {entry.name}") from exc


def device_file_stem(loop_stem: str, device: str) -> str:
    import re

    return f"{loop_stem}@{re.sub(r'[^A-Za-z0-9._-]+', '-', device).strip('-.') or 'unit'}"
