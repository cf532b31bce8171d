"""The runtime registry, and ``estimate``: one budget for a model (and its draft) (pure).

Each runtime is a module implementing ``planner.runtimes.base.RuntimeModel``; ``RUNTIMES``
registers them by ``Runtime``. Everything that depends on the runtime asks its model here
instead of branching on the enum.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from planner.budget import EngineFigures, MemoryBudget
from planner.runtimes.base import QuantCandidate, RuntimeModel
from planner.runtimes.mlc import MlcRuntime
from planner.runtimes.onnxruntime import OrtRuntime
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

__all__ = [
    "RUNTIMES",
    "QuantCandidate",
    "RuntimeModel",
    "combine",
    "default_runtime",
    "estimate",
    "model_for",
]

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


def _sum_engines(
    a: EngineFigures | None, b: EngineFigures | None, one_engine: bool
) -> EngineFigures | None:
    if a is None or b is None:
        return a
    # Two engines reserve two of everything. One engine running a model and its draft sums the
    # parameters and workspaces but budgets the largest temp buffer of either library
    # (config.cc InferForKVCache: temp_buffer_bytes = max over every model's functions).
    temp = (
        max(a.temp_buffer_bytes, b.temp_buffer_bytes)
        if one_engine
        else a.temp_buffer_bytes + b.temp_buffer_bytes
    )
    return EngineFigures(
        a.params_bytes + b.params_bytes,
        temp,
        a.kv_aux_workspace_bytes + b.kv_aux_workspace_bytes,
        a.model_workspace_bytes + b.model_workspace_bytes,
        a.logit_processor_workspace_bytes + b.logit_processor_workspace_bytes,
    )


@lru_cache(maxsize=4096)
def estimate(
    spec: ModelSpec, settings: RuntimeSettings, draft: ModelSpec | None = None
) -> MemoryBudget:
    """Estimate memory for ``spec`` under ``settings``; a draft model adds its weights and KV.

    Pure, so memoised: a plan search and the checks of several devices ask for the same budget
    many times (budgets are immutable, so sharing them is safe)."""
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
    note = (
        f"speculative decoding: draft model {draft.name} adds its weights, "
        "KV cache and buffers (weights are never shared between the two)"
    )
    return combine(main, d, f"draft {draft.name}", note, one_engine=True)


def combine(
    main: MemoryBudget, other: MemoryBudget, label: str, note: str, *, one_engine: bool = False
) -> MemoryBudget:
    """One process holding two models: ``main``'s settings, both models' components (``other``'s
    labelled), the start-up reservations of both engines (or of one engine running both: a
    draft), and ``note`` saying why."""
    extra = tuple(replace(c, label=f"{label}: {c.label}") for c in other.components)
    return MemoryBudget(
        model=main.model,
        settings=main.settings,
        components=main.components + extra,
        kv_bytes_per_token=main.kv_bytes_per_token,
        gathered_bytes=main.gathered_bytes + other.gathered_bytes,
        engine=_sum_engines(main.engine, other.engine, one_engine),
        notes=(*main.notes, note),
        assumptions=main.assumptions,
    )
