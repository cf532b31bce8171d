"""From a plan to the fragments a CI job feeds into the next step (pure)."""

from __future__ import annotations

import re

from planner.device import DeviceProfile
from planner.emit import mlc, ort
from planner.emit.kinds import EmitKind
from planner.errors import UsageError
from planner.families import family
from planner.hub import download_command
from planner.quant import MLC_SCHEMES
from planner.runtimes import model_for
from planner.settings import Runtime
from planner.spec import ModelSpec
from planner.suggest import Candidate, Plan

_QUANT_TOKENS = frozenset(MLC_SCHEMES) | {"MLC", "int4", "int8", "fp16", "fp32", "bf16", "cpu"}


def model_id(name: str) -> str:
    """A file-name-safe model id, without a quantization tag the artifact's name may carry
    (the plan's own quantization is appended where an id is used)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")
    kept = [t for t in safe.split("-") if t not in _QUANT_TOKENS]
    return "-".join(kept) or safe or "model"


def _mlc_window(plan: Plan, c: Candidate) -> tuple[int | None, int | None, list[str]]:
    """(sliding_window_size, attention_sink_size, notes) as MLC will use them.

    The budget's window is emitted whenever the family's MLC config takes one (MLC's own
    Android Mistral entry sets ``sliding_window_size``), with the sink the budget used, so
    neither depends on config.json defaults (MistralConfig's sink default is 4).
    """
    spec, rs = plan.model, c.budget.settings
    mode = family(spec.architecture).mlc.window
    notes: list[str] = []
    if mode == "user" and rs.sliding_window:
        return rs.sliding_window, rs.attention_sink, notes
    if mode == "none" and spec.sliding_window:
        notes.append(
            f"MLC's {spec.architecture} config has no sliding_window_size: config.json's "
            f"sliding_window {spec.sliding_window} is not used; every layer keeps the whole "
            "context (planned so)"
        )
    elif mode == "fixed_pattern" and spec.sliding_window:
        notes.append(
            f"{spec.architecture}'s sliding layers come from config.json (nothing to emit); "
            "MLC's page pool still holds every layer at the full context (planned so)"
        )
    return None, None, notes


def source_of(spec: ModelSpec) -> tuple[str, tuple[str, ...]]:
    """(Hugging Face folder the build reads, download argv to run first or ())."""
    hub_id = dict(spec.extra).get("hub_id")
    if hub_id:
        local = "hf-models/" + model_id(hub_id.split("/", 1)[1].split("@", 1)[0])
        return local, tuple(download_command(hub_id, local))
    return (spec.source if spec.format == "hf" else "<path-to-hf-model>"), ()


def mlc_settings(plan: Plan, c: Candidate, device: DeviceProfile) -> mlc.MlcPlanSettings:
    """MLC fragment inputs for a candidate on one device: the values MLC will really use."""
    spec = plan.model
    rs = c.budget.settings
    source, download = source_of(spec)
    template, template_note = mlc.conv_template_for(spec)
    notes = [template_note] if template_note else []
    forced = family(spec.architecture).mlc.window == "forced_context"
    if forced or rs.context != c.context:
        asked = f" (the plan asked for {c.context})" if rs.context != c.context else ""
        notes.append(
            f"context_window_size {rs.context}{asked}: MLC's {spec.architecture} config sets "
            "the context to config.json's sliding_window and ignores overrides "
            "(gemma2_model.py __post_init__); the budget is planned at that context"
            if forced
            else f"context_window_size {rs.context}{asked}: resolved by the runtime settings"
        )
    window, sink, window_notes = _mlc_window(plan, c)
    notes += window_notes
    preset = device.mlc_device
    if preset is None:
        notes.append(
            f"{device.id} has no MLC GPU target (its profile's mlc_device is null): no compile "
            "command and no package entry are emitted for it"
        )
    elif preset.startswith(mlc.PACKAGE_DEVICES) and preset not in mlc.PACKAGE_DEVICES:
        exact = next(d for d in mlc.PACKAGE_DEVICES if preset.startswith(d))
        notes.append(
            f"compile --device {exact}, not the profile's {preset}: MLC keeps an explicit "
            f"--system-lib-prefix only for {', '.join(mlc.PACKAGE_DEVICES)} "
            "(auto_target.py detect_system_lib_prefix), and mlc_llm package compiles with "
            f"--device {exact} too; a unique prefix lets one app hold several models"
        )
        preset = exact
    elif preset in ("metal", "vulkan", "opencl"):
        notes.append(
            f"--device {preset} auto-detects the GPU of the machine that runs compile: run it on "
            f"{device.id} itself, or use --device {preset}:generic to cross-compile"
        )
    elif preset in ("cuda", "rocm"):
        notes.append(
            f"--device {preset} auto-detects the GPU of the machine that runs compile: run it on "
            f"{device.id} itself (or a machine with the same GPU architecture)"
        )
    return mlc.MlcPlanSettings(
        model_id=model_id(spec.name),
        source_dir=source,
        quantization=c.quantization,
        context_window_size=rs.context,
        prefill_chunk_size=rs.prefill,
        # The budget was computed for this max batch (temp buffers scale with it): emit the same.
        max_batch_size=rs.max_batch_size,
        sliding_window_size=window,
        attention_sink_size=sink,
        device_preset=preset,
        # What the engine allocates (a sliding window's pool fills what fits), on the hungriest
        # of the plan's devices that one app package serves (same OS).
        estimated_vram_bytes=max(
            model_for(Runtime.MLC).allocated(c.budget, d).total_bytes
            for d in (device, *(x for x in plan.devices if x.os == device.os))
        ),
        conv_template=template,
        model_type=spec.architecture,
        device_name=device.id,
        notes=tuple(notes),
        download=download,
    )


def mlc_commands_for(plan: Plan, c: Candidate) -> str:
    """The MLC commands for every device of the plan (one compile per distinct target)."""
    seen: dict[str | None, DeviceProfile] = {}
    for d in plan.devices:
        seen.setdefault(d.mlc_device, d)
    texts = [mlc.commands_text(mlc_settings(plan, c, d)) for d in seen.values()]
    if len(texts) == 1:
        return texts[0]
    # The weights and gen_config are the same for every target: write them once.
    first, *rest = texts
    tails = []
    for t in rest:
        kept = [
            ln
            for ln in t.splitlines()
            if not any(w in ln for w in ("convert_weight", "gen_config", "hf download"))
        ]
        tails.append("".join(ln + "\n" for ln in kept))
    return first + "".join(tails)


def ort_settings(plan: Plan, c: Candidate) -> ort.OrtPlanSettings:
    """onnxruntime fragment inputs for a candidate."""
    spec = plan.model
    source, download = source_of(spec)
    return ort.OrtPlanSettings(
        source_dir=source,
        output_dir=f"{model_id(spec.name)}-{c.quantization}-cpu",
        precision=c.quantization,
        max_length=c.budget.settings.context,
        tied_embeddings=spec.tie_word_embeddings,
        ios=any(d.os in ("ios", "ipados") for d in plan.devices),
        kv_quant=ort.KV_QUANT_SCHEMES.get(c.budget.settings.kv_dtype),
        download=download,
    )


def package_config_for(plans: list[Plan]) -> str:
    """One mlc-package-config.json listing the chosen plan of every model (one device)."""
    missing = [p.model.name for p in plans if p.chosen is None]
    if missing:
        names = ", ".join(missing)
        raise UsageError(f"no plan fits for {names}, so the package config is not written")
    entries = [mlc_settings(p, p.chosen, p.devices[0]) for p in plans if p.chosen is not None]
    if any(e.device_preset is None for e in entries):
        mlc.package_device(None, entries[0].device_name)  # raises: no MLC target
    return mlc.package_config(entries)


def fragment_notes(plan: Plan, kind: EmitKind) -> list[str]:
    """What a family or target forced in a fragment that cannot carry comments (JSON, the
    overrides string): the CLI prints these as hints on stderr."""
    c = plan.chosen
    if c is None or kind.runtime is not Runtime.MLC or kind is EmitKind.mlc_commands:
        return []
    notes: list[str] = []
    for d in plan.devices:
        notes += [n for n in mlc_settings(plan, c, d).notes if n not in notes]
    if kind is EmitKind.mlc_package_config:
        notes.append(
            "model and model_lib_path_for_prepare_libs are paths relative to the folder the "
            "mlc_llm commands and mlc_llm package run in (the one holding "
            "mlc-package-config.json); replace model with an HF:// repository you published "
            "to download instead of bundling"
        )
        if any(d.os == "android" for d in plan.devices):
            notes.append(
                "Android: bundled weights reach the phone with MLCChat's "
                "`python bundle_weight.py --apk-path …` (mlc-llm docs/deploy/android.rst)"
            )
    return notes


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
        return mlc_commands_for(plan, c)
    if kind is EmitKind.mlc_package_config:
        return mlc.package_config([mlc_settings(plan, c, plan.devices[0])])
    if kind is EmitKind.genai_config:
        return ort.config_patch_text(ort_settings(plan, c))
    return ort.builder_text(ort_settings(plan, c))
