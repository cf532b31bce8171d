"""Head counts, head dim, hidden size, intermediate size, vocabulary and context of an ONNX decoder.

Each field is taken from the first source that gives it, in an order that follows what the
runtime itself trusts: concrete graph dims and node attributes first, then genai_config.json's
values (the runtime's own config), then derivations from projection widths, then config.json.
Configs that disagree with the graph become notes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from planner.spec import Origin
from planner_adapters.onnx.context import Ctx, most_common
from planner_adapters.onnx.linears import Linear
from planner_adapters.onnx.structure import AttentionNodes, Embedding, KvInputs, Projections

_A, _D, _S = Origin.ARTIFACT, Origin.DERIVED, Origin.ASSUMED


@dataclass(frozen=True, slots=True)
class Heads:
    """Attention geometry."""

    kv_heads: int
    head_dim: int
    heads: int


def heads(ctx: Ctx, kv: KvInputs, attn: AttentionNodes, proj: Projections) -> Heads:
    """KV heads, head dim and query heads, cross-checked against the packed QKV width."""
    prov, genai, hf = ctx.prov, ctx.genai, ctx.hf
    infos = kv.infos
    kv0 = infos[0].name if infos else "past key"
    graph_kvh, graph_hd = kv.kv_heads(), kv.head_dims()
    symbolic_hd = kv.symbolic_head_dims()
    if int4_packed_kv(ctx, kv):
        # two int4 values per byte: the attention's head dim is twice the inputs'
        graph_hd = Counter({2 * d: n for d, n in graph_hd.items()})
        ctx.note(
            f"KV inputs are uint8 with head dim {most_common(kv.head_dims())}: an int4 cache "
            "packing two values per byte (head_dim from genai_config.json head_size)"
        )

    # KV heads: concrete KV input dims win (the runtime overrides its config with them).
    kvh = prov.first(
        "num_kv_heads",
        (most_common(graph_kvh) if graph_kvh else None, _A, f"graph input {kv0} dim 1"),
        (
            most_common(attn.kv_heads) if attn.kv_heads else None,
            _A,
            "GroupQueryAttention attribute kv_num_heads",
        ),
        (
            genai.kv_heads if genai else None,
            _A,
            "genai_config.json model.decoder.num_key_value_heads",
        ),
    )
    if graph_kvh:
        if len(graph_kvh) > 1:
            ctx.note(f"KV-cache inputs differ in head count {dict(graph_kvh)}; using {kvh}")
        if attn.kv_heads and most_common(attn.kv_heads) != kvh:
            raise ctx.error(
                f"the graph contradicts itself: {kv0} has {kvh} KV heads but "
                f"GroupQueryAttention kv_num_heads={most_common(attn.kv_heads)}"
            )
    if kvh is not None and genai is not None and genai.kv_heads and genai.kv_heads != kvh:
        ctx.note(
            f"genai_config.json num_key_value_heads={genai.kv_heads} but the graph has {kvh}; "
            f"using {kvh} (the runtime takes concrete KV dims from the graph)"
        )

    n_heads = prov.first(
        "num_attention_heads",
        (
            most_common(attn.heads) if attn.heads else None,
            _A,
            "attention node attribute num_heads",
        ),
    )
    hd = _head_dim(ctx, kv0, graph_hd, symbolic_hd, n_heads, kvh, proj)

    q_lin, k_lin, fused_n = proj.q, proj.k, proj.fused_width
    if n_heads is None:
        n_heads = prov.first(
            "num_attention_heads",
            (
                q_lin.n // hd if q_lin is not None and q_lin.n % hd == 0 else None,
                _D,
                "q_proj width / head_dim",
            ),
            (
                fused_n // hd - 2 * kvh
                if fused_n is not None and kvh and fused_n % hd == 0 and fused_n // hd > 2 * kvh
                else None,
                _D,
                "packed QKV width / head_dim − 2·kv_heads",
            ),
            (
                genai.heads if genai else None,
                _A,
                "genai_config.json model.decoder.num_attention_heads",
            ),
            (hf.heads if hf else None, _A, "config.json num_attention_heads"),
        )
    if kvh is None:
        kvh = prov.first(
            "num_kv_heads",
            (
                k_lin.n // hd if k_lin is not None and k_lin.n % hd == 0 else None,
                _D,
                "k_proj width / head_dim",
            ),
            (hf.kv_heads if hf else None, _A, "config.json num_key_value_heads"),
            (n_heads, _S, "no KV dims or GQA attributes: assumed = heads"),
        )
    if n_heads is None or kvh is None:
        raise ctx.error("cannot determine the attention head counts from the graph")

    # Packed QKV width must equal (H + 2·KVH)·head_dim, or the runtime fails.
    if fused_n is not None and fused_n != (n_heads + 2 * kvh) * hd:
        qkv = proj.qkv
        raise ctx.error(
            f"head_dim={hd} ({prov.detail('head_dim')}) contradicts the graph: packed QKV "
            f"{qkv.node.name if qkv else ''!r} has N={fused_n}, not "
            f"(num_heads {n_heads} + 2·kv_heads {kvh})·{hd} = {(n_heads + 2 * kvh) * hd}"
        )
    for label, value, mine in (
        ("genai_config.json num_attention_heads", genai.heads if genai else None, n_heads),
        ("config.json num_attention_heads", hf.heads if hf else None, n_heads),
        ("config.json num_key_value_heads", hf.kv_heads if hf else None, kvh),
        ("config.json head_dim", hf.head_dim if hf else None, hd),
    ):
        if value is not None and value != mine:
            ctx.note(f"{label}={value} but the graph gives {mine}; using {mine}")
    return Heads(kv_heads=kvh, head_dim=hd, heads=n_heads)


def _head_dim(
    ctx: Ctx,
    kv0: str,
    graph_hd: Counter[int],
    symbolic_hd: list[str],
    n_heads: int | None,
    kvh: int | None,
    proj: Projections,
) -> int:
    prov, genai, hf = ctx.prov, ctx.genai, ctx.hf
    fused_n, q_lin, k_lin = proj.fused_width, proj.q, proj.k
    genai_detail = "genai_config.json model.decoder.head_size"
    if symbolic_hd:
        genai_detail += f" (the graph's KV head dim is the symbol {symbolic_hd[0]!r})"
    fused_heads = n_heads + 2 * kvh if n_heads and kvh else 0
    cos = ctx.g.tensors.get("cos_cache")
    cos_width = cos.dims[1] * 2 if cos is not None and len(cos.dims) == 2 else None
    hd = prov.first(
        "head_dim",
        (most_common(graph_hd) if graph_hd else None, _A, f"graph input {kv0} dim 3"),
        (genai.head_size if genai else None, _A, genai_detail),
        (
            fused_n // fused_heads
            if fused_n is not None and fused_heads and fused_n % fused_heads == 0
            else None,
            _D,
            "packed QKV width N / (num_heads + 2·kv_num_heads)",
        ),
        (
            q_lin.n // n_heads
            if q_lin is not None and n_heads and q_lin.n % n_heads == 0
            else None,
            _D,
            "q_proj width / num_heads",
        ),
        (
            k_lin.n // kvh if k_lin is not None and kvh and k_lin.n % kvh == 0 else None,
            _D,
            "k_proj width / num_kv_heads",
        ),
        (hf.head_dim if hf else None, _A, "config.json head_dim"),
        (cos_width, _D, "cos_cache dim 1 × 2"),
    )
    chosen = prov.detail("head_dim")
    if graph_hd and genai is not None and genai.head_size and genai.head_size != hd:
        ctx.note(
            f"genai_config.json head_size={genai.head_size} but {kv0} has head dim {hd}; "
            f"using {hd} (the runtime takes concrete KV dims from the graph)"
        )
    if hd is not None and chosen == "cos_cache dim 1 × 2":
        ctx.note("head_dim taken from cos_cache (assumes rotary on the full head)")
    if hd is not None and hd < 1:  # a zero-width projection or rotary table
        raise ctx.error(f"the graph gives head_dim={hd} ({chosen}); nothing to plan")
    if hd is None:
        raise ctx.error(
            "cannot determine the head size: the KV-cache head dim is symbolic"
            f"{' (' + repr(symbolic_hd[0]) + ')' if symbolic_hd else ''} and neither "
            "genai_config.json head_size nor attention projections give it"
        )
    return hd


def int4_packed_kv(ctx: Ctx, kv: KvInputs) -> bool:
    """A KV cache quantized to int4 per tensor (builder ``kv_cache_quant_scheme``) packs two
    values per uint8: its inputs are uint8 and their head dim is half genai_config.json's
    head_size, the attention's."""
    genai = ctx.genai
    dims = kv.head_dims()
    dtypes = {vi.dtype for vi in kv.infos if vi.dtype}
    return (
        dtypes == {"uint8"}
        and genai is not None
        and bool(genai.head_size)
        and bool(dims)
        and genai.head_size == 2 * most_common(dims)
    )


def hidden_size(
    ctx: Ctx, emb: Embedding | None, attn_in: Linear | None, linears: list[Linear]
) -> int:
    """The attention input width, else the embedding width, else configs, else MatMul widths."""
    prov, genai, hf = ctx.prov, ctx.genai, ctx.hf
    emb_cols = emb.cols if emb is not None and emb.cols else None
    hidden = prov.first(
        "hidden_size",
        (
            attn_in.k if attn_in is not None else None,
            _A,
            f"input width K of {attn_in.node.name or attn_in.node.op}" if attn_in else "",
        ),
        (emb_cols, _A, "embedding table width"),
        (genai.hidden if genai else None, _A, "genai_config.json model.decoder.hidden_size"),
        (hf.hidden if hf else None, _A, "config.json hidden_size"),
        (
            most_common(Counter(lin.k for lin in linears)) if linears else None,
            _D,
            "most common MatMul input width",
        ),
    )
    if hidden is None:
        raise ctx.error("cannot determine the hidden size")
    if emb_cols and emb_cols != hidden:
        ctx.note(f"embedding width {emb_cols} differs from the attention input width {hidden}")
    for label, value in (
        ("genai_config.json hidden_size", genai.hidden if genai else None),
        ("config.json hidden_size", hf.hidden if hf else None),
    ):
        if value is not None and value != hidden:
            ctx.note(f"{label}={value} but the graph gives {hidden}; using {hidden}")
    return hidden


def intermediate_size(
    ctx: Ctx,
    linears: list[Linear],
    hidden: int,
    attn_width: int,
    proj: Projections,
    head: Linear | None,
) -> int | None:
    """MLP width from named projections, else from MatMuls projecting back to the hidden size."""
    prov, hf = ctx.prov, ctx.hf
    named: Counter[int] = Counter()
    for lin in linears:
        role = lin.role
        if role in ("down_proj", "fc2"):
            named[lin.k] += 1
        elif role in ("gate_proj", "up_proj", "fc1", "c_fc"):
            named[lin.n] += 1
        elif role == "gate_up_proj" and lin.n % 2 == 0:
            named[lin.n // 2] += 1
    # Without names: the down projection maps some width other than the attention width back
    # to the hidden size.
    unnamed: Counter[int] = Counter()
    if not named:
        skip = {id(x) for x in (proj.qkv, proj.q, head) if x is not None}
        for lin in linears:
            if id(lin) not in skip and lin.n == hidden and lin.k not in (hidden, attn_width):
                unnamed[lin.k] += 1
    value = prov.first(
        "intermediate_size",
        (most_common(named) if named else None, _A, "MLP projection widths (node names)"),
        (
            most_common(unnamed) if unnamed else None,
            _D,
            "input width of MatMuls projecting back to the hidden size",
        ),
        (hf.intermediate if hf else None, _A, "config.json intermediate_size"),
    )
    if value is None:
        prov.assumed("intermediate_size", "not determinable from the graph")
    if hf is not None and hf.intermediate and value is not None and hf.intermediate != value:
        ctx.note(
            f"config.json intermediate_size={hf.intermediate} but the graph "
            f"gives {value}; using {value}"
        )
    return value


def vocab_size(ctx: Ctx, emb: Embedding | None, head: Linear | None) -> int:
    """The logits' last dim, else the lm_head width, else embedding rows, else configs."""
    prov, genai, hf = ctx.prov, ctx.genai, ctx.hf
    name = ctx.logits_name
    out = ctx.g.value_info(name)
    last = out.dims[-1] if out is not None and out.dims else None
    vocab = prov.first(
        "vocab_size",
        (
            last if isinstance(last, int) and last > 0 else None,
            _A,
            f"graph output {name!r} last dim",
        ),
        (head.n if head is not None else None, _A, "lm_head output width N"),
        (emb.rows if emb is not None else None, _A, "embedding table rows"),
        (genai.vocab if genai else None, _A, "genai_config.json model.vocab_size"),
        (hf.vocab if hf else None, _A, "config.json vocab_size"),
    )
    if vocab is None:
        raise ctx.error(
            "cannot determine the vocabulary size (no logits output, lm_head, embedding or config)"
        )
    for label, value in (
        ("genai_config.json vocab_size", genai.vocab if genai else None),
        ("config.json vocab_size", hf.vocab if hf else None),
    ):
        if value is not None and value != vocab:
            ctx.note(f"{label}={value} but the graph gives {vocab}; using {vocab}")
    return vocab


def max_context(ctx: Ctx) -> int | None:
    """genai_config.json context_length, else config.json, else the rotary table's rows."""
    prov, genai, hf = ctx.prov, ctx.genai, ctx.hf
    cos = ctx.g.tensors.get("cos_cache")
    rows = cos.dims[0] if cos is not None and len(cos.dims) == 2 else None
    value = prov.first(
        "max_context",
        (genai.context if genai else None, _A, "genai_config.json model.context_length"),
        (hf.context if hf else None, _A, "config.json max_position_embeddings"),
        (rows or None, _A, "cos_cache rows (the rotary table baked into the graph)"),
    )
    if value is None:
        prov.assumed("max_context", "no context length in the artifact")
    if rows and value and rows < value:
        ctx.note(
            f"cos_cache has {rows} rows, fewer than the context length "
            f"{value}: positions past {rows} cannot run"
        )
    return value
