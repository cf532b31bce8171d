"""MLC parameter bytes for a target quantization, computed from the family layout (pure).

Group quantization (``GroupQuantize``, mlc-llm ``quantization/group_quantization.py``): a Linear
(out, in) stores ``q_weight`` uint32 (out, ceil(in / group) × group / elems_per_word) and
``q_scale`` in the model dtype (out, ceil(in / group)); so q4f16_1 costs 4.5 bits per weight and
q3f16_1 pads each row to groups of 40. Norms and biases stay in the model dtype. The other kinds
(AWQ, FasterTransformer, fp8 per-tensor and block-scale) follow their own modules in
``python/mlc_llm/quantization``.
"""

from __future__ import annotations

from math import ceil

from planner.budget import WeightBytes
from planner.families import ParamKind, param_groups
from planner.quant import MlcScheme, tensor_bytes
from planner.spec import ModelSpec


def _group_quant_linear(out_f: int, in_f: int, s: MlcScheme) -> int:
    assert s.group_size is not None and s.bits is not None
    groups = ceil(in_f / s.group_size)
    words_per_group = s.group_size // s.elems_per_storage
    return tensor_bytes(out_f * groups * words_per_group, s.storage_dtype) + tensor_bytes(
        out_f * groups, s.model_dtype
    )


def _mlc_linear(out_f: int, in_f: int, s: MlcScheme) -> int:
    """Bytes of one quantized Linear (or embedding) under an MLC scheme."""
    if s.kind == "no-quant":
        return tensor_bytes(out_f * in_f, s.model_dtype)
    if s.kind == "group-quant":
        return _group_quant_linear(out_f, in_f, s)
    if s.kind == "awq":
        # qweight (in, out/8) uint32 + qzeros (in/128, out/8) uint32 + scales (in/128, out) fp16.
        g = s.group_size or 128
        return (
            4 * (in_f * ceil(out_f / 8))
            + 4 * ceil(in_f / g) * ceil(out_f / 8)
            + 2 * ceil(in_f / g) * out_f
        )
    if s.kind == "ft-quant":
        if out_f % 8:
            # FasterTransformer kernels need out % 8 == 0; MLC falls back to q4 group 32.
            return _group_quant_linear(out_f, in_f, _FT_FALLBACK)
        return out_f * in_f // 2 + 2 * out_f
    if s.kind == "per-tensor-quant":
        return out_f * in_f + 4 + 4  # fp8 weight + float32 scale (+ calibration scale)
    if s.kind == "block-scale-quant":
        b = s.group_size or 128
        return out_f * in_f + 4 * ceil(out_f / b) * ceil(in_f / b)
    raise AssertionError(f"unhandled MLC kind {s.kind}")


_FT_FALLBACK = MlcScheme("q4f16_1", "group-quant", "float16", bits=4, group_size=32)


def mlc_weight_bytes(spec: ModelSpec, scheme: MlcScheme) -> WeightBytes:
    """Parameter bytes MLC stores for ``spec`` under ``scheme`` (what convert_weight writes)."""
    linear = emb = head = other = count = 0
    for g in param_groups(spec):
        count += g.numel
        if g.kind is ParamKind.LINEAR:
            linear += g.count * _mlc_linear(g.shape[0], g.shape[1], scheme)
        elif g.kind is ParamKind.EMBEDDING:
            if scheme.kind == "ft-quant":
                # FT kernels cover Linears only; the embedding falls back to q4 group 32.
                emb += _group_quant_linear(g.shape[0], g.shape[1], _FT_FALLBACK)
            elif scheme.quantize_embedding or scheme.kind == "no-quant":
                emb += _mlc_linear(g.shape[0], g.shape[1], scheme)
            else:
                emb += tensor_bytes(g.numel, scheme.model_dtype)
        elif g.kind is ParamKind.LM_HEAD:
            if scheme.kind == "ft-quant":
                head += _group_quant_linear(g.shape[0], g.shape[1], _FT_FALLBACK)
            elif scheme.quantize_final_fc or scheme.kind == "no-quant":
                head += _mlc_linear(g.shape[0], g.shape[1], scheme)
            else:
                head += tensor_bytes(g.numel, scheme.model_dtype)
        else:
            other += tensor_bytes(g.numel, scheme.model_dtype)
    return WeightBytes(linear + emb + head + other, count, linear, emb, head, other)
