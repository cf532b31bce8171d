"""From a plan to the fragments a CI job feeds into the next step (pure)."""

from __future__ import annotations

import re

from planner.device import DeviceProfile
from planner.emit import mlc, ort
from planner.emit.kinds import EmitKind
from planner.errors import UsageError
from planner.quant import MLC_SCHEMES
from planner.suggest import Candidate, Plan

_QUANT_TOKENS = frozenset(MLC_SCHEMES) | {"MLC", "int4", "int8", "fp16", "fp32", "bf16", "cpu"}


def model_id(name: str) -> str:
    """A file-name-safe model id, without a quantization tag the artifact's name may carry
    (the plan's own quantization is appended where an id is used)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    kept = [t for t in safe.split("-") if t not in _QUANT_TOKENS]
    return "-".join(kept) or safe or "model"


def mlc_settings(plan: Plan, c: Candidate, device: DeviceProfile) -> mlc.MlcPlanSettings:
    """MLC fragment inputs for a candidate on one device."""
    spec = plan.model
    source = spec.source if spec.format == "hf" else "<path-to-hf-model>"
    return mlc.MlcPlanSettings(
        model_id=model_id(spec.name),
        source_dir=source,
        quantization=c.quantization,
        context_window_size=c.context,
        prefill_chunk_size=c.prefill,
        # The budget was computed for this max batch (temp buffers scale with it): emit the same.
        max_batch_size=c.budget.settings.max_batch_size,
        sliding_window_size=c.sliding_window,
        attention_sink_size=c.attention_sink,
        device_preset=device.mlc_device or "android",
        estimated_vram_bytes=c.budget.total_bytes,
        conv_template=mlc.conv_template_for(spec),
    )


def ort_settings(plan: Plan, c: Candidate) -> ort.OrtPlanSettings:
    """onnxruntime fragment inputs for a candidate."""
    spec = plan.model
    source = spec.source if spec.format == "hf" else "<path-to-hf-model>"
    return ort.OrtPlanSettings(
        source_dir=source,
        output_dir=f"{model_id(spec.name)}-{c.quantization}-cpu",
        precision=c.quantization,
        max_length=c.context,
        tied_embeddings=spec.tie_word_embeddings,
        ios=any(d.os in ("ios", "ipados") for d in plan.devices),
        kv_quant=_KV_QUANT.get(c.budget.settings.kv_dtype),
    )


_KV_QUANT = {"int8": "int8", "int4": "int4", "float8_e4m3fn": "fp8"}
"""Planned KV dtype → the builder's kv_cache_quant_scheme (onnxruntime-genai 0.18.0)."""


def package_config_for(plans: list[Plan]) -> str:
    """One mlc-package-config.json listing the chosen plan of every model (one device)."""
    missing = [p.model.name for p in plans if p.chosen is None]
    if missing:
        names = ", ".join(missing)
        raise UsageError(f"no plan fits for {names}, so the package config is not written")
    entries = [mlc_settings(p, p.chosen, p.devices[0]) for p in plans if p.chosen is not None]
    return mlc.package_config(entries)


def render_fragment(plan: Plan, kind: EmitKind) -> str:
    """The requested fragment for the chosen plan."""
    c = plan.chosen
    if c is None:
        raise UsageError("no plan fits, so there is nothing to emit")
    if plan.base.runtime is not kind.runtime:
        raise UsageError(f"--emit {kind.value} needs --runtime {kind.runtime.value}")
    if kind is EmitKind.mlc_overrides:
        return mlc.overrides_string(mlc.overrides(mlc_settings(plan, c, plan.devices[0]))) + "\n"
    if kind is EmitKind.mlc_commands:
        return mlc.commands_text(mlc_settings(plan, c, plan.devices[0]))
    if kind is EmitKind.mlc_package_config:
        return mlc.package_config([mlc_settings(plan, c, plan.devices[0])])
    if kind is EmitKind.genai_config:
        return ort.config_patch_text(ort_settings(plan, c))
    return ort.builder_text(ort_settings(plan, c))
