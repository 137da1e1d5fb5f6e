"""The one place that re-initialises PortAudio, finds the interface in its list, and reads its errors.

PortAudio lists JACK clients (the interface, the simulated gear) once, when it
initialises; a client started later is not there until PortAudio is re-initialised, and
a client the JACK server dropped under load (PortAudio's "unanticipated host error")
needs a fresh PortAudio too. Re-initialise only with no stream of this process open.
sounddevice initialises PortAudio at import, and initialisations stack.
"""

from __future__ import annotations

import sys

from hybrid.errors import HOST_ERROR, HybridError
from hybrid.live.audio.interface import ResolvedDevice, resolve_device

PA_UNANTICIPATED_HOST_ERROR = -9999
"""PortAudio's ``paUnanticipatedHostError``: the host (JACK) refused or dropped our client."""


def rescan() -> None:
    """Re-initialise PortAudio so it lists the JACK clients there now (no stream may be open)."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


def release() -> None:
    """Let go of PortAudio and its JACK clients if it was loaded (before a JACK server stops).

    Terminates as often as it was initialised, so its exit handler has nothing left to do
    once the server is gone (else the process aborts at exit).
    """
    sd = sys.modules.get("sounddevice")
    if sd is None:
        return
    while getattr(sd, "_initialized", 0) > 0:
        sd._terminate()


def find_device(name: str, hostapi: str | None = None, *, rescan_if_missing: bool = True) -> ResolvedDevice:
    """``name`` as PortAudio lists it; when it is not listed, rescan once and look again."""
    try:
        return resolve_device(str(name), hostapi)
    except HybridError:
        if not rescan_if_missing:
            raise
        rescan()
        return resolve_device(str(name), hostapi)


def is_host_error(exc: BaseException) -> bool:
    """True for a PortAudioError carrying ``paUnanticipatedHostError``."""
    args = getattr(exc, "args", ())
    return len(args) > 1 and args[1] == PA_UNANTICIPATED_HOST_ERROR


def stream_error(exc: BaseException, doing: str, *, where: str) -> HybridError:
    """A PortAudioError as one-line HybridError; a host error carries ``code=HOST_ERROR``."""
    return HybridError(f"{doing}: {exc}", where=where, code=HOST_ERROR if is_host_error(exc) else None)
