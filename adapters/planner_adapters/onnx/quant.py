"""The weight quantization of an ONNX graph: ``MatMulNBits`` (bits, block size, zero points,
scale dtype, accuracy level), QDQ, integer MatMuls, ``GatherBlockQuantized`` embeddings, or the
float dtype of the MatMul weights."""

from __future__ import annotations

from collections import Counter

from planner.spec import QuantInfo
from planner_adapters.onnx.context import FLOAT_DTYPES, Ctx, most_common
from planner_adapters.onnx.linears import Linear
from planner_adapters.onnx.structure import Embedding

_SCHEMES = {
    "float32": ("fp32", 32),
    "float16": ("fp16", 16),
    "bfloat16": ("bf16", 16),
    "float64": ("fp64", 64),
}
_OPS = {"nbits": "MatMulNBits", "qdq": "DequantizeLinear+MatMul", "integer": "MatMulInteger"}


def _embedding_quant(ctx: Ctx, emb: Embedding | None) -> tuple[str | None, bool]:
    """How the embedding is stored: a quantization description, and whether it is float."""
    if emb is None:
        return None, False
    g = ctx.g
    node = emb.node
    src, crossed = ctx.trace(node.inputs[0])
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
        width = f" {bits}-bit" if bits else ""
        return f"GatherBlockQuantized {dtype}{width} block {block}", False
    if any(c.op == "DequantizeLinear" for c in crossed):
        return f"DequantizeLinear {dtype}", False
    return None, dtype in FLOAT_DTYPES


def quantization(
    ctx: Ctx, linears: list[Linear], emb: Embedding | None, head: Linear | None, tied: bool
) -> QuantInfo:
    """The scheme that covers most quantized parameters, with the variations as details."""
    g, prov = ctx.g, ctx.prov
    quantized = [lin for lin in linears if lin.bits is not None]
    emb_quant, emb_float = _embedding_quant(ctx, emb)
    if not quantized:
        weight_bytes: Counter[str] = Counter()
        for lin in linears:
            weight_bytes[lin.weight_dtype] += g.tensors[lin.weight].nbytes
        if not weight_bytes:
            for t in g.tensors.values():
                if t.dtype in FLOAT_DTYPES:
                    weight_bytes[t.dtype] += t.nbytes
        main_dtype: str | None = most_common(weight_bytes) if weight_bytes else None
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
    bits = most_common(params)
    main = [lin for lin in quantized if lin.bits == bits]
    blocks = Counter(lin.block_size for lin in main if lin.block_size)
    kinds = Counter(lin.kind for lin in quantized)
    scales = Counter(lin.scale_dtype for lin in quantized if lin.scale_dtype)
    op = _OPS[most_common(kinds)]
    details: list[tuple[str, str]] = [("op", op)]
    levels = Counter(
        g.attr_int(lin.node, "accuracy_level", 0) or 0 for lin in quantized if lin.kind == "nbits"
    )
    if levels:
        details.append(("accuracy_level", ",".join(str(x) for x in sorted(levels))))
    if len(params) > 1:
        mixed = ",".join(
            f"int{b}:{sum(1 for q in quantized if q.bits == b)} MatMuls" for b in sorted(params)
        )
        details.append(("mixed_bits", mixed))
    if len(blocks) > 1:
        details.append(("block_sizes", ",".join(str(b) for b in sorted(blocks))))
    if emb_quant:
        details.append(("embedding", emb_quant))
    unquantized: list[str] = []
    if emb_float and not tied:
        unquantized.append("embed_tokens")
    if head is not None and head.bits is None:
        unquantized.append("lm_head")
    floats = [lin for lin in linears if lin.bits is None and lin is not head]
    if floats:
        details.append(("float_matmuls", str(len(floats))))
    symmetric: bool | None = not any(lin.zero_points for lin in quantized)
    if any(lin.kind == "qdq" and lin.zero_points for lin in quantized):
        symmetric = None  # explicit zero points may all be zero; their values are weights
    prov.artifact("quantization", f"{op} nodes: bits, block_size, zero points, scale dtype")
    return QuantInfo(
        scheme=f"int{bits}",
        bits=bits,
        group_size=most_common(blocks) if blocks else None,
        symmetric=symmetric,
        compute_dtype=most_common(scales) if scales else None,
        unquantized=tuple(unquantized),
        details=tuple(details),
    )
