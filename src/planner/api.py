"""The library interface: each command's work over a ``PlanRequest``, nothing rendered.

The CLI parses options into a ``PlanRequest`` and calls one function here; the results are
plain frozen data the renderers turn into text, JSON, CI formats or HTML. Only this module and
the adapters/device loader it calls touch the filesystem; everything they hand on is pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.suggest.objective import Constraints, Objective

if TYPE_CHECKING:
    from planner.budget import MemoryBudget
    from planner.checks import DeviceReport, ModelReports
    from planner.device import DeviceProfile
    from planner.plot import MemoryCurve
    from planner.request import PlanRequest
    from planner.settings import RuntimeSettings
    from planner.spec import ModelSpec
    from planner.suggest import AppPlan, Plan

# The planner's modules are imported by the functions that use them, not here: `planner
# inspect` only reads a model and must not pay for devices, checks and the search at start-up
# (BENCHMARKS.md §3 and §6).

__all__ = [
    "CheckRun",
    "Estimate",
    "Models",
    "PlanRequest",
    "check",
    "devices",
    "estimate",
    "inspect",
    "plot",
    "profiles",
    "read",
    "suggest",
    "suggest_many",
]

Progress = Callable[[int, int], None]


def __getattr__(name: str) -> Any:
    # ``api.PlanRequest`` without importing the request (and the runtimes) up front.
    if name == "PlanRequest":
        from planner.request import PlanRequest

        return PlanRequest
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True, slots=True)
class Models:
    """The request's model and draft, read by their adapters, with the settings they get."""

    spec: ModelSpec
    draft: ModelSpec | None
    settings: RuntimeSettings


@dataclass(frozen=True, slots=True)
class Estimate:
    """``planner estimate``: the model and its budget."""

    spec: ModelSpec
    budget: MemoryBudget


@dataclass(frozen=True, slots=True)
class CheckRun:
    """``planner check`` for one request: the model and a report per device."""

    models: Models
    run: ModelReports

    @property
    def reports(self) -> tuple[DeviceReport, ...]:
        """One report per device, in request order."""
        return self.run.reports


def inspect(path: Path, adapter: str | None = None) -> ModelSpec:
    """Read an artifact into a spec (no weight bytes are read)."""
    from planner.registry import read_model

    return read_model(path, adapter)


def read(request: PlanRequest) -> Models:
    """Read the request's model (and draft) and derive its runtime settings."""
    from planner.registry import read_model

    spec = read_model(request.model, request.adapter)
    draft = read_model(request.draft) if request.draft is not None else None
    return Models(spec, draft, request.settings(spec))


def profiles(extra_dirs: Sequence[Path] = ()) -> tuple[DeviceProfile, ...]:
    """The bundled device profiles plus those in ``extra_dirs`` (later folders win)."""
    from planner.device_loader import load_profiles

    return load_profiles(extra_dirs)


def devices(
    request: PlanRequest, known: Sequence[DeviceProfile] | None = None
) -> tuple[DeviceProfile, ...]:
    """The request's devices resolved against ``known`` (default: bundled + its folders)."""
    from planner.device_tiers import resolve_device

    pool = known if known is not None else profiles(request.profile_dirs)
    return tuple(resolve_device(name, pool) for name in request.devices)


def estimate(request: PlanRequest) -> Estimate:
    """The memory budget of the request's model."""
    from planner.runtimes import estimate as estimate_budget

    m = read(request)
    return Estimate(m.spec, estimate_budget(m.spec, m.settings, m.draft))


def check(request: PlanRequest, known: Sequence[DeviceProfile] | None = None) -> CheckRun:
    """Every device rule for the request's model on each of its devices."""
    from planner.checks import ModelReports, check_device

    targets = devices(request, known)
    m = read(request)
    reports = tuple(check_device(m.spec, m.settings, d, request.options, m.draft) for d in targets)
    return CheckRun(m, ModelReports(request.name, reports, path=str(request.model)))


def suggest(
    request: PlanRequest,
    min_context: int | None = None,
    known: Sequence[DeviceProfile] | None = None,
    models: Models | None = None,
    *,
    objective: Objective = Objective.balanced,
    constraints: Constraints | None = None,
) -> Plan:
    """The best plan that fits every device of the request, with runners-up and advice."""
    from planner.suggest import suggest as search_plans

    m = models or read(request)
    targets = devices(request, known)
    k = constraints or Constraints(min_context=min_context)
    return search_plans(
        m.spec,
        m.settings,
        targets,
        request.options,
        k.min_context,
        objective=objective,
        constraints=k,
    )


def suggest_many(
    requests: Sequence[PlanRequest],
    known: Sequence[DeviceProfile] | None = None,
    *,
    objective: Objective = Objective.balanced,
    constraints: Constraints | None = None,
    co_resident: bool = True,
) -> AppPlan:
    """Several models for one app (the first request's devices and options), planned together."""
    from planner.suggest import suggest_app

    first = requests[0]
    targets = devices(first, known)
    read_all = [read(r) for r in requests]
    return suggest_app(
        [(m.spec, m.settings) for m in read_all],
        targets,
        first.options,
        objective=objective,
        constraints=constraints,
        co_resident=co_resident,
    )


def plot(
    request: PlanRequest,
    *,
    x_max: int | None = None,
    points: int | None = None,
    on_progress: Progress | None = None,
    known: Sequence[DeviceProfile] | None = None,
    models: Models | None = None,
) -> MemoryCurve:
    """Memory against context for the request's model, with each device's limits (``points``
    context lengths; by default ``planner.plot.DEFAULT_POINTS``)."""
    from planner.plot import DEFAULT_POINTS, memory_curve

    targets = devices(request, known)
    m = models or read(request)
    return memory_curve(
        m.spec,
        m.settings,
        targets,
        request.options,
        m.draft,
        x_max=x_max,
        points=DEFAULT_POINTS if points is None else points,
        on_progress=on_progress,
    )


def plan_curve(plan: Plan, on_progress: Progress | None = None) -> MemoryCurve | None:
    """The chosen plan's chart (None when nothing fits)."""
    from planner.plot import memory_curve

    if plan.chosen is None:
        return None
    return memory_curve(
        plan.model,
        plan.chosen.settings(plan.base),
        plan.devices,
        plan.options,
        on_progress=on_progress,
    )
