"""Fixtures for the control-room UI tests: the demo studio, its rig on the test JACK server, an app maker."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from textual.worker import WorkerCancelled

from hybrid.app.demo.rig import DemoRig
from hybrid.app.demo.studio import build_demo_studio
from hybrid.app.session import StudioSession
from tests.demo import server as demo_server
from tui.app import HybridApp

SIZE = (120, 40)


@pytest.fixture(scope="session")
def built_studio(tmp_path_factory):
    """The demo studio, built once for the package (rendering the stems costs seconds): tests
    take copies of it, never this folder."""
    return build_demo_studio(tmp_path_factory.mktemp("tui") / "Demo Room", interface="hybrid-gear-tui")


@pytest.fixture
def studio(built_studio, tmp_path):
    """A private copy of the demo studio (tests edit sheets)."""
    root = tmp_path / "Demo Room"
    shutil.copytree(built_studio, root)
    return root


@pytest.fixture(scope="package")
def rig_studio(built_studio, tmp_path_factory):
    """The rig's studio, shared by the tests that use the rig: a copy of the built demo studio made
    into the demo as ``hybrid demo`` builds it, with the summing mixer, the stereo loops, each song's
    [mix] and the album (the whole-flow test mixes and masters on it). Only studio.toml and the
    sheets are written again; the stems are kept (rendering them is what costs)."""
    return mix_and_master_room(built_studio, tmp_path_factory.mktemp("tui-rig") / "Demo Room")


def mix_and_master_room(built: Path, root: Path, interface: str = "hybrid-gear-tui") -> Path:
    """A copy of the built demo studio at ``root`` made into the demo's mix and master room
    (studio.toml and the sheets written again; the stems kept)."""
    shutil.copytree(built, root)
    (root / "studio.toml").unlink()
    for sheet in (root / "songs").glob("*/sheet.toml"):
        sheet.unlink()
    return build_demo_studio(root, interface=interface, mix_and_master=True)


@pytest.fixture(scope="session")
def demo_jack():
    """A JACK dummy server at the demo's period (see tests/demo/server.py), shared with tests/demo."""
    yield demo_server.acquire()
    demo_server.release()


@pytest.fixture(scope="package")
def rig(demo_jack, rig_studio):
    """The demo rig, started once for the package (a start costs seconds, more on a busy machine)."""
    with DemoRig(rig_studio, server=demo_jack) as running:
        yield running


def make_app(root, *, hands=None, clock: bool = False) -> HybridApp:
    session = StudioSession(root)
    session.hands = hands
    return HybridApp(root, session=session, clock=clock)


async def settle(app, pilot) -> None:
    """Let workers finish and their messages land (an exclusive worker replaced by a newer
    one ends cancelled: that is its design, not a failure)."""
    while True:
        try:
            await app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            continue
    await pilot.pause()
    await pilot.pause()


async def until(pilot, predicate, timeout_s: float = 10.0) -> bool:
    """Wait for ``predicate()`` to hold, looking every 20 ms, for at most ``timeout_s``: for
    what happens outside the app's workers (MIDI, a gear process), instead of a fixed pause."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.02)
    return True


def offered(app) -> set[str]:
    """The labels the footer shows for the focused view's own keys (not the app's)."""
    return {active.binding.description for active in app.screen.active_bindings.values()
            if active.binding.show and active.enabled and active.node not in (app, app.screen)}
