"""Rigs for the surface tests: a simulated surface on JACK MIDI and a session driving it."""

from __future__ import annotations

import itertools

import pytest

from devices.midi_port import JACK_BACKEND
from devices.surfaces import Slot, SurfaceSession
from devices.surfaces.sim import SimulatedHui, SimulatedMcu

BACKEND = JACK_BACKEND
_names = itertools.count()


def unique(prefix: str) -> str:
    """JACK port names must not repeat within a server: one name per rig."""
    return f"{prefix}{next(_names)}"


def make_slots(count: int, device: str = "1176 #2") -> list[Slot]:
    return [Slot(device, f"P{i}", f"{i} dB", position=(i % 17) / 16) for i in range(count)]


class Rig:
    """A simulated surface and the session that drives it, with the events it delivered."""

    def __init__(self, sim, session: SurfaceSession):
        self.sim = sim
        self.session = session
        self.edits = []
        self.confirms = []
        self.statuses = []
        self.problems = []
        session.on_edit(self.edits.append)
        session.on_confirm(self.confirms.append)
        session.on_status(self.statuses.append)
        session.on_problem(self.problems.append)

    def settle(self, predicate=lambda: True, timeout_s: float = 5.0) -> None:
        """Wait until the session has sent everything and ``predicate`` holds on the sim (a
        bank of 32 strips redrawn over JACK MIDI took over 2 s once on a loaded CI machine)."""
        assert self.session.wait_idle(timeout_s), "session did not drain its output"
        assert self.sim.wait_for(predicate, timeout_s), "the simulated surface never showed it"

    def reset(self) -> None:
        """Back to an empty bank and no recorded events (a shared rig between tests)."""
        self.session.set_slots([])
        self.settle()
        self.session.show_devices = False
        for events in (self.edits, self.confirms, self.statuses, self.problems):
            events.clear()
        self.sim.errors.clear()

    def close(self) -> None:
        self.session.close()
        self.sim.close()


def open_mcu_rig(extenders: int = 0, **options) -> Rig:
    sim = SimulatedMcu(unique("mcu"), extenders=extenders, backend=BACKEND)
    try:
        session = SurfaceSession.open("mcu", sim.port_specs, backend=BACKEND, **options)
    except BaseException:
        sim.close()
        raise
    return Rig(sim, session)


def open_hui_rig(**options) -> Rig:
    sim = SimulatedHui(unique("hui"), backend=BACKEND)
    try:
        session = SurfaceSession.open("hui", sim.port_specs, backend=BACKEND, **options)
    except BaseException:
        sim.close()
        raise
    return Rig(sim, session)


@pytest.fixture(scope="module")
def _shared_mcu_rig(jack_server):
    rig = open_mcu_rig(extenders=3)
    yield rig
    rig.close()


@pytest.fixture
def mcu_rig(_shared_mcu_rig):
    """MCU + 3 XT (32 strips), shared by a module's tests (opening one costs ~1 s), reset
    to an empty bank before each; tests must release what they touch."""
    _shared_mcu_rig.reset()
    yield _shared_mcu_rig
    assert not any(_shared_mcu_rig.session.surface.units[u].touched[s] for u in range(4) for s in range(8)), \
        "a test left a fader touched"


@pytest.fixture(scope="module")
def _shared_hui_rig(jack_server):
    rig = open_hui_rig(heartbeat_s=0.1, timeout_s=0.35)
    yield rig
    rig.close()


@pytest.fixture
def hui_rig(_shared_hui_rig):
    """A HUI pinged every 0.1 s (offline after 0.35 s of silence), shared like ``mcu_rig``."""
    _shared_hui_rig.sim.answering = True
    assert _shared_hui_rig.sim.wait_for(lambda: _shared_hui_rig.session.online, 2)
    _shared_hui_rig.reset()
    yield _shared_hui_rig
