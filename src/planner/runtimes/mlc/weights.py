"""MLC parameter tensors and bytes for a target quantization, from the family layout (pure).

Group quantization (``GroupQuantize``, mlc-llm ``quantization/group_quantization.py``): a Linear
(out, in) stores ``q_weight`` uint32 (out, ceil(in / group) × group / elems_per_word) and
``q_scale`` in the model dtype (out, ceil(in / group)) — the KN layout transposes both — so
q4f16_1 costs 4.5 bits per weight and q3f16_1 pads each row to groups of 40. Every ``nn.Linear``
is quantized (also symbolic-vocabulary heads) except final-fc names when ``quantize_final_fc`` is
off and MoE gates; MoE experts are quantized per expert; biases take the Linear's ``out_dtype``
(GPT-NeoX: float32); embeddings (also GPT-2's ``wpe``) when ``quantize_embedding``. Norms, raw
tensors and unquantized weights stay in the model dtype. The other kinds (AWQ,
FasterTransformer, fp8 per-tensor and block-scale) follow their own modules in
``python/mlc_llm/quantization``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from math import ceil

from planner.budget import WeightBytes
from planner.errors import UsageError
from planner.families import Param, ParamKind, params
from planner.quant import MlcScheme, tensor_bytes
from planner.spec import ModelSpec


@dataclass(frozen=True, slots=True)
class MlcTensor:
    """One parameter as convert_weight stores it."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    @property
    def numel(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Bytes in memory (float32 stays 4 bytes at runtime)."""
        return tensor_bytes(self.numel, self.dtype)

    def stored_nbytes(self, encode_format: str) -> int:
        """Bytes in the shard: ``f32-to-bf16`` halves float32 tensors."""
        if encode_format == "f32-to-bf16" and self.dtype == "float32":
            return self.numel * 2
        return self.nbytes


_FT_FALLBACK = MlcScheme("q4f16_1", "group-quant", "float16", bits=4, group_size=32)


def _group(
    name: str, lead: tuple[int, ...], out_f: int, in_f: int, s: MlcScheme
) -> list[MlcTensor]:
    assert s.group_size is not None
    groups = ceil(in_f / s.group_size)
    words = groups * (s.group_size // s.elems_per_storage)
    md = s.model_dtype
    if s.layout == "KN":
        return [
            MlcTensor(f"{name}.q_weight", (*lead, words, out_f), s.storage_dtype),
            MlcTensor(f"{name}.q_scale", (*lead, groups, out_f), md),
        ]
    return [
        MlcTensor(f"{name}.q_weight", (*lead, out_f, words), s.storage_dtype),
        MlcTensor(f"{name}.q_scale", (*lead, out_f, groups), md),
    ]


def _other_kind(name: str, out_f: int, in_f: int, s: MlcScheme) -> list[MlcTensor]:
    """AWQ, FasterTransformer, fp8 per-tensor and block-scale storage of one Linear."""
    if s.kind == "awq":
        g = s.group_size or 128
        return [
            MlcTensor(f"{name}.qweight", (in_f, ceil(out_f / 8)), "uint32"),
            MlcTensor(f"{name}.qzeros", (ceil(in_f / g), ceil(out_f / 8)), "uint32"),
            MlcTensor(f"{name}.scales", (ceil(in_f / g), out_f), "float16"),
        ]
    if s.kind == "ft-quant":
        if out_f % 8:
            # FasterTransformer kernels need out % 8 == 0; MLC falls back to q4 group 32.
            return _group(name, (), out_f, in_f, _FT_FALLBACK)
        return [
            MlcTensor(f"{name}.q_weight", (in_f, out_f // 2), "int8"),
            MlcTensor(f"{name}.q_scale", (out_f,), "float16"),
        ]
    if s.kind == "per-tensor-quant":
        return [
            MlcTensor(f"{name}.q_weight", (out_f, in_f), s.storage_dtype),
            MlcTensor(f"{name}.q_scale", (1,), "float32"),
            MlcTensor(f"{name}.q_calibration_scale", (1,), "float32"),
        ]
    if s.kind == "block-scale-quant":
        b = s.group_size or 128
        return [
            MlcTensor(f"{name}.weight", (out_f, in_f), s.storage_dtype),
            MlcTensor(f"{name}.weight_scale_inv", (ceil(out_f / b), ceil(in_f / b)), "float32"),
        ]
    raise AssertionError(f"unhandled MLC kind {s.kind}")


def _linear(p: Param, s: MlcScheme) -> list[MlcTensor]:
    out_f, in_f = p.shape
    md = s.model_dtype
    keep = p.final_fc and not s.quantize_final_fc and s.kind != "ft-quant"
    quantized = s.kind != "no-quant" and not keep
    if not quantized:
        tensors = [MlcTensor(f"{p.name}.weight", (out_f, in_f), md)]
    elif s.kind == "ft-quant" and p.final_fc:  # the head falls back to q4 group 32
        tensors = _group(p.name, (), out_f, in_f, _FT_FALLBACK)
    elif s.kind == "group-quant":
        tensors = _group(p.name, (), out_f, in_f, s)
    else:
        tensors = _other_kind(p.name, out_f, in_f, s)
    if p.bias:
        bd = p.bias_dtype if (quantized and s.kind == "group-quant" and p.bias_dtype) else md
        tensors.append(MlcTensor(f"{p.name}.bias", (out_f,), bd))
    return tensors


def _embedding(p: Param, s: MlcScheme) -> list[MlcTensor]:
    rows, dim = p.shape
    if s.kind == "ft-quant":  # FT kernels cover Linears only: q4 group 32 fallback
        return _group(p.name, (), rows, dim, _FT_FALLBACK)
    if s.kind == "group-quant" and s.quantize_embedding:
        return _group(p.name, (), rows, dim, s)
    if s.kind == "awq" or not s.quantize_embedding or s.kind == "no-quant":
        return [MlcTensor(f"{p.name}.weight", (rows, dim), s.model_dtype)]
    return _other_kind(p.name, rows, dim, s)


def _experts(p: Param, s: MlcScheme) -> list[MlcTensor]:
    e, out_f, in_f = p.shape
    if s.kind in ("group-quant", "ft-quant"):
        return _group(p.name, (e,), out_f, in_f, s if s.kind == "group-quant" else _FT_FALLBACK)
    if s.kind == "per-tensor-quant":
        return [
            MlcTensor(f"{p.name}.q_weight", (e, out_f, in_f), s.storage_dtype),
            MlcTensor(f"{p.name}.q_scale", (1,), "float32"),
        ]
    return [MlcTensor(f"{p.name}.weight", (e, out_f, in_f), s.model_dtype)]


def mlc_tensors(
    spec: ModelSpec, scheme: MlcScheme, context: int | None = None
) -> tuple[MlcTensor, ...]:
    """Every parameter of ``spec`` under ``scheme``, in MLC's declaration order.

    ``context`` is the compile-time context window (GPT-2's position table has that many rows).
    """
    out: list[MlcTensor] = []
    for p in params(spec, context):
        if p.kind in (ParamKind.LINEAR, ParamKind.LM_HEAD):
            out += _linear(p, scheme)
        elif p.kind is ParamKind.EMBEDDING:
            out += _embedding(p, scheme)
        elif p.kind is ParamKind.EXPERTS:
            out += _experts(p, scheme)
        else:
            out.append(MlcTensor(p.name, p.shape, p.dtype or scheme.model_dtype))
    return tuple(out)


def check_predictable(scheme: MlcScheme) -> None:
    """Tensor names are predicted for no-quant and group-quant schemes only."""
    if scheme.kind not in ("no-quant", "group-quant"):
        raise UsageError(
            f"predicting MLC tensors is implemented for no-quant and group-quant "
            f"schemes, not {scheme.name} ({scheme.kind})"
        )


def mlc_weight_bytes(spec: ModelSpec, scheme: MlcScheme, context: int | None = None) -> WeightBytes:
    """Parameter bytes MLC stores for ``spec`` under ``scheme`` (what convert_weight writes)."""
    linear = emb = head = other = count = experts = 0
    for p in params(spec, context):
        count += p.numel
        if p.kind in (ParamKind.LINEAR, ParamKind.EXPERTS):
            tensors = _linear(p, scheme) if p.kind is ParamKind.LINEAR else _experts(p, scheme)
            linear += sum(t.nbytes for t in tensors)
            if p.kind is ParamKind.EXPERTS:
                experts += sum(t.nbytes for t in tensors)
        elif p.kind is ParamKind.EMBEDDING:
            emb += sum(t.nbytes for t in _embedding(p, scheme))
        elif p.kind is ParamKind.LM_HEAD:
            head += sum(t.nbytes for t in _linear(p, scheme))
        else:
            other += tensor_bytes(p.numel, p.dtype or scheme.model_dtype)
    return WeightBytes(linear + emb + head + other, count, linear, emb, head, other, experts)
