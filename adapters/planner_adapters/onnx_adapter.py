"""The ONNX adapter: onnxruntime-genai packages, Optimum exports and single ONNX files.

Reads only the graph (protobuf) and small JSON configs; external weight files are checked
with ``os.stat`` and never opened, so planning cost does not grow with weight size.

What is read from where (shared research onnx-runtime.md §1-§4):

* onnxruntime-genai (``genai_config.json`` + ``model.onnx`` + ``model.onnx.data``): the
  runtime sizes its KV cache from ``num_hidden_layers``/``num_key_value_heads``/``head_size``
  and overrides them with concrete KV input dims of the graph, so concrete graph dims win
  and the config's ``head_size`` is authoritative when the graph's KV head dim is symbolic
  (``kv_cache_dim``, builders after PR #2084).
* Optimum (``model.onnx`` / ``decoder_model_merged.onnx`` + optional ``config.json``): plain
  ``ai.onnx`` ops, concrete KV dims, module paths in node names.
* Quantization is read from the graph: ``MatMulNBits`` (attributes K, N, bits, block_size;
  its packed uint8 B holds K·N parameters), ``GatherBlockQuantized``, QDQ
  (``DequantizeLinear`` feeding a MatMul), or the float dtype of MatMul weights.

Every field's origin is recorded with ``Provenance``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import ArtifactFormatError, InputError
from planner.quant import DTYPE_BYTES
from planner.spec import ArtifactSettings, ModelSpec, QuantInfo, WeightsInventory
from planner_adapters._onnx_graph import Graph, Node, Tensor, ValueInfo, parse_model, scan
from planner_adapters._safeio import read_json_object, resolve_inside
from planner_adapters._values import (
    MAX_DIM,
    Provenance,
    check_layers,
    opt_bool,
    opt_dict,
    opt_int,
    opt_str,
)

GENAI_CONFIG = "genai_config.json"
OPTIMUM_NAMES = (
    "model.onnx",
    "decoder_model_merged.onnx",
    "decoder_with_past_model.onnx",
    "decoder_model.onnx",
)
"""Optimum decoder file names, in the order planner prefers them (merged/with-past files
carry the KV-cache inputs; plain ``decoder_model.onnx`` recomputes attention)."""

_COM_MS = "com.microsoft"
_ATTENTION_OPS = frozenset(
    {
        "GroupQueryAttention",
        "MultiHeadAttention",
        "Attention",
        "PagedAttention",
        "SparseAttention",
        "DecoderMaskedMultiHeadAttention",
    }
)
_FLOAT_MATMULS = frozenset({"MatMul", "FusedMatMul", "Gemm"})
_INT_MATMULS = frozenset({"MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat"})
_PASS_THROUGH = frozenset(
    {
        "Transpose",
        "Reshape",
        "Identity",
        "Cast",
        "DequantizeLinear",
        "Squeeze",
        "Unsqueeze",
        "Flatten",
    }
)
_FLOAT_DTYPES = frozenset({"float32", "float16", "bfloat16", "float64"})
_LAYER_RE = re.compile(r"(?:layers?|blocks?|/h)[./_](\d+)(?:[/._]|$)")
_ROLE_RE = re.compile(
    r"(qkv_proj|query_key_value|c_attn|q_proj|k_proj|v_proj|o_proj|out_proj|gate_up_proj|"
    r"gate_proj|up_proj|down_proj|fc1|fc2|c_fc|lm_head)"
)
_PRINTF_INT = re.compile(r"%d")
_SCHEMES = {
    "float32": ("fp32", 32),
    "float16": ("fp16", 16),
    "bfloat16": ("bf16", 16),
    "float64": ("fp64", 64),
}


@dataclass(slots=True)
class _Linear:
    """A matrix multiply with a constant weight (a projection of the model)."""

    node: Node
    k: int
    n: int
    weight: str
    """The main weight initializer (after tracing through Transpose/Reshape/DQ)."""
    tensors: tuple[str, ...]
    """Every initializer the node consumes (weight, scales, zero points, bias)."""
    bits: int | None
    """Quantized bits (MatMulNBits, QDQ, integer MatMul) or None for float weights."""
    block_size: int | None
    zero_points: bool
    scale_dtype: str | None
    weight_dtype: str
    kind: str
    """``nbits``, ``qdq``, ``integer`` or ``float``."""
    role: str | None
    layer: int | None


@dataclass(slots=True)
class _Layout:
    kind: str
    """``genai``, ``optimum`` or ``onnx``."""
    folder: Path
    model_path: Path | None
    genai: dict[str, Any] | None
    genai_path: Path | None
    hf: dict[str, Any] | None
    hf_path: Path | None
    name: str


def _index(digits: str) -> int:
    """A layer index matched as digits; absurdly long ones become MAX_DIM (Python's int() refuses
    literals over 4300 digits, and no model has that many layers)."""
    return int(digits) if len(digits) <= 15 else MAX_DIM


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


class OnnxAdapter:
    """Reads ONNX LLM artifacts into a ``ModelSpec`` (graph and configs only)."""

    name = "onnx"

    def sniff(self, path: Path) -> int:
        """Score ``path``: .onnx files, genai folders and Optimum export folders."""
        try:
            if path.suffix.lower() == ".onnx" and not path.is_dir():
                return 90
            if not path.is_dir():
                return 0
            if _is_file(path / GENAI_CONFIG):
                return 95
            if any(_is_file(path / n) for n in OPTIMUM_NAMES):
                return 85
            onnx_files = [p for p in path.iterdir() if p.suffix.lower() == ".onnx"]
            return 40 if len(onnx_files) == 1 else 0
        except OSError:
            return 0

    def read(self, path: Path) -> ModelSpec:
        """Read ``path`` (a .onnx file or a model folder) without loading weight bytes."""
        layout = _locate(path)
        if layout.model_path is None:
            return _config_only_spec(path, layout)
        model, size = parse_model(layout.model_path)
        graph = scan(model, layout.model_path, size)
        return _Analysis(path, layout, graph).spec()


# --------------------------------------------------------------------------- layout


def _read_genai(folder: Path) -> tuple[dict[str, Any], Path]:
    cfg_path = folder / GENAI_CONFIG
    return read_json_object(cfg_path, GENAI_CONFIG), cfg_path


def _genai_filename(cfg: dict[str, Any], cfg_path: Path) -> str:
    model = opt_dict(cfg, "model", cfg_path, what=GENAI_CONFIG)
    if model is None:
        raise ArtifactFormatError(f"{GENAI_CONFIG} has no 'model' section", path=str(cfg_path))
    decoder = opt_dict(model, "decoder", cfg_path, what="genai_config.json model")
    if decoder is None:
        raise ArtifactFormatError(
            f"{GENAI_CONFIG} has no 'model.decoder' section (multi-model pipelines and "
            "encoder-only packages are not supported)",
            path=str(cfg_path),
        )
    filename = opt_str(decoder, "filename", cfg_path, what="genai_config.json model.decoder")
    return filename or "model.onnx"


def _locate(path: Path) -> _Layout:
    """Work out which layout ``path`` is and which files belong to it."""
    if path.is_dir():
        folder = path
        if _is_file(folder / GENAI_CONFIG) or (folder / GENAI_CONFIG).exists():
            cfg, cfg_path = _read_genai(folder)
            filename = _genai_filename(cfg, cfg_path)
            model_path = resolve_inside(
                folder, filename, "model.decoder.filename", referrer=cfg_path
            )
            if not model_path.exists() and not model_path.is_symlink():
                if any(p.suffix.lower() == ".onnx" for p in folder.iterdir()):
                    raise ArtifactFormatError(
                        f"model.decoder.filename {filename!r} does not exist in the folder",
                        path=str(cfg_path),
                    )
                model_path_opt: Path | None = None  # config_only build: no model file
            else:
                model_path_opt = model_path
            return _Layout(
                "genai", folder, model_path_opt, cfg, cfg_path, None, None, folder.resolve().name
            )
        for name in OPTIMUM_NAMES:
            candidate = folder / name
            if candidate.exists() or candidate.is_symlink():
                hf, hf_path = _read_hf(folder)
                return _Layout(
                    "optimum", folder, candidate, None, None, hf, hf_path, folder.resolve().name
                )
        onnx_files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".onnx")
        if len(onnx_files) == 1:
            return _Layout(
                "onnx", folder, onnx_files[0], None, None, None, None, onnx_files[0].stem
            )
        if not onnx_files:
            raise InputError("the folder holds no .onnx model", path=str(path))
        raise InputError(
            "the folder holds several .onnx files and no genai_config.json; point at one file",
            path=str(path),
        )
    folder = path.parent
    if _is_file(folder / GENAI_CONFIG):
        cfg, cfg_path = _read_genai(folder)
        if _genai_filename(cfg, cfg_path) == path.name:
            return _Layout("genai", folder, path, cfg, cfg_path, None, None, folder.resolve().name)
    if path.name in OPTIMUM_NAMES and _is_file(folder / "config.json"):
        hf, hf_path = _read_hf(folder)
        return _Layout("optimum", folder, path, None, None, hf, hf_path, folder.resolve().name)
    return _Layout("onnx", folder, path, None, None, None, None, path.stem)


def _read_hf(folder: Path) -> tuple[dict[str, Any] | None, Path | None]:
    cfg_path = folder / "config.json"
    if not (cfg_path.exists() or cfg_path.is_symlink()):
        return None, None
    return read_json_object(cfg_path, "config.json"), cfg_path


def _pattern(template: str, cfg_path: Path, key: str) -> re.Pattern[str]:
    """A genai name template (``past_key_values.%d.key``) as a regex capturing the layer."""
    if len(_PRINTF_INT.findall(template)) != 1:
        raise ArtifactFormatError(
            f"{GENAI_CONFIG} {key} {template!r} must contain exactly one %d", path=str(cfg_path)
        )
    before, after = template.split("%d")
    return re.compile(re.escape(before) + r"(\d+)" + re.escape(after))


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    """Flatten genai session options into (key, value) text pairs."""
    if len(out) > 1000:
        return
    if isinstance(value, dict):
        if not value and prefix:
            out.append((prefix, ""))
        for k, v in value.items():
            if prefix == "config_entries":
                key = str(k)  # already ORT keys such as session.disable_prepacking
            else:
                key = f"{prefix}.{k}" if prefix else str(k)
            _flatten(key, v, out)
    elif isinstance(value, list):
        for item in value:
            _flatten(prefix, item, out)
    elif isinstance(value, bool):
        out.append((prefix, "true" if value else "false"))
    elif value is not None:
        out.append((prefix, str(value)))


class _GenaiConfig:
    """Typed view of genai_config.json (every value checked, absent values None)."""

    def __init__(self, cfg: dict[str, Any], path: Path) -> None:
        w = "genai_config.json"
        self.path = path
        model = opt_dict(cfg, "model", path, what=w) or {}
        decoder = opt_dict(model, "decoder", path, what=f"{w} model") or {}
        dw = f"{w} model.decoder"
        self.type = opt_str(model, "type", path, what=f"{w} model")
        self.vocab = opt_int(model, "vocab_size", path, minimum=1, what=f"{w} model")
        self.context = opt_int(model, "context_length", path, minimum=1, what=f"{w} model")
        self.head_size = opt_int(decoder, "head_size", path, minimum=1, what=dw)
        self.hidden = opt_int(decoder, "hidden_size", path, minimum=1, what=dw)
        self.heads = opt_int(decoder, "num_attention_heads", path, minimum=1, what=dw)
        self.kv_heads = opt_int(decoder, "num_key_value_heads", path, minimum=1, what=dw)
        self.layers = opt_int(decoder, "num_hidden_layers", path, minimum=1, what=dw)
        inputs = opt_dict(decoder, "inputs", path, what=dw) or {}
        outputs = opt_dict(decoder, "outputs", path, what=dw) or {}
        iw, ow = f"{dw}.inputs", f"{dw}.outputs"
        self.past_key = opt_str(inputs, "past_key_names", path, what=iw) or "past_key_values.%d.key"
        self.past_value = (
            opt_str(inputs, "past_value_names", path, what=iw) or "past_key_values.%d.value"
        )
        self.past_combined = opt_str(inputs, "past_names", path, what=iw)
        self.input_ids = opt_str(inputs, "input_ids", path, what=iw) or "input_ids"
        self.logits = opt_str(outputs, "logits", path, what=ow) or "logits"
        self.session: list[tuple[str, str]] = []
        session = opt_dict(decoder, "session_options", path, what=dw)
        if session:
            _flatten("", session, self.session)
        sw = opt_dict(decoder, "sliding_window", path, what=dw) or {}
        self.window = opt_int(sw, "window_size", path, minimum=1, what=f"{dw}.sliding_window")
        layers = sw.get("layers")
        self.window_layers: list[int] | None = None
        if isinstance(layers, list) and all(
            isinstance(x, int) and not isinstance(x, bool) and 0 <= x < MAX_DIM for x in layers
        ):
            self.window_layers = list(layers)
        elif layers is not None:
            raise ArtifactFormatError(
                f"{dw}.sliding_window.layers must be a list of layer indices", path=str(path)
            )
        search = opt_dict(cfg, "search", path, what=w) or {}
        self.max_length = opt_int(search, "max_length", path, what=f"{w} search")
        self.share_buffer = opt_bool(search, "past_present_share_buffer", path, what=f"{w} search")
        self.num_beams = opt_int(search, "num_beams", path, minimum=1, what=f"{w} search")


class _HfConfig:
    """The few config.json keys an Optimum export folder can add."""

    def __init__(self, cfg: dict[str, Any], path: Path) -> None:
        w = "config.json"
        text = cfg.get("text_config")
        if isinstance(text, dict) and "num_hidden_layers" in text:
            cfg = {**cfg, **text}
        self.path = path
        self.type = opt_str(cfg, "model_type", path, what=w)
        self.layers = opt_int(cfg, "num_hidden_layers", path, minimum=1, what=w)
        self.hidden = opt_int(cfg, "hidden_size", path, minimum=1, what=w)
        self.heads = opt_int(cfg, "num_attention_heads", path, minimum=1, what=w)
        self.kv_heads = opt_int(cfg, "num_key_value_heads", path, minimum=1, what=w)
        self.head_dim = opt_int(cfg, "head_dim", path, minimum=1, what=w)
        self.intermediate = opt_int(cfg, "intermediate_size", path, minimum=1, what=w)
        self.vocab = opt_int(cfg, "vocab_size", path, minimum=1, what=w)
        self.context = opt_int(cfg, "max_position_embeddings", path, minimum=1, what=w)
        tie = cfg.get("tie_word_embeddings")
        self.tie = tie if isinstance(tie, bool) else None
        self.window = opt_int(cfg, "sliding_window", path, minimum=1, what=w)
        types = cfg.get("layer_types")
        self.layer_types = (
            [str(t) for t in types] if isinstance(types, list) and len(types) < MAX_DIM else None
        )
        use = cfg.get("use_sliding_window")
        self.use_window = use if isinstance(use, bool) else None


# --------------------------------------------------------------------------- analysis


def _first(counter: Counter[Any]) -> Any:
    """Most common value (ties: the first seen)."""
    return counter.most_common(1)[0][0]


class _Analysis:
    """Derives a ModelSpec from a scanned graph plus the layout's configs."""

    def __init__(self, source: Path, layout: _Layout, graph: Graph) -> None:
        self.source = source
        self.layout = layout
        self.g = graph
        self.path = str(graph.path)
        self.prov = Provenance()
        self.notes: list[str] = []
        self.genai = (
            _GenaiConfig(layout.genai, layout.genai_path)
            if layout.genai is not None and layout.genai_path is not None
            else None
        )
        self.hf = (
            _HfConfig(layout.hf, layout.hf_path)
            if layout.hf is not None and layout.hf_path is not None
            else None
        )

    # -- small helpers ----------------------------------------------------------------

    def error(self, message: str) -> ArtifactFormatError:
        return ArtifactFormatError(message, path=self.path)

    def trace(self, name: str) -> tuple[str | None, list[Node]]:
        """Follow ``name`` back through layout-only ops to an initializer.

        Returns the initializer (or None) and the pass-through nodes crossed.
        """
        crossed: list[Node] = []
        tensors, producer = self.g.tensors, self.g.producer
        for _ in range(8):
            if name in tensors:
                return name, crossed
            node = producer.get(name)
            if node is None or node.op not in _PASS_THROUGH or not node.inputs:
                return None, crossed
            crossed.append(node)
            name = node.inputs[0]
        return None, crossed

    def node_tensors(self, node: Node) -> list[str]:
        """Initializers a node consumes, directly or through pass-through ops."""
        out: list[str] = []
        for inp in node.inputs:
            if not inp:
                continue
            src, crossed = self.trace(inp)
            if src is not None:
                out.append(src)
            for c in crossed:  # e.g. DequantizeLinear's scale and zero point
                out.extend(x for x in c.inputs[1:] if x in self.g.tensors)
        return out

    # -- linears ----------------------------------------------------------------------

    def linears(self) -> list[_Linear]:
        found: list[_Linear] = []
        g = self.g
        for node in g.ops("MatMulNBits", "Attention", *_FLOAT_MATMULS, *_INT_MATMULS):
            op = node.op
            if op == "MatMulNBits":
                lin = self._nbits(node)
            elif op == "Attention":
                lin = self._packed_attention(node)
            else:
                lin = self._matmul(node)
            if lin is not None:
                found.append(lin)
        return found

    def _packed_attention(self, node: Node) -> _Linear | None:
        """com.microsoft Attention multiplies by its packed QKV weight [hidden, 3·width]
        itself (input 1), so the node is also the layer's QKV projection."""
        ins = node.inputs
        t = self.g.tensors.get(ins[1]) if len(ins) > 1 and node.domain == _COM_MS else None
        if t is None or len(t.dims) != 2 or t.dtype not in _FLOAT_DTYPES:
            return None
        tensors = tuple(x for x in ins[1:3] if x in self.g.tensors)
        _, layer = self._meta(node.name)
        return _Linear(
            node,
            t.dims[0],
            t.dims[1],
            t.name,
            tensors,
            None,
            None,
            False,
            None,
            t.dtype,
            "float",
            "qkv_proj",
            layer,
        )

    def _meta(self, name: str) -> tuple[str | None, int | None]:
        """Role (q_proj, down_proj, ...) and layer index from a node name."""
        m = _ROLE_RE.search(name)
        lm = _LAYER_RE.search(name)
        return (m.group(1) if m else None), (_index(lm.group(1)) if lm else None)

    def _nbits(self, node: Node) -> _Linear | None:
        g = self.g
        tensors = g.tensors
        ins = node.inputs
        if len(ins) < 3 or ins[1] not in tensors:
            return None
        attrs = g.attrs(node)
        k, n, bits, bs = (
            attrs.get("K"),
            attrs.get("N"),
            attrs.get("bits", 4),
            attrs.get("block_size"),
        )
        name = node.name
        if not (
            type(k) is int
            and type(n) is int
            and type(bits) is int
            and type(bs) is int
            and 0 < k <= MAX_DIM
            and 0 < n <= MAX_DIM
        ):
            raise self.error(
                f"MatMulNBits node {name!r} lacks valid integer K, N, bits or block_size"
            )
        if not 1 <= bits <= 8 or bs < 16 or bs & (bs - 1):
            raise self.error(
                f"MatMulNBits node {name!r}: bits={bits}, block_size={bs} are invalid "
                "(bits 1..8, block_size a power of two >= 16)"
            )
        b = tensors[ins[1]]
        expect = n * -(-k // bs) * (bs * bits // 8)
        if b.numel != expect:
            raise self.error(
                f"MatMulNBits node {name!r}: packed weight {b.name!r} has dims "
                f"{list(b.dims)} ({b.numel} bytes) but K={k}, N={n}, bits={bits}, "
                f"block_size={bs} need {expect}"
            )
        scales = tensors.get(ins[2])
        role, layer = self._meta(name)
        return _Linear(
            node,
            k,
            n,
            b.name,
            tuple([x for x in ins[1:] if x in tensors]),
            bits,
            bs,
            len(ins) > 3 and bool(ins[3]),
            scales.dtype if scales is not None else None,
            b.dtype,
            "nbits",
            role,
            layer,
        )

    def _matmul(self, node: Node) -> _Linear | None:
        g = self.g
        if len(node.inputs) < 2:
            return None
        src, crossed = self.trace(node.inputs[1])
        if src is None:
            return None
        t = g.tensors[src]
        if len(t.dims) < 2:
            return None
        k, n = t.dims[-2], t.dims[-1]
        transposes = sum(1 for c in crossed if c.op == "Transpose")
        if node.op == "Gemm" and g.attr_int(node, "transB", 0):
            transposes += 1
        if transposes % 2:
            k, n = n, k
        dq = [c for c in crossed if c.op == "DequantizeLinear"]
        tensors = self.node_tensors(node)
        zp = False
        scale_dtype: str | None = None
        bits: int | None = None
        block: int | None = None
        kind = "float"
        if dq:
            kind = "qdq"
            d = dq[0]
            bits = {"int4": 4, "uint4": 4, "int8": 8, "uint8": 8}.get(t.dtype)
            if len(d.inputs) > 1 and d.inputs[1] in g.tensors:
                scale_dtype = g.tensors[d.inputs[1]].dtype
            zp = len(d.inputs) > 2 and bool(d.inputs[2])
            block = g.attr_int(d, "block_size", 0) or None
            if bits is None:
                kind = "float"
        elif node.op in _INT_MATMULS:
            kind, bits = "integer", 8
            zp = len(node.inputs) > 3 and bool(node.inputs[3])
            if len(node.inputs) > 2 and node.inputs[2] in g.tensors:
                scale_dtype = g.tensors[node.inputs[2]].dtype
        elif t.dtype not in _FLOAT_DTYPES:
            return None
        role, layer = self._meta(node.name)
        return _Linear(
            node,
            k,
            n,
            src,
            tuple(dict.fromkeys(tensors)),
            bits,
            block,
            zp,
            scale_dtype,
            t.dtype,
            kind,
            role,
            layer,
        )

    # -- the spec -----------------------------------------------------------------------

    def spec(self) -> ModelSpec:
        g, prov, genai, hf = self.g, self.prov, self.genai, self.hf
        layout = self.layout
        fmt = {"genai": "onnx-genai", "optimum": "onnx-optimum"}.get(layout.kind, "onnx")
        prov.artifact("format", f"{layout.kind} layout of {g.path.name}")

        linears = self.linears()
        by_node = {id(lin.node): lin for lin in linears}

        # ---- KV-cache inputs
        keys, values, combined = self._kv_inputs()
        kv_layers = sorted(keys) if keys else sorted(combined)
        key_infos = [keys[i] for i in sorted(keys)] if keys else [combined[i] for i in kv_layers]
        head_axis = 1 if keys else 2  # combined past_%d is [2, batch, heads, seq, dim]
        kv_dims = [
            vi.dims for vi in key_infos if vi.dims is not None and len(vi.dims) == head_axis + 3
        ]
        graph_kvh = Counter(x for d in kv_dims if isinstance(x := d[head_axis], int) and x > 0)
        graph_hd = Counter(x for d in kv_dims if isinstance(x := d[head_axis + 2], int) and x > 0)
        symbolic_hd = [d[head_axis + 2] for d in kv_dims if isinstance(d[head_axis + 2], str)]

        # ---- attention nodes
        attn = [n for n in g.ops(*_ATTENTION_OPS) if n.domain == _COM_MS]
        attn_heads = Counter(h for n in attn if (h := g.attr_int(n, "num_heads", 0) or 0) > 0)
        attn_kv = Counter(
            h
            for n in attn
            if n.op in ("GroupQueryAttention", "PagedAttention")
            and (h := g.attr_int(n, "kv_num_heads", 0) or 0) > 0
        )
        for label, counter in (("num_heads", attn_heads), ("kv_num_heads", attn_kv)):
            if len(counter) > 1:
                self.notes.append(
                    f"attention nodes disagree on {label}: {dict(counter)}; using the most common"
                )

        # ---- layers
        layers = self._layers(kv_layers, attn, linears)

        # ---- embedding and lm_head
        emb = self._embedding()
        lm_head = self._lm_head(by_node)
        emb_tensors: list[str] = emb[1] if emb else []
        tied = bool(emb and lm_head and lm_head.weight in emb_tensors)
        prov.derived(
            "tie_word_embeddings",
            "the embedding and the lm_head read the same initializer"
            if tied
            else "the embedding and the lm_head use separate initializers"
            if emb and lm_head
            else "no embedding/lm_head pair in the graph",
        )
        if hf is not None and hf.tie is not None and hf.tie != tied:
            self.notes.append(
                f"config.json tie_word_embeddings={str(hf.tie).lower()}, but the graph stores "
                f"the embedding and lm_head {'once' if tied else 'separately'}"
            )

        # ---- attention projections
        qkv, q_lin, k_lin, packed = self._attention_projections(attn, linears)

        # ---- head_dim, kv heads, heads
        kvh, hd, heads = self._heads(
            graph_kvh,
            graph_hd,
            symbolic_hd,
            attn_heads,
            attn_kv,
            qkv,
            q_lin,
            k_lin,
            packed,
            key_infos,
        )

        # ---- hidden, intermediate, vocab, context
        hidden = self._hidden(emb, qkv or q_lin, linears)
        intermediate = self._intermediate(linears, hidden, heads * hd, qkv, q_lin, lm_head)
        vocab = self._vocab(emb, lm_head)
        max_context = self._context()
        windows = self._windows(attn, keys, layers)

        # ---- weights, quantization, KV dtype
        weights = self._weights(linears, emb_tensors, lm_head, tied)
        quant = self._quant(linears, emb, lm_head, tied)
        kv_dtype = self._kv_dtype(key_infos)
        kv_names: list[str] = []
        if kv_layers:
            prov.artifact("kv_input_names", "graph inputs matching the KV-cache name pattern")
        for i in kv_layers:
            if keys:
                kv_names.append(keys[i].name)
                if i in values:
                    kv_names.append(values[i])
            else:
                kv_names.append(combined[i].name)

        # ---- architecture
        if genai is not None and genai.type:
            arch = genai.type
            prov.artifact("architecture", "genai_config.json model.type")
        elif hf is not None and hf.type:
            arch = hf.type
            prov.artifact("architecture", "config.json model_type")
        else:
            arch = "unknown"
            prov.assumed("architecture", "no config file names the model family")

        prov.artifact("name", "folder name" if layout.kind != "onnx" else "file name")
        for label, value in (
            ("hidden_size", hidden),
            ("vocab_size", vocab),
            ("num_attention_heads", heads),
            ("num_kv_heads", kvh),
            ("head_dim", hd),
            ("intermediate_size", intermediate or 1),
        ):
            if value < 1:
                raise self.error(f"the graph gives {label}={value}; nothing to plan")
        extra = self._extra(attn, packed)
        return ModelSpec(
            name=layout.name,
            source=str(self.source),
            format=fmt,
            adapter="onnx",
            architecture=arch,
            num_layers=layers,
            hidden_size=hidden,
            num_attention_heads=heads,
            num_kv_heads=kvh,
            head_dim=hd,
            intermediate_size=intermediate,
            vocab_size=vocab,
            tie_word_embeddings=tied,
            max_context=max_context,
            weights=weights,
            quantization=quant,
            kv_dtype=kv_dtype,
            layer_windows=windows,
            kv_input_names=tuple(kv_names),
            settings=self._settings(max_context),
            provenance=prov.freeze(),
            notes=tuple(dict.fromkeys(self.notes)),
            extra=extra,
        )

    # -- pieces -----------------------------------------------------------------------

    def _kv_inputs(self) -> tuple[dict[int, ValueInfo], dict[int, str], dict[int, ValueInfo]]:
        """KV-cache graph inputs by layer: keys, value names, combined (``past_%d``)."""
        genai = self.genai
        if genai is not None:
            kp = _pattern(genai.past_key, genai.path, "past_key_names")
            vp = _pattern(genai.past_value, genai.path, "past_value_names")
            cp = (
                _pattern(genai.past_combined, genai.path, "past_names")
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
        for name in self.g.input_protos:
            for pat, into in ((kp, keys), (vp, values), (cp, combined)):
                if pat is None:
                    continue
                m = pat.fullmatch(name)
                if m:
                    index = _index(m.group(1))
                    if index >= MAX_DIM:
                        raise self.error(f"KV-cache input {name[:60]!r} has an absurd layer index")
                    into[index] = name
                    break
        if keys:
            combined = {}
        info = self.g.value_info
        return (
            {i: vi for i, n in keys.items() if (vi := info(n)) is not None},
            values,
            {i: vi for i, n in combined.items() if (vi := info(n)) is not None},
        )

    def _layers(self, kv_layers: list[int], attn: list[Node], linears: list[_Linear]) -> int:
        prov, genai, hf = self.prov, self.genai, self.hf
        layers: int | None = None
        if kv_layers:
            layers = len(kv_layers)
            if kv_layers != list(range(layers)):
                self.notes.append(
                    f"KV-cache inputs cover layers {kv_layers[:8]}...; not 0..{layers - 1} "
                    "(layers without a KV cache are not counted)"
                )
            prov.artifact("num_layers", "count of KV-cache graph inputs (past_key_values.N.key)")
        elif attn:
            layers = len(attn)
            prov.artifact("num_layers", f"count of {attn[0].op} nodes")
            self.notes.append(
                "the graph has no KV-cache inputs: every step recomputes "
                "attention over the whole sequence"
            )
        elif genai is not None and genai.layers:
            layers = genai.layers
            prov.artifact("num_layers", "genai_config.json model.decoder.num_hidden_layers")
        elif hf is not None and hf.layers:
            layers = hf.layers
            prov.artifact("num_layers", "config.json num_hidden_layers")
        else:
            indices = {lin.layer for lin in linears if lin.layer is not None}
            if indices:
                layers = max(indices) + 1
                prov.derived("num_layers", "highest layer index in node names + 1")
                self.notes.append(
                    "the graph has no KV-cache inputs: every step recomputes "
                    "attention over the whole sequence"
                )
        if layers is None:
            raise self.error(
                "cannot find decoder layers: no KV-cache inputs (past_key_values.N.key), no "
                "attention nodes and no layer-named nodes; is this an LLM decoder?"
            )
        check_layers(layers, self.path, "the decoder's layer count")
        for label, value in (
            ("genai_config.json num_hidden_layers", genai.layers if genai else None),
            ("config.json num_hidden_layers", hf.layers if hf else None),
        ):
            if value is not None and value != layers:
                self.notes.append(
                    f"{label}={value} but the graph has {layers} KV-cache layers; "
                    f"using {layers} (the runtime allocates per graph input)"
                )
        return layers

    def _embedding(self) -> tuple[Node, list[str], int, int | None] | None:
        """The token embedding: (node, its initializers, rows, columns)."""
        g = self.g
        ids = self.genai.input_ids if self.genai else "input_ids"
        best: tuple[int, Node, list[str], Tensor, bool] | None = None
        for node in g.ops("Gather", "GatherBlockQuantized"):
            if len(node.inputs) < 2:
                continue
            src, crossed = self.trace(node.inputs[0])
            if src is None:
                continue
            t = g.tensors[src]
            if len(t.dims) < 2:
                continue
            score = 2 if node.inputs[1] == ids else 1 if "embed" in node.name.lower() else 0
            # A tied fp32 builder graph gathers from Transpose(lm_head weight [hidden, vocab]).
            flipped = sum(1 for c in crossed if c.op == "Transpose") % 2 == 1
            if best is None or score > best[0] or (score == best[0] and t.numel > best[3].numel):
                best = (score, node, self.node_tensors(node), t, flipped)
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
        return node, tensors, rows, cols

    def _lm_head(self, by_node: dict[int, _Linear]) -> _Linear | None:
        g = self.g
        name = self.genai.logits if self.genai else "logits"
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

    def _attention_projections(
        self, attn: list[Node], linears: list[_Linear]
    ) -> tuple[_Linear | None, _Linear | None, _Linear | None, bool]:
        """The first layer's packed QKV, or separate q/k projections."""
        by_out = {lin.node.outputs[0]: lin for lin in linears if lin.node.outputs}

        def feeding(name: str) -> _Linear | None:
            for _ in range(4):
                lin = by_out.get(name)
                if lin is not None:
                    return lin
                node = self.g.producer.get(name)
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
                return lin, None, None, True
            k_lin = feeding(ins[1]) if len(ins) > 1 and ins[1] else None
            return None, lin, k_lin, False
        roles: dict[str, _Linear] = {}
        for lin in linears:
            if lin.role and lin.role not in roles and lin.layer in (None, 0):
                roles[lin.role] = lin
        for fused in ("qkv_proj", "query_key_value", "c_attn"):
            if fused in roles:
                return roles[fused], None, None, True
        return None, roles.get("q_proj"), roles.get("k_proj"), False

    def _heads(
        self,
        graph_kvh: Counter[Any],
        graph_hd: Counter[Any],
        symbolic_hd: list[Any],
        attn_heads: Counter[int],
        attn_kv: Counter[int],
        qkv: _Linear | None,
        q_lin: _Linear | None,
        k_lin: _Linear | None,
        packed: bool,
        key_infos: list[ValueInfo],
    ) -> tuple[int, int, int]:
        prov, genai, hf = self.prov, self.genai, self.hf
        kv0 = key_infos[0].name if key_infos else "past key"
        # KV heads: concrete KV input dims win (the runtime overrides its config with them).
        kvh: int | None = None
        if graph_kvh:
            kvh = _first(graph_kvh)
            prov.artifact("num_kv_heads", f"graph input {kv0} dim 1")
            if len(graph_kvh) > 1:
                self.notes.append(
                    f"KV-cache inputs differ in head count {dict(graph_kvh)}; using {kvh}"
                )
            if attn_kv and _first(attn_kv) != kvh:
                raise self.error(
                    f"the graph contradicts itself: {kv0} has {kvh} KV heads but "
                    f"GroupQueryAttention kv_num_heads={_first(attn_kv)}"
                )
        elif attn_kv:
            kvh = _first(attn_kv)
            prov.artifact("num_kv_heads", "GroupQueryAttention attribute kv_num_heads")
        elif genai is not None and genai.kv_heads:
            kvh = genai.kv_heads
            prov.artifact("num_kv_heads", "genai_config.json model.decoder.num_key_value_heads")
        if kvh is not None and genai is not None and genai.kv_heads and genai.kv_heads != kvh:
            self.notes.append(
                f"genai_config.json num_key_value_heads={genai.kv_heads} but the graph has {kvh}; "
                f"using {kvh} (the runtime takes concrete KV dims from the graph)"
            )

        heads: int | None = None
        if attn_heads:
            heads = _first(attn_heads)
            prov.artifact("num_attention_heads", "attention node attribute num_heads")

        # Head dim.
        hd: int | None = None
        fused_n = qkv.n if qkv is not None and packed else None
        if graph_hd:
            hd = _first(graph_hd)
            prov.artifact("head_dim", f"graph input {kv0} dim 3")
            if genai is not None and genai.head_size and genai.head_size != hd:
                self.notes.append(
                    f"genai_config.json head_size={genai.head_size} but {kv0} has head dim {hd}; "
                    f"using {hd} (the runtime takes concrete KV dims from the graph)"
                )
        elif genai is not None and genai.head_size:
            hd = genai.head_size
            detail = "genai_config.json model.decoder.head_size"
            if symbolic_hd:
                detail += f" (the graph's KV head dim is the symbol {symbolic_hd[0]!r})"
            prov.artifact("head_dim", detail)
        elif fused_n is not None and heads and kvh and fused_n % (heads + 2 * kvh) == 0:
            hd = fused_n // (heads + 2 * kvh)
            prov.derived("head_dim", "packed QKV width N / (num_heads + 2·kv_num_heads)")
        elif q_lin is not None and heads and q_lin.n % heads == 0:
            hd = q_lin.n // heads
            prov.derived("head_dim", "q_proj width / num_heads")
        elif k_lin is not None and kvh and k_lin.n % kvh == 0:
            hd = k_lin.n // kvh
            prov.derived("head_dim", "k_proj width / num_kv_heads")
        elif hf is not None and hf.head_dim:
            hd = hf.head_dim
            prov.artifact("head_dim", "config.json head_dim")
        else:
            cos = self.g.tensors.get("cos_cache")
            if cos is not None and len(cos.dims) == 2:
                hd = cos.dims[1] * 2
                prov.derived("head_dim", "cos_cache dim 1 × 2")
                self.notes.append("head_dim taken from cos_cache (assumes rotary on the full head)")
        if hd is not None and hd < 1:  # a zero-width projection or rotary table
            hd_from = next((x.detail for x in prov.freeze() if x.name == "head_dim"), "")
            raise self.error(f"the graph gives head_dim={hd} ({hd_from}); nothing to plan")
        if hd is None:
            raise self.error(
                "cannot determine the head size: the KV-cache head dim is symbolic"
                f"{' (' + repr(symbolic_hd[0]) + ')' if symbolic_hd else ''} and neither "
                "genai_config.json head_size nor attention projections give it"
            )

        if heads is None:
            if q_lin is not None and q_lin.n % hd == 0:
                heads = q_lin.n // hd
                prov.derived("num_attention_heads", "q_proj width / head_dim")
            elif fused_n is not None and kvh and fused_n % hd == 0 and fused_n // hd > 2 * kvh:
                heads = fused_n // hd - 2 * kvh
                prov.derived("num_attention_heads", "packed QKV width / head_dim − 2·kv_heads")
            elif genai is not None and genai.heads:
                heads = genai.heads
                prov.artifact(
                    "num_attention_heads", "genai_config.json model.decoder.num_attention_heads"
                )
            elif hf is not None and hf.heads:
                heads = hf.heads
                prov.artifact("num_attention_heads", "config.json num_attention_heads")
        if kvh is None:
            if k_lin is not None and k_lin.n % hd == 0:
                kvh = k_lin.n // hd
                prov.derived("num_kv_heads", "k_proj width / head_dim")
            elif hf is not None and hf.kv_heads:
                kvh = hf.kv_heads
                prov.artifact("num_kv_heads", "config.json num_key_value_heads")
            elif heads is not None:
                kvh = heads
                prov.assumed("num_kv_heads", "no KV dims or GQA attributes: assumed = heads")
        if heads is None or kvh is None:
            raise self.error("cannot determine the attention head counts from the graph")

        # Packed QKV width must equal (H + 2·KVH)·head_dim, or the runtime fails.
        if fused_n is not None and fused_n != (heads + 2 * kvh) * hd:
            source = self.prov.freeze()
            hd_from = next((s.detail for s in source if s.name == "head_dim"), "")
            raise self.error(
                f"head_dim={hd} ({hd_from}) contradicts the graph: packed QKV "
                f"{qkv.node.name if qkv else ''!r} has N={fused_n}, not "
                f"(num_heads {heads} + 2·kv_heads {kvh})·{hd} = {(heads + 2 * kvh) * hd}"
            )
        for label, value, mine in (
            ("genai_config.json num_attention_heads", genai.heads if genai else None, heads),
            ("config.json num_attention_heads", hf.heads if hf else None, heads),
            ("config.json num_key_value_heads", hf.kv_heads if hf else None, kvh),
            ("config.json head_dim", hf.head_dim if hf else None, hd),
        ):
            if value is not None and value != mine:
                self.notes.append(f"{label}={value} but the graph gives {mine}; using {mine}")
        return kvh, hd, heads

    def _hidden(
        self,
        emb: tuple[Node, list[str], int, int | None] | None,
        attn_in: _Linear | None,
        linears: list[_Linear],
    ) -> int:
        prov, genai, hf = self.prov, self.genai, self.hf
        hidden: int | None = None
        if attn_in is not None:
            hidden = attn_in.k
            prov.artifact("hidden_size", f"input width K of {attn_in.node.name or attn_in.node.op}")
        elif emb is not None and emb[3]:
            hidden = emb[3]
            prov.artifact("hidden_size", "embedding table width")
        elif genai is not None and genai.hidden:
            hidden = genai.hidden
            prov.artifact("hidden_size", "genai_config.json model.decoder.hidden_size")
        elif hf is not None and hf.hidden:
            hidden = hf.hidden
            prov.artifact("hidden_size", "config.json hidden_size")
        elif linears:
            hidden = _first(Counter(lin.k for lin in linears))
            prov.derived("hidden_size", "most common MatMul input width")
        if hidden is None:
            raise self.error("cannot determine the hidden size")
        if emb is not None and emb[3] and emb[3] != hidden:
            self.notes.append(
                f"embedding width {emb[3]} differs from the attention input width {hidden}"
            )
        for label, value in (
            ("genai_config.json hidden_size", genai.hidden if genai else None),
            ("config.json hidden_size", hf.hidden if hf else None),
        ):
            if value is not None and value != hidden:
                self.notes.append(f"{label}={value} but the graph gives {hidden}; using {hidden}")
        return hidden

    def _intermediate(
        self,
        linears: list[_Linear],
        hidden: int,
        attn_width: int,
        qkv: _Linear | None,
        q_lin: _Linear | None,
        lm_head: _Linear | None,
    ) -> int | None:
        prov, hf = self.prov, self.hf
        votes: Counter[int] = Counter()
        for lin in linears:
            role = lin.role
            if role in ("down_proj", "fc2"):
                votes[lin.k] += 1
            elif role in ("gate_proj", "up_proj", "fc1", "c_fc"):
                votes[lin.n] += 1
            elif role == "gate_up_proj" and lin.n % 2 == 0:
                votes[lin.n // 2] += 1
        value: int | None = None
        if votes:
            value = _first(votes)
            prov.artifact("intermediate_size", "MLP projection widths (node names)")
        else:
            # Without names: the down projection maps some width other than the attention
            # width back to the hidden size.
            skip = {id(x) for x in (qkv, q_lin, lm_head) if x is not None}
            for lin in linears:
                if id(lin) not in skip and lin.n == hidden and lin.k not in (hidden, attn_width):
                    votes[lin.k] += 1
            if votes:
                value = _first(votes)
                prov.derived(
                    "intermediate_size", "input width of MatMuls projecting back to the hidden size"
                )
        if value is None and hf is not None and hf.intermediate:
            value = hf.intermediate
            prov.artifact("intermediate_size", "config.json intermediate_size")
        elif value is None:
            prov.assumed("intermediate_size", "not determinable from the graph")
        if hf is not None and hf.intermediate and value is not None and hf.intermediate != value:
            self.notes.append(
                f"config.json intermediate_size={hf.intermediate} but the graph "
                f"gives {value}; using {value}"
            )
        return value

    def _vocab(
        self, emb: tuple[Node, list[str], int, int | None] | None, lm_head: _Linear | None
    ) -> int:
        prov, genai, hf = self.prov, self.genai, self.hf
        name = genai.logits if genai else "logits"
        out = self.g.value_info(name)
        vocab: int | None = None
        if out is not None and out.dims and isinstance(out.dims[-1], int) and out.dims[-1] > 0:
            vocab = out.dims[-1]
            prov.artifact("vocab_size", f"graph output {name!r} last dim")
        elif lm_head is not None:
            vocab = lm_head.n
            prov.artifact("vocab_size", "lm_head output width N")
        elif emb is not None:
            vocab = emb[2]
            prov.artifact("vocab_size", "embedding table rows")
        elif genai is not None and genai.vocab:
            vocab = genai.vocab
            prov.artifact("vocab_size", "genai_config.json model.vocab_size")
        elif hf is not None and hf.vocab:
            vocab = hf.vocab
            prov.artifact("vocab_size", "config.json vocab_size")
        if vocab is None:
            raise self.error(
                "cannot determine the vocabulary size (no logits output, lm_head, "
                "embedding or config)"
            )
        for label, value in (
            ("genai_config.json vocab_size", genai.vocab if genai else None),
            ("config.json vocab_size", hf.vocab if hf else None),
        ):
            if value is not None and value != vocab:
                self.notes.append(f"{label}={value} but the graph gives {vocab}; using {vocab}")
        return vocab

    def _context(self) -> int | None:
        prov, genai, hf = self.prov, self.genai, self.hf
        cos = self.g.tensors.get("cos_cache")
        rows = cos.dims[0] if cos is not None and len(cos.dims) == 2 else None
        value: int | None = None
        if genai is not None and genai.context:
            value = genai.context
            prov.artifact("max_context", "genai_config.json model.context_length")
        elif hf is not None and hf.context:
            value = hf.context
            prov.artifact("max_context", "config.json max_position_embeddings")
        elif rows:
            value = rows
            prov.artifact("max_context", "cos_cache rows (the rotary table baked into the graph)")
        else:
            prov.assumed("max_context", "no context length in the artifact")
        if rows and value and rows < value:
            self.notes.append(
                f"cos_cache has {rows} rows, fewer than the context length "
                f"{value}: positions past {rows} cannot run"
            )
        return value

    def _windows(
        self, attn: list[Node], keys: dict[int, ValueInfo], layers: int
    ) -> tuple[int | None, ...]:
        g, prov, genai, hf = self.g, self.prov, self.genai, self.hf
        key_layer = {vi.name: i for i, vi in keys.items()}
        windows: list[int | None] = [None] * layers
        found = False
        for order, node in enumerate(n for n in attn if n.op == "GroupQueryAttention"):
            size = g.attr_int(node, "local_window_size", -1)
            if size is None or size <= 0:
                continue
            layer = key_layer.get(node.inputs[3]) if len(node.inputs) > 3 else None
            if layer is None:
                m = _LAYER_RE.search(node.name)
                layer = _index(m.group(1)) if m else order
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

    def _weights(
        self, linears: list[_Linear], emb_tensors: list[str], lm_head: _Linear | None, tied: bool
    ) -> WeightsInventory:
        g = self.g
        tensors = g.tensors
        total = external = 0
        by_dtype: Counter[str] = Counter()
        for t in tensors.values():
            total += t.nbytes
            by_dtype[t.dtype] += t.nbytes
            if t.external:
                external += t.nbytes
        # Parameters: logical elements of weights. Quantization metadata (scales, zero
        # points), rotary tables and integer shape constants are not parameters; packed
        # MatMulNBits weights hold K·N parameters whatever their packed dims.
        not_params: set[str] = {"cos_cache", "sin_cache"}
        logical: dict[str, int] = {}
        for lin in linears:
            if lin.kind == "nbits":
                logical[lin.weight] = lin.k * lin.n
            not_params.update(x for x in lin.tensors if x != lin.weight)
        for node in g.ops(
            "GatherBlockQuantized", "DequantizeLinear", "GroupQueryAttention", "RotaryEmbedding"
        ):
            op = node.op
            if op == "GatherBlockQuantized":
                not_params.update(node.inputs[2:])
                src, _ = self.trace(node.inputs[0]) if node.inputs else (None, [])
                if src is not None and src not in logical and tensors[src].dtype == "uint8":
                    bits = g.attr_int(node, "bits", 4) or 4
                    logical[src] = tensors[src].numel * 8 // bits
            elif op == "DequantizeLinear":
                not_params.update(node.inputs[1:])
            elif op == "GroupQueryAttention":
                not_params.update(node.inputs[7:9])
            elif op == "RotaryEmbedding":
                not_params.update(node.inputs[2:4])
        params = 0
        for name, t in tensors.items():
            if name in not_params or t.dtype in ("int64", "int32", "bool"):
                continue
            params += logical.get(name, t.numel)
        matmul = {x for lin in linears for x in lin.tensors}
        emb_set = set(emb_tensors)
        head = set(lm_head.tensors) - emb_set if lm_head is not None else set()
        self.prov.artifact(
            "weights",
            "initializer dims × dtype from the graph (no weight bytes "
            "read); external data sizes checked with stat",
        )
        self.prov.artifact(
            "param_count", "initializer element counts; MatMulNBits weights count K·N"
        )
        return WeightsInventory(
            tensor_count=len(tensors),
            total_bytes=total,
            param_count=params,
            bytes_by_dtype=tuple(sorted(by_dtype.items())),
            external_bytes=external,
            embedded_bytes=total - external,
            matmul_bytes=sum(tensors[x].nbytes for x in matmul),
            embedding_bytes=sum(tensors[x].nbytes for x in emb_set),
            lm_head_bytes=0 if tied else sum(tensors[x].nbytes for x in head),
            largest_matmul_tensor_bytes=max((tensors[x].nbytes for x in matmul), default=0),
        )

    def _quant(
        self,
        linears: list[_Linear],
        emb: tuple[Node, list[str], int, int | None] | None,
        lm_head: _Linear | None,
        tied: bool,
    ) -> QuantInfo:
        g, prov = self.g, self.prov
        quantized = [lin for lin in linears if lin.bits is not None]
        emb_quant: str | None = None
        emb_float = False
        if emb is not None:
            node = emb[0]
            src, crossed = self.trace(node.inputs[0])
            dtype = g.tensors[src].dtype if src else ""
            if node.op == "GatherBlockQuantized":
                bits = (
                    4
                    if dtype in ("int4", "uint4")
                    else g.attr_int(node, "bits", 4)
                    if dtype == "uint8"
                    else None
                )
                block = g.attr_int(node, "block_size", 128)
                emb_quant = (
                    f"GatherBlockQuantized {dtype}"
                    + (f" {bits}-bit" if bits else "")
                    + f" block {block}"
                )
            elif any(c.op == "DequantizeLinear" for c in crossed):
                emb_quant = f"DequantizeLinear {dtype}"
            else:
                emb_float = dtype in _FLOAT_DTYPES
        if not quantized:
            weight_bytes: Counter[str] = Counter()
            for lin in linears:
                weight_bytes[lin.weight_dtype] += g.tensors[lin.weight].nbytes
            if not weight_bytes:
                for t in g.tensors.values():
                    if t.dtype in _FLOAT_DTYPES:
                        weight_bytes[t.dtype] += t.nbytes
            main_dtype: str | None = _first(weight_bytes) if weight_bytes else None
            scheme, bits_f = _SCHEMES.get(main_dtype or "", (None, None))
            prov.artifact("quantization", f"dtype of MatMul weights ({main_dtype})")
            return QuantInfo(
                scheme=scheme,
                bits=bits_f,
                compute_dtype=main_dtype,
                details=(("embedding", emb_quant),) if emb_quant else (),
            )

        params: Counter[int] = Counter()
        for lin in quantized:
            assert lin.bits is not None
            params[lin.bits] += lin.k * lin.n
        bits = _first(params)
        main = [lin for lin in quantized if lin.bits == bits]
        blocks = Counter(lin.block_size for lin in main if lin.block_size)
        kinds = Counter(lin.kind for lin in quantized)
        scales = Counter(lin.scale_dtype for lin in quantized if lin.scale_dtype)
        details: list[tuple[str, str]] = []
        op = {"nbits": "MatMulNBits", "qdq": "DequantizeLinear+MatMul", "integer": "MatMulInteger"}[
            _first(kinds)
        ]
        details.append(("op", op))
        levels = Counter(
            g.attr_int(lin.node, "accuracy_level", 0) or 0
            for lin in quantized
            if lin.kind == "nbits"
        )
        if levels:
            details.append(("accuracy_level", ",".join(str(x) for x in sorted(levels))))
        if len(params) > 1:
            details.append(
                (
                    "mixed_bits",
                    ",".join(
                        f"int{b}:{sum(1 for q in quantized if q.bits == b)} MatMuls"
                        for b in sorted(params)
                    ),
                )
            )
        if len(blocks) > 1:
            details.append(("block_sizes", ",".join(str(b) for b in sorted(blocks))))
        if emb_quant:
            details.append(("embedding", emb_quant))
        unquantized: list[str] = []
        if emb_float and not tied:
            unquantized.append("embed_tokens")
        if lm_head is not None and lm_head.bits is None:
            unquantized.append("lm_head")
        floats = [lin for lin in linears if lin.bits is None and lin is not lm_head]
        if floats:
            details.append(("float_matmuls", str(len(floats))))
        symmetric: bool | None = not any(lin.zero_points for lin in quantized)
        if any(lin.kind == "qdq" and lin.zero_points for lin in quantized):
            symmetric = None  # explicit zero points may all be zero; their values are weights
        prov.artifact("quantization", f"{op} nodes: bits, block_size, zero points, scale dtype")
        return QuantInfo(
            scheme=f"int{bits}",
            bits=bits,
            group_size=_first(blocks) if blocks else None,
            symmetric=symmetric,
            compute_dtype=_first(scales) if scales else None,
            unquantized=tuple(unquantized),
            details=tuple(details),
        )

    def _kv_dtype(self, key_infos: list[ValueInfo]) -> str:
        for vi in key_infos:
            if vi.dtype:
                if vi.dtype not in DTYPE_BYTES:  # e.g. float8_e8m0, complex64, int2
                    raise self.error(
                        f"KV-cache input {vi.name!r} has element type {vi.dtype}, "
                        "which no runtime keeps a KV cache in"
                    )
                self.prov.artifact("kv_dtype", f"element type of graph input {vi.name}")
                return vi.dtype
        logits = self.g.value_info(self.genai.logits if self.genai else "logits")
        if logits is not None and logits.dtype in _FLOAT_DTYPES:
            self.prov.assumed("kv_dtype", "no KV-cache inputs: assumed the logits dtype")
            return logits.dtype
        self.prov.assumed("kv_dtype", "no KV-cache inputs: assumed float32")
        return "float32"

    def _settings(self, max_context: int | None) -> ArtifactSettings:
        genai = self.genai
        if genai is None:
            return ArtifactSettings()
        max_length = genai.max_length
        if max_length:
            self.prov.artifact("settings.max_length", "genai_config.json search.max_length")
        elif max_context:
            # "If omitted or 0 ... will be set to model.context_length on load" (config.h).
            max_length = max_context
            self.prov.derived(
                "settings.max_length",
                "search.max_length absent or 0: the runtime uses context_length",
            )
        share = genai.share_buffer
        if share is not None:
            self.prov.artifact(
                "settings.past_present_share_buffer",
                "genai_config.json search.past_present_share_buffer",
            )
            if share and genai.num_beams and genai.num_beams > 1:
                self.notes.append("past_present_share_buffer is ignored with num_beams > 1")
        return ArtifactSettings(
            max_length=max_length,
            past_present_share_buffer=share,
            session_options=tuple(genai.session),
        )

    def _extra(self, attn: list[Node], packed: bool) -> tuple[tuple[str, str], ...]:
        g = self.g
        extra = [
            ("model_file", g.path.name),
            ("graph_bytes", str(g.file_bytes)),
            ("ir_version", str(g.ir_version)),
            ("opsets", ",".join(f"{d}:{v}" for d, v in sorted(g.opsets.items()))),
        ]
        if g.producer_name:
            extra.append(("producer", g.producer_name))
        if attn:
            extra.append(("attention_op", attn[0].op + (" (packed QKV)" if packed else "")))
        for loc, size in sorted(g.data_files.items()):
            extra.append((f"external_data:{loc}", str(size)))
        return tuple(extra)


def _config_only_spec(source: Path, layout: _Layout) -> ModelSpec:
    """A genai package with genai_config.json but no model file (``config_only`` build)."""
    assert layout.genai is not None and layout.genai_path is not None
    cfg = _GenaiConfig(layout.genai, layout.genai_path)
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
            session_options=tuple(cfg.session),
        ),
        provenance=prov.freeze(),
        notes=(
            f"no model file {_genai_filename(layout.genai, path)!r}: a config-only package; "
            "weights are unknown",
        ),
    )
