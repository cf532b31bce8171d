"""The family registry: everything planner knows about a model family, in one place (data).

Like mlc-llm's own ``MODELS`` registry, each entry is a ``Family``: the weight layout
(``FamilyLayout``: biases, norms, gated MLP, q/k norms, tying rules), how MLC's model definition
behaves for memory (static vocabulary in the lm_head, extra ``*_to_last_hidden_states``
functions, sliding-window support), which quantization kinds MLC offers, how the
onnxruntime-genai builder exports it, the conversation template ``gen_config`` needs, and the
source of each fact. Everything family-specific reads from here: ``param_groups`` lays out the
weights for a quantization the user has not converted to yet, the runtimes read the flags.

Sources: mlc-ai/mlc-llm ``python/mlc_llm/model/<family>/<family>_model.py`` (layouts, lm_head
vocabulary, exported functions), ``python/mlc_llm/model/model.py`` +
``quantization/model_quantization.py`` (quantization kinds), Hugging Face ``transformers``
(names only); see docs/formulas.md#weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from planner.errors import UnsupportedArtifactError
from planner.spec import ModelSpec


class ParamKind(str, Enum):
    """How a tensor is treated by quantization schemes."""

    EMBEDDING = "embedding"
    LM_HEAD = "lm_head"
    LINEAR = "linear"
    NORM = "norm"
    BIAS = "bias"


@dataclass(frozen=True, slots=True)
class ParamGroup:
    """``count`` tensors of one shape. Linear shapes are (out_features, in_features)."""

    name: str
    kind: ParamKind
    shape: tuple[int, ...]
    count: int = 1

    @property
    def numel(self) -> int:
        """Elements in all ``count`` tensors."""
        return math.prod(self.shape) * self.count


@dataclass(frozen=True, slots=True)
class FamilyLayout:
    """The structural switches that tell families' weights apart."""

    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    gated_mlp: bool = True
    norm_bias: bool = False
    norms_per_layer: int = 2
    qk_norm: str | None = None
    """``per_head`` (qwen3, gemma3: weight of head_dim) or ``full`` (olmo2: heads×head_dim)."""
    lm_head_bias: bool = False
    always_tied: bool = False
    never_tied: bool = False


ALL_MLC_KINDS = frozenset({"no-quant", "group-quant", "ft-quant"})
"""Quantization kinds every MLC model gets (mlc-llm model.py: no-quant, group-quant, ft-quant)."""


@dataclass(frozen=True, slots=True)
class Family:
    """One model family as planner knows it."""

    name: str
    layout: FamilyLayout | None = None
    """The weight layout; None when planner cannot lay the weights out from a config (the
    artifact must carry them)."""
    mlc_static_vocab: bool = False
    """MLC's lm_head declares the vocabulary as a constant (``config.vocab_size``) instead of the
    symbolic ``"vocab_size"``, so the compiler plans (and counts) the float32 logits."""
    mlc_static_vocab_when_tied: bool = False
    """Only a tied lm_head (the embedding's) has the constant vocabulary (phi3)."""
    mlc_hidden_state_functions: bool = False
    """MLC also exports ``*_to_last_hidden_states`` (EAGLE speculative decoding)."""
    mlc_sliding_window: bool = False
    """MLC's config class takes ``sliding_window_size``."""
    mlc_quant_kinds: frozenset[str] = ALL_MLC_KINDS
    """Kinds MLC's ``QUANTIZATION`` offers for this family (model.py, model_quantization.py)."""
    ort_fused_gate_up: bool = False
    """The onnxruntime-genai builder exports a fused gate_up projection."""
    conv_template: str | None = None
    """The ``--conv-template`` MLC's presets use for this family's chat models."""
    source: str = ""

    @property
    def qk_norm(self) -> bool:
        """q and k are normalised per head before attention (split, two norms, concat)."""
        return self.layout is not None and self.layout.qk_norm is not None

    @property
    def gated_mlp(self) -> bool:
        """The MLP is gated (gate_up → SiLU·mul → down) rather than up → act → down."""
        return self.layout is None or self.layout.gated_mlp


_NO_FT = ALL_MLC_KINDS - {"ft-quant"}
_MODEL = "mlc-llm python/mlc_llm/model/{}/{}_model.py"


def _f(name: str, layout: FamilyLayout | None = None, **facts: object) -> Family:
    src = str(facts.pop("source", _MODEL.format(name, name)))
    return Family(name, layout, source=src, **facts)  # type: ignore[arg-type]


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        _f(
            "llama",
            FamilyLayout(),
            mlc_hidden_state_functions=True,
            mlc_quant_kinds=ALL_MLC_KINDS | {"awq", "per-tensor-quant"},
            conv_template="llama-3",
        ),
        _f(
            "mistral",
            FamilyLayout(never_tied=True),
            mlc_sliding_window=True,
            conv_template="mistral_default",
        ),
        _f("qwen2", FamilyLayout(qkv_bias=True), mlc_static_vocab=True, conv_template="qwen2"),
        _f(
            "qwen3",
            FamilyLayout(qk_norm="per_head"),
            mlc_static_vocab=True,
            mlc_hidden_state_functions=True,
            mlc_quant_kinds=ALL_MLC_KINDS | {"block-scale-quant"},
            conv_template="qwen3",
        ),
        _f(
            "phi3",
            FamilyLayout(),
            mlc_static_vocab_when_tied=True,
            ort_fused_gate_up=True,
            conv_template="phi-3",
        ),
        _f(
            "gemma",
            FamilyLayout(always_tied=True),
            mlc_quant_kinds=_NO_FT,
            conv_template="gemma_instruction",
        ),
        _f(
            "gemma2",
            FamilyLayout(always_tied=True, norms_per_layer=4),
            mlc_quant_kinds=_NO_FT,
            conv_template="gemma_instruction",
        ),
        _f(
            "gemma3",
            FamilyLayout(always_tied=True, norms_per_layer=4, qk_norm="per_head"),
            mlc_sliding_window=True,
            mlc_quant_kinds=_NO_FT,
            conv_template="gemma3_instruction",
        ),
        _f(
            "gemma3_text",
            FamilyLayout(always_tied=True, norms_per_layer=4, qk_norm="per_head"),
            mlc_sliding_window=True,
            mlc_quant_kinds=_NO_FT,
            conv_template="gemma3_instruction",
            source=_MODEL.format("gemma3", "gemma3"),
        ),
        _f(
            "olmo2",
            FamilyLayout(qk_norm="full"),
            mlc_hidden_state_functions=True,
            mlc_quant_kinds=ALL_MLC_KINDS | {"per-tensor-quant"},
            conv_template="olmo2",
        ),
        _f("stablelm", FamilyLayout(norm_bias=True), conv_template="stablelm-2"),
        _f(
            "gpt_neox",
            FamilyLayout(
                qkv_bias=True,
                o_bias=True,
                mlp_bias=True,
                gated_mlp=False,
                norm_bias=True,
                never_tied=True,
            ),
            conv_template="redpajama_chat",
        ),
        _f(
            "phi",
            FamilyLayout(
                qkv_bias=True,
                o_bias=True,
                mlp_bias=True,
                gated_mlp=False,
                norm_bias=True,
                norms_per_layer=1,
                lm_head_bias=True,
                never_tied=True,
            ),
            conv_template="phi-2",
        ),
        _f(
            "starcoder2",
            FamilyLayout(
                qkv_bias=True, o_bias=True, mlp_bias=True, gated_mlp=False, norm_bias=True
            ),
        ),
        _f("internlm2", FamilyLayout()),
        _f("minicpm", FamilyLayout()),
        _f("cohere", FamilyLayout(norms_per_layer=1)),
        # Families MLC knows whose weights planner cannot yet lay out from a config alone.
        _f(
            "ministral3",
            mlc_sliding_window=True,
            mlc_quant_kinds=ALL_MLC_KINDS | {"block-scale-quant"},
        ),
        _f("mixtral", mlc_quant_kinds=ALL_MLC_KINDS | {"awq", "per-tensor-quant"}),
        _f("llava", mlc_quant_kinds=(ALL_MLC_KINDS - {"ft-quant"}) | {"awq"}),
        _f("eagle", mlc_hidden_state_functions=True, mlc_quant_kinds=ALL_MLC_KINDS | {"awq"}),
        _f(
            "olmo",
            mlc_hidden_state_functions=True,
            mlc_quant_kinds=ALL_MLC_KINDS | {"awq", "per-tensor-quant"},
        ),
        _f(
            "nemotron",
            mlc_hidden_state_functions=True,
            mlc_quant_kinds=ALL_MLC_KINDS | {"awq", "per-tensor-quant"},
        ),
        _f(
            "llama4",
            mlc_hidden_state_functions=True,
            mlc_quant_kinds=ALL_MLC_KINDS | {"per-tensor-quant"},
        ),
        _f("qwen2_moe", mlc_static_vocab=True),
        _f(
            "qwen3_moe",
            mlc_static_vocab=True,
            mlc_quant_kinds=ALL_MLC_KINDS | {"block-scale-quant"},
        ),
        _f("qwen3-embedding", mlc_quant_kinds=ALL_MLC_KINDS | {"block-scale-quant"}),
        _f("deepseek_v3", mlc_quant_kinds=ALL_MLC_KINDS | {"block-scale-quant"}),
        _f("orion", mlc_quant_kinds=_NO_FT),
        _f("rwkv6", mlc_quant_kinds=_NO_FT),
        _f("chatglm", mlc_quant_kinds=_NO_FT),
        _f("medusa", mlc_quant_kinds=frozenset({"no-quant"})),
    )
}
"""Every family planner knows; those with a ``layout`` can be planned from a config alone."""


def family(name: str) -> Family:
    """The registry entry for ``name``; unknown families get the defaults (nothing special)."""
    return FAMILIES.get(name) or Family(name)


def family_layout(architecture: str) -> FamilyLayout:
    """The weight layout of a family, or a clear error listing the supported ones."""
    layout = family(architecture).layout
    if layout is None:
        known = ", ".join(sorted(n for n, f in FAMILIES.items() if f.layout is not None))
        raise UnsupportedArtifactError(
            f"cannot lay out weights for model family {architecture!r} from its config; "
            f"supported: {known}",
            hint="use an artifact that carries its weights "
            "(ONNX, MLC tensor-cache.json, safetensors)",
        )
    return layout


def is_tied(spec: ModelSpec) -> bool:
    """Whether the lm_head reuses the embedding, as the family's MLC definition decides."""
    layout = family_layout(spec.architecture)
    if layout.always_tied:
        return True
    if layout.never_tied:
        return False
    return spec.tie_word_embeddings


def param_groups(spec: ModelSpec) -> tuple[ParamGroup, ...]:
    """Every weight tensor of a dense decoder of this family, grouped by shape."""
    lay = family_layout(spec.architecture)
    h, L = spec.hidden_size, spec.num_layers
    q = spec.num_attention_heads * spec.head_dim
    kv = spec.num_kv_heads * spec.head_dim
    inter = spec.intermediate_size if spec.intermediate_size else 4 * h
    groups = [
        ParamGroup("embed_tokens", ParamKind.EMBEDDING, (spec.vocab_size, h)),
        ParamGroup("qkv_proj", ParamKind.LINEAR, (q + 2 * kv, h), L),
        ParamGroup("o_proj", ParamKind.LINEAR, (h, q), L),
        ParamGroup(
            "up_proj" if not lay.gated_mlp else "gate_up_proj",
            ParamKind.LINEAR,
            ((2 if lay.gated_mlp else 1) * inter, h),
            L,
        ),
        ParamGroup("down_proj", ParamKind.LINEAR, (h, inter), L),
        ParamGroup(
            "layer_norms",
            ParamKind.NORM,
            (h,),
            L * lay.norms_per_layer * (2 if lay.norm_bias else 1),
        ),
        ParamGroup("final_norm", ParamKind.NORM, (h,), 2 if lay.norm_bias else 1),
    ]
    if lay.qkv_bias or dict(spec.extra).get("use_qkv_bias") == "true":
        # StableLM-2 and others switch the QKV bias on in config.json (use_qkv_bias).
        groups.append(ParamGroup("qkv_bias", ParamKind.BIAS, (q + 2 * kv,), L))
    if lay.o_bias:
        groups.append(ParamGroup("o_bias", ParamKind.BIAS, (h,), L))
    if lay.mlp_bias:
        groups.append(ParamGroup("mlp_bias", ParamKind.BIAS, (inter + h,), L))
    if lay.qk_norm == "per_head":
        groups.append(ParamGroup("qk_norm", ParamKind.NORM, (spec.head_dim,), 2 * L))
    elif lay.qk_norm == "full":
        groups.append(ParamGroup("qk_norm", ParamKind.NORM, (q + kv,), L))
    if not is_tied(spec):
        groups.append(ParamGroup("lm_head", ParamKind.LM_HEAD, (spec.vocab_size, h)))
        if lay.lm_head_bias:
            groups.append(ParamGroup("lm_head_bias", ParamKind.BIAS, (spec.vocab_size,)))
    return tuple(groups)


def param_count(spec: ModelSpec) -> int:
    """Parameters of the dense model (tied embeddings counted once)."""
    return sum(g.numel for g in param_groups(spec))
