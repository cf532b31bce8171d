"""Assemble a ``ModelSpec`` from a scanned ONNX graph plus its layout's configs (or from
genai_config.json alone for a ``config_only`` package)."""

from __future__ import annotations

from pathlib import Path

import planner_adapters.onnx.dims as dims
import planner_adapters.onnx.structure as structure
from planner.errors import ArtifactFormatError
from planner.spec import ArtifactSettings, ModelSpec, Origin, QuantInfo
from planner_adapters._values import Provenance, check_layers
from planner_adapters.onnx.configs import GenaiConfig, HfConfig
from planner_adapters.onnx.context import Ctx
from planner_adapters.onnx.graph import Graph, Node
from planner_adapters.onnx.layout import Layout, genai_filename
from planner_adapters.onnx.linears import find_linears
from planner_adapters.onnx.quant import quantization
from planner_adapters.onnx.weights import inventory


def graph_spec(source: Path, layout: Layout, graph: Graph) -> ModelSpec:
    """The spec of ``graph`` (read from ``source``) with ``layout``'s configs."""
    ctx = Ctx(
        graph,
        GenaiConfig.parse(layout.genai, layout.genai_path)
        if layout.genai is not None and layout.genai_path is not None
        else None,
        HfConfig.parse(layout.hf, layout.hf_path)
        if layout.hf is not None and layout.hf_path is not None
        else None,
    )
    prov, genai, hf = ctx.prov, ctx.genai, ctx.hf
    prov.artifact("format", f"{layout.kind} layout of {graph.path.name}")

    linears = find_linears(ctx)
    by_node = {id(lin.node): lin for lin in linears}
    kv = structure.kv_inputs(ctx)
    attn = structure.attention_nodes(ctx)
    layers = structure.layer_count(ctx, kv, attn.nodes, linears)
    emb = structure.embedding(ctx)
    head = structure.lm_head(ctx, by_node)
    tied = structure.tied_embeddings(ctx, emb, head)
    proj = structure.projections(ctx, attn.nodes, linears)
    geometry = dims.heads(ctx, kv, attn, proj)
    kv_dtype = "int4" if dims.int4_packed_kv(ctx, kv) else structure.kv_dtype(ctx, kv)
    hidden = dims.hidden_size(ctx, emb, proj.qkv or proj.q, linears)
    intermediate = dims.intermediate_size(
        ctx, linears, hidden, geometry.heads * geometry.head_dim, proj, head
    )
    vocab = dims.vocab_size(ctx, emb, head)
    max_context = dims.max_context(ctx)
    windows = structure.layer_windows(ctx, attn.nodes, kv, layers)

    weights = inventory(ctx, linears, emb.tensors if emb else (), head, tied)
    quant = quantization(ctx, linears, emb, head, tied)
    if kv.layers:
        prov.artifact("kv_input_names", "graph inputs matching the KV-cache name pattern")

    arch = prov.first(
        "architecture",
        ((genai.type or None) if genai else None, Origin.ARTIFACT, "genai_config.json model.type"),
        ((hf.type or None) if hf else None, Origin.ARTIFACT, "config.json model_type"),
    )
    if arch is None:
        arch = "unknown"
        prov.assumed("architecture", "no config file names the model family")
    prov.artifact("name", "folder name" if layout.kind != "onnx" else "file name")
    for label, value in (
        ("hidden_size", hidden),
        ("vocab_size", vocab),
        ("num_attention_heads", geometry.heads),
        ("num_kv_heads", geometry.kv_heads),
        ("head_dim", geometry.head_dim),
        ("intermediate_size", intermediate or 1),
    ):
        if value < 1:
            raise ctx.error(f"the graph gives {label}={value}; nothing to plan")
    extra = _extra(graph, attn.nodes[0].op if attn.nodes else None, proj.packed)
    constants, largest_constant = graph.inline_constants()
    if constants >= 64 * 1024:  # not a few shape constants: tables worth a budget line
        extra += (
            ("constant_bytes", str(constants)),
            ("constant_largest_bytes", str(largest_constant)),
        )
    switch = graph.rope_switch()
    if switch is not None:
        extra += (("rope_switch_tables", ",".join(str(n) for n in switch)),)
    softcap = structure.attention_softcap(ctx, attn.nodes)
    if softcap:
        extra += (("gqa_softcap", f"{softcap:g}"),)
    after_head = structure.logits_ops(ctx, head)
    if after_head:
        extra += (("logits_ops", ",".join(after_head)),)
    settings = _settings(ctx, max_context)
    return ModelSpec(
        name=layout.name,
        source=str(source),
        format=layout.format,
        adapter="onnx",
        architecture=arch,
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=geometry.heads,
        num_kv_heads=geometry.kv_heads,
        head_dim=geometry.head_dim,
        intermediate_size=intermediate,
        vocab_size=vocab,
        tie_word_embeddings=tied,
        max_context=max_context,
        weights=weights,
        quantization=quant,
        kv_dtype=kv_dtype,
        layer_windows=windows,
        kv_input_names=kv.names(),
        settings=settings,
        provenance=prov.freeze(),
        notes=tuple(dict.fromkeys(ctx.notes)),
        extra=extra,
    )


def _settings(ctx: Ctx, max_context: int | None) -> ArtifactSettings:
    genai = ctx.genai
    if genai is None:
        return ArtifactSettings()
    max_length = genai.max_length
    if max_length:
        ctx.prov.artifact("settings.max_length", "genai_config.json search.max_length")
    elif max_context:
        # "If omitted or 0 ... will be set to model.context_length on load" (config.h).
        max_length = max_context
        ctx.prov.derived(
            "settings.max_length",
            "search.max_length absent or 0: the runtime uses context_length",
        )
    share = genai.share_buffer
    if share is not None:
        ctx.prov.artifact(
            "settings.past_present_share_buffer",
            "genai_config.json search.past_present_share_buffer",
        )
        if share and genai.num_beams and genai.num_beams > 1:
            ctx.note("past_present_share_buffer is ignored with num_beams > 1")
    return ArtifactSettings(
        max_length=max_length,
        past_present_share_buffer=share,
        session_options=genai.session,
    )


def _extra(graph: Graph, attention_op: str | None, packed: bool) -> tuple[tuple[str, str], ...]:
    g = graph
    extra = [
        ("model_file", g.path.name),
        ("graph_bytes", str(g.file_bytes)),
        ("ir_version", str(g.ir_version)),
        ("opsets", ",".join(f"{d}:{v}" for d, v in sorted(g.opsets.items()))),
    ]
    if g.producer_name:
        extra.append(("producer", g.producer_name))
    if attention_op is not None:
        extra.append(("attention_op", attention_op + (" (packed QKV)" if packed else "")))
    extra.extend(_moe_facts(g))
    convs = len(g.ops("CausalConvWithState"))
    if convs:
        # LFM2's short-convolution blocks (the builder's com.microsoft op, whatever the family
        # is called): their buffers are a block kind of the prompt's arena of their own.
        extra.append(("conv_blocks", str(convs)))
    for loc, size in sorted(g.data_files.items()):
        extra.append((f"external_data:{loc}", str(size)))
    return tuple(extra)


def config_only_spec(source: Path, layout: Layout) -> ModelSpec:
    """A genai package with genai_config.json but no model file (``config_only`` build)."""
    assert layout.genai is not None and layout.genai_path is not None
    cfg = GenaiConfig.parse(layout.genai, layout.genai_path)
    prov = Provenance()
    path = layout.genai_path
    missing = [
        k
        for k, v in (
            ("num_hidden_layers", cfg.layers),
            ("num_key_value_heads", cfg.kv_heads),
            ("head_size", cfg.head_size),
            ("vocab_size", cfg.vocab),
        )
        if v is None
    ]
    if missing:
        raise ArtifactFormatError(
            f"no model file and genai_config.json lacks {', '.join(missing)}: nothing to plan",
            path=str(path),
        )
    assert cfg.layers and cfg.kv_heads and cfg.head_size and cfg.vocab
    check_layers(cfg.layers, path, "genai_config.json model.decoder.num_hidden_layers")
    heads = cfg.heads or cfg.kv_heads
    hidden = cfg.hidden or heads * cfg.head_size
    for name in ("num_layers", "num_kv_heads", "head_dim", "vocab_size"):
        prov.artifact(name, "genai_config.json (config only: no model file)")
    if cfg.heads:
        prov.artifact("num_attention_heads", "genai_config.json")
    else:
        prov.assumed("num_attention_heads", "= num_key_value_heads")
    if cfg.hidden:
        prov.artifact("hidden_size", "genai_config.json")
    else:
        prov.derived("hidden_size", "heads × head_size")
    prov.assumed("kv_dtype", "no graph: assumed float32 (CPU builds)")
    prov.assumed("quantization", "no graph: unknown")
    if cfg.context:
        prov.artifact("max_context", "genai_config.json model.context_length")
    max_length = cfg.max_length or cfg.context
    return ModelSpec(
        name=layout.name,
        source=str(source),
        format="onnx-genai",
        adapter="onnx",
        architecture=cfg.type or "unknown",
        num_layers=cfg.layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=cfg.kv_heads,
        head_dim=cfg.head_size,
        intermediate_size=None,
        vocab_size=cfg.vocab,
        tie_word_embeddings=False,
        max_context=cfg.context,
        weights=None,
        quantization=QuantInfo(scheme=None),
        kv_dtype="float32",
        settings=ArtifactSettings(
            max_length=max_length,
            past_present_share_buffer=cfg.share_buffer,
            session_options=cfg.session,
        ),
        provenance=prov.freeze(),
        notes=(
            f"no model file {genai_filename(layout.genai, path)!r}: a config-only package; "
            "weights are unknown",
        ),
    )


QMOE_PACKED = {"data": (2, 5), "scales": (3, 6), "zero_points": (11, 12)}
"""QMoE's inputs (com.microsoft contrib op) its CPU kernel packs at load: fc1 and fc2 expert
weights, their scales and zero points. Biases (4, 7, 10) and fc3 (8, 9, 13) stay in place."""
QMOE_BITS = (2, 4, 8)
"""Expert bit widths onnxruntime's QMoE accepts; 4 and 8 are packed as MatMulNBits weights."""


def _moe_facts(g: Graph) -> list[tuple[str, str]]:
    """What the MoE layers' expert weights are (every initializer behind an expert input: after
    the hidden states and the router's probabilities):

    * ``moe_nodes``, ``moe_expert_bytes`` (all of them);
    * ``moe_inplace_external_bytes``: what the kernels read in place from the mapped file (fp32
      ``MoE`` experts; QMoE biases, fc3 and experts it does not pack), external data only
      (weights inside model.onnx are parsed into the heap and counted there);
    * ``moe_qpacked``: the QMoE experts packed at load, one group per (bits, block size,
      accuracy level): ``bits/block/level:data/scales/zero_points:external data/scales/zero
      points`` bytes, groups joined by ``;``. Block-wise 4- and 8-bit experts are packed; row-wise
      ones (no ``block_size``) and 2-bit ones are read in place."""
    nodes = g.ops("MoE", "QMoE")
    if not nodes:
        return []
    path = str(g.path)
    packed: dict[tuple[int, int, int], dict[str, set[str]]] = {}
    covered: set[str] = set()
    for n in nodes:
        if n.op != "QMoE":
            continue
        bits = g.attr_int(n, "expert_weight_bits", 4)
        if bits not in QMOE_BITS:
            raise ArtifactFormatError(
                f"QMoE node {n.name!r}: expert_weight_bits={bits} (onnxruntime takes 2, 4 or 8)",
                path=path,
            )
        block = g.attr_int(n, "block_size", 0) or 0
        level = g.attr_int(n, "accuracy_level", 0) or 0
        if bits == 2 or block <= 0 or level < 0:
            continue
        group = packed.setdefault((bits, block, level), {k: set() for k in QMOE_PACKED})
        for kind, slots in QMOE_PACKED.items():
            for slot in slots:
                if slot < len(n.inputs) and n.inputs[slot] in g.tensors:
                    group[kind].add(n.inputs[slot])
                    covered.add(n.inputs[slot])
    names = {name for n in nodes for name in n.inputs[2:] if name in g.tensors}

    def size(found: set[str], external: bool = False) -> int:
        return sum(g.tensors[x].nbytes for x in found if not external or g.tensors[x].external)

    facts = [
        ("moe_nodes", str(len(nodes))),
        ("moe_ops", ",".join(sorted({n.op for n in nodes}))),
        ("moe_expert_bytes", str(size(names))),
        ("moe_inplace_external_bytes", str(size(names - covered, external=True))),
    ]
    widths = {w for w in (_moe_intermediate(g, n) for n in nodes) if w}
    if widths:
        facts.append(("moe_intermediate", str(max(widths))))
    fc1 = [g.tensors[n.inputs[2]] for n in nodes if len(n.inputs) > 2 and n.inputs[2] in g.tensors]
    experts = {t.dims[0] for t in fc1 if len(t.dims) == 3 and 0 < t.dims[0] < 1 << 16}
    top_k = {g.attr_int(n, "k", 1) for n in nodes}  # absent: onnxruntime's default, 1
    if len(experts) == 1 and len(top_k) == 1:
        e, k = experts.pop(), top_k.pop()
        if k is not None and 0 < k <= e:
            facts += [("moe_experts", str(e)), ("moe_top_k", str(k))]
    if packed:
        groups = []
        for (bits, block, level), kinds in sorted(packed.items()):
            totals = "/".join(str(size(kinds[k])) for k in QMOE_PACKED)
            external = "/".join(str(size(kinds[k], external=True)) for k in QMOE_PACKED)
            groups.append(f"{bits}/{block}/{level}:{totals}:{external}")
        facts.append(("moe_qpacked", ";".join(groups)))
    return facts


def _moe_intermediate(g: Graph, node: Node) -> int | None:
    """An MoE node's expert intermediate width: the last dim of its fc2 weights ([experts,
    hidden, intermediate]; QMoE packs 8 / bits values a byte). None when not readable."""
    slot = 5 if node.op == "QMoE" else 4
    name = node.inputs[slot] if slot < len(node.inputs) else ""
    tensor = g.tensors.get(name)
    if tensor is None or len(tensor.dims) != 3:
        return None
    per_byte = 8 // (g.attr_int(node, "expert_weight_bits", 4) or 4) if node.op == "QMoE" else 1
    width = tensor.dims[2] * per_byte
    return width if 0 < width < 1 << 24 else None
