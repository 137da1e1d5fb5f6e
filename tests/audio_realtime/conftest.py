"""What only a real clock shows: xruns and where they fall, the stream's ring running dry or
over, the callback's deadline while Python threads hold the interpreter, Ctrl-C while a pass
streams. The same simulated gear as tests/audio_print (whose prints run on the simulated
room's offline clock), on a JACK server that keeps time."""

from __future__ import annotations

import pytest

from tests.audio_print.conftest import gear, jack_print_server  # noqa: F401  (gear: a fixture)


@pytest.fixture(scope="package")
def print_server():
    """A JACK server on a real clock, 1024-frame periods (see jack_print_server)."""
    yield from jack_print_server(offline=False)
