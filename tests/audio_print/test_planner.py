"""Passes planned from jobs: loops in parallel, no channel, loop or unit twice in one pass."""

from pathlib import Path

import pytest

from hybrid.live.audio.planner import clashes, plan_passes
from hybrid.live.audio.printing import PrintJob
from hybrid.errors import HybridError


def job(name, out, inn, loop=None, chain=()):
    return PrintJob(Path(f"{name}.wav"), Path(f"prints/{name}.wav"), (out,), (inn,), loop=loop, chain=tuple(chain))


def test_distinct_loops_share_one_pass():
    jobs = [job("1Kick", 1, 1, "A"), job("2Snare", 2, 2, "B"), job("3Bass", 3, 3, "C")]
    assert [[j.stem.name for j in p.jobs] for p in plan_passes(jobs)] == [["1Kick.wav", "2Snare.wav", "3Bass.wav"]]


def test_a_unit_never_serves_two_jobs_in_a_pass():
    jobs = [job("1Kick", 1, 1, "A", ["1176"]), job("2Snare", 2, 2, "B", ["1176", "Pultec"]),
            job("3Bass", 3, 3, "C", ["Pultec"]), job("4Vox", 4, 4, "D", ["LA2A"])]
    plan = plan_passes(jobs)
    assert [[j.stem.stem for j in p.jobs] for p in plan] == [["1Kick", "3Bass", "4Vox"], ["2Snare"]]
    assert [p.index for p in plan] == [1, 2]
    assert clashes(jobs[0], jobs[1]) == ["unit '1176'"]
    for p in plan:
        units = [u for j in p.jobs for u in j.chain]
        assert len(units) == len(set(units))


def test_same_loop_or_channels_go_to_later_passes():
    jobs = [job("a", 1, 1, "A"), job("b", 1, 1, "A"), job("c", 1, 2), job("d", 2, 1), job("e", 3, 3)]
    plan = plan_passes(jobs)
    assert [[j.stem.stem for j in p.jobs] for p in plan] == [["a", "e"], ["b"], ["c", "d"]]
    assert "output 1" in clashes(jobs[0], jobs[2])
    assert plan[0].to_dict()["jobs"][0]["loop"] == "A"


def test_bad_jobs_refused():
    with pytest.raises(HybridError, match="same file"):
        plan_passes([job("a", 1, 1), job("a", 2, 2)])
    with pytest.raises(HybridError, match="unit appears twice"):
        plan_passes([job("a", 1, 1, chain=["x", "x"])])
    with pytest.raises(HybridError, match="channel repeats"):
        plan_passes([PrintJob(Path("s.wav"), Path("o.wav"), (1, 1), (1, 2))])


def test_a_room_rule_keeps_jobs_apart():
    """``fits`` (the router's rule, recall.routing.print_pass_fits) can refuse what the planner allows."""
    jobs = [job("a", 1, 1, "A"), job("b", 2, 2, "B"), job("c", 3, 3, "C")]
    seen = []

    def fits(pass_jobs, new):
        seen.append(([j.stem.stem for j in pass_jobs], new.stem.stem))
        return new.stem.stem != "b"
    assert [[j.stem.stem for j in p.jobs] for p in plan_passes(jobs, fits)] == [["a", "c"], ["b"]]
    assert seen == [(["a"], "b"), (["a"], "c")]
