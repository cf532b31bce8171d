"""Text renderers for people: spec, budget, device reports, check runs and plans (pure).

Each function returns a string drawn by ``planner.render.terminal`` at ``style.width`` columns,
with ANSI colours only when ``style.color`` is true. The default style (100 columns, no colour)
is what pipes, files and the golden tests in tests/golden/ get.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from planner.budget import MemoryBudget
from planner.checks import DeviceReport
from planner.render import terminal
from planner.render.terminal import PLAIN, TextStyle, mib
from planner.spec import ModelSpec

__all__ = [
    "PLAIN",
    "TextStyle",
    "mib",
    "render_app_plan",
    "render_budget",
    "render_check_text",
    "render_plan",
    "render_report",
    "render_spec",
]

if TYPE_CHECKING:
    from planner.checks import ModelReports
    from planner.suggest import AppPlan, Plan

WIDTH = PLAIN.width


def render_spec(spec: ModelSpec, style: TextStyle = PLAIN) -> str:
    """The spec as a readable listing, with each field's origin."""
    return terminal.to_text(terminal.spec_view(spec), style)


def render_budget(
    b: MemoryBudget, reports: Sequence[DeviceReport] = (), style: TextStyle = PLAIN
) -> str:
    """The budget: a bar per category and component, against the limits of ``reports``."""
    return terminal.to_text(terminal.budget_view(b, reports, style), style)


def render_report(r: DeviceReport, style: TextStyle = PLAIN) -> str:
    """Checks of one device with margins, the largest context and the decode speed."""
    return terminal.to_text(terminal.report_view(r), style)


def render_check_text(
    runs: Sequence[ModelReports], strict: bool = False, style: TextStyle = PLAIN
) -> str:
    """A whole check run: each model's budget against every device, each device's checks."""
    return terminal.to_text(
        terminal.check_view([(run.model, run.reports) for run in runs], strict, style), style
    )


def render_plan(plan: Plan, style: TextStyle = PLAIN) -> str:
    """The chosen plan, its budget and checks, runners-up, rejections, advice and commands."""
    return terminal.to_text(terminal.plan_view(plan, style), style)


def render_app_plan(app: AppPlan, style: TextStyle = PLAIN) -> str:
    """Several models of one app: each model's plan, then what they need together."""
    parts = []
    mode = "resident together" if app.co_resident else "one at a time"
    parts.append(f"{len(app.plans)} models in one app, {mode}\n\n")
    for plan in app.plans:
        parts.append(render_plan(plan, style))
        parts.append("\n")
    if app.combined:
        parts.append("Together:\n")
        parts.extend(render_report(r, style) for r in app.combined)
    if app.advice:
        parts.append("Advice:\n" + "".join(f"  • {a}\n" for a in app.advice))
    return "".join(parts)
