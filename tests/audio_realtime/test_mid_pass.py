"""What happens during a pass, as it happens: where xruns fell decides whether they spoil it;
a cancel stops the stream within a period; a delay changed or a dropout in the return mid-stem
makes the pass bad.

The events are made for real, at a point of the pass its progress reports, which only a real
clock ties to the audio closely enough (offline, the gear is driven as fast as the CPU goes
and an event set from a report landed where the pass no longer looked: a dropout missed, one
pass in four). Xruns: a thread holds the interpreter lock (one huge multiplication in C), so
this process's JACK callbacks miss their periods, as on an overloaded machine.
"""

from __future__ import annotations

import threading

import pytest

from hybrid.errors import XRUNS, PrintCancelled, code_of
from hybrid.live.audio.interface import resolve_device
from hybrid.live.audio.printing import PrintOptions, print_pass
from hybrid.live.audio.stream import DuplexRun, StreamStats

from tests.audio_print.conftest import FAST, FAST_PING, GEAR, LOOP_FRAC, LOOP_HOOKS, PERIOD, RATE, _settings
from tests.audio_print.test_print_pass import START, _hook_at, _job, stems  # noqa: F401  (stems is a fixture)

BIG = (1 << 800_000) - 1


def _hog() -> None:
    """Hold the interpreter lock ~0.1 s at a time, three times, from a thread of its own."""
    threading.Thread(target=lambda: [BIG * BIG for _ in range(3)]).start()


def test_the_span_that_matters_counts_a_block_either_side():
    stats = StreamStats(frames=100_000, blocksize_seen=1024, xrun_frames=[0, 1024, 47_000, 60_000, 99_500],
                        xrun_callbacks=5)
    assert stats.xruns_within(48_000, 90_000) == 2        # 47 000 is one block before the span: counted
    assert stats.xruns_within(49_024, 90_000) == 1        # a block away: not
    assert stats.xruns_within(2_048, 47_000 - 1_024) == 0
    unknown = StreamStats(frames=100_000, blocksize_seen=1024, xrun_frames=[0], xrun_callbacks=3)
    assert unknown.xruns_within(48_000, 90_000) == 2      # positions not kept count as inside


def test_xruns_before_the_first_ping_are_reported_and_do_not_spoil_the_pass(gear, stems, tmp_path):  # noqa: F811
    d, _, _ = stems
    settle_s = 1.0                                         # a second of silence before the first ping
    ping_a = int(settle_s * RATE)
    options = PrintOptions(settle_s=settle_s, tail_s=0.02, progress_interval_s=0.01)
    outcomes = []
    for attempt in range(4):   # the loaded machine may add xruns elsewhere: look for a pass where all fell early
        job = _job(tmp_path, f"kick{attempt}", LOOP_FRAC, d / "1Kick.wav")
        hook, fired = _hook_at(2 * PERIOD, _hog)
        result = print_pass([job], _settings(), options, ping=FAST_PING, on_progress=hook)
        assert fired.is_set()
        frames = result.stats.xrun_frames
        outcomes.append((frames, result.problems))
        if result.stats.xruns and len(frames) == result.stats.xrun_callbacks and max(frames) < ping_a - PERIOD:
            break
    else:
        raise AssertionError(f"no pass had its xruns only before the first ping: {outcomes}")
    assert result.good and result.problems == [], result.problems
    assert result.files[0].good and job.output.is_file()
    assert any("outside the pings" in note for note in result.notes), result.notes
    assert result.to_dict()["stream"]["xrun_frames"] == frames


def test_xruns_between_the_pings_spoil_the_pass_with_a_typed_problem(gear, stems, tmp_path):  # noqa: F811
    d, _, _ = stems
    job = _job(tmp_path, "kick", LOOP_FRAC, d / "1Kick.wav")
    start = int(FAST.settle_s * RATE) + len(FAST_PING.signal(RATE).sent)
    hook, fired = _hook_at(start + 2000, _hog)              # while the stem plays
    result = print_pass([job], _settings(), FAST, ping=FAST_PING, on_progress=hook)
    assert fired.is_set() and result.stats.xruns > 0 and not result.good
    assert [code_of(p) for p in result.problems] == [XRUNS]
    assert XRUNS in [code_of(p) for p in result.files[0].problems]
    assert not job.output.exists() and result.files[0].path.name.endswith(".BAD.wav")


def test_cancel_stops_the_stream_within_a_period(gear):
    total = 4 * RATE
    cancel = threading.Event()
    seen: dict[str, int] = {}
    run: DuplexRun

    def produce(block):
        block[:] = 0.1
        return len(block)

    def on_progress(p):
        if p.position_frames >= RATE // 2 and not cancel.is_set():
            seen["callbacks"] = run.callbacks
            cancel.set()

    run = DuplexRun(resolve_device(GEAR), samplerate=RATE, blocksize=0, out_channels=1, in_channels=1,
                    total_frames=total, produce=produce, consume=lambda pos, block: None,
                    on_progress=on_progress, progress_interval_s=0.01, cancel=cancel)
    with pytest.raises(PrintCancelled, match="cancelled at"):
        run.run()
    assert run.callbacks - seen["callbacks"] <= 1           # at most the block already in flight played
    if run.cancelled_at_frame is not None:                  # the callback itself saw it and aborted
        assert run.cancelled_at_frame < total


def test_xruns_are_counted_and_the_pass_is_bad(gear, stems, tmp_path):  # noqa: F811
    d, _, _ = stems
    job = _job(tmp_path, "kick", LOOP_FRAC, d / "1Kick.wav")

    hook, fired = _hook_at(START - 2000, _hog)     # just before the stem: between the pings
    result = print_pass([job], _settings(), FAST, ping=FAST_PING, on_progress=hook)
    assert fired.is_set()
    assert result.stats.xruns > 0 and not result.good
    assert any("xrun" in p for p in result.problems)
    assert not job.output.exists() and result.files[0].path.name.endswith(".BAD.wav")


def test_delay_changed_between_pings_marks_the_pass_bad(gear, stems, tmp_path):  # noqa: F811
    d, kick, _ = stems
    job = _job(tmp_path, "kick", LOOP_HOOKS, d / "1Kick.wav")
    hook, fired = _hook_at(START + 6000, lambda: gear.set_delay(LOOP_HOOKS, 12.75))   # mid-stem
    try:
        result = print_pass([job], _settings(), FAST, ping=FAST_PING, on_progress=hook)
    finally:
        gear.set_delay(LOOP_HOOKS, 10.5)
    assert fired.is_set()
    f = result.files[0]
    assert not result.good and not f.good
    assert not job.output.exists() and f.path.name == "kick.print.BAD.wav"
    moved = [p for p in f.problems if "latency moved" in p]
    assert moved and f"latency moved from {PERIOD + 10.5:.2f}" in moved[0], f.problems
    assert f.channels[0].change_samples == pytest.approx(2.25, abs=0.01)


def test_dropout_in_the_return_is_caught(gear, stems, tmp_path):  # noqa: F811
    d, _, _ = stems
    job = _job(tmp_path, "kick", LOOP_HOOKS, d / "1Kick.wav")
    for _ in range(3):
        hook, fired = _hook_at(START + 6000, lambda: gear.dropout(LOOP_HOOKS, 20.0))
        result = print_pass([job], _settings(), FAST, ping=FAST_PING, on_progress=hook)
        if result.stats.xruns == 0:
            break
    assert fired.is_set()
    f = result.files[0]
    assert not f.good and not job.output.exists() and f.path.name.endswith(".BAD.wav")
    drop = [p for p in f.problems if "dropout" in p]
    assert drop and "20.0 ms of digital silence" in drop[0], f.problems
    # both pings agree: latency alone would not have caught it
    assert abs(f.channels[0].change_samples) < 0.01
