"""onnxruntime-genai initializer bytes for a target precision, from the family layout (pure).

``MatMulNBits``: B uint8 (N, ceil(K / block), block × bits / 8), scales in the I/O dtype
(N, n_blocks), optional uint8 zero points (N, ceil(n_blocks × bits / 8)). Float precisions
store every weight in their dtype; the builder adds cos/sin caches for rotary embeddings.
"""

from __future__ import annotations

from math import ceil

from planner.budget import WeightBytes
from planner.families import ParamGroup, ParamKind, param_groups
from planner.quant import OrtScheme, tensor_bytes
from planner.spec import ModelSpec


def _nbits_bytes(group: ParamGroup, s: OrtScheme) -> int:
    assert s.bits is not None
    n, k = group.shape
    blocks = ceil(k / s.block_size)
    per = n * blocks * (s.block_size * s.bits // 8) + tensor_bytes(n * blocks, s.io_dtype)
    if not s.symmetric:
        per += n * ceil(blocks * s.bits / 8)
    return per * group.count


def ort_weight_bytes(
    spec: ModelSpec, scheme: OrtScheme, rotary_dim: int | None = None
) -> WeightBytes:
    """Initializer bytes the onnxruntime-genai builder writes for ``spec`` at ``scheme``."""
    float_dtype = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}.get(
        scheme.precision, "float32" if scheme.io_dtype == "float32" else "float16"
    )
    linear = emb = head = other = count = 0
    tied = any(g.kind is ParamKind.EMBEDDING for g in param_groups(spec)) and not any(
        g.kind is ParamKind.LM_HEAD for g in param_groups(spec)
    )
    for g in param_groups(spec):
        count += g.numel
        if g.kind is ParamKind.LINEAR:
            linear += _nbits_bytes(g, scheme) if scheme.bits else tensor_bytes(g.numel, float_dtype)
        elif g.kind is ParamKind.EMBEDDING:
            if scheme.bits and scheme.quantize_embedding:
                n, k = g.shape
                blocks = ceil(k / scheme.block_size)
                emb += tensor_bytes(n * k, "int4" if scheme.bits == 4 else "int8") + tensor_bytes(
                    n * blocks, scheme.io_dtype
                )
            else:
                emb += tensor_bytes(g.numel, float_dtype)
                if tied and scheme.bits:
                    # Tied but float embedding: the builder still writes a quantized lm_head copy.
                    head += _nbits_bytes(ParamGroup("lm_head", ParamKind.LM_HEAD, g.shape), scheme)
                elif tied:
                    head += tensor_bytes(g.numel, float_dtype)  # transposed lm_head copy
        elif g.kind is ParamKind.LM_HEAD:
            head += _nbits_bytes(g, scheme) if scheme.bits else tensor_bytes(g.numel, float_dtype)
        else:
            other += tensor_bytes(g.numel, float_dtype)
    rot = rotary_dim if rotary_dim is not None else spec.head_dim
    ctx = spec.max_context or 4096
    other += 2 * tensor_bytes(ctx * (rot // 2), float_dtype)  # cos_cache + sin_cache
    return WeightBytes(linear + emb + head + other, count, linear, emb, head, other)
