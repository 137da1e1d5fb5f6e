"""The audio layer: streams, the latency ping, and print passes that come back aligned.

- ``ring``      lock-free single-producer/single-consumer frame ring for the audio callback
- ``stream``    a duplex PortAudio stream fed from and drained to disk by a worker thread
- ``align``     sub-sample (windowed-sinc) alignment of a recorded return
- ``wavio``     WAV writer with a BWF ``bext`` chunk (24-bit PCM / 32-bit float), bext reader
- ``interface`` which device, rate and block size (studio.toml ``[interface]`` or the CLI)
- ``printing``  print passes: ping, stream, align, check, deliver
- ``planner``   group print jobs into passes that run loops in parallel
- ``ping``, ``latency_store``, ``signals``: the round-trip latency measurement
"""
