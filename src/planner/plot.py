"""Memory against context length, for charts: the data (pure).

``memory_curve`` re-runs the budget engine at a series of context lengths with every other
setting fixed, and records each device's limits and the largest context that passes every
check (``planner.checks.max_context``). Two renderers draw it:

* ``planner.render.svg_chart.render_svg`` — hand-written SVG, no dependency (also embedded in
  the HTML reports);
* ``planner.render.png_chart.render_png`` — matplotlib, the optional extra ``plot``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from planner.budget import CATEGORIES, MemoryBudget
from planner.checks import CheckOptions, DeviceReport, Status, check_device
from planner.device import DeviceProfile
from planner.errors import PlannerError
from planner.rules import CEILINGS
from planner.runtimes import estimate
from planner.settings import RuntimeSettings
from planner.spec import ModelSpec

DEFAULT_POINTS = 48


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """The budget at one context length, summed by category (``CATEGORIES`` order)."""

    context: int
    category_bytes: tuple[int, ...]

    @property
    def total_bytes(self) -> int:
        """Resident total at this context."""
        return sum(self.category_bytes)


@dataclass(frozen=True, slots=True)
class DeviceLimit:
    """One memory ceiling of one device, from one check."""

    check_id: str
    title: str
    limit_bytes: int
    measures: str
    """What the rule compares with the limit (its threshold text)."""


@dataclass(frozen=True, slots=True)
class DeviceFit:
    """A device's limits and the largest context that passes every check on it."""

    device_id: str
    device_name: str
    limits: tuple[DeviceLimit, ...]
    max_context: int | None
    """None when no context passes."""
    search_upper: int
    """The upper end of the context search: ``max_context == search_upper`` means "at least"."""

    @property
    def fits_whole_range(self) -> bool:
        """The search hit its upper end, so the true maximum may be larger."""
        return self.max_context is not None and self.max_context >= self.search_upper


@dataclass(frozen=True, slots=True)
class MemoryCurve:
    """Everything a memory-against-context chart shows."""

    model: str
    runtime: str
    quantization: str
    prefill: int
    batch: int
    kv_dtype: str
    context: int
    """The context the settings ask for (marked on the chart)."""
    categories: tuple[str, ...]
    points: tuple[CurvePoint, ...]
    devices: tuple[DeviceFit, ...]

    @property
    def x_max(self) -> int:
        """The largest context on the chart."""
        return max((p.context for p in self.points), default=1)

    @property
    def y_max(self) -> int:
        """The largest byte value the chart must show (totals and limits)."""
        values = [p.total_bytes for p in self.points]
        values += [lim.limit_bytes for d in self.devices for lim in d.limits]
        return max(values, default=1)

    def subtitle(self) -> str:
        """The fixed settings, in one line."""
        return (
            f"{self.runtime}, {self.quantization}, prefill {self.prefill}, batch {self.batch}, "
            f"KV {self.kv_dtype}"
        )


def device_limits(report: DeviceReport) -> tuple[DeviceLimit, ...]:
    """The memory ceilings a report's checks compare against (skipped checks left out)."""
    return tuple(
        DeviceLimit(c.id, c.title, c.limit_bytes, c.threshold)
        for c in report.checks
        if c.id in CEILINGS and c.limit_bytes is not None and c.status is not Status.SKIP
    )


def _contexts(x_max: int, n: int, extra: Sequence[int]) -> list[int]:
    points = {1} | {max(1, round(x_max * i / n)) for i in range(1, n + 1)}
    points.update(c for c in extra if 0 < c <= x_max)
    return sorted(points)


def _point(b: MemoryBudget, context: int) -> CurvePoint:
    return CurvePoint(context, tuple(b.category_bytes(cat) for cat in CATEGORIES))


def memory_curve(
    spec: ModelSpec,
    settings: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions | None = None,
    draft: ModelSpec | None = None,
    *,
    x_max: int | None = None,
    points: int = DEFAULT_POINTS,
    on_progress: Callable[[int, int], None] | None = None,
) -> MemoryCurve:
    """The budget at ``points`` context lengths up to ``x_max``, and each device's fit.

    Every setting but the context stays as resolved for ``settings`` (the prefill chunk is pinned,
    so the curve shows what the context alone costs). ``x_max`` defaults to the range
    ``max_context`` searches: max(model maximum, asked context, 4096).
    """
    options = options or CheckOptions()
    base = estimate(spec, settings, draft)
    rs = base.settings
    # Pin what the context would otherwise drag along (the default prefill follows it), exactly
    # as check_device does for its own max_context search.
    pinned = replace(settings, context=rs.context, prefill=rs.prefill)
    upper = max(spec.max_context or 0, rs.context, 4096)
    fits: list[DeviceFit] = []
    total_steps = len(devices) + points
    step = 0
    for d in devices:
        report = check_device(spec, pinned, d, options, draft)
        fits.append(DeviceFit(d.id, d.name, device_limits(report), report.max_context, upper))
        step += 1
        if on_progress is not None:
            on_progress(step, total_steps)
    right = x_max or upper
    marks = [rs.context, rs.prefill, *(f.max_context for f in fits if f.max_context is not None)]
    contexts = _contexts(right, points, marks)
    curve: list[CurvePoint] = []
    for i, ctx in enumerate(contexts):
        try:
            curve.append(_point(estimate(spec, replace(pinned, context=ctx), draft), ctx))
        except PlannerError:
            pass  # a context this runtime rejects (e.g. below the sliding window) is left out
        if on_progress is not None:
            on_progress(len(devices) + round(points * (i + 1) / len(contexts)), total_steps)
    return MemoryCurve(
        model=base.model,
        runtime=rs.runtime.value,
        quantization=rs.quantization,
        prefill=rs.prefill,
        batch=rs.batch,
        kv_dtype=rs.kv_dtype,
        context=rs.context,
        categories=CATEGORIES,
        points=tuple(curve),
        devices=tuple(fits),
    )
