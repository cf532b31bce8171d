"""The ``planner`` command line: parse, call ``planner.api``, render. Nothing else.

Reports go to stdout (or ``--output``, written atomically); hints and progress go to stderr.
Errors become one line on stderr and a documented exit code (``planner.errors.ExitCode``);
set ``PLANNER_DEBUG=1`` for the traceback. ``planner.cli.launch`` assembles the commands.
"""

from __future__ import annotations


def main() -> None:
    """Console-script entry point (imports the command line only when run)."""
    from planner.cli.launch import main as run

    run()
