"""MLC's temporary-buffer size, by replaying the compiler's static memory planner (pure).

What ``mlc_llm compile`` reports as "Temporary buffer" (and embeds as ``memory_usage``):

1. ``compiler_pass/estimate_memory_usage.py`` adds up, per Relax function, every
   ``memory.alloc_storage`` of constant size plus every ``builtin.alloc_tensor`` with a static
   shape (function results are not planned but ARE counted when static); the engine and
   ``cli/model_metadata.py`` take the MAX over functions.
2. Symbolic sizes get the bounds of ``interface/compile.py::_get_variable_bounds``:
   ``seq_len`` = prefill_chunk_size, ``batch_size`` = max_batch_size (PhiConfig has no such
   field: 1), ``total_seq_len`` = context_window_size (sliding window: ``kv_seq_len``,
   ``rolling_cache_len``). No planned activation depends on the context or window bounds (the
   attention kernels' workspaces live in the KV-cache object). A dimension with no bound, such as
   the symbolic ``"vocab_size"`` of most lm_heads, makes a buffer dynamic: not counted. A
   constant vocabulary (``MlcFacts.static_vocab``) makes the float32 logits count —
   ``batch_verify`` holds [prefill_chunk, vocab] of them. There is no float16 logits buffer:
   tied heads use ``matmul(out_dtype="float32")`` and an untied Linear + ``astype`` is one kernel.
3. ``plan.py`` replays ``TokenAllocator1D`` over each function's kernels; ``graphs.py`` has one
   op-sequence function per graph shape, named by the family registry.

Sizes are in bytes. Weights never enter temp: dequantisation is fused into the matmuls, so the
quantisation scheme only matters through its activation dtype (``model_dtype``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from planner.families import (
    Family,
    fact_bool,
    fact_int,
    family,
    moe_layer,
    moe_shared_inter,
    vision_dims,
)
from planner.quant import MlcScheme, dtype_bytes
from planner.runtimes.mlc.graphs import GRAPHS, Dims, OpBuilder, State, head, pre
from planner.runtimes.mlc.plan import MATCH_RANGE, Op, Tensor, plan_blocks
from planner.spec import ModelSpec

__all__ = [
    "MATCH_RANGE",
    "FunctionTemp",
    "Op",
    "TempEstimate",
    "Tensor",
    "mlc_dims",
    "mlc_temp_buffer",
    "plan_blocks",
]


@dataclass(frozen=True, slots=True)
class FunctionTemp:
    """Planned temporary bytes of one exported Relax function."""

    name: str
    bytes: int
    blocks: tuple[int, ...]
    """Final size of each planned storage block (and static result), in allocation order."""


@dataclass(frozen=True, slots=True)
class TempEstimate:
    """Per-function planned bytes and MLC's figure (their maximum)."""

    functions: tuple[FunctionTemp, ...]
    prefill_chunk: int
    max_batch_size: int

    @property
    def max_bytes(self) -> int:
        """What MLC reports as the temporary buffer (max over functions, not the sum)."""
        return max((f.bytes for f in self.functions), default=0)

    @property
    def max_function(self) -> str:
        """The function that sets the maximum."""
        return max(self.functions, key=lambda f: f.bytes).name if self.functions else ""

    def bytes_of(self, name: str) -> int | None:
        """Planned bytes of one function, or None if it is not exported."""
        for f in self.functions:
            if f.name == name:
                return f.bytes
        return None


def static_vocab(spec: ModelSpec, fam: Family) -> bool:
    """The lm_head's vocabulary is a compile-time constant (so its logits are counted)."""
    rule = fam.mlc.static_vocab
    return rule == "always" or (rule == "when_tied" and spec.tie_word_embeddings)


def mlc_dims(spec: ModelSpec, scheme: MlcScheme, max_threads: int = 256) -> Dims:
    """The widths and switches the graphs read, from the spec and its registry entry."""
    fam = family(spec.architecture)
    lay = fam.layout
    act = scheme.model_dtype
    rms = lay is None or lay.norm == "rms"
    moe = lay.moe if lay is not None else None
    experts = fact_int(spec, moe.experts_key) if moe is not None else 0
    layers = spec.num_layers
    moe_layers = (
        frozenset(i for i in range(layers) if moe_layer(spec, moe, i))
        if moe is not None and experts
        else frozenset()
    )
    mla = (
        fact_int(spec, "kv_lora_rank"),
        fact_int(spec, "qk_rope_head_dim"),
        fact_int(spec, "qk_nope_head_dim"),
        fact_int(spec, "v_head_dim"),
        fact_int(spec, "q_lora_rank"),
    )
    return Dims(
        hidden=spec.hidden_size,
        layers=layers,
        q=spec.num_attention_heads * spec.head_dim,
        kv=spec.num_kv_heads * spec.head_dim,
        head_dim=spec.head_dim,
        inter=spec.intermediate_size or 4 * spec.hidden_size,
        vocab=spec.vocab_size,
        act=act,
        act_bytes=int(dtype_bytes(act)),
        rms=rms,
        # compiler_pass/fuse_add_norm.py: float16/bfloat16 only, GPU targets only, and
        # hidden % min(1024, max_threads_per_block) == 0.
        fan=(
            rms
            and act in ("float16", "bfloat16")
            and max_threads > 0
            and spec.hidden_size % min(1024, max_threads) == 0
        ),
        static_vocab=static_vocab(spec, fam),
        qkv_split=lay is not None and lay.qkv_split is not None,
        qk_norm=fam.qk_norm or fact_bool(spec, "use_qk_norm", False),
        gate_up_split=lay is not None and lay.gate_up_split is not None,
        gated=fam.gated_mlp,
        parallel_residual=fact_bool(spec, "use_parallel_residual", True),
        experts=experts,
        top_k=fact_int(spec, moe.top_k_key) if moe is not None else 0,
        moe_inter=fact_int(spec, moe.inter_key) if moe is not None else 0,
        shared_inter=moe_shared_inter(spec, moe) if moe is not None else 0,
        shared_gate=moe is not None and moe.shared_gate,
        moe_layers=moe_layers,
        mla=mla,
        heads=spec.num_attention_heads,
    )


def _function(
    name: str, d: Dims, fam: Family, tokens: int, gather: int | None, hidden_out: bool
) -> FunctionTemp:
    """One exported function over ``tokens`` rows: the stack, then either the hidden states
    (``*_to_last_hidden_states``) or the lm_head over ``gather`` rows (None: every row)."""
    return FunctionTemp(name, *_planned(d, fam, tokens, gather, hidden_out))


@lru_cache(maxsize=4096)
def _planned(
    d: Dims, fam: Family, tokens: int, gather: int | None, hidden_out: bool
) -> tuple[int, tuple[int, ...]]:
    # Memoised on what the replay reads: functions with the same rows and head (prefill and
    # batch_prefill at batch 1, the *_to_last_hidden_states over the chunk) and schemes with the
    # same activation dtype (q4f16_1, q3f16_1, q0f16, ...) share one replay.
    b = OpBuilder(d, tokens)
    layer = GRAPHS[fam.mlc.graph]
    st = pre(b, fam.mlc.pre, State("input"))
    for i in range(d.layers):
        st = layer(b, i, st)
    final = head(b, fam.mlc.head, st)
    if hidden_out:
        out = Tensor(final, tokens * d.hidden * d.act_bytes, d.act)
        b.ops.append(Op((), (final,)))
        blocks = plan_blocks(tuple(b.ops), (out,))
        return sum(blocks), blocks
    src, rows = final, tokens
    if gather is not None:  # index_last_token / take the rows whose logits are wanted
        src, rows = b.k1(d.hidden, (final,), "gather", rows=gather), gather
    if fam.mlc.norm_after_index:  # phi: the lm_head's LayerNorm after the gather
        src = b.k1(d.hidden, (src,), "lm_head_ln", rows=rows)
    logits = b.k1(d.vocab, (src,), "logits", rows=rows, dtype="float32", dynamic=not d.static_vocab)
    b.ops.append(Op((), (logits,)))
    size = rows * d.vocab * 4 if d.static_vocab else None
    blocks = plan_blocks(tuple(b.ops), (Tensor(logits, size, "float32"),))
    return sum(blocks), blocks


def _image_embed(spec: ModelSpec, d: Dims, fam: Family) -> FunctionTemp | None:
    """The vision tower over one 336×336 image (source-only estimate): patch embedding,
    pre-LayerNorm, CLIP encoder layers with the fallback attention (q·kᵀ scores and softmax
    in the model dtype, [heads, T, T]), then the projector. phi3_v's HD sub-crops have
    symbolic sizes the compiler cannot bound, so only the global image is planned."""
    lay = fam.layout
    if lay is None or lay.vision is None:
        return None
    v = vision_dims(spec, lay.vision)
    t, hid = v["tokens"], v["hidden"]
    b = OpBuilder(d, t)
    x = b.k1(hid, (), "patch_embed")
    x = b.k1(hid, (b.k1(hid, (x,), "pos_add"),), "pre_ln")
    for _ in range(v["layers"]):
        n = b.k1(hid, (x,), "ln1")
        q, k, val = (b.k1(hid, (n,), tag) for tag in ("q", "k", "v"))
        scores = b.k1(v["heads"] * t, (q, k), "scores")
        probs = b.k1(v["heads"] * t, (scores,), "softmax")
        att = b.k1(hid, (probs, val), "attn")
        x = b.k1(hid, (att, x), "o_res")
        m = b.k1(v["inter"], (b.k1(hid, (x,), "ln2"),), "fc1_gelu")
        x = b.k1(hid, (m, x), "fc2_res")
    rows = t - 1
    width = hid * lay.vision.projector_in_mult
    rows //= lay.vision.projector_in_mult
    p1 = b.k1(spec.hidden_size, (x,), "proj1_gelu", rows=rows)
    out = b.k1(spec.hidden_size, (p1,), "proj2", rows=rows)
    b.ops.append(Op((), (out,)))
    del width
    blocks = plan_blocks(tuple(b.ops), (Tensor(out, rows * spec.hidden_size * d.act_bytes, d.act),))
    return FunctionTemp("image_embed", sum(blocks), blocks)


def mlc_temp_buffer(
    spec: ModelSpec,
    scheme: MlcScheme,
    *,
    prefill_chunk: int,
    max_batch_size: int,
    max_threads_per_block: int = 256,
) -> TempEstimate:
    """MLC's per-function temporary buffers for ``spec`` compiled with these bounds.

    ``max_threads_per_block`` is the target's ``max_num_threads`` (TVM: 256 for webgpu, metal,
    vulkan, opencl; Adreno 512; cuda 1024); 0 for CPU (``llvm``) targets, where FuseAddRMSNorm
    is skipped. ``max_batch_size`` is the bound MLC compiles with (the family's
    ``MlcFacts.batch_bound`` when it has one).
    """
    if prefill_chunk <= 0 or max_batch_size <= 0:
        raise ValueError("prefill_chunk and max_batch_size must be positive")
    fam = family(spec.architecture)
    d = mlc_dims(spec, scheme, max_threads_per_block)
    s, bsz = prefill_chunk, fam.mlc.batch_bound or max_batch_size
    hb = d.hidden * d.act_bytes
    funcs = [
        _function("prefill", d, fam, s, 1, False),
        _function("decode", d, fam, 1, None, False),
        _function("batch_prefill", d, fam, s, bsz, False),
        _function("batch_decode", d, fam, bsz, None, False),
        _function("batch_verify", d, fam, s, None, False),
        FunctionTemp("embed", s * hb * fam.mlc.embed_kernels, (s * hb,) * fam.mlc.embed_kernels),
        FunctionTemp("alloc_embedding_tensor", s * hb, (s * hb,)),
    ]
    if fam.mlc.hidden_state_functions:
        funcs += [
            _function(f"{base}_to_last_hidden_states", d, fam, n, None, True)
            for base, n in (
                ("prefill", s),
                ("decode", 1),
                ("batch_prefill", s),
                ("batch_decode", bsz),
                ("batch_verify", s),
            )
        ]
        funcs.append(FunctionTemp("batch_select_last_hidden_states", bsz * hb, (bsz * hb,)))
        if d.static_vocab:  # get_logits(hidden [seq_len, h]) returns static float32 logits
            funcs.append(FunctionTemp("get_logits", s * d.vocab * 4, (s * d.vocab * 4,)))
    image = _image_embed(spec, d, fam)
    if image is not None:
        funcs.append(image)
    return TempEstimate(tuple(funcs), prefill_chunk, bsz)
