"""``inspect``, ``estimate`` and ``measure``: parse options, call ``planner.api``, render."""

from __future__ import annotations

from typing import Annotated

import typer

from planner.cli.options import (
    AdapterOpt,
    BatchOpt,
    ContextOpt,
    DraftOpt,
    FormatOpt,
    KvDtypeOpt,
    OutputOpt,
    PathArg,
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
    from planner.render.dicts import SCHEMA_VERSION, dumps, spec_dict
    from planner.render.text import render_spec

    spec = api.inspect(path, adapter)
    if format is TextOrJson.json:
        doc = {"schema_version": SCHEMA_VERSION, "kind": "inspect", "model": spec_dict(spec)}
        emit(dumps(doc), output)
    else:
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
    format: FormatOpt = TextOrJson.text,
    adapter: AdapterOpt = None,
    output: OutputOpt = None,
) -> None:
    """Estimate memory: weights, KV cache, activations, runtime overhead, footprint."""
    from planner import api
    from planner.render.dicts import SCHEMA_VERSION, budget_dict, dumps, spec_dict
    from planner.render.text import render_budget

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
        emit(render_budget(result.budget, style=text_style(output)), output)


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
    from planner import api
    from planner.render.dicts import SCHEMA_VERSION, dumps
    from planner.runtimes.onnxruntime.measure import measure as run_measure

    onnxruntime = RuntimeChoice.onnxruntime
    request = plan_request(path, runtime=onnxruntime, context=context, prefill=prefill)
    budget = api.estimate(request).budget
    hint(f"running {path} (context {context}, prompt {prefill}) in a fresh process…")
    m = run_measure(path, context=context, prefill=prefill, decode_tokens=decode_tokens)
    error = (budget.total_bytes - m.added_peak_bytes) / max(m.added_peak_bytes, 1)
    if format is TextOrJson.json:
        doc = {
            "schema_version": SCHEMA_VERSION,
            "kind": "measure",
            "measurement": m.to_json(),
            "estimate_total_bytes": budget.total_bytes,
            "estimate_error": round(error, 4),
        }
        emit(dumps(doc), output)
        return
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
