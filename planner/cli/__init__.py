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
from typing import Annotated, Any, TypeVar

import typer

from planner.errors import ExitCode, PlannerError, exit_code_for

app = typer.Typer(
    name="planner",
    help="Plan on-device LLM deployments: will this model fit this phone, and how to build it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def hint(message: str) -> None:
    """A hint or progress line: stderr, never stdout."""
    print(message, file=sys.stderr)


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
            print(f"error: internal error ({type(exc).__name__}: {exc}); rerun with "
                  "PLANNER_DEBUG=1 and report it", file=sys.stderr)
            raise typer.Exit(int(exit_code_for(exc))) from None

    return wrapper  # type: ignore[return-value]


class TextOrJson(str, Enum):
    """Output formats of inspect and estimate."""

    text = "text"
    json = "json"


class RuntimeChoice(str, Enum):
    """--runtime values."""

    mlc = "mlc"
    onnxruntime = "onnxruntime"


PathArg = Annotated[Path, typer.Argument(help="Model artifact: .onnx file, onnxruntime-genai/Optimum "
                                         "folder, MLC folder or Hugging Face folder.")]
FormatOpt = Annotated[TextOrJson, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Write the report to this file (atomically).")]
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
    """Console-script entry point."""
    app()
