"""Small studios on disk for the routing tests: real files, built-in profiles, a matrix on a pty."""

from __future__ import annotations

from pathlib import Path

from recall.sheet import Insert
from recall.store import create_song, load_sheet, save_sheet
from recall.studio import init_studio, load_studio

GEAR = '''
[devices."1176 #2"]
profile = "hy-comp-cc"
port = "not-opened-by-routing"

[devices.EQ]
profile = "hy-eq-nrpn"
port = "not-opened-by-routing"

[devices.Pultec]
profile = "hy-pultec-manual"

[devices.Fairchild]
profile = "hy-pultec-manual"

[loops.A]
out = 3
in = 3

[loops.B]
out = 4
in = 4

[loops.C]
out = 5
in = 5
devices = ["Pultec"]
'''

MATRIX_POINTS = '''
[router]
device = "Matrix"

[router.loops.A]
send = 1
return = 1

[router.loops.B]
send = 2
return = 2

[router.devices."1176 #2"]
in = 3
out = 3

[router.devices.EQ]
in = 4
out = 4
'''

PAPER_POINTS = '''
[router]
device = "manual"

[router.loops.A]
send = "Send 3"
return = "Return 3"

[router.loops.B]
send = "Send 4"
return = "Return 4"

[router.devices."1176 #2"]
in = "1176 #2 In"
out = "1176 #2 Out"

[router.devices.EQ]
in = "EQ In"
out = "EQ Out"
'''


def make_studio(root: Path, router_toml: str, *, matrix_port: str | None = None,
                matrix_profile: str = "hy-matrix-sis", extra: str = "") -> Path:
    """A studio with three loops (C hard-wired to the Pultec), two patchable units, a router."""
    init_studio(root, name="Routing Room")
    text = (root / "studio.toml").read_text()
    text = text.replace('[router]\ndevice = "manual"\n', "")  # the template's default router
    text += GEAR + extra
    if matrix_port is not None:
        text += f'\n[devices.Matrix]\nprofile = "{matrix_profile}"\nport = "{matrix_port}"\n'
    text += router_toml
    (root / "studio.toml").write_text(text)
    return root


def make_song(root: Path, chains: dict[str, list[tuple[str, list[str]]]], title: str = "Night Drive") -> Path:
    """A song whose tracks (in order) carry the given inserts: {track: [(loop, units), ...]}."""
    tracks = {name: f"stems/{name}.wav" for name in chains}
    path = create_song(root, title, samplerate=48000, tracks=tracks)
    (path.parent / "stems").mkdir(exist_ok=True)
    for name in chains:
        (path.parent / "stems" / f"{name}.wav").write_bytes(b"")
    studio = load_studio(root)
    sheet = load_sheet(studio, title)
    for name, inserts in chains.items():
        sheet.set_inserts(name, [Insert(loop, list(units)) for loop, units in inserts])
    save_sheet(sheet, studio=studio)
    return path
