"""The kernel sequences ``mlc_llm compile`` plans, one op-sequence function per graph shape.

Each function appends one decoder layer's fused kernels (after ``FuseAddRMSNorm``, ``FuseOps``
and ``FuseTIR``) to an ``OpBuilder``; ``GRAPHS`` maps the registry's ``MlcFacts.graph`` name to
it. Placement rules seen in the compiler's IR (mlc-llm 79d603f on apache-tvm 0.26):

- elementwise epilogues (bias, residual add, activation, casts, clip) join the matmul kernel
  before them; a reduction (RMS/LayerNorm) joins a following elementwise op;
- ``FuseAddRMSNorm`` (``compiler_pass/fuse_add_norm.py``; float16/bfloat16, GPU targets,
  hidden % min(1024, max_threads) == 0) turns ``rms_norm(add(x, r))`` into one kernel with two
  outputs (normed, sum) and runs before FuseOps, so the residual add leaves the matmul;
- a fused group runs where its last input becomes available: ``attn + mlp + residual`` (phi,
  GPT-J, GPT-NeoX parallel blocks) is one kernel after the MLP; Cohere's ``attn + x`` right
  after attention;
- split (q/k-norm families) is one kernel with three outputs; the concat reads (v, q_n, k_n).

MoE layers follow the source (``op/moe_misc.py``, ``op/moe_matmul.py``): router, top-k,
cumsum/indices/indptr (int32), gathered tokens, grouped expert matmuls over tokens × k rows,
scatter, weighted sum; not checked against the compiler (TVM 0.26 cannot export MoE ops).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from planner.runtimes.mlc.plan import Op, Tensor


@dataclass(frozen=True, slots=True)
class Dims:
    """What the graphs read: the model's widths and the compile-time switches."""

    hidden: int
    layers: int
    q: int
    kv: int
    head_dim: int
    inter: int
    vocab: int
    act: str
    act_bytes: int
    rms: bool
    fan: bool
    """FuseAddRMSNorm applies (RMS norms, f16/bf16, GPU, hidden divisible)."""
    static_vocab: bool
    qkv_split: bool = False
    qk_norm: bool = False
    gate_up_split: bool = False
    gated: bool = True
    parallel_residual: bool = True
    experts: int = 0
    top_k: int = 0
    moe_inter: int = 0
    shared_inter: int = 0
    shared_gate: bool = False
    moe_layers: frozenset[int] = frozenset()
    mla: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
    """DeepSeek-V2: (kv_lora_rank, qk_rope_head_dim, qk_nope_head_dim, v_head_dim,
    q_lora_rank)."""
    heads: int = 0


@dataclass(slots=True)
class State:
    """The residual stream between layers."""

    x: str
    normed: str | None = None
    """The next layer's normed input, when already computed."""
    pend: str | None = None
    """A matmul output not yet added to ``x`` (FuseAddRMSNorm takes the add)."""


class OpBuilder:
    """Collects the planned kernels of one function over ``n`` tokens."""

    def __init__(self, d: Dims, n: int) -> None:
        self.d = d
        self.n = n
        self.ops: list[Op] = []
        self._k = 0

    def kernel(
        self,
        widths: tuple[int, ...],
        ins: tuple[str, ...],
        tag: str = "t",
        *,
        rows: int | None = None,
        dtype: str | None = None,
        dynamic: bool = False,
    ) -> list[str]:
        """One fused kernel writing ``len(widths)`` outputs of rows × width elements."""
        rows = self.n if rows is None else rows
        dt = dtype or self.d.act
        size = {"float32": 4, "int32": 4}.get(dt, self.d.act_bytes)
        outs = []
        for w in widths:
            self._k += 1
            outs.append(Tensor(f"{tag}#{self._k}", None if dynamic else rows * w * size, dt))
        self.ops.append(Op(tuple(outs), ins))
        return [t.name for t in outs]

    def k1(self, width: int, ins: tuple[str, ...], tag: str = "t", **kw: object) -> str:
        """A kernel with one output."""
        return self.kernel((width,), ins, tag, **kw)[0]  # type: ignore[arg-type]


def norm_in(b: OpBuilder, st: State, fan: bool) -> State:
    """A state whose ``normed`` is norm(residual): fused add+norm when an add is pending."""
    if st.normed is not None:
        return st
    if st.pend is not None:
        normed, summed = b.kernel((b.d.hidden, b.d.hidden), (st.pend, st.x), "addnorm")
        return State(summed, normed)
    return State(st.x, b.k1(b.d.hidden, (st.x,), "norm"))


def residual_matmul(b: OpBuilder, x_in: str, st: State, fan: bool) -> State:
    """out = matmul(x_in) + residual: a fused epilogue, or pending for FuseAddRMSNorm."""
    if fan:
        return State(st.x, None, b.k1(b.d.hidden, (x_in,), "mm"))
    return State(b.k1(b.d.hidden, (x_in, st.x), "mm_res"))


def qk_norm(b: OpBuilder, qkv: str) -> str:
    """split (three outputs) → q_norm → k_norm → concat(v, q_n, k_n)."""
    d = b.d
    if not d.qk_norm:
        return qkv
    qs, ks, vs = b.kernel((d.q, d.kv, d.kv), (qkv,), "split")
    qn = b.k1(d.q, (qs,), "q_norm")
    kn = b.k1(d.kv, (ks,), "k_norm")
    return b.k1(d.q + 2 * d.kv, (vs, qn, kn), "concat")


def _qkv(b: OpBuilder, normed: str) -> str:
    d = b.d
    if d.qkv_split:
        q = b.k1(d.q, (normed,), "q")
        k = b.k1(d.kv, (normed,), "k")
        v = b.k1(d.kv, (normed,), "v")
        if d.qk_norm:
            q = b.k1(d.q, (q,), "q_norm")
            k = b.k1(d.kv, (k,), "k_norm")
        return b.k1(d.q + 2 * d.kv, (q, k, v), "concat")
    return qk_norm(b, b.k1(d.q + 2 * d.kv, (normed,), "qkv"))


def _mlp_act(b: OpBuilder, normed: str) -> str:
    d = b.d
    if d.gated and d.gate_up_split:
        g = b.k1(d.inter, (normed,), "gate")
        return b.k1(d.inter, (normed, g), "up_act")
    if d.gated:
        return b.k1(d.inter, (b.k1(2 * d.inter, (normed,), "gate_up"),), "act")
    return b.k1(d.inter, (normed,), "up_act")


def moe_block(b: OpBuilder, x_in: str) -> str:
    """The MoE MLP output [n, h] before the residual add (mixtral/mixtral_model.py MixtralMoE,
    qwen2_moe, deepseek): router → top-k → (decode: gemv over k experts | prefill: cumsum,
    indices, indptr, gather, grouped gemms over n·k rows, scatter) → weights → sum."""
    d, n = b.d, b.n
    e, k, mi = d.experts, d.top_k, d.moe_inter
    gate = b.k1(e, (x_in,), "router")
    w, idx = b.kernel((k, k), (gate,), "topk")
    last = b.ops[-1]
    b.ops[-1] = Op((last.outputs[0], Tensor(idx, n * k * 4, "int32")), last.inputs)
    if n == 1:
        gu = b.k1(2 * mi, (x_in, idx), "e1e3_gemv", rows=k)
        act = b.k1(mi, (gu,), "act", rows=k)
        y = b.k1(d.hidden, (act, idx), "e2_gemv", rows=k)
    else:
        cs = b.k1(e * n, (idx,), "cumsum", dtype="int32", rows=1)
        rev, tok = b.kernel((n * k, n * k), (cs, idx), "indices", rows=1, dtype="int32")
        indptr = b.k1(e + 1, (cs,), "indptr", rows=1, dtype="int32")
        xt = b.k1(d.hidden, (x_in, tok), "take", rows=n * k)
        gu = b.k1(2 * mi, (xt, indptr), "e1e3", rows=n * k)
        act = b.k1(mi, (gu,), "act", rows=n * k)
        y0 = b.k1(d.hidden, (act, indptr), "e2", rows=n * k)
        y = b.k1(d.hidden, (y0, rev), "scatter", rows=n * k)
    yw = b.k1(d.hidden, (y, w), "weight_mul", rows=n * k)
    out = b.k1(d.hidden, (yw,), "moe_sum")
    if d.shared_inter:
        sgu = b.k1(2 * d.shared_inter, (x_in,), "shared_gate_up")
        sact = b.k1(d.shared_inter, (sgu,), "shared_act")
        if d.shared_gate:  # sigmoid(shared_expert_gate(x)) * shared(x) + routed
            sg = b.k1(1, (x_in,), "shared_gate")
            out = b.k1(d.hidden, (sact, sg, out), "shared_down_mul_add")
        else:
            out = b.k1(d.hidden, (sact, out), "shared_down_add")
    return out


def _moe_tail(b: OpBuilder, st: State, fan: bool) -> State:
    st = norm_in(b, st, fan)
    assert st.normed is not None
    out = moe_block(b, st.normed)
    if fan:
        return State(st.x, None, out)
    return State(b.k1(b.d.hidden, (out, st.x), "add"))


def pre_norm(b: OpBuilder, i: int, st: State) -> State:
    """LlamaDecoderLayer and its variants: norm → qkv (→ q/k norms) → attention → o_proj
    (+residual) → norm → MLP (+residual)."""
    d = b.d
    fan = d.fan and d.rms
    st = norm_in(b, st, fan)
    assert st.normed is not None
    att = b.k1(d.q, (_qkv(b, st.normed),), "attn")
    st = residual_matmul(b, att, State(st.x), fan)
    if i in d.moe_layers:
        return _moe_tail(b, st, fan)
    st = norm_in(b, st, fan)
    assert st.normed is not None
    return residual_matmul(b, _mlp_act(b, st.normed), State(st.x), fan)


def _post_norm_residual(b: OpBuilder, o: str, st: State, fan: bool) -> State:
    """h = norm(o) + residual: FuseOps joins them; with FuseAddRMSNorm the add moves into the
    next add+norm kernel and norm(o) stays alone."""
    if fan:
        return State(st.x, None, b.k1(b.d.hidden, (o,), "post_norm"))
    return State(b.k1(b.d.hidden, (o, st.x), "norm_add"))


def sandwich_norm(b: OpBuilder, i: int, st: State) -> State:
    """Gemma-2/3: pre and post norms around attention and MLP."""
    d = b.d
    fan = d.fan
    st = norm_in(b, st, fan)
    assert st.normed is not None
    att = b.k1(d.q, (_qkv(b, st.normed),), "attn")
    st = _post_norm_residual(b, b.k1(d.hidden, (att,), "o"), State(st.x), fan)
    st = norm_in(b, st, fan)
    assert st.normed is not None
    down = b.k1(d.hidden, (_mlp_act(b, st.normed),), "down")
    return _post_norm_residual(b, down, State(st.x), fan)


def post_norm(b: OpBuilder, i: int, st: State) -> State:
    """OLMo-2: h = h + norm(attn(h)); h = h + norm(mlp(h)); no input norm. Each norm fuses
    with its residual add; the last layer's add goes to the final norm's FuseAddRMSNorm."""
    d = b.d
    qkv = qk_norm(b, b.k1(d.q + 2 * d.kv, (st.x,), "qkv"))
    att = b.k1(d.q, (qkv,), "attn")
    h = b.k1(d.hidden, (b.k1(d.hidden, (att,), "o"), st.x), "norm_add")
    down = b.k1(d.hidden, (_mlp_act(b, h),), "down")
    if i == d.layers - 1 and d.fan:
        return State(h, None, b.k1(d.hidden, (down,), "post_norm"))
    return State(b.k1(d.hidden, (down, h), "norm_add"))


def parallel(b: OpBuilder, i: int, st: State) -> State:
    """phi (PhiParallelBlock), GPT-J: one LayerNorm feeds attention and MLP; o_proj absorbs
    both adds and runs after the MLP."""
    d = b.d
    n = b.k1(d.hidden, (st.x,), "ln")
    att = b.k1(d.q, (qk_norm(b, b.k1(d.q + 2 * d.kv, (n,), "qkv")),), "attn")
    m = b.k1(d.hidden, (_mlp_act(b, n),), "fc2")
    return State(b.k1(d.hidden, (att, m, st.x), "o_res"))


def cohere(b: OpBuilder, i: int, st: State) -> State:
    """CohereDecoderLayer: h1 = out_proj(attn(ln(x))) + x right after attention; up;
    silu(gate) * up in one kernel; down + h1."""
    d = b.d
    n = b.k1(d.hidden, (st.x,), "ln")
    att = b.k1(d.q, (qk_norm(b, b.k1(d.q + 2 * d.kv, (n,), "qkv")),), "attn")
    h1 = b.k1(d.hidden, (att, st.x), "o_res")
    up = b.k1(d.inter, (n,), "up")
    gm = b.k1(d.inter, (n, up), "gate_silu_mul")
    return State(b.k1(d.hidden, (gm, h1), "down_res"))


def gpt_neox(b: OpBuilder, i: int, st: State) -> State:
    """GPT-NeoX: parallel residual (two LayerNorms; mlp + attn + x in one kernel), else the
    pre-norm sequence."""
    d = b.d
    if not d.parallel_residual:
        return pre_norm(b, i, st)
    n1 = b.k1(d.hidden, (st.x,), "ln1")
    att = b.k1(d.q, (b.k1(d.q + 2 * d.kv, (n1,), "qkv"),), "attn")
    ao = b.k1(d.hidden, (att,), "dense")
    n2 = b.k1(d.hidden, (st.x,), "ln2")
    m = b.k1(d.hidden, (b.k1(d.inter, (n2,), "fc1_act"),), "fc2")
    return State(b.k1(d.hidden, (m, ao, st.x), "add"))


def mla(b: OpBuilder, i: int, st: State) -> State:
    """DeepSeek-V2 multi-head latent attention (source only): q (or q_a → norm → q_b),
    kv_a → split → latent norm, q_nope × w_uk absorbed, attention over the latent, × w_uv,
    o_proj; then the MoE or dense MLP."""
    d = b.d
    rank, rope, nope, v, q_rank = d.mla
    h = d.heads
    fan = d.fan
    st = norm_in(b, st, fan)
    assert st.normed is not None
    if q_rank:
        qa = b.k1(q_rank, (b.k1(q_rank, (st.normed,), "q_a"),), "q_a_norm")
        q = b.k1(h * (nope + rope), (qa,), "q_b")
    else:
        q = b.k1(h * (nope + rope), (st.normed,), "q")
    kva = b.k1(rank + rope, (st.normed,), "kv_a")
    lat, pe = b.kernel((rank, rope), (kva,), "split")
    lat_n = b.k1(rank, (lat,), "kv_a_norm")
    qn, qp = b.kernel((h * nope, h * rope), (q,), "q_split")
    q_abs = b.k1(h * rank, (qn,), "w_uk")
    q_cat = b.k1(h * (rank + rope), (q_abs, qp), "q_concat")
    kv_cat = b.k1(rank + rope, (lat_n, pe), "kv_concat")
    att = b.k1(h * rank, (q_cat, kv_cat), "attn")
    o_in = b.k1(h * v, (att,), "w_uv")
    st = residual_matmul(b, o_in, State(st.x), fan)
    if i in d.moe_layers:
        return _moe_tail(b, st, fan)
    st = norm_in(b, st, fan)
    assert st.normed is not None
    return residual_matmul(b, _mlp_act(b, st.normed), State(st.x), fan)


LayerFn = Callable[[OpBuilder, int, State], State]

GRAPHS: dict[str, LayerFn] = {
    "pre_norm": pre_norm,
    "sandwich_norm": sandwich_norm,
    "post_norm": post_norm,
    "parallel": parallel,
    "cohere": cohere,
    "gpt_neox": gpt_neox,
    "mla": mla,
}
"""``MlcFacts.graph`` → the function that appends one layer. A new graph shape is one function
here plus its name in the family's registry entry."""


def pre(b: OpBuilder, kind: str | None, st: State) -> State:
    """Embedding-side kernels at the start of every function."""
    if kind == "embed_scale":  # Gemma: input_embed * sqrt(hidden)
        return State(b.k1(b.d.hidden, (st.x,), "embed_scale"))
    if kind == "position_embedding":  # GPT-2: take(wpe, positions) then add
        pos = b.k1(b.d.hidden, (), "wpe")
        return State(b.k1(b.d.hidden, (st.x, pos), "add_pos"))
    return st


def head(b: OpBuilder, kind: str, st: State) -> str:
    """The final normed hidden state the lm_head reads."""
    d = b.d
    if kind == "none":
        return st.x
    if kind == "layer_norm":
        return b.k1(d.hidden, (st.x,), "ln_f")
    if kind == "post_norm":
        if st.pend is not None:
            return b.kernel((d.hidden, d.hidden), (st.pend, st.x), "addnorm")[0]
        return b.k1(d.hidden, (st.x,), "norm")
    fan = d.fan and d.rms
    st = norm_in(b, st, fan)
    assert st.normed is not None
    if kind == "scale_width" and fan:  # MiniCPM: the divide is a kernel after add+norm
        return b.k1(d.hidden, (st.normed,), "div")
    return st.normed
