"""Assemble a ``ModelSpec`` from a scanned ONNX graph plus its layout's configs (or from
genai_config.json alone for a ``config_only`` package)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import planner_adapters.onnx.dims as dims
import planner_adapters.onnx.structure as structure
from planner.errors import ArtifactFormatError
from planner.spec import ArtifactSettings, ModelSpec, Origin, QuantInfo
from planner_adapters._values import Provenance, check_layers
from planner_adapters.onnx.configs import GenaiConfig, HfConfig
from planner_adapters.onnx.context import Ctx
from planner_adapters.onnx.graph import Graph
from planner_adapters.onnx.layout import Layout, genai_filename
from planner_adapters.onnx.linears import Linear, find_linears
from planner_adapters.onnx.moe import moe_facts
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
    calls = _nbits_calls(linears)
    if calls:
        extra += (("nbits_call_kn", calls),)
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


def _nbits_calls(linears: list[Linear]) -> str:
    """K·N of the graph's ``MatMulNBits`` nodes as ``kn:count`` pairs, ascending: a node that is
    not prepacked dequantizes its weight into a K·N fp32 buffer on every call, and where that
    buffer lives (heap or a fresh mapping) depends on its size (runtimes/onnxruntime/dequant.py)."""
    counts = Counter(lin.k * lin.n for lin in linears if lin.kind == "nbits")
    return ",".join(f"{kn}:{n}" for kn, n in sorted(counts.items()))


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
    extra.extend(moe_facts(g))
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
