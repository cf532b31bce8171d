"""Building blocks shared by several family entries, and the text-model presets LLaVA
falls back to (data only; see ``registry.py``)."""

from __future__ import annotations

from planner.families.types import (
    ALL_MLC_KINDS,
    ConfigKeys,
    FamilyLayout,
    MlcFacts,
    MoeLayout,
)

NO_FT = ALL_MLC_KINDS - {"ft-quant"}
AWQ_PT = ALL_MLC_KINDS | {"awq", "per-tensor-quant"}
BLOCK = ALL_MLC_KINDS | {"block-scale-quant"}

MODEL = "mlc-llm python/mlc_llm/model/"


def src(path: str) -> str:
    return MODEL + path


# Layout building blocks shared by several families.
PHI_LAYOUT = FamilyLayout(
    embed="transformer.embd",
    layer="transformer.h.{i}.",
    qkv="mixer.Wqkv",
    o="mixer.out_proj",
    up="mlp.fc1",
    down="mlp.fc2",
    layer_norms=("ln",),
    norms_first=True,
    final_norm=None,
    lm_head="lm_head.linear",
    lm_head_norm="lm_head.ln",
    norm="layer",
    norm_bias=True,
    qkv_bias=True,
    o_bias=True,
    mlp_bias=True,
    gated_mlp=False,
    lm_head_bias=True,
    tie="never",
)
PHI_MLC = MlcFacts(
    graph="parallel",
    head="none",
    norm_after_index=True,
    prefill_cap=None,
)
GPT2_LAYOUT = FamilyLayout(
    embed="transformer.wte",
    layer="transformer.h.{i}.",
    qkv="attn.c_attn",
    o="attn.c_proj",
    up="mlp.c_fc",
    down="mlp.c_proj",
    layer_norms=("ln_1", "ln_2"),
    final_norm="transformer.ln_f",
    norm="layer",
    norm_bias=True,
    qkv_bias=True,
    o_bias=True,
    mlp_bias=True,
    gated_mlp=False,
    tie="never",
    position_embedding="context",
)
GEMMA_NORMS = (
    "input_layernorm",
    "post_attention_layernorm",
    "pre_feedforward_layernorm",
    "post_feedforward_layernorm",
)
GEMMA3_CONFIG = ConfigKeys(
    text_config="nested",
    defaults=(
        ("num_attention_heads", 8),
        ("num_key_value_heads", 4),
        ("head_dim", 256),
        ("vocab_size", 262208),
        ("max_position_embeddings", 131072),
    ),
    facts=("sliding_window", "sliding_window_size", "sliding_window_pattern"),
    window_pattern="every_nth_global",
)
GEMMA3_LAYOUT = FamilyLayout(
    embed="language_model.model.embed_tokens",
    layer="language_model.model.layers.{i}.",
    final_norm="language_model.model.norm",
    qkv_split=("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"),
    layer_norms=GEMMA_NORMS,
    qk_norm="per_head",
    tie="always",
)
GEMMA3_MLC = MlcFacts(
    graph="sandwich_norm",
    pre="embed_scale",
    window="fixed_pattern",
    default_context_floor=8192,
    kv_report=False,
    quant_kinds=NO_FT,
)
QWEN3_MOE = MoeLayout(
    experts_key="num_experts",
    sparse_step_key="decoder_sparse_step",
    source=src("qwen3_moe/qwen3_moe_model.py"),
)
DEEPSEEK_MOE = MoeLayout(
    experts_key="n_routed_experts",
    shared_inter_key="moe_intermediate_size",
    shared_count_key="n_shared_experts",
    first_dense_key="first_k_dense_replace",
    freq_key="moe_layer_freq",
    shared="mlp.shared_experts",
    source=src("deepseek/deepseek_model.py"),
)
CLIP_NOTE = (
    "vision tower: CLIP ViT weights unquantized (vision/clip_vision.py CLIPVisionModel."
    "no_quantization); image_embed temp is a source-only estimate"
)

_LLAMA2_7B = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 32,
    "max_position_embeddings": 4096,
    "vocab_size": 32000,
}
TEXT_PRESETS: dict[str, dict[str, object]] = {
    "meta-llama/Llama-2-7b-hf": _LLAMA2_7B,
    "lmsys/vicuna-7b-v1.5": _LLAMA2_7B,
    "meta-llama/Llama-2-13b-hf": {
        **_LLAMA2_7B,
        "hidden_size": 5120,
        "intermediate_size": 13824,
        "num_attention_heads": 40,
        "num_hidden_layers": 40,
        "num_key_value_heads": 40,
    },
    "mistralai/Mistral-7B-v0.1": {
        "architectures": ["MistralForCausalLM"],
        "model_type": "mistral",
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": 8,
        "max_position_embeddings": 32768,
        "sliding_window": 4096,
        "vocab_size": 32000,
    },
}
"""llava_model.py ``LlavaConfig.get_hf_config``'s fallback: ``_name_or_path`` → the
``MODEL_PRESETS`` entry (model/model_preset.py llama2_7b, llama2_13b, mistral_7b)."""
