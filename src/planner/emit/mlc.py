"""MLC-LLM fragments for a plan: commands, ``--overrides``, ``mlc-package-config.json`` (pure).

Formats follow mlc-llm @ 79d603f: ``ModelConfigOverride.from_str`` parses ``k=v;k=v``
(interface/compiler_flags.py); ``mlc_llm package`` requires ``device`` and, per model,
``model``, ``model_id`` and ``estimated_vram_bytes`` (interface/package.py).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planner.errors import UsageError
from planner.spec import ModelSpec

OVERRIDE_KEYS = (
    "context_window_size",
    "sliding_window_size",
    "prefill_chunk_size",
    "attention_sink_size",
    "max_batch_size",
    "tensor_parallel_shards",
    "pipeline_parallel_stages",
    "disaggregation",
)
"""Keys ModelConfigOverride accepts."""

CONV_TEMPLATES = {
    "llama": "llama-3",
    "mistral": "mistral_default",
    "qwen2": "qwen2",
    "qwen3": "qwen3",
    "phi3": "phi-3",
    "phi": "phi-2",
    "gemma": "gemma_instruction",
    "gemma2": "gemma_instruction",
    "gemma3": "gemma3_instruction",
    "olmo2": "olmo2",
    "stablelm": "stablelm-2",
    "gpt_neox": "redpajama_chat",
}
"""Default conversation template per family (mlc-llm interface/gen_config.py CONV_TEMPLATES)."""

PACKAGE_DEVICES = ("iphone", "android", "macabi")


@dataclass(frozen=True, slots=True)
class MlcPlanSettings:
    """What the MLC fragments need to know about the chosen plan."""

    model_id: str
    source_dir: str
    """Hugging Face folder the weights are converted from (as the user named it)."""
    quantization: str
    context_window_size: int
    prefill_chunk_size: int
    max_batch_size: int
    sliding_window_size: int | None
    attention_sink_size: int | None
    device_preset: str
    estimated_vram_bytes: int
    conv_template: str | None


def conv_template_for(spec: ModelSpec) -> str | None:
    """The artifact's conversation template, else the family default, else None."""
    if spec.settings.conv_template:
        return spec.settings.conv_template
    if spec.architecture == "llama" and spec.vocab_size < 100_000:
        return "llama-2"
    return CONV_TEMPLATES.get(spec.architecture)


def overrides(p: MlcPlanSettings) -> dict[str, int]:
    """The compile-time caps baked into the library (package ``overrides`` / ``--overrides``)."""
    out = {
        "context_window_size": p.context_window_size,
        "prefill_chunk_size": p.prefill_chunk_size,
        "max_batch_size": p.max_batch_size,
    }
    if p.sliding_window_size:
        out["sliding_window_size"] = p.sliding_window_size
        out["context_window_size"] = -1  # MLC: a sliding window replaces the context window
    if p.attention_sink_size is not None and p.sliding_window_size:
        out["attention_sink_size"] = p.attention_sink_size
    return out


def overrides_string(values: Mapping[str, int]) -> str:
    """``k=v;k=v`` in MLC's syntax, keys in a stable order; -1 values are left out."""
    return ";".join(f"{k}={values[k]}" for k in OVERRIDE_KEYS if k in values and values[k] != -1)


def parse_overrides(text: str) -> dict[str, int]:
    """Parse an overrides string the way MLC does (for round-trip checks)."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep or key not in OVERRIDE_KEYS:
            raise UsageError(f"invalid MLC override {part!r}; keys: {', '.join(OVERRIDE_KEYS)}")
        try:
            out[key] = int(value)
        except ValueError:
            raise UsageError(f"MLC override {key} needs an integer, got {value!r}") from None
    return out


def _out_dir(p: MlcPlanSettings) -> str:
    return f"dist/{p.model_id}-{p.quantization}-MLC"


def commands(p: MlcPlanSettings) -> list[list[str]]:
    """convert_weight, gen_config and compile argv lists, in order."""
    out_dir = _out_dir(p)
    gen = ["mlc_llm", "gen_config", p.source_dir, "--quantization", p.quantization]
    if p.conv_template:
        gen += ["--conv-template", p.conv_template]
    if p.sliding_window_size:
        gen += ["--sliding-window-size", str(p.sliding_window_size)]
        if p.attention_sink_size is not None:
            gen += ["--attention-sink-size", str(p.attention_sink_size)]
    else:
        gen += ["--context-window-size", str(p.context_window_size)]
    gen += [
        "--prefill-chunk-size",
        str(p.prefill_chunk_size),
        "--max-batch-size",
        str(p.max_batch_size),
        "-o",
        out_dir,
    ]
    lib_ext = ".tar" if p.device_preset.startswith(("iphone", "android", "macabi")) else ".so"
    lib = f"dist/libs/{p.model_id}-{p.quantization}-{p.device_preset.replace(':', '-')}{lib_ext}"
    return [
        [
            "mlc_llm",
            "convert_weight",
            p.source_dir,
            "--quantization",
            p.quantization,
            "-o",
            out_dir,
        ],
        gen,
        [
            "mlc_llm",
            "compile",
            f"{out_dir}/mlc-chat-config.json",
            "--device",
            p.device_preset,
            "--overrides",
            overrides_string(overrides(p)),
            "-o",
            lib,
        ],
    ]


def commands_text(p: MlcPlanSettings) -> str:
    """The commands as a shell script fragment."""
    return "".join(shlex.join(c) + "\n" for c in commands(p))


def package_entry(p: MlcPlanSettings, bundle_weight: bool = False) -> dict[str, object]:
    """One ``model_list`` entry of mlc-package-config.json."""
    entry: dict[str, object] = {
        "model": _out_dir(p) if bundle_weight else f"HF://mlc-ai/{p.model_id}-{p.quantization}-MLC",
        "model_id": f"{p.model_id}-{p.quantization}",
        "estimated_vram_bytes": p.estimated_vram_bytes,
        "overrides": {k: v for k, v in overrides(p).items() if v != -1},
    }
    if bundle_weight:
        entry["bundle_weight"] = True
    return entry


def package_device(preset: str) -> str:
    """mlc_llm package's device (iphone, android, macabi) for a compile preset."""
    for name in PACKAGE_DEVICES:
        if preset.startswith(name):
            return name
    raise UsageError(
        f"mlc_llm package targets iphone, android or macabi; {preset!r} is neither",
        hint="use --emit mlc-commands for desktop and board targets",
    )


def package_config(plans: Sequence[MlcPlanSettings], bundle_weight: bool = False) -> str:
    """A whole mlc-package-config.json for several models on one device."""
    devices = {package_device(p.device_preset) for p in plans}
    if len(devices) != 1:
        raise UsageError(f"one package config serves one device; got {', '.join(sorted(devices))}")
    doc = {"device": devices.pop(), "model_list": [package_entry(p, bundle_weight) for p in plans]}
    return json.dumps(doc, indent=2) + "\n"
