"""``inspect``, ``estimate`` and ``measure``: parse options, call ``planner.api``, render."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from planner.cli.options import (
    AdapterOpt,
    BatchOpt,
    CalibrationOpt,
    ContextOpt,
    DraftOpt,
    FormatOpt,
    KvDtypeOpt,
    OrtVersionOpt,
    OutputOpt,
    PathArg,
    PlatformOpt,
    PrefillOpt,
    QuantOpt,
    RuntimeChoice,
    RuntimeOpt,
    SinkOpt,
    TextOrJson,
    WindowOpt,
    plan_request,
)
from planner.cli.output import emit, guarded, hint, text_style


@guarded
def inspect(
    path: PathArg,
    format: FormatOpt = TextOrJson.text,
    adapter: AdapterOpt = None,
    output: OutputOpt = None,
) -> None:
    """Print what a model artifact is: architecture, heads, KV layout, weights, quantization."""
    from planner import api

    spec = api.inspect(path, adapter)
    if format is TextOrJson.json:
        from planner.render.dicts import SCHEMA_VERSION, dumps, spec_dict

        doc = {"schema_version": SCHEMA_VERSION, "kind": "inspect", "model": spec_dict(spec)}
        emit(dumps(doc), output)
    else:
        from planner.render.text import render_spec  # rich: text only

        emit(render_spec(spec, style=text_style(output)), output)


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
    platform: PlatformOpt = None,
    ort_version: OrtVersionOpt = None,
    calibration: CalibrationOpt = None,
    format: FormatOpt = TextOrJson.text,
    adapter: AdapterOpt = None,
    output: OutputOpt = None,
) -> None:
    """Estimate memory: weights, KV cache, activations, runtime overhead, footprint."""
    from planner import api
    from planner.render.dicts import SCHEMA_VERSION, budget_dict, dumps, spec_dict

    request = plan_request(
        path,
        runtime=runtime,
        quantization=quantization,
        context=context,
        prefill=prefill,
        batch=batch,
        kv_dtype=kv_dtype,
        sliding_window=sliding_window,
        attention_sink=attention_sink,
        draft=draft,
        adapter=adapter,
        platform=platform,
        ort_version=ort_version,
        calibration=calibration,
    )
    result = api.estimate(request)
    if format is TextOrJson.json:
        doc = {
            "schema_version": SCHEMA_VERSION,
            "kind": "estimate",
            "model": spec_dict(result.spec),
            **budget_dict(result.budget),
        }
        emit(dumps(doc), output)
    else:
        from planner.render.text import render_budget  # rich: text only

        emit(render_budget(result.budget, style=text_style(output)), output)


@guarded
def measure(
    path: PathArg,
    context: Annotated[int, typer.Option("--context", "-c", help="max_length for the run.")],
    prefill: Annotated[int, typer.Option("--prefill", "-p", help="Prompt tokens.")],
    decode_tokens: Annotated[int, typer.Option("--decode", help="Tokens to generate.")] = 8,
    python: Annotated[
        str | None,
        typer.Option(
            "--python",
            help="Interpreter to run the model with (e.g. a virtualenv with onnxruntime-genai; "
            "default: this one).",
        ),
    ] = None,
    calibration: CalibrationOpt = None,
    calibration_out: Annotated[
        Path | None,
        typer.Option(
            "--calibration-out",
            help="Add this run to a calibration file (created or updated): the fixed terms of "
            "this onnxruntime version on this platform, for --calibration.",
        ),
    ] = None,
    keep_page_cache: Annotated[
        bool,
        typer.Option(
            "--keep-page-cache",
            help="Do not drop the model's files from the page cache first (a file just written "
            "sits there in large folios, which map whole on a fault).",
        ),
    ] = False,
    fixed_heap: Annotated[
        bool,
        typer.Option(
            "--fixed-heap",
            help="Run with glibc's mmap threshold fixed (MALLOC_MMAP_THRESHOLD_=131072): freed "
            "buffers go back to the system as a phone's allocator returns them, and runs repeat; "
            "compared with the platform's -fixedheap plan (no heap kept).",
        ),
    ] = False,
    device_peak: Annotated[
        int | None,
        typer.Option(
            "--device-peak",
            min=1,
            help="Do not run: take this peak (bytes added by load + generate) measured on a "
            "device (Android, iOS: docs/onnxruntime-model.md#calibration) and compare or "
            "calibrate with it; needs --platform and --ort-version.",
        ),
    ] = None,
    platform: PlatformOpt = None,
    ort_version: OrtVersionOpt = None,
    format: FormatOpt = TextOrJson.text,
    output: OutputOpt = None,
) -> None:
    """Run the model with onnxruntime and print the peak memory it added next to planner's
    estimate of the same run (same onnxruntime version and platform)."""
    from dataclasses import replace

    from planner import api
    from planner.calibration import Calibration, load_calibration
    from planner.errors import UsageError
    from planner.io.atomic import write_atomic
    from planner.render.dicts import SCHEMA_VERSION, dumps
    from planner.runtimes import estimate as run_estimate
    from planner.runtimes.onnxruntime.calibrate import calibration_sample, side_by_side
    from planner.runtimes.onnxruntime.measure import Measurement, planned_platform
    from planner.runtimes.onnxruntime.measure import measure as run_measure

    if device_peak is not None:
        if fixed_heap:
            raise UsageError("--fixed-heap runs the model; --device-peak takes a measured peak")
        if platform is None or ort_version is None:
            raise UsageError("--device-peak needs the device's --platform and --ort-version")
        m = Measurement(
            model_dir=str(path),
            backend="device",
            context=context,
            prefill=prefill,
            decode_tokens=decode_tokens,
            decode_steps=min(decode_tokens, max(context - prefill, 0)),
            baseline_rss_bytes=0,
            peak_rss_bytes=device_peak,
            added_peak_bytes=device_peak,
            phases=(),
            kv_mode="device",
            peak_reset=False,
            memory_source="device",
            versions={"onnxruntime": ort_version},
            platform=platform,
        )
    else:
        hint(f"running {path} (context {context}, prompt {prefill}) in a fresh process…")
        m = run_measure(
            path,
            context=context,
            prefill=prefill,
            decode_tokens=decode_tokens,
            python=python,
            evict_page_cache=not keep_page_cache,
            fixed_heap=fixed_heap,
        )
    version = m.versions.get("onnxruntime")
    where_key = planned_platform(m, platform)
    request = plan_request(
        path,
        runtime=RuntimeChoice.onnxruntime,
        context=context,
        prefill=prefill,
        platform=where_key,
        ort_version=version if version and version != "unknown" else None,
    )
    models = api.read(request)
    settings = replace(models.settings, decode_tokens=m.decode_steps)
    budget = run_estimate(models.spec, settings)
    calibrated = None
    cal = load_calibration(calibration) if calibration is not None else None
    if cal is not None:
        calibrated = run_estimate(models.spec, replace(settings, calibration=cal))
    sample = calibration_sample(m, budget, models.spec.name)
    if calibration_out is not None:
        base = (
            load_calibration(calibration_out)
            if calibration_out.exists()
            else Calibration((), str(calibration_out))
        )
        updated = base.with_sample(
            "onnxruntime",
            version or "unknown",
            where_key or "unknown",
            "cpu",
            replace(sample, measured_at=_now()),
        )
        write_atomic(calibration_out, updated.dumps())
    error = (budget.total_bytes - m.added_peak_bytes) / max(m.added_peak_bytes, 1)
    if format is TextOrJson.json:
        doc = {
            "schema_version": SCHEMA_VERSION,
            "kind": "measure",
            "measurement": m.to_json(),
            "estimate_total_bytes": budget.total_bytes,
            "estimate_error": round(error, 4),
            "estimate_assumptions": list(budget.assumptions),
            "calibration_fixed_bytes": sample.fixed_bytes,
        }
        if calibrated is not None:
            doc["calibrated_total_bytes"] = calibrated.total_bytes
            doc["calibrated_error"] = round(
                (calibrated.total_bytes - m.added_peak_bytes) / max(m.added_peak_bytes, 1), 4
            )
        emit(dumps(doc), output)
        return
    mib = 1024 * 1024
    where = where_key or f"{m.system}/{m.arch} (no planner platform: estimated as default)"
    lines = [
        f"{path}: onnxruntime {version or '?'} ({m.backend}) on {where}; prompt {prefill}, "
        f"max_length {context}, {m.decode_steps} decode steps"
        + ("" if m.backend == "device" else f"; baseline {m.baseline_rss_bytes / mib:,.1f} MiB"),
        f"{'':30s}{'measured':>12s}{'planner':>12s}",
    ]
    for row in side_by_side(m, budget):
        meas = f"{row.measured / mib:,.1f}" if row.measured is not None else "–"
        est = f"{row.estimated / mib:,.1f}" if row.estimated is not None else "–"
        lines.append(f"{row.label:30s}{meas:>12s}{est:>12s} MiB")
    lines.append(f"planner estimate error: {error:+.1%}")
    if calibrated is not None:
        cerr = (calibrated.total_bytes - m.added_peak_bytes) / max(m.added_peak_bytes, 1)
        lines.append(
            f"with calibration {calibration}: {calibrated.total_bytes / mib:,.1f} MiB ({cerr:+.1%})"
        )
    if calibration_out is not None:
        own = sample.fixed_bytes + budget.total_bytes - m.added_peak_bytes
        lines.append(
            f"calibration: fixed terms {sample.fixed_bytes / mib:,.1f} MiB from this run "
            f"(planner's own {own / mib:,.1f} MiB) added to {calibration_out}"
        )
    lines += [f"  assumed: {a}" for a in budget.assumptions]
    lines += [
        f"  after {p.name:<11} RSS {p.rss_bytes / mib:9,.1f} MiB  peak "
        f"{p.peak_rss_bytes / mib:9,.1f} MiB"
        for p in m.phases
    ]
    emit("\n".join(lines) + "\n", output)


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
