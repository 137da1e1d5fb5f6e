"""Commands of this area are registered here (see hybrid.cli.AREAS)."""


def register(sub) -> None:
    """Add this area's subcommands to ``sub`` (an argparse subparsers action)."""
    from hybrid.commands import route_cmd  # route plan|apply, surface run (the routing/binding area)

    route_cmd.register(sub)
