"""MLC settings: the user's request resolved against mlc-chat-config.json, MLC's defaults and
what the family's config class forces (the family registry's ``MlcFacts``).

Sources (mlc-llm 79d603f): ``prefill_chunk_size`` defaults to min(context_window_size, 8192)
and is reset to that when larger than the context (the config classes' ``__post_init__``; PR
#2917), PhiConfig clamps it to the context without the 8192 cap; ``--max-batch-size`` defaults
to 128 in ``gen_config`` (PhiConfig has no such field: the compile bound is 1); Gemma-2 sets
context_window_size = sliding_window; Gemma-3's text config defaults it to max(sliding_window,
8192); Mistral takes sliding_window_size (and an attention sink of 4) and caps the prefill chunk
at the window; Phi-3 has no sliding window; the KV cache is allocated in the model dtype.
"""

from __future__ import annotations

from planner.budget import ResolvedSettings, normalise_kv_dtype
from planner.errors import UnsupportedArtifactError, UsageError
from planner.families import FAMILIES, Family, fact_int, family
from planner.quant import MLC_SCHEMES, MlcScheme, mlc_scheme
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

DEFAULT_MAX_BATCH = 128
"""gen_config's --max-batch-size default since mlc-llm PR #2917."""
DEFAULT_PREFILL_CAP = 8192
"""Default prefill_chunk_size = min(context_window_size, 8192) (model configs' __post_init__)."""
DEFAULT_SCHEME = "q4f16_1"
DEFAULT_CONTEXT_CAP = 4096

_WINDOW_REFUSAL = {
    "forced_context": "its config sets context_window_size = sliding_window and attends over "
    "the whole context on every layer; choose the context instead",
    "fixed_pattern": "its sliding window is part of the model (5 of 6 layers) and MLC's KV "
    "page pool holds every layer at the full context, so a window saves no memory",
    "none": "its MLC config class has no sliding_window_size",
}


def _positive(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None


def check_plannable(spec: ModelSpec) -> Family:
    """The family's registry entry, or a one-line error naming it and what is missing."""
    fam = family(spec.architecture)
    if fam.mlc.plannable is not None:
        raise UnsupportedArtifactError(
            f"MLC model family {spec.architecture!r} cannot be planned: {fam.mlc.plannable}"
        )
    return fam


def config_window(spec: ModelSpec) -> int | None:
    """The sliding window the family's config carries (``sliding_window``), if any."""
    for key in ("sliding_window_size", "sliding_window"):
        value = fact_int(spec, key, 0)
        if value > 0:
            return value
    return spec.sliding_window


def _clamp_prefill(prefill: int, context: int, fam: Family) -> int:
    """``__post_init__``: a chunk larger than the context is reset to min(context, 8192)."""
    if prefill <= context:
        return prefill
    cap = fam.mlc.prefill_cap
    return min(context, cap) if cap else context


def resolve(spec: ModelSpec, settings: RuntimeSettings) -> tuple[ResolvedSettings, MlcScheme]:
    """Apply artifact, family and MLC defaults to the user's settings."""
    fam = check_plannable(spec)
    mlc = fam.mlc
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
    if settings.sliding_window is not None and mlc.window != "user":
        users = ", ".join(sorted(n for n, f in FAMILIES.items() if f.mlc.window == "user"))
        raise UsageError(
            f"--sliding-window does not apply to MLC's {spec.architecture}: "
            f"{_WINDOW_REFUSAL.get(mlc.window, _WINDOW_REFUSAL['none'])} (it works for {users})"
        )
    window = settings.sliding_window
    if window is None and mlc.window == "user":
        if _positive(art.sliding_window_size):
            window = art.sliding_window_size
            defaults.append(f"sliding window {window} (mlc-chat-config)")
        elif (cw := config_window(spec)) is not None:
            window = cw
            defaults.append(
                f"sliding window {window} ({spec.architecture}'s MLC config takes the config's "
                "sliding_window; its context_window_size becomes -1)"
            )
    context = settings.context
    if context is None:
        context = _positive(art.context_window_size)
        if context is not None:
            defaults.append(f"context {context} (mlc-chat-config context_window_size)")
        elif mlc.default_context_floor is not None and (sw := config_window(spec)):
            mlc_default = max(sw, mlc.default_context_floor)
            context = min(mlc_default, DEFAULT_CONTEXT_CAP)
            defaults.append(
                f"context {context} (MLC's {spec.architecture} default is max(sliding window, "
                f"{mlc.default_context_floor}) = {mlc_default}, capped at {DEFAULT_CONTEXT_CAP})"
            )
        else:
            context = min(spec.max_context or DEFAULT_CONTEXT_CAP, DEFAULT_CONTEXT_CAP)
            defaults.append(f"context {context} (model maximum capped at {DEFAULT_CONTEXT_CAP})")
    prefill = settings.prefill
    if prefill is None:
        art_pcs = _positive(art.prefill_chunk_size)
        cap = mlc.prefill_cap or context
        prefill = art_pcs or min(context, cap)
        origin = (
            "mlc-chat-config prefill_chunk_size" if art_pcs else f"MLC default min(context, {cap})"
        )
        defaults.append(f"prefill {prefill} ({origin})")
    prefill = _clamp_prefill(prefill, context, fam)
    if mlc.window == "forced_context" and (sw := config_window(spec)):
        if context != sw:
            defaults.append(
                f"context {sw}, not {context}: MLC's {spec.architecture} config sets "
                f"context_window_size = sliding_window ({sw}) after the prefill clamp, every "
                "layer attending over it"
            )
        context = sw
    if window is not None and prefill > window:
        # MLC's config caps prefill_chunk_size at sliding_window_size (mistral_model.py).
        defaults.append(f"prefill capped at the sliding window {window}")
        prefill = window
    model_dtype = scheme.kv_dtype
    kv_dtype = normalise_kv_dtype(settings.kv_dtype) if settings.kv_dtype else model_dtype
    if kv_dtype != model_dtype:
        raise UsageError(
            f"MLC keeps the KV cache in the model dtype ({model_dtype} for {scheme.name}); "
            f"--kv-dtype {settings.kv_dtype} is not supported by --runtime mlc",
            hint="choose a q*f32 scheme for a float32 cache, or drop --kv-dtype",
        )
    sink = settings.attention_sink
    if sink is None:
        sink = _positive(art.attention_sink_size) or 0
        if window is not None:
            sink = _positive(art.attention_sink_size) or spec.attention_sink or mlc.attention_sink
    max_batch = settings.max_batch_size or art.max_batch_size or DEFAULT_MAX_BATCH
    max_batch = max(max_batch, settings.batch)
    if mlc.batch_bound is not None and max_batch > mlc.batch_bound:
        defaults.append(
            f"compiled batch bound {mlc.batch_bound}: MLC's {spec.architecture} config has no "
            "max_batch_size field, so gen_config's value is dropped"
        )
    if mlc.window == "fixed_pattern" and (
        _positive(art.sliding_window_size) or spec.sliding_window
    ):
        defaults.append(
            f"KV cache over every layer at the full context ({spec.architecture}'s sliding "
            "layers share MLC's page pool)"
        )
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
