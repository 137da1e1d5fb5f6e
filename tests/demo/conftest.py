"""Fixtures for the demo tests: a demo studio folder and the demo rig on the session's JACK server."""

from __future__ import annotations

import pytest

from hybrid.demo.rig import DemoRig
from hybrid.demo.studio import build_demo_studio


@pytest.fixture(scope="module")
def demo_studio(tmp_path_factory):
    """A freshly built demo studio (stems rendered, sheets checked against the studio)."""
    return build_demo_studio(tmp_path_factory.mktemp("demo") / "Demo Room")


@pytest.fixture(scope="module")
def demo_rig(jack_server, demo_studio):
    """The demo's gear process (simulators + simulated analog loops) on the test JACK server."""
    with DemoRig(demo_studio, server=jack_server) as rig:
        yield rig
