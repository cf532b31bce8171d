"""The ``planner`` command line: parse, call ``planner.api``, render. Nothing else.

Reports go to stdout (or ``--output``, written atomically); hints and progress go to stderr.
Errors become one line on stderr and a documented exit code (``planner.errors.ExitCode``);
set ``PLANNER_DEBUG=1`` for the traceback.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from planner.errors import PlannerError, exit_code_for

if TYPE_CHECKING:
    from planner.render.terminal import TextStyle

app = typer.Typer(
    name="planner",
    help="Plan on-device LLM deployments: will this model fit this phone, and how to build it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


QUIET = False
"""Set by ``planner --quiet`` (or ``PLANNER_QUIET=1``): no hints or progress on stderr."""


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
    global QUIET
    QUIET = quiet


def hint(message: str) -> None:
    """A hint or progress line: stderr, never stdout (nothing under --quiet)."""
    if QUIET:
        return
    print(message, file=sys.stderr)


def text_style(output: Path | None) -> TextStyle:
    """How to draw text reports: colour only on a terminal without NO_COLOR, its width."""
    from planner.render.terminal import choose_style

    to_tty = output is None and sys.stdout.isatty()
    return choose_style(
        to_tty=to_tty,
        to_file=output is not None,
        env=os.environ,
        columns=_terminal_columns() if to_tty else None,
    )


def _terminal_columns() -> int | None:
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):
        return None


def guarded(func: F) -> F:
    """Map planner errors (and bugs) to one stderr line and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except PlannerError as exc:
            if os.environ.get("PLANNER_DEBUG"):
                traceback.print_exc()
            print(f"error: {exc.one_line()}", file=sys.stderr)
            if exc.hint:
                hint(f"hint: {exc.hint}")
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            print("error: interrupted", file=sys.stderr)
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug: say so, one line, unless debugging
            if os.environ.get("PLANNER_DEBUG"):
                traceback.print_exc()
            print(
                f"error: internal error ({type(exc).__name__}: {exc}); rerun with "
                "PLANNER_DEBUG=1 and report it",
                file=sys.stderr,
            )
            raise typer.Exit(int(exit_code_for(exc))) from None

    return wrapper  # type: ignore[return-value]


class TextOrJson(str, Enum):
    """Output formats of inspect and estimate."""

    text = "text"
    json = "json"


class TextJsonHtml(str, Enum):
    """Output formats of suggest (html: a self-contained report with the chart)."""

    text = "text"
    json = "json"
    html = "html"


class RuntimeChoice(str, Enum):
    """--runtime values."""

    mlc = "mlc"
    onnxruntime = "onnxruntime"


PathArg = Annotated[
    Path,
    typer.Argument(
        help="Model artifact: .onnx file, "
        "onnxruntime-genai/Optimum "
        "folder, MLC folder or Hugging Face folder."
    ),
]
FormatOpt = Annotated[TextOrJson, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to this file (atomically).")
]
AdapterOpt = Annotated[str | None, typer.Option("--adapter", help="Force an adapter by name.")]


def emit(text: str, output: Path | None) -> None:
    """Write a report to stdout or, atomically, to a file."""
    if output is None:
        sys.stdout.write(text)
        return
    from planner.atomic import write_atomic

    write_atomic(output, text)
    hint(f"wrote {output}")


from planner.cli import commands as _commands  # noqa: E402,F401  (registers commands)
from planner.cli import report_cmds as _report_cmds  # noqa: E402,F401  (plot, report)


def main() -> None:
    """Console-script entry point.

    Command-line mistakes typer catches itself (unknown option or command, a value that does not
    parse, a missing argument) become one ``error:`` line and exit 2 as well, like every
    ``UsageError``, instead of a multi-line box; the hint names the ``--help`` to read.
    """
    from planner.errors import ExitCode

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
