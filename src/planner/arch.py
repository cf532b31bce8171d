"""Architecture registry: the parameter tensors of each supported model family.

Given a spec's dimensions this lists every weight tensor as MLC and Hugging Face lay it out
(fused or not does not change bytes: group quantization groups along the input dim), so
weights can be computed for a quantization the user has not converted to yet. Pure data.
Family layouts follow the model definitions in mlc-ai/mlc-llm ``python/mlc_llm/model/<family>``
and Hugging Face ``transformers`` (names only; see docs/formulas.md#weights).
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
    """The structural switches that tell families apart."""

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


FAMILIES: dict[str, FamilyLayout] = {
    "llama": FamilyLayout(),
    "mistral": FamilyLayout(never_tied=True),
    "qwen2": FamilyLayout(qkv_bias=True),
    "qwen3": FamilyLayout(qk_norm="per_head"),
    "phi3": FamilyLayout(),
    "gemma": FamilyLayout(always_tied=True),
    "gemma2": FamilyLayout(always_tied=True, norms_per_layer=4),
    "gemma3": FamilyLayout(always_tied=True, norms_per_layer=4, qk_norm="per_head"),
    "gemma3_text": FamilyLayout(always_tied=True, norms_per_layer=4, qk_norm="per_head"),
    "olmo2": FamilyLayout(qk_norm="full"),
    "stablelm": FamilyLayout(norm_bias=True),
    "gpt_neox": FamilyLayout(
        qkv_bias=True, o_bias=True, mlp_bias=True, gated_mlp=False, norm_bias=True, never_tied=True
    ),
    "phi": FamilyLayout(
        qkv_bias=True,
        o_bias=True,
        mlp_bias=True,
        gated_mlp=False,
        norm_bias=True,
        norms_per_layer=1,
        lm_head_bias=True,
        never_tied=True,
    ),
    "starcoder2": FamilyLayout(
        qkv_bias=True, o_bias=True, mlp_bias=True, gated_mlp=False, norm_bias=True
    ),
    "internlm2": FamilyLayout(),
    "minicpm": FamilyLayout(),
    "cohere": FamilyLayout(norms_per_layer=1),
}
"""Families planner can lay out from a config alone. Others need weights in the artifact."""


def family_layout(architecture: str) -> FamilyLayout:
    """The layout of a family, or a clear error listing the supported ones."""
    try:
        return FAMILIES[architecture]
    except KeyError:
        known = ", ".join(sorted(FAMILIES))
        raise UnsupportedArtifactError(
            f"cannot lay out weights for model family {architecture!r} from its config; "
            f"supported: {known}",
            hint="use an artifact that carries its weights "
            "(ONNX, MLC tensor-cache.json, safetensors)",
        ) from None


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
