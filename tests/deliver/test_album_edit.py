"""Editing album.toml by program: fields checked as typed, tracks moved, comments kept, and a save
that never overwrites a change made to the file meanwhile."""

from __future__ import annotations

import json

import pytest

from hybrid.errors import HybridError
from hybrid.files.deliver.album import load_album
from hybrid.files.deliver.album_edit import AlbumDoc, check_field
from tests.deliver.studio import music, write_wav

ALBUM = '''# the client's running order, v2
title = "Night Shift"
performer = "The Examples"

[[tracks]]
title = "One"   # opener
file = "one.wav"

[[tracks]]
title = "Two"
file = "two.wav"
pregap_s = 1.0
'''


@pytest.fixture
def studio(tmp_path):
    folder = tmp_path / "albums" / "night-shift"
    folder.mkdir(parents=True)
    (folder / "album.toml").write_text(ALBUM, encoding="utf-8")
    write_wav(folder / "one.wav", music(5.0, 44100, seed=1), 44100, "PCM_16")
    write_wav(folder / "two.wav", music(6.0, 44100, seed=2), 44100, "PCM_16")
    return tmp_path


@pytest.mark.parametrize("key, text, stored, why", [
    ("isrc", "gbxyz2600001", "GB-XYZ-26-00001", None),
    ("isrc", "GB-XYZ-26-0001", None, "ISRC"),
    ("upc", "5012345678900", "5012345678900", None),
    ("upc", "5012345678901", None, "check digit"),
    ("pregap_s", "0", 0.0, None),
    ("pregap_s", "0.01", None, "not a whole CD frame"),
    ("pregap_s", "nan", None, "expected 0 to 60"),
    ("pregap_s", "two", None, "expected seconds"),
    ("start", "01:02:74", "01:02:74", None),
    ("start", "01:02:75", None, "frames 00-74"),
    ("title", "Déjà vu", "Déjà vu", None),
    ("title", "夜", None, "ISO 8859-1"),
    ("title", "", None, None),
])
def test_each_field_is_checked_as_typed(key, text, stored, why):
    value, reason = check_field(key, text)
    assert value == stored
    if why is None:
        assert reason is None
    else:
        assert reason is not None and why in reason


def test_edits_and_moves_keep_comments_and_load_as_a_delivery_would(studio):
    doc = AlbumDoc(studio, "night-shift")
    doc.set(1, "isrc", "GBXYZ2600002")
    doc.set(None, "upc", "5012345678900")
    assert doc.move(1, -1) == 0
    assert doc.save()
    with pytest.raises(HybridError, match=r"track 1 needs a pregap of at least 2 s"):
        load_album(studio, "night-shift")  # "Two" opens the album now, with its 1 s gap
    doc.set(0, "pregap_s", "")             # empty: back to the default (2 s)
    doc.save()
    text = (studio / "albums/night-shift/album.toml").read_text(encoding="utf-8")
    assert "# the client's running order, v2" in text and "# opener" in text
    album = load_album(studio, "night-shift")
    assert [t.title for t in album.tracks] == ["Two", "One"]
    assert album.tracks[0].isrc == "GBXYZ2600002" and album.upc == "5012345678900"
    assert "pregap_s" not in (studio / "albums/night-shift/album.toml").read_text(encoding="utf-8")


def test_a_refused_value_names_the_file_and_key_and_changes_nothing(studio):
    doc = AlbumDoc(studio, "night-shift")
    with pytest.raises(HybridError, match=r"album\.toml: tracks\[0\]\.isrc: .*ISRC"):
        doc.set(0, "isrc", "nonsense")
    with pytest.raises(HybridError, match=r"not an editable field"):
        doc.set(0, "file", "x.wav")
    assert not doc.dirty and not doc.save()


def test_a_save_never_overwrites_a_change_made_meanwhile(studio):
    path = studio / "albums/night-shift/album.toml"
    doc = AlbumDoc(studio, "night-shift")
    doc.set(0, "title", "Opener")
    path.write_text(ALBUM.replace('"Two"', '"Second"'), encoding="utf-8")   # an editor saves
    with pytest.raises(HybridError, match="changed on disk since it was read"):
        doc.save()
    assert '"Second"' in path.read_text(encoding="utf-8")


def _two_song_room(root):
    for song in ("night-drive", "glass-harbour"):
        (root / "songs" / song).mkdir(parents=True)
        (root / "songs" / song / "sheet.toml").write_text(
            f'spec = "hybrid-sheet/1"\n[song]\ntitle = "{song}"\nsamplerate = 48000\n', encoding="utf-8")
    ep = root / "albums" / "night-shift-ep"
    (ep / "sheets").mkdir(parents=True)
    (ep / "album.toml").write_text('spec = "hybrid-album/1"\ntitle = "Night Shift EP"\nperformer = "The Examples"\n'
                                   '[[tracks]]\nsong = "night-drive"\n', encoding="utf-8")
    (ep / "mastering.toml").write_text('spec = "hybrid-mastering/1"\nchain = ["M"]  # the bus chain\n',
                                       encoding="utf-8")
    (ep / "sheets" / "night-drive.toml").write_text('spec = "hybrid-sheet/1"\n[song]\ntitle = "ND master"\n',
                                                    encoding="utf-8")
    return root


def test_new_album_like_another_takes_its_chain_and_a_sheet_per_song(tmp_path, cli):
    import tomllib

    room = _two_song_room(tmp_path / "room")
    out = cli("deliver", "new-album", "Glass Harbour (Single)", "glass-harbour", "night-drive",
              "--like", "night-shift-ep", "--studio", str(room), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["album"] == "glass-harbour-single"
    single = room / "albums" / "glass-harbour-single"
    album = tomllib.loads((single / "album.toml").read_text(encoding="utf-8"))
    assert album["title"] == "Glass Harbour (Single)" and album["performer"] == "The Examples"
    assert [t["song"] for t in album["tracks"]] == ["glass-harbour", "night-drive"]
    ep = room / "albums" / "night-shift-ep"
    assert (single / "mastering.toml").read_text() == (ep / "mastering.toml").read_text()   # comments kept
    # night-drive has its own mastering sheet in the EP; glass-harbour starts from the EP's first track's
    for song in ("glass-harbour", "night-drive"):
        assert (single / "sheets" / f"{song}.toml").read_text() == (ep / "sheets" / "night-drive.toml").read_text()


@pytest.mark.parametrize("args, expected", [
    (["Night Shift EP", "night-drive"], "album 'night-shift-ep' exists already"),
    (["B Sides", "no-such-song"], "no song 'no-such-song' in this studio"),
    (["Наречие", "night-drive"], "is not in ISO 8859-1"),
    (["B Sides", "night-drive", "--like", "no-album"], "album 'no-album' to copy from"),
])
def test_new_album_refusals_are_one_line_and_write_nothing(tmp_path, cli, args, expected):
    room = _two_song_room(tmp_path / "room")
    before = sorted(p.name for p in (room / "albums").iterdir())
    out = cli("deliver", "new-album", *args, "--studio", str(room))
    assert out.returncode == 1 and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hybrid: error:") and expected in lines[0], out.stderr
    assert sorted(p.name for p in (room / "albums").iterdir()) == before
