"""``hybrid print``: print stems through analog loops, aligned to a fraction of a sample.

    hybrid print --device DEV --out N --in N STEM.wav -o OUT.wav [--samplerate R] [--blocksize B]
                 [--format pcm24|float32] [--whole-samples] [--no-polarity] [--json]
    hybrid print STEM.wav -o OUT.wav --studio DIR --loop NAME [...]
    hybrid print SONG --studio DIR [--plan] [--yes] [--json]

One stem through one loop (``--out 3,4 --in 3,4`` for a stereo stem through a stereo
loop), or every track of a song through its inserts, in planned passes. The device,
rate and block size come from ``--studio``'s ``[interface]`` unless given here.
Registered by ``hybrid.cli.audio_cmd.register``.

A studio with a router (``[router]`` of studio.toml) routes each pass just before it
plays and says so on stderr; a router that fails stops the song there with one line (no
pass plays through a wrong patch). A paper bay's cords are listed per pass; at a
terminal the command waits for Enter, while without one (scripts, CI) or with ``--yes``
it goes on, taking the cords as patched.

A song prints through the session (``hybrid.app.session.StudioSession.print_song``), as
the main job and the TUI do: in a child process, a pass spoilt by xruns between its pings
printed again (up to ``hybrid.app.print_job.XRUN_RETRIES`` times; xruns outside the pings
are a note, not a fault), good pings stored in latency.toml. Ctrl-C stops the running pass
within a period; the line says which files were kept. The SONG form's structure for new
kinds of print: build a ``PrintRequest``, call ``session.print_song``, report.

Exit status 0 when every file came out good; 1 with one line on stderr otherwise (the
files of a bad pass are left as NAME.BAD.wav, never under the wanted name).
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

from hybrid.cli.output import add_json_flag, emit
from hybrid.errors import HybridError


def register_print(sub) -> None:
    p = sub.add_parser(
        "print", help="print stems through analog loops, aligned to a fraction of a sample",
        description="Play stems out through insert loops, record the returns and write them aligned "
                    "(sub-sample latency, polarity), exactly the stem's length and BWF time reference.")
    p.add_argument("target", metavar="STEM|SONG", nargs="?",
                   help="a stem file (with --out/--in), or a song of --studio")
    p.add_argument("--master", metavar="ALBUM",
                   help="print every track's mix of ALBUM through its mastering chain (albums/ALBUM/masters/)")
    p.add_argument("-o", "--output", metavar="OUT.wav", help="the printed file (single-stem form)")
    p.add_argument("--studio", metavar="DIR", help="studio folder: [interface] defaults; SONG form")
    p.add_argument("--device", metavar="DEV", help="audio device as PortAudio lists it (name or index)")
    p.add_argument("--hostapi", metavar="API", help="host API to look the device up in")
    p.add_argument("--loop", metavar="NAME", help="a loop of --studio's studio.toml instead of --out/--in")
    p.add_argument("--out", dest="out_channels", metavar="N[,N]", help="output channel(s), 1-based")
    p.add_argument("--in", dest="in_channels", metavar="N[,N]", help="input channel(s), 1-based")
    p.add_argument("--samplerate", type=int, metavar="R", help="stream rate (default: the stem's)")
    p.add_argument("--blocksize", type=int, metavar="B", help="frames per block (0 = the host's own)")
    p.add_argument("--format", dest="fmt", choices=("pcm24", "float32"), default="pcm24",
                   help="printed file format (default pcm24)")
    p.add_argument("--whole-samples", action="store_true", help="align to whole samples only")
    p.add_argument("--no-polarity", action="store_true", help="keep the loop's polarity as it came back")
    p.add_argument("--tail-s", type=float, default=1.0, metavar="S",
                   help="post-roll after the stem for tails (default 1.0 s)")
    p.add_argument("--keep-tail", action="store_true", help="keep the tail instead of trimming to the stem")
    p.add_argument("--latency-tolerance", type=float, default=0.1, metavar="SAMPLES",
                   help="largest change between the pings before and after (default 0.1 sample)")
    p.add_argument("--allow-clipping", action="store_true", help="deliver even if a return clipped")
    p.add_argument("--plan", action="store_true", help="SONG form: show the passes, print nothing")
    p.add_argument("--mix", action="store_true",
                   help="SONG form: print the mix through the studio's [summing] mixer (songs/SONG/mix/VARIANT.wav)")
    p.add_argument("--variant", action="append", metavar="NAME",
                   help="with --mix: print only this variant of the sheet's [mix] (repeatable; default all)")
    p.add_argument("--yes", action="store_true",
                   help="SONG form on a paper bay: show each pass's cords and go on without waiting for Enter")
    add_json_flag(p)
    p.set_defaults(func=cmd_print)


def _channels(text: str | None, flag: str) -> tuple[int, ...]:
    if text is None:
        raise HybridError(f"give {flag} N (or N,N for a stereo stem)")
    try:
        chans = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise HybridError(f"{flag}: expected channel numbers like 3 or 3,4, got {text!r}") from None
    if any(c < 1 for c in chans):
        raise HybridError(f"{flag}: channels are numbered from 1, got {text!r}")
    return chans


def _settings(args):
    from hybrid.live.audio.interface import InterfaceSettings, load_interface

    if args.blocksize is not None and args.blocksize < 0:
        raise HybridError(f"--blocksize: expected 0 (the host's own) or more, got {args.blocksize}")
    if args.samplerate is not None and args.samplerate <= 0:
        raise HybridError(f"--samplerate: expected a positive rate, got {args.samplerate}")
    if args.studio:
        base = load_interface(args.studio)
    elif args.device:
        base = InterfaceSettings(device=args.device)
    else:
        raise HybridError("give --device DEV (or --studio DIR with an [interface])")
    return base.override(device=args.device, hostapi=args.hostapi, samplerate=args.samplerate,
                         blocksize=args.blocksize)


def _options(args):
    from hybrid.live.audio.printing import PrintOptions

    return PrintOptions(fmt=args.fmt, whole_samples=args.whole_samples, correct_polarity=not args.no_polarity,
                        keep_tail=args.keep_tail, tail_s=args.tail_s,
                        latency_tolerance_samples=args.latency_tolerance, allow_clipping=args.allow_clipping)


class _ProgressLine:
    """One self-rewriting line on stderr when it is a terminal; nothing otherwise."""

    def __init__(self):
        self.live = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, p) -> None:
        """A pass's progress (hybrid.live.audio.stream.Progress)."""
        self._show(p.stage, p.position_s, p.fraction, p.peak_dbfs, p.xruns, p.position_frames >= p.total_frames)

    def song(self, p) -> None:
        """A song's progress through the session (hybrid.app.rows.PrintProgress)."""
        self._show(f"{p.number}/{p.passes} {p.stage}", p.position_s, p.fraction_of_pass, list(p.peak_db.values()),
                   p.xruns, p.fraction_of_pass >= 1.0)

    def _show(self, stage: str, position_s: float, fraction: float, peaks, xruns: int, last: bool) -> None:
        now = time.monotonic()
        if not self.live or (now - self._last < 0.2 and not last):
            return
        self._last = now
        meters = " ".join(f"{v:6.1f}" if v > -200 else "  -inf" for v in peaks)
        extra = f"  peak dBFS {meters}" if meters else ""
        xr = f"  xruns {xruns}" if xruns else ""
        sys.stderr.write(f"\r{stage:9s} {position_s:7.1f} s {100 * fraction:5.1f}%{extra}{xr}\033[K")
        sys.stderr.flush()

    def done(self) -> None:
        if self.live:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def cmd_print(args) -> int:
    if args.master:
        if args.target or args.mix:
            raise HybridError("--master ALBUM takes no SONG/STEM and no --mix (hybrid print --master ALBUM --studio DIR)")
        if not args.studio:
            raise HybridError("--master needs --studio DIR (the album and its mastering chain live there)")
        return _print_master(args)
    if not args.target:
        raise HybridError("give a STEM file or a SONG (or --master ALBUM)")
    if args.variant and not args.mix:
        raise HybridError("--variant goes with --mix (SONG --mix --variant NAME --studio DIR)")
    if args.mix:
        if not args.studio:
            raise HybridError("--mix needs --studio DIR (the summing mixer and the song live there)")
        return _print_mix(args)
    if args.studio and args.out_channels is None and args.in_channels is None and not args.output:
        if args.loop:
            raise HybridError("--loop is for one stem: give STEM -o OUT.wav --loop NAME --studio DIR")
        return _print_song(args)
    return _print_stem(args)


def _request(args, **kind):
    """The PrintRequest of a mix or master: the command line's options and interface overrides."""
    from hybrid.app.print_job import PrintRequest

    return PrintRequest(song=kind.pop("song", ""), options=_options(args), device=args.device, hostapi=args.hostapi,
                        samplerate=args.samplerate, blocksize=args.blocksize, **kind)


def _print_mix(args) -> int:
    """``SONG --mix``: every variant (or those asked) through the summing mixer, in consecutive passes,
    in the print process like every print (hybrid.app.print_job.run_request)."""
    from hybrid.app.session import StudioSession
    from recall import store

    from hybrid.live.audio.mix import plan_mix

    session = StudioSession(args.studio, strict=True)
    if args.plan:
        studio = session.studio
        plan = plan_mix(studio, store.load_sheet(studio, args.target), store.song_dir(studio, args.target),
                        args.target, args.variant)
        emit(plan.to_dict(), args.json,
             lambda d: "\n".join([f"mix of {d['song']}: variants {', '.join(d['variants'])}"]
                                 + [f"  {s['stem']} -> input(s) {s['inputs']}" for s in d["stems"]]))
        return 0
    progress = _ProgressLine()

    def on_pass(number, total, variant):
        progress.done()
        sys.stderr.write(f"mix pass {number}/{total}: {variant}\n")

    try:
        result, _retried = session.print_mix(args.target, request=_request(args, song=args.target, mix=True,
                                                                              variants=args.variant),
                                             on_pass=on_pass, on_progress=progress)
    finally:
        progress.done()
    emit(result.to_dict(), args.json, _mix_text)
    if not result.good:
        bad = [v.variant + (" (null above the limit)" if v.null_flagged else "")
               for v in result.variants if not v.good or v.null_flagged]
        print(f"hybrid: error: song {args.target}: mix variant(s) bad: {', '.join(bad)}", file=sys.stderr)
        return 1
    return 0


def _print_master(args) -> int:
    """``--master ALBUM``: each track's mix through the album's mastering chain, recalled song by song,
    in the print process (hybrid.app.print_job.run_request); each master recorded in album.toml."""
    from hybrid.app.session import StudioSession

    from hybrid.live.audio.master import plan_master

    session = StudioSession(args.studio, strict=True)
    if args.plan:
        emit(plan_master(session.studio, args.master).to_dict(), args.json,
             lambda d: f"master {d['album']}: {', '.join(d['songs'])} through {' > '.join(d['chain'])}")
        return 0
    progress = _ProgressLine()

    def on_steps(song, steps):
        progress.done()
        sys.stderr.write(f"{song}: set by hand before it prints:\n")
        for step in steps:
            sys.stderr.write(f"  {step}\n")
        if not args.yes and sys.stdin.isatty():
            try:
                input(f"set {song}'s hand-set units as above, then press Enter (Ctrl-C stops) ")
            except EOFError:
                raise HybridError(f"stopped before {song}: its hand-set units were not confirmed",
                                  where=f"album {args.master}") from None

    def on_pass(number, total, song):
        progress.done()
        sys.stderr.write(f"master {number}/{total}: {song}\n")

    try:
        result, _retried = session.print_master(args.master, request=_request(args, album=args.master),
                                                on_steps=on_steps, on_pass=on_pass, on_progress=progress)
    finally:
        progress.done()
    emit(result.to_dict(), args.json, lambda d: "\n".join(
        f"{'good' if s['good'] else 'BAD '}  {s['song']}: {s['path'] or s['problem']}" for s in d["songs"]))
    if result.cancelled:
        kept = ", ".join(p.name for p in result.kept) or "none"
        print(f"hybrid: error: album {args.master}: mastering cancelled ({result.cancelled}); masters kept: {kept}",
              file=sys.stderr)
        return 1
    if not result.good:
        bad = ", ".join(f"{s.song} ({s.problem})" for s in result.songs if not s.good)
        print(f"hybrid: error: album {args.master}: master(s) bad: {bad}", file=sys.stderr)
        return 1
    return 0


def _mix_text(d: dict) -> str:
    lines = [f"mix of {d['song']}: {'good' if d['good'] else 'with problems'}"]
    for v in d["variants"]:
        lines.append(f"{'good' if v['good'] else 'BAD '}  {v['variant']}: {v['path']}")
        for p in v["passes"]:
            for f in p["files"]:
                lat = ", ".join(f"{c['applied_latency_samples']}" for c in f["latency"])
                lines.append(f"      {f['loop']}: latency {lat} samples, skew {f['skew_samples']}")
                lines += [f"      {x}" for x in f["problems"]]
        if v["null_note"]:
            lines.append(f"      null: {v['null_note']}")
    return "\n".join(lines)


def _loop_channels(args) -> tuple[tuple[int, ...], tuple[int, ...], str | None, tuple[str, ...]]:
    """``(out, in, loop name, chain)`` from --loop (with --studio) or --out/--in."""
    if args.loop is None:
        return _channels(args.out_channels, "--out"), _channels(args.in_channels, "--in"), None, ()
    if not args.studio:
        raise HybridError(f"--loop {args.loop} needs --studio DIR (where the loop is defined)")
    if args.out_channels or args.in_channels:
        raise HybridError("give either --loop NAME or --out/--in, not both")
    from recall.studio import load_studio

    studio = load_studio(args.studio)
    loop = studio.loops.get(args.loop)
    if loop is None:
        raise HybridError(f"no loop {args.loop!r} (known: {', '.join(studio.loops) or 'none'})",
                          where=str(studio.file))
    return tuple(loop.out_channels), tuple(loop.in_channels), loop.name, tuple(loop.devices)


def _print_stem(args) -> int:
    from hybrid.live.audio.printing import PrintJob, print_pass

    if not args.output:
        raise HybridError("give -o OUT.wav for the printed file (or SONG --studio DIR for a whole song)")
    if args.plan:
        raise HybridError("--plan is for the SONG form (SONG --studio DIR)")
    stem = Path(args.target)
    if not stem.is_file():
        raise HybridError("no such stem file", where=str(stem))
    outs, ins, loop, chain = _loop_channels(args)
    job = PrintJob(stem=stem, output=Path(args.output), out_channels=outs, in_channels=ins, loop=loop,
                   chain=chain)
    from hybrid.app.print_job import XRUN_RETRIES, spoilt_only_by_xruns

    progress = _ProgressLine()
    settings, options = _settings(args), _options(args)
    try:
        for attempt in range(XRUN_RETRIES + 1):   # a pass spoilt only by xruns is printed again
            result = print_pass([job], settings, options, on_progress=progress)
            if not spoilt_only_by_xruns(result.files):
                break
            gap = result.files[0].ping_tail_s
            if attempt < XRUN_RETRIES:
                why = (f"the first ping's tail rang into the stem; printing again {gap:.2f} s after the ping"
                       if gap else "xruns between the pings spoilt the pass; printing again")
                print(f"hybrid: note: {job.stem}: {why}", file=sys.stderr)
            if gap:
                options = replace(options, ping_gap_s=gap)
    finally:
        progress.done()
    emit(result.to_dict(), args.json, _pass_text)
    for note in result.notes:
        print(f"hybrid: note: {job.stem}: {note}", file=sys.stderr)
    if not result.good:
        f = result.files[0]
        print(f"hybrid: error: {job.stem}: print is bad ({'; '.join(f.problems)}); kept as {f.path}",
              file=sys.stderr)
        return 1
    return 0


def _print_song(args) -> int:
    """The SONG form, through the session like every front end (routing, xrun retry, child process,
    latency store); Ctrl-C stops the running pass and the report lists the files kept."""
    from hybrid.app.print_job import PrintRequest
    from hybrid.app.session import StudioSession

    session = StudioSession(args.studio, strict=True)
    if args.plan:
        emit(session.print_plan_of(args.target).to_dict(), args.json, _plan_text)
        return 0
    request = PrintRequest(song=args.target, options=_options(args), device=args.device, hostapi=args.hostapi,
                           samplerate=args.samplerate, blocksize=args.blocksize,
                           wait_for_cords=not args.yes and sys.stdin.isatty())
    progress = _ProgressLine()

    def on_pass(number, total, planned):
        if progress.live:
            progress.done()
            names = ", ".join(j.stem.name for j in planned.jobs)
            sys.stderr.write(f"pass {number}/{total}: {names}\n")

    def on_route(number, total, routed):
        progress.done()
        sys.stderr.write(f"pass {number}/{total} routed: {routed.report.device} {routed.report.status} "
                         f"({routed.report.reason})\n")
        for step in routed.steps:
            sys.stderr.write(f"  {step}\n")
        if routed.steps and request.wait_for_cords:
            try:
                input(f"patch pass {number} as above, then press Enter (Ctrl-C stops) ")
            except EOFError:
                raise HybridError(f"stopped before pass {number}: its cords were not confirmed",
                                  where=f"song {args.target}") from None

    try:
        report = session.print_song(args.target, request=request, on_pass=on_pass, on_route=on_route,
                                    on_progress=progress.song)
    finally:
        progress.done()
    emit(_song_dict(report), args.json, _song_text)
    for note in report.notes:
        print(f"hybrid: note: song {args.target}: {note}", file=sys.stderr)
    if report.cancelled:
        kept = ", ".join(Path(k).name for k in report.kept) or "none"
        print(f"hybrid: error: song {args.target}: print cancelled ({report.cancelled}); files kept: {kept}",
              file=sys.stderr)
        return 1
    if not report.good:
        result = report.result
        bad = ", ".join(f"{name} ({why})" for name, why in result.failed_tracks.items())
        print(f"hybrid: error: song {args.target}: {len(result.failed_tracks)} print(s) bad: {bad}",
              file=sys.stderr)
        return 1
    return 0


def _song_dict(report) -> dict:
    """What ``hybrid print SONG --json`` prints: the last attempt's passes, and the session's account."""
    return {**report.result.to_dict(), "retried_for_xruns": report.retried_for_xruns, "notes": report.notes,
            "routing": report.routing}


def _pass_text(d: dict) -> str:
    lines = []
    for f in d["files"]:
        lat = ", ".join(f"{c['applied_latency_samples']} samples" + (" inverted" if c["polarity"] < 0 else "")
                        for c in f["latency"])
        lv = f["levels"] or {}
        lines.append(f"{'good' if f['good'] else 'BAD '}  {f['path']}  ({f['frames']} frames at "
                     f"{f['samplerate']} Hz, {f['format']}; latency {lat}; peak {lv.get('peak_dbfs')} dBFS, "
                     f"RMS {lv.get('rms_dbfs')} dBFS)")
        lines += [f"      {p}" for p in f["problems"]]
    if d["stream"]["xruns"]:
        lines.append(f"xruns: {d['stream']['xruns']}")
    return "\n".join(lines)


def _plan_text(d: dict) -> str:
    lines = [f"song {d['song']}: {d['passes']} pass(es)"]
    for r, passes in enumerate(d["rounds"], 1):
        for p in passes:
            jobs = "; ".join(f"{Path(j['stem']).name} via {j['loop']}" for j in p["jobs"])
            lines.append(f"  round {r} pass {p['pass']}: {jobs}")
    lines += [f"  skipped {name}: {why}" for name, why in d["skipped"].items()]
    return "\n".join(lines)


def _song_text(d: dict) -> str:
    out = [f"song {d['song']}: {'good' if d['good'] else 'with bad prints'}"]
    for p in d["passes"]:
        out.append(_pass_text(p))
    out += [f"skipped {name}: {why}" for name, why in d["skipped"].items()]
    return "\n".join(out)
