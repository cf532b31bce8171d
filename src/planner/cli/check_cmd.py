"""``planner check``: a model on devices, or a planner.yaml matrix; exit 1 when a rule fails."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from planner.cli.options import (
    AdapterOpt,
    BatchOpt,
    CalibrationOpt,
    ContextOpt,
    DraftOpt,
    EntitlementOpt,
    GpuMemoryOpt,
    KvDtypeOpt,
    OrtVersionOpt,
    OsOpt,
    OutputOpt,
    PlatformOpt,
    PrefillOpt,
    ProfilesOpt,
    QuantOpt,
    RamFractionOpt,
    RamOpt,
    RuntimeOpt,
    SinkOpt,
    SocOpt,
    WindowOpt,
    plan_request,
    tier_devices,
)
from planner.cli.output import emit, guarded, text_style
from planner.errors import ExitCode, UsageError
from planner.render.formats import CheckFormat, StreamFormat
from planner.settings import DEFAULT_RAM_FRACTION

if TYPE_CHECKING:
    from planner.device import DeviceProfile
    from planner.request import PlanRequest


@guarded
def check(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Model artifact, Hugging Face id (org/name[@rev]) or mlc-package-config.json "
            "(every model_list entry; omit with --config)."
        ),
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
    ram_fraction: RamFractionOpt = DEFAULT_RAM_FRACTION,
    profiles: ProfilesOpt = None,
    os_name: OsOpt = None,
    ram: RamOpt = None,
    soc: SocOpt = None,
    gpu_memory: GpuMemoryOpt = None,
    platform: PlatformOpt = None,
    ort_version: OrtVersionOpt = None,
    calibration: CalibrationOpt = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="planner.yaml with a matrix of models × devices × settings."),
    ] = None,
    format: Annotated[
        CheckFormat,
        typer.Option(
            "--format",
            "-f",
            help="Report format. With --config, text is a compact table (one row per job) and "
            "text, junit, sarif and github stream as jobs finish; json and html hold the run.",
        ),
    ] = CheckFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
    adapter: AdapterOpt = None,
    output: OutputOpt = None,
    jsonl: Annotated[
        Path | None,
        typer.Option(
            "--jsonl", help="Also stream one JSON object per job to this file (JSON Lines)."
        ),
    ] = None,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write JUnit XML to this file.")
    ] = None,
    sarif: Annotated[
        Path | None, typer.Option("--sarif", help="Also write SARIF 2.1.0 to this file.")
    ] = None,
    github: Annotated[
        Path | None,
        typer.Option("--github", help="Also write GitHub annotations to this file (- for stdout)."),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option("--summary", help="Also write the compact summary table to this file."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option("--jobs", "-j", min=1, help="Worker processes for --config (one job each)."),
    ] = 1,
) -> None:
    """Check a model against devices; exit 0 if every check passes, 1 if one fails."""
    from planner import api
    from planner.runconfig import load_run_config

    device = tier_devices(device, os_name, ram, soc, gpu_memory)
    if config is not None:
        if path is not None or device:
            raise UsageError(
                "give either --config or a model path with --device (or --os/--ram), not both"
            )
        given = {
            "--runtime": runtime,
            "--quantization": quantization,
            "--context": context,
            "--prefill": prefill,
            "--kv-dtype": kv_dtype,
            "--sliding-window": sliding_window,
            "--attention-sink": attention_sink,
            "--draft": draft,
            "--entitlement": entitlement,
            "--adapter": adapter,
            "--platform": platform,
            "--ort-version": ort_version,
            "--calibration": calibration,
        }
        clashing = [k for k, v in given.items() if v is not None]
        clashing += ["--batch"] if batch != 1 else []
        clashing += ["--ram-fraction"] if ram_fraction != DEFAULT_RAM_FRACTION else []
        if clashing:
            raise UsageError(
                f"{', '.join(clashing)} cannot be combined with --config: set them per job or "
                "under defaults: in the planner.yaml"
            )
        rc = load_run_config(config)
        requests = list(rc.jobs)
        extra_dirs = [*(profiles or []), *rc.profile_dirs]
    else:
        if path is None or not device:
            raise UsageError(
                "planner check needs a model path and at least one --device or --os/--ram "
                "(or --config planner.yaml)"
            )
        from planner.mlc_package import is_package_config

        requests = [
            plan_request(
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
                adapter=adapter,
                platform=platform,
                ort_version=ort_version,
                calibration=calibration,
            )
        ]
        extra_dirs = list(profiles or [])
        if is_package_config(path):
            # mlc-package-config.json: every model_list entry, with its overrides and its
            # declared estimated_vram_bytes (rule declared-estimate).
            from planner.mlc_package import load_package_config, package_requests

            requests = package_requests(load_package_config(path), requests[0])
    extras = {
        StreamFormat.jsonl: jsonl,
        StreamFormat.junit: junit,
        StreamFormat.sarif: sarif,
        StreamFormat.github: github,
        StreamFormat.summary: summary,
    }
    streams = {fmt: path for fmt, path in extras.items() if path is not None}
    known = api.profiles(extra_dirs)
    if (config is None and not streams) or format is CheckFormat.html:
        _check_models(requests, known, format, strict, output)
        return
    from planner.cli.matrix_run import run_matrix

    code = run_matrix(
        requests,
        known,
        format,
        output,
        streams,
        strict=strict,
        workers=workers,
        validate=config is not None,
    )
    if code:
        raise typer.Exit(code)


def _check_models(
    requests: list[PlanRequest],
    known: tuple[DeviceProfile, ...],
    format: CheckFormat,
    strict: bool,
    output: Path | None,
) -> None:
    """One model (the classic report): every error stops the run with its exit code."""
    from planner import api
    from planner.render.check import render_check
    from planner.rules import Status

    runs = []
    curves = []  # charts, for --format html only
    for request in requests:
        result = api.check(request, known)
        runs.append(result.run)
        if format is CheckFormat.html:
            curves.append(api.plot(request, known=known, models=result.models))
    emit(render_check(runs, format, strict, style=text_style(output), curves=curves), output)
    worst = [r.status for run in runs for r in run.reports]
    if Status.FAIL in worst or (strict and Status.WARN in worst):
        raise typer.Exit(int(ExitCode.CHECK_FAILED))
