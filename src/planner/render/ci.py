"""CI formats for check results as whole documents: JUnit XML, SARIF 2.1.0 and GitHub workflow
annotations (pure).

One test case / SARIF result per (model, device, check). Failing checks are JUnit failures and
SARIF ``error``; warnings are SARIF ``warning`` (JUnit: passing with a system-out note, or a
failure under ``--strict``). The formatting itself lives in ``planner.render.stream``, which
also writes these formats job by job for large matrices; this module frames a finished run.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from planner.checks import JobOutcome, ModelReports
from planner.render.formats import StreamFormat
from planner.render.stream import StreamWriter, fragment, uri_reference

__all__ = ["render_github", "render_junit", "render_sarif", "uri_reference"]


def _render(fmt: StreamFormat, runs: Sequence[ModelReports], strict: bool) -> str:
    out = io.StringIO()
    writer = StreamWriter(fmt, out)
    writer.begin()
    for i, run in enumerate(runs, 1):
        writer.add(fragment(fmt, JobOutcome.of(run, i), strict))
    writer.end()
    return out.getvalue()


def render_junit(runs: Sequence[ModelReports], strict: bool = False) -> str:
    """JUnit XML: a testsuite per (model, device), a testcase per check."""
    return _render(StreamFormat.junit, runs, strict)


def render_sarif(runs: Sequence[ModelReports], strict: bool = False) -> str:
    """SARIF 2.1.0: one rule per check id, one result per failing or warning check."""
    return _render(StreamFormat.sarif, runs, strict)


def render_github(runs: Sequence[ModelReports], strict: bool = False) -> str:
    """GitHub Actions workflow commands (::error / ::warning / ::notice)."""
    return _render(StreamFormat.github, runs, strict)
