"""Verify a recall by ear: fingerprint each insert chain through its loop, measure again, compare.

- ``stimulus``    the plan: a quiet ESS sweep and stepped tones at two frequencies
- ``capture``     play and record several loops at once (one duplex stream)
- ``analysis``    response (magnitude/phase, 1/12-octave), transfer curve, THD, noise
- ``fingerprint`` the stored fingerprint (npz beside the sheet), tolerance from repeatability
- ``compare``     per-band / transfer / phase deviations against the tolerance
- ``model``       the chain as the simulated gear's DSP, from the profiles' [sound] tables
- ``suspects``    which device and knob most likely moved (model fit), order swaps
- ``song``        the public API: ``fingerprint_song``, ``verify_song``, ``verify_step``/``check_steps``
"""

from hybrid.live.verify.song import (ChainVerdict, SongVerdict, StepCheck, check_steps, fingerprint_song, measured_chains,
                                verify_song, verify_step)

__all__ = ["fingerprint_song", "verify_song", "verify_step", "check_steps", "measured_chains", "ChainVerdict",
           "SongVerdict", "StepCheck"]
