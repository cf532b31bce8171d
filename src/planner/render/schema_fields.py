"""The documented field table of planner's JSON outputs: the source of the JSON Schemas in
planner/schemas/ and of the JSON section of docs/reference.md (pure data; the generators are
in ``planner.render.schema_doc``).

Every field the JSON renderers (``planner.render.dicts``, ``planner.render.plan_json``,
``planner.device.profile_dict``) write is listed here with its type and meaning. The schemas are
strict (``additionalProperties: false``), and tests validate real outputs against them, so a
field added to a renderer without a line here fails the tests; ``scripts/gen_reference.py``
then regenerates the schemas and the reference page from this table.

Type grammar: ``string``, ``integer``, ``number``, ``boolean``, ``any`` (any JSON value),
``list[T]``, ``map[T]`` (an object with arbitrary keys and values of type T), ``#Name`` (an
object defined below), ``T|null``; ``"a"|"b"`` is an enumeration.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.budget import CATEGORIES
from planner.checks import Status
from planner.device import GPU_APIS, OS_NAMES
from planner.render.dicts import SCHEMA_VERSION
from planner.rules import RULE_IDS
from planner.settings import Runtime
from planner.spec import Origin

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://mlc-planner.invalid/schemas/"
"""``$id`` prefix of the bundled schemas (not fetched from anywhere; ids only)."""


def _enum(values: tuple[str, ...] | list[str]) -> str:
    return "|".join(f'"{v}"' for v in values)


STATUS = _enum([s.value for s in Status])
RUNTIME = _enum([r.value for r in Runtime])
CATEGORY = _enum(list(CATEGORIES))
ORIGIN = _enum([o.value for o in Origin])


@dataclass(frozen=True, slots=True)
class Field:
    """One documented JSON field."""

    name: str
    type: str
    description: str
    optional: bool = False
    """Present only in some outputs (e.g. MLC-only figures)."""


@dataclass(frozen=True, slots=True)
class ObjectDef:
    """A documented JSON object."""

    name: str
    description: str
    fields: tuple[Field, ...]


def F(name: str, type_: str, description: str, optional: bool = False) -> Field:
    """Shorthand for a ``Field``."""
    return Field(name, type_, description, optional)


HEADER = (
    F(
        "schema_version",
        f'"{SCHEMA_VERSION}"',
        "Version of this JSON contract; changes when a "
        "field is renamed or removed (adding fields keeps it).",
    ),
)

BUDGET_FIELDS = (
    F("memory", "#Memory", "Bytes by category and component."),
    F("settings", "#Settings", "The settings the budget was computed with, after defaults."),
    F(
        "notes",
        "list[string]",
        "Remarks about the budget (e.g. context beyond the model's maximum).",
    ),
    F(
        "mlc_engine",
        "#MlcEngine",
        "What MLC's engine reserves at start-up (MLC runtime only).",
        optional=True,
    ),
)
"""Fields every budget adds to the object it is merged into (estimate, device report, chosen)."""

CANDIDATE_FIELDS = (
    F("quantization", "string", "MLC scheme or onnxruntime precision."),
    F(
        "quality_rank",
        "integer",
        "Higher is better quality (more bits per weight; float "
        "embeddings above quantized ones at equal bits).",
    ),
    F("context", "integer", "Context length (tokens) of this candidate."),
    F("prefill", "integer", "Prefill chunk (tokens)."),
    F("sliding_window", "integer|null", "Sliding-window size, or null for full attention."),
    F("attention_sink", "integer|null", "Attention-sink tokens kept with a sliding window."),
    F("kv_dtype", "string|null", "KV dtype asked for, or null for the default."),
    F("max_batch_size", "integer|null", "Compiled batch bound (MLC), or null for the default."),
    F("fits", "boolean", "Every check passes on every device (background-kill warnings aside)."),
    F("within_margin", "boolean", "Every limit keeps the requested margin spare."),
    F("needs_source_model", "boolean", "Building it converts the original model."),
    F("warnings", "list[string]", "Why it is not the choice (e.g. inside the margin)."),
    F("scores", "#Scores|null", "The candidate on each axis of the objective."),
    F("total_bytes", "integer|null", "Resident total of the budget (null when not evaluated)."),
)

SCORES = ObjectDef(
    "Scores",
    "A candidate on each axis `suggest` trades (docs/formulas.md#ranking).",
    (
        F("quality_loss_pct", "number", "Expected perplexity increase over float16, in %."),
        F("quality_basis", "list[string]", "The published measurements behind it."),
        F("decode_tokens_per_s", "number|null", "Decode speed on the slowest device."),
        F("ttft_s", "number|null", "Time to first token on the slowest device, when known."),
        F("context", "integer", "Context (tokens)."),
        F("headroom", "number", "Smallest spare share of any limit (negative: over)."),
    ),
)

PLAN_FIELDS = (
    F("model", "#Model", "The model spec."),
    F("devices", "list[string]", "Device ids the plan must fit."),
    F("runtime", RUNTIME, "Runtime planned for."),
    F("chosen", "#Chosen|null", "The best plan, or null when nothing fits."),
    F("runners_up", "list[#Candidate]", "Up to three next-best plans."),
    F("rejected", "list[#Rejected]", "Quantizations that fit no device."),
    F("advice", "list[string]", "What else to know or try."),
    F("objective", '"balanced"|"quality"|"speed"|"context"', "What the choice optimised."),
    F("margin", "number", "Spare share of every limit a chosen plan keeps."),
    F("target_context", "integer", "The context aimed for."),
    F("why", "list[string]", "Why the chosen plan beats each runner-up."),
    F("pareto", "list[#Candidate]", "Candidates no other beats on every axis."),
)

OBJECTS: tuple[ObjectDef, ...] = (
    SCORES,
    ObjectDef("Plan", "One model's plan (in `suggest --with-model` output).", PLAN_FIELDS),
    ObjectDef(
        "Model",
        "What an adapter read from the artifact (`planner inspect`).",
        (
            F("name", "string", "Model name (folder or file stem)."),
            F("source", "string", "The path as given on the command line."),
            F(
                "format",
                "string",
                "Artifact format: `onnx`, `onnx-genai`, `onnx-optimum`, `mlc`, `hf`.",
            ),
            F("adapter", "string", "Adapter that read it."),
            F("architecture", "string", "Model family (Hugging Face `model_type`)."),
            F("num_layers", "integer", "Transformer layers."),
            F("hidden_size", "integer", "Hidden size."),
            F("num_attention_heads", "integer", "Query heads."),
            F("num_kv_heads", "integer", "Key/value heads (grouped-query attention)."),
            F("head_dim", "integer", "Dimension of one head."),
            F("intermediate_size", "integer", "MLP inner size."),
            F("vocab_size", "integer", "Vocabulary size."),
            F("tie_word_embeddings", "boolean", "The LM head shares the embedding matrix."),
            F("max_context", "integer|null", "Largest context the model supports, when known."),
            F(
                "layer_windows",
                "list[integer|null]",
                "Per layer: sliding-window size, or null for "
                "full attention (empty: every layer full).",
            ),
            F("attention_sink", "integer|null", "Attention-sink tokens the model keeps."),
            F("kv_dtype", "string", "Dtype of the artifact's KV cache."),
            F("kv_input_names", "list[string]", "KV cache graph inputs (ONNX)."),
            F(
                "weights",
                "#Weights|null",
                "Weights inventory, or null when the artifact has no "
                "weights (Hugging Face config only).",
            ),
            F("quantization", "#Quantization", "Quantization as read."),
            F("settings", "#ArtifactSettings", "Runtime settings stored in the artifact."),
            F("compiled_lib", "#CompiledLib|null", "MLC compiled library metadata, when found."),
            F("provenance", "map[#Provenance]", "For each field name: where its value came from."),
            F("notes", "list[string]", "What the adapter noticed (missing shards, fallbacks)."),
        ),
    ),
    ObjectDef(
        "Weights",
        "Weights inventory, from tensor headers and file sizes (never the weight bytes).",
        (
            F("tensor_count", "integer", "Tensors."),
            F("total_bytes", "integer", "Bytes of every tensor."),
            F("param_count", "integer", "Parameters (unpacked elements)."),
            F("bytes_by_dtype", "map[integer]", "Bytes per stored dtype."),
            F("external_bytes", "integer", "Bytes in external data files (ONNX) or shards."),
            F("embedded_bytes", "integer", "Bytes embedded in the graph file."),
            F("matmul_bytes", "integer", "Bytes of MatMul/linear weights."),
            F("embedding_bytes", "integer", "Bytes of the token embedding."),
            F("lm_head_bytes", "integer", "Bytes of the LM head (0 when tied)."),
        ),
    ),
    ObjectDef(
        "Quantization",
        "The artifact's quantization.",
        (
            F("scheme", "string|null", "MLC scheme or onnxruntime precision, when known."),
            F("bits", "number|null", "Bits per quantized weight."),
            F("group_size", "integer|null", "Quantization group/block size."),
            F("symmetric", "boolean|null", "Symmetric quantization (no zero points)."),
            F("compute_dtype", "string|null", "Dtype of activations and dequantized weights."),
            F("unquantized", "list[string]", "Weights kept in float."),
            F("details", "map[string]", "Other scheme parameters, as read."),
        ),
    ),
    ObjectDef(
        "ArtifactSettings",
        "Runtime settings stored in the artifact (null: not set).",
        (
            F("context_window_size", "integer|null", "MLC `context_window_size`."),
            F("prefill_chunk_size", "integer|null", "MLC `prefill_chunk_size`."),
            F("sliding_window_size", "integer|null", "MLC `sliding_window_size`."),
            F("attention_sink_size", "integer|null", "MLC `attention_sink_size`."),
            F("max_batch_size", "integer|null", "MLC `max_batch_size`."),
            F("max_length", "integer|null", "onnxruntime-genai `search.max_length`."),
            F(
                "past_present_share_buffer",
                "boolean|null",
                "onnxruntime-genai `search.past_present_share_buffer`.",
            ),
            F("conv_template", "string|null", "MLC conversation template."),
        ),
    ),
    ObjectDef(
        "CompiledLib",
        "Metadata of an MLC compiled model library.",
        (
            F("params_bytes", "integer|null", "Parameter bytes the library reports."),
            F("memory_usage", "map[integer]", "Temporary buffer bytes per compiled function."),
            F("context_window_size", "integer|null", "Context it was compiled for."),
            F("prefill_chunk_size", "integer|null", "Prefill chunk it was compiled for."),
            F("sliding_window_size", "integer|null", "Sliding window it was compiled for."),
            F("max_batch_size", "integer|null", "Batch size it was compiled for."),
        ),
    ),
    ObjectDef(
        "Provenance",
        "Where one spec field's value came from.",
        (
            F(
                "origin",
                ORIGIN,
                "`artifact`: read directly; `derived`: computed from artifact "
                "values; `assumed`: a documented default.",
            ),
            F("detail", "string", "The file and key, or the rule used."),
        ),
    ),
    ObjectDef(
        "Memory",
        "Budget totals in bytes, by category, and every component.",
        (
            F("weights_bytes", "integer", "Weight bytes resident in memory."),
            F("kv_cache_bytes", "integer", "KV cache for the context and batch."),
            F("activations_bytes", "integer", "Activations and temporary buffers at the peak."),
            F("runtime_overhead_bytes", "integer", "What the runtime adds beyond the model."),
            F("total_bytes", "integer", "Sum of all components: resident memory at the peak."),
            F(
                "footprint_bytes",
                "integer",
                "Dirty memory: what iOS counts against the app's limit.",
            ),
            F("clean_bytes", "integer", "Clean file-backed pages (total − footprint)."),
            F(
                "kv_bytes_per_token",
                "integer",
                "KV bytes per token of one full-attention sequence.",
            ),
            F(
                "mlc_reported_bytes",
                "integer",
                "MLC only: the figure MLC itself reports (params + temp + KV).",
                optional=True,
            ),
            F("components", "list[#Component]", "The components, in category order."),
        ),
    ),
    ObjectDef(
        "Component",
        "One named part of the budget with the formula that produced it.",
        (
            F("category", CATEGORY, "Budget category."),
            F("label", "string", "What it is."),
            F("bytes", "integer", "Its size."),
            F("formula", "string", "How it was computed (see docs/formulas.md)."),
            F("inputs", "map[string]", "The formula's inputs."),
            F(
                "dirty",
                "boolean",
                "Counted in the iOS footprint (false: clean memory-mapped pages).",
            ),
            F("source", "string", "Where the formula comes from."),
        ),
    ),
    ObjectDef(
        "Settings",
        "Runtime settings after defaults from the artifact and runtime.",
        (
            F("runtime", RUNTIME, "Runtime planned for."),
            F("quantization", "string", "MLC scheme or onnxruntime precision."),
            F("context", "integer", "Tokens the KV cache holds."),
            F("prefill", "integer", "Tokens per forward pass (prefill chunk)."),
            F("batch", "integer", "Concurrent sequences."),
            F("kv_dtype", "string", "KV cache dtype."),
            F("sliding_window", "integer|null", "Sliding window, or null."),
            F("attention_sink", "integer", "Attention-sink tokens."),
            F("max_batch_size", "integer", "MLC `max_batch_size` (sizes buffers)."),
            F("gpu_memory_utilization", "number", "MLC engine's fraction of device memory."),
            F("defaults_applied", "list[string]", "Which settings were defaulted, and from where."),
            F(
                "platform",
                "string|null",
                "onnxruntime: the platform planned for (linux-x86_64, android-arm64, ios-arm64, "
                "…); "
                "null for MLC.",
            ),
            F(
                "runtime_version",
                "string|null",
                "onnxruntime: the version whose terms were used (asked for, or the newest "
                "measured); null for MLC.",
            ),
        ),
    ),
    ObjectDef(
        "MlcEngine",
        "MLC engine start-up reservations (cpp/serve/config.cc).",
        (
            F("params_bytes", "integer", "Parameters."),
            F("temp_buffer_bytes", "integer", "Largest temporary buffer, before the engine's ×2."),
            F("kv_aux_workspace_bytes", "integer", "KV cache auxiliary workspace."),
            F("model_workspace_bytes", "integer", "Model workspace."),
            F("logit_processor_workspace_bytes", "integer", "Logit processor workspace."),
            F("startup_bytes", "integer", "params + 2 × temp + workspaces."),
        ),
    ),
    ObjectDef(
        "Device",
        "The identifying part of a device profile.",
        (
            F("id", "string", "Profile id (`planner devices`)."),
            F("name", "string", "Marketing name."),
            F("os", _enum(list(OS_NAMES)), "Operating system."),
            F("ram_bytes", "integer", "Physical RAM of this configuration."),
            F("mlc_device", "string|null", "`mlc_llm compile --device` preset, or null."),
        ),
    ),
    ObjectDef(
        "DeviceEntry",
        "One row of `planner devices --format json`.",
        (
            F("id", "string", "Profile id."),
            F("name", "string", "Marketing name."),
            F("vendor", "string", "Vendor."),
            F("os", _enum(list(OS_NAMES)), "Operating system."),
            F("soc", "string", "System on chip."),
            F("soc_family", "string|null", "SoC family key of the tier rules."),
            F("ram_bytes", "integer", "Physical RAM of this configuration."),
            F("mlc_device", "string|null", "`mlc_llm compile --device` preset, or null."),
            F("tier", "string", "The tier the device belongs to (`android:8GB`)."),
            F("aliases", "list[string]", "Other names that resolve to it."),
            F("families", "list[string]", "Family names it belongs to."),
            F("default_for", "list[string]", "Families it is the default member of."),
            F("bundled", "boolean", "Shipped with planner (false: from --profiles)."),
        ),
    ),
    ObjectDef(
        "DeviceName",
        "A name `--device` accepts and what it resolves to.",
        (
            F("name", "string", "The alias or family name."),
            F("kind", '"alias"|"family"', "Alias of one profile, or family of several."),
            F(
                "resolves_to",
                "string|null",
                "Profile id it resolves to; null for a family with "
                "several members and no default (name a member instead).",
            ),
            F("candidates", "list[string]", "Members of the family (an alias: its profile)."),
        ),
    ),
    ObjectDef(
        "DeviceFilters",
        "Filters of `planner devices`.",
        (
            F("os", "string|null", "--os, or null."),
            F("min_ram_bytes", "integer|null", "--min-ram in bytes, or null."),
        ),
    ),
    ObjectDef(
        "Check",
        "One rule applied to the budget on one device.",
        (
            F("id", "string", "Rule id: " + ", ".join(f"`{r}`" for r in RULE_IDS) + "."),
            F("title", "string", "Rule name."),
            F("status", STATUS, "Outcome."),
            F("message", "string", "What was compared, with the margin."),
            F("measured_bytes", "integer|null", "The measured side of the rule."),
            F("limit_bytes", "integer|null", "The limit."),
            F("margin_bytes", "integer|null", "limit − measured (negative: broken)."),
            F("threshold", "string", "The rule as a formula."),
            F("source", "string", "Where the rule and its numbers come from."),
        ),
    ),
    ObjectDef(
        "Decode",
        "Memory-bound decode speed estimate.",
        (
            F("tokens_per_s", "number", "bandwidth × efficiency ÷ bytes read per token."),
            F(
                "bytes_per_token",
                "integer",
                "Weights a decoded token reads (not gathered embedding rows or unrouted MoE "
                "experts) + half the KV cache.",
            ),
            F("bandwidth_bytes_per_s", "integer", "Device's peak DRAM bandwidth."),
            F("efficiency", "number", "Fraction of peak bandwidth decoding reaches."),
            F("efficiency_source", "string", "Where the efficiency comes from."),
            F("estimate", "boolean", "Bandwidth or efficiency is an estimate."),
        ),
    ),
    ObjectDef(
        "DeviceReport",
        "Every check of one budget on one device. Its memory is the budget as the runtime "
        "allocates it on that device (MLC: the KV pool its engine sizes to the device's memory, "
        "docs/formulas.md), which the resident-memory checks read.",
        (
            F("device", "#Device", "The device."),
            F("status", STATUS, "Worst status among the checks."),
            F("checks", "list[#Check]", "The rules that apply."),
            F(
                "max_context",
                "integer|null",
                "Largest context passing every check with the other "
                "settings unchanged (capped at the model's maximum); null when none does.",
            ),
            F(
                "max_context_at_least",
                "boolean",
                "The model does not say its maximum and the search stopped at its bound: "
                "read max_context as a lower bound.",
            ),
            F("decode", "#Decode|null", "Decode speed, when the profile gives a bandwidth."),
            *BUDGET_FIELDS,
        ),
    ),
    ObjectDef(
        "CheckRun",
        "One model of a check run (one job of a planner.yaml).",
        (
            F("model", "string", "The model path as given (or the job's name)."),
            F("devices", "list[#DeviceReport]", "One report per device."),
            F(
                "error",
                "string",
                "Why the job could not be planned (`--config` runs; devices is then empty).",
                optional=True,
            ),
        ),
    ),
    ObjectDef("Candidate", "A plan `suggest` evaluated.", CANDIDATE_FIELDS),
    ObjectDef(
        "Rejected",
        "A quantization no setting made fit.",
        (
            *CANDIDATE_FIELDS,
            F("reason", "string", "The check that rejects it, with its margin."),
        ),
    ),
    ObjectDef(
        "Chosen",
        "The chosen plan with its budget, reports and build fragments.",
        (
            *CANDIDATE_FIELDS,
            *BUDGET_FIELDS,
            F("reports", "list[#DeviceReport]", "One report per device."),
            F("mlc", "#MlcFragments", "MLC runtime only: commands and config.", optional=True),
            F(
                "mlc_cross_check",
                "#MlcCrossCheck",
                "MLC runtime only: whether mlc_llm (when "
                "importable) accepts the emitted quantization and overrides.",
                optional=True,
            ),
            F(
                "onnxruntime",
                "#OrtFragments",
                "onnxruntime only: builder command and config patch.",
                optional=True,
            ),
        ),
    ),
    ObjectDef(
        "MlcFragments",
        "What to run and write for MLC-LLM.",
        (
            F(
                "commands",
                "list[list[string]]",
                "argv of `mlc_llm convert_weight`, `gen_config` and `compile`, in order.",
            ),
            F("overrides", "string", "`--overrides` value (`k=v;k=v`)."),
            F("package_entry", "map[any]", "One `model_list` entry of mlc-package-config.json."),
        ),
    ),
    ObjectDef(
        "MlcCrossCheck",
        "The optional check against mlc_llm itself.",
        (
            F("available", "boolean", "Whether mlc_llm could be imported."),
            F("ok", "boolean|null", "Whether it accepted the fragments (null when unavailable)."),
            F("detail", "string", "What was checked, or why not."),
        ),
    ),
    ObjectDef(
        "OrtFragments",
        "What to run and write for onnxruntime-genai.",
        (
            F("builder", "list[string]", "argv of the onnxruntime-genai model builder."),
            F(
                "genai_config_patch",
                "map[any]",
                "JSON merge patch (RFC 7386) for genai_config.json.",
            ),
        ),
    ),
    ObjectDef(
        "Sourced",
        "A profile number with its source.",
        (
            F(
                "value",
                "integer|number|list[integer]",
                "The number (bytes, bytes/s or a fraction).",
            ),
            F("source", "string", "Public evidence for it."),
            F("estimate", "boolean", "An estimate rather than a stated or measured figure."),
            F("note", "string", "Qualification (OS version, range).", optional=True),
        ),
    ),
    ObjectDef(
        "Profile",
        "A whole device profile (`planner devices show --format json`).",
        (
            F("id", "string", "Profile id."),
            F("name", "string", "Marketing name."),
            F("vendor", "string", "Vendor."),
            F("os", _enum(list(OS_NAMES)), "Operating system."),
            F("os_detail", "string|null", "OS version or note."),
            F("soc", "string", "System on chip."),
            F("soc_family", "string|null", "SoC family key of the tier rules (docs/devices.md)."),
            F("android_version", "integer|null", "Android version the profile assumes."),
            F(
                "tier",
                "string",
                "The tier the device belongs to (`android:8GB`, "
                "`ios:6GB,soc=a16`); for a tier string, the profile built from it.",
            ),
            F(
                "from_tier",
                "list[string]",
                "Fields whose numbers come from the tier rules; every "
                "other number is the profile's own.",
            ),
            F("year", "integer|null", "Release year."),
            F("ram_bytes", "#Sourced", "Physical RAM of this configuration."),
            F("ram_variants_bytes", "#Sourced|null", "Every RAM size the model is sold with."),
            F("memory_type", "string|null", "DRAM type."),
            F("mem_bandwidth_bytes_per_s", "#Sourced|null", "Peak DRAM bandwidth."),
            F("gpu", "string", "GPU."),
            F("gpu_api", _enum(list(GPU_APIS)), "API the planner assumes for the GPU path."),
            F("npu", "string|null", "NPU."),
            F("mlc_device", "string|null", "`mlc_llm compile --device` preset."),
            F("ios_app_limit_bytes", "#Sourced|null", "iOS per-app memory limit."),
            F(
                "ios_app_limit_entitled_bytes",
                "#Sourced|null",
                "The same with the increased-memory-limit entitlement.",
            ),
            F("metal_working_set_bytes", "#Sourced|null", "Metal recommendedMaxWorkingSetSize."),
            F(
                "android_foreground_budget_bytes",
                "#Sourced|null",
                "Memory a foreground app can use before lmkd kills it.",
            ),
            F("android_background_note", "string|null", "Background-kill behaviour."),
            F("mlc_engine_memory_bytes", "#Sourced|null", "Device memory MLC's engine sees."),
            F("decode_efficiency", "#Sourced", "Fraction of bandwidth decoding reaches."),
            F("aliases", "list[string]", "Other names that resolve to it."),
            F("families", "list[string]", "Family names it belongs to."),
            F("default_for", "list[string]", "Families it is the default member of."),
            F("notes", "list[string]", "Remarks."),
            F("sources", "list[string]", "Sources of the profile as a whole."),
            F("bundled", "boolean", "Shipped with planner (false: from --profiles)."),
        ),
    ),
)

OUTPUTS: tuple[ObjectDef, ...] = (
    ObjectDef(
        "inspect",
        "`planner inspect --format json`",
        (
            *HEADER,
            F("kind", '"inspect"', "Which output this is."),
            F("model", "#Model", "The model spec."),
        ),
    ),
    ObjectDef(
        "estimate",
        "`planner estimate --format json`",
        (
            *HEADER,
            F("kind", '"estimate"', "Which output this is."),
            F("model", "#Model", "The model spec."),
            *BUDGET_FIELDS,
        ),
    ),
    ObjectDef(
        "check",
        "`planner check --format json`",
        (
            *HEADER,
            F("kind", '"check"', "Which output this is."),
            F("strict", "boolean", "Warnings counted as failures (`--strict`)."),
            F("results", "list[#CheckRun]", "One entry per model (per planner.yaml job)."),
        ),
    ),
    ObjectDef(
        "check-job",
        "One line of `planner check --jsonl FILE` (JSON Lines: one object per job, then a "
        "`check-summary` line).",
        (
            *HEADER,
            F("kind", '"check-job"', "Which line this is."),
            F("index", "integer", "The job's 1-based position in the run."),
            F("model", "string", "The job's name (or the model path)."),
            F("status", '"pass"|"warn"|"fail"|"error"', "Worst outcome (error: not planned)."),
            F("seconds", "number", "Wall time the job took."),
            F("devices", "list[#DeviceReport]", "One report per device (empty on error)."),
            F("error", "string", "Why the job could not be planned.", optional=True),
        ),
    ),
    ObjectDef(
        "check-summary",
        "The last line of `planner check --jsonl FILE`.",
        (
            *HEADER,
            F("kind", '"check-summary"', "Which line this is."),
            F("jobs", "integer", "Jobs in the run."),
            F("summary", "string", "Counts by status, as printed."),
        ),
    ),
    ObjectDef(
        "suggest",
        "`planner suggest --format json`",
        (*HEADER, F("kind", '"suggest"', "Which output this is."), *PLAN_FIELDS),
    ),
    ObjectDef(
        "suggest-app",
        "`planner suggest --with-model … --format json`",
        (
            *HEADER,
            F("kind", '"suggest-app"', "Which output this is."),
            F("co_resident", "boolean", "Every model stays loaded (`--co-resident`)."),
            F("fits", "boolean", "Every model has a chosen plan."),
            F("plans", "list[#Plan]", "One plan per model, in command-line order."),
            F("combined", "list[#DeviceReport]", "Co-resident: the models together per device."),
            F("switch_seconds", "list[number]", "One at a time: seconds to load each model."),
            F("advice", "list[string]", "What else to know or try."),
        ),
    ),
    ObjectDef(
        "devices",
        "`planner devices --format json`",
        (
            *HEADER,
            F("kind", '"devices"', "Which output this is."),
            F("filters", "#DeviceFilters", "The --os and --min-ram filters applied."),
            F(
                "devices",
                "list[#DeviceEntry]",
                "Every profile that passes the filters, bundled and from --profiles.",
            ),
            F(
                "names",
                "list[#DeviceName]",
                "Aliases and family names of the listed profiles and what they resolve to.",
            ),
        ),
    ),
    ObjectDef(
        "device",
        "`planner devices show ID --format json`",
        (
            *HEADER,
            F("kind", '"device"', "Which output this is."),
            F("device", "#Profile", "The whole profile."),
        ),
    ),
)
