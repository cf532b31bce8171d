"""onnxruntime-genai settings: the request resolved against genai_config.json and its defaults.

Sources: onnxruntime-genai ``src/config.h`` (``search.max_length`` defaults to
``model.context_length``) and ``src/models/kv_cache.cpp`` (the KV cache is preallocated to
``max_length`` when ``past_present_share_buffer`` is on, in the dtype of the graph's KV inputs).
"""

from __future__ import annotations

from planner.budget import ResolvedSettings, normalise_kv_dtype
from planner.errors import UsageError
from planner.quant import OrtScheme, ort_scheme
from planner.runtimes.onnxruntime.model import DECODE_TOKENS_DEFAULT, OrtContext
from planner.runtimes.onnxruntime.platforms import (
    DEFAULT_PLATFORM,
    FIXED_HEAP,
    KLEIDIAI_SINCE,
    for_version,
    platform,
)
from planner.runtimes.onnxruntime.versions import parse_version, version_terms
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

EXECUTION_PROVIDER = "cpu"

DEFAULT_PRECISION = "int4"
DEFAULT_PROMPT = 512


def _artifact_scheme(spec: ModelSpec, base: str) -> str:
    """The full precision name of a quantized ONNX artifact (block size, asymmetry, quantized
    embedding), so its prepacking is planned for the block size the graph really has."""
    q = spec.quantization
    if base not in ("int4", "int8") or not spec.format.startswith("onnx"):
        return base
    name = base
    if q.group_size in (16, 64, 128, 256):
        name += f"-bs{q.group_size}"
    if q.symmetric is False:
        name += "-asym"
    if base == "int4" and dict(q.details).get("embedding"):
        name += "-embq"
    return name


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
    if settings.quantization is None and quant == spec.quantization.scheme:
        quant = _artifact_scheme(spec, quant)
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
    ctx, notes = ort_context(settings)
    defaults.extend(notes)
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
            platform=ctx.platform.key,
            runtime_version=settings.runtime_version or ctx.version.version,
        ),
        scheme,
    )


def ort_context(settings: RuntimeSettings) -> tuple[OrtContext, list[str]]:
    """The platform, version terms and calibration of a request, and the assumptions made."""
    notes: list[str] = []
    key = settings.platform
    if key is None:
        key = DEFAULT_PLATFORM
        notes.append(f"platform {key} (planner's default without a device; --platform to choose)")
    plat = platform(key)
    if not plat.measured:
        notes.append(
            f"platform {plat.key}: prepacking layout, allocator and page terms inferred from "
            "the onnxruntime sources, not measured (docs/onnxruntime-mobile.md)"
        )
    terms, why = version_terms(settings.runtime_version)
    if why:
        notes.append(why)
    asked = parse_version(settings.runtime_version or terms.version)
    built = for_version(plat, asked)
    if built is not plat:
        notes.append(
            f"onnxruntime {settings.runtime_version} predates KleidiAI's MatMulNBits kernels "
            f"({KLEIDIAI_SINCE[0]}.{KLEIDIAI_SINCE[1]}): 4-bit weights packed with the NEON layout"
        )
        plat = built
    if plat.key.removesuffix(FIXED_HEAP) not in terms.platforms:  # code and session heap alike
        notes.append(
            f"fixed terms measured on {', '.join(terms.platforms)} only, assumed for {plat.key}"
        )
    entry = None
    path = ""
    cal = settings.calibration
    if cal is not None:
        path = cal.path or "calibration"
        entry = cal.find(
            Runtime.ONNXRUNTIME.value,
            settings.runtime_version or terms.version,
            plat.key,
            EXECUTION_PROVIDER,
        )
        if entry is None:
            notes.append(
                f"{path} has no entry for onnxruntime {settings.runtime_version or terms.version} "
                f"on {plat.key} ({EXECUTION_PROVIDER}): the measured defaults are used"
            )
        else:
            notes.append(f"fixed terms from {path} ({entry.label}, {len(entry.samples)} runs)")
    decode = settings.decode_tokens if settings.decode_tokens is not None else DECODE_TOKENS_DEFAULT
    return OrtContext(plat, terms, entry, path, decode), notes
