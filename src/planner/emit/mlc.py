"""MLC-LLM fragments for a plan: commands, ``--overrides``, ``mlc-package-config.json`` (pure).

Every rule here is one of mlc-llm's own (mlc-ai/mlc-llm @ 79d603f; ``planner.emit.mlc_facts``
holds them with their source lines, and tests/test_emit_mlc_rules.py checks them):

- ``gen_config`` requires ``--conv-template`` (cli/gen_config.py, ``required=True``);
- ``compile -o`` does not create folders (cli/compile.py ``_parse_output``: "Directory does
  not exist"), so the commands ``mkdir -p`` the library folder first;
- ``ModelConfigOverride.from_str`` parses ``k=v;k=v`` over exactly eight keys
  (interface/compiler_flags.py);
- ``mlc_llm package`` requires ``device`` and, per model, ``model``, ``model_id`` and
  ``estimated_vram_bytes``; a local ``model`` needs ``"bundle_weight": true``; a ``model_lib``
  found in ``model_lib_path_for_prepare_libs`` is used instead of compiling again
  (interface/package.py ``build_model_library``).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planner.emit.mlc_facts import OVERRIDE_KEYS, PACKAGE_DEVICES, library_suffix
from planner.errors import UsageError
from planner.families import family
from planner.spec import ModelSpec

__all__ = [
    "FALLBACK_CONV_TEMPLATE",
    "OVERRIDE_KEYS",
    "PACKAGE_DEVICES",
    "MlcPlanSettings",
    "commands",
    "commands_text",
    "conv_template_for",
    "library_path",
    "model_lib",
    "overrides",
    "overrides_string",
    "package_config",
    "package_device",
    "package_entry",
    "parse_overrides",
    "weights_dir",
]

FALLBACK_CONV_TEMPLATE = "LM"
"""Used when neither the artifact nor the family registry names a template: MLC's plain
completion template (conversation_template/registry.py ``name="LM"``), which every
``gen_config`` accepts; chat apps should replace it with the model's own template."""


JUDGED_TEMPLATES = {
    "internlm2": "its chat markup is ChatML (<|im_start|>role … <|im_end|>); the stop string "
    "<|im_end|> ends a turn although the template's stop id is Llama's 2 — check it",
    "minicpm": "its chat markup is ChatML; the stop string <|im_end|> ends a turn — check it",
}
"""Families whose registry template is a judgment, not one MLC publishes for them."""


@dataclass(frozen=True, slots=True)
class MlcPlanSettings:
    """What the MLC fragments need to know about the chosen plan (values MLC will use)."""

    model_id: str
    source_dir: str
    """Hugging Face folder the weights are converted from (as the user named it)."""
    quantization: str
    context_window_size: int
    prefill_chunk_size: int
    max_batch_size: int
    sliding_window_size: int | None
    """Emitted only when set (families whose MLC config has ``sliding_window_size``)."""
    attention_sink_size: int | None
    """Emitted only with a sliding window, for families whose config has the field."""
    device_preset: str | None
    """``mlc_llm compile --device``; None when the device has no MLC target."""
    estimated_vram_bytes: int
    conv_template: str | None
    model_type: str = ""
    """MLC's model type (the family): MLC's automatic system-lib prefix is built from it."""
    device_name: str = ""
    """The device profile the preset came from (for messages)."""
    notes: tuple[str, ...] = ()
    """What a family or target forced, and why (printed as ``#`` lines above the commands)."""
    download: tuple[str, ...] = ()
    """argv that fetches the Hugging Face model into ``source_dir`` first (hub ids)."""


def conv_template_for(spec: ModelSpec) -> tuple[str, str]:
    """(template, note): the artifact's template, else the family registry's, else ``LM``.

    The note is empty when the template is the artifact's or one MLC itself uses for the
    family; otherwise it says why this template was chosen.
    """
    if spec.settings.conv_template:
        return spec.settings.conv_template, ""
    fam = family(spec.architecture)
    if spec.architecture == "llama" and spec.vocab_size < 100_000:
        return "llama-2", ""
    if spec.architecture == "llama" and dict(spec.extra).get("rope_type") == "llama3":
        # Llama 3.1/3.2/3.3 (rope_type llama3) emit <|eom_id|> (128008) for tool calls; only
        # llama-3_1 stops on it (conversation_template/llama.py).
        return "llama-3_1", ""
    if fam.conv_template:
        judged = JUDGED_TEMPLATES.get(spec.architecture)
        note = (
            f"MLC has no {spec.architecture} conversation template (interface/gen_config.py "
            f"CONV_TEMPLATES); planner uses {fam.conv_template}: {judged}"
            if judged
            else ""
        )
        return fam.conv_template, note
    return FALLBACK_CONV_TEMPLATE, (
        f"MLC has no conversation template for {spec.architecture!r} and planner's family "
        f"registry names none: gen_config gets {FALLBACK_CONV_TEMPLATE!r} (plain completion, "
        "MLC's template for base and code models, docs/deploy/ide_integration.rst); pass the "
        "model's own chat template for a chat app"
    )


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
        if p.attention_sink_size is not None:
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


def weights_dir(p: MlcPlanSettings) -> str:
    """The folder convert_weight and gen_config write (relative to where the commands run)."""
    return f"dist/{p.model_id}-{p.quantization}-MLC"


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-") or "target"


def library_path(p: MlcPlanSettings) -> str | None:
    """The compiled model library's path, or None when the device has no MLC target."""
    if p.device_preset is None:
        return None
    suffix = library_suffix(p.device_preset)
    return f"dist/libs/{p.model_id}-{p.quantization}-{_safe(p.device_preset)}{suffix}"


def model_lib(p: MlcPlanSettings) -> str | None:
    """The system-lib prefix the compiled library carries (a package entry's ``model_lib``).

    ``detect_system_lib_prefix`` (support/auto_target.py) keeps an explicit
    ``--system-lib-prefix`` only for the exact devices ``iphone``, ``macabi`` and ``android``;
    for ``android:adreno`` and other ``:`` presets it uses ``auto``, which is
    ``f"{model_type}_{quantization}_"``. Static (system) libraries only: None otherwise.
    """
    preset = p.device_preset
    if preset is None or library_suffix(preset) != ".tar":
        return None
    if preset in PACKAGE_DEVICES:
        name = re.sub(r"[^A-Za-z0-9_]+", "_", f"{p.model_id}_{p.quantization}").strip("_")
        return name if re.match(r"^[A-Za-z_]", name) else f"m_{name}"
    return f"{p.model_type or 'model'}_{p.quantization}".replace("-", "_")


def commands(p: MlcPlanSettings) -> list[list[str]]:
    """convert_weight, gen_config, and (for a device with an MLC target) mkdir + compile."""
    out_dir = weights_dir(p)
    if not p.conv_template:
        raise UsageError("mlc_llm gen_config requires --conv-template; none is known")
    gen = [
        "mlc_llm",
        "gen_config",
        p.source_dir,
        "--quantization",
        p.quantization,
        "--conv-template",
        p.conv_template,
    ]
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
    convert = ["mlc_llm", "convert_weight", p.source_dir, "--quantization", p.quantization]
    out = [[*convert, "-o", out_dir], gen]
    if p.download:
        out.insert(0, list(p.download))
    lib = library_path(p)
    if lib is None or p.device_preset is None:
        return out
    compile_cmd = [
        "mlc_llm",
        "compile",
        f"{out_dir}/mlc-chat-config.json",
        "--device",
        p.device_preset,
    ]
    prefix = model_lib(p)
    if prefix is not None and p.device_preset in PACKAGE_DEVICES:
        compile_cmd += ["--system-lib-prefix", f"{prefix}_"]
    compile_cmd += ["--overrides", overrides_string(overrides(p)), "-o", lib]
    out += [["mkdir", "-p", lib.rsplit("/", 1)[0]], compile_cmd]
    return out


def commands_text(p: MlcPlanSettings) -> str:
    """The commands as a shell script fragment, notes first as ``#`` comments."""
    lines = [f"# {n}" for n in p.notes]
    lines += [shlex.join(c) for c in commands(p)]
    return "".join(line + "\n" for line in lines)


def package_entry(p: MlcPlanSettings) -> dict[str, object]:
    """One ``model_list`` entry: the weights the commands wrote, bundled, and their library.

    ``model`` is the local folder ``convert_weight``/``gen_config`` wrote (relative to the
    folder ``mlc_llm package`` runs in, which holds mlc-package-config.json); a local model
    needs ``bundle_weight`` (interface/package.py). ``model_lib`` names the library the
    compile command built, so ``mlc_llm package`` links it instead of compiling again
    (``model_lib_path_for_prepare_libs``, see ``package_config``).
    """
    entry: dict[str, object] = {
        "model": weights_dir(p),
        "model_id": f"{p.model_id}-{p.quantization}-MLC",
        "estimated_vram_bytes": p.estimated_vram_bytes,
        "bundle_weight": True,
        "overrides": {k: v for k, v in overrides(p).items() if v != -1},
    }
    lib = model_lib(p)
    if lib is not None:
        entry["model_lib"] = lib
    return entry


def package_device(preset: str | None, device_name: str = "") -> str:
    """mlc_llm package's device (iphone, android, macabi) for a compile preset."""
    for name in PACKAGE_DEVICES:
        if preset is not None and preset.startswith(name):
            return name
    what = f"{device_name} (mlc_device {preset or 'null'})" if device_name else repr(preset)
    raise UsageError(
        f"mlc_llm package builds iphone, android or macabi apps; {what} is none of them",
        hint="use --emit mlc-commands for desktop and board targets",
    )


def package_config(plans: Sequence[MlcPlanSettings]) -> str:
    """A whole mlc-package-config.json for several models on one device."""
    devices = {package_device(p.device_preset, p.device_name) for p in plans}
    if len(devices) != 1:
        raise UsageError(f"one package config serves one device; got {', '.join(sorted(devices))}")
    entries = [package_entry(p) for p in plans]
    libs: dict[str, str] = {}
    for p in plans:
        name, path = model_lib(p), library_path(p)
        if name is None or path is None:
            continue
        if name in libs and libs[name] != path:
            raise UsageError(
                f"two models would share the system-lib prefix {name!r} ({libs[name]} and "
                f"{path}); compile them for device {devices.copy().pop()!r} so each gets its own"
            )
        libs[name] = path
    doc: dict[str, object] = {"device": devices.pop(), "model_list": entries}
    if libs:
        doc["model_lib_path_for_prepare_libs"] = libs
    return json.dumps(doc, indent=2) + "\n"
