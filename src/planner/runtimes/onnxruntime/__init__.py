"""The onnxruntime runtime model: onnxruntime-genai on the CPU execution provider (pure).

The budget is the peak resident memory that loading and generating adds: prepacked heap copies
of MatMul weights, touched memory-mapped initializers, the KV cache onnxruntime-genai
preallocates to ``max_length``, the prefill's activations (logits in fp32 included) and the
session's fixed terms; see ``planner.runtimes.onnxruntime.model`` for the mechanisms.
``measure`` (real runs, not pure) lives beside it.
"""

from __future__ import annotations

from planner.budget import MemoryBudget, ResolvedSettings, context_notes, kv_cache_bytes
from planner.quant import ORT_DEFAULT_SCHEMES, ort_scheme
from planner.runtimes.base import QuantCandidate
from planner.runtimes.onnxruntime import settings as ort_settings
from planner.runtimes.onnxruntime.model import ort_components
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

PREFILLS = (2048, 1024, 512, 256, 128)


class OrtRuntime:
    """onnxruntime-genai with the CPU execution provider (what runs on phones and boards)."""

    runtime = Runtime.ONNXRUNTIME
    prefill_candidates = PREFILLS

    def plans_by_default(self, spec: ModelSpec) -> bool:
        """ONNX artifacts are planned for onnxruntime unless asked otherwise."""
        return spec.format.startswith("onnx")

    def resolve(self, spec: ModelSpec, settings: RuntimeSettings) -> ResolvedSettings:
        """Settings after genai_config.json's and onnxruntime-genai's defaults."""
        return ort_settings.resolve(spec, settings)[0]

    def estimate(self, spec: ModelSpec, settings: RuntimeSettings) -> MemoryBudget:
        """Peak resident memory added by load + generate."""
        rs, scheme = ort_settings.resolve(spec, settings)
        kv_total, per_token = kv_cache_bytes(
            spec,
            context=rs.context,
            batch=rs.batch,
            dtype=rs.kv_dtype,
            window=rs.sliding_window,
            sink=rs.attention_sink,
        )
        return MemoryBudget(
            model=spec.name,
            settings=rs,
            components=ort_components(spec, rs, scheme, kv_total),
            kv_bytes_per_token=per_token,
            notes=tuple(context_notes(spec, rs)),
            assumptions=rs.defaults,
        )

    def quantization_candidates(
        self, spec: ModelSpec, pinned: str | None, kv_dtype: str | None
    ) -> list[QuantCandidate]:
        """The builder precisions worth trying on CPU (shared-embedding variants if tied)."""
        del kv_dtype  # any precision can carry any KV dtype
        if pinned:
            o = ort_scheme(pinned)
            return [QuantCandidate(o.name, o.quality_rank)]
        names = [
            n
            for n in ORT_DEFAULT_SCHEMES
            if not (n.endswith("embq") and not spec.tie_word_embeddings)
        ]
        out = [QuantCandidate(n, ort_scheme(n).quality_rank) for n in names]
        return sorted(out, key=lambda c: -c.quality_rank)

    def supports_sliding_window(self, spec: ModelSpec) -> bool:
        """Only a model exported with local attention windows has one."""
        return bool(spec.layer_windows)

    def app_precheck_bytes(self, budget: MemoryBudget) -> int | None:
        """onnxruntime-genai apps do no available-memory pre-check."""
        return None
