"""onnxruntime-genai fragments for a plan: builder commands and genai_config.json patch (pure).

Builder options follow onnxruntime-genai 0.18.0 (``python -m onnxruntime_genai.models.builder``,
``models/builder.py`` and ``models/quantization/quant_config.py`` of the installed package):

- weight options are unprefixed (``block_size``, ``accuracy_level``, ``is_symmetric``): 0.18
  reads no ``int4_*`` name and ignores unknown keys;
- ``shared_embeddings`` defaults to config.json's ``tie_word_embeddings`` (builder.py
  ``check_extra_options``), which quantizes a tied embedding to int4 with the lm_head: the
  value is therefore always written, so the model built is the model planned;
- ``kv_cache_quant_scheme`` takes ``{int8,int4,fp8}_per_{tensor,channel}`` (and CUDA-only
  ``*_per_token``) and needs ``kv_cache_scale_file`` from the calibration module.

The config patch is an RFC 7386 JSON merge patch over the builder's genai_config.json; its
session options are the flat keys 0.18 reads (``"session.disable_prepacking": "1"``; a nested
``config_entries`` object is refused with "Unknown value config_entries").
"""

from __future__ import annotations

import copy
import json
import shlex
from dataclasses import dataclass
from typing import Any

from planner.errors import UsageError
from planner.quant import ort_scheme

KV_QUANT_SCHEMES = {
    "int8": "int8_per_channel",
    "int4": "int4_per_channel",
    "float8_e4m3fn": "fp8_per_channel",
}
"""Planned KV dtype → the 0.18 builder's kv_cache_quant_scheme on the CPU execution provider
(quant_config.py ``KV_CACHE_QUANT_SCHEMES``; ``*_per_token`` needs CUDA PagedAttention)."""

BUILDER_KV_SCHEMES = frozenset(
    {
        "none",
        "int8_per_tensor",
        "int8_per_channel",
        "int8_per_token",
        "int4_per_tensor",
        "int4_per_channel",
        "int4_per_token",
        "fp8_per_tensor",
        "fp8_per_channel",
    }
)
"""Every value 0.18's ``kv_cache_quant_scheme`` accepts (anything else: ValueError)."""

KV_SCALE_FILE = "kv_scales.json"


@dataclass(frozen=True, slots=True)
class OrtPlanSettings:
    """What the onnxruntime fragments need to know about the chosen plan."""

    source_dir: str
    output_dir: str
    precision: str
    """planner's precision name (int4, int4-bs128, int8, fp32, ...)."""
    max_length: int
    tied_embeddings: bool
    ios: bool
    """Target counts dirty memory only (iOS): keep fp32 weights file-backed."""
    kv_quant: str | None = None
    """The builder's kv_cache_quant_scheme (``int8_per_channel``, ...), None for a float cache."""
    download: tuple[str, ...] = ()
    """argv that fetches the Hugging Face model into ``source_dir`` first (hub ids)."""


def _extra_options(p: OrtPlanSettings, kv: bool) -> list[str]:
    s = ort_scheme(p.precision)
    extra: list[str] = []
    if s.bits:
        extra += [f"block_size={s.block_size}", "accuracy_level=4"]
        if not s.symmetric:
            extra.append("is_symmetric=false")
    if s.bits and s.quantize_embedding:
        if s.bits != 4:
            raise UsageError(
                f"{p.precision}: the builder quantizes embeddings to 4 bits only "
                "(GatherBlockQuantized); choose int4-…-embq or keep the embedding in float"
            )
        if p.tied_embeddings:
            extra.append("shared_embeddings=true")  # one int4 table for embedding and lm_head
        else:
            extra.append("op_types_to_quantize=MatMul/Gather")  # a separate int4 embedding
    elif p.tied_embeddings:
        # 0.18 defaults shared_embeddings to tie_word_embeddings and would quantize the tied
        # embedding with the lm_head: say false, so the embedding stays float as planned.
        extra.append("shared_embeddings=false")
    if kv and p.kv_quant:
        if p.kv_quant not in BUILDER_KV_SCHEMES:
            raise UsageError(f"kv_cache_quant_scheme {p.kv_quant!r} is not one the builder takes")
        extra += [f"kv_cache_quant_scheme={p.kv_quant}", f"kv_cache_scale_file={KV_SCALE_FILE}"]
    return extra


def _build(p: OrtPlanSettings, output_dir: str, kv: bool) -> list[str]:
    s = ort_scheme(p.precision)
    argv = [
        "python",
        "-m",
        "onnxruntime_genai.models.builder",
        "-i",
        p.source_dir,
        "-o",
        output_dir,
        "-p",
        s.precision,
        "-e",
        "cpu",
    ]
    extra = _extra_options(p, kv)
    if extra:
        argv += ["--extra_options", *extra]
    return argv


def builder_command(p: OrtPlanSettings) -> list[str]:
    """The builder argv that writes the planned model (CPU execution provider)."""
    return _build(p, p.output_dir, kv=True)


def builder_commands(p: OrtPlanSettings) -> list[list[str]]:
    """Every command, in order: with a quantized KV cache, the float-KV baseline build and the
    scale calibration come first (kv_cache_calibration.py's documented two-step flow)."""
    first = [list(p.download)] if p.download else []
    if not p.kv_quant:
        return [*first, builder_command(p)]
    baseline = f"{p.output_dir}-kv-baseline"
    calibrate = [
        "python",
        "-m",
        "onnxruntime_genai.models.quantization.kv_cache_calibration",
        "--model",
        baseline,
        "--tokenizer",
        p.source_dir,
        "--out",
        KV_SCALE_FILE,
        "--quant-type",
        p.kv_quant,
    ]
    return [*first, _build(p, baseline, kv=False), calibrate, builder_command(p)]


def builder_text(p: OrtPlanSettings) -> str:
    """The builder commands as shell lines."""
    return "".join(shlex.join(c) + "\n" for c in builder_commands(p))


def config_patch(p: OrtPlanSettings) -> dict[str, Any]:
    """Merge patch for genai_config.json: the KV length and memory-lowering session options."""
    session: dict[str, Any] = {
        # The CPU arena keeps a long prefill's peak for the life of the session (measured,
        # research onnx-runtime.md §5); without it RSS returns between requests.
        "enable_cpu_mem_arena": False,
    }
    if p.ios and not ort_scheme(p.precision).bits:
        # fp32 MatMul weights stay memory-mapped (clean, not in iOS's footprint) instead of
        # prepacked heap copies (ORT PR #11127; measured 669 → 80 MB RSS after load). A flat
        # key: 0.11+ pass unknown session_options keys to AddConfigEntry (config.cpp).
        session["session.disable_prepacking"] = "1"
    search: dict[str, Any] = {"max_length": p.max_length}
    if not p.kv_quant:
        # A quantized KV cache on CPU is built with past_present_share_buffer false
        # (builders/base.py: share buffer only on CUDA); keep what the builder wrote.
        search["past_present_share_buffer"] = True
    return {"model": {"decoder": {"session_options": session}}, "search": search}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (null deletes a key)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def config_patch_text(p: OrtPlanSettings) -> str:
    """The patch as JSON text."""
    return json.dumps(config_patch(p), indent=2, sort_keys=True) + "\n"
