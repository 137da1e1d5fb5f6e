"""Concurrent edits: a sheet changed on disk (by another process) between hybrid's load and
save is merged key by key or refused with the conflicting key; nothing is lost, not even
from history; temporaries of killed saves are cleaned by the next save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from recall.atomic import TEMP_PREFIX, clean_stale_temps
from recall.store import SheetConflict, create_song, history, load_sheet, save_sheet
from tests.recall.studio_kit import PAPER_STUDIO, make_studio

ROOT = Path(__file__).resolve().parents[2]

EDITOR = r"""
import sys
from pathlib import Path
path, old, new = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
text = path.read_text(encoding="utf-8")
assert old in text, (old, text)
with open(path, "w", encoding="utf-8") as fh:   # as an editor saves: in place, not atomic
    fh.write(text.replace(old, new, 1))
"""


def editor_saves(path: Path, old: str, new: str, *, text: str | None = None) -> None:
    """Another process rewrites the file (``text`` first when given: its stale buffer)."""
    if text is not None:
        path.write_text(text, encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", EDITOR, str(path), old, new], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr


@pytest.fixture
def song(tmp_path):
    root = make_studio(tmp_path / "room", PAPER_STUDIO)
    path = create_song(root, "Night Drive", artist="The Examples", samplerate=48000,
                       tracks={"1Kick": "stems/1Kick.wav"})
    sheet = load_sheet(root, "night-drive")
    sheet.set_values("Pultec A", {"gain": 3.0})
    sheet.set_song(notes="first notes")
    save_sheet(sheet, path)
    return root, path


def test_an_edit_on_disk_since_the_load_is_merged_not_overwritten(song):
    root, path = song
    sheet = load_sheet(root, "night-drive")
    editor_saves(path, 'notes = "first notes"', 'notes = "from the editor"  # typed by hand')
    sheet.set_values("Pultec A", {"gain": 5.0})
    sheet.set_song(stage="vocals")
    assert save_sheet(sheet, path)
    text = path.read_text()
    assert 'notes = "from the editor"  # typed by hand' in text  # the editor's key and comment kept
    back = load_sheet(root, "night-drive")
    assert back.values("Pultec A")["gain"] == 5.0 and back.stage == "vocals"
    assert back.notes == "from the editor" and sheet.notes == "from the editor"  # the caller's sheet is the merge
    assert sheet.merged_from_disk == ["song.notes"]
    # the editor's version is in the history, as it was on disk before this save
    assert any('"from the editor"' in v.path.read_text() and "gain = 3.0" in v.path.read_text()
               for v in history(root, "night-drive"))


def test_both_sides_changing_one_key_is_refused_naming_file_key_and_both_values(song):
    root, path = song
    sheet = load_sheet(root, "night-drive")
    editor_saves(path, "gain = 3.0", "gain = 4.0")
    on_disk = path.read_text()
    versions = len(history(root, "night-drive"))
    sheet.set_values("Pultec A", {"gain": 6.0})
    sheet.set_song(stage="review")  # a key without conflict is not saved either: nothing is written
    with pytest.raises(SheetConflict) as err:
        save_sheet(sheet, path)
    problem = err.value.problems[0]
    assert problem.file == str(path) and problem.key == 'devices."Pultec A".values.gain'
    assert "now 4.0" in problem.reason and "this save has 6.0" in problem.reason
    assert path.read_text() == on_disk and len(history(root, "night-drive")) == versions
    line = str(err.value)
    assert str(path) in line and "gain" in line and "\n" not in line


def test_an_editor_saving_after_recall_copy_does_not_erase_the_copy_from_history(song, cli):
    root, path = song
    target = create_song(root, "Second Song", samplerate=48000, tracks={"1Kick": "stems/1Kick.wav"})
    stale_buffer = target.read_text()   # the engineer has the target open in an editor
    out = cli("recall", "copy", "night-drive", "second-song", "--studio", str(root))
    assert out.returncode == 0, out.stderr
    copied = target.read_text()
    assert "gain = 3.0" in copied
    # ... and saves the editor's old buffer with an edit over hybrid's copy
    editor_saves(target, 'stage = "preparation"', 'stage = "vocals"', text=stale_buffer)
    assert "gain" not in target.read_text()
    texts = [v.path.read_text() for v in history(root, "second-song")]
    assert copied in texts, "hybrid's copy must stay in the history"
    # the next save through hybrid keeps both: the editor's file is current, the copy a version
    sheet = load_sheet(root, "second-song")
    sheet.set_song(notes="after the editor")
    save_sheet(sheet, target)
    texts = [v.path.read_text() for v in history(root, "second-song")]
    assert copied in texts and any('stage = "vocals"' in t for t in texts)
    out = cli("recall", "history", "second-song", "--studio", str(root), "--json")
    assert out.returncode == 0, out.stderr


KILLED_SAVER = r"""
import sys, time
from pathlib import Path
from recall.atomic import atomic_path
with atomic_path(Path(sys.argv[1])) as tmp:
    tmp.write_text("half a sheet", encoding="utf-8")
    print("writing", flush=True)
    time.sleep(60)
"""


def test_a_killed_saves_temporary_is_cleaned_by_the_next_save(song):
    root, path = song
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVER, str(path)], stdout=subprocess.PIPE, env=env,
                            cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == b"writing"
        temps = [p for p in path.parent.iterdir() if p.name.startswith(TEMP_PREFIX)]
        assert len(temps) == 1 and temps[0].read_text() == "half a sheet"
        # while its writer runs, a save leaves it alone (that process may still rename it)
        assert clean_stale_temps(path) == [] and temps[0].exists()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert temps[0].exists()
    sheet = load_sheet(root, "night-drive")
    sheet.set_song(notes="after the crash")
    save_sheet(sheet, path)
    assert not temps[0].exists()
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(TEMP_PREFIX)] == []
    assert load_sheet(root, "night-drive").notes == "after the crash"


def test_history_keeps_time_order_when_two_versions_share_a_stamp(song):
    root, path = song
    for i in range(5):
        sheet = load_sheet(root, "night-drive")
        sheet.set_song(notes=f"take {i}")
        save_sheet(sheet, path)
    notes = [load_sheet(root, "night-drive").notes]
    versions = history(root, "night-drive")
    from recall.sheet import Sheet

    listed = [Sheet.load(v.path).notes for v in versions]
    assert listed[-4:] == ["take 0", "take 1", "take 2", "take 3"] and notes == ["take 4"]


def test_leftovers_of_dead_writers_go_live_ones_and_foreign_names_stay(tmp_path):
    """clean_stale_temps: a dead writer's temporary file or staging folder is removed; a live
    writer's is kept (until it is older than STALE_AFTER_S); other files are never touched."""
    from recall.atomic import STALE_AFTER_S, temp_name

    target = tmp_path / "deliver"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True, timeout=60)
    dead_pid = int(dead.stdout)
    stale_dir = tmp_path / f"{TEMP_PREFIX}deliver.{dead_pid}.0123abcd"
    (stale_dir / "DDP").mkdir(parents=True)
    (stale_dir / "DDP" / "IMAGE.DAT").write_bytes(b"\0" * 10)
    stale_file = tmp_path / f"{TEMP_PREFIX}deliver.{dead_pid}.89abcdef"
    stale_file.write_text("half")
    live = temp_name(target)
    live.write_text("being written by this process")
    foreign = [tmp_path / f"{TEMP_PREFIX}deliver.b.{dead_pid}.0123abcd", tmp_path / "deliver.txt",
               tmp_path / f"{TEMP_PREFIX}deliver.{dead_pid}.not-hex!"]
    for path in foreign:
        path.write_text("not ours")
    assert sorted(clean_stale_temps(target)) == sorted([stale_dir, stale_file])
    assert live.exists() and all(p.exists() for p in foreign)
    later = os.stat(live).st_mtime + STALE_AFTER_S + 1
    assert clean_stale_temps(target, now=later) == [live]


TWO_SAVERS = r"""
import sys
from pathlib import Path
from recall.sheet import Sheet
from recall.store import save_sheet
path, who, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for i in range(1, rounds + 1):
    sheet = Sheet.load(path)
    if who == "knob":
        sheet.set_values("Pultec A", {"gain": float(i)})
    else:
        sheet.set_song(notes=f"round {i}")
    save_sheet(sheet, path)
print("done", flush=True)
"""


def test_two_of_our_processes_saving_one_sheet_lose_nothing(song):
    """Two hybrid processes (a surface and the TUI, say) load, change different keys and save the
    same sheet as fast as they can: every save merges what the other wrote; the last of each wins."""
    root, path = song
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rounds = 25
    procs = [subprocess.Popen([sys.executable, "-c", TWO_SAVERS, str(path), who, str(rounds)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
             for who in ("knob", "notes")]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out.strip() == b"done", err.decode()
    sheet = load_sheet(root, "night-drive")
    assert sheet.values("Pultec A")["gain"] == float(rounds) and sheet.notes == f"round {rounds}"
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(TEMP_PREFIX)] == []
