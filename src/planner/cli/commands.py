"""Command definitions: each parses options, calls ``planner.api``, renders, exits."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.cli import (
    AdapterOpt,
    FormatOpt,
    OutputOpt,
    PathArg,
    RuntimeChoice,
    TextJsonHtml,
    TextOrJson,
    app,
    emit,
    guarded,
    hint,
    text_style,
)
from planner.errors import ExitCode

if TYPE_CHECKING:
    from collections.abc import Sequence

    from planner.plot import MemoryCurve
    from planner.render.ci import ModelReports
    from planner.render.terminal import TextStyle
    from planner.settings import RuntimeSettings

RuntimeOpt = Annotated[
    RuntimeChoice | None,
    typer.Option(
        "--runtime",
        "-r",
        help="Runtime to plan for (default: mlc for MLC and Hugging Face folders, "
        "onnxruntime for ONNX).",
    ),
]
QuantOpt = Annotated[
    str | None,
    typer.Option(
        "--quantization",
        "-q",
        help="Target quantization: an MLC scheme (q4f16_1, q0f16, …) or an "
        "onnxruntime precision (int4, int4-bs128, int8, fp32, …).",
    ),
]
ContextOpt = Annotated[
    int | None,
    typer.Option(
        "--context",
        "-c",
        help="Tokens the KV cache must hold (MLC context_window_size; "
        "onnxruntime-genai max_length).",
    ),
]
PrefillOpt = Annotated[
    int | None,
    typer.Option(
        "--prefill",
        "-p",
        help="Tokens processed in one forward pass (MLC prefill_chunk_size; the "
        "prompt processed at once for onnxruntime-genai).",
    ),
]
BatchOpt = Annotated[int, typer.Option("--batch", "-b", help="Concurrent sequences.")]
KvDtypeOpt = Annotated[
    str | None,
    typer.Option(
        "--kv-dtype", help="KV cache dtype (float16, float32, int8, fp8, int4 where supported)."
    ),
]
WindowOpt = Annotated[
    int | None,
    typer.Option("--sliding-window", help="Sliding-window size (tokens kept per sequence)."),
]
SinkOpt = Annotated[
    int | None,
    typer.Option("--attention-sink", help="Attention-sink tokens kept with a sliding window."),
]
DraftOpt = Annotated[
    Path | None,
    typer.Option("--draft", help="Draft model for speculative decoding (adds its weights and KV)."),
]
ProfilesOpt = Annotated[
    list[Path] | None,
    typer.Option("--profiles", help="Extra folder of device profile YAML files (repeatable)."),
]


def _runtime(choice: RuntimeChoice | None, spec_format: str) -> str:
    if choice is not None:
        return choice.value
    return "onnxruntime" if spec_format.startswith("onnx") else "mlc"


def build_settings(
    spec_format: str,
    runtime: RuntimeChoice | None,
    quantization: str | None,
    context: int | None,
    prefill: int | None,
    batch: int,
    kv_dtype: str | None,
    sliding_window: int | None,
    attention_sink: int | None,
) -> RuntimeSettings:
    """RuntimeSettings from CLI options (validation happens in RuntimeSettings)."""
    from planner.settings import Runtime, RuntimeSettings

    return RuntimeSettings(
        runtime=Runtime(_runtime(runtime, spec_format)),
        quantization=quantization,
        context=context,
        prefill=prefill,
        batch=batch,
        kv_dtype=kv_dtype,
        sliding_window=sliding_window,
        attention_sink=attention_sink,
    )


@app.command()
@guarded
def inspect(
    path: PathArg,
    format: FormatOpt = TextOrJson.text,
    adapter: AdapterOpt = None,
    output: OutputOpt = None,
) -> None:
    """Print what a model artifact is: architecture, heads, KV layout, weights, quantization."""
    from planner.registry import read_model
    from planner.render.dicts import SCHEMA_VERSION, dumps, spec_dict
    from planner.render.text import render_spec

    spec = read_model(path, adapter)
    if format is TextOrJson.json:
        emit(
            dumps({"schema_version": SCHEMA_VERSION, "kind": "inspect", "model": spec_dict(spec)}),
            output,
        )
    else:
        emit(render_spec(spec, style=text_style(output)), output)


@app.command()
@guarded
def estimate(
    path: PathArg,
    runtime: RuntimeOpt = None,
    quantization: QuantOpt = None,
    context: ContextOpt = None,
    prefill: PrefillOpt = None,
    batch: BatchOpt = 1,
    kv_dtype: KvDtypeOpt = None,
    sliding_window: WindowOpt = None,
    attention_sink: SinkOpt = None,
    draft: DraftOpt = None,
    format: FormatOpt = TextOrJson.text,
    adapter: AdapterOpt = None,
    output: OutputOpt = None,
) -> None:
    """Estimate memory: weights, KV cache, activations, runtime overhead, footprint."""
    from planner.budget import estimate as run_estimate
    from planner.registry import read_model
    from planner.render.dicts import SCHEMA_VERSION, budget_dict, dumps, spec_dict
    from planner.render.text import render_budget

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
    budget = run_estimate(spec, settings, draft_spec)
    if format is TextOrJson.json:
        emit(
            dumps(
                {
                    "schema_version": SCHEMA_VERSION,
                    "kind": "estimate",
                    "model": spec_dict(spec),
                    **budget_dict(budget),
                }
            ),
            output,
        )
    else:
        emit(render_budget(budget, style=text_style(output)), output)


class CheckFormat(str, Enum):
    """Output formats of check."""

    text = "text"
    json = "json"
    junit = "junit"
    sarif = "sarif"
    github = "github"
    html = "html"


class Entitlement(str, Enum):
    """iOS entitlements that change memory limits."""

    increased_memory_limit = "increased-memory-limit"


EntitlementOpt = Annotated[
    Entitlement | None,
    typer.Option("--entitlement", help="Assume this iOS entitlement is granted."),
]
RamFractionOpt = Annotated[
    float,
    typer.Option("--ram-fraction", min=0.05, max=1.0, help="Fraction of RAM the model may use."),
]


@app.command()
@guarded
def check(
    path: Annotated[
        Path | None, typer.Argument(help="Model artifact (omit with --config).")
    ] = None,
    device: Annotated[
        list[str] | None,
        typer.Option(
            "--device",
            "-d",
            help="Device id, alias or family, or a tier such as android:6GB (repeatable).",
        ),
    ] = None,
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
    config: Annotated[
        Path | None,
        typer.Option("--config", help="planner.yaml with a matrix of models × devices × settings."),
    ] = None,
    format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Report format.")
    ] = CheckFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
    adapter: AdapterOpt = None,
    output: OutputOpt = None,
) -> None:
    """Check a model against devices; exit 0 if every check passes, 1 if one fails."""
    from planner.checks import CheckOptions, Status
    from planner.errors import UsageError
    from planner.render.ci import ModelReports
    from planner.runconfig import CheckJob, load_run_config

    if config is not None:
        if path is not None or device:
            raise UsageError("give either --config or a model path with --device, not both")
        given = {
            "--runtime": runtime, "--quantization": quantization, "--context": context,
            "--prefill": prefill, "--kv-dtype": kv_dtype, "--sliding-window": sliding_window,
            "--attention-sink": attention_sink, "--draft": draft, "--entitlement": entitlement,
            "--adapter": adapter,
        }
        clashing = [k for k, v in given.items() if v is not None]
        clashing += ["--batch"] if batch != 1 else []
        clashing += ["--ram-fraction"] if ram_fraction != 0.7 else []
        if clashing:
            raise UsageError(
                f"{', '.join(clashing)} cannot be combined with --config: set them per job or "
                "under defaults: in the planner.yaml"
            )
        rc = load_run_config(config)
        jobs = list(rc.jobs)
        extra_dirs = [*(profiles or []), *rc.profile_dirs]
    else:
        if path is None or not device:
            raise UsageError(
                "planner check needs a model path and at least one --device "
                "(or --config planner.yaml)"
            )
        jobs = [
            CheckJob(
                model=path,
                devices=tuple(device),
                runtime=runtime.value if runtime else None,
                quantization=quantization,
                context=context,
                prefill=prefill,
                batch=batch,
                kv_dtype=kv_dtype,
                sliding_window=sliding_window,
                attention_sink=attention_sink,
                draft=draft,
                entitlement=entitlement is not None,
                ram_fraction=ram_fraction,
                adapter=adapter,
                label=str(path),
            )
        ]
        extra_dirs = list(profiles or [])
    from planner.api import check_devices, load_profiles, resolve_devices
    from planner.registry import read_model

    all_profiles = load_profiles(extra_dirs)
    runs: list[ModelReports] = []
    curves = []  # charts, for --format html only
    from planner.cli.progress import track

    for job in track(jobs, f"checking {len(jobs)} models…"):
        devices = resolve_devices(job.devices, all_profiles)
        spec = read_model(job.model, job.adapter)
        settings = build_settings(
            spec.format,
            RuntimeChoice(job.runtime) if job.runtime else None,
            job.quantization,
            job.context,
            job.prefill,
            job.batch,
            job.kv_dtype,
            job.sliding_window,
            job.attention_sink,
        )
        draft_spec = read_model(job.draft) if job.draft else None
        options = CheckOptions(ram_fraction=job.ram_fraction, entitlement=job.entitlement)
        reports = check_devices(spec, settings, devices, options, draft_spec)
        runs.append(ModelReports(job.label, tuple(reports), path=str(job.model)))
        if format is CheckFormat.html:
            from planner.cli.report_cmds import curve_for

            curves.append(curve_for(spec, settings, devices, options, draft_spec))
    emit(render_check(runs, format, strict, style=text_style(output), curves=curves), output)
    worst = [r.status for run in runs for r in run.reports]
    if Status.FAIL in worst or (strict and Status.WARN in worst):
        raise typer.Exit(int(ExitCode.CHECK_FAILED))


def render_check(
    runs: list[ModelReports],
    fmt: CheckFormat,
    strict: bool,
    *,
    style: TextStyle | None = None,
    curves: Sequence[MemoryCurve] = (),
) -> str:
    """Pick the renderer for a check format (exhaustive over CheckFormat)."""
    from planner.render.ci import render_github, render_junit, render_sarif
    from planner.render.dicts import SCHEMA_VERSION, dumps, report_dict
    from planner.render.text import PLAIN, render_check_text

    if fmt is CheckFormat.json:
        return dumps(
            {
                "schema_version": SCHEMA_VERSION,
                "kind": "check",
                "strict": strict,
                "results": [
                    {"model": run.model, "devices": [report_dict(r) for r in run.reports]}
                    for run in runs
                ],
            }
        )
    if fmt is CheckFormat.junit:
        return render_junit(runs, strict)
    if fmt is CheckFormat.sarif:
        return render_sarif(runs, strict)
    if fmt is CheckFormat.github:
        return render_github(runs, strict)
    if fmt is CheckFormat.html:
        from planner.render.html import render_check_html

        return render_check_html(runs, curves, strict)
    return render_check_text(runs, strict, style or PLAIN)


devices_app = typer.Typer(
    help="List device profiles or show one with its sources.",
    no_args_is_help=False,
    invoke_without_command=True,
)
app.add_typer(devices_app, name="devices")


class OsChoice(str, Enum):
    """--os values of ``planner devices`` (planner.device.OS_NAMES)."""

    android = "android"
    ios = "ios"
    ipados = "ipados"
    macos = "macos"
    linux = "linux"
    windows = "windows"


@devices_app.callback(invoke_without_command=True)
@guarded
def devices_list(
    ctx: typer.Context,
    profiles: ProfilesOpt = None,
    os_name: Annotated[
        OsChoice | None, typer.Option("--os", help="Only profiles of this operating system.")
    ] = None,
    min_ram: Annotated[
        str | None,
        typer.Option("--min-ram", help="Only profiles with at least this RAM (e.g. 8GB)."),
    ] = None,
    format: FormatOpt = TextOrJson.text,
    output: OutputOpt = None,
) -> None:
    """List device profiles (bundled and --profiles) and the names that resolve to them."""
    if ctx.invoked_subcommand is not None:
        return
    from planner.api import load_profiles
    from planner.device import name_table
    from planner.device_tiers import parse_ram
    from planner.render.devices_table import (
        devices_dict,
        filter_names,
        filter_profiles,
        render_devices_text,
    )
    from planner.render.dicts import SCHEMA_VERSION, dumps

    found = load_profiles(list(profiles or []))
    min_bytes = parse_ram(min_ram, "--min-ram") if min_ram is not None else None
    os_value = os_name.value if os_name is not None else None
    shown = filter_profiles(found, os_value, min_bytes)
    names = filter_names(name_table(found), shown)
    if format is TextOrJson.json:
        body = devices_dict(shown, names, os=os_value, min_ram_bytes=min_bytes)
        emit(dumps({"schema_version": SCHEMA_VERSION, "kind": "devices", **body}), output)
        return
    filtered = os_value is not None or min_bytes is not None
    emit(render_devices_text(shown, names, text_style(output), filtered=filtered), output)


@devices_app.command("show")
@guarded
def devices_show(
    device_id: Annotated[
        str,
        typer.Argument(
            metavar="ID", help="Device id, alias or family, or a tier such as android:6GB."
        ),
    ],
    profiles: ProfilesOpt = None,
    format: FormatOpt = TextOrJson.text,
) -> None:
    """Show one profile with the source of every number."""
    from planner.api import load_profiles
    from planner.device import describe, profile_dict, resolve_device
    from planner.render.dicts import SCHEMA_VERSION, dumps

    d = resolve_device(device_id, load_profiles(list(profiles or [])))
    if format is TextOrJson.json:
        typer.echo(
            dumps({"schema_version": SCHEMA_VERSION, "kind": "device", "device": profile_dict(d)}),
            nl=False,
        )
        return
    typer.echo(f"{d.name} ({d.id})")
    for row in describe(d):
        est = " [estimate]" if row.estimate else ""
        src = f"  — {row.source}" if row.source else ""
        typer.echo(f"  {row.field:<30}{row.value}{est}{src}")


@app.command()
@guarded
def measure(
    path: PathArg,
    context: Annotated[int, typer.Option("--context", "-c", help="max_length for the run.")],
    prefill: Annotated[int, typer.Option("--prefill", "-p", help="Prompt tokens.")],
    decode_tokens: Annotated[int, typer.Option("--decode", help="Tokens to generate.")] = 8,
    format: FormatOpt = TextOrJson.text,
    output: OutputOpt = None,
) -> None:
    """Run the model with onnxruntime and report the measured peak memory it added."""
    from planner.budget import estimate as run_estimate
    from planner.measure import measure as run_measure
    from planner.registry import read_model
    from planner.render.dicts import SCHEMA_VERSION, dumps
    from planner.settings import Runtime, RuntimeSettings

    spec = read_model(path)
    budget = run_estimate(
        spec, RuntimeSettings(Runtime.ONNXRUNTIME, context=context, prefill=prefill)
    )
    hint(f"running {path} (context {context}, prompt {prefill}) in a fresh process…")
    m = run_measure(path, context=context, prefill=prefill, decode_tokens=decode_tokens)
    error = (budget.total_bytes - m.added_peak_bytes) / max(m.added_peak_bytes, 1)
    if format is TextOrJson.json:
        emit(
            dumps(
                {
                    "schema_version": SCHEMA_VERSION,
                    "kind": "measure",
                    "measurement": m.to_json(),
                    "estimate_total_bytes": budget.total_bytes,
                    "estimate_error": round(error, 4),
                }
            ),
            output,
        )
    else:
        mib = 1024 * 1024
        lines = [
            f"{path}: measured peak added {m.added_peak_bytes / mib:,.1f} MiB "
            f"({m.backend}; baseline {m.baseline_rss_bytes / mib:,.1f} MiB)",
            f"planner estimate: {budget.total_bytes / mib:,.1f} MiB ({error:+.1%})",
        ]
        lines += [
            f"  after {p.name:<11} RSS {p.rss_bytes / mib:9,.1f} MiB  peak "
            f"{p.peak_rss_bytes / mib:9,.1f} MiB"
            for p in m.phases
        ]
        emit("\n".join(lines) + "\n", output)


@app.command()
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
    ram_fraction: RamFractionOpt = 0.7,
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
        typer.Option(
            "--format",
            "-f",
            help="Output format (html: a report with the chart).",
        ),
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
) -> None:
    """Find the best plan that fits, explain it, and print the build commands and config."""
    from planner.api import load_profiles, resolve_devices
    from planner.checks import CheckOptions
    from planner.emit.fragments import EmitKind, render_fragment
    from planner.errors import UsageError
    from planner.registry import read_model
    from planner.render.dicts import SCHEMA_VERSION, dumps
    from planner.render.plan_json import plan_dict
    from planner.render.text import render_plan
    from planner.suggest import suggest as run_suggest

    kind = None
    if emit_kind is not None:
        try:
            kind = EmitKind(emit_kind)
        except ValueError:
            raise UsageError(
                f"unknown --emit {emit_kind!r}; choose one of "
                + ", ".join(k.value for k in EmitKind)
            ) from None
    spec = read_model(path, adapter)
    if runtime is None and kind is not None:
        runtime = RuntimeChoice.mlc if kind.value.startswith("mlc") else RuntimeChoice.onnxruntime
    settings = build_settings(
        spec.format, runtime, quantization, context, prefill, batch, kv_dtype, None, None
    )
    devices = resolve_devices(device, load_profiles(list(profiles or [])))
    from planner.cli.progress import activity

    options = CheckOptions(ram_fraction=ram_fraction, entitlement=entitlement is not None)
    with activity(f"searching plans for {spec.name} on {', '.join(d.id for d in devices)}…"):
        plan = run_suggest(spec, settings, devices, options, min_context)
    if with_model:
        if kind is not EmitKind.mlc_package_config:
            raise UsageError("--with-model needs --emit mlc-package-config (one file, many models)")
        from planner.emit.fragments import package_config_for

        plans = [plan]
        for extra_path in with_model:
            extra = read_model(extra_path)
            extra_settings = build_settings(
                extra.format, runtime, None, context, prefill, batch, kv_dtype, None, None
            )
            with activity(f"searching plans for {extra.name}…"):
                plans.append(run_suggest(extra, extra_settings, devices, options, min_context))
        emit(package_config_for(plans), output)  # raises when a model has no plan
        return
    if kind is not None:
        emit(render_fragment(plan, kind), output)
    elif format is TextJsonHtml.json:
        emit(
            dumps({"schema_version": SCHEMA_VERSION, "kind": "suggest", **plan_dict(plan)}), output
        )
    elif format is TextJsonHtml.html:
        from planner.cli.report_cmds import plan_html

        emit(plan_html(plan, options), output)
    else:
        emit(render_plan(plan, style=text_style(output)), output)
    if plan.chosen is None:
        raise typer.Exit(int(ExitCode.CHECK_FAILED))
