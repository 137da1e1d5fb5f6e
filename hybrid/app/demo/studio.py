"""The demo studio folder: a small room of built-in gear and an EP of three songs.

The room mixes machine-set gear (a CC compressor, an NRPN equaliser, a SysEx reverb,
a serial tape saturator, a serial matrix router) with a hand-set equaliser that exists
only on paper, so the demo shows both halves of a recall: what sets itself and what
comes as a walk-through. Each song has synthesised stems (``1Kick.wav`` ...) and a
sheet with insert chains through the room's loops.

The studio file follows docs/CONTRACTS.md; sheets are built with :mod:`recall.sheet`
and checked against the studio before they are written, so the demo never ships a
sheet the product would refuse.

With ``mix_and_master`` (what ``hybrid demo`` builds) the room also has the analog mix
and master of issue 13: a summing mixer fed by five outputs (``[summing]``, its bus
through the stereo loop ``BUS`` with a hand-set bus compressor), each song's ``[mix]``
(every stem on its own input; variants ``full`` and ``instrumental``), a stereo
mastering loop ``M`` (a hand-set variable-mu) and the album ``night-shift-ep`` with its
mastering chain and one mastering sheet per song, so the demo runs from the client's
stems to the DDP.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from hybrid.app.demo.stems import Arrangement, write_stems

STUDIO_NAME = "Demo Room"
ARTIST = "The Examples"
ALBUM = "Night Shift EP"
INTERFACE_CLIENT = "hybrid-gear"
"""JACK client name of the simulated analog gear; PortAudio lists it as the interface."""


@dataclass(frozen=True)
class DemoDevice:
    """A unit of the demo room: its name here, built-in profile, port, MIDI channel."""

    name: str
    profile: str
    port: str | None  # MIDI port name; "pty" = a serial simulator's pty (filled in at start); None = hand-set
    channel: int = 1


DEVICES = (
    DemoDevice("VCA Comp", "hy-comp-cc", "demo-comp", 1),
    DemoDevice("Channel EQ", "hy-eq-nrpn", "demo-eq", 2),
    DemoDevice("Pultec", "hy-pultec-manual", None),
    DemoDevice("Tape Sat", "hy-sat-serial", "pty"),
    DemoDevice("Plate", "hy-verb-sysex", "demo-verb", 3),
    DemoDevice("Matrix", "hy-matrix-sis", "pty"),
)

# Insert loops: out/in channels of the interface and the gear wired on them, in signal order.
LOOPS = {
    "A": (3, 3, ["VCA Comp"]),
    "B": (4, 4, ["Channel EQ", "Pultec"]),
    "C": (5, 5, ["Tape Sat"]),
    "D": (6, 6, ["Plate"]),
}

# What the simulated matrix patches (recall.routing): loop A's send and return and the VCA
# Comp sit on it, so each print pass through loop A is routed (two ties, read back) before
# it plays. The other loops stay hard-wired. Only a one-unit loop is on the matrix: the
# simulated gear's audio is wired in JACK whatever the matrix says, so a multi-unit loop
# on it would let verify "patch units alone" (hybrid.live.verify.isolate) and measure the
# whole chain as one unit.
ROUTER_LOOPS = {"A": (1, 1)}          # loop -> (send: matrix input, return: matrix output)
ROUTER_UNITS = {"VCA Comp": (2, 2)}   # unit -> (in: matrix output, out: matrix input)

# The mix and master room (mix_and_master=True): hand-set stereo units, the summing mixer,
# two stereo loops and the album.
MIX_DEVICES = (
    DemoDevice("Bus Comp", "ssl-g-bus-compressor", None),
    DemoDevice("Mastering Comp", "manley-variable-mu", None),
)
SUMMING_OUTS = (7, 8, 9, 10, 11)      # interface outputs feeding the summing mixer's inputs 1..5
SUMMING_INS = (7, 8)                  # interface inputs its stereo bus comes back on
BUS_LOOP = "BUS"
STEREO_LOOPS = {BUS_LOOP: ((12, 13), ["Bus Comp"]), "M": ((14, 15), ["Mastering Comp"])}
MASTER_CHAIN = ("M",)
ALBUM_SLUG = "night-shift-ep"
MIX_VARIANTS = {"instrumental": ["5Vox"]}
MASTER_TAIL_S = 0.5
MASTER_VALUES = (                     # the variable-mu per song: a touch more on the loud one
    {"mode": "COMP", "input": "12:00", "threshold": 6.0, "attack": 45.0, "recovery": "MEDIUM", "output": 7.0},
    {"mode": "COMP", "input": "12:00", "threshold": 5.0, "attack": 55.0, "recovery": "SLOW", "output": 7.5},
    {"mode": "COMP", "input": "+1", "threshold": 6.5, "attack": 40.0, "recovery": "MEDIUM", "output": 7.0},
)


@dataclass(frozen=True)
class DemoSong:
    slug: str
    title: str
    stage: str
    key_root: tuple[str, int]
    arrangement: Arrangement
    inserts: dict[str, list[str]]  # track -> loops in order (one loop each in the demo)
    values: dict[str, dict[str, Any]]  # device -> {param: value in engineer's units}
    notes: str = ""
    device_notes: dict[str, str] | None = None


def _song_values(variant: int) -> dict[str, dict[str, Any]]:
    """Per-song settings: the same gear, set a little differently for each song."""
    from hybrid.app.demo.settings import song_values

    return song_values(variant)


SONGS = (
    DemoSong(
        "night-drive", "Night Drive", "vocals", ("A", 3),
        Arrangement(tempo_bpm=112, chords=(("A", "min"), ("F", "maj"), ("C", "maj"), ("G", "maj")),
                    melody=(12, None, 15, 17, 19, None, 17, 15, 12, None, 15, 17, 22, 19, 17, None),
                    seed=11),
        inserts={"1Kick": ["A"], "3Bass": ["C"], "4Keys": ["D"], "5Vox": ["B"]},
        values={}, notes="Vocal forward in the bridge; keep the plate dark.",
        device_notes={"Pultec": "Low shelf boost and attenuation both in: the Pultec trick."},
    ),
    DemoSong(
        "glass-harbour", "Glass Harbour", "fundamentals", ("D", 4),
        Arrangement(tempo_bpm=92, chords=(("D", "maj"), ("B", "min"), ("G", "maj"), ("A", "maj")),
                    melody=(0, None, 4, None, 7, 9, 7, None, 4, None, 2, None, 0, None, None, None),
                    seed=23),
        inserts={"2Snare": ["A"], "3Bass": ["B"], "5Vox": ["D"]},
        values={}, notes="Slow and wide. Snare through the VCA comp; try 8:1 on the next pass.",
    ),
    DemoSong(
        "paper-moons", "Paper Moons", "review", ("E", 4),
        Arrangement(tempo_bpm=124, chords=(("E", "min"), ("C", "maj"), ("G", "maj"), ("D", "maj")),
                    melody=(7, 7, None, 10, 12, None, 10, 7, 5, None, 3, None, 5, 7, None, None),
                    seed=37),
        inserts={"1Kick": ["C"], "2Snare": ["A"], "4Keys": ["B"], "5Vox": ["D"]},
        values={}, notes="Client wants the keys brighter than the rough.",
    ),
)


def build_demo_studio(root: str | Path, *, samplerate: int = 48000, interface: str = INTERFACE_CLIENT,
                      mix_and_master: bool = False) -> Path:
    """Write the demo studio into ``root`` (created if needed; an existing demo is refreshed).

    ``interface`` names the simulated gear's JACK client (two demo rigs on one JACK
    server need different names). ``mix_and_master``: the summing mixer, the stereo
    loops, each song's ``[mix]`` and the album with its mastering chain (see the module
    doc); ``hybrid demo`` builds it, other rooms built on the demo leave it out.

    Stems are rendered only where missing, so re-opening a demo folder is quick and
    keeps the engineer's prints and sheet edits.
    """
    from recall.paths import StudioPaths
    from recall.sheet import Insert, Sheet, require_valid
    from recall.store import load_sheet
    from recall.studio import load_studio
    from recall.tomlio import save_text

    root = Path(root).expanduser().resolve()
    root.mkdir(parents=True, exist_ok=True)
    paths = StudioPaths(root)
    if not _kept(paths.studio_file):
        save_text(paths.studio_file, studio_toml(samplerate, interface, mix_and_master=mix_and_master))
    studio = load_studio(root)
    for variant, song in enumerate(SONGS):
        song_paths = paths.song(song.slug)
        stems_dir = song_paths.stems
        if not all([_kept(stems_dir / f"{name}.wav") for name in _stem_names()]):
            write_stems(stems_dir, song.arrangement, samplerate, song.key_root)
        sheet_file = song_paths.sheet
        if _kept(sheet_file):
            load_sheet(studio, song.slug)  # a broken sheet is refused now, before JACK starts
            continue
        sheet = Sheet.new(song.title, artist=ARTIST, album=ALBUM, samplerate=samplerate,
                          stage=song.stage,
                          tracks={name: f"stems/{name}.wav" for name in _stem_names()})
        sheet.set_song(notes=song.notes)
        for track, loops in song.inserts.items():
            sheet.set_inserts(track, [Insert(loop=loop, devices=list(LOOPS[loop][2])) for loop in loops])
        for device, values in _song_values(variant).items():
            sheet.set_values(device, values)
        for device, note in (song.device_notes or {}).items():
            sheet.set_device_notes(device, note)
        if mix_and_master:
            _add_mix(sheet)
        sheet.file = str(sheet_file)
        require_valid(sheet, studio)
        save_text(sheet_file, sheet.dumps())
    if mix_and_master:
        build_demo_album(root, studio)
    return root


def _kept(path: Path) -> bool:
    """Whether the demo folder already has ``path`` (kept as the engineer left it). Something
    else in its place (a folder, a FIFO, a link to a device) is refused in one line
    (devices.safe_read), never opened."""
    from devices.safe_read import regular_file

    if not os.path.lexists(path):
        return False
    regular_file(path)
    return True


def _add_mix(sheet) -> None:
    """The song's ``[mix]``: every stem on its own summing input, and the instrumental variant."""
    table = tomlkit.table()
    table.add(tomlkit.comment("stem -> summing input (studio.toml [summing] outs feed inputs 1..5)"))
    inputs = tomlkit.inline_table()
    inputs.update({name: k + 1 for k, name in enumerate(_stem_names())})
    table["inputs"] = inputs
    variants = tomlkit.table(is_super_table=True)
    for name, mute in MIX_VARIANTS.items():
        variant = tomlkit.table()
        variant["mute"] = list(mute)
        variants[name] = variant
    table["variants"] = variants
    sheet.doc["mix"] = table


def build_demo_album(root: Path, studio) -> Path:
    """``albums/night-shift-ep``: album.toml (the EP's running order, no master files yet:
    ``hybrid print --master`` records them), mastering.toml (the chain) and a mastering sheet
    per song. Files that exist are left alone (the engineer's edits)."""
    from recall.paths import StudioPaths
    from recall.sheet import Sheet, require_valid
    from recall.tomlio import save_text

    folder = StudioPaths(root).album(ALBUM_SLUG).file.parent
    sheets = folder / "sheets"
    sheets.mkdir(parents=True, exist_ok=True)
    album_file = folder / "album.toml"
    if not _kept(album_file):
        doc = tomlkit.document()
        doc.add(tomlkit.comment("The demo EP. `hybrid print --master night-shift-ep` prints each song's mix"))
        doc.add(tomlkit.comment("through the mastering chain and records each track's file here."))
        doc["spec"] = "hybrid-album/1"
        doc["title"] = ALBUM
        doc["performer"] = ARTIST
        doc["master_id"] = "NSEP-DEMO"
        tracks = tomlkit.aot()
        for k, song in enumerate(SONGS):
            track = tomlkit.table()
            track["song"] = song.slug
            if k:
                track["pregap_s"] = 1.0
            tracks.append(track)
        doc["tracks"] = tracks
        save_text(album_file, tomlkit.dumps(doc))
    mastering = folder / "mastering.toml"
    if not _kept(mastering):
        doc = tomlkit.document()
        doc["spec"] = "hybrid-mastering/1"
        doc["chain"] = list(MASTER_CHAIN)
        doc["tail_s"] = MASTER_TAIL_S
        save_text(mastering, tomlkit.dumps(doc))
    for k, song in enumerate(SONGS):
        path = sheets / f"{song.slug}.toml"
        if _kept(path):
            continue
        sheet = Sheet.new(song.title, artist=ARTIST, album=ALBUM, samplerate=studio.interface.samplerate or 48000)
        sheet.set_values("Mastering Comp", dict(MASTER_VALUES[k % len(MASTER_VALUES)]))
        sheet.file = str(path)
        require_valid(sheet, studio)
        save_text(path, sheet.dumps())
    return folder


def _stem_names() -> tuple[str, ...]:
    from hybrid.app.demo.stems import STEM_NAMES

    return STEM_NAMES


def studio_toml(samplerate: int, interface_client: str = INTERFACE_CLIENT, *, mix_and_master: bool = False) -> str:
    """The demo room's studio.toml, commented for a newcomer who opens it."""
    doc = tomlkit.document()
    doc.add(tomlkit.comment("The demo room of `hybrid demo`: simulated gear on a private JACK server."))
    doc.add(tomlkit.comment("Serial ports (pty paths) are rewritten each time the demo starts."))
    doc["spec"] = "hybrid-studio/1"
    doc["name"] = STUDIO_NAME
    interface = tomlkit.table()
    interface["device"] = interface_client
    interface["hostapi"] = "JACK Audio Connection Kit"
    interface["samplerate"] = samplerate
    interface["blocksize"] = 0
    doc["interface"] = interface
    devices = tomlkit.table(is_super_table=True)
    for dev in DEVICES + (MIX_DEVICES if mix_and_master else ()):
        entry = tomlkit.table()
        entry["profile"] = dev.profile
        if dev.port == "pty":
            entry["port"] = "/dev/null"
            entry["port"].comment("a pty of the demo's simulator, set when the demo starts")
        elif dev.port is not None:
            entry["port"] = dev.port
            entry["channel"] = dev.channel
        devices[dev.name] = entry
    doc["devices"] = devices
    loops = tomlkit.table(is_super_table=True)
    for name, (out_ch, in_ch, gear) in LOOPS.items():
        entry = tomlkit.table()
        entry["out"] = out_ch
        entry["in"] = in_ch
        entry["devices"] = gear
        loops[name] = entry
    if mix_and_master:
        for name, (channels, gear) in STEREO_LOOPS.items():
            entry = tomlkit.table()
            entry["out"] = list(channels)
            entry["in"] = list(channels)
            entry["devices"] = gear
            entry["level_dependent"] = True      # linked compressors: their gain follows the ping
            loops[name] = entry
    doc["loops"] = loops
    if mix_and_master:
        summing = tomlkit.table()
        summing.add(tomlkit.comment("the simulated summing mixer: five outputs in, its stereo bus back on 7/8"))
        summing["outs"] = list(SUMMING_OUTS)
        summing["ins"] = list(SUMMING_INS)
        summing["bus"] = BUS_LOOP
        summing["bus"].comment("the bus compressor's stereo loop, printed after the bus")
        doc["summing"] = summing
    router = tomlkit.table()
    router["device"] = "Matrix"
    router["device"].comment("the serial matrix patches loop A's unit before each print pass")
    for table, points, sides in (("loops", ROUTER_LOOPS, ("send", "return")),
                                 ("devices", ROUTER_UNITS, ("in", "out"))):
        section = tomlkit.table(is_super_table=True)
        for name, (a, b) in points.items():
            entry = tomlkit.table()
            entry[sides[0]], entry[sides[1]] = a, b
            section[name] = entry
        router[table] = section
    doc["router"] = router
    return tomlkit.dumps(doc)


def record_serial_ports(root: Path, paths: dict[str, str]) -> None:
    """Write the simulators' pty paths into studio.toml (comments and hand edits kept)."""
    from recall.studio import set_ports

    set_ports(root, paths)
