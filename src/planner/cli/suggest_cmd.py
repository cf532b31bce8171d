"""``planner suggest``: the best plan that fits, why, and the fragments that build it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.options import (
    AdapterOpt,
    BatchOpt,
    ContextOpt,
    EntitlementOpt,
    KvDtypeOpt,
    OutputOpt,
    PathArg,
    PrefillOpt,
    ProfilesOpt,
    QuantOpt,
    RamFractionOpt,
    RuntimeChoice,
    RuntimeOpt,
    TextJsonHtml,
    plan_request,
)
from planner.cli.output import emit, guarded, text_style
from planner.errors import ExitCode, UsageError
from planner.settings import DEFAULT_RAM_FRACTION


@guarded
def suggest(
    path: PathArg,
    device: Annotated[
        list[str],
        typer.Option(
            "--device", "-d", help="Device id, alias or family (repeatable: the plan must fit all)."
        ),
    ],
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
    with_model: Annotated[
        list[Path] | None,
        typer.Option(
            "--with-model",
            help="Another model for the same device (repeatable); with "
            "--emit mlc-package-config one file lists every model.",
        ),
    ] = None,
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
    from planner.emit.fragments import (
        EmitKind,
        fragment_notes,
        package_config_for,
        render_fragment,
    )

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
    if with_model and kind is not EmitKind.mlc_package_config and update is None:
        raise UsageError("--with-model needs --emit mlc-package-config (one file, many models)")

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
        )

    if update is not None:
        from planner.cli.update import update_kind

        kind = update_kind(update, kind)
        if runtime is None:
            runtime = RuntimeChoice(kind.runtime.value)
    request = request_for(path, quantization, adapter)
    models = api.read(request)
    known = api.profiles(request.profile_dirs)
    targets = ", ".join(d.id for d in api.devices(request, known))
    with activity(f"searching plans for {models.spec.name} on {targets}…"):
        plan = api.suggest(request, min_context, known, models)
    if update is not None:
        from planner.cli.update import write_update

        plans = [plan]
        for extra in with_model or []:
            extra_request = request_for(extra, None, None)
            plans.append(api.suggest(extra_request, min_context, known, api.read(extra_request)))
        write_update(update, plans, update_kind(update, kind))
        return
    if with_model:
        plans = [plan]
        for extra in with_model:
            extra_request = request_for(extra, None, None)
            extra_models = api.read(extra_request)
            with activity(f"searching plans for {extra_models.spec.name}…"):
                plans.append(api.suggest(extra_request, min_context, known, extra_models))
        emit(package_config_for(plans), output)  # raises when a model has no plan
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
