"""The C process callback of devices.jack_midi: built once with cffi, cached, loaded.

``devices/_jack_midi_ring.c`` moves MIDI bytes between JACK port buffers and one
jack_ringbuffer per port inside JACK's real-time thread, which then never waits for
Python's GIL (a Python process callback late for its cycle lost that cycle's MIDI under
load: issue 15). cffi compiles it in API mode (it needs a C compiler and Python's
headers, not JACK's: the few libjack prototypes are declared in the source) into
``$XDG_CACHE_HOME/hybrid/jack_midi_ring/<hash>/``, keyed by the source, Python and cffi;
the first use builds it (about a second; ``scripts/setup`` builds it ahead), every later
one loads the cached module. ``load()`` returns None, with the reason in ``failure()``,
where it cannot be built: devices.jack_midi then runs its Python process callback.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

MODULE = "_hybrid_jack_midi_ring"
SOURCE = Path(__file__).with_name("_jack_midi_ring.c")
LIBJACK = "libjack.so.0"

CDEF = """
struct ring_host;
struct ring_port;
struct ring_host *ring_host_new(void *client, uint32_t max_events, uint32_t max_bytes);
int ring_host_install(struct ring_host *host);
uint64_t ring_host_cycles(struct ring_host *host);
void ring_host_set_slot(struct ring_host *host, uint32_t slot, struct ring_port *port);
void ring_host_free(struct ring_host *host);
struct ring_port *ring_port_new(void *port, int is_input, size_t ring_bytes, int wake_fd);
void ring_port_free(struct ring_port *p);
int ring_port_push(struct ring_port *p, const unsigned char *data, uint32_t size, int timed,
                   uint32_t due);
size_t ring_port_pending(struct ring_port *p);
size_t ring_port_pull(struct ring_port *p, unsigned char *out, size_t cap);
uint64_t ring_port_done(struct ring_port *p);
uint32_t ring_port_lost(struct ring_port *p);
uint32_t ring_frame_at(void *client, double when_s);
#define RING_MAX_PORTS 512
"""

_loaded: tuple[Any, Any] | None = None
_failure: str | None = None


def cache_dir() -> Path:
    """Where built modules live: one directory per (source, Python, cffi) hash."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hybrid" / "jack_midi_ring"


def _key() -> str:
    import cffi

    digest = hashlib.sha256()
    for part in (SOURCE.read_bytes(), CDEF.encode(), sys.version.encode(),
                 str(sysconfig.get_config_var("EXT_SUFFIX")).encode(), cffi.__version__.encode(), LIBJACK.encode()):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def _build(target: Path) -> Path:
    """Compile into a fresh directory and move it to ``target`` in one rename (racing
    builders: the first rename wins, the others' copies are dropped)."""
    import cffi

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=target.parent))
    try:
        builder = cffi.FFI()
        builder.cdef(CDEF)
        builder.set_source(MODULE, SOURCE.read_text(), extra_link_args=[f"-l:{LIBJACK}"],
                           extra_compile_args=["-O2"])
        # the compiler's chatter goes to a log in the build directory, not the terminal
        log = work / "build.log"
        saved = os.dup(1), os.dup(2)
        with open(log, "w") as out:
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            try:
                built = Path(builder.compile(tmpdir=str(work), verbose=False))
            except Exception as exc:
                raise RuntimeError(f"{exc}; {' '.join(log.read_text().split()[-30:])}") from None
            finally:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
        final = work / "module"
        final.mkdir()
        os.replace(built, final / built.name)
        try:
            os.rename(final, target)
        except OSError:
            if not target.is_dir():
                raise
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _import(directory: Path) -> tuple[Any, Any]:
    path = next(directory.glob(f"{MODULE}*"))
    spec = importlib.util.spec_from_file_location(MODULE, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ffi, module.lib


def load() -> tuple[Any, Any] | None:
    """(ffi, lib) of the built module, building it on first use; None if it cannot be built."""
    global _loaded, _failure
    if _loaded is not None or _failure is not None:
        return _loaded
    try:
        target = cache_dir() / _key()
        if not target.is_dir():
            _build(target)
        _loaded = _import(target)
    except Exception as exc:  # no compiler, no Python headers, no libjack: the caller falls back
        _failure = f"{type(exc).__name__}: {exc}".strip()
        return None
    return _loaded


def failure() -> str | None:
    """Why ``load()`` returned None (None if it has not failed)."""
    return _failure


if __name__ == "__main__":  # scripts/setup: build ahead of the first use
    if load() is None:
        print(f"hybrid setup: warning: JACK MIDI C callback not built: {failure()}", file=sys.stderr)
        sys.exit(1)
    print(f"JACK MIDI C callback: {cache_dir() / _key()}")
