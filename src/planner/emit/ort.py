"""onnxruntime-genai fragments for a plan: builder command and genai_config.json patch (pure).

Builder options follow onnxruntime-genai 0.18.0 (``python -m onnxruntime_genai.models.builder``;
shared research onnx-runtime.md §2.4). The config patch is an RFC 7386 JSON merge patch over
the builder's genai_config.json.
"""

from __future__ import annotations

import copy
import json
import shlex
from dataclasses import dataclass
from typing import Any

from planner.quant import ort_scheme


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


def builder_command(p: OrtPlanSettings) -> list[str]:
    """The builder argv for the plan's precision on the CPU execution provider."""
    s = ort_scheme(p.precision)
    argv = [
        "python",
        "-m",
        "onnxruntime_genai.models.builder",
        "-i",
        p.source_dir,
        "-o",
        p.output_dir,
        "-p",
        s.precision,
        "-e",
        "cpu",
    ]
    extra: list[str] = []
    if s.bits:
        extra += [f"block_size={s.block_size}", "accuracy_level=4"]
        if not s.symmetric:
            extra.append("is_symmetric=false")
        if s.quantize_embedding and p.tied_embeddings:
            extra.append("shared_embeddings=true")
    if p.kv_quant:
        extra.append(f"kv_cache_quant_scheme={p.kv_quant}")
    if extra:
        argv += ["--extra_options", *extra]
    return argv


def builder_text(p: OrtPlanSettings) -> str:
    """The builder command as a shell line."""
    return shlex.join(builder_command(p)) + "\n"


def config_patch(p: OrtPlanSettings) -> dict[str, Any]:
    """Merge patch for genai_config.json: the KV length and memory-lowering session options."""
    session: dict[str, Any] = {
        # The CPU arena keeps a long prefill's peak for the life of the session (measured,
        # research onnx-runtime.md §5); without it RSS returns between requests.
        "enable_cpu_mem_arena": False,
    }
    if p.ios and not ort_scheme(p.precision).bits:
        # fp32 MatMul weights stay memory-mapped (clean, not in iOS's footprint) instead of
        # prepacked heap copies (ORT PR #11127; measured 669 → 80 MB RSS after load).
        session["config_entries"] = {"session.disable_prepacking": "1"}
    return {
        "model": {"decoder": {"session_options": session}},
        "search": {"max_length": p.max_length, "past_present_share_buffer": True},
    }


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
