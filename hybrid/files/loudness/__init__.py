"""Loudness and peak measurement: ITU-R BS.1770-4, EBU R128 (Tech 3341 / 3342).

Public API:
- :func:`measure_file` (path -> :class:`LoudnessResult`), streamed block-wise;
- :func:`measure_array` for samples already in memory;
- :class:`LoudnessMeter` to feed blocks yourself (several files make one programme);
- :class:`TruePeakDetector`, :func:`k_weighting_sos` for other DSP code.
"""

from hybrid.files.loudness.files import measure_array, measure_file
from hybrid.files.loudness.kweighting import k_weighting_sos
from hybrid.files.loudness.meter import LoudnessMeter, LoudnessResult
from hybrid.files.loudness.truepeak import TruePeakDetector

__all__ = ["LoudnessMeter", "LoudnessResult", "TruePeakDetector", "k_weighting_sos",
           "measure_array", "measure_file"]
