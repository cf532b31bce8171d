"""Quantization registries: MLC's schemes and onnxruntime-genai's precisions, as data.

Storage rules follow MLC's ``python/mlc_llm/quantization`` (see docs/formulas.md and
shared research mlc-llm.md §1) and the onnxruntime-genai builder's MatMulNBits layout.
Pure data plus pure functions: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from planner.errors import UnknownQuantizationError

DTYPE_BYTES: dict[str, float] = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int64": 8,
    "uint64": 8,
    "int32": 4,
    "uint32": 4,
    "int16": 2,
    "uint16": 2,
    "int8": 1,
    "uint8": 1,
    "bool": 1,
    "float8_e4m3fn": 1,
    "float8_e5m2": 1,
    "float8_e4m3fnuz": 1,
    "float8_e5m2fnuz": 1,
    "int4": 0.5,
    "uint4": 0.5,
    "float4_e2m1": 0.5,
}
"""Bytes per element by canonical dtype name (4-bit types pack two per byte)."""


def dtype_bytes(dtype: str) -> float:
    """Bytes per element of a canonical dtype name."""
    try:
        return DTYPE_BYTES[dtype]
    except KeyError:
        raise UnknownQuantizationError(f"unknown dtype {dtype!r}") from None


def tensor_bytes(numel: int, dtype: str) -> int:
    """Storage bytes of ``numel`` elements (4-bit types round up to whole bytes)."""
    return ceil(numel * dtype_bytes(dtype))


@dataclass(frozen=True, slots=True)
class MlcScheme:
    """One entry of MLC's ``QUANTIZATION`` registry, reduced to what memory depends on."""

    name: str
    kind: str
    """``no-quant``, ``group-quant``, ``awq``, ``ft-quant``, ``per-tensor-quant`` or
    ``block-scale-quant``."""
    model_dtype: str
    """Dtype of activations, scales, norms and unquantized tensors."""
    bits: int | None = None
    group_size: int | None = None
    storage_dtype: str = "uint32"
    quantize_embedding: bool = True
    quantize_final_fc: bool = True
    layout: str = "NK"
    quality_rank: int = 0
    """Higher is better quality (used to rank plans; see docs/formulas.md#quality)."""

    @property
    def kv_dtype(self) -> str:
        """KV cache dtype = the model dtype (MLC allocates KV pages in the model dtype)."""
        return self.model_dtype

    @property
    def elems_per_storage(self) -> int:
        """Quantized elements packed into one storage word (int3 → 10 per uint32)."""
        assert self.bits is not None
        return int(dtype_bytes(self.storage_dtype) * 8) // self.bits


# Source: mlc-ai/mlc-llm python/mlc_llm/quantization/quantization.py (QUANTIZATION dict) @ 79d603f.
MLC_SCHEMES: dict[str, MlcScheme] = {
    s.name: s
    for s in (
        MlcScheme("q0f32", "no-quant", "float32", bits=32, quality_rank=100),
        MlcScheme("q0f16", "no-quant", "float16", bits=16, quality_rank=95),
        MlcScheme("q0bf16", "no-quant", "bfloat16", bits=16, quality_rank=94),
        MlcScheme(
            "e4m3_e4m3_f16",
            "per-tensor-quant",
            "float16",
            bits=8,
            storage_dtype="float8_e4m3fn",
            quantize_embedding=False,
            quantize_final_fc=False,
            quality_rank=80,
        ),
        MlcScheme(
            "e4m3_e4m3_f16_max_calibrate",
            "per-tensor-quant",
            "float16",
            bits=8,
            storage_dtype="float8_e4m3fn",
            quantize_embedding=False,
            quantize_final_fc=False,
            quality_rank=79,
        ),
        MlcScheme(
            "e5m2_e5m2_f16",
            "per-tensor-quant",
            "float16",
            bits=8,
            storage_dtype="float8_e5m2",
            quantize_embedding=False,
            quantize_final_fc=False,
            quality_rank=78,
        ),
        MlcScheme(
            "fp8_e4m3fn_bf16_block_scale",
            "block-scale-quant",
            "bfloat16",
            bits=8,
            group_size=128,
            storage_dtype="float8_e4m3fn",
            quantize_embedding=False,
            quantize_final_fc=False,
            quality_rank=81,
        ),
        MlcScheme(
            "fp8_e4m3fn_bf16_block_scale_static_activation",
            "block-scale-quant",
            "bfloat16",
            bits=8,
            group_size=128,
            storage_dtype="float8_e4m3fn",
            quantize_embedding=False,
            quantize_final_fc=False,
            quality_rank=80,
        ),
        MlcScheme("q4f32_1", "group-quant", "float32", bits=4, group_size=32, quality_rank=62),
        MlcScheme(
            "q4f16_2",
            "group-quant",
            "float16",
            bits=4,
            group_size=32,
            quantize_embedding=False,
            quantize_final_fc=False,
            quality_rank=61,
        ),
        MlcScheme(
            "q4f16_autoawq",
            "awq",
            "float16",
            bits=4,
            group_size=128,
            quantize_embedding=False,
            quantize_final_fc=False,
            quality_rank=60,
        ),
        MlcScheme("q4f16_1", "group-quant", "float16", bits=4, group_size=32, quality_rank=58),
        MlcScheme("q4bf16_1", "group-quant", "bfloat16", bits=4, group_size=32, quality_rank=57),
        MlcScheme(
            "q4f16_0", "group-quant", "float16", bits=4, group_size=32, layout="KN", quality_rank=56
        ),
        MlcScheme(
            "q4bf16_0",
            "group-quant",
            "bfloat16",
            bits=4,
            group_size=32,
            layout="KN",
            quality_rank=55,
        ),
        MlcScheme(
            "q4f16_ft",
            "ft-quant",
            "float16",
            bits=4,
            group_size=None,
            storage_dtype="int8",
            quality_rank=54,
        ),
        MlcScheme("q3f16_1", "group-quant", "float16", bits=3, group_size=40, quality_rank=30),
        MlcScheme(
            "q3f16_0", "group-quant", "float16", bits=3, group_size=40, layout="KN", quality_rank=29
        ),
    )
}


def mlc_scheme(name: str) -> MlcScheme:
    """Look an MLC scheme up by name; unknown names list the known ones."""
    try:
        return MLC_SCHEMES[name]
    except KeyError:
        known = ", ".join(sorted(MLC_SCHEMES))
        raise UnknownQuantizationError(
            f"unknown MLC quantization {name!r}; known: {known}"
        ) from None


def mlc_schemes_for(architecture: str) -> tuple[MlcScheme, ...]:
    """The schemes MLC offers for a family (``Family.mlc_quant_kinds``), best quality first."""
    from planner.families import family  # the family tables are not needed to size a dtype

    kinds = family(architecture).mlc_quant_kinds
    out = [s for s in MLC_SCHEMES.values() if s.kind in kinds]
    return tuple(sorted(out, key=lambda s: -s.quality_rank))


@dataclass(frozen=True, slots=True)
class OrtScheme:
    """An onnxruntime-genai builder precision (``-p``) with its MatMulNBits options."""

    name: str
    precision: str
    """Builder ``-p`` value: fp32, fp16, bf16, int8, int4."""
    io_dtype: str
    """Activation / KV / scale dtype on the target execution provider."""
    bits: int | None = None
    block_size: int = 32
    symmetric: bool = True
    quantize_embedding: bool = False
    quantize_lm_head: bool = True
    quality_rank: int = 0


def ort_scheme(name: str) -> OrtScheme:
    """Parse an onnxruntime scheme name: ``fp32``, ``fp16``, ``int8``, ``int4`` with optional
    ``-bs<N>`` block size, ``-asym`` and ``-embq`` (quantized, shared embeddings) suffixes."""
    parts = name.split("-")
    base = parts[0]
    bases = {
        "fp32": ("float32", None, 100),
        "fp16": ("float16", None, 95),
        "bf16": ("bfloat16", None, 94),
        "int8": ("float32", 8, 80),
        "int4": ("float32", 4, 60),
    }
    if base not in bases:
        known = "fp32, fp16, bf16, int8, int4[-bs16|32|64|128|256][-asym][-embq]"
        raise UnknownQuantizationError(f"unknown onnxruntime precision {name!r}; known: {known}")
    io_dtype, bits, rank = bases[base]
    block, sym, embq = 32, True, False
    for p in parts[1:]:
        if p.startswith("bs") and p[2:].isdigit() and int(p[2:]) in (16, 32, 64, 128, 256):
            block = int(p[2:])
        elif p == "asym":
            sym = False
        elif p == "embq":
            embq = True
        else:
            raise UnknownQuantizationError(
                f"unknown onnxruntime precision option {p!r} in {name!r}"
            )
    if bits is None and (block != 32 or not sym or embq):
        raise UnknownQuantizationError(
            f"{name!r}: block size, asym and embq apply to int4/int8 only"
        )
    # Smaller blocks keep more precision (one scale per fewer weights).
    rank += {16: 3, 32: 2, 64: 1, 128: 0, 256: -1}[block] if bits else 0
    # Keeping the embedding in float protects a sensitive layer: quantizing it ranks lower.
    rank -= 5 if embq else 0
    return OrtScheme(name, base, io_dtype, bits, block, sym, embq, True, rank)


ORT_DEFAULT_SCHEMES = ("fp32", "int8", "int4", "int4-bs128", "int4-embq", "int4-bs128-embq")
"""The onnxruntime precisions the planner searches by default (CPU execution provider)."""
