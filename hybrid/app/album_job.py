"""After the main job: the album's mixes, its mastering passes and the delivery, as steps of one report.

``hybrid demo --no-tui`` runs the main job on one song (hybrid.app.main_job), then this on
the demo EP, so the demo goes from the client's stems to the DDP:

1. each song's mix (every variant of its ``[mix]``: ``full`` and ``instrumental``) through
   the summing mixer and its bus loop (:meth:`StudioSession.print_mix`), the null of each
   variant against ``full`` reported;
2. the album's mastering passes (:meth:`StudioSession.print_master`): each song's full mix
   through the mastering chain after its recall, each master recorded in album.toml;
3. the CD master, the DDP (read back and verified) and the approval set
   (hybrid.files.deliver: ``hybrid deliver master`` and ``hybrid deliver approve``).

Every print goes through the session, in the print process, as the CLI and the TUI print.
A step that fails is reported; a later step that needs it is reported as not run.
"""

from __future__ import annotations

from collections.abc import Callable

from hybrid.app.main_job import JobStep, MainJobReport, step_runner


def run_album_job(session, report: MainJobReport, album: str, songs: list[str], *,
                  on_event: Callable[[str], None] | None = None) -> MainJobReport:
    """Append the mix, master and delivery steps for ``album`` (its ``songs``) to ``report``."""
    say = on_event or (lambda _line: None)
    run = step_runner(report, say)
    mixed = run("mix: each song through the summing mixer and its bus loop", lambda: _mix(session, songs, say))
    if not mixed.ok:
        report.steps.append(JobStep("master: the album through its mastering chain", False,
                                    "not run: not every song has a good mix"))
        return report
    mastered = run("master: the album through its mastering chain", lambda: _master(session, album, say))
    if not mastered.ok:
        report.steps.append(JobStep("deliver: CD master, DDP and approval set", False,
                                    "not run: not every master is good"))
        return report
    run("deliver: CD master, DDP and approval set", lambda: _deliver(session, album))
    return report


def _mix(session, songs: list[str], say: Callable[[str], None]) -> JobStep:
    name = "mix: each song through the summing mixer and its bus loop"
    details: list[str] = []
    data = []
    ok = True
    for slug in songs:
        result, retried = session.print_mix(
            slug, on_pass=lambda number, total, variant, slug=slug: say(f"    {slug}: pass {number} of {total}: "
                                                                         f"{variant}"))
        data.append(result.to_dict())
        ok = ok and result.good
        for v in result.variants:
            skews = [f.skew_samples for p in v.passes for f in p.files if f.skew_samples is not None]
            skew = f", skew {skews[0]:+.3f} samples" if skews else ""
            details.append(f"{slug} {v.variant}: {'good' if v.good else 'BAD'} -> {v.path}{skew}"
                           + (f"; null {v.null_note}" if v.null_note else ""))
        if retried:
            details.append(f"{slug}: printed again after xruns ({retried}x)")
    variants = sum(len(d["variants"]) for d in data)
    return JobStep(name, ok, f"{variants} mix(es) of {len(songs)} song(s) "
                             + ("good" if ok else "with problems"), details, data)


def _master(session, album: str, say: Callable[[str], None]) -> JobStep:
    name = "master: the album through its mastering chain"
    result, retried = session.print_master(
        album, on_pass=lambda number, total, song: say(f"    master {number} of {total}: {song}"))
    details = [f"{s.song}: {'good' if s.good else 'BAD'} -> {s.path or s.problem}" for s in result.songs]
    if result.cancelled:
        details.append(f"cancelled: {result.cancelled}")
    if retried:
        details.append(f"printed again after xruns ({retried}x)")
    summary = (f"{sum(s.good for s in result.songs)} of {len(result.plan.songs)} master(s) good through "
               f"{' > '.join(loop.name for loop in result.plan.chain)}; recorded in album.toml: "
               f"{', '.join(result.recorded) or 'none'}")
    return JobStep(name, result.good, summary, details, result.to_dict())


def _deliver(session, album: str) -> JobStep:
    from hybrid.files.deliver.approve import make_approval
    from hybrid.files.deliver.master import deliver_master, verify_delivery

    name = "deliver: CD master, DDP and approval set"
    report = deliver_master(session.root, album)
    checks = verify_delivery(session.root, album)
    approval = make_approval(session.root, album)
    details = [f"DDP verified: {check}" for check in checks]
    details.append(f"approval set in {approval['folder']}: {len(approval['tracks'])} track(s), "
                   f"{approval['zip']['file']} (MD5 {approval['zip']['md5']})")
    ddp = session.root / "albums" / album / "deliver" / "DDP"
    return JobStep(name, True, f"{len(report.get('tracks', []))} track(s) on the CD master; DDP verified "
                               f"({len(checks)} checks) -> {ddp}", details,
                   {"ddp": str(ddp), "checks": checks, "approval": approval["folder"],
                    "zip": approval["zip"]["file"]})
