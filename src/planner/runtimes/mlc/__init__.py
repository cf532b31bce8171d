"""The MLC-LLM runtime model (pure).

parameters + the largest temporary buffer that ``mlc_llm compile`` plans + the KV cache for the
context window is exactly the figure MLC itself reports (``cli/model_metadata.py``, WebLLM's
``vram_required_MB``); the engine's extra start-up reservations (a second temp buffer,
workspaces, KV page rounding) are ``runtime_overhead``. MLC copies parameters into GPU buffers
(Metal/OpenCL allocations), so every component is dirty memory.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from planner.device import DeviceProfile
from planner.families import family
from planner.quality import QualityCost, weight_cost
from planner.quant import MlcScheme, mlc_scheme, mlc_schemes_for
from planner.runtimes.base import PHONE_OSES, QuantCandidate, has_f16
from planner.runtimes.mlc import settings as mlc_settings
from planner.runtimes.mlc.engine import PAGE_SIZE, engine_figures, page_rounding_bytes
from planner.runtimes.mlc.temp import TempEstimate, mlc_temp_buffer
from planner.runtimes.mlc.weights import mlc_weight_bytes
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

MOBILE_KINDS = ("no-quant", "group-quant")
"""Scheme kinds whose kernels MLC builds for Metal/OpenCL/Vulkan (AWQ, FT and fp8 are CUDA-side)."""
PREFILLS = (2048, 1024, 512, 256, 128)
WINDOWS = (1024, 2048, 4096)
"""Sliding windows suggest tries (MLC's Android Mistral entry ships 768; these bracket it)."""
DEFAULT_SINK = 4
"""MistralConfig's attention_sink_size default (mlc-llm model/mistral/mistral_model.py)."""
SERVE_LOCAL_SEQUENCES = 4
"""``mlc_llm serve`` local mode: max_num_sequence = min(4, max_batch_size)."""


@lru_cache(maxsize=1024)
def _weights(spec: ModelSpec, scheme: MlcScheme) -> tuple[Component, int]:
    """The parameters component, and the bytes of an untied embedding table (gathered only)."""
    same = (
        spec.weights is not None
        and spec.format == "mlc"
        and spec.quantization.scheme == scheme.name
    )
    if same and spec.weights is not None:
        w = spec.weights
        return Component(
            WEIGHTS,
            "parameters",
            w.total_bytes,
            "Σ tensor-cache.json record nbytes",
            (("tensors", str(w.tensor_count)),),
            dirty=True,
            source="artifact",
        ), (w.embedding_bytes if w.lm_head_bytes else 0)
    wb = mlc_weight_bytes(spec, scheme)
    gathered = wb.embedding_bytes if wb.lm_head_bytes else 0
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
    ), gathered


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
        if spec.layer_windows and not family(spec.architecture).mlc_sliding_window:
            # MLC's config class for this family has no sliding window: every layer keeps the
            # whole context (Phi3Config ignores sliding_window; Gemma2Config forces the context
            # to it instead; Qwen2 ignores use_sliding_window).
            spec = spec.with_changes(layer_windows=())
        weights, gathered = _weights(spec, scheme)
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
            gathered_bytes=gathered,
            engine=engine,
            notes=(*context_notes(spec, rs), *_lib_notes(spec, rs)),
            assumptions=rs.defaults,
        )

    def quantization_candidates(
        self,
        spec: ModelSpec,
        pinned: str | None,
        kv_dtype: str | None,
        devices: Sequence[DeviceProfile] = (),
    ) -> list[QuantCandidate]:
        """MLC's mobile schemes for the family: f16 activations where every target GPU has f16
        (f32-activation schemes exist for WebGPU without shader-f16), NK layout, and only the
        artifact's own scheme when the family's weights cannot be laid out from a config."""
        own = spec.quantization.scheme if spec.format == "mlc" else None
        if pinned:
            s = mlc_scheme(pinned)
            return [
                QuantCandidate(s.name, s.quality_rank, needs_source=self._needs_source(spec, s))
            ]
        f16 = all(has_f16(d) for d in devices)
        layout_known = family(spec.architecture).layout is not None
        out = []
        for s in mlc_schemes_for(spec.architecture):
            if s.kind not in MOBILE_KINDS or s.model_dtype == "bfloat16" or s.layout != "NK":
                continue
            if f16 and s.model_dtype == "float32" and s.name != own:
                continue
            if kv_dtype is not None and s.kv_dtype != normalise_kv_dtype(kv_dtype):
                continue
            if not layout_known and s.name != own:
                continue
            out.append(QuantCandidate(s.name, s.quality_rank, self._needs_source(spec, s)))
        return out

    @staticmethod
    def _needs_source(spec: ModelSpec, scheme: MlcScheme) -> bool:
        if spec.format == "hf":
            return False
        return not (spec.format == "mlc" and spec.quantization.scheme == scheme.name)

    def weight_quality(self, spec: ModelSpec, quantization: str) -> QualityCost:
        """From the scheme's numerics (bits, group, kind, float embedding/lm_head)."""
        s = mlc_scheme(quantization)
        return weight_cost(
            bits=s.bits,
            group_size=s.group_size,
            kind=s.kind,
            float_embedding_and_head=not (s.quantize_embedding or s.quantize_final_fc),
        )

    def window_candidates(
        self, spec: ModelSpec, target: int
    ) -> tuple[tuple[int | None, int | None], ...]:
        """Windows shorter than the target for families whose window the user chooses, each
        with MLC's default 4 attention sinks (MistralConfig attention_sink_size)."""
        if not self.supports_sliding_window(spec):
            return ()
        return tuple((w, DEFAULT_SINK) for w in WINDOWS if w < target)

    def kv_candidates(
        self, spec: ModelSpec, pinned: str | None, quantization: str | None
    ) -> tuple[str | None, ...]:
        """MLC keeps the KV cache in the model dtype: nothing to search."""
        return (pinned,)

    def max_batch_for(
        self, devices: Sequence[DeviceProfile], batch: int, pinned: int | None
    ) -> int | None:
        """Phone apps run one sequence (interactive mode); elsewhere ``mlc_llm serve``'s local
        mode runs min(4, max_batch_size) (cpp/serve/config.cc): compile for that, not for
        gen_config's 128, since the batch bound sizes the batch-decode temp buffers."""
        if pinned is not None:
            return pinned
        if devices and all(d.os in PHONE_OSES for d in devices):
            return max(batch, 1)
        return max(batch, SERVE_LOCAL_SEQUENCES)

    def supports_sliding_window(self, spec: ModelSpec) -> bool:
        """MLC's config classes that take ``sliding_window_size`` (Family.mlc_sliding_window)."""
        return family(spec.architecture).mlc_sliding_window

    def app_precheck_bytes(self, budget: MemoryBudget) -> int | None:
        """MLCChat compares os_proc_available_memory() with estimated_vram_bytes (the total)."""
        return budget.total_bytes
