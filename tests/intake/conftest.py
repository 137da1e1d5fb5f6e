"""Fixtures for intake tests: a real studio folder (recall.studio.init_studio) in a sandbox."""

from __future__ import annotations

import pytest

from recall.studio import init_studio


@pytest.fixture
def sandbox(tmp_path):
    """tmp_path holding ``studio/`` (a real studio) and ``uploads/`` (the client's archives)."""
    init_studio(tmp_path / "studio", name="Test Room")
    (tmp_path / "uploads").mkdir()
    return tmp_path


@pytest.fixture
def studio(sandbox):
    return sandbox / "studio"


@pytest.fixture
def uploads(sandbox):
    return sandbox / "uploads"
