"""The memory chart as PNG, drawn with matplotlib (the optional extra ``plot``)."""

from __future__ import annotations

import io

from planner.errors import MissingDependencyError
from planner.plot import MemoryCurve
from planner.render.style import CATEGORY_COLORS, CATEGORY_LABELS, DEVICE_COLORS

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
