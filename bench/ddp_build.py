"""Build and verify a 74-minute DDP against the time to read the masters once (same run).

Synthesizes an album of 15 masters (44.1 kHz 24-bit stereo, 74 minutes in all, noise
with a level ride) into a temp studio, then times:

- reading every master once, block by block (the reference: goal for the DDP <= 2x);
- the DDP step alone: plan the programme, write IMAGE.DAT from the CD WAVs with the
  PQ, CD-Text, DDPMS, DDPID and checksums, then verify it as a plant's loader would
  (numeric fields, sectors, every audio byte against the CD WAVs, MD5s);
- the whole ``hybrid deliver master`` (master copies, CD versions: dither, loudness of
  every master and CD version, then the DDP step above, reports).

Prints the times and the ratios to the read. Run: python bench/ddp_build.py [minutes]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hybrid.files.deliver.album import cdtext_blocks, load_album  # noqa: E402
from hybrid.files.deliver.cdtext import encode  # noqa: E402
from hybrid.files.deliver.ddp import DdpWriter  # noqa: E402
from hybrid.files.deliver.master import (_cd_names, deliver_master, plan_programme,  # noqa: E402
                                         verify_ddp, write_image)

FS = 44100
TRACKS = 15
MINUTES = float(sys.argv[1]) if len(sys.argv) > 1 else 74.0
BLOCK = 1 << 16


def synthesize(folder: Path) -> None:
    rng = np.random.default_rng(4)
    seconds = MINUTES * 60 / TRACKS - 2.0
    toml = ['title = "Bench Album"', 'performer = "Bench"', 'upc = "5012345678900"']
    for number in range(1, TRACKS + 1):
        name = f"t{number:02d}.wav"
        frames = int(seconds * FS)
        with sf.SoundFile(str(folder / name), "w", FS, 2, subtype="PCM_24") as out:
            for start in range(0, frames, BLOCK):
                n = min(BLOCK, frames - start)
                t = (start + np.arange(n)) / FS
                ride = 10 ** ((-6 * np.sin(2 * np.pi * t / 40)) / 20)
                out.write(0.05 * ride[:, None] * rng.standard_normal((n, 2)))
        toml += ["[[tracks]]", f'file = "{name}"', f'title = "Track {number}"',
                 f'isrc = "GBXYZ26{number:05d}"', f"pregap_s = {2.0 if number == 1 else 0}"]
    (folder / "album.toml").write_text("\n".join(toml) + "\n", encoding="utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as root:
        studio = Path(root)
        folder = studio / "albums" / "bench"
        folder.mkdir(parents=True)
        synthesize(folder)
        def read_masters() -> tuple[float, int]:
            t0 = time.perf_counter()
            frames = 0
            for path in sorted(folder.glob("t*.wav")):
                with sf.SoundFile(str(path)) as handle:
                    for block in handle.blocks(BLOCK, dtype="float64"):
                        frames += len(block)
            return time.perf_counter() - t0, frames

        read_before, frames = read_masters()

        t0 = time.perf_counter()
        report = deliver_master(studio, "bench")
        whole_s = time.perf_counter() - t0

        album = load_album(studio, "bench")
        deliver = folder / "deliver"
        cd_files = {}
        for label, name in _cd_names(album).items():
            with sf.SoundFile(str(deliver / "CD" / name)) as handle:
                cd_files[label] = (deliver / "CD" / name, handle.frames)
        out = Path(root) / "DDP"
        t0 = time.perf_counter()
        programme = plan_programme(album, cd_files)
        cdtext = cdtext_blocks(album)
        write_image(programme, DdpWriter(out, upc=album.upc, cdtext=encode(cdtext)))
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        checks = verify_ddp(out, programme, album, cdtext)
        verify_s = time.perf_counter() - t0
        read_after, _ = read_masters()      # the machine's load changes: read before and after
        read_s = (read_before + read_after) / 2
    seconds = frames / FS
    print(f"album: {TRACKS} masters, {seconds / 60:.1f} min, 44.1 kHz 24-bit; lead-out {report['leadout']}")
    print(f"read the masters once (reference):   {read_s:7.2f} s (before {read_before:.2f} s, after "
          f"{read_after:.2f} s, the mean is the reference)")
    print(f"DDP build (image, PQ, CD-Text, MD5):  {build_s:7.2f} s")
    print(f"DDP verify ({len(checks)} checks):              {verify_s:7.2f} s")
    print(f"DDP build + verify:                   {build_s + verify_s:7.2f} s = "
          f"{(build_s + verify_s) / read_s:.2f}x the read (goal <= 2x)")
    print(f"whole `deliver master` (copies, CD versions, loudness, DDP, verify, reports): "
          f"{whole_s:.2f} s = {whole_s / read_s:.2f}x the read, {seconds / whole_s:.0f}x real time")


if __name__ == "__main__":
    main()
