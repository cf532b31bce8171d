"""Where CLI output goes: reports to stdout or a file, hints and progress to stderr, errors as
one line with the documented exit code."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from planner.errors import PlannerError, exit_code_for

if TYPE_CHECKING:
    from planner.render.terminal import TextStyle

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    quiet = False
    """Set by ``planner --quiet`` (or ``PLANNER_QUIET=1``): no hints or progress on stderr."""


STATE = _State()


def hint(message: str) -> None:
    """A hint or progress line: stderr, never stdout (nothing under --quiet)."""
    if STATE.quiet:
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


def emit(text: str, output: Path | None) -> None:
    """Write a report to stdout or, atomically, to a file."""
    if output is None:
        sys.stdout.write(text)
        return
    from planner.atomic import write_atomic

    write_atomic(output, text)
    hint(f"wrote {output}")


def emit_bytes(data: bytes, output: Path) -> None:
    """Write a binary report (a PNG chart) atomically to a file."""
    from planner.atomic import write_atomic

    write_atomic(output, data)
    hint(f"wrote {output}")


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
