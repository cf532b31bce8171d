"""MLC's temporary-buffer size, by replaying the compiler's static memory planner (pure).

Mechanism (what ``mlc_llm compile`` reports as "Temporary buffer"):

1. ``python/mlc_llm/compiler_pass/pipeline.py`` runs ``relax.transform.StaticPlanBlockMemory``
   and then ``AttachMetadataWithMemoryUsage`` (``compiler_pass/estimate_memory_usage.py``), which
   adds up, per Relax function, every ``memory.alloc_storage`` of constant size (plus static
   ``builtin.alloc_tensor``). ``cli/model_metadata.py::_report_memory_usage`` (and the engine,
   ``cpp/serve/config.cc``) take the MAX over functions.
2. Symbolic sizes are made constant with the upper bounds of ``interface/compile.py::
   _get_variable_bounds``: ``seq_len`` = prefill_chunk_size, ``batch_size`` = max_batch_size,
   ``total_seq_len`` = context_window_size (sliding window: ``kv_seq_len``/``rolling_cache_len``).
   A dimension with no bound, such as the symbolic ``"vocab_size"`` of Llama/Mistral/Gemma/Phi-3's
   untied lm_head, makes a buffer dynamic, and dynamic buffers are not counted. Qwen2/Qwen3 (and a
   tied Phi-3) declare the vocabulary as a constant, so their float32 logits ARE counted.
3. StaticPlanBlockMemory (apache/tvm ``src/relax/transform/static_plan_block_memory.cc``,
   ``TokenAllocator1D``) walks the bindings in order. Each intermediate asks the free pool of its
   dtype for the smallest free block of size in [n, 16n]; failing that it takes the largest free
   block in [n/16, n) and ENLARGES it to n; failing that it allocates a new block. A block returns
   to the pool after the last use of its tensor. Function outputs get their own block
   (``relax.memory_plan_dynamic_func_output``), never shared. So the total is the sum of the
   blocks' final sizes: not the liveness peak, and not a closed formula.
4. The op sequence planned is the model's Relax graph after ``FuseAddRMSNorm`` (GPU targets),
   ``FuseOps`` and ``FuseTIR``: per layer ``qkv = matmul(norm)``,
   ``attn = attention_with_fused_qkv``
   (Qwen3/Gemma3/OLMo2: split → q_norm → k_norm → concat first), ``o = matmul(attn)``,
   ``(norm2, residual) = fuse_add_norm(o, residual)``, ``gate_up = matmul(norm2)``,
   ``act = split·silu·multiply(gate_up)``, ``down = matmul(act)``,
   ``(norm, residual) = fuse_add_norm(down, residual)``.

For Llama-3.2-1B q0f16 with a 1024-token chunk this gives blocks of 32 + 32 + 16 + 4 MiB (84 MiB)
for ``prefill``, and 88 MiB for ``prefill_to_last_hidden_states`` (its (1, chunk, hidden) output is
a planned block too), which is the max. These figures were checked against the ``memory_usage``
metadata inside WebLLM's published model libraries (mlc-ai/binary-mlc-llm-libs
``web-llm-models/v0_2_48``) and against the real pipeline of mlc-llm 79d603f run on apache-tvm
0.26. Sizes are in bytes. Weights never enter temp: dequantisation is fused into the matmuls,
so the quantisation scheme only matters through its activation dtype (``model_dtype``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from planner.families import family
from planner.quant import MlcScheme, dtype_bytes
from planner.spec import ModelSpec

MATCH_RANGE = 16
"""``TokenAllocator1D::match_range_``: a free block serves requests within 16x of its size."""


@dataclass(frozen=True, slots=True)
class FunctionTemp:
    """Planned temporary bytes of one exported Relax function."""

    name: str
    bytes: int
    blocks: tuple[int, ...]
    """Final size of each planned storage block, in allocation order."""


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


@dataclass(frozen=True, slots=True)
class Tensor:
    """One tensor in the planned sequence. ``size`` None means dynamic (not counted)."""

    name: str
    size: int | None
    dtype: str


@dataclass(frozen=True, slots=True)
class Op:
    """One kernel call: tensors it writes and tensors it reads (in argument order)."""

    outputs: tuple[Tensor, ...]
    inputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Dims:
    hidden: int
    q_heads: int
    kv_heads: int
    head_dim: int
    inter: int
    vocab: int
    layers: int
    act_dtype: str
    act_bytes: int
    static_vocab: bool
    qk_norm: bool
    gated: bool
    untied: bool
    fuse_add_norm: bool


def plan_blocks(ops: tuple[Op, ...], outputs: tuple[Tensor, ...] = ()) -> tuple[int, ...]:
    """Replay ``TokenAllocator1D`` over ``ops``; return the final size of every counted block.

    Intermediates share blocks through the per-dtype free pool; ``outputs`` (function results)
    each get a block of their own. Tensors nobody reads are not planned; dynamic tensors
    (size None) are planned apart and never counted.
    """
    uses: dict[str, int] = {}
    for op in ops:
        for name in op.inputs:
            uses[name] = uses.get(name, 0) + 1
    out_names = {t.name for t in outputs}
    blocks: list[list[int]] = []
    pools: dict[str, list[tuple[int, int, list[int]]]] = {}
    owner: dict[str, tuple[list[int], str]] = {}
    refs: dict[str, int] = {}
    order = 0

    def request(size: int, dtype: str) -> list[int]:
        pool = pools.setdefault(dtype, [])
        keys = [e[0] for e in pool]
        lo = bisect.bisect_left(keys, size // MATCH_RANGE)
        mid = bisect.bisect_left(keys, size)
        hi = bisect.bisect_right(keys, size * MATCH_RANGE)
        if mid < hi:  # smallest free block that is large enough
            return pool.pop(mid)[2]
        if mid > lo:  # else the largest smaller one, enlarged
            block = pool.pop(mid - 1)[2]
            block[0] = size
            return block
        block = [size]
        blocks.append(block)
        return block

    for op in ops:
        for t in op.outputs:
            if t.name in out_names:
                if t.size is not None:
                    blocks.append([t.size])
                continue
            if t.size is None or uses.get(t.name, 0) == 0:
                continue
            owner[t.name] = (request(t.size, t.dtype), t.dtype)
            refs[t.name] = uses[t.name]
        for name in op.inputs:
            if name not in owner:
                continue
            refs[name] -= 1
            if refs[name] == 0:
                block, dtype = owner[name]
                order += 1
                bisect.insort(pools.setdefault(dtype, []), (block[0], order, block))
    return tuple(b[0] for b in blocks)


def _dims(spec: ModelSpec, scheme: MlcScheme, max_threads: int) -> _Dims:
    act = scheme.model_dtype
    fam = family(spec.architecture)
    # A dimension with no bound (the symbolic "vocab_size" of most lm_heads) makes the logits
    # dynamic, and dynamic buffers are not counted; a constant vocabulary is.
    static_vocab = fam.mlc_static_vocab or (
        fam.mlc_static_vocab_when_tied and spec.tie_word_embeddings
    )
    return _Dims(
        hidden=spec.hidden_size,
        q_heads=spec.num_attention_heads,
        kv_heads=spec.num_kv_heads,
        head_dim=spec.head_dim,
        inter=spec.intermediate_size or 4 * spec.hidden_size,
        vocab=spec.vocab_size,
        layers=spec.num_layers,
        act_dtype=act,
        act_bytes=int(dtype_bytes(act)),
        static_vocab=static_vocab,
        qk_norm=fam.qk_norm or fam.name == "qwen3_moe",  # MoE layouts are not modelled yet
        gated=fam.gated_mlp,
        untied=not spec.tie_word_embeddings,
        # FuseAddRMSNorm (compiler_pass/fuse_add_norm.py) rewrites rms_norm(add(x, r)) only for
        # float16/bfloat16, only on GPU targets, and only when hidden % TX == 0 with
        # TX = min(1024, the target's max threads per block).
        fuse_add_norm=(
            act in ("float16", "bfloat16")
            and max_threads > 0
            and spec.hidden_size % min(1024, max_threads) == 0
        ),
    )


def _stack(d: _Dims, n: int) -> tuple[list[Op], str]:
    """The decoder stack over ``n`` tokens; returns the ops and the final normed tensor's name."""
    dt, b = d.act_dtype, d.act_bytes

    def t(name: str, width: int) -> Tensor:
        return Tensor(name, n * width * b, dt)

    h = d.hidden
    q, kv = d.q_heads * d.head_dim, d.kv_heads * d.head_dim
    ops: list[Op] = [Op((t("n0", h),), ("input",))]
    norm, residual = "n0", "input"
    for i in range(d.layers):
        ops.append(Op((t(f"qkv{i}", q + 2 * kv),), (norm,)))
        fused_qkv = f"qkv{i}"
        if d.qk_norm:
            ops.append(Op((t(f"q{i}", q), t(f"k{i}", kv), t(f"v{i}", kv)), (f"qkv{i}",)))
            ops.append(Op((t(f"qn{i}", q),), (f"q{i}",)))
            ops.append(Op((t(f"kn{i}", kv),), (f"k{i}",)))
            ops.append(Op((t(f"cat{i}", q + 2 * kv),), (f"v{i}", f"qn{i}", f"kn{i}")))
            fused_qkv = f"cat{i}"
        ops.append(Op((t(f"attn{i}", q),), (fused_qkv,)))
        if d.fuse_add_norm:
            ops.append(Op((t(f"o{i}", h),), (f"attn{i}",)))
            ops.append(Op((t(f"m{i}", h), t(f"r{i}", h)), (f"o{i}", residual)))
        else:  # the residual add is fused into the o_proj matmul; the norm is its own kernel
            ops.append(Op((t(f"r{i}", h),), (f"attn{i}", residual)))
            ops.append(Op((t(f"m{i}", h),), (f"r{i}",)))
        residual = f"r{i}"
        if d.gated:
            ops.append(Op((t(f"gu{i}", 2 * d.inter),), (f"m{i}",)))
            ops.append(Op((t(f"act{i}", d.inter),), (f"gu{i}",)))
        else:
            ops.append(Op((t(f"act{i}", d.inter),), (f"m{i}",)))
        if d.fuse_add_norm:
            ops.append(Op((t(f"down{i}", h),), (f"act{i}",)))
            ops.append(Op((t(f"n{i + 1}", h), t(f"r{i}b", h)), (f"down{i}", residual)))
        else:
            ops.append(Op((t(f"r{i}b", h),), (f"act{i}", residual)))
            ops.append(Op((t(f"n{i + 1}", h),), (f"r{i}b",)))
        norm, residual = f"n{i + 1}", f"r{i}b"
    return ops, norm


def _logits(d: _Dims, rows: int, src: str, name: str) -> tuple[list[Op], Tensor]:
    """lm_head over ``rows`` rows; float32 output (tied: matmul out_dtype=float32; untied: cast)."""
    size = rows * d.vocab * 4 if d.static_vocab else None
    out = Tensor(name, size, "float32")
    if d.untied and d.act_dtype != "float32":
        mid_size = rows * d.vocab * d.act_bytes if d.static_vocab else None
        mid = Tensor("lm_head", mid_size, d.act_dtype)
        return [Op((mid,), (src,)), Op((out,), ("lm_head",))], out
    return [Op((out,), (src,))], out


def _function(
    name: str, d: _Dims, tokens: int, gather_rows: int | None, hidden_out: bool
) -> FunctionTemp:
    ops, norm = _stack(d, tokens)
    if hidden_out:
        out = Tensor(norm, tokens * d.hidden * d.act_bytes, d.act_dtype)
        return FunctionTemp(name, sum(b := plan_blocks(tuple(ops), (out,))), b)
    src, rows = norm, tokens
    if gather_rows is not None:  # take the rows whose logits are wanted
        rows_size = gather_rows * d.hidden * d.act_bytes
        ops.append(Op((Tensor("gather", rows_size, d.act_dtype),), (norm,)))
        src, rows = "gather", gather_rows
    head, out = _logits(d, rows, src, "logits")
    ops += head
    ops.append(Op((), (out.name,)))
    blocks = plan_blocks(tuple(ops), (out,))
    return FunctionTemp(name, sum(blocks), blocks)


def mlc_temp_buffer(
    spec: ModelSpec,
    scheme: MlcScheme,
    *,
    prefill_chunk: int,
    max_batch_size: int,
    max_threads_per_block: int = 256,
) -> TempEstimate:
    """MLC's per-function temporary buffers for ``spec`` compiled with these bounds.

    The context window and sliding window only bound KV-cache-side symbols
    (``_get_variable_bounds``), which no planned activation depends on in the current model
    definitions, so they are not inputs. ``max_threads_per_block`` is the target's
    ``max_num_threads`` (TVM defaults: 256 for webgpu, metal, vulkan, opencl; 1024 for cuda);
    pass 0 for CPU (``llvm``) targets, where FuseAddRMSNorm is skipped.
    """
    if prefill_chunk <= 0 or max_batch_size <= 0:
        raise ValueError("prefill_chunk and max_batch_size must be positive")
    d = _dims(spec, scheme, max_threads_per_block)
    s, bsz = prefill_chunk, max_batch_size
    h_bytes = d.hidden * d.act_bytes
    funcs = [
        _function("prefill", d, s, 1, False),
        _function("decode", d, 1, None, False),
        _function("batch_prefill", d, s, bsz, False),
        _function("batch_decode", d, bsz, None, False),
        _function("batch_verify", d, s, None, False),
        FunctionTemp("embed", s * h_bytes, (s * h_bytes,)),
        FunctionTemp("alloc_embedding_tensor", s * h_bytes, (s * h_bytes,)),
    ]
    if family(spec.architecture).mlc_hidden_state_functions:
        funcs += [
            _function("prefill_to_last_hidden_states", d, s, None, True),
            _function("decode_to_last_hidden_states", d, 1, None, True),
            _function("batch_prefill_to_last_hidden_states", d, s, None, True),
            _function("batch_decode_to_last_hidden_states", d, bsz, None, True),
            _function("batch_verify_to_last_hidden_states", d, s, None, True),
            FunctionTemp("batch_select_last_hidden_states", bsz * h_bytes, (bsz * h_bytes,)),
        ]
    return TempEstimate(tuple(funcs), prefill_chunk, max_batch_size)
