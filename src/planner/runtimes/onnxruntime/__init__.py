"""The onnxruntime runtime model: onnxruntime-genai on the CPU execution provider (pure).

The budget is the peak resident memory that loading and generating adds: prepacked heap copies
of MatMul weights, touched memory-mapped initializers, the KV cache onnxruntime-genai
preallocates to ``max_length``, the prefill's activations (logits in fp32 included) and the
session's fixed terms; see ``planner.runtimes.onnxruntime.model`` for the mechanisms.
``measure`` (real runs, not pure) lives beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from planner.budget import MemoryBudget, ResolvedSettings, context_notes
from planner.device import DeviceProfile
from planner.errors import PlannerError
from planner.families import family, param_count
from planner.quality import QualityCost, weight_cost
from planner.quant import ORT_DEFAULT_SCHEMES, ort_scheme
from planner.runtimes.base import QuantCandidate
from planner.runtimes.onnxruntime import settings as ort_settings
from planner.runtimes.onnxruntime.model import ort_components
from planner.runtimes.onnxruntime.platforms import platform_for_device
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

PREFILLS = (2048, 1024, 512, 256, 128)
SMALL_KV_INT4_PARAMS = 3_000_000_000
"""Below this size a 4-bit KV cache is not searched (see ``kv_candidates``)."""


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
        ctx, _ = ort_settings.ort_context(settings)
        components, gathered, per_token, notes = ort_components(spec, rs, scheme, ctx)
        return MemoryBudget(
            model=spec.name,
            settings=rs,
            components=components,
            kv_bytes_per_token=per_token,
            gathered_bytes=gathered,
            notes=(*context_notes(spec, rs), *notes),
            assumptions=rs.defaults,
        )

    def settings_for_device(
        self, settings: RuntimeSettings, device: DeviceProfile
    ) -> RuntimeSettings:
        """The device's platform (OS, arm64, dot product) unless the settings name one."""
        if settings.platform is not None:
            return settings
        return replace(settings, platform=platform_for_device(device))

    def quantization_candidates(
        self,
        spec: ModelSpec,
        pinned: str | None,
        kv_dtype: str | None,
        devices: Sequence[DeviceProfile] = (),
    ) -> list[QuantCandidate]:
        """The builder precisions worth trying on CPU (shared-embedding variants if tied), or only
        the artifact's own precision when the family's weights cannot be laid out."""
        del kv_dtype, devices  # any precision carries any KV dtype; the CPU path is the same
        own = self._own(spec)
        if pinned:
            o = ort_scheme(pinned)
            return [QuantCandidate(o.name, o.quality_rank, self._needs_source(spec, o.name))]
        if family(spec.architecture).layout is None:
            if own is None:
                return []
            return [QuantCandidate(own, ort_scheme(own).quality_rank)]
        names = [
            n
            for n in ORT_DEFAULT_SCHEMES
            if not (n.endswith("embq") and not spec.tie_word_embeddings)
        ]
        if own is not None and own not in names:
            names.append(own)
        out = [
            QuantCandidate(n, ort_scheme(n).quality_rank, self._needs_source(spec, n))
            for n in names
        ]
        return sorted(out, key=lambda c: -c.quality_rank)

    @staticmethod
    def _own(spec: ModelSpec) -> str | None:
        """The artifact's own precision, when it is an ONNX export onnxruntime can name."""
        name = spec.quantization.scheme
        if not spec.format.startswith("onnx") or name is None:
            return None
        try:
            ort_scheme(name)
        except PlannerError:
            return None
        return name

    def _needs_source(self, spec: ModelSpec, name: str) -> bool:
        return spec.format.startswith("onnx") and name != self._own(spec)

    def weight_quality(self, spec: ModelSpec, quantization: str) -> QualityCost:
        """From the precision's numerics; the artifact's own from what the graph says (bits,
        block size, accuracy level)."""
        o = ort_scheme(quantization)
        if quantization == self._own(spec) and spec.quantization.bits:
            q = spec.quantization
            level = dict(q.details).get("accuracy_level", "")
            bits = int(q.bits) if q.bits else None
            return weight_cost(
                bits=bits,
                group_size=q.group_size,
                kind="group-quant" if bits and bits < 16 else "no-quant",
                int8_activations="4" in level.split(","),
            )
        return weight_cost(
            bits=o.bits,
            group_size=o.block_size if o.bits else None,
            kind="group-quant" if o.bits else "no-quant",
            # The builder's default accuracy level on CPU is 4: int8 activations.
            int8_activations=o.bits is not None,
        )

    def window_candidates(
        self, spec: ModelSpec, target: int
    ) -> tuple[tuple[int | None, int | None], ...]:
        """Windows come from the exported graph, never from a setting."""
        return ()

    def kv_candidates(
        self, spec: ModelSpec, pinned: str | None, quantization: str | None
    ) -> tuple[str | None, ...]:
        """The graph's KV dtype, and the builder's KV quantization (CPU and CUDA) when the model
        is (re)built: int8, and int4 only for models of 3B parameters and more (4-bit KV breaks
        small models: Qwen3-0.6B +254 % perplexity, ik_llama.cpp#1509)."""
        if pinned is not None or family(spec.architecture).layout is None:
            return (pinned,)
        out: tuple[str | None, ...] = (None, "int8")
        params = spec.weights.param_count if spec.weights else param_count(spec)
        if params >= SMALL_KV_INT4_PARAMS:
            out += ("int4",)
        return out

    def max_batch_for(
        self, devices: Sequence[DeviceProfile], batch: int, pinned: int | None
    ) -> int | None:
        """onnxruntime-genai has no compiled batch bound."""
        return None

    def supports_sliding_window(self, spec: ModelSpec) -> bool:
        """Only a model exported with local attention windows has one."""
        return bool(spec.layer_windows)

    def app_precheck_bytes(self, budget: MemoryBudget) -> int | None:
        """onnxruntime-genai apps do no available-memory pre-check."""
        return None

    def allocated(self, budget: MemoryBudget, device: DeviceProfile) -> MemoryBudget:
        """onnxruntime-genai preallocates the KV cache to max_length whatever the device."""
        del device
        return budget
