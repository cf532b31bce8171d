"""The Typer application: the root options, every command registered, and ``main``.

Command modules define plain functions; this module is the only one that knows them all, so no
command module imports another (and none imports this one).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from planner.cli.check_cmd import check
from planner.cli.commands import estimate, inspect, measure
from planner.cli.devices_cmd import devices_app
from planner.cli.output import STATE
from planner.cli.plot_cmd import plot
from planner.cli.suggest_cmd import suggest
from planner.errors import ExitCode

app = typer.Typer(
    name="planner",
    help="Plan on-device LLM deployments: will this model fit this phone, and how to build it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            envvar="PLANNER_QUIET",
            help="No hints or progress on stderr (errors still print). For CI logs.",
        ),
    ] = False,
) -> None:
    """Plan on-device LLM deployments: will this model fit this phone, and how to build it."""
    STATE.quiet = quiet


for command in (inspect, estimate, check, measure, suggest, plot):
    app.command()(command)
app.add_typer(devices_app, name="devices")


def main() -> None:
    """Run the command line and exit with its code.

    Command-line mistakes typer catches itself (unknown option or command, a value that does not
    parse, a missing argument) become one ``error:`` line and exit 2 as well, like every
    ``UsageError``, instead of a multi-line box; the hint names the ``--help`` to read.
    """
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:  # typer's click: UsageError, BadParameter, ...
        exit_code = getattr(exc, "exit_code", int(ExitCode.USAGE))
        if type(exc).__name__ != "NoArgsIsHelpError":  # that one has printed the help already
            format_message = getattr(exc, "format_message", None)
            text = format_message() if callable(format_message) else str(exc)
            print(f"error: {' '.join(str(text).split())}", file=sys.stderr)
            ctx = getattr(exc, "ctx", None)
            path = getattr(ctx, "command_path", None) or "planner"
            print(f"hint: run `{path} --help` for the options", file=sys.stderr)
        sys.exit(exit_code)
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
