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


def test_the_mix_and_master_room_has_a_summing_mixer_mixes_and_an_album_to_master(tmp_path):
    from hybrid.app.demo.studio import ALBUM_SLUG, MASTER_CHAIN
    from hybrid.live.audio.master import plan_master
    from hybrid.live.audio.mix import plan_mix

    root = build_demo_studio(tmp_path / "room", mix_and_master=True)
    studio = load_studio(root)
    assert studio.summing.bus == "BUS" and studio.loops["BUS"].sides == 2
    for song in SONGS:
        plan = plan_mix(studio, store.load_sheet(studio, song.slug), root / "songs" / song.slug, song.slug)
        assert list(plan.variants) == ["full", "instrumental"] and plan.variants["instrumental"] == ["5Vox"]
        assert [s.inputs for s in plan.stems] == [(1,), (2,), (3,), (4,), (5,)]
        (root / "songs" / song.slug / "mix").mkdir()
        (root / "songs" / song.slug / "mix" / "full.wav").write_bytes(
            (root / "songs" / song.slug / "stems" / "1Kick.wav").read_bytes())   # plan_master wants a mix file
    master = plan_master(studio, ALBUM_SLUG)
    assert [loop.name for loop in master.chain] == list(MASTER_CHAIN)
    assert master.songs == [s.slug for s in SONGS]
    assert all(sheet.used_devices() == ["Mastering Comp"] for sheet in master.sheets.values())
