"""The family registry as data: one ``Family`` per model family, like mlc-llm's own ``MODELS``.

Each entry says how to read the family's config (keys, aliases, nested ``text_config``,
defaults), how its weights are laid out (``FamilyLayout``: names, biases, norms, MoE experts,
vision tower), how MLC compiles it (``MlcFacts``: the temporary-buffer op sequence, a static or
symbolic vocabulary in the lm_head, exported functions, forced contexts, window and sink
behaviour, the KV kind), the conversation template, the quantization kinds, and where each fact
comes from. Code elsewhere reads these fields; it never tests a family's name.

Sources: mlc-ai/mlc-llm at 79d603f ``python/mlc_llm/model/model.py`` (``MODELS``: the keys,
``make_quantization_functions`` flags) and ``python/mlc_llm/model/<dir>/<file>_model.py`` (the
config classes' ``__post_init__``, parameter declarations, ``get_default_spec``); apache/tvm
``src/relax/transform/static_plan_block_memory.cc`` for the planner replay. Checked against the
compiler itself (mlc-llm's pipeline up to ``AttachMetadataWithMemoryUsage`` on apache-tvm 0.26):
see docs/formulas.md#mlc-families and BENCHMARKS.md.
"""

from __future__ import annotations

from planner.families.blocks import (
    AWQ_PT,
    BLOCK,
    CLIP_NOTE,
    DEEPSEEK_MOE,
    GEMMA3_CONFIG,
    GEMMA3_LAYOUT,
    GEMMA3_MLC,
    GEMMA_NORMS,
    GPT2_LAYOUT,
    NO_FT,
    PHI_LAYOUT,
    PHI_MLC,
    QWEN3_MOE,
    TEXT_PRESETS,
    src,
)
from planner.families.registry_more import MORE_FAMILIES
from planner.families.types import (
    ALL_MLC_KINDS,
    BiasRule,
    ConfigKeys,
    Family,
    FamilyLayout,
    MlcFacts,
    MoeLayout,
    VisionLayout,
)

__all__ = [
    "ALIASES",
    "ALL_MLC_KINDS",
    "FAMILIES",
    "TEXT_PRESETS",
    "BiasRule",
    "ConfigKeys",
    "Family",
    "FamilyLayout",
    "MlcFacts",
    "MoeLayout",
    "VisionLayout",
    "family",
    "family_name",
]

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "llama",
            FamilyLayout(),
            MlcFacts(hidden_state_functions=True, quant_kinds=AWQ_PT),
            conv_template="llama-3",
            source=src("llama/llama_model.py"),
            notes=("lm_head declares the symbolic 'vocab_size': logits never counted",),
        ),
        Family(
            "mistral",
            FamilyLayout(tie="never"),
            MlcFacts(window="user", attention_sink=4),
            aliases=("mistral3",),
            conv_template="mistral_default",
            source=src("mistral/mistral_model.py"),
            notes=(
                "MistralConfig: sliding_window_size from config sliding_window (None: -1); "
                "with a window, context_window_size = -1 and prefill ≤ the window; "
                "attention_sink_size 4",
            ),
        ),
        Family(
            "ministral3",
            FamilyLayout(),
            MlcFacts(static_vocab="always", window="user", quant_kinds=BLOCK),
            config=ConfigKeys(text_config="top_wins"),
            conv_template="ministral3",
            source=src("ministral3/ministral3_model.py"),
            notes=(
                "Ministral3Config.from_dict merges text_config into the top level "
                "(top-level tie_word_embeddings and dtype win); static vocabulary",
            ),
        ),
        Family(
            "gemma",
            FamilyLayout(tie="always"),
            MlcFacts(pre="embed_scale", quant_kinds=NO_FT),
            config=ConfigKeys(head_dim_required=True),
            conv_template="gemma_instruction",
            source=src("gemma/gemma_model.py"),
            notes=("input_embed * sqrt(hidden) is an extra [n, h] kernel in every function",),
        ),
        Family(
            "gemma2",
            FamilyLayout(layer_norms=GEMMA_NORMS, tie="always"),
            MlcFacts(
                graph="sandwich_norm",
                pre="embed_scale",
                window="forced_context",
                quant_kinds=NO_FT,
            ),
            config=ConfigKeys(
                head_dim_required=True, facts=("sliding_window",), window_pattern="alternate"
            ),
            conv_template="gemma_instruction",
            source=src("gemma2/gemma2_model.py"),
            notes=(
                "Gemma2Config.__post_init__: context_window_size = sliding_window after the "
                "prefill clamp (every layer full attention; user context overrides discarded)",
            ),
        ),
        Family(
            "gemma3",
            GEMMA3_LAYOUT,
            GEMMA3_MLC,
            config=GEMMA3_CONFIG,
            aliases=("gemma3_text",),
            conv_template="gemma3_instruction",
            source=src("gemma3/gemma3_model.py"),
            notes=(
                "Gemma3TextConfig: context_window_size = max(sliding_window, 8192) by default; "
                "create_paged_kv_cache marks 5 of 6 layers mha_sliding but the page pool holds "
                "every layer",
            ),
        ),
        Family(
            "gemma3_text",
            GEMMA3_LAYOUT,
            GEMMA3_MLC,
            config=GEMMA3_CONFIG,
            conv_template="gemma3_instruction",
            source=src("gemma3/gemma3_model.py"),
            notes=("same classes as gemma3 (the gemma3_1b_it preset's key)",),
        ),
        Family(
            "gpt2",
            GPT2_LAYOUT,
            MlcFacts(pre="position_embedding", kv_report=False),
            config=ConfigKeys(context=("n_positions", "max_sequence_length")),
            conv_template="gpt2",
            source=src("gpt2/gpt2_model.py"),
            notes=("wpe has context_window_size rows (changes with the context)",),
        ),
        Family(
            "gpt_bigcode",
            FamilyLayout(
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
                position_embedding="n_positions",
            ),
            MlcFacts(pre="position_embedding"),
            config=ConfigKeys(
                kv_heads=(),
                single_kv_head="multi_query",
                context=("n_positions",),
                facts=("multi_query", "n_positions"),
            ),
            conv_template="gpt_bigcode",
            source=src("gpt_bigcode/gpt_bigcode_model.py"),
            notes=("multi_query (default true): one KV head",),
        ),
        Family(
            "gpt_neox",
            FamilyLayout(
                embed="gpt_neox.embed_in",
                layer="gpt_neox.layers.{i}.",
                qkv="attention.query_key_value",
                o="attention.dense",
                up="mlp.dense_h_to_4h",
                down="mlp.dense_4h_to_h",
                norms_first=True,
                final_norm="gpt_neox.final_layer_norm",
                lm_head="embed_out",
                norm="layer",
                norm_bias=True,
                qkv_bias=True,
                o_bias=True,
                mlp_bias=True,
                mlp_bias_dtype="float32",
                gated_mlp=False,
                tie="never",
            ),
            MlcFacts(graph="gpt_neox"),
            config=ConfigKeys(facts=("use_parallel_residual",)),
            conv_template="redpajama_chat",
            source=src("gpt_neox/gpt_neox_model.py"),
            notes=("MLP out_dtype float32: biases float32 under group quantization",),
        ),
        Family(
            "phi-msft",
            PHI_LAYOUT,
            MlcFacts(
                graph="parallel",
                head="none",
                norm_after_index=True,
                prefill_cap=None,
                batch_bound=1,
                kv_report=False,
            ),
            config=ConfigKeys(
                defaults=(
                    ("n_embd", 2560),
                    ("n_layer", 32),
                    ("n_head", 32),
                    ("vocab_size", 51200),
                    ("n_positions", 2048),
                ),
            ),
            aliases=("mixformer-sequential",),
            conv_template="phi-2",
            source=src("phi/phi_model.py"),
            notes=(
                "PhiConfig has no max_batch_size field: the compile bound on batch_size is 1",
                "prefill_chunk_size = min(prefill or context, context) (no 8192 cap)",
            ),
        ),
        Family(
            "phi",
            PHI_LAYOUT,
            PHI_MLC,
            conv_template="phi-2",
            source=src("phi/phi_model.py"),
            notes=("Phi1Config converted by PhiConfig.from_phi1",),
        ),
        Family(
            "phi3",
            FamilyLayout(),
            MlcFacts(static_vocab="when_tied"),
            config=ConfigKeys(window_pattern="below_max"),
            ort_fused_gate_up=True,
            conv_template="phi-3",
            source=src("phi3/phi3_model.py"),
            notes=(
                "Phi3Config has no sliding_window field: a config's sliding_window is ignored",
                "tied: the embedding has config.vocab_size (static logits); untied: symbolic",
            ),
        ),
        Family(
            "phi3_v",
            FamilyLayout(
                embed="model.embd",
                layer="model.h.{i}.",
                qkv="mixer.qkv_proj",
                o="mixer.out_proj",
                layer_norms=("ln", "post_attention_layernorm"),
                vision=VisionLayout(
                    prefix="vision_embed_tokens.img_processor.",
                    config_block="",
                    projector="vision_embed_tokens.img_projection.",
                    extra_params=(
                        ("vision_embed_tokens.glb_GN", (1, 1, -1)),
                        ("vision_embed_tokens.sub_GN", (1, 1, 1, -1)),
                    ),
                    crops=17,
                    projector_in_mult=4,
                    source=src("phi3v/phi3v_image.py"),
                ),
            ),
            MlcFacts(confidence="params_exact"),
            conv_template="phi-3-vision",
            source=src("phi3v/phi3v_model.py"),
            notes=(CLIP_NOTE,),
        ),
        Family(
            "qwen",
            FamilyLayout(
                embed="transformer.wte",
                layer="transformer.h.{i}.",
                qkv="attn.c_attn",
                o="attn.c_proj",
                down="mlp.c_proj",
                layer_norms=("ln_1", "ln_2"),
                final_norm="transformer.ln_f",
                qkv_bias=True,
                tie="never",
            ),
            MlcFacts(static_vocab="always"),
            config=ConfigKeys(head_dim=("kv_channels",), kv_heads=(), intermediate_divisor=2),
            conv_template="chatml",
            source=src("qwen/qwen_model.py"),
            notes=("QWenConfig: head_dim = kv_channels; the MLP is intermediate_size // 2",),
        ),
        Family(
            "qwen2",
            FamilyLayout(qkv="self_attn.c_attn", qkv_bias=True),
            MlcFacts(static_vocab="always"),
            config=ConfigKeys(window_pattern="flagged"),
            conv_template="qwen2",
            source=src("qwen2/qwen2_model.py"),
        ),
        Family(
            "qwen2_moe",
            FamilyLayout(
                qkv="self_attn.c_attn",
                qkv_bias=True,
                tie="never",
                moe=MoeLayout(
                    experts_key="num_experts",
                    shared_inter_key="shared_expert_intermediate_size",
                    shared_gate=True,
                    sparse_step_key="decoder_sparse_step",
                    source=src("qwen2_moe/qwen2_moe_model.py"),
                ),
            ),
            MlcFacts(static_vocab="always", confidence="params_exact"),
            config=ConfigKeys(window_pattern="flagged"),
            conv_template="qwen2",
            source=src("qwen2_moe/qwen2_moe_model.py"),
        ),
        Family(
            "qwen3",
            FamilyLayout(
                qkv="self_attn.c_attn",
                qk_norm="per_head",
                bias_rules=(BiasRule("attention_bias", False, ("qkv",)),),
            ),
            # Qwen3Config: prefill_chunk_size defaults to min(context, 2048), not 8192.
            MlcFacts(static_vocab="always", quant_kinds=BLOCK, prefill_cap=2048),
            config=ConfigKeys(window_pattern="flagged"),
            aliases=("qwen3_text",),
            conv_template="qwen3",
            source=src("qwen3/qwen3_model.py"),
        ),
        Family(
            "qwen3_moe",
            FamilyLayout(
                qkv="self_attn.c_attn",
                qk_norm="per_head",
                tie="never",
                bias_rules=(BiasRule("attention_bias", False, ("qkv",)),),
                moe=QWEN3_MOE,
            ),
            MlcFacts(
                static_vocab="always", confidence="source", quant_kinds=BLOCK, prefill_cap=2048
            ),
            config=ConfigKeys(window_pattern="flagged"),
            conv_template="qwen3",
            source=src("qwen3_moe/qwen3_moe_model.py"),
        ),
        Family(
            "qwen3_5",
            mlc=MlcFacts(
                plannable="hybrid gated-delta-net linear attention (RNN state per layer) is "
                "not modelled",
                kv="hybrid",
                prefill_cap=2048,
            ),
            conv_template="qwen3_5",
            source=src("qwen35/qwen35_model.py"),
        ),
        Family(
            "qwen3_5_text",
            mlc=MlcFacts(
                plannable="hybrid gated-delta-net linear attention (RNN state per layer) is "
                "not modelled",
                kv="hybrid",
                prefill_cap=2048,
            ),
            conv_template="qwen3_5",
            source=src("qwen35/qwen35_model.py"),
        ),
        Family(
            "lfm2",
            mlc=MlcFacts(
                plannable="LFM2's short-convolution layers have no MLC model and no weight "
                "layout here; plan its ONNX export (onnxruntime reads the graph)",
            ),
            notes=(
                "onnxruntime-genai builds it (Lfm2ForCausalLM); planner plans the ONNX graph, "
                "whose CausalConvWithState blocks it counts (docs/onnxruntime-model.md)",
            ),
        ),
        Family(
            "lfm2_moe",
            mlc=MlcFacts(
                plannable="LFM2-MoE's short-convolution layers and experts have no MLC model "
                "and no weight layout here; plan its ONNX export (onnxruntime reads the graph)",
            ),
            notes=(
                "onnxruntime-genai builds it (Lfm2MoeForCausalLM, MoE / QMoE experts); planner "
                "plans the ONNX graph (BENCHMARKS.md §2, 'A family never measured')",
            ),
        ),
        Family(
            "deepseek_v2",
            FamilyLayout(special="mla", tie="never", moe=DEEPSEEK_MOE),
            MlcFacts(
                graph="mla",
                static_vocab="always",
                kv="mla",
                confidence="params_exact",
                prefill_cap=2048,
            ),
            config=ConfigKeys(
                facts=(
                    "kv_lora_rank",
                    "q_lora_rank",
                    "qk_rope_head_dim",
                    "qk_nope_head_dim",
                    "v_head_dim",
                )
            ),
            conv_template="deepseek_v2",
            source=src("deepseek_v2/deepseek_v2_model.py"),
            notes=("MLA: the KV cache holds one kv_lora_rank + qk_rope_head_dim latent",),
        ),
        Family(
            "deepseek_v3",
            FamilyLayout(special="mla", tie="never", moe=DEEPSEEK_MOE),
            MlcFacts(
                graph="mla",
                static_vocab="always",
                kv="mla",
                confidence="source",
                quant_kinds=BLOCK,
                prefill_cap=2048,
            ),
            config=ConfigKeys(
                facts=(
                    "kv_lora_rank",
                    "q_lora_rank",
                    "qk_rope_head_dim",
                    "qk_nope_head_dim",
                    "v_head_dim",
                )
            ),
            conv_template="deepseek_v3",
            source=src("deepseek_v2/deepseek_v2_model.py"),
        ),
        *MORE_FAMILIES,
    )
}
"""Every family planner knows; those with a ``layout`` can be planned from a config alone."""


def _alias_map() -> dict[str, str]:
    out: dict[str, str] = {}
    for f in FAMILIES.values():
        for alias in f.aliases:
            out[alias] = f.name
    return out


ALIASES: dict[str, str] = _alias_map()
"""Hugging Face ``model_type`` → planner family name."""


def family(name: str) -> Family:
    """The registry entry for ``name``; unknown families get the defaults (nothing special)."""
    return FAMILIES.get(name) or FAMILIES.get(ALIASES.get(name, "")) or Family(name)


def family_name(model_type: str) -> str:
    """The family a Hugging Face ``model_type`` is read as."""
    return ALIASES.get(model_type, model_type)
