"""Builders of real ONNX LLM artifacts for tests, the bundled example and the benchmark.

Two layouts, built with ``onnx.helper`` the way the producers lay them out
(shared research onnx-runtime.md §1.3, §2.5, §3):

* the onnxruntime-genai model builder: ``GroupQueryAttention`` with packed QKV, fused rotary
  (``cos_cache``/``sin_cache``), ``SimplifiedLayerNormalization`` /
  ``SkipSimplifiedLayerNormalization``, ``MatMulNBits`` (int4/int8, optional zero points) or
  plain ``MatMul`` (fp32/fp16), optional ``GatherBlockQuantized`` shared embeddings, KV I/O
  ``past_key_values.{i}.key`` / ``present.{i}.key`` whose head dim is the symbol
  ``kv_cache_dim`` (or the concrete head size of older builders), every initializer in
  ``model.onnx.data``, plus a ``genai_config.json`` in the builder's format;
* a Hugging Face Optimum decoder export: only ``ai.onnx`` ops, concrete KV dims, node names
  that keep module paths, weights embedded or in ``model.onnx_data``, ``config.json`` beside.

Weights are small random numpy arrays, or, with ``materialize=False``, not written at all:
the external data file is then a sparse file of the right size (``os.truncate``), which is
how the benchmark builds 7B-class artifacts in milliseconds. Each build also returns what
it built (``Expected``) so tests compare the adapter's spec with the construction, field by
field, instead of with hard-coded numbers.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = [
    "Expected",
    "GenaiOptions",
    "ModelConfig",
    "OptimumOptions",
    "build_genai",
    "build_optimum",
]

_BITS: dict[int, int] = {
    TensorProto.FLOAT: 32,
    TensorProto.FLOAT16: 16,
    TensorProto.BFLOAT16: 16,
    TensorProto.INT64: 64,
    TensorProto.INT32: 32,
    TensorProto.UINT8: 8,
    TensorProto.INT8: 8,
    TensorProto.INT4: 4,
    TensorProto.UINT4: 4,
}
_NAMES: dict[int, str] = {
    TensorProto.FLOAT: "float32",
    TensorProto.FLOAT16: "float16",
    TensorProto.BFLOAT16: "bfloat16",
    TensorProto.INT64: "int64",
    TensorProto.INT32: "int32",
    TensorProto.UINT8: "uint8",
    TensorProto.INT8: "int8",
    TensorProto.INT4: "int4",
    TensorProto.UINT4: "uint4",
}


@dataclass(frozen=True)
class ModelConfig:
    """Dimensions of a decoder-only LLM (Llama-style: RMSNorm, SwiGLU MLP, RoPE, GQA)."""

    layers: int = 2
    hidden: int = 64
    heads: int = 4
    kv_heads: int = 2
    head_dim: int = 16
    intermediate: int = 128
    vocab: int = 256
    context: int = 128
    model_type: str = "llama"
    local_windows: tuple[int | None, ...] = ()
    """Per layer sliding window (GQA ``local_window_size``); empty = all global."""
    attn_softcap: float = 0.0
    """GQA ``softcap`` (the builder writes Gemma-2's attn_logit_softcapping there)."""


LLAMA2_7B = ModelConfig(32, 4096, 32, 32, 128, 11008, 32000, 4096)
LLAMA3_8B = ModelConfig(32, 4096, 32, 8, 128, 14336, 128256, 8192)


@dataclass(frozen=True)
class GenaiOptions:
    """How the onnxruntime-genai builder was run (``-p``, ``-e``, ``--extra_options``)."""

    precision: str = "int4"
    """int4, int8 (MatMulNBits), fp32 or fp16 (plain MatMul)."""
    block_size: int = 32
    symmetric: bool = True
    accuracy_level: int | None = 4
    shared_embeddings: bool = False
    """Quantized tied embeddings: GatherBlockQuantized over the lm_head's packed weight."""
    symbolic_kv_dim: bool = True
    """KV head dim as the symbol ``kv_cache_dim`` (builder >= PR #2084) or concrete."""
    provider: str = "cpu"
    max_length: int | None = None
    """``search.max_length``; None writes the builder default (= context_length)."""
    past_present_share_buffer: bool = True
    write_config: bool = True
    materialize: bool = True
    """False: write no weight bytes; the data file is sparse (benchmarks)."""
    seed: int = 0


@dataclass(frozen=True)
class OptimumOptions:
    """How the Optimum export looks."""

    filename: str = "model.onnx"
    external_data: bool = False
    """Weights in ``<filename>_data`` (Optimum's large-model layout) instead of embedded."""
    size_threshold: int = 1024
    """Tensors smaller than this stay embedded even with external data (onnx's default)."""
    tied: bool = False
    """lm_head reuses the embedding through a Transpose (torch export of tied weights)."""
    merged: bool = False
    """decoder_model_merged layout: the decoder inside an If on ``use_cache_branch``."""
    write_config: bool = True
    seed: int = 0


@dataclass
class Expected:
    """What a builder wrote, tallied independently of the adapter under test."""

    folder: Path
    model_path: Path
    data_path: Path | None
    config: ModelConfig
    format: str
    tensor_count: int = 0
    total_bytes: int = 0
    external_bytes: int = 0
    embedded_bytes: int = 0
    param_count: int = 0
    matmul_bytes: int = 0
    embedding_bytes: int = 0
    lm_head_bytes: int = 0
    bytes_by_dtype: dict[str, int] = field(default_factory=dict)
    tied: bool = False
    kv_dtype: str = "float32"
    scheme: str = "fp32"
    bits: float | None = 32
    group_size: int | None = None
    symmetric: bool | None = None
    compute_dtype: str = "float32"
    unquantized: tuple[str, ...] = ()
    kv_input_names: tuple[str, ...] = ()
    genai_config: dict[str, object] | None = None


@dataclass
class _Weight:
    name: str
    dtype: int
    dims: tuple[int, ...]
    data: np.ndarray | None
    roles: frozenset[str]
    params: int

    @property
    def nbytes(self) -> int:
        return (math.prod(self.dims) * _BITS[self.dtype] + 7) // 8


class _Graph:
    """Collects nodes, weights and I/O of one graph."""

    def __init__(self, rng: np.random.Generator, materialize: bool) -> None:
        self.rng = rng
        self.materialize = materialize
        self.nodes: list[onnx.NodeProto] = []
        self.weights: dict[str, _Weight] = {}
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self._const = 0

    def node(
        self,
        op: str,
        inputs: Sequence[str],
        outputs: Sequence[str],
        name: str,
        domain: str = "",
        **attrs: Any,
    ) -> list[str]:
        self.nodes.append(
            helper.make_node(
                op, list(inputs), list(outputs), name=name, domain=domain or None, **attrs
            )
        )
        return list(outputs)

    def const(self, value: Sequence[int] | Sequence[float] | float, dtype: type = np.int64) -> str:
        """A small constant as a Constant node (builders and torch export both do this)."""
        self._const += 1
        name = f"/model/constants/{self._const}"
        arr: np.ndarray = np.array(value, dtype=dtype)
        self.nodes.append(
            helper.make_node(
                "Constant", [], [name], name=name + "/Constant", value=numpy_helper.from_array(arr)
            )
        )
        return name

    def weight(
        self,
        name: str,
        dtype: int,
        dims: Sequence[int],
        roles: Sequence[str] = (),
        *,
        kind: str = "normal",
        params: int | None = None,
        data: np.ndarray | None = None,
    ) -> str:
        """Add an initializer. ``params`` is its logical parameter count (0 for metadata)."""
        dims = tuple(int(d) for d in dims)
        numel = math.prod(dims)
        if data is None and self.materialize:
            data = self._random(dtype, dims, kind)
        self.weights[name] = _Weight(
            name, dtype, dims, data, frozenset(roles), numel if params is None else params
        )
        return name

    def _random(self, dtype: int, dims: tuple[int, ...], kind: str) -> np.ndarray:
        numel = math.prod(dims)
        if dtype in (TensorProto.UINT8, TensorProto.INT8):
            return self.rng.integers(0, 256, numel, dtype=np.uint8)
        if dtype in (TensorProto.INT4, TensorProto.UINT4):
            return self.rng.integers(0, 256, (numel + 1) // 2, dtype=np.uint8)
        if kind == "ones":
            values = np.ones(numel, dtype=np.float32)
        elif kind == "scale":
            values = self.rng.uniform(0.001, 0.01, numel).astype(np.float32)
        else:
            values = (self.rng.standard_normal(numel) * 0.05).astype(np.float32)
        if dtype == TensorProto.FLOAT16:
            return values.astype(np.float16)
        if dtype == TensorProto.BFLOAT16:
            return (values.view(np.uint32) >> 16).astype(np.uint16)
        return values

    def save(
        self,
        folder: Path,
        filename: str,
        *,
        data_name: str | None,
        threshold: int,
        opsets: dict[str, int],
        ir_version: int,
        producer: tuple[str, str],
        exp: Expected,
    ) -> None:
        """Write the model and (optionally) one external data file, packed from offset 0."""
        folder.mkdir(parents=True, exist_ok=True)
        data_path = folder / data_name if data_name else None
        inits: list[TensorProto] = []
        offset = 0
        by_dtype: dict[str, int] = defaultdict(int)
        fh = data_path.open("wb") if data_path is not None and self.materialize else None
        try:
            for w in self.weights.values():
                t = TensorProto()
                t.name = w.name
                t.data_type = w.dtype
                t.dims.extend(w.dims)
                raw = w.data.tobytes() if w.data is not None else None
                if raw is not None and len(raw) != w.nbytes:
                    raise AssertionError(f"{w.name}: {len(raw)} bytes, expected {w.nbytes}")
                if data_path is not None and w.nbytes >= threshold:
                    t.data_location = TensorProto.EXTERNAL
                    for key, value in (
                        ("location", data_name),
                        ("offset", str(offset)),
                        ("length", str(w.nbytes)),
                    ):
                        entry = t.external_data.add()
                        entry.key, entry.value = key, str(value)
                    if fh is not None:
                        assert raw is not None
                        fh.write(raw)
                    offset += w.nbytes
                    exp.external_bytes += w.nbytes
                else:
                    if raw is None:
                        raw = self._random(w.dtype, w.dims, "normal").tobytes()
                    t.raw_data = raw
                    exp.embedded_bytes += w.nbytes
                inits.append(t)
                exp.tensor_count += 1
                exp.total_bytes += w.nbytes
                exp.param_count += w.params
                by_dtype[_NAMES[w.dtype]] += w.nbytes
                if "matmul" in w.roles:
                    exp.matmul_bytes += w.nbytes
                if "embedding" in w.roles:
                    exp.embedding_bytes += w.nbytes
                if "lm_head" in w.roles:
                    exp.lm_head_bytes += w.nbytes
        finally:
            if fh is not None:
                fh.close()
        if data_path is not None and not self.materialize:
            with data_path.open("wb") as sparse:
                os.truncate(sparse.fileno(), offset)
        exp.bytes_by_dtype = dict(by_dtype)
        exp.data_path = data_path
        graph = helper.make_graph(self.nodes, "main_graph", self.inputs, self.outputs, inits)
        model = helper.make_model(
            graph,
            ir_version=ir_version,
            producer_name=producer[0],
            producer_version=producer[1],
            opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
        )
        (folder / filename).write_bytes(model.SerializeToString())


def _vi(name: str, dtype: int, shape: Sequence[int | str] | None) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, dtype, None if shape is None else list(shape))


def _rope_caches(cfg: ModelConfig, np_dtype: type) -> tuple[np.ndarray, np.ndarray]:
    inv = 1.0 / (10000.0 ** (np.arange(0, cfg.head_dim, 2, dtype=np.float64) / cfg.head_dim))
    angles = np.outer(np.arange(cfg.context, dtype=np.float64), inv)
    return np.cos(angles).astype(np_dtype), np.sin(angles).astype(np_dtype)


# --------------------------------------------------------------------------- genai layout


def _genai_linear(
    g: _Graph,
    x: str,
    base: str,
    wname: str,
    k: int,
    n: int,
    opt: GenaiOptions,
    io: int,
    roles: Sequence[str] = ("matmul",),
    out: str | None = None,
) -> str:
    """One projection as the builder writes it: MatMulNBits (int4/int8) or MatMul."""
    out = out or f"{base}/output_0"
    if opt.precision in ("fp32", "fp16"):
        w = g.weight(f"{wname}.MatMul.weight", io, (k, n), roles)
        g.node("MatMul", [x, w], [out], f"{base}/MatMul")
        return out
    bits = 4 if opt.precision == "int4" else 8
    bs = opt.block_size
    n_blocks = -(-k // bs)
    suffix = f"_Q{bits}"
    b = g.weight(
        f"{wname}.MatMul.weight{suffix}",
        TensorProto.UINT8,
        (n, n_blocks, bs * bits // 8),
        roles,
        kind="bytes",
        params=k * n,
    )
    s = g.weight(f"{wname}.MatMul.weight_scales", io, (n, n_blocks), roles, kind="scale", params=0)
    inputs = [x, b, s]
    if not opt.symmetric:
        inputs.append(
            g.weight(
                f"{wname}.MatMul.weight_zp",
                TensorProto.UINT8,
                (n, -(-n_blocks * bits // 8)),
                roles,
                kind="bytes",
                params=0,
            )
        )
    attrs: dict[str, object] = {"K": k, "N": n, "bits": bits, "block_size": bs}
    if opt.accuracy_level:
        attrs["accuracy_level"] = opt.accuracy_level
    g.node("MatMulNBits", inputs, [out], f"{base}/MatMul{suffix}", "com.microsoft", **attrs)
    return out


def build_genai(
    folder: Path, cfg: ModelConfig = ModelConfig(), opt: GenaiOptions = GenaiOptions()
) -> Expected:
    """Write an onnxruntime-genai builder package (model.onnx, model.onnx.data, genai_config)."""
    if opt.precision not in ("int4", "int8", "fp32", "fp16"):
        raise ValueError(f"unknown precision {opt.precision!r}")
    quantized = opt.precision in ("int4", "int8")
    if opt.shared_embeddings and not quantized:
        raise ValueError("shared_embeddings needs int4/int8 (GatherBlockQuantized)")
    io = TensorProto.FLOAT16 if opt.precision == "fp16" else TensorProto.FLOAT
    np_io = np.float16 if io == TensorProto.FLOAT16 else np.float32
    g = _Graph(np.random.default_rng(opt.seed), opt.materialize)
    h, kvh, hd, n_layers = cfg.hidden, cfg.kv_heads, cfg.head_dim, cfg.layers
    kv_last: int | str = "kv_cache_dim" if opt.symbolic_kv_dim else hd

    g.inputs += [
        _vi("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
        _vi("attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"]),
    ]
    kv_names: list[str] = []
    for i in range(n_layers):
        for kind in ("key", "value"):
            name = f"past_key_values.{i}.{kind}"
            kv_names.append(name)
            g.inputs.append(_vi(name, io, ["batch_size", kvh, "past_sequence_length", kv_last]))
    g.outputs.append(_vi("logits", io, ["batch_size", "sequence_length", cfg.vocab]))
    for i in range(n_layers):
        for kind in ("key", "value"):
            g.outputs.append(
                _vi(
                    f"present.{i}.{kind}", io, ["batch_size", kvh, "total_sequence_length", kv_last]
                )
            )

    # Embedding: a float Gather, or GatherBlockQuantized over the lm_head's packed weight.
    bits = 4 if opt.precision == "int4" else 8
    lm_roles = ("matmul", "embedding") if opt.shared_embeddings else ("matmul", "lm_head")
    if opt.shared_embeddings:
        emb_src = "/model/embed_tokens/Reshape/output_0"
        if h % opt.block_size:
            raise ValueError("shared embeddings need hidden % block_size == 0")
        shape = g.const([cfg.vocab, h * bits // 8])
        g.node(
            "Reshape",
            [f"lm_head.MatMul.weight_Q{bits}", shape],
            [emb_src],
            "/model/embed_tokens/Reshape",
        )
        gbq_in = [emb_src, "input_ids", "lm_head.MatMul.weight_scales"]
        if not opt.symmetric:
            gbq_in.append("lm_head.MatMul.weight_zp")
        g.node(
            "GatherBlockQuantized",
            gbq_in,
            ["/model/embed_tokens/output_0"],
            "/model/embed_tokens/GatherBlockQuantized",
            "com.microsoft",
            bits=bits,
            block_size=opt.block_size,
            gather_axis=0,
            quantize_axis=1,
        )
    else:
        emb = g.weight("model.embed_tokens.weight", io, (cfg.vocab, h), ("embedding",))
        g.node(
            "Gather",
            [emb, "input_ids"],
            ["/model/embed_tokens/output_0"],
            "/model/embed_tokens/Gather",
        )
    hidden_state = "/model/embed_tokens/output_0"

    # Attention-mask subgraph: seqlens_k = sum(mask) - 1, total_sequence_length = mask.shape[1].
    base = "/model/attn_mask_reformat/attn_mask_subgraph"
    g.node(
        "ReduceSum",
        ["attention_mask", g.const([1])],
        [f"{base}/ReduceSum/output_0"],
        f"{base}/ReduceSum",
        keepdims=0,
    )
    g.node(
        "Sub", [f"{base}/ReduceSum/output_0", g.const(1)], [f"{base}/Sub/output_0"], f"{base}/Sub"
    )
    g.node(
        "Cast",
        [f"{base}/Sub/output_0"],
        [f"{base}/Sub/Cast/output_0"],
        f"{base}/Sub/Cast",
        to=TensorProto.INT32,
    )
    g.node("Shape", ["attention_mask"], [f"{base}/Shape/output_0"], f"{base}/Shape")
    g.node(
        "Gather",
        [f"{base}/Shape/output_0", g.const(1)],
        [f"{base}/Gather/output_0"],
        f"{base}/Gather",
        axis=0,
    )
    g.node(
        "Cast",
        [f"{base}/Gather/output_0"],
        [f"{base}/Gather/Cast/output_0"],
        f"{base}/Gather/Cast",
        to=TensorProto.INT32,
    )
    seqlens, total_len = f"{base}/Sub/Cast/output_0", f"{base}/Gather/Cast/output_0"

    cos, sin = _rope_caches(cfg, np_io)
    g.weight(
        "cos_cache", io, cos.shape, kind="rope", params=0, data=cos if opt.materialize else None
    )
    g.weight(
        "sin_cache", io, sin.shape, kind="rope", params=0, data=sin if opt.materialize else None
    )

    residual = hidden_state
    pending: str | None = None  # the previous layer's MLP output, not yet added to residual
    for i in range(n_layers):
        lp = f"/model/layers.{i}"
        ln = g.weight(f"model.layers.{i}.input_layernorm.weight", io, (h,), kind="ones")
        if pending is None:
            normed = g.node(
                "SimplifiedLayerNormalization",
                [residual, ln],
                [f"{lp}/input_layernorm/output_0"],
                f"{lp}/input_layernorm/LayerNorm",
                axis=-1,
                epsilon=1e-5,
                stash_type=1,
            )[0]
        else:
            normed, _, _, residual = g.node(
                "SkipSimplifiedLayerNormalization",
                [pending, residual, ln],
                [f"{lp}/input_layernorm/output_0", "", "", f"{lp}/input_layernorm/output_3"],
                f"{lp}/input_layernorm/SkipLayerNorm",
                "com.microsoft",
                epsilon=1e-5,
            )
        qkv = _genai_linear(
            g,
            normed,
            f"{lp}/attn/qkv_proj",
            f"model.layers.{i}.attn.qkv_proj",
            h,
            (cfg.heads + 2 * kvh) * hd,
            opt,
            io,
        )
        window = cfg.local_windows[i] if i < len(cfg.local_windows) else None
        g.node(
            "GroupQueryAttention",
            [
                qkv,
                "",
                "",
                f"past_key_values.{i}.key",
                f"past_key_values.{i}.value",
                seqlens,
                total_len,
                "cos_cache",
                "sin_cache",
            ],
            [f"{lp}/attn/GroupQueryAttention/output_0", f"present.{i}.key", f"present.{i}.value"],
            f"{lp}/attn/GroupQueryAttention",
            "com.microsoft",
            num_heads=cfg.heads,
            kv_num_heads=kvh,
            scale=1.0 / math.sqrt(hd),
            local_window_size=-1 if window is None else window,
            softcap=cfg.attn_softcap,
            do_rotary=1,
            rotary_interleaved=0,
        )
        attn = _genai_linear(
            g,
            f"{lp}/attn/GroupQueryAttention/output_0",
            f"{lp}/attn/o_proj",
            f"model.layers.{i}.attn.o_proj",
            cfg.heads * hd,
            h,
            opt,
            io,
        )
        post = g.weight(f"model.layers.{i}.post_attention_layernorm.weight", io, (h,), kind="ones")
        normed2, _, _, residual = g.node(
            "SkipSimplifiedLayerNormalization",
            [attn, residual, post],
            [
                f"{lp}/post_attention_layernorm/output_0",
                "",
                "",
                f"{lp}/post_attention_layernorm/output_3",
            ],
            f"{lp}/post_attention_layernorm/SkipLayerNorm",
            "com.microsoft",
            epsilon=1e-5,
        )
        gate = _genai_linear(
            g,
            normed2,
            f"{lp}/mlp/gate_proj",
            f"model.layers.{i}.mlp.gate_proj",
            h,
            cfg.intermediate,
            opt,
            io,
        )
        up = _genai_linear(
            g,
            normed2,
            f"{lp}/mlp/up_proj",
            f"model.layers.{i}.mlp.up_proj",
            h,
            cfg.intermediate,
            opt,
            io,
        )
        g.node("Sigmoid", [gate], [f"{lp}/mlp/act_fn/Sigmoid/output_0"], f"{lp}/mlp/act_fn/Sigmoid")
        g.node(
            "Mul",
            [gate, f"{lp}/mlp/act_fn/Sigmoid/output_0"],
            [f"{lp}/mlp/act_fn/output_0"],
            f"{lp}/mlp/act_fn/Mul",
        )
        g.node(
            "Mul", [f"{lp}/mlp/act_fn/output_0", up], [f"{lp}/mlp/Mul/output_0"], f"{lp}/mlp/Mul"
        )
        pending = _genai_linear(
            g,
            f"{lp}/mlp/Mul/output_0",
            f"{lp}/mlp/down_proj",
            f"model.layers.{i}.mlp.down_proj",
            cfg.intermediate,
            h,
            opt,
            io,
        )

    final = g.weight(f"model.layers.{n_layers}.final_norm_layernorm.weight", io, (h,), kind="ones")
    fp = f"/model/layers.{n_layers}/final_norm_layernorm"
    assert pending is not None
    normed_f = g.node(
        "SkipSimplifiedLayerNormalization",
        [pending, residual, final],
        [f"{fp}/output_0"],
        f"{fp}/SkipLayerNorm",
        "com.microsoft",
        epsilon=1e-5,
    )[0]
    # The lm_head is quantized too (N = vocab); with shared embeddings it doubles as the
    # embedding table.
    _genai_linear(g, normed_f, "/lm_head", "lm_head", h, cfg.vocab, opt, io, lm_roles, "logits")

    exp = Expected(
        folder,
        folder / "model.onnx",
        None,
        cfg,
        "onnx-genai",
        tied=opt.shared_embeddings,
        kv_input_names=tuple(kv_names),
    )
    g.save(
        folder,
        "model.onnx",
        data_name="model.onnx.data",
        threshold=0,
        opsets={"": 22, "com.microsoft": 1},
        ir_version=10,
        producer=("onnxruntime-genai", "0.18.0"),
        exp=exp,
    )
    io_name = _NAMES[io]
    exp.kv_dtype = exp.compute_dtype = io_name
    if quantized:
        exp.scheme, exp.bits, exp.group_size = opt.precision, bits, opt.block_size
        exp.symmetric = opt.symmetric
        exp.unquantized = () if opt.shared_embeddings else ("embed_tokens",)
    else:
        exp.scheme = opt.precision
        exp.bits = 16 if opt.precision == "fp16" else 32
    if opt.write_config:
        exp.genai_config = genai_config(cfg, opt)
        (folder / "genai_config.json").write_text(json.dumps(exp.genai_config, indent=4) + "\n")
    return exp


def genai_config(cfg: ModelConfig, opt: GenaiOptions) -> dict[str, object]:
    """genai_config.json exactly as the 0.18.0 builder writes it (research §1.3)."""
    providers: list[object] = []
    if opt.provider == "cuda":
        providers = [{"cuda": {"enable_cuda_graph": "0"}}]
    elif opt.provider == "webgpu":
        providers = [{"webgpu": {"enableGraphCapture": "0", "validationMode": "basic"}}]
    elif opt.provider == "dml":
        providers = [{"dml": {"enable_graph_capture": "1"}}]
    return {
        "model": {
            "bos_token_id": 1,
            "context_length": cfg.context,
            "decoder": {
                "session_options": {"log_id": "onnxruntime-genai", "provider_options": providers},
                "filename": "model.onnx",
                "head_size": cfg.head_dim,
                "hidden_size": cfg.hidden,
                "inputs": {
                    "input_ids": "input_ids",
                    "attention_mask": "attention_mask",
                    "past_key_names": "past_key_values.%d.key",
                    "past_value_names": "past_key_values.%d.value",
                },
                "outputs": {
                    "logits": "logits",
                    "present_key_names": "present.%d.key",
                    "present_value_names": "present.%d.value",
                },
                "num_attention_heads": cfg.heads,
                "num_hidden_layers": cfg.layers,
                "num_key_value_heads": cfg.kv_heads,
            },
            "eos_token_id": 2,
            "pad_token_id": 2,
            "type": cfg.model_type,
            "vocab_size": cfg.vocab,
        },
        "search": {
            "diversity_penalty": 0.0,
            "do_sample": False,
            "early_stopping": True,
            "length_penalty": 1.0,
            "max_length": cfg.context if opt.max_length is None else opt.max_length,
            "min_length": 0,
            "no_repeat_ngram_size": 0,
            "num_beams": 1,
            "num_return_sequences": 1,
            "past_present_share_buffer": opt.past_present_share_buffer,
            "repetition_penalty": 1.0,
            "temperature": 1.0,
            "top_k": 50,
            "top_p": 1.0,
        },
    }


# --------------------------------------------------------------------------- Optimum layout


def _optimum_body(
    g: _Graph, nodes: list[onnx.NodeProto], cfg: ModelConfig, w: dict[str, str], sfx: str
) -> None:
    """The decoder as torch.onnx export writes it: only ai.onnx ops, module-path node names.

    ``sfx`` keeps value names unique when the body is emitted twice (merged decoder).
    """
    saved, g.nodes = g.nodes, nodes
    nh, kvh, hd = cfg.heads, cfg.kv_heads, cfg.head_dim

    def n(op: str, ins: Sequence[str], name: str, count: int = 1, **attrs: Any) -> list[str]:
        outs = [f"{name}/output_{j}{sfx}" for j in range(count)]
        g.node(op, ins, outs, name, **attrs)
        return outs

    def c(value: Sequence[int] | Sequence[float] | float, dtype: type = np.int64) -> str:
        name = g.const(value, dtype) + sfx
        g.nodes[-1].output[0] = name
        return name

    def rms(x: str, weight: str, base: str) -> str:
        sq = n("Pow", [x, c(2.0, np.float32)], f"{base}/Pow")[0]
        mean = n("ReduceMean", [sq, c([-1])], f"{base}/ReduceMean", keepdims=1)[0]
        eps = n("Add", [mean, c(1e-5, np.float32)], f"{base}/Add")[0]
        root = n("Sqrt", [eps], f"{base}/Sqrt")[0]
        div = n("Div", [x, root], f"{base}/Div")[0]
        return n("Mul", [weight, div], f"{base}/Mul")[0]

    def heads(x: str, count: int, base: str) -> str:
        r = n("Reshape", [x, c([0, 0, count, hd])], f"{base}/Reshape")[0]
        return n("Transpose", [r], f"{base}/Transpose", perm=[0, 2, 1, 3])[0]

    def rotate(x: str, cos: str, sin: str, base: str) -> str:
        x1, x2 = n("Split", [x, c([hd // 2, hd // 2])], f"{base}/Split", count=2, axis=-1)
        neg = n("Neg", [x2], f"{base}/Neg")[0]
        rot = n("Concat", [neg, x1], f"{base}/Concat", axis=-1)[0]
        a = n("Mul", [x, cos], f"{base}/Mul")[0]
        b = n("Mul", [rot, sin], f"{base}/Mul_1")[0]
        return n("Add", [a, b], f"{base}/Add")[0]

    x = n("Gather", [w["embed"], "input_ids"], "/model/embed_tokens/Gather")[0]
    # Rotary: angles from position_ids (inv_freq is a constant of the export).
    inv = 1.0 / (10000.0 ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    pos = n("Cast", ["position_ids"], "/model/rotary_emb/Cast", to=TensorProto.FLOAT)[0]
    pos = n("Unsqueeze", [pos, c([-1])], "/model/rotary_emb/Unsqueeze")[0]
    freqs = n(
        "Mul", [pos, c(inv.astype(np.float32).tolist(), np.float32)], "/model/rotary_emb/Mul"
    )[0]
    emb = n("Concat", [freqs, freqs], "/model/rotary_emb/Concat", axis=-1)[0]
    cos = n(
        "Unsqueeze",
        [n("Cos", [emb], "/model/rotary_emb/Cos")[0], c([1])],
        "/model/rotary_emb/Unsqueeze_1",
    )[0]
    sin = n(
        "Unsqueeze",
        [n("Sin", [emb], "/model/rotary_emb/Sin")[0], c([1])],
        "/model/rotary_emb/Unsqueeze_2",
    )[0]
    # Additive mask [B, 1, S, T]: causal (Trilu with k = T - S) and padding.
    mb = "/model/mask"
    shape_ids = n("Shape", ["input_ids"], f"{mb}/Shape")[0]
    seq = n("Gather", [shape_ids, c([1])], f"{mb}/Gather")[0]
    shape_mask = n("Shape", ["attention_mask"], f"{mb}/Shape_1")[0]
    total = n("Gather", [shape_mask, c([1])], f"{mb}/Gather_1")[0]
    st = n("Concat", [seq, total], f"{mb}/Concat", axis=0)[0]
    ones = n(
        "ConstantOfShape",
        [st],
        f"{mb}/ConstantOfShape",
        value=numpy_helper.from_array(np.array([1.0], np.float32)),
    )[0]
    k_off = n(
        "Sub",
        [n("Squeeze", [total], f"{mb}/Squeeze")[0], n("Squeeze", [seq], f"{mb}/Squeeze_1")[0]],
        f"{mb}/Sub",
    )[0]
    causal = n("Trilu", [ones, k_off], f"{mb}/Trilu", upper=0)[0]
    pad = n("Cast", ["attention_mask"], f"{mb}/Cast", to=TensorProto.FLOAT)[0]
    pad = n("Unsqueeze", [pad, c([1, 2])], f"{mb}/Unsqueeze")[0]
    allowed = n("Mul", [causal, pad], f"{mb}/Mul")[0]
    minus = n("Sub", [allowed, c(1.0, np.float32)], f"{mb}/Sub_1")[0]
    mask = n("Mul", [minus, c(10000.0, np.float32)], f"{mb}/Mul_1")[0]

    for i in range(cfg.layers):
        lp = f"/model/layers.{i}"
        normed = rms(x, w[f"ln{i}"], f"{lp}/input_layernorm")
        q = n("MatMul", [normed, w[f"q{i}"]], f"{lp}/self_attn/q_proj/MatMul")[0]
        k = n("MatMul", [normed, w[f"k{i}"]], f"{lp}/self_attn/k_proj/MatMul")[0]
        v = n("MatMul", [normed, w[f"v{i}"]], f"{lp}/self_attn/v_proj/MatMul")[0]
        q = rotate(heads(q, nh, f"{lp}/self_attn/q"), cos, sin, f"{lp}/self_attn/rotary_q")
        k = rotate(heads(k, kvh, f"{lp}/self_attn/k"), cos, sin, f"{lp}/self_attn/rotary_k")
        v = heads(v, kvh, f"{lp}/self_attn/v")
        g.node(
            "Concat",
            [f"past_key_values.{i}.key", k],
            [f"present.{i}.key{sfx}"],
            f"{lp}/self_attn/Concat_k",
            axis=2,
        )
        g.node(
            "Concat",
            [f"past_key_values.{i}.value", v],
            [f"present.{i}.value{sfx}"],
            f"{lp}/self_attn/Concat_v",
            axis=2,
        )
        kk, vv = f"present.{i}.key{sfx}", f"present.{i}.value{sfx}"
        if nh != kvh:  # repeat_kv: [B, KVH, T, D] -> [B, H, T, D]
            reps = c([1, 1, nh // kvh, 1, 1])
            kk = n(
                "Tile",
                [n("Unsqueeze", [kk, c([2])], f"{lp}/self_attn/Unsqueeze_k")[0], reps],
                f"{lp}/self_attn/Tile_k",
            )[0]
            kk = n("Reshape", [kk, c([0, nh, -1, hd])], f"{lp}/self_attn/Reshape_k")[0]
            vv = n(
                "Tile",
                [n("Unsqueeze", [vv, c([2])], f"{lp}/self_attn/Unsqueeze_v")[0], reps],
                f"{lp}/self_attn/Tile_v",
            )[0]
            vv = n("Reshape", [vv, c([0, nh, -1, hd])], f"{lp}/self_attn/Reshape_v")[0]
        kt = n("Transpose", [kk], f"{lp}/self_attn/Transpose_k", perm=[0, 1, 3, 2])[0]
        scores = n("MatMul", [q, kt], f"{lp}/self_attn/MatMul")[0]
        scores = n("Mul", [scores, c(1.0 / math.sqrt(hd), np.float32)], f"{lp}/self_attn/Mul")[0]
        scores = n("Add", [scores, mask], f"{lp}/self_attn/Add")[0]
        probs = n("Softmax", [scores], f"{lp}/self_attn/Softmax", axis=-1)[0]
        ctx = n("MatMul", [probs, vv], f"{lp}/self_attn/MatMul_1")[0]
        ctx = n("Transpose", [ctx], f"{lp}/self_attn/Transpose", perm=[0, 2, 1, 3])[0]
        ctx = n("Reshape", [ctx, c([0, 0, nh * hd])], f"{lp}/self_attn/Reshape")[0]
        o = n("MatMul", [ctx, w[f"o{i}"]], f"{lp}/self_attn/o_proj/MatMul")[0]
        x = n("Add", [x, o], f"{lp}/Add")[0]
        normed = rms(x, w[f"post{i}"], f"{lp}/post_attention_layernorm")
        gate = n("MatMul", [normed, w[f"gate{i}"]], f"{lp}/mlp/gate_proj/MatMul")[0]
        up = n("MatMul", [normed, w[f"up{i}"]], f"{lp}/mlp/up_proj/MatMul")[0]
        sig = n("Sigmoid", [gate], f"{lp}/mlp/act_fn/Sigmoid")[0]
        act = n("Mul", [gate, sig], f"{lp}/mlp/act_fn/Mul")[0]
        prod = n("Mul", [act, up], f"{lp}/mlp/Mul")[0]
        down = n("MatMul", [prod, w[f"down{i}"]], f"{lp}/mlp/down_proj/MatMul")[0]
        x = n("Add", [x, down], f"{lp}/Add_1")[0]
    x = rms(x, w["norm"], "/model/norm")
    head = w["lm_head"]
    if head == w["embed"]:
        head = n("Transpose", [head], "/lm_head/Transpose", perm=[1, 0])[0]
    g.node("MatMul", [x, head], [f"logits{sfx}"], "/lm_head/MatMul")
    g.nodes = saved


def build_optimum(
    folder: Path, cfg: ModelConfig = ModelConfig(), opt: OptimumOptions = OptimumOptions()
) -> Expected:
    """Write an Optimum ``text-generation-with-past`` export (fp32) plus config.json."""
    g = _Graph(np.random.default_rng(opt.seed), True)
    h, kvh, hd = cfg.hidden, cfg.kv_heads, cfg.head_dim
    f32 = TensorProto.FLOAT
    g.inputs += [
        _vi("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
        _vi(
            "attention_mask",
            TensorProto.INT64,
            ["batch_size", "past_sequence_length + sequence_length"],
        ),
        _vi("position_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
    ]
    kv_names: list[str] = []
    for i in range(cfg.layers):
        for kind in ("key", "value"):
            kv_names.append(f"past_key_values.{i}.{kind}")
            g.inputs.append(
                _vi(
                    f"past_key_values.{i}.{kind}",
                    f32,
                    ["batch_size", kvh, "past_sequence_length", hd],
                )
            )
    if opt.merged:
        g.inputs.append(_vi("use_cache_branch", TensorProto.BOOL, [1]))
    g.outputs.append(_vi("logits", f32, ["batch_size", "sequence_length", cfg.vocab]))
    for i in range(cfg.layers):
        for kind in ("key", "value"):
            g.outputs.append(
                _vi(
                    f"present.{i}.{kind}",
                    f32,
                    ["batch_size", kvh, "past_sequence_length + sequence_length", hd],
                )
            )

    # torch export names: parameters used as-is keep their names, transposed Linear weights
    # become anonymous onnx::MatMul_<n>.
    counter = iter(range(1000, 10**6))
    w: dict[str, str] = {}

    def lin(key: str, k: int, n_out: int, roles: Sequence[str] = ("matmul",)) -> None:
        w[key] = g.weight(f"onnx::MatMul_{next(counter)}", f32, (k, n_out), roles)

    emb_roles = ("embedding", "matmul") if opt.tied else ("embedding",)
    w["embed"] = g.weight("model.embed_tokens.weight", f32, (cfg.vocab, h), emb_roles)
    for i in range(cfg.layers):
        w[f"ln{i}"] = g.weight(f"model.layers.{i}.input_layernorm.weight", f32, (h,), kind="ones")
        lin(f"q{i}", h, cfg.heads * hd)
        lin(f"k{i}", h, kvh * hd)
        lin(f"v{i}", h, kvh * hd)
        lin(f"o{i}", cfg.heads * hd, h)
        w[f"post{i}"] = g.weight(
            f"model.layers.{i}.post_attention_layernorm.weight", f32, (h,), kind="ones"
        )
        lin(f"gate{i}", h, cfg.intermediate)
        lin(f"up{i}", h, cfg.intermediate)
        lin(f"down{i}", cfg.intermediate, h)
    w["norm"] = g.weight("model.norm.weight", f32, (h,), kind="ones")
    if opt.tied:
        w["lm_head"] = w["embed"]
    else:
        lin("lm_head", h, cfg.vocab, ("matmul", "lm_head"))

    if opt.merged:
        outs = ["logits"] + [
            f"present.{i}.{k}" for i in range(cfg.layers) for k in ("key", "value")
        ]
        branches = []
        for sfx in ("", "_nocache"):
            body: list[onnx.NodeProto] = []
            _optimum_body(g, body, cfg, w, sfx)
            branches.append(
                helper.make_graph(body, f"branch{sfx}", [], [_vi(o + sfx, f32, None) for o in outs])
            )
        g.node(
            "If",
            ["use_cache_branch"],
            outs,
            "optimum::if",
            then_branch=branches[0],
            else_branch=branches[1],
        )
    else:
        _optimum_body(g, g.nodes, cfg, w, "")

    exp = Expected(
        folder,
        folder / opt.filename,
        None,
        cfg,
        "onnx-optimum",
        tied=opt.tied,
        kv_input_names=tuple(kv_names),
    )
    g.save(
        folder,
        opt.filename,
        data_name=opt.filename + "_data" if opt.external_data else None,
        threshold=opt.size_threshold,
        opsets={"": 18},
        ir_version=8,
        producer=("pytorch", "2.13.0"),
        exp=exp,
    )
    exp.unquantized = ()
    if opt.write_config:
        config = {
            "architectures": ["LlamaForCausalLM"],
            "model_type": cfg.model_type,
            "hidden_size": h,
            "intermediate_size": cfg.intermediate,
            "num_attention_heads": cfg.heads,
            "num_hidden_layers": cfg.layers,
            "num_key_value_heads": kvh,
            "head_dim": hd,
            "vocab_size": cfg.vocab,
            "max_position_embeddings": cfg.context,
            "rms_norm_eps": 1e-5,
            "rope_theta": 10000.0,
            "tie_word_embeddings": opt.tied,
            "torch_dtype": "float32",
            "bos_token_id": 1,
            "eos_token_id": 2,
            "use_cache": True,
            "transformers_version": "4.57.6",
        }
        (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return exp
