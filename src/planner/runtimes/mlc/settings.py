"""MLC settings: the user's request resolved against mlc-chat-config.json and MLC's defaults.

Sources: ``prefill_chunk_size`` defaults to min(context_window_size, 8192) in the model
configs' ``__post_init__`` (mlc-llm PR #2917); ``--max-batch-size`` defaults to 128 in
``gen_config``; Mistral caps the prefill chunk at the sliding window (mistral_model.py); the KV
cache is allocated in the model dtype (``PagedKVCache.create_generic`` gets the model's dtype).
"""

from __future__ import annotations

from planner.budget import ResolvedSettings, normalise_kv_dtype
from planner.errors import UsageError
from planner.families import FAMILIES, family
from planner.quant import MLC_SCHEMES, MlcScheme, mlc_scheme
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

DEFAULT_MAX_BATCH = 128
"""gen_config's --max-batch-size default since mlc-llm PR #2917."""
DEFAULT_PREFILL_CAP = 8192
"""Default prefill_chunk_size = min(context_window_size, 8192) (model configs' __post_init__)."""
DEFAULT_SCHEME = "q4f16_1"
DEFAULT_CONTEXT_CAP = 4096


def _positive(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None


def resolve(spec: ModelSpec, settings: RuntimeSettings) -> tuple[ResolvedSettings, MlcScheme]:
    """Apply artifact and MLC defaults to the user's settings."""
    defaults: list[str] = []
    art = spec.settings
    quant = settings.quantization or spec.quantization.scheme
    if quant is None or (settings.quantization is None and quant not in MLC_SCHEMES):
        quant = DEFAULT_SCHEME
        defaults.append(
            f"quantization {DEFAULT_SCHEME} (MLC's recommended mobile scheme; the artifact has "
            "no MLC one)"
        )
    scheme = mlc_scheme(quant)
    context = settings.context
    if context is None:
        context = _positive(art.context_window_size)
        if context is None:
            context = min(spec.max_context or DEFAULT_CONTEXT_CAP, DEFAULT_CONTEXT_CAP)
            defaults.append(f"context {context} (model maximum capped at {DEFAULT_CONTEXT_CAP})")
        else:
            defaults.append(f"context {context} (mlc-chat-config context_window_size)")
    fam = family(spec.architecture)
    forced = spec.sliding_window if fam.mlc_context_from_window else None
    if forced is not None and forced > 0 and context != forced:
        # Gemma2Config.__post_init__ sets context_window_size = sliding_window after any
        # override (mlc-llm model/gemma2/gemma2_model.py); gen_config and compile both rebuild
        # the config through from_dict, so no --context-window-size or override changes it.
        defaults.append(
            f"context {forced}, not {context}: MLC's {spec.architecture} config forces "
            "context_window_size to the sliding window"
        )
        context = forced
    prefill = settings.prefill
    if prefill is None:
        art_pcs = _positive(art.prefill_chunk_size)
        prefill = art_pcs or min(context, DEFAULT_PREFILL_CAP)
        origin = (
            "mlc-chat-config prefill_chunk_size" if art_pcs else "MLC default min(context, 8192)"
        )
        defaults.append(f"prefill {prefill} ({origin})")
    if settings.sliding_window is not None and not family(spec.architecture).mlc_sliding_window:
        families = ", ".join(sorted(n for n, f in FAMILIES.items() if f.mlc_sliding_window))
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
    if window is None and _positive(art.sliding_window_size):
        window = art.sliding_window_size
        defaults.append(f"sliding window {window} (mlc-chat-config)")
    sink = settings.attention_sink
    if sink is None:
        sink = _positive(art.attention_sink_size) or 0
        if window is not None and spec.attention_sink:
            sink = spec.attention_sink
    max_batch = settings.max_batch_size or art.max_batch_size or DEFAULT_MAX_BATCH
    max_batch = max(max_batch, settings.batch)
    resolved = ResolvedSettings(
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
    )
    return resolved, scheme
