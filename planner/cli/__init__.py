"""The ``planner`` command line (thin: parse, call the library, render)."""

from __future__ import annotations


def main() -> None:
    """Console-script entry point."""
    raise SystemExit("planner CLI not built yet")
