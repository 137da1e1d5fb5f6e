"""Sub-layer 3 of ``hybrid/``: the application.

``session`` (the one session both front ends use: recall, route, print, verify),
``print_process`` (a print in a child process) and ``demo`` (the demo studio and rig).
May import ``live``, ``files``, ``simgear`` and ``models``; never ``cli``.
"""
