"""``planner check`` reports: one pure formatter per format, chosen by ``CheckFormat``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from planner.checks import ModelReports
from planner.render.formats import CheckFormat
from planner.render.terminal import PLAIN, TextStyle

if TYPE_CHECKING:
    from planner.plot import MemoryCurve


def render_check(
    runs: Sequence[ModelReports],
    fmt: CheckFormat,
    strict: bool,
    *,
    style: TextStyle = PLAIN,
    curves: Sequence[MemoryCurve] = (),
) -> str:
    """The check run in ``fmt`` (exhaustive over ``CheckFormat``)."""
    if fmt is CheckFormat.json:
        from planner.render.dicts import SCHEMA_VERSION, dumps, report_dict

        return dumps(
            {
                "schema_version": SCHEMA_VERSION,
                "kind": "check",
                "strict": strict,
                "results": [
                    {
                        "model": run.model,
                        "devices": [report_dict(r) for r in run.reports],
                        **({"error": run.error} if run.error else {}),
                    }
                    for run in runs
                ],
            }
        )
    if fmt is CheckFormat.junit:
        from planner.render.ci import render_junit

        return render_junit(runs, strict)
    if fmt is CheckFormat.sarif:
        from planner.render.ci import render_sarif

        return render_sarif(runs, strict)
    if fmt is CheckFormat.github:
        from planner.render.ci import render_github

        return render_github(runs, strict)
    if fmt is CheckFormat.html:
        from planner.render.html import render_check_html

        return render_check_html(runs, curves, strict)
    from planner.render.text import render_check_text

    return render_check_text(runs, strict, style)
