"""Insert routing (a package by idea: ``bay`` reads ``[router]``, ``plan`` makes passes and
their ties, ``apply`` sets a pass on the router, ``paper`` turns ties into hand steps).

Insert routing: a song's insert chains become ties on the studio's router.

A chain is one insert of one track: ``loop send -> unit A -> unit B -> loop return``.
Each hop is a *tie* from a source point (a loop's send, a unit's output) to a
destination point (a unit's input, a loop's return). ``studio.toml`` says where those
points sit on the router:

    [router]
    device = "Matrix"            # a router of [devices] (a serial matrix, a MIDI patchbay) or "manual"

    [router.loops.A]             # where loop A's interface output and input land
    send = 1                     # matrix: the input its interface output is wired to
    return = 1                   # matrix: the output wired to its interface input

    [router.devices."1176 #2"]   # where the unit's input and output land
    in = 2                       # matrix: the output that feeds the unit's input
    out = 2                      # matrix: the input its output is wired to

- A serial matrix (``kind = "router"``, e.g. hy-matrix-sis): points are the matrix's
  1-based input/output numbers; ties are set with ``Device.tie`` and read back with
  ``Device.ties`` where the profile has a query.
- A paper bay (``device = "manual"``): points are the labels printed on the bay
  (``send = "Send 3"``, ``in = "1176 #2 In"``); ties become hand steps in the
  walk-through ("patch Send 3 -> 1176 #2 In").
- A MIDI program-change patchbay (``kind = "patchbay"``, e.g. hy-patchbay-pc) recalls
  stored patches; the studio says which chains each stored patch makes, by the label
  of the unit's patch control:

      [router.patches]
      "Vocal chain" = [["A", "1176 #2", "Pultec"]]      # loop, then units in signal order
      "Drum crush"  = [["A", "Crusher"], ["B", "1176 #2"]]

  a pass recalls the first patch that makes every chain it needs.

A loop that is not on the router is hard-wired: its chain must be the gear listed in
``[loops.X] devices`` (nothing to patch). A chain that lists no units uses the loop's
hard-wired gear, as the print planner does.

Conflicts are found before anything is sent (:func:`route_pass` raises
RecallProblems, each problem naming the file, the key and why): a unit in two chains
of one pass, two chains on one loop, more chains than the studio has loops, a unit or
loop that is not on the router, no stored patch that makes a pass's chains.

:func:`plan_routes` groups a song's chains into passes with the print planner's rules
(``hybrid.live.audio.planner``: round k prints the k-th insert of each track; first-fit in
track order; a loop, a channel or a unit once per pass), plus the router's own: on a
program-change patchbay all chains of a pass must come from one stored patch.
"""

from recall.chain import DEST_KINDS, SOURCE_KINDS, Chain, Endpoint, song_chains
from recall.routing.apply import MIDI_CLOSE_LINGER_S, RouteResult, apply_routes, route_print_pass
from recall.routing.bay import INSERT, MATRIX, PAPER, PATCHBAY, Bay, load_bay
from recall.routing.paper import patch_steps, walkthrough_with_patching
from recall.routing.plan import (RoutePass, RoutePlan, Tie, chain_problems, chains_for_jobs, plan_routes,
                                 print_pass_fits, route_pass)

__all__ = ["DEST_KINDS", "INSERT", "MATRIX", "MIDI_CLOSE_LINGER_S", "PAPER", "PATCHBAY", "SOURCE_KINDS", "Bay", "Chain",
           "Endpoint", "RoutePass", "RoutePlan", "RouteResult", "Tie", "apply_routes", "chain_problems",
           "chains_for_jobs", "load_bay", "patch_steps", "plan_routes", "print_pass_fits", "route_pass",
           "route_print_pass", "song_chains", "walkthrough_with_patching"]
