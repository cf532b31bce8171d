"""onnxruntime-genai settings: the request resolved against genai_config.json and its defaults.

Sources: onnxruntime-genai ``src/config.h`` (``search.max_length`` defaults to
``model.context_length``) and ``src/models/kv_cache.cpp`` (the KV cache is preallocated to
``max_length`` when ``past_present_share_buffer`` is on, in the dtype of the graph's KV inputs).
"""

from __future__ import annotations

from planner.budget import ResolvedSettings, normalise_kv_dtype
from planner.errors import UsageError
from planner.quant import OrtScheme, ort_scheme
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

DEFAULT_PRECISION = "int4"
DEFAULT_PROMPT = 512


def resolve(spec: ModelSpec, settings: RuntimeSettings) -> tuple[ResolvedSettings, OrtScheme]:
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
        quant = DEFAULT_PRECISION
        defaults.append(
            f"precision {DEFAULT_PRECISION} (builder's mobile CPU choice; artifact has none)"
        )
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
        prefill = min(context, DEFAULT_PROMPT)
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
