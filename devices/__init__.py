"""Talking to outboard gear: profiles (data), codecs, transports, routers, surfaces, simulators.

Knows nothing of songs or audio streams. Never imports textual.
"""

from devices.errors import DeviceError

__all__ = ["DeviceError"]
