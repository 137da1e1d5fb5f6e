"""Subcommands of the ``hybrid`` CLI, one module per area (see hybrid.cli.AREAS)."""
