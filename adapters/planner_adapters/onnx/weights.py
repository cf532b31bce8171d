"""The weights of an ONNX graph, from initializer headers only (dims × dtype; external data
files are checked with ``stat`` when the graph is scanned, never read)."""

from __future__ import annotations

from collections import Counter

from planner.spec import WeightsInventory
from planner_adapters.onnx.context import Ctx
from planner_adapters.onnx.linears import Linear
from planner_adapters.onnx.moe import QMOE_DATA, QMOE_SCALES, QMOE_ZERO_POINTS, qmoe_bits

_NOT_PARAMS = ("cos_cache", "sin_cache")
_INTEGER_DTYPES = ("int64", "int32", "bool")


def inventory(
    ctx: Ctx, linears: list[Linear], emb_tensors: tuple[str, ...], head: Linear | None, tied: bool
) -> WeightsInventory:
    """Bytes by dtype and role, and the parameter count."""
    g = ctx.g
    tensors = g.tensors
    total = external = 0
    by_dtype: Counter[str] = Counter()
    for t in tensors.values():
        total += t.nbytes
        by_dtype[t.dtype] += t.nbytes
        if t.external:
            external += t.nbytes
    params = _param_count(ctx, linears)
    matmul = {x for lin in linears for x in lin.tensors}
    emb_set = set(emb_tensors)
    head_set = set(head.tensors) - emb_set if head is not None else set()
    ctx.prov.artifact(
        "weights",
        "initializer dims × dtype from the graph (no weight bytes "
        "read); external data sizes checked with stat",
    )
    ctx.prov.artifact("param_count", "initializer element counts; MatMulNBits weights count K·N")
    return WeightsInventory(
        tensor_count=len(tensors),
        total_bytes=total,
        param_count=params,
        bytes_by_dtype=tuple(sorted(by_dtype.items())),
        external_bytes=external,
        embedded_bytes=total - external,
        matmul_bytes=sum(tensors[x].nbytes for x in matmul),
        embedding_bytes=sum(tensors[x].nbytes for x in emb_set),
        lm_head_bytes=0 if tied else sum(tensors[x].nbytes for x in head_set),
        largest_matmul_tensor_bytes=max((tensors[x].nbytes for x in matmul), default=0),
    )


def _param_count(ctx: Ctx, linears: list[Linear]) -> int:
    """Logical elements of weights. Quantization metadata (scales, zero points), rotary tables
    and integer shape constants are not parameters; packed MatMulNBits weights hold K·N
    parameters whatever their packed dims."""
    g = ctx.g
    tensors = g.tensors
    not_params: set[str] = set(_NOT_PARAMS)
    logical: dict[str, int] = {}
    for lin in linears:
        if lin.kind == "nbits":
            logical[lin.weight] = lin.k * lin.n
        not_params.update(x for x in lin.tensors if x != lin.weight)
    for node in g.ops(
        "GatherBlockQuantized",
        "DequantizeLinear",
        "GroupQueryAttention",
        "RotaryEmbedding",
        "QMoE",
    ):
        op = node.op
        if op == "QMoE":
            # packed experts (fc1, fc2, fc3) hold 8 / bits weights a byte; scales and zero
            # points are metadata
            bits = qmoe_bits(g, node)
            for slot, name in enumerate(node.inputs):
                if name not in tensors:
                    continue
                if slot in QMOE_DATA and tensors[name].dtype == "uint8":
                    logical[name] = tensors[name].numel * (8 // bits)
                elif slot in QMOE_SCALES + QMOE_ZERO_POINTS:
                    not_params.add(name)
            continue
        if op == "GatherBlockQuantized":
            not_params.update(node.inputs[2:])
            src, _ = ctx.trace(node.inputs[0]) if node.inputs else (None, [])
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
        if name in not_params or t.dtype in _INTEGER_DTYPES:
            continue
        params += logical.get(name, t.numel)
    return params
