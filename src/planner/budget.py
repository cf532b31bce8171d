"""The memory budget: its types and the KV-cache arithmetic every runtime shares (pure).

A ``MemoryBudget`` is a tuple of named ``Component``s in bytes, each in one of four categories
(weights, KV cache, activations, runtime overhead) and each keeping the formula, inputs and
source that produced it. The runtime models in ``planner.runtimes`` build budgets; checks,
suggest and renderers read them. See docs/formulas.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import ceil

from planner.errors import UsageError
from planner.quant import dtype_bytes
from planner.settings import Runtime
from planner.spec import ModelSpec

WEIGHTS = "weights"
KV_CACHE = "kv_cache"
ACTIVATIONS = "activations"
RUNTIME_OVERHEAD = "runtime_overhead"
CATEGORIES = (WEIGHTS, KV_CACHE, ACTIVATIONS, RUNTIME_OVERHEAD)

KV_DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "float16": "float16",
    "fp16": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "int8": "int8",
    "uint8": "int8",
    "fp8": "float8_e4m3fn",
    "float8_e4m3fn": "float8_e4m3fn",
    "int4": "int4",
}


@dataclass(frozen=True, slots=True)
class Component:
    """One named part of the budget, with the formula and inputs that produced it."""

    category: str
    """One of ``weights``, ``kv_cache``, ``activations``, ``runtime_overhead``."""
    label: str
    bytes: int
    formula: str
    inputs: tuple[tuple[str, str], ...] = ()
    dirty: bool = True
    """Counted in the iOS footprint (dirty memory). Clean = read-only memory-mapped pages."""
    source: str = ""


@dataclass(frozen=True, slots=True)
class ResolvedSettings:
    """Settings after defaults from the artifact and the runtime have been applied."""

    runtime: Runtime
    quantization: str
    context: int
    prefill: int
    batch: int
    kv_dtype: str
    sliding_window: int | None
    attention_sink: int
    max_batch_size: int
    gpu_memory_utilization: float
    defaults: tuple[str, ...] = ()
    """Which settings were defaulted, and from where (shown to users)."""
    platform: str | None = None
    """onnxruntime: the platform planned for (``linux-x86_64``, ``ios-arm64``, ...)."""
    runtime_version: str | None = None
    """onnxruntime: the version whose terms were used (asked for, or the one assumed)."""


@dataclass(frozen=True, slots=True)
class EngineFigures:
    """What an engine reserves at start-up before any KV page (MLC: cpp/serve/config.cc
    ``InferForKVCache``); None for runtimes without such a budget."""

    params_bytes: int
    temp_buffer_bytes: int
    """max(memory_usage) over the compiled functions, before the engine's ×2."""
    kv_aux_workspace_bytes: int
    model_workspace_bytes: int
    logit_processor_workspace_bytes: int

    @property
    def startup_bytes(self) -> int:
        """params + 2 × temp + workspaces: what must fit before any KV page is allocated."""
        return (
            self.params_bytes
            + 2 * self.temp_buffer_bytes
            + self.kv_aux_workspace_bytes
            + self.model_workspace_bytes
            + self.logit_processor_workspace_bytes
        )


@dataclass(frozen=True, slots=True)
class MemoryBudget:
    """A memory budget with named components, all in bytes."""

    model: str
    settings: ResolvedSettings
    components: tuple[Component, ...]
    kv_bytes_per_token: int
    """KV bytes per token of context for one sequence (all layers, K and V)."""
    gathered_bytes: int = 0
    """Weight bytes resident but not read for every generated token: tables only gathered a row
    at a time (an untied embedding table, a heap copy of one for lookups) and the MoE experts a
    token is not routed to ((1 − top_k / experts) of them)."""
    engine: EngineFigures | None = None
    """Start-up reservations for runtimes that budget them (MLC), else None."""
    notes: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = field(default=())

    def category_bytes(self, category: str) -> int:
        """Sum of the components in ``category``."""
        return sum(c.bytes for c in self.components if c.category == category)

    @property
    def weights_bytes(self) -> int:
        """Weight bytes resident in memory."""
        return self.category_bytes(WEIGHTS)

    @property
    def kv_cache_bytes(self) -> int:
        """KV cache bytes for the context window and batch."""
        return self.category_bytes(KV_CACHE)

    @property
    def activations_bytes(self) -> int:
        """Activations and temporary buffers at the peak."""
        return self.category_bytes(ACTIVATIONS)

    @property
    def runtime_overhead_bytes(self) -> int:
        """What the runtime adds beyond the model."""
        return self.category_bytes(RUNTIME_OVERHEAD)

    @property
    def total_bytes(self) -> int:
        """Sum of all components (resident memory at the peak)."""
        return sum(c.bytes for c in self.components)

    @property
    def footprint_bytes(self) -> int:
        """Dirty memory: what iOS counts against an app's limit (clean mmapped pages excluded)."""
        return sum(c.bytes for c in self.components if c.dirty)

    @property
    def clean_bytes(self) -> int:
        """Clean, file-backed pages (the OS can drop and re-read them)."""
        return self.total_bytes - self.footprint_bytes

    @property
    def mlc_reported_bytes(self) -> int:
        """For MLC: the figure MLC itself reports (total without runtime overhead)."""
        return self.total_bytes - self.runtime_overhead_bytes

    @property
    def decode_read_bytes(self) -> int:
        """Bytes one decoded token reads: every weight but the gathered tables, and on average
        half the context's KV cache."""
        return self.weights_bytes - self.gathered_bytes + self.kv_cache_bytes // 2

    @property
    def runtime(self) -> Runtime:
        """The runtime this budget is for."""
        return self.settings.runtime


def normalise_kv_dtype(name: str) -> str:
    """Canonical KV dtype name, or a usage error listing the accepted ones."""
    try:
        return KV_DTYPES[name.lower()]
    except KeyError:
        known = ", ".join(sorted(set(KV_DTYPES)))
        raise UsageError(f"unknown KV dtype {name!r}; known: {known}") from None


def kv_bytes_per_layer_token(spec: ModelSpec, dtype: str) -> float:
    """K and V bytes one layer stores per token: kv_heads × head_dim × 2 × dtype bytes."""
    return spec.num_kv_heads * spec.head_dim * 2 * dtype_bytes(dtype)


def kv_tokens_per_layer(spec: ModelSpec, context: int, window: int | None, sink: int) -> list[int]:
    """Tokens each layer's cache holds: the context, or window + sink for sliding layers.

    An explicit ``window`` applies to every layer (MLC's sliding_window_size); otherwise the
    spec's per-layer pattern (e.g. Gemma-2's alternate local layers) is used.
    """
    layers = spec.num_layers
    if window is not None:
        return [min(context, window + sink)] * layers
    pattern = spec.layer_windows or (None,) * layers
    return [context if w is None else min(context, w + sink) for w in pattern]


def kv_cache_bytes(
    spec: ModelSpec, *, context: int, batch: int, dtype: str, window: int | None, sink: int
) -> tuple[int, int]:
    """(bytes for the whole cache, bytes per token of a full-attention sequence).

    bytes = Σ_layers tokens(layer) × kv_heads × head_dim × 2 (K, V) × dtype bytes × batch.
    """
    per_layer_token = kv_bytes_per_layer_token(spec, dtype)
    tokens = kv_tokens_per_layer(spec, context, window, sink)
    total = ceil(sum(tokens) * per_layer_token) * batch
    return total, ceil(per_layer_token * spec.num_layers)


@dataclass(frozen=True, slots=True)
class WeightBytes:
    """Weight storage for a target quantization, split the way the runtimes treat it."""

    total_bytes: int
    param_count: int
    linear_bytes: int
    """Bytes feeding matrix multiplies (prepack candidates in onnxruntime)."""
    embedding_bytes: int
    lm_head_bytes: int
    other_bytes: int
    """Norms, biases, rotary caches."""
    expert_bytes: int = 0
    """The part of ``linear_bytes`` in MoE experts (a token reads only its top-k of them)."""


def context_notes(spec: ModelSpec, rs: ResolvedSettings) -> list[str]:
    """Warnings about the context asked for, common to every runtime."""
    if spec.max_context and rs.context > spec.max_context:
        return [
            f"context {rs.context} exceeds the model's maximum {spec.max_context}: quality "
            "degrades past the trained length, and with MLC a library compiled for one context "
            "and a config saying another can crash the app (mlc-ai/mlc-llm#1013)"
        ]
    return []
