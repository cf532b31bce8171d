"""Plain-dict views of specs, budgets and reports: the stable JSON contract (pure).

``SCHEMA_VERSION`` changes when a field is renamed or removed (adding fields keeps it).
Dicts hold only str/int/float/bool/None/list/dict, no absolute paths or timestamps, so
``json.dumps(..., sort_keys=True)`` is deterministic. docs/reference.md#json-output
documents every field.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: `inspect` must not pay for importing the planner core
    from planner.budget import MemoryBudget
    from planner.checks import CheckResult, DeviceReport
    from planner.device import DeviceProfile
    from planner.spec import ModelSpec

SCHEMA_VERSION = "1"


def dumps(data: dict[str, Any]) -> str:
    """Canonical JSON text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def spec_dict(spec: ModelSpec) -> dict[str, Any]:
    """The model spec as a dict."""
    w = spec.weights
    q = spec.quantization
    return {
        "name": spec.name,
        "source": spec.source,
        "format": spec.format,
        "adapter": spec.adapter,
        "architecture": spec.architecture,
        "num_layers": spec.num_layers,
        "hidden_size": spec.hidden_size,
        "num_attention_heads": spec.num_attention_heads,
        "num_kv_heads": spec.num_kv_heads,
        "head_dim": spec.head_dim,
        "intermediate_size": spec.intermediate_size,
        "vocab_size": spec.vocab_size,
        "tie_word_embeddings": spec.tie_word_embeddings,
        "max_context": spec.max_context,
        "layer_windows": list(spec.layer_windows),
        "attention_sink": spec.attention_sink,
        "kv_dtype": spec.kv_dtype,
        "kv_input_names": list(spec.kv_input_names),
        "weights": None
        if w is None
        else {
            "tensor_count": w.tensor_count,
            "total_bytes": w.total_bytes,
            "param_count": w.param_count,
            "bytes_by_dtype": dict(w.bytes_by_dtype),
            "external_bytes": w.external_bytes,
            "embedded_bytes": w.embedded_bytes,
            "matmul_bytes": w.matmul_bytes,
            "embedding_bytes": w.embedding_bytes,
            "lm_head_bytes": w.lm_head_bytes,
        },
        "quantization": {
            "scheme": q.scheme,
            "bits": q.bits,
            "group_size": q.group_size,
            "symmetric": q.symmetric,
            "compute_dtype": q.compute_dtype,
            "unquantized": list(q.unquantized),
            "details": dict(q.details),
        },
        "settings": {
            k: getattr(spec.settings, k)
            for k in (
                "context_window_size",
                "prefill_chunk_size",
                "sliding_window_size",
                "attention_sink_size",
                "max_batch_size",
                "max_length",
                "past_present_share_buffer",
                "conv_template",
            )
        },
        "compiled_lib": None
        if spec.compiled_lib is None
        else {
            "params_bytes": spec.compiled_lib.params_bytes,
            "memory_usage": dict(spec.compiled_lib.memory_usage),
            "context_window_size": spec.compiled_lib.context_window_size,
            "prefill_chunk_size": spec.compiled_lib.prefill_chunk_size,
            "sliding_window_size": spec.compiled_lib.sliding_window_size,
            "max_batch_size": spec.compiled_lib.max_batch_size,
        },
        "provenance": {
            p.name: {"origin": p.origin.value, "detail": p.detail} for p in spec.provenance
        },
        "notes": list(spec.notes),
    }


def budget_dict(b: MemoryBudget) -> dict[str, Any]:
    """The budget as a dict: totals by category, components with formulas, settings used."""
    s = b.settings
    out: dict[str, Any] = {
        "memory": {
            "weights_bytes": b.weights_bytes,
            "kv_cache_bytes": b.kv_cache_bytes,
            "activations_bytes": b.activations_bytes,
            "runtime_overhead_bytes": b.runtime_overhead_bytes,
            "total_bytes": b.total_bytes,
            "footprint_bytes": b.footprint_bytes,
            "clean_bytes": b.clean_bytes,
            "kv_bytes_per_token": b.kv_bytes_per_token,
            "components": [
                {
                    "category": c.category,
                    "label": c.label,
                    "bytes": c.bytes,
                    "formula": c.formula,
                    "inputs": dict(c.inputs),
                    "dirty": c.dirty,
                    "source": c.source,
                }
                for c in b.components
            ],
        },
        "settings": {
            "runtime": s.runtime.value,
            "quantization": s.quantization,
            "context": s.context,
            "prefill": s.prefill,
            "batch": s.batch,
            "kv_dtype": s.kv_dtype,
            "sliding_window": s.sliding_window,
            "attention_sink": s.attention_sink,
            "max_batch_size": s.max_batch_size,
            "gpu_memory_utilization": s.gpu_memory_utilization,
            "defaults_applied": list(s.defaults),
            "platform": s.platform,
            "runtime_version": s.runtime_version,
        },
        "notes": list(b.notes),
    }
    if b.engine is not None:
        e = b.engine
        out["memory"]["mlc_reported_bytes"] = b.mlc_reported_bytes
        out["mlc_engine"] = {
            "params_bytes": e.params_bytes,
            "temp_buffer_bytes": e.temp_buffer_bytes,
            "kv_aux_workspace_bytes": e.kv_aux_workspace_bytes,
            "model_workspace_bytes": e.model_workspace_bytes,
            "logit_processor_workspace_bytes": e.logit_processor_workspace_bytes,
            "startup_bytes": e.startup_bytes,
        }
    return out


def check_dict(c: CheckResult) -> dict[str, Any]:
    """One check result."""
    return {
        "id": c.id,
        "title": c.title,
        "status": c.status.value,
        "message": c.message,
        "measured_bytes": c.measured_bytes,
        "limit_bytes": c.limit_bytes,
        "margin_bytes": c.margin_bytes,
        "threshold": c.threshold,
        "source": c.source,
    }


def device_dict(d: DeviceProfile) -> dict[str, Any]:
    """The identifying part of a device profile."""
    return {
        "id": d.id,
        "name": d.name,
        "os": d.os,
        "ram_bytes": d.ram_bytes.value,
        "mlc_device": d.mlc_device,
    }


def report_dict(r: DeviceReport) -> dict[str, Any]:
    """A device report: device, status, checks, largest context, decode speed, budget."""
    dec = r.decode
    return {
        "device": device_dict(r.device),
        "status": r.status.value,
        "checks": [check_dict(c) for c in r.checks],
        "max_context": r.max_context,
        "max_context_at_least": r.max_context_is_lower_bound,
        "decode": None
        if dec is None
        else {
            "tokens_per_s": round(dec.tokens_per_s, 2),
            "bytes_per_token": dec.bytes_per_token,
            "bandwidth_bytes_per_s": dec.bandwidth_bytes_per_s,
            "efficiency": dec.efficiency,
            "efficiency_source": dec.efficiency_source,
            "estimate": dec.estimate,
        },
        **budget_dict(r.budget),
    }
