"""The decoder's structure in an ONNX graph: KV-cache inputs, attention nodes, layers, the token
embedding, the lm_head, the attention projections, sliding windows and the KV dtype.

onnxruntime-genai sizes its KV cache from ``num_hidden_layers``/``num_key_value_heads``/
``head_size`` and overrides them with concrete KV input dims of the graph, so the graph's KV
inputs are the first source for layers and KV heads.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from planner.io.limits import MAX_DIM
from planner.quant import DTYPE_BYTES
from planner.spec import Origin
from planner_adapters._values import check_layers
from planner_adapters.onnx.configs import name_pattern
from planner_adapters.onnx.context import (
    ATTENTION_OPS,
    COM_MS,
    FLOAT_DTYPES,
    LAYER_RE,
    Ctx,
    layer_index,
)
from planner_adapters.onnx.graph import Node, Tensor, ValueInfo
from planner_adapters.onnx.linears import Linear

_A, _D = Origin.ARTIFACT, Origin.DERIVED
_NO_KV_NOTE = (
    "the graph has no KV-cache inputs: every step recomputes attention over the whole sequence"
)


# --------------------------------------------------------------------------- KV-cache inputs


@dataclass(frozen=True, slots=True)
class KvInputs:
    """KV-cache graph inputs by layer: keys (``past_key_values.N.key``), value names, or
    combined (``past_N``: [2, batch, heads, seq, dim]) when there are no separate keys."""

    keys: dict[int, ValueInfo]
    values: dict[int, str]
    combined: dict[int, ValueInfo]

    @property
    def layers(self) -> list[int]:
        """Layer indices with a KV input, sorted."""
        return sorted(self.keys) if self.keys else sorted(self.combined)

    @property
    def infos(self) -> list[ValueInfo]:
        """The key (or combined) inputs in layer order."""
        by_layer = self.keys or self.combined
        return [by_layer[i] for i in self.layers]

    @property
    def head_axis(self) -> int:
        """Axis of the head count in a key input's dims."""
        return 1 if self.keys else 2

    def _dims(self) -> list[tuple[int | str | None, ...]]:
        rank = self.head_axis + 3
        return [vi.dims for vi in self.infos if vi.dims is not None and len(vi.dims) == rank]

    def kv_heads(self) -> Counter[int]:
        """Concrete, positive head counts of the key inputs."""
        axis = self.head_axis
        return Counter(x for d in self._dims() if isinstance(x := d[axis], int) and x > 0)

    def head_dims(self) -> Counter[int]:
        """Concrete, positive head dims of the key inputs."""
        axis = self.head_axis + 2
        return Counter(x for d in self._dims() if isinstance(x := d[axis], int) and x > 0)

    def symbolic_head_dims(self) -> list[str]:
        """Head dims that are symbols (``kv_cache_dim``)."""
        axis = self.head_axis + 2
        return [x for d in self._dims() if isinstance(x := d[axis], str)]

    def names(self) -> tuple[str, ...]:
        """Every KV input name, in layer order (key then value)."""
        out: list[str] = []
        for i in self.layers:
            if self.keys:
                out.append(self.keys[i].name)
                if i in self.values:
                    out.append(self.values[i])
            else:
                out.append(self.combined[i].name)
        return tuple(out)


def kv_inputs(ctx: Ctx) -> KvInputs:
    """Find the KV-cache inputs by the genai name templates (or the usual Optimum names)."""
    genai = ctx.genai
    cp: re.Pattern[str] | None
    if genai is not None:
        kp = name_pattern(genai.past_key, genai.path, "past_key_names")
        vp = name_pattern(genai.past_value, genai.path, "past_value_names")
        cp = (
            name_pattern(genai.past_combined, genai.path, "past_names")
            if genai.past_combined
            else None
        )
    else:
        kp = re.compile(r"past_key_values\.(\d+)\.key")
        vp = re.compile(r"past_key_values\.(\d+)\.value")
        cp = re.compile(r"past_(\d+)")
    keys: dict[int, str] = {}
    values: dict[int, str] = {}
    combined: dict[int, str] = {}
    for name in ctx.g.input_protos:
        for pat, into in ((kp, keys), (vp, values), (cp, combined)):
            if pat is None:
                continue
            m = pat.fullmatch(name)
            if m:
                index = layer_index(m.group(1))
                if index >= MAX_DIM:
                    raise ctx.error(f"KV-cache input {name[:60]!r} has an absurd layer index")
                into[index] = name
                break
    if keys:
        combined = {}
    info = ctx.g.value_info
    return KvInputs(
        keys={i: vi for i, n in keys.items() if (vi := info(n)) is not None},
        values=values,
        combined={i: vi for i, n in combined.items() if (vi := info(n)) is not None},
    )


def kv_dtype(ctx: Ctx, kv: KvInputs) -> str:
    """Element type of the KV inputs (else the logits dtype, else float32)."""
    for vi in kv.infos:
        if vi.dtype:
            if vi.dtype not in DTYPE_BYTES:  # e.g. float8_e8m0, complex64, int2
                raise ctx.error(
                    f"KV-cache input {vi.name!r} has element type {vi.dtype}, "
                    "which no runtime keeps a KV cache in"
                )
            ctx.prov.artifact("kv_dtype", f"element type of graph input {vi.name}")
            return vi.dtype
    logits = ctx.g.value_info(ctx.logits_name)
    if logits is not None and logits.dtype in FLOAT_DTYPES:
        ctx.prov.assumed("kv_dtype", "no KV-cache inputs: assumed the logits dtype")
        return logits.dtype
    ctx.prov.assumed("kv_dtype", "no KV-cache inputs: assumed float32")
    return "float32"


# --------------------------------------------------------------------------- attention, layers


@dataclass(frozen=True, slots=True)
class AttentionNodes:
    """com.microsoft attention nodes and the head counts their attributes give."""

    nodes: list[Node]
    heads: Counter[int]
    """``num_heads`` values."""
    kv_heads: Counter[int]
    """``kv_num_heads`` values (GroupQueryAttention, PagedAttention)."""


def attention_nodes(ctx: Ctx) -> AttentionNodes:
    """The fused attention nodes; disagreeing head attributes become a note."""
    g = ctx.g
    attn = [n for n in g.ops(*ATTENTION_OPS) if n.domain == COM_MS]
    heads = Counter(h for n in attn if (h := g.attr_int(n, "num_heads", 0) or 0) > 0)
    kv = Counter(
        h
        for n in attn
        if n.op in ("GroupQueryAttention", "PagedAttention")
        and (h := g.attr_int(n, "kv_num_heads", 0) or 0) > 0
    )
    for label, counter in (("num_heads", heads), ("kv_num_heads", kv)):
        if len(counter) > 1:
            ctx.note(f"attention nodes disagree on {label}: {dict(counter)}; using the most common")
    return AttentionNodes(attn, heads, kv)


def layer_count(ctx: Ctx, kv: KvInputs, attn: list[Node], linears: list[Linear]) -> int:
    """Decoder layers: KV inputs, else attention nodes, else configs, else layer-named nodes."""
    genai, hf = ctx.genai, ctx.hf
    kv_layers = kv.layers
    indices = {lin.layer for lin in linears if lin.layer is not None}
    layers = ctx.prov.first(
        "num_layers",
        (len(kv_layers) or None, _A, "count of KV-cache graph inputs (past_key_values.N.key)"),
        (len(attn) or None, _A, f"count of {attn[0].op} nodes" if attn else ""),
        (genai.layers if genai else None, _A, "genai_config.json model.decoder.num_hidden_layers"),
        (hf.layers if hf else None, _A, "config.json num_hidden_layers"),
        (max(indices) + 1 if indices else None, _D, "highest layer index in node names + 1"),
    )
    if layers is None:
        raise ctx.error(
            "cannot find decoder layers: no KV-cache inputs (past_key_values.N.key), no "
            "attention nodes and no layer-named nodes; is this an LLM decoder?"
        )
    if kv_layers:
        if kv_layers != list(range(layers)):
            ctx.note(
                f"KV-cache inputs cover layers {kv_layers[:8]}...; not 0..{layers - 1} "
                "(layers without a KV cache are not counted)"
            )
    elif attn or ctx.prov.detail("num_layers") == "highest layer index in node names + 1":
        ctx.note(_NO_KV_NOTE)
    check_layers(layers, ctx.path, "the decoder's layer count")
    for label, value in (
        ("genai_config.json num_hidden_layers", genai.layers if genai else None),
        ("config.json num_hidden_layers", hf.layers if hf else None),
    ):
        if value is not None and value != layers:
            ctx.note(
                f"{label}={value} but the graph has {layers} KV-cache layers; "
                f"using {layers} (the runtime allocates per graph input)"
            )
    return layers


def attention_softcap(ctx: Ctx, attn: list[Node]) -> float:
    """The largest ``softcap`` of the GroupQueryAttention nodes (0.0 when none sets one): with it,
    onnxruntime's CPU kernel materializes the prompt's attention scores instead of taking its
    flash path."""
    values = [ctx.g.attrs(n).get("softcap") for n in attn if n.op == "GroupQueryAttention"]
    caps = [float(v) for v in values if isinstance(v, float) and v == v and 0 < v < 1e30]
    return max(caps, default=0.0)


def layer_windows(ctx: Ctx, attn: list[Node], kv: KvInputs, layers: int) -> tuple[int | None, ...]:
    """Per-layer sliding windows: GQA ``local_window_size``, else genai_config, else config.json."""
    g, prov, genai, hf = ctx.g, ctx.prov, ctx.genai, ctx.hf
    key_layer = {vi.name: i for i, vi in kv.keys.items()}
    windows: list[int | None] = [None] * layers
    found = False
    for order, node in enumerate(n for n in attn if n.op == "GroupQueryAttention"):
        size = g.attr_int(node, "local_window_size", -1)
        if size is None or size <= 0:
            continue
        layer = key_layer.get(node.inputs[3]) if len(node.inputs) > 3 else None
        if layer is None:
            m = LAYER_RE.search(node.name)
            layer = layer_index(m.group(1)) if m else order
        if 0 <= layer < layers:
            windows[layer] = size
            found = True
    if found:
        prov.artifact("layer_windows", "GroupQueryAttention local_window_size per layer")
    elif genai is not None and genai.window:
        chosen = genai.window_layers if genai.window_layers is not None else range(layers)
        for i in chosen:
            if i < layers:
                windows[i] = genai.window
                found = True
        if found:
            prov.artifact("layer_windows", "genai_config.json model.decoder.sliding_window")
    elif hf is not None and hf.window and (hf.layer_types or hf.use_window):
        for i in range(layers):
            if hf.layer_types is None or (
                i < len(hf.layer_types) and "sliding" in hf.layer_types[i]
            ):
                windows[i] = hf.window
                found = True
        if found:
            prov.artifact("layer_windows", "config.json sliding_window / layer_types")
    if not found:
        prov.derived("layer_windows", "no sliding-window attention: every layer is global")
        return ()
    return tuple(windows)


# --------------------------------------------------------------------------- embedding, lm_head


@dataclass(frozen=True, slots=True)
class Embedding:
    """The token embedding: its Gather node, the initializers it reads, rows and columns."""

    node: Node
    tensors: tuple[str, ...]
    rows: int
    cols: int | None


def embedding(ctx: Ctx) -> Embedding | None:
    """The Gather (or GatherBlockQuantized) reading ``input_ids`` from the largest table."""
    g = ctx.g
    ids = ctx.genai.input_ids if ctx.genai else "input_ids"
    best: tuple[int, Node, list[str], Tensor, bool] | None = None
    for node in g.ops("Gather", "GatherBlockQuantized"):
        if len(node.inputs) < 2:
            continue
        src, crossed = ctx.trace(node.inputs[0])
        if src is None:
            continue
        t = g.tensors[src]
        if len(t.dims) < 2:
            continue
        score = 2 if node.inputs[1] == ids else 1 if "embed" in node.name.lower() else 0
        # A tied fp32 builder graph gathers from Transpose(lm_head weight [hidden, vocab]).
        flipped = sum(1 for c in crossed if c.op == "Transpose") % 2 == 1
        if best is None or score > best[0] or (score == best[0] and t.numel > best[3].numel):
            best = (score, node, ctx.node_tensors(node), t, flipped)
    if best is None:
        return None
    _, node, tensors, t, flipped = best
    rows = t.dims[-1] if flipped else t.dims[0]
    cols: int | None = t.dims[0] if flipped else t.dims[-1]
    if node.op == "GatherBlockQuantized":
        bits = g.attr_int(node, "bits", 4) or 4
        if t.dtype == "uint8":
            # Packed along the last dim; a MatMulNBits weight [N, blocks, blob] reshaped to
            # [N, K*bits/8] (shared embeddings) carries the same bytes.
            per_row = t.numel // rows if rows else 0
            cols = per_row * 8 // bits if bits in (2, 4, 8) else None
    return Embedding(node, tuple(tensors), rows, cols)


def lm_head(ctx: Ctx, by_node: dict[int, Linear]) -> Linear | None:
    """The projection producing the logits output (through Cast, Reshape, softcap, bias...)."""
    g = ctx.g
    name = ctx.logits_name
    if name not in g.output_protos:
        name = next((o for o in g.output_protos if "logits" in o), "")
    if not name:
        return None
    for _ in range(8):
        node = g.producer.get(name)
        if node is None:
            return None
        lin = by_node.get(id(node))
        if lin is not None:
            return lin
        if node.op == "If":
            return next((lin for lin in by_node.values() if lin.role == "lm_head"), None)
        if not node.inputs:
            return None
        name = node.inputs[0]  # Cast, Reshape, Identity, softcap Div/Tanh/Mul, bias Add
    return None


_VIEWS = frozenset({"Reshape", "Identity", "Squeeze", "Unsqueeze", "Flatten"})


def logits_ops(ctx: Ctx, head: Linear | None) -> tuple[str, ...]:
    """The ops between the lm_head projection and the logits output that write a new tensor
    (a softcap's Div/Tanh/Mul, a logits scale, a bias Add, a Cast), output side first; views
    (Reshape, Identity...) are skipped. onnxruntime holds each as a [tokens, vocab] buffer."""
    if head is None:
        return ()
    g = ctx.g
    name = ctx.logits_name
    if name not in g.output_protos:
        name = next((o for o in g.output_protos if "logits" in o), "")
    ops: list[str] = []
    for _ in range(8):
        node = g.producer.get(name)
        if node is None or node is head.node or not node.inputs:
            break
        if node.op not in _VIEWS:
            ops.append(node.op)
        name = node.inputs[0]
    return tuple(ops)


# --------------------------------------------------------------------------- projections


@dataclass(frozen=True, slots=True)
class Projections:
    """The first layer's attention input projections: a packed QKV, or separate q and k."""

    qkv: Linear | None
    q: Linear | None
    k: Linear | None
    packed: bool

    @property
    def fused_width(self) -> int | None:
        """N of the packed QKV projection (None without one)."""
        return self.qkv.n if self.qkv is not None and self.packed else None


def projections(ctx: Ctx, attn: list[Node], linears: list[Linear]) -> Projections:
    """From the first attention node's inputs, else from node names (first layer)."""
    by_out = {lin.node.outputs[0]: lin for lin in linears if lin.node.outputs}

    def feeding(name: str) -> Linear | None:
        for _ in range(4):
            lin = by_out.get(name)
            if lin is not None:
                return lin
            node = ctx.g.producer.get(name)
            if node is None or node.op not in ("Add", "Reshape", "Cast", "Identity"):
                return None
            name = node.inputs[0]
        return None

    if attn:
        first = attn[0]
        ins = first.inputs
        packed = first.op in ("GroupQueryAttention", "PagedAttention", "Attention") and (
            len(ins) < 3 or not ins[1] or not ins[2] or first.op == "Attention"
        )
        lin = feeding(ins[0]) if ins else None
        if first.op == "Attention":
            lin = next((x for x in linears if x.node is first), None)
        if packed:
            return Projections(lin, None, None, True)
        k_lin = feeding(ins[1]) if len(ins) > 1 and ins[1] else None
        return Projections(None, lin, k_lin, False)
    roles: dict[str, Linear] = {}
    for lin in linears:
        if lin.role and lin.role not in roles and lin.layer in (None, 0):
            roles[lin.role] = lin
    for fused in ("qkv_proj", "query_key_value", "c_attn"):
        if fused in roles:
            return Projections(roles[fused], None, None, True)
    return Projections(None, roles.get("q_proj"), roles.get("k_proj"), False)


def tied_embeddings(ctx: Ctx, emb: Embedding | None, head: Linear | None) -> bool:
    """Whether the lm_head reads the embedding's own initializer."""
    tied = bool(emb and head and head.weight in emb.tensors)
    ctx.prov.derived(
        "tie_word_embeddings",
        "the embedding and the lm_head read the same initializer"
        if tied
        else "the embedding and the lm_head use separate initializers"
        if emb and head
        else "no embedding/lm_head pair in the graph",
    )
    hf = ctx.hf
    if hf is not None and hf.tie is not None and hf.tie != tied:
        ctx.note(
            f"config.json tie_word_embeddings={str(hf.tie).lower()}, but the graph stores "
            f"the embedding and lm_head {'once' if tied else 'separately'}"
        )
    return tied
