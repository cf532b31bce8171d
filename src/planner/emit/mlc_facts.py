"""What mlc-llm's own code requires of the fragments planner emits (data, with sources).

All sources are files of mlc-ai/mlc-llm at commit 79d603f085f5 (``MLC_COMMIT``); each fact
names the file and the lines it was read from. tests/test_emit_mlc_rules.py checks every
emitted fragment against these facts (and against ``mlc_llm`` itself when it is importable).
"""

from __future__ import annotations

from dataclasses import dataclass

MLC_COMMIT = "79d603f085f50500e9509fa01785ffa7ecfaaa93"


@dataclass(frozen=True, slots=True)
class Fact:
    """One rule of the toolchain and where it is written."""

    rule: str
    source: str


GEN_CONFIG_REQUIRED = ("--quantization", "--conv-template", "-o")
"""``mlc_llm gen_config`` arguments with ``required=True`` besides the positional config."""
CONVERT_WEIGHT_REQUIRED = ("--quantization", "-o")
COMPILE_REQUIRED = ("-o",)

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
"""The eight keys ``ModelConfigOverride.from_str`` builds its argparse parser from."""

CONV_TEMPLATES = frozenset(
    {
        "llama-4",
        "llama-3",
        "llama-3_1",
        "chatml",
        "chatml_nosystem",
        "qwen2",
        "open_hermes_mistral",
        "neural_hermes_mistral",
        "llama_default",
        "llama-2",
        "mistral_default",
        "ministral3",
        "ministral3_reasoning",
        "gpt2",
        "codellama_completion",
        "codellama_instruct",
        "redpajama_chat",
        "rwkv_world",
        "gorilla",
        "gorilla-openfunctions-v2",
        "dolly",
        "oasst",
        "stablelm",
        "LM",
        "stablelm-3b",
        "gpt_bigcode",
        "wizardlm_7b",
        "wizard_coder_or_math",
        "glm",
        "phi-2",
        "phi-3",
        "phi-3-vision",
        "phi-4",
        "stablelm-2",
        "gemma_instruction",
        "gemma3_instruction",
        "orion",
        "llava",
        "hermes2_pro_llama3",
        "hermes3_llama-3_1",
        "tinyllama_v1_0",
        "aya-23",
        "deepseek",
        "deepseek_v2",
        "deepseek_v3",
        "deepseek_r1_qwen",
        "deepseek_r1_llama",
        "olmo",
        "olmo2",
        "nemotron",
        "llm-jp",
        "qwen3",
        "qwen3_5",
        "qwen3_5_nothink",
    }
)
"""``gen_config --conv-template`` choices (argparse ``choices=list(CONV_TEMPLATES)``)."""

PACKAGE_DEVICES = ("iphone", "android", "macabi")
"""``mlc_llm package``'s ``SUPPORTED_DEVICES`` (order: longest-prefix checks need none)."""
PACKAGE_ENTRY_REQUIRED = ("model", "model_id", "estimated_vram_bytes")
PACKAGE_ENTRY_OPTIONAL = ("bundle_weight", "overrides", "model_lib")

STATIC_LIB_PRESETS = ("iphone", "macabi", "android:generic", "android:adreno")
"""Presets whose build function writes a static system library (``.tar``)."""

FACTS: tuple[Fact, ...] = (
    Fact(
        "gen_config requires --quantization, --conv-template (choices CONV_TEMPLATES) and -o",
        "python/mlc_llm/cli/gen_config.py L29-L49 (required=True, choices=list(CONV_TEMPLATES))",
    ),
    Fact(
        "convert_weight requires --quantization and -o, and creates -o with parents",
        "python/mlc_llm/cli/convert_weight.py L31 (mkdir(parents=True)), L49, L83 (required)",
    ),
    Fact(
        "compile -o must name a file in an existing folder: 'Directory does not exist: <parent>'",
        "python/mlc_llm/cli/compile.py L30-L37 (_parse_output)",
    ),
    Fact(
        "--system-lib-prefix must match ^[a-zA-Z_][a-zA-Z0-9_]*$",
        "python/mlc_llm/cli/compile.py L47-L54 (_check_system_lib_prefix)",
    ),
    Fact(
        "an explicit system-lib prefix is kept only for --device iphone, macabi or android; "
        "'auto' gives f'{model_type}_{quantization}_' for iphone*/macabi*/android* presets",
        "python/mlc_llm/support/auto_target.py L384-L413 (detect_system_lib_prefix)",
    ),
    Fact(
        "overrides are 'k=v;k=v' over exactly eight keys; any other key makes argparse exit",
        "python/mlc_llm/interface/compiler_flags.py L140-L195 (ModelConfigOverride.from_str)",
    ),
    Fact(
        "an override the config class lacks is dropped with a warning; the config is rebuilt "
        "through from_dict, so __post_init__ runs again",
        "python/mlc_llm/support/config.py L90-L108 (ConfigOverrideBase.apply)",
    ),
    Fact(
        "Gemma2Config sets context_window_size = sliding_window after every override",
        "python/mlc_llm/model/gemma2/gemma2_model.py L35-L39 (__post_init__)",
    ),
    Fact(
        "Phi3Config has no sliding_window_size field: Phi-3's sliding_window is not used",
        "python/mlc_llm/model/phi3/phi3_model.py L24-L46 (Phi3Config fields)",
    ),
    Fact(
        "MistralConfig takes sliding_window_size (default: config.json sliding_window) and "
        "attention_sink_size (default 4); with a window the context is -1",
        "python/mlc_llm/model/mistral/mistral_model.py L36-L74",
    ),
    Fact(
        "LlamaConfig (and Qwen2, Phi3, Gemma, …) reset prefill_chunk_size > context to "
        "min(context, 8192)",
        "python/mlc_llm/model/llama/llama_model.py L89-L103",
    ),
    Fact(
        "Gemma3TextConfig sets context_window_size = max(sliding_window_size, 8192); the outer "
        "Gemma3Config keeps an overridden context",
        "python/mlc_llm/model/gemma3/gemma3_model.py L91-L93, L126-L129",
    ),
    Fact(
        "mlc_llm package: device in iphone/macabi/android; model, model_id, "
        "estimated_vram_bytes required; a local model needs bundle_weight true; model_lib "
        "found in model_lib_path_for_prepare_libs skips the JIT compile",
        "python/mlc_llm/interface/package.py L18, L51-L116",
    ),
    Fact(
        "compile output suffix: iphone/macabi/android(generic, adreno) .tar (static system "
        "lib), android:adreno-so .so, webgpu .wasm, mali .so, metal:x86-64 .dylib",
        "python/mlc_llm/support/auto_target.py L161-L310 (_build_* assert output.suffix)",
    ),
)


def library_suffix(preset: str) -> str:
    """The file suffix ``mlc_llm compile -o`` must use for a ``--device`` preset."""
    if preset in ("iphone", "macabi", "android") or preset in STATIC_LIB_PRESETS:
        return ".tar"
    if preset.startswith(("iphone:", "macabi:")):
        return ".tar"
    if preset.startswith("webgpu"):
        return ".wasm"
    if preset == "metal:x86-64":
        return ".dylib"
    if preset.startswith("windows"):
        return ".dll"
    return ".so"
