"""Assembling and running the Typer application: the root options and every command.

This module is the only one that knows every command, so no command module imports another
(and none imports this one). The console script builds only the command it is asked to run:
importing the other command modules and turning every signature into click parameters is a
tenth of ``planner inspect``'s start-up (BENCHMARKS.md §3). ``planner.cli.app`` holds the
whole application (help, tests, the reference docs).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Annotated

import typer

from planner.cli.output import STATE
from planner.errors import ExitCode

HELP = "Plan on-device LLM deployments: will this model fit this phone, and how to build it."

COMMANDS: tuple[tuple[str, str], ...] = (
    ("inspect", "planner.cli.commands"),
    ("estimate", "planner.cli.commands"),
    ("check", "planner.cli.check_cmd"),
    ("measure", "planner.cli.commands"),
    ("suggest", "planner.cli.suggest_cmd"),
    ("plot", "planner.cli.plot_cmd"),
)
"""Each command's function and the module that defines it, in the order ``--help`` lists."""

GROUPS: tuple[tuple[str, str, str], ...] = (("devices", "planner.cli.devices_cmd", "devices_app"),)
"""Sub-applications: name, module, Typer attribute."""

ROOT_FLAGS = ("--quiet",)
"""Root options that may come before the command (flags: they take no value)."""


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


def build_app(only: str | None = None) -> typer.Typer:
    """The application with every command, or with the root options and command ``only``."""
    app = typer.Typer(
        name="planner",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    for name, module in COMMANDS:
        if only is None or only == name:
            app.command()(getattr(importlib.import_module(module), name))
    for name, module, attr in GROUPS:
        if only is None or only == name:
            app.add_typer(getattr(importlib.import_module(module), attr), name=name)
    return app


def command_in(args: Sequence[str]) -> str | None:
    """The command ``args`` run, when it is certain from the first words; else ``None``.

    Only root flags may come before it; anything else (``--help``, a typo, no command) needs
    the whole application, for its help or its error message.
    """
    known = {name for name, _ in COMMANDS} | {name for name, _, _ in GROUPS}
    for arg in args:
        if arg in ROOT_FLAGS:
            continue
        return arg if arg in known else None
    return None


def run(app: typer.Typer) -> None:
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


def main(argv: Sequence[str] | None = None) -> None:
    """Build what ``argv`` (default: the process's arguments) needs and run it."""
    run(build_app(command_in(sys.argv[1:] if argv is None else argv)))
