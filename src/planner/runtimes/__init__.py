"""The runtime registry, and ``estimate``: one budget for a model (and its draft) (pure).

Each runtime is a module implementing ``planner.runtimes.base.RuntimeModel``; ``RUNTIMES``
registers them by ``Runtime``. Everything that depends on the runtime asks its model here
instead of branching on the enum.
"""

from __future__ import annotations

from planner.budget import Component, EngineFigures, MemoryBudget
from planner.runtimes.base import QuantCandidate, RuntimeModel
from planner.runtimes.mlc import MlcRuntime
from planner.runtimes.onnxruntime import OrtRuntime
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

__all__ = ["RUNTIMES", "QuantCandidate", "RuntimeModel", "default_runtime", "estimate", "model_for"]

RUNTIMES: dict[Runtime, RuntimeModel] = {
    Runtime.MLC: MlcRuntime(),
    Runtime.ONNXRUNTIME: OrtRuntime(),
}


def model_for(runtime: Runtime) -> RuntimeModel:
    """The runtime model registered for ``runtime``."""
    return RUNTIMES[runtime]


def default_runtime(spec: ModelSpec) -> Runtime:
    """The runtime an artifact is planned for when none is named (ONNX → onnxruntime)."""
    for runtime, model in RUNTIMES.items():
        if model.plans_by_default(spec):
            return runtime
    return Runtime.MLC


def _sum_engines(a: EngineFigures | None, b: EngineFigures | None) -> EngineFigures | None:
    if a is None or b is None:
        return a
    # Two model libraries, two engines' worth of parameters, temp buffers and workspaces.
    return EngineFigures(
        a.params_bytes + b.params_bytes,
        a.temp_buffer_bytes + b.temp_buffer_bytes,
        a.kv_aux_workspace_bytes + b.kv_aux_workspace_bytes,
        a.model_workspace_bytes + b.model_workspace_bytes,
        a.logit_processor_workspace_bytes + b.logit_processor_workspace_bytes,
    )


def estimate(
    spec: ModelSpec, settings: RuntimeSettings, draft: ModelSpec | None = None
) -> MemoryBudget:
    """Estimate memory for ``spec`` under ``settings``; a draft model adds its weights and KV."""
    model = model_for(settings.runtime)
    main = model.estimate(spec, settings)
    if draft is None:
        return main
    draft_settings = RuntimeSettings(
        runtime=settings.runtime,
        quantization=settings.draft_quantization or settings.quantization,
        context=main.settings.context,
        prefill=main.settings.prefill,
        batch=settings.batch,
        kv_dtype=settings.kv_dtype,
    )
    d = model.estimate(draft, draft_settings)
    extra = tuple(
        Component(
            c.category,
            f"draft {draft.name}: {c.label}",
            c.bytes,
            c.formula,
            c.inputs,
            c.dirty,
            c.source,
        )
        for c in d.components
    )
    return MemoryBudget(
        model=main.model,
        settings=main.settings,
        components=main.components + extra,
        kv_bytes_per_token=main.kv_bytes_per_token,
        engine=_sum_engines(main.engine, d.engine),
        notes=(
            *main.notes,
            f"speculative decoding: draft model {draft.name} adds its weights, "
            "KV cache and buffers (weights are never shared between the two)",
        ),
        assumptions=main.assumptions,
    )
