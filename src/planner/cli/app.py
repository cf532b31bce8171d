"""The whole Typer application: the root options and every command (``planner.cli.launch``).

Tests and the reference docs use ``app``; the console script builds only the command it runs.
"""

from __future__ import annotations

from planner.cli.launch import build_app, run

app = build_app()


def main() -> None:
    """Run the whole application and exit with its code."""
    run(app)
