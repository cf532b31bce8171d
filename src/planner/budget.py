"""The memory budget engine: pure functions from a model spec and runtime settings to bytes.

Two runtime models share one result type:

* **MLC** (``estimate_mlc``): parameters + the largest temporary buffer that ``mlc_llm compile``
  plans + the KV cache for the context window is exactly the figure MLC itself reports
  (``cli/model_metadata.py``, WebLLM's ``vram_required_MB``); the engine's extra start-up
  reservations (a second temp buffer, workspaces, KV page rounding) are ``runtime_overhead``.
* **onnxruntime** (``estimate_ort``): the peak resident memory that loading and generating
  adds on the CPU execution provider: prepacked heap copies of MatMul weights, touched
  memory-mapped initializers, the KV cache onnxruntime-genai preallocates to ``max_length``,
  the prefill's activations (logits in fp32 included) and arena slack.

Every component keeps the formula and inputs that produced it; see docs/formulas.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from math import ceil

from planner.errors import UsageError
from planner.mlc_temp import TempEstimate, mlc_temp_buffer
from planner.quant import (
    MLC_SCHEMES,
    MlcScheme,
    OrtScheme,
    dtype_bytes,
    mlc_scheme,
    ort_scheme,
)
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec
from planner.weights import mlc_weight_bytes

WEIGHTS = "weights"
KV_CACHE = "kv_cache"
ACTIVATIONS = "activations"
RUNTIME_OVERHEAD = "runtime_overhead"
CATEGORIES = (WEIGHTS, KV_CACHE, ACTIVATIONS, RUNTIME_OVERHEAD)

MLC_PAGE_SIZE = 16
"""Tokens per KV page (mlc-llm cpp/serve/config.h kv_cache_page_size)."""
MLC_DEFAULT_MAX_BATCH = 128
"""gen_config's --max-batch-size default since mlc-llm PR #2917."""
MLC_DEFAULT_PREFILL_CAP = 8192
MLC_WINDOW_FAMILIES = frozenset({"mistral", "gemma2", "gemma3", "gemma3_text", "ministral3"})
"""Families whose MLC model definition takes sliding_window_size (mlc-llm model/<family>)."""
"""Default prefill_chunk_size = min(context_window_size, 8192) (model configs' __post_init__)."""

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


@dataclass(frozen=True, slots=True)
class MlcEngineFigures:
    """What MLC's engine reserves at start-up (cpp/serve/config.cc InferForKVCache)."""

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
    mlc_engine: MlcEngineFigures | None = None
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


# --------------------------------------------------------------------------- MLC


def resolve_mlc_settings(
    spec: ModelSpec, settings: RuntimeSettings
) -> tuple[ResolvedSettings, MlcScheme]:
    """Apply artifact and MLC defaults to the user's settings."""
    defaults: list[str] = []
    art = spec.settings
    quant = settings.quantization or spec.quantization.scheme
    if quant is None or (settings.quantization is None and quant not in MLC_SCHEMES):
        quant = "q4f16_1"
        defaults.append(
            "quantization q4f16_1 (MLC's recommended mobile scheme; the artifact has no MLC one)"
        )
    scheme = mlc_scheme(quant)
    context = settings.context
    if context is None:
        context = (
            art.context_window_size
            if art.context_window_size and art.context_window_size > 0
            else None
        )
        if context is None:
            context = min(spec.max_context or 4096, 4096)
            defaults.append(f"context {context} (model maximum capped at 4096)")
        else:
            defaults.append(f"context {context} (mlc-chat-config context_window_size)")
    prefill = settings.prefill
    if prefill is None:
        art_pcs = (
            art.prefill_chunk_size
            if art.prefill_chunk_size and art.prefill_chunk_size > 0
            else None
        )
        prefill = art_pcs or min(context, MLC_DEFAULT_PREFILL_CAP)
        defaults.append(
            f"prefill {prefill} ("
            + (
                "mlc-chat-config prefill_chunk_size"
                if art_pcs
                else "MLC default min(context, 8192)"
            )
            + ")"
        )
    if settings.sliding_window is not None and spec.architecture not in MLC_WINDOW_FAMILIES:
        families = ", ".join(sorted(MLC_WINDOW_FAMILIES))
        raise UsageError(
            f"MLC's {spec.architecture} model has no sliding_window_size; --sliding-window "
            f"works for {families}"
        )
    prefill = min(prefill, context)
    if settings.sliding_window is not None and prefill > settings.sliding_window:
        # MLC's config caps prefill_chunk_size at sliding_window_size (mistral_model.py).
        defaults.append(f"prefill capped at the sliding window {settings.sliding_window}")
        prefill = settings.sliding_window
    model_dtype = scheme.kv_dtype
    kv_dtype = normalise_kv_dtype(settings.kv_dtype) if settings.kv_dtype else model_dtype
    if kv_dtype != model_dtype:
        raise UsageError(
            f"MLC keeps the KV cache in the model dtype ({model_dtype} for {scheme.name}); "
            f"--kv-dtype {settings.kv_dtype} is not supported by --runtime mlc",
            hint="choose a q*f32 scheme for a float32 cache, or drop --kv-dtype",
        )
    window = settings.sliding_window
    if window is None and art.sliding_window_size and art.sliding_window_size > 0:
        window = art.sliding_window_size
        defaults.append(f"sliding window {window} (mlc-chat-config)")
    sink = settings.attention_sink
    if sink is None:
        sink = (
            art.attention_sink_size
            if art.attention_sink_size and art.attention_sink_size > 0
            else 0
        )
        if window is not None and spec.attention_sink:
            sink = spec.attention_sink
    max_batch = art.max_batch_size or MLC_DEFAULT_MAX_BATCH
    max_batch = max(max_batch, settings.batch)
    return (
        ResolvedSettings(
            runtime=Runtime.MLC,
            quantization=scheme.name,
            context=context,
            prefill=prefill,
            batch=settings.batch,
            kv_dtype=kv_dtype,
            sliding_window=window,
            attention_sink=sink,
            max_batch_size=max_batch,
            gpu_memory_utilization=settings.gpu_memory_utilization,
            defaults=tuple(defaults),
        ),
        scheme,
    )


def _mlc_weights(spec: ModelSpec, scheme: MlcScheme) -> Component:
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
        # MLC copies parameters into GPU buffers (Metal/OpenCL allocations): dirty.
        dirty=True,
        source="computed from architecture (mlc-llm quantization/group_quantization.py)",
    )


@lru_cache(maxsize=512)
def _temp_cached(
    spec: ModelSpec,
    scheme: MlcScheme,
    prefill: int,
    context: int,
    max_batch: int,
    window: int | None,
) -> TempEstimate:
    # Replaying the memory planner is the costly step of a plan search; it is pure, so cache it.
    return mlc_temp_buffer(
        spec,
        scheme,
        prefill_chunk=prefill,
        context_window=context,
        max_batch_size=max_batch,
        sliding_window=window,
    )


def estimate_mlc(spec: ModelSpec, settings: RuntimeSettings) -> MemoryBudget:
    """MLC-LLM budget: MLC's own reported figure plus the engine's start-up overhead."""
    rs, scheme = resolve_mlc_settings(spec, settings)
    weights = _mlc_weights(spec, scheme)
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
    lib = spec.compiled_lib
    lib_matches = (
        lib is not None
        and lib.memory_usage
        and lib.prefill_chunk_size == rs.prefill
        and spec.quantization.scheme == rs.quantization
        and (lib.max_batch_size is None or lib.max_batch_size == rs.max_batch_size)
    )
    if lib_matches and lib is not None and lib.max_temp_bytes is not None:
        temp_bytes = lib.max_temp_bytes
        temp = Component(
            ACTIVATIONS,
            "temporary buffer (compiled library)",
            temp_bytes,
            "max over functions of memory_usage (compiled model library metadata)",
            tuple((f, str(b)) for f, b in lib.memory_usage),
            source="artifact",
        )
    else:
        est = _temp_cached(
            spec, scheme, rs.prefill, rs.context, rs.max_batch_size, rs.sliding_window
        )
        temp_bytes = est.max_bytes
        temp = Component(
            ACTIVATIONS,
            "temporary buffer",
            temp_bytes,
            f"max over compiled functions (largest: {est.max_function})",
            tuple((f.name, str(f.bytes)) for f in est.functions),
            source="planner/mlc_temp.py model of mlc_llm compile's memory planning",
        )
    engine = mlc_engine_figures(spec, weights.bytes, temp_bytes, rs)
    # Each layer's cache holds (ceil(tokens / 16) + 1) pages of 16 tokens.
    per_layer_token = kv_bytes_per_layer_token(spec, rs.kv_dtype)
    page_extra = (
        ceil(
            sum(
                ((ceil(t / MLC_PAGE_SIZE) + 1) * MLC_PAGE_SIZE - t) * per_layer_token
                for t in kv_tokens_per_layer(spec, rs.context, rs.sliding_window, rs.attention_sink)
            )
        )
        * rs.batch
    )
    overhead = (
        Component(
            RUNTIME_OVERHEAD,
            "engine's second temp buffer (safety ×2)",
            temp_bytes,
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
            page_extra,
            "(ceil(tokens / 16) + 1) pages of 16 tokens",
            (("page_size", str(MLC_PAGE_SIZE)),),
            source="TVM paged_kv_cache.cc num_total_pages = ceil(capacity / page_size) + 1",
        ),
    )
    notes = list(_context_notes(spec, rs))
    return MemoryBudget(
        model=spec.name,
        settings=rs,
        components=(weights, kv, temp, *overhead),
        kv_bytes_per_token=per_token,
        mlc_engine=engine,
        notes=tuple(notes),
        assumptions=rs.defaults,
    )


def mlc_engine_figures(
    spec: ModelSpec, params: int, temp: int, rs: ResolvedSettings
) -> MlcEngineFigures:
    """The engine's workspace terms (interactive mode: one sequence, as the mobile apps run)."""
    pcs, max_seq = rs.prefill, rs.batch
    hq, hkv, hd = spec.num_attention_heads, spec.num_kv_heads, spec.head_dim
    kv_aux = (max_seq + 1) * 88 + pcs * (hq + 1) * 8 + pcs * hd * (hq + hkv) * 4 + 48 * 1024 * 1024
    hidden = hd * hq
    model_ws = pcs * 4 + max_seq * 4 + (pcs * 2 + max_seq) * hidden * 2
    logit_ws = ceil(max_seq * 20 + max_seq * spec.vocab_size * 16.125)
    return MlcEngineFigures(params, temp, kv_aux, model_ws, logit_ws)


def _context_notes(spec: ModelSpec, rs: ResolvedSettings) -> list[str]:
    notes = []
    if spec.max_context and rs.context > spec.max_context:
        notes.append(
            f"context {rs.context} exceeds the model's maximum {spec.max_context}: quality "
            "degrades past the trained length, and with MLC a library compiled for one context "
            "and a config saying another can crash the app (mlc-ai/mlc-llm#1013)"
        )
    lib = spec.compiled_lib
    if rs.runtime is Runtime.MLC and lib is not None and lib.context_window_size:
        if lib.context_window_size > 0 and rs.context > lib.context_window_size:
            notes.append(
                f"the compiled library caps the context at {lib.context_window_size} tokens but "
                f"{rs.context} were asked for: the engine truncates to the library's limit, and "
                "a library and mlc-chat-config.json that disagree can crash the app "
                "(mlc-ai/mlc-llm#971, #1013); recompile with --overrides "
                f"context_window_size={rs.context}"
            )
    art = spec.settings.context_window_size
    if (
        rs.runtime is Runtime.MLC
        and lib is not None
        and lib.context_window_size
        and art
        and art > 0
        and art != lib.context_window_size
    ):
        notes.append(
            f"mlc-chat-config.json says context_window_size {art} but the compiled library "
            f"was built for {lib.context_window_size}: MLC uses the smaller; keep them equal "
            "(mlc-ai/mlc-llm#1013)"
        )
    return notes


# --------------------------------------------------------------------------- onnxruntime


def resolve_ort_settings(
    spec: ModelSpec, settings: RuntimeSettings
) -> tuple[ResolvedSettings, OrtScheme]:
    """Apply artifact and onnxruntime-genai defaults to the user's settings."""
    defaults: list[str] = []
    art = spec.settings
    quant = settings.quantization or spec.quantization.scheme
    if quant is None or (
        quant not in ("fp32", "fp16", "bf16", "int8", "int4")
        and not quant.startswith(("int4-", "int8-"))
    ):
        if settings.quantization:
            ort_scheme(settings.quantization)  # raises with the list of known names
        quant = "int4"
        defaults.append("precision int4 (builder's mobile CPU choice; artifact has none)")
    scheme = ort_scheme(quant)
    context = settings.context
    if context is None:
        context = art.max_length or spec.max_context or 4096
        defaults.append(
            f"context {context} ("
            + ("genai_config search.max_length" if art.max_length else "model maximum")
            + "; preallocated when past_present_share_buffer)"
        )
    prefill = settings.prefill
    if prefill is None:
        prefill = min(context, 512)
        defaults.append(f"prefill {prefill} (assumed prompt length)")
    prefill = min(prefill, context)
    kv_dtype = (
        normalise_kv_dtype(settings.kv_dtype)
        if settings.kv_dtype
        else (
            spec.kv_dtype
            if spec.format.startswith("onnx") and not settings.quantization
            else scheme.io_dtype
        )
    )
    window = settings.sliding_window
    if window is not None and not spec.layer_windows:
        raise UsageError(
            "onnxruntime-genai allocates the KV cache to max_length; a sliding window comes "
            "from the model itself (GroupQueryAttention local_window_size), and this one has none",
            hint="lower --context instead",
        )
    sink = settings.attention_sink or 0
    return (
        ResolvedSettings(
            runtime=Runtime.ONNXRUNTIME,
            quantization=scheme.name,
            context=context,
            prefill=prefill,
            batch=settings.batch,
            kv_dtype=kv_dtype,
            sliding_window=window,
            attention_sink=sink,
            max_batch_size=settings.batch,
            gpu_memory_utilization=settings.gpu_memory_utilization,
            defaults=tuple(defaults),
        ),
        scheme,
    )


def estimate_ort(spec: ModelSpec, settings: RuntimeSettings) -> MemoryBudget:
    """onnxruntime (CPU EP, onnxruntime-genai) peak resident memory added by load + generate."""
    from planner.ort_model import ort_components

    rs, scheme = resolve_ort_settings(spec, settings)
    kv_total, per_token = kv_cache_bytes(
        spec,
        context=rs.context,
        batch=rs.batch,
        dtype=rs.kv_dtype,
        window=rs.sliding_window,
        sink=rs.attention_sink,
    )
    components = ort_components(spec, rs, scheme, kv_total)
    return MemoryBudget(
        model=spec.name,
        settings=rs,
        components=components,
        kv_bytes_per_token=per_token,
        notes=tuple(_context_notes(spec, rs)),
        assumptions=rs.defaults,
    )


def estimate(
    spec: ModelSpec, settings: RuntimeSettings, draft: ModelSpec | None = None
) -> MemoryBudget:
    """Estimate memory for ``spec`` under ``settings``; a draft model adds its weights and KV."""
    main = (
        estimate_mlc(spec, settings)
        if settings.runtime is Runtime.MLC
        else estimate_ort(spec, settings)
    )
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
    d = (
        estimate_mlc(draft, draft_settings)
        if settings.runtime is Runtime.MLC
        else estimate_ort(draft, draft_settings)
    )
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
    engine = main.mlc_engine
    if engine is not None and d.mlc_engine is not None:
        # Two model libraries, two engines' worth of parameters, temp buffers and workspaces.
        de = d.mlc_engine
        engine = MlcEngineFigures(
            engine.params_bytes + de.params_bytes,
            engine.temp_buffer_bytes + de.temp_buffer_bytes,
            engine.kv_aux_workspace_bytes + de.kv_aux_workspace_bytes,
            engine.model_workspace_bytes + de.model_workspace_bytes,
            engine.logit_processor_workspace_bytes + de.logit_processor_workspace_bytes,
        )
    return MemoryBudget(
        model=main.model,
        settings=main.settings,
        components=main.components + extra,
        kv_bytes_per_token=main.kv_bytes_per_token,
        mlc_engine=engine,
        notes=(
            *main.notes,
            f"speculative decoding: draft model {draft.name} adds its weights, "
            "KV cache and buffers (weights are never shared between the two)",
        ),
        assumptions=main.assumptions,
    )
