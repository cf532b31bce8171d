"""Progress on stderr for work that takes more than a moment (measure, suggest, sweeps).

On a terminal: a transient rich spinner or bar that disappears when the work ends. Piped or
redirected: one hint line, so CI logs say what ran. Under ``--quiet``: nothing. Stdout is
never touched, so reports stay clean.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from planner.cli.output import STATE, hint

Advance = Callable[[int, int], None]
"""``advance(done, total)``: report progress of a sweep."""

T = TypeVar("T")


def interactive() -> bool:
    """Whether progress may draw on stderr (a terminal, not CI, not --quiet)."""
    return (
        not STATE.quiet
        and sys.stderr.isatty()
        and os.environ.get("TERM") != "dumb"
        and not os.environ.get("CI")
    )


@contextmanager
def activity(message: str) -> Iterator[None]:
    """A spinner with ``message`` while the block runs (a hint line when not on a terminal)."""
    if not interactive():
        hint(message)
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message, spinner="dots"):
        yield


@contextmanager
def progress(message: str) -> Iterator[Advance]:
    """A transient progress bar; the block calls ``advance(done, total)``."""
    if not interactive():
        hint(message)
        yield lambda done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(message, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def track(items: Sequence[T], message: str) -> Iterator[T]:
    """Yield ``items`` with a progress bar (for two or more; a single item needs none)."""
    if len(items) < 2:
        yield from items
        return
    with progress(message) as advance:
        for i, item in enumerate(items):
            yield item
            advance(i + 1, len(items))
