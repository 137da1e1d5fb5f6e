"""A song's recall sheet: a TOML file people read and edit, and the model over it.

The file (``songs/<song>/sheet.toml``) ::

    spec = "hybrid-sheet/1"

    [song]
    title = "Night Drive"          # fixed keys, read by other parts (docs/CONTRACTS.md)
    artist = "The Examples"
    album = "Demo EP"
    samplerate = 48000
    stage = "fundamentals"         # preparation|fundamentals|vocals|depth-and-space|automation|review
    notes = "Vocal forward in the bridge."   # song notes (optional)
    photos = ["photos/desk.jpg"]   # optional, relative to the song folder

    [tracks."1Kick"]
    file = "stems/1Kick.wav"       # relative to the song folder

    [[tracks."1Kick".inserts]]     # the track's insert chain, in signal order
    loop = "A"                     # a loop of studio.toml
    devices = ["1176 #2", "Pultec"]   # gear on that loop, in signal order

    [devices."1176 #2"]            # a device of studio.toml, by its name in the room
    notes = "Pushed input for grit"   # optional
    photos = ["photos/1176.jpg"]   # optional (hand-set gear), relative to the song folder

    [devices."1176 #2".values]     # parameter values in the engineer's units
    input = 24.0                   # continuous: a number in the parameter's unit
    ratio = "4:1"                  # stepped: the detent label
    bypass = false                 # switch: true/false

    [[checklist]]                  # a free checklist, in order
    item = "Gain staging checked"
    done = true

    [mix]                          # a summing print (studio.toml [summing]): stem -> summing input
    inputs = { "1Kick" = 1, "2Snare" = 2, "5Vox" = 4 }
    null_limit_db = -50.0          # optional: a variant's null against "full" above this is flagged
    [mix.variants.instrumental]    # "full" (every stem) always exists; others mute stems
    mute = ["5Vox"]

An insert may say ``side = "L"`` (or "R", or a 1-based side number: a mono stem through
one side of a stereo loop) and ``ms = true`` (a stereo stem through the loop mid/side).

Values, loops and devices are checked against the studio by :func:`validate_sheet`
before anything is sent or saved. The model keeps the tomlkit document underneath, so
a sheet saved by the program keeps the comments and layout of a hand edit.
"""

from __future__ import annotations

import math
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomlkit
from tomlkit.toml_document import TOMLDocument

from devices import safe_read
from devices.errors import DeviceError
from recall.errors import Problem, RecallError, RecallProblems, key_path
from recall.tomlio import parse_toml, read_text, plain as _plain, type_name as _type_name

if TYPE_CHECKING:
    from recall.studio import Studio

SHEET_SPEC = "hybrid-sheet/1"
STAGES = ("preparation", "fundamentals", "vocals", "depth-and-space", "automation", "review")
SAMPLERATES = (44100, 48000, 88200, 96000, 176400, 192000)

Value = float | str | bool


@dataclass
class Insert:
    """One hop of a track's chain: the loop, and the gear on it in signal order.

    ``side``: a mono stem through one side (1-based) of a multi-channel loop; ``ms``: a
    stereo stem through a stereo loop mid/side."""

    loop: str
    devices: list[str] = field(default_factory=list)
    side: int | None = None
    ms: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"loop": self.loop, "devices": list(self.devices), "side": self.side, "ms": self.ms}


SIDES = {"L": 1, "R": 2}
MIX_FULL = "full"


@dataclass
class Mix:
    """``[mix]``: which summing input each stem plays on, and the variants (``full`` always)."""

    inputs: dict[str, int]
    variants: dict[str, list[str]]
    null_limit_db: float = -50.0

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": dict(self.inputs), "variants": {k: list(v) for k, v in self.variants.items()},
                "null_limit_db": self.null_limit_db}


@dataclass
class Track:
    """A stem of the song (``file`` relative to the song folder) and its insert chain."""

    name: str
    file: str
    inserts: list[Insert] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "inserts": [i.to_dict() for i in self.inserts]}


@dataclass
class ChecklistItem:
    item: str
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "done": self.done}


class Sheet:
    """A recall sheet over its tomlkit document. Build with :meth:`load`, :meth:`parse` or :meth:`new`.

    Reading accessors return plain Python values; the setters edit the document in
    place so untouched keys, comments and layout stay as they were.
    """

    def __init__(self, doc: TOMLDocument | dict[str, Any], *, file: str | None = None,
                 loaded_text: str | None = None) -> None:
        self.doc = doc
        """The tomlkit document (a plain dict for :meth:`peek`'s read-only view)."""
        self.file = file
        self.loaded_text = loaded_text
        """The file's text when this sheet was loaded or last saved (None: not from a file).
        ``recall.store.save_sheet`` compares it with the disk to notice an edit made since."""
        self.merged_from_disk: list[str] = []
        """Keys the last save took from the file on disk (changed there since the load)."""

    # -- construction ------------------------------------------------------------
    @classmethod
    def parse(cls, text: str, *, file: str | None = None) -> Sheet:
        """Parse and check the structure (types, spec, stage); RecallProblems lists every fault."""
        sheet = cls(parse_toml(text, display=file), file=file)
        problems = sheet.structure_problems()
        if problems:
            raise RecallProblems(problems)
        return sheet

    @classmethod
    def peek(cls, path: Path) -> Sheet:
        """A read-only view of a sheet for listings: parsed with ``tomllib`` (fast, no comments
        kept) and structure-checked. Do not save it: a save would drop the comments."""
        try:
            data = safe_read.read_toml(path, file=str(path))
        except safe_read.FileRefused as exc:
            raise RecallError(exc.reason, file=exc.file, key=exc.key) from None
        sheet = cls(data, file=str(path))
        problems = sheet.structure_problems()
        if problems:
            raise RecallProblems(problems)
        return sheet

    @classmethod
    def load(cls, path: Path) -> Sheet:
        text = read_text(path)
        sheet = cls(parse_toml(text, display=str(path)), file=str(path), loaded_text=text)
        problems = sheet.structure_problems()
        if problems:
            raise RecallProblems(problems)
        return sheet

    @classmethod
    def new(cls, title: str, *, artist: str = "", album: str = "", samplerate: int = 48000,
            stage: str = "preparation", tracks: dict[str, str] | None = None) -> Sheet:
        doc = tomlkit.document()
        doc.add(tomlkit.comment("Recall sheet: edit by hand or with hybrid; comments are kept."))
        doc.add(tomlkit.comment("Keys: see the recall.sheet docstring (docs/CONTRACTS.md)."))
        doc["spec"] = SHEET_SPEC
        song = tomlkit.table()
        song["title"] = title
        song["artist"] = artist
        song["album"] = album
        song["samplerate"] = samplerate
        song["stage"] = stage
        doc["song"] = song
        tracks_table = tomlkit.table(is_super_table=True)
        for name, file in (tracks or {}).items():
            t = tomlkit.table()
            t["file"] = file
            tracks_table[name] = t
        doc["tracks"] = tracks_table
        sheet = cls(doc)
        problems = sheet.structure_problems()
        if problems:
            raise RecallProblems(problems)
        return sheet

    def dumps(self) -> str:
        return tomlkit.dumps(self.doc)

    def copy(self) -> Sheet:
        return Sheet(parse_toml(self.dumps(), display=self.file), file=self.file, loaded_text=self.loaded_text)

    # -- song --------------------------------------------------------------------
    def _song(self) -> dict[str, Any]:
        return self.doc.get("song") or {}

    @property
    def title(self) -> str:
        return str(self._song().get("title", ""))

    @property
    def artist(self) -> str:
        return str(self._song().get("artist", ""))

    @property
    def album(self) -> str:
        return str(self._song().get("album", ""))

    @property
    def samplerate(self) -> int:
        return int(self._song().get("samplerate", 0))

    @property
    def stage(self) -> str:
        return str(self._song().get("stage", "preparation"))

    @property
    def notes(self) -> str:
        return str(self._song().get("notes", ""))

    @property
    def photos(self) -> list[str]:
        return [str(p) for p in self._song().get("photos", [])]

    def set_song(self, **fields: Any) -> None:
        """Set [song] keys (title, artist, album, samplerate, stage, notes, photos)."""
        if "song" not in self.doc:
            self.doc["song"] = tomlkit.table()
        song = self.doc["song"]
        for name, value in fields.items():
            if name == "notes" and "\n" in str(value):
                song[name] = tomlkit.string(str(value), multiline=True)
            else:
                song[name] = value

    # -- tracks ------------------------------------------------------------------
    @property
    def tracks(self) -> list[Track]:
        out = []
        for name, t in (self.doc.get("tracks") or {}).items():
            inserts = [Insert(loop=str(i.get("loop", "")), devices=[str(d) for d in i.get("devices", [])],
                              side=_side(i.get("side")), ms=bool(i.get("ms", False)))
                       for i in t.get("inserts", [])]
            out.append(Track(name=str(name), file=str(t.get("file", "")), inserts=inserts))
        return out

    @property
    def mix(self) -> Mix | None:
        """The ``[mix]`` table (structure-checked), or None when the sheet has none."""
        table = _plain(self.doc.get("mix"))
        if not isinstance(table, dict):
            return None
        variants: dict[str, list[str]] = {MIX_FULL: []}
        for name, v in (table.get("variants") or {}).items():
            variants[str(name)] = [str(m) for m in (v or {}).get("mute", [])]
        return Mix(inputs={str(k): int(v) for k, v in (table.get("inputs") or {}).items()}, variants=variants,
                   null_limit_db=float(table.get("null_limit_db", -50.0)))

    def set_mix(self, mix: Mix | None) -> None:
        """Write ``[mix]`` as a whole (inputs, the variants other than ``full``, the null limit
        where it is not the default); None removes it."""
        if mix is None:
            if "mix" in self.doc:
                del self.doc["mix"]
            return
        table = tomlkit.table()
        inputs = tomlkit.table()
        for stem, number in mix.inputs.items():
            inputs[stem] = int(number)
        table["inputs"] = inputs
        variants = tomlkit.table(is_super_table=True)
        for name, muted in mix.variants.items():
            if name != MIX_FULL:
                variant = tomlkit.table()
                variant["mute"] = list(muted)
                variants[name] = variant
        if len(variants):
            table["variants"] = variants
        if mix.null_limit_db != Mix.null_limit_db:
            table["null_limit_db"] = float(mix.null_limit_db)
        self.doc["mix"] = table

    def set_inserts(self, track: str, inserts: list[Insert]) -> None:
        tracks = self.doc.setdefault("tracks", tomlkit.table(is_super_table=True))
        if track not in tracks:
            raise RecallProblems([Problem(self.file, key_path("tracks", track), "no such track on this sheet")])
        if inserts:
            tracks[track]["inserts"] = [_insert_table(i) for i in inserts]
        elif "inserts" in tracks[track]:
            del tracks[track]["inserts"]

    # -- devices -----------------------------------------------------------------
    @property
    def device_names(self) -> list[str]:
        return [str(n) for n in (self.doc.get("devices") or {})]

    def values(self, device: str) -> dict[str, Value]:
        entry = (self.doc.get("devices") or {}).get(device) or {}
        values = entry.get("values")
        return dict(_plain(values)) if values is not None else {}

    def all_values(self) -> dict[str, dict[str, Value]]:
        return {name: self.values(name) for name in self.device_names}

    def device_notes(self, device: str) -> str:
        entry = (self.doc.get("devices") or {}).get(device) or {}
        return str(entry.get("notes", ""))

    def device_photos(self, device: str) -> list[str]:
        entry = (self.doc.get("devices") or {}).get(device) or {}
        return [str(p) for p in entry.get("photos", [])]

    def _device_table(self, device: str) -> MutableMapping[str, Any]:
        if "devices" not in self.doc:
            self.doc["devices"] = tomlkit.table(is_super_table=True)
        devices = self.doc["devices"]
        if device not in devices:
            devices[device] = tomlkit.table(is_super_table=True)
        entry: MutableMapping[str, Any] = devices[device]
        return entry

    def set_values(self, device: str, values: dict[str, Value]) -> None:
        """Set parameter values of ``device`` (other parameters and comments untouched)."""
        entry = self._device_table(device)
        if "values" not in entry:
            entry["values"] = tomlkit.table()
        table = entry["values"]
        for param, value in values.items():
            value = _clean_value(value)
            current = table.get(param)
            if current is not None and _plain(current) == value and type(_plain(current)) is type(value):
                continue
            table[param] = value

    def set_value(self, device: str, param: str, value: Value) -> None:
        self.set_values(device, {param: value})

    def remove_device(self, device: str) -> None:
        devices = self.doc.get("devices")
        if devices is not None and device in devices:
            del devices[device]

    def set_device_notes(self, device: str, notes: str) -> None:
        entry = self._device_table(device)
        if notes:
            entry["notes"] = tomlkit.string(notes, multiline="\n" in notes)
        elif "notes" in entry:
            del entry["notes"]

    def set_device_photos(self, device: str, photos: list[str]) -> None:
        entry = self._device_table(device)
        if photos:
            entry["photos"] = list(photos)
        elif "photos" in entry:
            del entry["photos"]

    # -- checklist ---------------------------------------------------------------
    @property
    def checklist(self) -> list[ChecklistItem]:
        return [ChecklistItem(item=str(c.get("item", "")), done=bool(c.get("done", False)))
                for c in self.doc.get("checklist", [])]

    def check(self, item: str, done: bool = True) -> None:
        """Tick (or untick) a checklist item, adding it at the end when new."""
        if "checklist" not in self.doc:
            self.doc["checklist"] = tomlkit.aot()
        for entry in self.doc["checklist"]:
            if entry.get("item") == item:
                entry["done"] = done
                return
        t = tomlkit.table()
        t["item"] = item
        t["done"] = done
        self.doc["checklist"].append(t)

    # -- whole sheet ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": SHEET_SPEC, "title": self.title, "artist": self.artist, "album": self.album,
            "samplerate": self.samplerate, "stage": self.stage, "notes": self.notes,
            "photos": self.photos, "tracks": [t.to_dict() for t in self.tracks],
            "devices": {n: {"values": self.values(n), "notes": self.device_notes(n),
                            "photos": self.device_photos(n)} for n in self.device_names},
            "checklist": [c.to_dict() for c in self.checklist],
        }

    def used_devices(self) -> list[str]:
        """Every device of the sheet in signal-flow order: chains track by track, then the rest."""
        seen: dict[str, None] = {}
        for track in self.tracks:
            for ins in track.inserts:
                for dev in ins.devices:
                    seen.setdefault(dev, None)
        for dev in self.device_names:
            seen.setdefault(dev, None)
        return list(seen)

    def structure_problems(self) -> list[Problem]:
        """Type and shape checks that need no studio: spec, [song], tracks, devices, checklist."""
        return _StructureChecker(self.file).run(_plain(self.doc))


def _side(value: Any) -> int | None:
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, str):
        return SIDES.get(value.upper())
    return int(value)


def _insert_table(insert: Insert) -> dict[str, Any]:
    table: dict[str, Any] = {"loop": insert.loop, "devices": list(insert.devices)}
    if insert.side is not None:
        table["side"] = insert.side
    if insert.ms:
        table["ms"] = True
    return table


def _clean_value(value: Any) -> Value:
    value = _plain(value)
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        v = float(value)
        if not math.isfinite(v):
            raise ValueError(f"{value!r} is not a finite number")
        return round(v, 4)
    raise TypeError(f"a sheet value is a number, a detent label or true/false, not {type(value).__name__}")


class _StructureChecker:
    def __init__(self, file: str | None):
        self.file = file
        self.problems: list[Problem] = []

    def bad(self, key: str, reason: str) -> None:
        self.problems.append(Problem(self.file, key, reason))

    def is_str(self, table: dict[str, Any], name: str, *parts: str | int, required: bool = False) -> None:
        key = key_path(*parts, name)
        if name not in table:
            if required:
                self.bad(key, "missing (expected a string)")
            return
        if not isinstance(_plain(table[name]), str):
            self.bad(key, f"expected a string, got {_type_name(table[name])}")

    def str_list(self, table: dict[str, Any], name: str, *parts: str | int) -> None:
        if name not in table:
            return
        value = _plain(table[name])
        if not isinstance(value, list):
            self.bad(key_path(*parts, name), f"expected an array of strings, got {_type_name(value)}")
            return
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.bad(key_path(*parts, name, i), f"expected a string, got {_type_name(item)}")

    def run(self, doc: Any) -> list[Problem]:
        spec = doc.get("spec")
        if spec is None:
            self.bad("spec", f'missing (expected "{SHEET_SPEC}")')
        elif spec != SHEET_SPEC:
            self.bad("spec", f'unsupported spec {_plain(spec)!r} (expected "{SHEET_SPEC}")')
        song = doc.get("song")
        if not isinstance(song, dict):
            self.bad("song", "missing [song] table" if song is None else f"expected a table, got {_type_name(song)}")
        else:
            self.song(song)
        tracks = doc.get("tracks")
        if tracks is not None:
            if not isinstance(tracks, dict):
                self.bad("tracks", f"expected a table, got {_type_name(tracks)}")
            else:
                for name, t in tracks.items():
                    self.track(str(name), t)
        devices = doc.get("devices")
        if devices is not None:
            if not isinstance(devices, dict):
                self.bad("devices", f"expected a table, got {_type_name(devices)}")
            else:
                for name, d in devices.items():
                    self.device(str(name), d)
        mix = doc.get("mix")
        if mix is not None:
            self.mix(mix)
        checklist = doc.get("checklist")
        if checklist is not None:
            if not isinstance(_plain(checklist), list):
                self.bad("checklist", f"expected [[checklist]] entries, got {_type_name(checklist)}")
            else:
                for i, entry in enumerate(checklist):
                    if not isinstance(entry, dict):
                        self.bad(key_path("checklist", i), f"expected a table, got {_type_name(entry)}")
                        continue
                    self.is_str(entry, "item", "checklist", i, required=True)
                    if "done" in entry and not isinstance(_plain(entry["done"]), bool):
                        self.bad(key_path("checklist", i, "done"),
                                 f"expected true or false, got {_type_name(entry['done'])}")
        return self.problems

    def song(self, song: dict[str, Any]) -> None:
        self.is_str(song, "title", "song", required=True)
        if "title" in song and isinstance(_plain(song["title"]), str) and not str(song["title"]).strip():
            self.bad("song.title", "empty (expected the song's title)")
        for name in ("artist", "album", "notes"):
            self.is_str(song, name, "song")
        self.str_list(song, "photos", "song")
        rate = _plain(song.get("samplerate"))
        if rate is None:
            self.bad("song.samplerate", "missing (expected the stems' sample rate in Hz)")
        elif isinstance(rate, bool) or not isinstance(rate, int) or rate not in SAMPLERATES:
            self.bad("song.samplerate", f"{_type_name(rate)} is not a sample rate (expected one of "
                     f"{', '.join(map(str, SAMPLERATES))})")
        stage = _plain(song.get("stage", "preparation"))
        if stage not in STAGES:
            self.bad("song.stage", f"{_type_name(stage)} is not a stage (expected one of {', '.join(STAGES)})")

    def track(self, name: str, t: Any) -> None:
        if not isinstance(t, dict):
            self.bad(key_path("tracks", name), f"expected a table, got {_type_name(t)}")
            return
        self.is_str(t, "file", "tracks", name, required=True)
        inserts = t.get("inserts")
        if inserts is None:
            return
        if not isinstance(_plain(inserts), list):
            self.bad(key_path("tracks", name, "inserts"), f"expected an array of tables, got {_type_name(inserts)}")
            return
        for i, ins in enumerate(inserts):
            if not isinstance(ins, dict):
                self.bad(key_path("tracks", name, "inserts", i), f"expected a table, got {_type_name(ins)}")
                continue
            self.is_str(ins, "loop", "tracks", name, "inserts", i, required=True)
            self.str_list(ins, "devices", "tracks", name, "inserts", i)
            side = _plain(ins.get("side"))
            if side is not None and not (isinstance(side, str) and side.upper() in SIDES
                                         or isinstance(side, int) and not isinstance(side, bool) and side >= 1):
                self.bad(key_path("tracks", name, "inserts", i, "side"),
                         f"expected \"L\", \"R\" or a side number from 1, got {_type_name(side)}")
            if "ms" in ins and not isinstance(_plain(ins["ms"]), bool):
                self.bad(key_path("tracks", name, "inserts", i, "ms"), f"expected true or false, got "
                         f"{_type_name(ins['ms'])}")

    def mix(self, mix: Any) -> None:
        if not isinstance(mix, dict):
            self.bad("mix", f"expected a table, got {_type_name(mix)}")
            return
        for key in mix:
            if key not in ("inputs", "variants", "null_limit_db"):
                self.bad(key_path("mix", str(key)), "unknown key (known: inputs, variants, null_limit_db)")
        inputs = mix.get("inputs")
        if not isinstance(inputs, dict):
            self.bad("mix.inputs", "missing (expected { stem = summing input, ... })" if inputs is None
                     else f"expected a table of stem = input, got {_type_name(inputs)}")
        else:
            for stem, number in inputs.items():
                n = _plain(number)
                if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                    self.bad(key_path("mix", "inputs", str(stem)), f"expected a summing input from 1, got "
                             f"{_type_name(n)}")
        limit = _plain(mix.get("null_limit_db", -50.0))
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not -200.0 <= limit <= 0.0:
            self.bad("mix.null_limit_db", f"expected a level in dB from -200 to 0, got {_type_name(limit)}")
        variants = mix.get("variants")
        if variants is None:
            return
        if not isinstance(variants, dict):
            self.bad("mix.variants", f"expected tables [mix.variants.NAME], got {_type_name(variants)}")
            return
        for name, v in variants.items():
            key = key_path("mix", "variants", str(name))
            if not isinstance(v, dict):
                self.bad(key, f"expected a table, got {_type_name(v)}")
                continue
            if str(name) == MIX_FULL and v.get("mute"):
                self.bad(key_path("mix", "variants", str(name), "mute"), "\"full\" is every stem: it mutes nothing")
            self.str_list(v, "mute", "mix", "variants", str(name))
            for k in v:
                if k != "mute":
                    self.bad(key_path("mix", "variants", str(name), str(k)), "unknown key (known: mute)")

    def device(self, name: str, d: Any) -> None:
        if not isinstance(d, dict):
            self.bad(key_path("devices", name), f"expected a table, got {_type_name(d)}")
            return
        self.is_str(d, "notes", "devices", name)
        self.str_list(d, "photos", "devices", name)
        values = d.get("values")
        if values is not None and not isinstance(values, dict):
            self.bad(key_path("devices", name, "values"), f"expected a table, got {_type_name(values)}")
            return
        for param, value in (values or {}).items():
            v = _plain(value)
            if not isinstance(v, (bool, str, int, float)):
                self.bad(key_path("devices", name, "values", str(param)),
                         f"expected a number, a detent label or true/false, got {_type_name(v)}")
        for key in d:
            if key not in ("notes", "photos", "values"):
                self.bad(key_path("devices", name, str(key)),
                         "unknown key (parameter values go under "
                         f"[{key_path('devices', name, 'values')}])")


def validate_sheet(sheet: Sheet, studio: Studio) -> list[Problem]:
    """Check ``sheet`` against ``studio``: devices, parameters, values in range, loops.

    Returns every problem (an empty list when the sheet is good); nothing is sent or
    saved while this list is non-empty.
    """
    file = sheet.file
    if not isinstance(sheet.doc, dict) or hasattr(sheet.doc, "unwrap"):
        sheet = Sheet(_plain(sheet.doc), file=file)  # plain data: tomlkit items are slow to walk
    problems = list(sheet.structure_problems())
    if problems:
        return problems
    for dev_name in sheet.device_names:
        if dev_name not in studio.devices:
            problems.append(Problem(file, key_path("devices", dev_name),
                                    f"no device {dev_name!r} in the studio "
                                    f"(known: {', '.join(studio.devices) or 'none'})"))
            continue
        profile = studio.devices[dev_name].profile
        for param, value in sheet.values(dev_name).items():
            if param in profile.parameters and _valid(profile.parameters[param], value):
                continue
            key = key_path("devices", dev_name, "values", param)
            if param not in profile.parameters:
                problems.append(Problem(file, key, f"{profile.id} has no parameter {param!r} "
                                        f"(known: {', '.join(profile.parameters)})"))
                continue
            try:
                normalise_value(profile.parameters[param], value)
            except (DeviceError, ValueError, TypeError) as exc:
                problems.append(Problem(file, key, _reason(exc)))
    for track in sheet.tracks:
        for i, ins in enumerate(track.inserts):
            key = key_path("tracks", track.name, "inserts", i)
            if ins.loop not in studio.loops:
                problems.append(Problem(file, key + ".loop", f"no loop {ins.loop!r} in the studio "
                                        f"(known: {', '.join(studio.loops) or 'none'})"))
            for j, dev in enumerate(ins.devices):
                if dev not in studio.devices:
                    problems.append(Problem(file, f"{key}.devices[{j}]", f"no device {dev!r} in the studio"))
    return problems


def _valid(param: Any, value: Any) -> bool:
    try:
        normalise_value(param, value)
    except (DeviceError, ValueError, TypeError):
        return False
    return True


def normalise_value(param: Any, value: Any) -> Value:
    """The value as the sheet stores it, after the profile's parse and range check."""
    parsed = param.check(param.parse(_plain(value)))
    return _clean_value(parsed)


def _reason(exc: Exception) -> str:
    return getattr(exc, "reason", None) or str(exc)


def require_valid(sheet: Sheet, studio: Studio) -> None:
    """Raise RecallProblems listing every problem of ``sheet`` against ``studio``."""
    problems = validate_sheet(sheet, studio)
    if problems:
        raise RecallProblems(problems)
