"""The work of a session through the control-room UI, end to end: a song applied and walked
through, printed with meters, a loop measured and plotted; the client's upload to the approval
set by keys (Pilot), and the same in a real terminal (tmux). The views one by one, their keys
and snapshots are tests/tui; the fixtures (the demo studio, its rig on the demo's JACK server)
are that package's."""

from __future__ import annotations

from tests.tui.conftest import built_studio, demo_jack, rig, rig_studio  # noqa: F401  (fixtures)
