"""``planner plot``: memory (stacked by component) against context length, with each
device's limits and the largest context that fits, as SVG, PNG or HTML.

SVG and HTML are written by hand (no dependency); PNG needs matplotlib, the optional extra
``plot``.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from planner.cli.options import (
    AdapterOpt,
    BatchOpt,
    ContextOpt,
    DraftOpt,
    EntitlementOpt,
    KvDtypeOpt,
    PathArg,
    PrefillOpt,
    ProfilesOpt,
    QuantOpt,
    RamFractionOpt,
    RuntimeOpt,
    SinkOpt,
    WindowOpt,
    plan_request,
)
from planner.cli.output import emit, emit_bytes, guarded
from planner.errors import MissingDependencyError, UsageError
from planner.settings import DEFAULT_RAM_FRACTION


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

    if importlib.util.find_spec("matplotlib") is None:
        raise MissingDependencyError(
            "PNG charts need matplotlib, which is not installed",
            hint="install the plot extra (pip install 'mlc-planner[plot]') — or write an SVG "
            "(-o chart.svg), which needs no extra",
        )


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
    ram_fraction: RamFractionOpt = DEFAULT_RAM_FRACTION,
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
            help="svg (no extra needed), png (needs the plot extra) or html "
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
    from planner import api
    from planner.cli.progress import progress

    fmt = chart_format(format, output)
    if fmt is ChartFormat.png:
        require_matplotlib()
    request = plan_request(
        path,
        devices=device,
        runtime=runtime,
        quantization=quantization,
        context=context,
        prefill=prefill,
        batch=batch,
        kv_dtype=kv_dtype,
        sliding_window=sliding_window,
        attention_sink=attention_sink,
        draft=draft,
        entitlement=entitlement,
        ram_fraction=ram_fraction,
        profiles=profiles,
        adapter=adapter,
    )
    models = api.read(request)
    known = api.profiles(request.profile_dirs)
    with progress(f"computing {models.spec.name} at {points} context lengths…") as advance:
        curve = api.plot(
            request,
            x_max=max_context,
            points=points,
            on_progress=advance,
            known=known,
            models=models,
        )
    if fmt is ChartFormat.svg:
        from planner.render.svg_chart import render_svg

        emit(render_svg(curve), output)
    elif fmt is ChartFormat.png:
        from planner.render.png_chart import render_png

        assert output is not None  # chart_format guarantees it
        emit_bytes(render_png(curve), output)
    else:
        from planner.render.html import render_check_html

        run = api.check(request, known).run
        emit(render_check_html([run], [curve]), output)
