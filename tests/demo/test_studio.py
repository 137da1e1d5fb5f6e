"""The demo studio folder: loads with recall, mixes machine-set and hand-set gear, survives a rebuild."""

from __future__ import annotations

from recall import store
from recall.sheet import validate_sheet
from recall.studio import load_studio

from hybrid.app.demo.studio import ALBUM, SONGS, build_demo_studio


def test_the_ep_of_three_songs_loads_and_validates(demo_studio):
    studio = load_studio(demo_studio)
    songs = store.list_songs(studio)
    assert [s.title for s in songs] == sorted(s.title for s in SONGS)
    assert {s.album for s in songs} == {ALBUM}
    for summary in songs:
        assert summary.ok, summary.problems
        sheet = store.load_sheet(studio, summary.slug)
        assert validate_sheet(sheet, studio) == []
        assert [t.name for t in sheet.tracks] == ["1Kick", "2Snare", "3Bass", "4Keys", "5Vox"]
        for track in sheet.tracks:
            assert (demo_studio / "songs" / summary.slug / track.file).is_file()
        assert any(t.inserts for t in sheet.tracks)


def test_the_room_has_machine_set_and_hand_set_gear(demo_studio):
    studio = load_studio(demo_studio)
    transports = {d.profile.transport for d in studio.devices.values()}
    assert transports == {"midi", "serial", "manual"}
    hand_set = [d.name for d in studio.devices.values() if not d.machine_settable]
    assert hand_set == ["Pultec"]
    sheet = store.load_sheet(studio, SONGS[0].slug)
    assert "Pultec" in sheet.used_devices() and "VCA Comp" in sheet.used_devices()
    assert studio.interface.device == "hybrid-gear"


def test_a_rebuild_keeps_the_engineers_edits(tmp_path):
    root = build_demo_studio(tmp_path / "room")
    sheet = store.load_sheet(root, SONGS[0].slug)
    sheet.set_value("VCA Comp", "threshold", -30.0)
    store.save_sheet(sheet, studio=load_studio(root))
    build_demo_studio(root)
    assert store.load_sheet(root, SONGS[0].slug).values("VCA Comp")["threshold"] == -30.0
