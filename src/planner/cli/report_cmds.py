"""Report commands: ``planner plot`` (SVG, PNG or HTML chart of memory against context), and
the HTML helpers ``check --format html`` and ``suggest --format html`` call.

SVG and HTML are written by hand (no dependency); PNG needs matplotlib, the optional extra
``mlc-planner[plot]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.cli import AdapterOpt, PathArg, app, emit, guarded, hint
from planner.cli.commands import (
    BatchOpt,
    ContextOpt,
    DraftOpt,
    EntitlementOpt,
    KvDtypeOpt,
    PrefillOpt,
    ProfilesOpt,
    QuantOpt,
    RamFractionOpt,
    RuntimeOpt,
    SinkOpt,
    WindowOpt,
    build_settings,
)

if TYPE_CHECKING:
    from planner.checks import CheckOptions
    from planner.cli.progress import Advance
    from planner.device import DeviceProfile
    from planner.plot import MemoryCurve
    from planner.settings import RuntimeSettings
    from planner.spec import ModelSpec
    from planner.suggest import Plan


class ChartFormat(str, Enum):
    """Output formats of plot."""

    svg = "svg"
    png = "png"
    html = "html"


SUFFIXES = {
    ".svg": ChartFormat.svg,
    ".png": ChartFormat.png,
    ".html": ChartFormat.html,
    ".htm": ChartFormat.html,
}


def chart_format(fmt: ChartFormat | None, output: Path | None) -> ChartFormat:
    """The format asked for, or the one the output's suffix names (SVG by default)."""
    from planner.errors import UsageError

    by_suffix = SUFFIXES.get(output.suffix.lower()) if output is not None else None
    if fmt is not None and by_suffix is not None and fmt is not by_suffix:
        raise UsageError(f"--format {fmt.value} does not match the output file {output}")
    chosen = fmt or by_suffix or ChartFormat.svg
    if chosen is ChartFormat.png and output is None:
        raise UsageError("a PNG chart is binary: give a file with -o chart.png")
    return chosen


def require_matplotlib() -> None:
    """Fail early, before any work, when PNG output cannot be drawn."""
    import importlib.util

    from planner.errors import MissingDependencyError

    if importlib.util.find_spec("matplotlib") is None:
        raise MissingDependencyError(
            "PNG charts need matplotlib, which is not installed",
            hint="pip install 'mlc-planner[plot]' — or write an SVG (-o chart.svg), which needs "
            "no extra",
        )


def curve_for(
    spec: ModelSpec,
    settings: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions,
    draft: ModelSpec | None = None,
    *,
    x_max: int | None = None,
    points: int | None = None,
    advance: Advance | None = None,
) -> MemoryCurve:
    """The chart data for one model (a thin wrapper so commands need not import planner.plot)."""
    from planner.plot import DEFAULT_POINTS, memory_curve

    return memory_curve(
        spec,
        settings,
        devices,
        options,
        draft,
        x_max=x_max,
        points=points or DEFAULT_POINTS,
        on_progress=advance,
    )


def plan_html(plan: Plan, options: CheckOptions) -> str:
    """``suggest --format html``: the plan with the chosen settings' chart."""
    from planner.cli.progress import progress
    from planner.render.html import render_plan_html

    curve = None
    if plan.chosen is not None:
        with progress("drawing the chart…") as advance:
            curve = curve_for(
                plan.model, plan.chosen.settings(plan.base), plan.devices, options, advance=advance
            )
    return render_plan_html(plan, curve)


@app.command()
@guarded
def plot(
    path: PathArg,
    device: Annotated[
        list[str],
        typer.Option(
            "--device", "-d", help="Device id, alias or family (repeatable): its limits are drawn."
        ),
    ],
    runtime: RuntimeOpt = None,
    quantization: QuantOpt = None,
    context: ContextOpt = None,
    prefill: PrefillOpt = None,
    batch: BatchOpt = 1,
    kv_dtype: KvDtypeOpt = None,
    sliding_window: WindowOpt = None,
    attention_sink: SinkOpt = None,
    draft: DraftOpt = None,
    entitlement: EntitlementOpt = None,
    ram_fraction: RamFractionOpt = 0.7,
    profiles: ProfilesOpt = None,
    max_context: Annotated[
        int | None,
        typer.Option(
            "--max-context",
            min=16,
            help="Right end of the context axis (default: the model's maximum, at least 4096).",
        ),
    ] = None,
    points: Annotated[
        int, typer.Option("--points", min=4, max=1000, help="Context lengths to evaluate.")
    ] = 48,
    format: Annotated[
        ChartFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="svg (no extra needed), png (needs mlc-planner[plot]) or html "
            "(chart, budget and checks). Default: from the -o suffix, else svg.",
        ),
    ] = None,
    adapter: AdapterOpt = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the chart to this file (atomically); SVG and HTML go to stdout without it.",
        ),
    ] = None,
) -> None:
    """Chart memory (stacked by component) against context length, with each device's limits
    and the largest context that fits."""
    from planner.api import check_devices, load_profiles, resolve_devices
    from planner.checks import CheckOptions
    from planner.cli.progress import progress
    from planner.registry import read_model

    fmt = chart_format(format, output)
    if fmt is ChartFormat.png:
        require_matplotlib()
    spec = read_model(path, adapter)
    settings = build_settings(
        spec.format,
        runtime,
        quantization,
        context,
        prefill,
        batch,
        kv_dtype,
        sliding_window,
        attention_sink,
    )
    draft_spec = read_model(draft) if draft is not None else None
    devices = resolve_devices(device, load_profiles(list(profiles or [])))
    options = CheckOptions(ram_fraction=ram_fraction, entitlement=entitlement is not None)
    with progress(f"computing {spec.name} at {points} context lengths…") as advance:
        curve = curve_for(
            spec,
            settings,
            devices,
            options,
            draft_spec,
            x_max=max_context,
            points=points,
            advance=advance,
        )
    if fmt is ChartFormat.svg:
        from planner.render.svg_chart import render_svg

        emit(render_svg(curve), output)
    elif fmt is ChartFormat.png:
        from planner.atomic import write_atomic
        from planner.plot import render_png

        assert output is not None  # chart_format guarantees it
        write_atomic(output, render_png(curve))
        hint(f"wrote {output}")
    else:
        from planner.render.ci import ModelReports
        from planner.render.html import render_check_html

        reports = check_devices(spec, settings, devices, options, draft_spec)
        emit(render_check_html([ModelReports(str(path), tuple(reports))], [curve]), output)
