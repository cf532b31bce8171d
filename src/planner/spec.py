"""The model spec: what a model is, as read from an artifact by an adapter.

Every adapter produces a ``ModelSpec``. It is immutable and holds plain values; each
field's origin (read from the artifact, derived from other fields, or assumed) is kept in
``ModelSpec.provenance`` so reports can say which numbers are facts and which are guesses.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import Enum


class Origin(str, Enum):
    """Where a spec field's value came from."""

    ARTIFACT = "artifact"
    """Read directly from the artifact (config value, graph attribute, tensor header)."""
    DERIVED = "derived"
    """Computed from other artifact values (e.g. head_dim = hidden / heads)."""
    ASSUMED = "assumed"
    """Not in the artifact: a documented default was used."""


@dataclass(frozen=True, slots=True)
class FieldSource:
    """The origin of one spec field and a short reason (which key, which tensor, which rule)."""

    name: str
    origin: Origin
    detail: str


@dataclass(frozen=True, slots=True)
class WeightsInventory:
    """What the weights are, from headers and graph metadata only (no weight bytes read).

    ``total_bytes`` is exact storage as the runtime will see it. ``external_bytes`` is the part
    that lives in separate files the runtime can memory-map (ONNX external data, MLC shards,
    safetensors); ``embedded_bytes`` lives inside the model file itself.
    """

    tensor_count: int
    total_bytes: int
    param_count: int
    bytes_by_dtype: tuple[tuple[str, int], ...] = ()
    external_bytes: int = 0
    embedded_bytes: int = 0
    matmul_bytes: int = 0
    """Bytes of weights consumed by (quantized) MatMul/Gemm kernels (ONNX: prepack candidates)."""
    embedding_bytes: int = 0
    """Bytes of the token embedding table (gathered row by row, so rarely all resident)."""
    lm_head_bytes: int = 0
    """Bytes of the output projection when stored separately from the embedding."""
    largest_matmul_tensor_bytes: int = 0
    """The largest single initializer feeding a MatMul (onnxruntime reads it whole while
    prepacking, so it bounds the load-time transient)."""

    def dtype_bytes(self, dtype: str) -> int:
        """Bytes stored in ``dtype`` (0 when none)."""
        return sum(b for d, b in self.bytes_by_dtype if d == dtype)


@dataclass(frozen=True, slots=True)
class QuantInfo:
    """The weight quantization found in the artifact."""

    scheme: str | None
    """Runtime's scheme name where one exists: an MLC name (``q4f16_1``), or for ONNX
    ``int4``/``int8``/``fp16``/``fp32``/``bf16``; None when unknown."""
    bits: float | None = None
    """Bits of the quantized weights (4, 3, 8) or the float width for unquantized models."""
    group_size: int | None = None
    symmetric: bool | None = None
    compute_dtype: str | None = None
    """Dtype of activations and scales (float16, float32, bfloat16)."""
    unquantized: tuple[str, ...] = ()
    """Tensors (or tensor groups, such as ``embed_tokens``/``lm_head``) kept in float."""
    details: tuple[tuple[str, str], ...] = ()
    """Extra scheme facts, e.g. (("accuracy_level", "4"),)."""


@dataclass(frozen=True, slots=True)
class ArtifactSettings:
    """Runtime settings that the artifact already carries (defaults for planning).

    MLC: ``context_window_size``, ``prefill_chunk_size``, ``sliding_window_size``,
    ``attention_sink_size``, ``max_batch_size`` from mlc-chat-config.json (or the compiled
    library's metadata). onnxruntime-genai: ``search.max_length`` and
    ``past_present_share_buffer`` from genai_config.json.
    """

    context_window_size: int | None = None
    prefill_chunk_size: int | None = None
    sliding_window_size: int | None = None
    attention_sink_size: int | None = None
    max_batch_size: int | None = None
    max_length: int | None = None
    past_present_share_buffer: bool | None = None
    conv_template: str | None = None
    session_options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CompiledLibInfo:
    """Metadata that ``mlc_llm compile`` embeds in a model library (read without TVM)."""

    path: str
    params_bytes: int | None = None
    memory_usage: tuple[tuple[str, int], ...] = ()
    """Per-function temporary buffer bytes, as planned by the compiler."""
    context_window_size: int | None = None
    prefill_chunk_size: int | None = None
    sliding_window_size: int | None = None
    max_batch_size: int | None = None
    kv_state_kind: str | None = None
    model_type: str | None = None
    quantization: str | None = None
    """The MLC scheme the library was compiled for (must match the weights)."""
    attention_sink_size: int | None = None
    tensor_parallel_shards: int | None = None
    pipeline_parallel_stages: int | None = None
    kv_cache: tuple[tuple[str, int], ...] = ()
    """The metadata's ``kv_cache`` block: ``num_hidden_layers``, ``num_attention_heads``,
    ``num_key_value_heads``, ``head_dim`` (head counts per tensor-parallel shard)."""

    @property
    def max_temp_bytes(self) -> int | None:
        """MLC takes the max over functions, not the sum."""
        return max((b for _, b in self.memory_usage), default=None)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """An LLM as planner understands it: architecture, weights, quantization, KV layout."""

    name: str
    source: str
    """Path shown to users (as given on the command line)."""
    format: str
    """Artifact format: ``onnx``, ``onnx-genai``, ``onnx-optimum``, ``mlc``, ``hf``."""
    adapter: str
    architecture: str
    """Model family as MLC and Hugging Face name it (``llama``, ``qwen2``, ``phi3``, ...)."""
    num_layers: int
    hidden_size: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int | None
    vocab_size: int
    tie_word_embeddings: bool
    max_context: int | None
    weights: WeightsInventory | None
    """Exact weights of this artifact; None when the artifact has no weights (config only)."""
    quantization: QuantInfo
    kv_dtype: str
    """Dtype of the KV cache as the artifact defines it (``float16``, ``float32``, ...)."""
    layer_windows: tuple[int | None, ...] = ()
    """Per layer: the sliding-window size, or None for full (global) attention. Empty means
    every layer is global."""
    attention_sink: int | None = None
    kv_input_names: tuple[str, ...] = ()
    settings: ArtifactSettings = field(default_factory=ArtifactSettings)
    compiled_lib: CompiledLibInfo | None = None
    provenance: tuple[FieldSource, ...] = ()
    notes: tuple[str, ...] = ()
    """Warnings and observations worth showing (e.g. a config/graph mismatch)."""
    extra: tuple[tuple[str, str], ...] = ()
    """Family-specific facts kept as text (e.g. ``("rope_type", "llama3")``)."""
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Specs key the budget caches and are hashed thousands of times in a plan search; the
        # fields are immutable, so hash them once.
        values = tuple(getattr(self, f) for f in _SPEC_FIELDS)
        object.__setattr__(self, "_hash", hash(values))

    def __hash__(self) -> int:
        return self._hash

    @property
    def kv_bytes_per_token_unit(self) -> int:
        """K+V elements per token over all layers (multiply by dtype bytes for bytes)."""
        return 2 * self.num_layers * self.num_kv_heads * self.head_dim

    @property
    def sliding_window(self) -> int | None:
        """The largest sliding window used by any layer, or None when all layers are global."""
        windows = [w for w in self.layer_windows if w is not None]
        return max(windows) if windows else None

    def source_of(self, name: str) -> FieldSource | None:
        """How ``name`` was obtained, if recorded."""
        for item in self.provenance:
            if item.name == name:
                return item
        return None

    def with_changes(self, **changes: object) -> ModelSpec:
        """A copy with some fields replaced (specs are immutable)."""
        return replace(self, **changes)  # type: ignore[arg-type]


_SPEC_FIELDS = tuple(f.name for f in fields(ModelSpec) if f.compare)
