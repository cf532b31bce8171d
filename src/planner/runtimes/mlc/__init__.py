"""The MLC-LLM runtime model (pure).

parameters + the largest temporary buffer that ``mlc_llm compile`` plans + the KV cache for the
context window is exactly the figure MLC itself reports (``cli/model_metadata.py``, WebLLM's
``vram_required_MB``); the engine's extra start-up reservations (a second temp buffer,
workspaces, KV page rounding) are ``runtime_overhead``. MLC copies parameters into GPU buffers
(Metal/OpenCL allocations), so every component is dirty memory.
"""

from __future__ import annotations

from functools import lru_cache

from planner.budget import (
    ACTIVATIONS,
    KV_CACHE,
    RUNTIME_OVERHEAD,
    WEIGHTS,
    Component,
    MemoryBudget,
    ResolvedSettings,
    context_notes,
    kv_bytes_per_layer_token,
    kv_cache_bytes,
    kv_tokens_per_layer,
    normalise_kv_dtype,
)
from planner.families import family
from planner.quant import MlcScheme, mlc_scheme, mlc_schemes_for
from planner.runtimes.base import QuantCandidate
from planner.runtimes.mlc import settings as mlc_settings
from planner.runtimes.mlc.engine import PAGE_SIZE, engine_figures, page_rounding_bytes
from planner.runtimes.mlc.temp import TempEstimate, mlc_temp_buffer
from planner.runtimes.mlc.weights import mlc_weight_bytes
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

MOBILE_KINDS = ("no-quant", "group-quant")
"""Scheme kinds whose kernels MLC builds for Metal/OpenCL/Vulkan (AWQ, FT and fp8 are CUDA-side)."""
PREFILLS = (2048, 1024, 512, 256, 128)


def _weights(spec: ModelSpec, scheme: MlcScheme) -> Component:
    same = (
        spec.weights is not None
        and spec.format == "mlc"
        and spec.quantization.scheme == scheme.name
    )
    if same and spec.weights is not None:
        return Component(
            WEIGHTS,
            "parameters",
            spec.weights.total_bytes,
            "Σ tensor-cache.json record nbytes",
            (("tensors", str(spec.weights.tensor_count)),),
            dirty=True,
            source="artifact",
        )
    wb = mlc_weight_bytes(spec, scheme)
    return Component(
        WEIGHTS,
        "parameters",
        wb.total_bytes,
        f"{scheme.name}: Σ per tensor storage (group {scheme.group_size}, {scheme.bits}-bit in "
        f"{scheme.storage_dtype}, scales/norms {scheme.model_dtype})",
        (
            ("params", str(wb.param_count)),
            ("linear_bytes", str(wb.linear_bytes)),
            ("embedding_bytes", str(wb.embedding_bytes)),
            ("lm_head_bytes", str(wb.lm_head_bytes)),
        ),
        dirty=True,
        source="computed from architecture (mlc-llm quantization/group_quantization.py)",
    )


@lru_cache(maxsize=1024)
def _temp_cached(spec: ModelSpec, scheme: MlcScheme, prefill: int, max_batch: int) -> TempEstimate:
    # Replaying the memory planner is the costly step of a plan search; it is pure, and no
    # planned activation depends on the context or the window (see temp.py), so the replay is
    # keyed on what it reads: the model, the scheme, the prefill chunk and the batch bound.
    return mlc_temp_buffer(spec, scheme, prefill_chunk=prefill, max_batch_size=max_batch)


def _temp(spec: ModelSpec, scheme: MlcScheme, rs: ResolvedSettings) -> Component:
    lib = spec.compiled_lib
    lib_matches = (
        lib is not None
        and lib.memory_usage
        and lib.prefill_chunk_size == rs.prefill
        and spec.quantization.scheme == rs.quantization
        and (lib.max_batch_size is None or lib.max_batch_size == rs.max_batch_size)
    )
    if lib_matches and lib is not None and lib.max_temp_bytes is not None:
        return Component(
            ACTIVATIONS,
            "temporary buffer (compiled library)",
            lib.max_temp_bytes,
            "max over functions of memory_usage (compiled model library metadata)",
            tuple((f, str(b)) for f, b in lib.memory_usage),
            source="artifact",
        )
    est = _temp_cached(spec, scheme, rs.prefill, rs.max_batch_size)
    return Component(
        ACTIVATIONS,
        "temporary buffer",
        est.max_bytes,
        f"max over compiled functions (largest: {est.max_function})",
        tuple((f.name, str(f.bytes)) for f in est.functions),
        source="planner/runtimes/mlc/temp.py model of mlc_llm compile's memory planning",
    )


def _lib_notes(spec: ModelSpec, rs: ResolvedSettings) -> list[str]:
    notes = []
    lib = spec.compiled_lib
    if lib is not None and lib.context_window_size:
        if lib.context_window_size > 0 and rs.context > lib.context_window_size:
            notes.append(
                f"the compiled library caps the context at {lib.context_window_size} tokens but "
                f"{rs.context} were asked for: the engine truncates to the library's limit, and "
                "a library and mlc-chat-config.json that disagree can crash the app "
                "(mlc-ai/mlc-llm#971, #1013); recompile with --overrides "
                f"context_window_size={rs.context}"
            )
    art = spec.settings.context_window_size
    if lib is not None and lib.context_window_size and art and art > 0:
        if art != lib.context_window_size:
            notes.append(
                f"mlc-chat-config.json says context_window_size {art} but the compiled library "
                f"was built for {lib.context_window_size}: MLC uses the smaller; keep them equal "
                "(mlc-ai/mlc-llm#1013)"
            )
    return notes


class MlcRuntime:
    """MLC-LLM on a phone GPU (Metal, OpenCL, Vulkan) or WebGPU."""

    runtime = Runtime.MLC
    prefill_candidates = PREFILLS

    def plans_by_default(self, spec: ModelSpec) -> bool:
        """MLC and Hugging Face artifacts are planned for MLC unless asked otherwise."""
        return not spec.format.startswith("onnx")

    def resolve(self, spec: ModelSpec, settings: RuntimeSettings) -> ResolvedSettings:
        """Settings after mlc-chat-config.json's and MLC's defaults."""
        return mlc_settings.resolve(spec, settings)[0]

    def estimate(self, spec: ModelSpec, settings: RuntimeSettings) -> MemoryBudget:
        """MLC's own reported figure plus the engine's start-up overhead."""
        rs, scheme = mlc_settings.resolve(spec, settings)
        weights = _weights(spec, scheme)
        kv_total, per_token = kv_cache_bytes(
            spec,
            context=rs.context,
            batch=rs.batch,
            dtype=rs.kv_dtype,
            window=rs.sliding_window,
            sink=rs.attention_sink,
        )
        kv = Component(
            KV_CACHE,
            "KV cache",
            kv_total,
            "layers × kv_heads × head_dim × 2 × dtype bytes × tokens × batch",
            (
                ("layers", str(spec.num_layers)),
                ("kv_heads", str(spec.num_kv_heads)),
                ("head_dim", str(spec.head_dim)),
                ("dtype", rs.kv_dtype),
                ("tokens", str(rs.context)),
                ("batch", str(rs.batch)),
            ),
            source="mlc-llm cli/model_metadata.py (KV bytes per token)",
        )
        temp = _temp(spec, scheme, rs)
        engine = engine_figures(spec, weights.bytes, temp.bytes, rs)
        per_layer_token = kv_bytes_per_layer_token(spec, rs.kv_dtype)
        tokens = kv_tokens_per_layer(spec, rs.context, rs.sliding_window, rs.attention_sink)
        overhead = (
            Component(
                RUNTIME_OVERHEAD,
                "engine's second temp buffer (safety ×2)",
                temp.bytes,
                "temp_buffer_bytes × 2 − temp_buffer_bytes",
                (),
                source="mlc-llm cpp/serve/config.cc: 'Magnify the temp buffer by a factor of 2 "
                "for safety'",
            ),
            Component(
                RUNTIME_OVERHEAD,
                "engine workspaces",
                engine.kv_aux_workspace_bytes
                + engine.model_workspace_bytes
                + engine.logit_processor_workspace_bytes,
                "kv_aux + model + logit-processor workspaces",
                (
                    ("kv_aux", str(engine.kv_aux_workspace_bytes)),
                    ("model", str(engine.model_workspace_bytes)),
                    ("logit_processor", str(engine.logit_processor_workspace_bytes)),
                ),
                source="mlc-llm cpp/serve/config.cc EstimateMemoryUsageOnMode",
            ),
            Component(
                RUNTIME_OVERHEAD,
                "KV page rounding",
                page_rounding_bytes(tokens, per_layer_token, rs.batch),
                f"(ceil(tokens / {PAGE_SIZE}) + 1) pages of {PAGE_SIZE} tokens",
                (("page_size", str(PAGE_SIZE)),),
                source="TVM paged_kv_cache.cc num_total_pages = ceil(capacity / page_size) + 1",
            ),
        )
        return MemoryBudget(
            model=spec.name,
            settings=rs,
            components=(weights, kv, temp, *overhead),
            kv_bytes_per_token=per_token,
            engine=engine,
            notes=(*context_notes(spec, rs), *_lib_notes(spec, rs)),
            assumptions=rs.defaults,
        )

    def quantization_candidates(
        self, spec: ModelSpec, pinned: str | None, kv_dtype: str | None
    ) -> list[QuantCandidate]:
        """MLC's mobile schemes for the family (f16/f32 activations, NK layout)."""
        if pinned:
            s = mlc_scheme(pinned)
            return [QuantCandidate(s.name, s.quality_rank)]
        return [
            QuantCandidate(s.name, s.quality_rank)
            for s in mlc_schemes_for(spec.architecture)
            if s.kind in MOBILE_KINDS
            and s.model_dtype != "bfloat16"
            and s.layout == "NK"
            and (kv_dtype is None or s.kv_dtype == normalise_kv_dtype(kv_dtype))
        ]

    def supports_sliding_window(self, spec: ModelSpec) -> bool:
        """MLC's config classes that take ``sliding_window_size`` (Family.mlc_sliding_window)."""
        return family(spec.architecture).mlc_sliding_window

    def app_precheck_bytes(self, budget: MemoryBudget) -> int | None:
        """MLCChat compares os_proc_available_memory() with estimated_vram_bytes (the total)."""
        return budget.total_bytes
