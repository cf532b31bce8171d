"""The prompt's activations on onnxruntime's CPU execution provider (pure): what the CPU arena
keeps of a decoder's blocks per prompt token, the attention scores a kernel off its flash path
materializes, and how many [prompt, vocab] logits buffers the ops after the lm_head write
(benchmarks/ort_bench/MECHANISMS.md §7, "M§7"; docs/onnxruntime-model.md)."""

from __future__ import annotations

from math import ceil, isfinite

from planner.budget import ACTIVATIONS, Component, ResolvedSettings
from planner.families import fact, fact_float, fact_int, family
from planner.runtimes.onnxruntime.arena import PromptShape
from planner.runtimes.onnxruntime.dequant import GLIBC_MMAP_THRESHOLD_MAX
from planner.spec import ModelSpec

CONV_FAMILIES = frozenset({"lfm2", "lfm2_moe"})
"""Families whose decoder has LFM2's short-convolution blocks (planned from a config); an ONNX
graph says so itself (the adapter's ``conv_blocks``: its CausalConvWithState nodes)."""

WINDOW_SLACK = 16
"""onnxruntime-genai sizes a sliding-window layer's cache to window + 16 on the CPU EP
(src/models/windowed_kv_cache.cpp, ComputeWindowedKvCacheSize; M§6)."""


def layer_windows(spec: ModelSpec, rs: ResolvedSettings) -> tuple[int | None, ...]:
    """Each layer's sliding window (None: global): the model's, or ``--sliding-window`` for all."""
    if rs.sliding_window is not None:
        return (rs.sliding_window,) * spec.num_layers
    return spec.layer_windows or (None,) * spec.num_layers


# ------------------------------------------------------------------------------------------------
# The prompt's activations (M§7)


def block_live_floats(
    spec: ModelSpec, int8_block: int | None = None
) -> tuple[tuple[str, int], ...]:
    """fp32 values per prompt token that each kind of decoder block leaves in the CPU arena: its
    peak live set, in the order the onnxruntime-genai builder's graph runs.

    * MLP: a gated MLP's four intermediate-size tensors (gate, up, activation, product) and the
      residual; a plain MLP's three (fc1, its bias add or second activation step, activation).
    * Attention (GroupQueryAttention with rotary, onnxruntime ``group_query_attention.cc``): the
      residual, the output, and the packed QKV three times (MatMul output, BNSH transposed copy,
      rotated copy) — four with a QKV bias add; with q/k norms (Split, two norms) the unpacked
      q, k, v, their normed copies and the three packed copies.
    * int8 compute (MatMulNBits, accuracy level 4): the down projection quantizes its
      intermediate-size input into a workspace from the same allocator, K × (1 + 8 / block)
      bytes per token (int8 values, a scale and a block sum per block; matmul_nbits.cc,
      MlasQNBitGemmBatchWorkspaceSize).
    * Post-norms (Gemma-2/3: a norm after attention and after the MLP) and residual multipliers
      (Granite: a Mul on each block's output) add a hidden-size output to each; LFM2's
      convolution blocks (LFM2 and LFM2-MoE: any graph with CausalConvWithState nodes) hold
      in_proj's 3 × hidden, its three chunks and two products (8 × hidden).

    The arena keeps the sum over block kinds, not the larger one: the blocks' buffers have
    different sizes, and BFC (bfc_arena.cc) serves each size from chunks of its own. Measured by
    benchmarks/ort_arena_probe.py on builder-layout models varying one dimension at a time:
    4.0 floats per intermediate unit, 6 per KV unit, as counted here.
    """
    h = spec.hidden_size
    i = spec.intermediate_size or 4 * h
    q = spec.num_attention_heads * spec.head_dim
    kv = spec.num_kv_heads * spec.head_dim
    fam = family(spec.architecture)
    layout = fam.layout
    gated = layout.gated_mlp if layout is not None else True
    post = 1 if layout is not None and "post_feedforward_layernorm" in layout.layer_norms else 0
    if fam.name == "granite" or fact_float(spec, "residual_multiplier", 1.0) != 1.0:
        post += 1  # the builder's residual_mul: Mul on each block's output
    mlp = (4 * i if gated else 3 * i) + h + post * h
    if int8_block:
        mlp += ceil(i * (1 + 8 / int8_block) / 4)
    if fam.qk_norm:
        attn = h + 5 * q + 8 * kv
    else:
        attn = h + q + 3 * (q + 2 * kv)
        if layout is not None and layout.qkv_bias:
            attn += q + 2 * kv  # the bias Add writes a fourth packed QKV
    attn += post * h
    blocks = [("mlp", mlp), ("attention", attn)]
    if fam.name in CONV_FAMILIES or fact_int(spec, "conv_blocks") > 0:
        blocks.append(("convolution", 8 * h))
    return tuple(blocks)


def prompt_shape(spec: ModelSpec) -> PromptShape | None:
    """The request shape ``arena.prompt_requests`` replays, for the layout the traces cover: a
    pre-norm decoder block (MLC's ``pre_norm`` graph) with RMS norms before attention and MLP
    only, GroupQueryAttention over a bias-free packed QKV without q/k norms, and a bias-free gated
    MLP; no MoE, vision tower, learned positions or residual multipliers. None for anything else
    (the caller falls back to a bound).

    The long-RoPE tables are the graph's (the ONNX adapter's ``rope_switch_tables``: short,
    long, short rows) or, for a config, what the builder writes for it: the original context's
    and the whole context's rows of rotary_dim / 2 fp32 values, when
    ``original_max_position_embeddings`` is below the context."""
    fam = family(spec.architecture)
    lay = fam.layout
    if (
        lay is None
        or fam.mlc.graph != "pre_norm"
        or lay.norm != "rms"
        or lay.layer_norms != ("input_layernorm", "post_attention_layernorm")
        or not lay.gated_mlp
        or lay.qkv_bias
        or lay.o_bias
        or lay.mlp_bias
        or fam.qk_norm
        or lay.moe is not None
        or lay.vision is not None
        or lay.special is not None
        or lay.position_embedding is not None
        or fact_float(spec, "residual_multiplier", 1.0) != 1.0
        or not spec.intermediate_size
        or min(spec.hidden_size, spec.num_layers, spec.head_dim, spec.intermediate_size) < 1
    ):
        return None
    q = spec.num_attention_heads * spec.head_dim
    kv = spec.num_kv_heads * spec.head_dim
    caches, switch = (0, 0), 0
    raw = fact(spec, "rope_switch_tables")
    parts = raw.split(",") if raw else []
    if len(parts) == 3 and all(p.isascii() and p.isdigit() for p in parts):
        caches, switch = (int(parts[0]), int(parts[1])), int(parts[2])
    else:
        original = fact_int(spec, "original_max_position_embeddings")
        factor = fact_float(spec, "partial_rotary_factor", 1.0)
        if not (isfinite(factor) and 0 < factor <= 1):
            factor = 1.0  # not a rotary fraction: the whole head rotates
        if 0 < original < (spec.max_context or 0):
            half = int(spec.head_dim * factor) // 2
            caches, switch = (original * half * 4, (spec.max_context or 0) * half * 4), original
    return PromptShape(
        hidden=spec.hidden_size,
        qkv=q + 2 * kv,
        q=q,
        intermediate=spec.intermediate_size,
        layers=spec.num_layers,
        rope_caches=caches,
        rope_switch=switch,
    )


def layer_live_floats(spec: ModelSpec, int8_block: int | None = None) -> int:
    """fp32 values per prompt token the CPU arena keeps: the sum over block kinds."""
    return sum(n for _, n in block_live_floats(spec, int8_block))


def attention_softcap(spec: ModelSpec) -> float:
    """The attention logits' softcap of the model's GroupQueryAttention (0 when none): the graph's
    ``softcap`` attribute (the ONNX adapter's ``gqa_softcap``), else the config's
    ``attn_logit_softcapping`` (Gemma-2: 50), which the builder writes into that attribute."""
    key = "gqa_softcap"
    if fact(spec, key) is None and fact(spec, "attention_op") is None:  # planned from a config
        key = "attn_logit_softcapping"
    value = fact_float(spec, key)
    return value if value > 0 else 0.0


def score_pages(rows: int, stride: int, written: int, page: int) -> int:
    """Bytes of pages touched when ``rows`` rows, ``stride`` bytes apart, each get their first
    ``written`` bytes written (the rest of each row is allocated but never touched).

    Each row counts the whole pages its written part needs, as for rows that start on a page
    boundary (the measured case: the scores are among the arena's largest requests and start a
    region of their own). Rows off page boundaries can touch one page more; that is not added,
    so that a longer max_length never plans less (a stride one float wider would otherwise
    count a page per row more than the page-aligned one)."""
    if rows <= 0 or written <= 0:
        return 0
    if stride <= page:
        return rows * stride  # rows share pages: the whole span is touched
    return rows * min(stride, ceil(written / page) * page)


def attention_scores(
    spec: ModelSpec, rs: ResolvedSettings, page: int, preallocated: bool
) -> tuple[int, tuple[int, ...]]:
    """Bytes the prompt's materialized attention scores leave in the CPU arena, and the present
    lengths they were allocated for (empty when the prompt takes the flash path).

    onnxruntime's CPU GroupQueryAttention runs a prompt through a flash-style kernel with bounded
    scratch, except when ``softcap`` is set (Gemma-2's attention logit softcapping): then
    ``ApplyAttention`` (contrib_ops/cpu/bert/gqa_attention_base.h) allocates
    batch × heads × prompt × present_length fp32 scores from the arena, with rows strided by the
    KV buffer's length and only the first ``prompt`` columns written (the GEMM's output and the
    causal zeros). The arena keeps one chunk per distinct size: full-attention layers use the
    max_length buffer, sliding-window layers theirs (window + 16, or the prompt when longer).
    Measured (benchmarks/ort_bench/probe_logits_decode.py, variant ``noattnsoftcap``: the same
    graph without the attribute; results/ort_probe_logits_decode.json): gemma2-int4, 8 heads,
    +16 / 33 / 100 / 301 MiB at prompts 256 / 512 / 1024 / 2048 (max_length 4096), +37 / 103 /
    363 / 1279 MiB at 512 / 1024 / 2048 / 4096 (max_length 8192); the pages written account for
    all of it up to 512 tokens and 65–85 % beyond, where later arena requests fill the untouched
    gaps of the freed chunk (not modelled)."""
    if not attention_softcap(spec):
        return 0, ()
    t, b = rs.prefill, rs.batch
    lengths: set[int] = set()
    for w in layer_windows(spec, rs):
        if not preallocated:  # a growing (quantized) cache: present = the prompt
            length = t
        elif w is None:
            length = rs.context
        else:
            length = max(min(rs.context, w + WINDOW_SLACK), t)
        lengths.add(length)
    rows = b * spec.num_attention_heads * t
    total = sum(score_pages(rows, length * 4, min(t, length) * 4, page) for length in lengths)
    return total, tuple(sorted(lengths))


INPLACE_OPS = frozenset(
    {
        "Elu",
        "HardSigmoid",
        "LeakyRelu",
        "Relu",
        "Selu",
        "Sigmoid",
        "Softplus",
        "Softsign",
        "Tanh",
        "ThresholdedRelu",
    }
)
"""Unary CPU kernels registered with ``MayInplace(0, 0)``
(core/providers/cpu/activation/activations.cc): onnxruntime's allocation planner lets them write
into their input's buffer when nothing else reads it. The binary element-wise kernels (Add, Sub,
Mul, Div; core/providers/cpu/math/element_wise_ops.cc) are registered without it."""


def logits_buffers(spec: ModelSpec) -> tuple[int, str]:
    """How many [tokens, vocab] fp32 buffers the prompt's logits occupy, and why.

    The lm_head writes the logits output directly, unless ops follow it (a softcap's Div, Tanh,
    Mul; a logits scale's Mul). Then the lm_head's output is one buffer, the graph output the
    last op writes is another, and each op between them writes one more — except a unary
    activation that works in place (``INPLACE_OPS``: the softcap's Tanh); the arena keeps at
    most two beside the output. Measured (benchmarks/ort_arena_probe.py --logits-ops, and the
    v2 builds): one Mul after a MatMulNBits lm_head 2.14 × the logits (2 buffers), the softcap
    chain Div, Tanh, Mul 3.19 × (3: Div's output is new, Tanh writes over it); gemma2-fp32, whose
    Div is fused into the MatMul (below), 2 buffers (Tanh in place, Mul the output). The ONNX
    graph says which ops follow (the adapter's ``logits_ops``); a config planned for the
    builder, its ``final_logit_softcapping`` (Div, Tanh, Mul), ``logits_scaling`` (Granite: Mul)
    or ``logit_scale`` (Cohere: Mul).

    A bias Add right after a MatMulNBits lm_head (Phi-2's) writes nothing: onnxruntime's
    MatMulNBitsFusion (core/optimizer/matmul_nbits_fusion.cc, level 2, CPU EP) moves the [vocab]
    bias into the MatMulNBits' bias input, which then writes the logits. A float MatMul keeps
    its Add (2 buffers). Measured (ort_arena_probe.py --bias-fusion): phi2-int4 1.70 × the
    logits, 2.72 × with the fusion blocked; phi2-fp32 2.71 × either way.

    The float counterpart: a scalar Mul or Div right after a float32 MatMul lm_head (Granite's
    logits scaling, a softcap's Div) is folded into a FusedMatMul's alpha by MatMulScaleFusion
    (core/optimizer/matmul_scale_fusion.cc), so it writes nothing either; a MatMulNBits keeps it
    (granite-fp32 over-estimated by one logits buffer before this, granite-int4 exact)."""
    facts = dict(spec.extra)
    writes = "the lm_head writes the logits output"
    fused = ""
    if "logits_ops" in facts:
        chain = [o for o in reversed(facts["logits_ops"].split(",")) if o]  # in run order
        if chain and chain[0] == "Add" and _nbits_lm_head(spec):
            chain.pop(0)
            writes += " (its bias Add fused into the MatMulNBits)"
        elif chain and chain[0] in ("Mul", "Div") and _float32_matmul_lm_head(spec):
            fused = f" (its scalar {chain.pop(0)} fused into a FusedMatMul's alpha)"
            writes += fused
        why = "ops after the lm_head in the graph: " + ", ".join(chain) + fused
    else:
        chain = []
        if fact_float(spec, "final_logit_softcapping") != 0.0:
            chain = ["Div", "Tanh", "Mul"]
            why = "final_logit_softcapping: the builder's Div, Tanh, Mul"
        elif any(fact_float(spec, k, 1.0) != 1.0 for k in ("logits_scaling", "logit_scale")):
            chain = ["Mul"]
            why = "logits scaled after the lm_head: the builder's Mul"
    if not chain:
        return 1, writes
    between = sum(1 for op in chain[:-1] if op not in INPLACE_OPS)
    in_place = [op for op in chain[:-1] if op in INPLACE_OPS]
    if in_place:
        why += f" ({', '.join(in_place)} in place)"
    return 1 + min(1 + between, 2), why


def _float32_matmul_lm_head(spec: ModelSpec) -> bool:
    """The lm_head is a float32 MatMul: onnxruntime's MatMulScaleFusion
    (core/optimizer/matmul_scale_fusion.cc, CPU EP: float and double inputs) folds a Mul or Div
    by a scalar constant that follows it — Granite's logits scaling, a softcap's Div — into a
    FusedMatMul's alpha, so that op writes no [tokens, vocab] buffer of its own."""
    return not _nbits_lm_head(spec) and spec.quantization.scheme not in ("fp16", "bf16")


def _nbits_lm_head(spec: ModelSpec) -> bool:
    """The lm_head is a MatMulNBits (a quantized ONNX model that leaves it quantized)."""
    q = spec.quantization
    return dict(q.details).get("op") == "MatMulNBits" and "lm_head" not in q.unquantized


def workspace_heap(spec: ModelSpec, tokens: int, int8_block: int | None, glibc: bool) -> int:
    """Bytes of int8-compute input workspaces glibc's heap holds through a prompt besides the
    down projection's, which the arena live set counts (``block_live_floats``).

    Each MatMulNBits at accuracy level 4 quantizes its input into a tokens × K × (1 + 8 / block)
    workspace ``posix_memalign``ed outside the arena and freed after the call (MLAS
    ``MlasQNBitGemmBatchWorkspaceSize``). Under glibc's dynamic mmap threshold those below 32 MiB
    come from the heap once a larger one has been freed, and the heap keeps about one layer's
    set of them: the first calls' chunks are pushed up by the prompt's growing buffers before the
    threshold reaches the largest workspace, and later calls reuse one slot above them (heap
    traces of llama-gqa-int4 at 1024 and 2048 tokens, ``heap_trace.py --placements --min-mib 1``:
    four and three hidden-size chunks below the slot; MECHANISMS.md §7). Counted as one layer's
    hidden-input calls (the fused QKV, gate and up, or a plain MLP's first projection; an MoE
    graph counts its attention and convolution projections only: its experts run in QMoE, which
    takes no such workspace, though a leading dense layer's MLP may make the first calls) and
    the attention output's, as for the per-call dequantization buffers
    (``dequant.layer_heap_kn``).
    How many chunks the placement leaves varies by run; allocators that return large blocks
    (Scudo, Apple's malloc) and a fixed threshold keep none."""
    if not (glibc and int8_block and tokens > 0):
        return 0
    lay = family(spec.architecture).layout
    factor = 1 + 8 / int8_block
    sizes = [spec.hidden_size, spec.num_attention_heads * spec.head_dim]  # QKV, attention output
    moe = fact_int(spec, "moe_nodes") > 0 or (lay is not None and lay.moe is not None)
    if not moe:  # an MoE MLP runs its experts in QMoE, not MatMulNBits
        sizes += [spec.hidden_size] * (2 if lay is None or lay.gated_mlp else 1)
    held = (ceil(tokens * k * factor) for k in sizes)
    return sum(b for b in held if b < GLIBC_MMAP_THRESHOLD_MAX)


def workspace_components(held: int, tokens: int, int8_block: int | None) -> list[Component]:
    """The budget line for ``workspace_heap`` (none when it is 0)."""
    if not held:
        return []
    return [
        Component(
            ACTIVATIONS,
            "int8 workspaces kept by glibc (heap)",
            held,
            "tokens × (one layer's hidden-input calls + attention output) K × (1 + 8 / block)",
            (("tokens", str(tokens)), ("block", str(int8_block))),
            source="MLAS MlasQNBitGemmBatchWorkspaceSize; heap_trace.py; MECHANISMS.md §7",
        )
    ]
