"""The projections of an ONNX graph: every matrix multiply with a constant weight.

``MatMulNBits`` (attributes K, N, bits, block_size; its packed uint8 B holds K·N parameters),
com.microsoft ``Attention`` (its packed QKV weight), QDQ (``DequantizeLinear`` feeding a MatMul),
integer MatMuls and float MatMul/Gemm.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.io.limits import MAX_DIM
from planner_adapters.onnx.context import COM_MS, FLOAT_DTYPES, FLOAT_MATMULS, INT_MATMULS, Ctx
from planner_adapters.onnx.graph import Node


@dataclass(frozen=True, slots=True)
class Linear:
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


_QDQ_BITS = {"int4": 4, "uint4": 4, "int8": 8, "uint8": 8}


def find_linears(ctx: Ctx) -> list[Linear]:
    """Every projection of the graph, in op-type then graph order."""
    found: list[Linear] = []
    for node in ctx.g.ops("MatMulNBits", "Attention", *FLOAT_MATMULS, *INT_MATMULS):
        op = node.op
        if op == "MatMulNBits":
            lin = _nbits(ctx, node)
        elif op == "Attention":
            lin = _packed_attention(ctx, node)
        else:
            lin = _matmul(ctx, node)
        if lin is not None:
            found.append(lin)
    return found


def _packed_attention(ctx: Ctx, node: Node) -> Linear | None:
    """com.microsoft Attention multiplies by its packed QKV weight [hidden, 3·width] itself
    (input 1), so the node is also the layer's QKV projection."""
    ins = node.inputs
    tensors = ctx.g.tensors
    t = tensors.get(ins[1]) if len(ins) > 1 and node.domain == COM_MS else None
    if t is None or len(t.dims) != 2 or t.dtype not in FLOAT_DTYPES:
        return None
    _, layer = ctx.role_and_layer(node.name)
    return Linear(
        node=node,
        k=t.dims[0],
        n=t.dims[1],
        weight=t.name,
        tensors=tuple(x for x in ins[1:3] if x in tensors),
        bits=None,
        block_size=None,
        zero_points=False,
        scale_dtype=None,
        weight_dtype=t.dtype,
        kind="float",
        role="qkv_proj",
        layer=layer,
    )


def _nbits(ctx: Ctx, node: Node) -> Linear | None:
    g = ctx.g
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
        raise ctx.error(f"MatMulNBits node {name!r} lacks valid integer K, N, bits or block_size")
    if not 1 <= bits <= 8 or bs < 16 or bs & (bs - 1):
        raise ctx.error(
            f"MatMulNBits node {name!r}: bits={bits}, block_size={bs} are invalid "
            "(bits 1..8, block_size a power of two >= 16)"
        )
    b = tensors[ins[1]]
    expect = n * -(-k // bs) * (bs * bits // 8)
    if b.numel != expect:
        raise ctx.error(
            f"MatMulNBits node {name!r}: packed weight {b.name!r} has dims "
            f"{list(b.dims)} ({b.numel} bytes) but K={k}, N={n}, bits={bits}, "
            f"block_size={bs} need {expect}"
        )
    scales = tensors.get(ins[2])
    role, layer = ctx.role_and_layer(name)
    return Linear(
        node=node,
        k=k,
        n=n,
        weight=b.name,
        tensors=tuple([x for x in ins[1:] if x in tensors]),
        bits=bits,
        block_size=bs,
        zero_points=len(ins) > 3 and bool(ins[3]),
        scale_dtype=scales.dtype if scales is not None else None,
        weight_dtype=b.dtype,
        kind="nbits",
        role=role,
        layer=layer,
    )


def _matmul(ctx: Ctx, node: Node) -> Linear | None:
    g = ctx.g
    if len(node.inputs) < 2:
        return None
    src, crossed = ctx.trace(node.inputs[1])
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
    tensors = ctx.node_tensors(node)
    zp = False
    scale_dtype: str | None = None
    bits: int | None = None
    block: int | None = None
    kind = "float"
    if dq:
        kind = "qdq"
        d = dq[0]
        bits = _QDQ_BITS.get(t.dtype)
        if len(d.inputs) > 1 and d.inputs[1] in g.tensors:
            scale_dtype = g.tensors[d.inputs[1]].dtype
        zp = len(d.inputs) > 2 and bool(d.inputs[2])
        block = g.attr_int(d, "block_size", 0) or None
        if bits is None:
            kind = "float"
    elif node.op in INT_MATMULS:
        kind, bits = "integer", 8
        zp = len(node.inputs) > 3 and bool(node.inputs[3])
        if len(node.inputs) > 2 and node.inputs[2] in g.tensors:
            scale_dtype = g.tensors[node.inputs[2]].dtype
    elif t.dtype not in FLOAT_DTYPES:
        return None
    role, layer = ctx.role_and_layer(node.name)
    return Linear(
        node=node,
        k=k,
        n=n,
        weight=src,
        tensors=tuple(dict.fromkeys(tensors)),
        bits=bits,
        block_size=block,
        zero_points=zp,
        scale_dtype=scale_dtype,
        weight_dtype=t.dtype,
        kind=kind,
        role=role,
        layer=layer,
    )
