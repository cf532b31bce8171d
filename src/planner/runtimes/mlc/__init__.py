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
from math import ceil
from pathlib import Path

from planner.budget import (
    ACTIVATIONS,
    KV_CACHE,
    RUNTIME_OVERHEAD,
    WEIGHTS,
    Component,
    MemoryBudget,
    ResolvedSettings,
    context_notes,
    normalise_kv_dtype,
)
from planner.device import DeviceProfile
from planner.families import MoeLayout, fact_int, family
from planner.quality import QualityCost, weight_cost
from planner.quant import MlcScheme, dtype_bytes, mlc_scheme, mlc_schemes_for
from planner.runtimes.base import PHONE_OSES, QuantCandidate, has_f16
from planner.runtimes.mlc import capacity
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


def is_adreno(d: DeviceProfile) -> bool:
    """Whether the device's GPU is a Qualcomm Adreno (MLC's ``android:adreno`` preset)."""
    return "adreno" in d.gpu.lower() or (d.mlc_device or "").startswith("android:adreno")


COMPILER = "mlc-llm 79d603f on apache-tvm 0.26 (paged KV cache, attention workspaces in the cache)"
"""The compiler planner's temporary-buffer model reproduces."""
_PAGED_FUNCTIONS = ("batch_prefill", "batch_decode", "batch_verify")


def kv_layout(spec: ModelSpec, dtype: str) -> tuple[float, str]:
    """(bytes one layer stores per token, formula): K and V heads, or MLA's one latent."""
    fam = family(spec.architecture)
    if fam.mlc.kv == "mla":
        width = fact_int(spec, "kv_lora_rank") + fact_int(spec, "qk_rope_head_dim")
        return width * dtype_bytes(dtype), "layers × (kv_lora_rank + qk_rope_head_dim) × dtype"
    return (
        spec.num_kv_heads * spec.head_dim * 2 * dtype_bytes(dtype),
        "layers × kv_heads × head_dim × 2 × dtype bytes",
    )


def engine_kv_width(spec: ModelSpec) -> int:
    """head_dim × kv_heads as the lib's metadata records them, which MLC's engine sizes its pool
    with: MLA records one head of kv_lora_rank + qk_rope_head_dim (deepseek_v2_model.py
    ``create_paged_kv_cache``)."""
    if family(spec.architecture).mlc.kv == "mla":
        return fact_int(spec, "kv_lora_rank") + fact_int(spec, "qk_rope_head_dim")
    return spec.num_kv_heads * spec.head_dim


def kv_tokens(spec: ModelSpec, rs: ResolvedSettings) -> list[int]:
    """Tokens each layer's pages hold. MLC's paged pool is shared by every layer, so a layer
    pattern saves nothing (Gemma-3); a sliding window (Mistral) caps every layer at window +
    sink."""
    if rs.sliding_window is not None:
        return [min(rs.context, rs.sliding_window + rs.attention_sink)] * spec.num_layers
    return [rs.context] * spec.num_layers


def _idle_experts(spec: ModelSpec, moe: MoeLayout, expert_bytes: int) -> int:
    """Expert bytes a decoded token does not read: (1 − top_k / experts) of them."""
    experts, top_k = fact_int(spec, moe.experts_key), fact_int(spec, moe.top_k_key)
    if experts <= 0 or not 0 < top_k <= experts:
        return 0
    return expert_bytes * (experts - top_k) // experts


@lru_cache(maxsize=1024)
def _weights(spec: ModelSpec, scheme: MlcScheme, context: int) -> tuple[Component, int]:
    """The parameters component, and the bytes resident but not read for every token: an
    untied embedding table (gathered a row at a time) and the MoE experts a token does not
    route to (all E resident, top-k read: (1 − k / E) of the experts)."""
    same = (
        spec.weights is not None
        and spec.format == "mlc"
        and spec.quantization.scheme == scheme.name
    )
    lay = family(spec.architecture).layout
    moe = lay.moe if lay is not None else None
    # an MLC artifact's tensor-cache gives totals only; the experts' share comes from the
    # family's layout, which MoE families have
    wb = mlc_weight_bytes(spec, scheme, context) if moe is not None or not same else None
    idle = _idle_experts(spec, moe, wb.expert_bytes) if wb is not None and moe else 0
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
        ), min(w.total_bytes, (w.embedding_bytes if w.lm_head_bytes else 0) + idle)
    assert wb is not None  # not the artifact's own precision: computed above
    gathered = (wb.embedding_bytes if wb.lm_head_bytes else 0) + idle
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


def _temp(spec: ModelSpec, scheme: MlcScheme, rs: ResolvedSettings) -> tuple[Component, list[str]]:
    """The temporary buffer: the compiled library's metadata when it matches the settings,
    else planner's replay of the current compiler, with a note saying which."""
    lib = spec.compiled_lib
    notes: list[str] = []
    if lib is not None and lib.memory_usage:
        name = Path(lib.path).name
        old = not any(f in dict(lib.memory_usage) for f in _PAGED_FUNCTIONS)
        if old:
            notes.append(
                f"compiled library {name} predates MLC's paged KV cache (early 2024): such "
                "libraries keep attention scores in the temporary buffer, which then grows with "
                "the context; recompile with a current mlc-llm"
            )
        mismatch = [
            f"{what} {have} (asked {want})"
            for what, have, want in (
                ("prefill chunk", lib.prefill_chunk_size, rs.prefill),
                ("quantization", spec.quantization.scheme, rs.quantization),
                ("max batch", lib.max_batch_size, rs.max_batch_size),
            )
            if have is not None and have != want
        ]
        if not mismatch and lib.max_temp_bytes is not None:
            return Component(
                ACTIVATIONS,
                "temporary buffer (compiled library)",
                lib.max_temp_bytes,
                "max over functions of memory_usage (compiled model library metadata)",
                tuple((f, str(b)) for f, b in lib.memory_usage),
                source="artifact",
            ), notes
        notes.append(
            f"compiled library {name} was built for {', '.join(mismatch)}: its memory_usage does "
            f"not apply; the temporary buffer is modelled on {COMPILER}"
        )
    else:
        notes.append(f"temporary buffer modelled on {COMPILER}; older libraries differ")
    est = _temp_cached(spec, scheme, rs.prefill, rs.max_batch_size)
    return Component(
        ACTIVATIONS,
        "temporary buffer",
        est.max_bytes,
        f"max over compiled functions (largest: {est.max_function})",
        tuple((f.name, str(f.bytes)) for f in est.functions),
        source="planner/runtimes/mlc/temp.py model of mlc_llm compile's memory planning",
    ), notes


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

    def settings_for_device(
        self, settings: RuntimeSettings, device: DeviceProfile
    ) -> RuntimeSettings:
        """MLC's budget does not depend on the device's platform: unchanged."""
        del device
        return settings

    def estimate(self, spec: ModelSpec, settings: RuntimeSettings) -> MemoryBudget:
        """MLC's own reported figure plus the engine's start-up overhead."""
        rs, scheme = mlc_settings.resolve(spec, settings)
        weights, gathered = _weights(spec, scheme, rs.context)
        per_layer_token, kv_formula = kv_layout(spec, rs.kv_dtype)
        tokens = kv_tokens(spec, rs)
        kv_total = ceil(sum(tokens) * per_layer_token) * rs.batch
        per_token = ceil(per_layer_token * spec.num_layers)
        kv = Component(
            KV_CACHE,
            "KV cache",
            kv_total,
            f"{kv_formula} × tokens × batch",
            (
                ("layers", str(spec.num_layers)),
                ("kv_heads", str(spec.num_kv_heads)),
                ("head_dim", str(spec.head_dim)),
                ("dtype", rs.kv_dtype),
                ("tokens", str(max(tokens, default=rs.context))),
                ("batch", str(rs.batch)),
                ("engine_kv_width", str(engine_kv_width(spec))),
            ),
            source="mlc-llm cli/model_metadata.py (KV bytes per token)",
        )
        temp, temp_notes = _temp(spec, scheme, rs)
        engine = engine_figures(spec, weights.bytes, temp.bytes, rs)
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
            notes=(*context_notes(spec, rs), *_lib_notes(spec, rs), *temp_notes),
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
        (f32-activation schemes exist for WebGPU without shader-f16), and only the artifact's
        own scheme when the family's weights cannot be laid out from a config. Layout: NK, but
        the KN twin (``q4f16_0`` for ``q4f16_1``: the same numbers and bytes) when a target GPU
        is an Adreno — ``_1`` layouts freeze the system UI for 20–50 s at the first prefill there
        (mlc-llm docs/deploy/android.rst "Known issues", #3363), which is why MLC's own Android
        app ships q4f16_0."""
        own = spec.quantization.scheme if spec.format == "mlc" else None
        if pinned:
            s = mlc_scheme(pinned)
            return [
                QuantCandidate(s.name, s.quality_rank, needs_source=self._needs_source(spec, s))
            ]
        f16 = all(has_f16(d) for d in devices)
        layout = "KN" if any(is_adreno(d) for d in devices) else "NK"
        layout_known = family(spec.architecture).layout is not None
        out = []
        for s in mlc_schemes_for(spec.architecture):
            if s.kind not in MOBILE_KINDS or s.model_dtype == "bfloat16":
                continue
            twin = s.layout == "NK" and not any(
                t.layout == "KN" and t.bits == s.bits and t.model_dtype == s.model_dtype
                for t in mlc_schemes_for(spec.architecture)
            )
            if s.layout != layout and not (s.layout == "NK" and twin) and s.name != own:
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
        """True only where the user can choose a window that changes memory: MLC's config takes
        ``sliding_window_size`` and the KV cache then holds window + sink tokens (Mistral).
        Not Gemma-2 (its window is forced into the context), Gemma-3 (the window is the
        model's, and the page pool covers every layer) or Phi-3 (no window field)."""
        return family(spec.architecture).mlc.window == "user"

    def app_precheck_bytes(self, budget: MemoryBudget) -> int | None:
        """MLCChat compares os_proc_available_memory() with estimated_vram_bytes (the total)."""
        return budget.total_bytes

    def allocated(self, budget: MemoryBudget, device: DeviceProfile) -> MemoryBudget:
        """The KV pool the engine sizes to the device (``capacity.allocated``)."""
        return capacity.allocated(budget, device)
