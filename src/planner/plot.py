"""Memory against context length, for charts: the data (pure) and a PNG renderer (matplotlib).

``memory_curve`` re-runs the budget engine at a series of context lengths with every other
setting fixed, and records each device's limits and the largest context that passes every
check (``planner.checks.max_context``). Two renderers draw it:

* ``planner.render.svg_chart.render_svg`` — hand-written SVG, no dependency (also embedded in
  the HTML reports);
* ``render_png`` here — matplotlib, the optional extra ``mlc-planner[plot]``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from planner.budget import CATEGORIES, MemoryBudget, estimate
from planner.checks import CheckOptions, DeviceReport, Status, check_device
from planner.device import DeviceProfile
from planner.errors import MissingDependencyError, PlannerError
from planner.settings import RuntimeSettings
from planner.spec import ModelSpec

CATEGORY_LABELS = {
    "weights": "weights",
    "kv_cache": "KV cache",
    "activations": "activations",
    "runtime_overhead": "runtime overhead",
}
"""Human names of the budget categories, in stacking order."""

CATEGORY_COLORS = {
    "weights": "#4C78A8",
    "kv_cache": "#F58518",
    "activations": "#54A24B",
    "runtime_overhead": "#B279A2",
}
"""One colour per category, shared by the terminal, SVG, PNG and HTML renderers."""

DEVICE_COLORS = ("#D62728", "#1F77B4", "#2CA02C", "#9467BD", "#8C564B", "#E377C2", "#17BECF")
"""Colours of the devices' limit lines and markers, in --device order."""

LIMIT_CHECKS = ("ram-fraction", "ios-app-limit", "android-lmk", "mlc-engine")
"""Checks whose limit is a memory ceiling worth drawing as a horizontal line.

``android-background`` is a warning threshold and ``mlc-kv-capacity`` compares the KV cache with
the room left after start-up, so neither is a ceiling on the stacked total."""

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
        if c.id in LIMIT_CHECKS and c.limit_bytes is not None and c.status is not Status.SKIP
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


MIB = 1024 * 1024
GIB = 1024 * MIB


def render_png(
    curve: MemoryCurve, *, width_in: float = 10.0, height_in: float = 6.0, dpi: int = 120
) -> bytes:
    """The chart as PNG bytes, drawn with matplotlib (``pip install 'mlc-planner[plot]'``)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError(
            "PNG charts need matplotlib, which is not installed",
            hint="pip install 'mlc-planner[plot]' — or write an SVG (-o chart.svg), which needs "
            "no extra",
        ) from None
    # Figure + FigureCanvasAgg, never pyplot: no global state, no GUI backend.
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    unit, div = ("GiB", GIB) if curve.y_max >= 2 * GIB else ("MiB", MIB)
    xs = [p.context for p in curve.points]
    ys = [[p.category_bytes[i] / div for p in curve.points] for i in range(len(curve.categories))]
    ax.stackplot(
        xs,
        *ys,
        labels=[CATEGORY_LABELS.get(c, c) for c in curve.categories],
        colors=[CATEGORY_COLORS.get(c, "#999999") for c in curve.categories],
        alpha=0.85,
    )
    styles = ("--", ":", "-.", (0, (5, 1, 1, 1)))
    for i, dev in enumerate(curve.devices):
        color = DEVICE_COLORS[i % len(DEVICE_COLORS)]
        for j, lim in enumerate(dev.limits):
            label = f"{dev.device_name}: {lim.title} ({lim.limit_bytes / div:,.1f} {unit})"
            ax.axhline(
                lim.limit_bytes / div,
                color=color,
                linestyle=styles[j % len(styles)],
                linewidth=1.3,
                label=label,
            )
        if dev.max_context is not None and dev.max_context <= curve.x_max:
            at_least = "≥ " if dev.fits_whole_range else ""
            ax.axvline(
                dev.max_context,
                color=color,
                linewidth=1.6,
                label=f"{dev.device_name}: fits up to {at_least}{dev.max_context:,} tokens",
            )
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]))
    ax.set_xlim(0, curve.x_max)
    ax.set_ylim(0, curve.y_max / div * 1.08)
    ax.set_xlabel("context length (tokens)")
    ax.set_ylabel(f"memory ({unit})")
    ax.set_title(f"{curve.model}: memory against context\n{curve.subtitle()}", fontsize=11)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
