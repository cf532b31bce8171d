"""``planner suggest``: the best plan that fits, why, and the fragments that build it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.cli.options import (
    AdapterOpt,
    BatchOpt,
    CalibrationOpt,
    ContextOpt,
    EntitlementOpt,
    GpuMemoryOpt,
    KvDtypeOpt,
    OrtVersionOpt,
    OsOpt,
    OutputOpt,
    PathArg,
    PlatformOpt,
    PrefillOpt,
    ProfilesOpt,
    QuantOpt,
    RamFractionOpt,
    RamOpt,
    RuntimeChoice,
    RuntimeOpt,
    SocOpt,
    TextJsonHtml,
    plan_request,
    tier_devices,
)
from planner.cli.output import emit, guarded, text_style
from planner.emit.kinds import EmitKind
from planner.errors import ExitCode, UsageError
from planner.settings import DEFAULT_RAM_FRACTION
from planner.suggest.objective import (
    DEFAULT_MARGIN,
    DEFAULT_PROMPT_TOKENS,
    Constraints,
    Objective,
)

if TYPE_CHECKING:
    from planner.suggest.multi import AppPlan


@guarded
def suggest(
    path: PathArg,
    device: Annotated[
        list[str] | None,
        typer.Option(
            "--device",
            "-d",
            help="Device id, alias, family or tier such as android:6GB (repeatable: the plan "
            "must fit all).",
        ),
    ] = None,
    runtime: RuntimeOpt = None,
    quantization: QuantOpt = None,
    min_context: Annotated[
        int | None, typer.Option("--min-context", help="Reject plans with a shorter context.")
    ] = None,
    context: ContextOpt = None,
    prefill: PrefillOpt = None,
    batch: BatchOpt = 1,
    kv_dtype: KvDtypeOpt = None,
    entitlement: EntitlementOpt = None,
    ram_fraction: RamFractionOpt = DEFAULT_RAM_FRACTION,
    profiles: ProfilesOpt = None,
    os_name: OsOpt = None,
    ram: RamOpt = None,
    soc: SocOpt = None,
    gpu_memory: GpuMemoryOpt = None,
    platform: PlatformOpt = None,
    ort_version: OrtVersionOpt = None,
    calibration: CalibrationOpt = None,
    emit_kind: Annotated[
        str | None,
        typer.Option(
            "--emit",
            help="Write only this fragment: mlc-overrides, mlc-package-config, "
            "mlc-commands, genai-config, ort-builder.",
        ),
    ] = None,
    format: Annotated[
        TextJsonHtml,
        typer.Option("--format", "-f", help="Output format (html: a report with the chart)."),
    ] = TextJsonHtml.text,
    objective: Annotated[
        Objective,
        typer.Option(
            "--objective",
            help="What to optimise: balanced (quality, speed, context and headroom traded as "
            "a utility), quality, speed or context first.",
        ),
    ] = Objective.balanced,
    margin: Annotated[
        float,
        typer.Option(
            "--margin",
            min=0.0,
            max=0.5,
            help="Share of every limit a chosen plan keeps spare (plans inside it are "
            "runners-up with a warning).",
        ),
    ] = DEFAULT_MARGIN,
    min_tokens_per_s: Annotated[
        float | None,
        typer.Option("--min-tokens-per-s", min=0.0, help="Reject plans decoding slower."),
    ] = None,
    max_ttft: Annotated[
        float | None,
        typer.Option(
            "--max-ttft", min=0.0, help="Reject plans whose first token takes longer (seconds)."
        ),
    ] = None,
    prompt: Annotated[
        int,
        typer.Option("--prompt", min=1, help="Prompt tokens time to first token is quoted for."),
    ] = DEFAULT_PROMPT_TOKENS,
    with_model: Annotated[
        list[Path] | None,
        typer.Option(
            "--with-model",
            help="Another model for the same app (repeatable): planned together, one at a "
            "time (default) or all resident (--co-resident).",
        ),
    ] = None,
    co_resident: Annotated[
        bool,
        typer.Option("--co-resident", help="With --with-model: every model stays loaded."),
    ] = False,
    adapter: AdapterOpt = None,
    output: OutputOpt = None,
    update: Annotated[
        Path | None,
        typer.Option(
            "--update",
            help="Write the plan into this mlc-package-config.json (its entry for the model, "
            "added or updated) or genai_config.json (the merge patch), in place and atomically; "
            "other keys and their order are kept.",
        ),
    ] = None,
) -> None:
    """Find the best plan that fits, explain it, and print the build commands and config."""
    from planner import api
    from planner.cli.output import hint
    from planner.cli.progress import activity, progress
    from planner.emit.fragments import fragment_notes, render_fragment

    device = tier_devices(device, os_name, ram, soc, gpu_memory, command="suggest")
    kind = None
    if emit_kind is not None:
        try:
            kind = EmitKind(emit_kind)
        except ValueError:
            raise UsageError(
                f"unknown --emit {emit_kind!r}; choose one of "
                + ", ".join(k.value for k in EmitKind)
            ) from None
    if runtime is None and kind is not None:
        runtime = RuntimeChoice(kind.runtime.value)
    if with_model and kind not in (None, EmitKind.mlc_package_config):
        raise UsageError("--with-model writes one mlc-package-config (or a report) for all models")
    constraints = Constraints(
        margin=margin,
        min_context=min_context,
        min_tokens_per_s=min_tokens_per_s,
        max_ttft_s=max_ttft,
        prompt_tokens=prompt,
    )

    def request_for(model: Path, pinned: str | None, forced: str | None) -> api.PlanRequest:
        return plan_request(
            model,
            devices=device,
            runtime=runtime,
            quantization=pinned,
            context=context,
            prefill=prefill,
            batch=batch,
            kv_dtype=kv_dtype,
            entitlement=entitlement,
            ram_fraction=ram_fraction,
            profiles=profiles,
            adapter=forced,
            platform=platform,
            ort_version=ort_version,
            calibration=calibration,
        )

    if update is not None:
        from planner.cli.update import update_kind

        kind = update_kind(update, kind)
        if runtime is None:
            runtime = RuntimeChoice(kind.runtime.value)
    request = request_for(path, quantization, adapter)
    if with_model:
        requests = [request, *(request_for(extra, None, None) for extra in with_model)]
        known = api.profiles(request.profile_dirs)
        mode = "resident together" if co_resident else "one at a time"
        with activity(f"planning {len(requests)} models ({mode})…"):
            app_plan = api.suggest_many(
                requests,
                known,
                objective=objective,
                constraints=constraints,
                co_resident=co_resident,
            )
        if update is not None:
            from planner.cli.update import write_update

            write_update(update, list(app_plan.plans), kind)
        else:
            _emit_app(app_plan, kind, format, output)
        if not app_plan.fits:
            raise typer.Exit(int(ExitCode.CHECK_FAILED))
        return
    models = api.read(request)
    known = api.profiles(request.profile_dirs)
    targets = ", ".join(d.id for d in api.devices(request, known))
    with activity(f"searching plans for {models.spec.name} on {targets}…"):
        plan = api.suggest(
            request, min_context, known, models, objective=objective, constraints=constraints
        )
    if update is not None:
        from planner.cli.update import write_update

        write_update(update, [plan], kind)
        return
    if kind is not None:
        emit(render_fragment(plan, kind), output)
        for note in fragment_notes(plan, kind):
            hint(f"note: {note}")
    elif format is TextJsonHtml.json:
        from planner.render.dicts import SCHEMA_VERSION, dumps
        from planner.render.plan_json import plan_dict

        emit(
            dumps({"schema_version": SCHEMA_VERSION, "kind": "suggest", **plan_dict(plan)}), output
        )
    elif format is TextJsonHtml.html:
        from planner.render.html import render_plan_html

        with progress("drawing the chart…") as advance:
            curve = api.plan_curve(plan, advance)
        emit(render_plan_html(plan, curve), output)
    else:
        from planner.render.text import render_plan

        emit(render_plan(plan, style=text_style(output)), output)
    if plan.chosen is None:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def _emit_app(
    app_plan: AppPlan, kind: EmitKind | None, format: TextJsonHtml, output: Path | None
) -> None:
    from planner.emit.fragments import package_config_for

    if kind is not None:
        emit(package_config_for(list(app_plan.plans)), output)  # raises when a model has no plan
    elif format is TextJsonHtml.json:
        from planner.render.dicts import SCHEMA_VERSION, dumps
        from planner.render.plan_json import app_plan_dict

        doc = {"schema_version": SCHEMA_VERSION, "kind": "suggest-app", **app_plan_dict(app_plan)}
        emit(dumps(doc), output)
    elif format is TextJsonHtml.html:
        raise UsageError("--with-model reports come as text or json")
    else:
        from planner.render.text import render_app_plan

        emit(render_app_plan(app_plan, style=text_style(output)), output)
