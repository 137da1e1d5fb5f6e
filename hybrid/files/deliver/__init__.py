"""Mix and master deliverables: WAV copies, loudness-matched listening copies, CD
masters (44.1 kHz/16-bit, TPDF dither), DDP 2.00 images with PQ and CD-Text, cue
sheets, checksums, and the read-back that verifies them.

Entry points: :func:`hybrid.files.deliver.mix.deliver_mix`, :func:`hybrid.files.deliver.master.deliver_master`,
:func:`hybrid.files.deliver.approve.make_approval` (the client's approval set from a DDP);
the DDP writer/parser in :mod:`hybrid.files.deliver.ddp`, CD-Text in
:mod:`hybrid.files.deliver.cdtext`, cue sheet and cdrdao TOC in :mod:`hybrid.files.deliver.cue`.
"""
