"""Weight layouts: every parameter a family's MLC model declares, from the registry (pure).

``params(spec)`` lists the unquantized parameters in MLC's declaration order, with MLC's names
(mlc-llm 79d603f model definitions; checked name by name against the compiler's own parameter
lists, see docs/formulas.md#mlc-families). A Linear carries its bias; ``quantize`` is False
where MLC keeps a tensor in the model dtype (MoE gates: ``quantization/utils.py is_moe_gate``;
the CLIP vision tower: ``no_quantization``). ``param_groups`` aggregates them by shape for the
runtimes that only need sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from planner.errors import UnsupportedArtifactError
from planner.families.config import fact, fact_bool, fact_int
from planner.families.registry import FAMILIES, FamilyLayout, MoeLayout, VisionLayout, family
from planner.spec import ModelSpec

FINAL_FC_NAMES = frozenset({"head", "lm_head", "lm_head.linear", "embed_out"})
"""mlc-llm ``quantization/utils.py is_final_fc``: heads q4f16_2 keeps in float."""


class ParamKind(str, Enum):
    """How a tensor is treated by quantization schemes."""

    EMBEDDING = "embedding"
    LM_HEAD = "lm_head"
    LINEAR = "linear"
    EXPERTS = "experts"
    """(experts, out, in): group-quantized per expert like a Linear."""
    NORM = "norm"
    BIAS = "bias"
    RAW = "raw"
    """Kept as is in the model dtype (or ``dtype``): gates, CLIP tower, MLA's w_uk/w_uv."""


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter tensor as the MLC model declares it (before quantization)."""

    name: str
    kind: ParamKind
    shape: tuple[int, ...]
    bias: bool = False
    bias_dtype: str | None = None
    dtype: str | None = None
    """Fixed dtype (None: the scheme's model dtype)."""

    @property
    def numel(self) -> int:
        """Elements of the weight (bias not included)."""
        return math.prod(self.shape)

    @property
    def final_fc(self) -> bool:
        """MLC's quantize_final_fc switch applies to this tensor."""
        return self.name in FINAL_FC_NAMES


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


def family_layout(architecture: str) -> FamilyLayout:
    """The weight layout of a family, or a clear error listing the supported ones."""
    fam = family(architecture)
    layout = fam.layout
    if layout is None:
        known = ", ".join(sorted(n for n, f in FAMILIES.items() if f.layout is not None))
        why = fam.mlc.plannable if architecture in FAMILIES else "unknown to planner"
        raise UnsupportedArtifactError(
            f"cannot lay out weights for model family {architecture!r} ({why}); supported: {known}",
            hint="use an artifact that carries its weights "
            "(ONNX, MLC tensor-cache.json, safetensors)",
        )
    return layout


def is_tied(spec: ModelSpec) -> bool:
    """Whether the lm_head reuses the embedding, as the family's MLC definition decides."""
    tie = family_layout(spec.architecture).tie
    if tie == "always":
        return True
    if tie == "never":
        return False
    return spec.tie_word_embeddings


def _biases(spec: ModelSpec, lay: FamilyLayout) -> dict[str, bool]:
    on = {"qkv": lay.qkv_bias, "o": lay.o_bias, "mlp": lay.mlp_bias}
    for rule in lay.bias_rules:
        if fact_bool(spec, rule.key, rule.default):
            for t in rule.targets:
                on[t] = True
    return on


def _norm(name: str, width: int, lay: FamilyLayout) -> list[Param]:
    if not lay.norm_params:
        return []
    out = [Param(f"{name}.weight", ParamKind.NORM, (width,))]
    if lay.norm_bias:
        out.append(Param(f"{name}.bias", ParamKind.NORM, (width,)))
    return out


def moe_layer(spec: ModelSpec, moe: MoeLayout, i: int) -> bool:
    """Whether layer ``i`` has the MoE MLP (deepseek keeps the first k dense; qwen2_moe's
    decoder_sparse_step)."""
    first = fact_int(spec, moe.first_dense_key, 0)
    if moe.first_dense_key is not None:
        return i >= first and i % max(1, fact_int(spec, moe.freq_key, 1)) == 0
    if moe.sparse_step_key is not None:
        return (i + 1) % max(1, fact_int(spec, moe.sparse_step_key, 1)) == 0
    return True


def moe_shared_inter(spec: ModelSpec, moe: MoeLayout) -> int:
    """Width of the shared expert MLP (0 when none)."""
    if moe.shared_inter_key is None:
        return 0
    width = fact_int(spec, moe.shared_inter_key, 0)
    if moe.shared_count_key is not None:
        width *= fact_int(spec, moe.shared_count_key, 0)
    return width


def _attention(spec: ModelSpec, lay: FamilyLayout, p: str, b: dict[str, bool]) -> list[Param]:
    h = spec.hidden_size
    q = spec.num_attention_heads * spec.head_dim
    kv = spec.num_kv_heads * spec.head_dim
    out: list[Param] = []
    if lay.special == "mla":
        return _mla(spec, p)
    if lay.qkv_split is not None:
        for name, width in zip(lay.qkv_split, (q, kv, kv), strict=True):
            out.append(Param(p + name, ParamKind.LINEAR, (width, h), bias=b["qkv"]))
    else:
        out.append(Param(p + lay.qkv, ParamKind.LINEAR, (q + 2 * kv, h), bias=b["qkv"]))
    out.append(Param(p + lay.o, ParamKind.LINEAR, (h, q), bias=b["o"]))
    if lay.qk_norm == "per_head":
        out += [
            Param(f"{p}{lay.q_norm}.weight", ParamKind.NORM, (spec.head_dim,)),
            Param(f"{p}{lay.k_norm}.weight", ParamKind.NORM, (spec.head_dim,)),
        ]
    elif lay.qk_norm == "full":
        out += [
            Param(f"{p}{lay.q_norm}.weight", ParamKind.NORM, (q,)),
            Param(f"{p}{lay.k_norm}.weight", ParamKind.NORM, (kv,)),
        ]
    return out


def _mla(spec: ModelSpec, p: str) -> list[Param]:
    """DeepSeek-V2 multi-head latent attention (deepseek_v2_model.py DeepseekV2Attention)."""
    h, heads = spec.hidden_size, spec.num_attention_heads
    rank = fact_int(spec, "kv_lora_rank")
    q_rank = fact_int(spec, "q_lora_rank")
    rope, nope = fact_int(spec, "qk_rope_head_dim"), fact_int(spec, "qk_nope_head_dim")
    v = fact_int(spec, "v_head_dim")
    qk = heads * (nope + rope)
    out: list[Param] = []
    if q_rank:
        out += [
            Param(p + "self_attn.q_a_proj", ParamKind.LINEAR, (q_rank, h)),
            Param(p + "self_attn.q_a_layernorm.weight", ParamKind.NORM, (q_rank,)),
            Param(p + "self_attn.q_b_proj", ParamKind.LINEAR, (qk, q_rank)),
        ]
    else:
        out.append(Param(p + "self_attn.q_proj", ParamKind.LINEAR, (qk, h)))
    out += [
        Param(p + "self_attn.kv_a_proj_with_mqa", ParamKind.LINEAR, (rank + rope, h)),
        Param(p + "self_attn.kv_a_layernorm.weight", ParamKind.NORM, (rank,)),
        Param(p + "self_attn.kv_b_proj", ParamKind.LINEAR, (heads * (nope + v), rank)),
        Param(p + "self_attn.w_uk", ParamKind.RAW, (heads, rank, nope)),
        Param(p + "self_attn.w_uv", ParamKind.RAW, (heads, v, rank)),
        Param(p + "self_attn.o_proj", ParamKind.LINEAR, (h, heads * v)),
    ]
    return out


def _dense_mlp(
    spec: ModelSpec, lay: FamilyLayout, p: str, inter: int, bias: bool, names: tuple[str, str]
) -> list[Param]:
    h = spec.hidden_size
    bd = lay.mlp_bias_dtype
    gate_up, down = names
    if lay.gated_mlp and lay.gate_up_split is not None:
        g, u = lay.gate_up_split
        first = [
            Param(p + g, ParamKind.LINEAR, (inter, h), bias=bias, bias_dtype=bd),
            Param(p + u, ParamKind.LINEAR, (inter, h), bias=bias, bias_dtype=bd),
        ]
    elif lay.gated_mlp:
        first = [Param(p + gate_up, ParamKind.LINEAR, (2 * inter, h), bias=bias, bias_dtype=bd)]
    else:
        first = [Param(p + lay.up, ParamKind.LINEAR, (inter, h), bias=bias, bias_dtype=bd)]
    return [*first, Param(p + down, ParamKind.LINEAR, (h, inter), bias=bias, bias_dtype=bd)]


def _moe_mlp(spec: ModelSpec, lay: FamilyLayout, moe: MoeLayout, p: str) -> list[Param]:
    h = spec.hidden_size
    experts = fact_int(spec, moe.experts_key)
    inter = fact_int(spec, moe.inter_key)
    gate = Param(p + moe.gate + ".weight", ParamKind.RAW, (experts, h))
    routed = [
        Param(p + moe.gate_up, ParamKind.EXPERTS, (experts, 2 * inter, h)),
        Param(p + moe.down, ParamKind.EXPERTS, (experts, h, inter)),
    ]
    shared_w = moe_shared_inter(spec, moe)
    shared: list[Param] = []
    if shared_w:
        s = p + moe.shared
        shared = [
            Param(s + ".gate_up_proj", ParamKind.LINEAR, (2 * shared_w, h)),
            Param(s + ".down_proj", ParamKind.LINEAR, (h, shared_w)),
        ]
        if moe.shared_gate:
            shared.append(Param(s + "_gate.weight", ParamKind.RAW, (1, h)))
    if moe.shared_gate:  # qwen2_moe declares the shared expert first
        return [*shared, gate, *routed]
    return [gate, *routed, *shared]


def _layer(spec: ModelSpec, lay: FamilyLayout, i: int, inter: int) -> list[Param]:
    p = lay.layer.format(i=i)
    b = _biases(spec, lay)
    h = spec.hidden_size
    norms: list[Param] = []
    for name in lay.layer_norms:
        norms += _norm(p + name, h, lay)
    attn = _attention(spec, lay, p, b)
    if lay.moe is not None and fact_int(spec, lay.moe.experts_key) and moe_layer(spec, lay.moe, i):
        mlp = _moe_mlp(spec, lay, lay.moe, p)
    else:
        mlp = _dense_mlp(spec, lay, p, inter, b["mlp"], (lay.gate_up, lay.down))
    if lay.norms_first:
        return norms + attn + mlp
    return attn + mlp + norms


def _vision(spec: ModelSpec, vis: VisionLayout) -> list[Param]:
    """CLIP ViT tower (vision/clip_vision.py) and projector."""
    d = vision_dims(spec, vis)
    hid, inter, layers = d["hidden"], d["inter"], d["layers"]
    pre = vis.prefix + "vision_model."
    out = [
        Param(pre + "embeddings.class_embedding", ParamKind.RAW, (hid,)),
        Param(
            pre + "embeddings.patch_embedding.weight",
            ParamKind.RAW,
            (hid, 3, d["patch"], d["patch"]),
        ),
        Param(pre + "embeddings.position_embedding.weight", ParamKind.RAW, (d["tokens"], hid)),
        Param(pre + "pre_layrnorm.weight", ParamKind.RAW, (hid,)),
        Param(pre + "pre_layrnorm.bias", ParamKind.RAW, (hid,)),
    ]
    for i in range(layers):
        lp = f"{pre}encoder.layers.{i}."
        for name in ("k_proj", "v_proj", "q_proj", "out_proj"):
            out += [
                Param(f"{lp}self_attn.{name}.weight", ParamKind.RAW, (hid, hid)),
                Param(f"{lp}self_attn.{name}.bias", ParamKind.RAW, (hid,)),
            ]
        out += [
            Param(lp + "layer_norm1.weight", ParamKind.RAW, (hid,)),
            Param(lp + "layer_norm1.bias", ParamKind.RAW, (hid,)),
            Param(lp + "mlp.fc1.weight", ParamKind.RAW, (inter, hid)),
            Param(lp + "mlp.fc1.bias", ParamKind.RAW, (inter,)),
            Param(lp + "mlp.fc2.weight", ParamKind.RAW, (hid, inter)),
            Param(lp + "mlp.fc2.bias", ParamKind.RAW, (hid,)),
            Param(lp + "layer_norm2.weight", ParamKind.RAW, (hid,)),
            Param(lp + "layer_norm2.bias", ParamKind.RAW, (hid,)),
        ]
    out += [
        Param(pre + "post_layernorm.weight", ParamKind.RAW, (hid,)),
        Param(pre + "post_layernorm.bias", ParamKind.RAW, (hid,)),
    ]
    proj_in = hid * vis.projector_in_mult
    for name, shape in vis.extra_params:
        out.append(Param(name, ParamKind.RAW, tuple(proj_in if s == -1 else s for s in shape)))
    out += [
        Param(vis.projector + "linear_1", ParamKind.LINEAR, (spec.hidden_size, proj_in), True),
        Param(
            vis.projector + "linear_2", ParamKind.LINEAR, (spec.hidden_size, spec.hidden_size), True
        ),
    ]
    return out


CLIP_L14_336 = {
    "hidden_size": 1024,
    "intermediate_size": 4096,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "image_size": 336,
    "patch_size": 14,
}
"""phi3_v's img_processor: openai/clip-vit-large-patch14-336 (phi3v_image.py)."""


def vision_dims(spec: ModelSpec, vis: VisionLayout) -> dict[str, int]:
    """The vision tower's dimensions (``vision_config`` facts, else CLIP ViT-L/14-336)."""

    def get(key: str) -> int:
        if vis.config_block:
            return fact_int(spec, f"{vis.config_block}.{key}", CLIP_L14_336[key])
        return CLIP_L14_336[key]

    patch, image = get("patch_size"), get("image_size")
    return {
        "hidden": get("hidden_size"),
        "inter": get("intermediate_size"),
        "layers": get("num_hidden_layers"),
        "heads": get("num_attention_heads"),
        "patch": patch,
        "image": image,
        "tokens": (image // patch) ** 2 + 1,
    }


def _rwkv(spec: ModelSpec) -> list[Param]:
    """RWKV-5 blocks (rwkv5/rwkv5_model.py), as the compiler lists them."""
    h = spec.hidden_size
    head = fact_int(spec, "head_size", 64)
    inter = spec.intermediate_size or (int(h * 3.5) // 32 * 32)
    heads = h // head
    out = [Param("model.embeddings", ParamKind.EMBEDDING, (spec.vocab_size, h))]
    for i in range(spec.num_layers):
        p = f"model.blocks.{i}."
        lns = ["pre_ln", "ln1", "ln2"] if i == 0 else ["ln1", "ln2"]
        for ln in lns:
            out += [
                Param(f"{p}{ln}.weight", ParamKind.NORM, (h,)),
                Param(f"{p}{ln}.bias", ParamKind.NORM, (h,)),
            ]
        a = p + "attention."
        out += [
            Param(a + "time_decay", ParamKind.RAW, (heads, head), dtype="float32"),
            Param(a + "time_faaaa", ParamKind.RAW, (heads, head), dtype="float32"),
        ]
        out += [
            Param(a + f"time_mix_{k}", ParamKind.RAW, (1, 1, h))
            for k in ("gate", "key", "value", "receptance")
        ]
        out += [
            Param(a + k, ParamKind.LINEAR, (h, h))
            for k in ("key", "value", "receptance", "gate", "output")
        ]
        out += [
            Param(a + "ln_x.weight", ParamKind.RAW, (h,), dtype="float32"),
            Param(a + "ln_x.bias", ParamKind.RAW, (h,), dtype="float32"),
        ]
        f = p + "feed_forward."
        out += [
            Param(f + "time_mix_key", ParamKind.RAW, (1, 1, h)),
            Param(f + "time_mix_receptance", ParamKind.RAW, (1, 1, h)),
            Param(f + "key", ParamKind.LINEAR, (inter, h)),
            Param(f + "receptance", ParamKind.LINEAR, (h, h)),
            Param(f + "value", ParamKind.LINEAR, (h, inter)),
        ]
    out += [
        Param("model.ln_out.weight", ParamKind.NORM, (h,)),
        Param("model.ln_out.bias", ParamKind.NORM, (h,)),
        Param("head", ParamKind.LM_HEAD, (spec.vocab_size, h)),
    ]
    return out


def position_rows(spec: ModelSpec, context: int | None) -> int:
    """Rows of GPT-2's ``wpe`` (its context window) or GPTBigCode's (``n_positions``)."""
    lay = family_layout(spec.architecture)
    if lay.position_embedding == "n_positions":
        return fact_int(spec, "n_positions", spec.max_context or 0)
    return context or spec.max_context or 0


@lru_cache(maxsize=256)
def params(spec: ModelSpec, context: int | None = None) -> tuple[Param, ...]:
    """Every parameter of ``spec`` as its MLC model declares it, in declaration order.
    ``context`` sizes GPT-2's position table (MLC's wpe has context_window_size rows)."""
    lay = family_layout(spec.architecture)
    if lay.special == "rwkv":
        return tuple(_rwkv(spec))
    h = spec.hidden_size
    inter = spec.intermediate_size if spec.intermediate_size else 4 * h
    out = [Param(lay.embed, ParamKind.EMBEDDING, (spec.vocab_size, h))]
    if lay.position_embedding is not None:
        out.append(
            Param(
                lay.position_embedding_name, ParamKind.EMBEDDING, (position_rows(spec, context), h)
            )
        )
    for i in range(spec.num_layers):
        out += _layer(spec, lay, i, inter)
    if lay.final_norm is not None:
        out += _norm(lay.final_norm, h, lay)
    if lay.lm_head_norm is not None:
        out += _norm(lay.lm_head_norm, h, lay)
    if not is_tied(spec):
        out.append(Param(lay.lm_head, ParamKind.LM_HEAD, (spec.vocab_size, h), lay.lm_head_bias))
    if lay.vision is not None:
        out += _vision(spec, lay.vision)
    return tuple(out)


def param_groups(spec: ModelSpec) -> tuple[ParamGroup, ...]:
    """Every weight tensor grouped by role and shape (biases as their own groups)."""
    counts: dict[tuple[str, ParamKind, tuple[int, ...]], int] = {}
    for p in params(spec):
        role = _role(p.name)
        key = (role, p.kind, p.shape)
        counts[key] = counts.get(key, 0) + 1
        if p.bias:
            bkey = (
                role + ".bias",
                ParamKind.BIAS,
                (p.shape[-2] if p.kind is ParamKind.EXPERTS else p.shape[0],),
            )
            counts[bkey] = counts.get(bkey, 0) + 1
    return tuple(ParamGroup(n, k, s, c) for (n, k, s), c in counts.items())


def _role(name: str) -> str:
    parts = [x for x in name.split(".") if not x.isdigit()]
    return ".".join(parts)


def param_count(spec: ModelSpec) -> int:
    """Parameters of the dense model (tied embeddings counted once)."""
    return sum(g.numel for g in param_groups(spec))


def layout_fact(spec: ModelSpec, key: str) -> str | None:
    """A raw config fact (re-exported for the runtimes)."""
    return fact(spec, key)
