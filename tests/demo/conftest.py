"""Fixtures for the demo tests: a demo studio folder and the demo rig on the session's JACK server."""

from __future__ import annotations

import shutil

import pytest

from hybrid.app.demo.rig import DemoRig
from hybrid.app.demo.studio import build_demo_studio
from tests.demo import server as demo_server


@pytest.fixture(scope="session")
def demo_jack():
    """A JACK dummy server at the demo's period (see tests/demo/server.py)."""
    yield demo_server.acquire()
    demo_server.release()


@pytest.fixture(scope="session")
def built_demo_studio(tmp_path_factory):
    """The demo studio as built, once for the package (rendering the stems costs seconds):
    tests take copies of it (``demo_studio``), never this folder."""
    return build_demo_studio(tmp_path_factory.mktemp("demo-built") / "Demo Room")


@pytest.fixture(scope="module")
def demo_studio(built_demo_studio, tmp_path_factory):
    """A freshly built demo studio (stems rendered, sheets checked against the studio): a
    module's own copy of the built one."""
    root = tmp_path_factory.mktemp("demo") / "Demo Room"
    shutil.copytree(built_demo_studio, root)
    return root


@pytest.fixture(scope="module")
def demo_rig(demo_jack, demo_studio):
    """The demo's gear process (simulators + simulated analog loops) on the demo test server."""
    with DemoRig(demo_studio, server=demo_jack) as rig:
        yield rig
