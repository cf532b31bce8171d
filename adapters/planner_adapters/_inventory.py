"""Shared by the MLC and Hugging Face adapters: weight inventories from tensor facts.

(Folder containment, the hub cache included, is ``planner.io.contain.ModelFolder``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from planner.spec import WeightsInventory

EMBED_KEYS = ("embed_tokens", "embed_in", "wte", "word_embeddings", "tok_embeddings", ".embd.")
LM_HEAD_KEYS = ("lm_head", "embed_out")
SCALE_LEAVES = frozenset(
    {
        "q_scale",
        "q_calibration_scale",
        "qzeros",
        "scales",
        "g_idx",
        "weight_scale_inv",
        "weight_scale",
        "activation_scale",
        "input_scale",
    }
)
"""Quantization side tensors: stored bytes, but not model parameters."""


def is_embedding(name: str) -> bool:
    """Whether a tensor belongs to the token embedding."""
    return any(k in name for k in EMBED_KEYS)


def is_lm_head(name: str) -> bool:
    """Whether a tensor belongs to a separate output projection."""
    return any(k in name for k in LM_HEAD_KEYS)


@dataclass(frozen=True, slots=True)
class TensorFact:
    """What an inventory needs to know of one stored tensor."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int
    """Bytes at runtime."""
    params: int
    """Model parameters it holds (packed 4-bit words unpacked; 0 for scales and zero points)."""


def build_inventory(facts: Iterable[TensorFact]) -> WeightsInventory:
    """Totals by dtype and by role (embedding, lm_head, Linear layers)."""
    items = list(facts)
    by_dtype: dict[str, int] = {}
    modules_2d: set[str] = set()
    for f in items:
        by_dtype[f.dtype] = by_dtype.get(f.dtype, 0) + f.nbytes
        if len(f.shape) >= 2:
            modules_2d.add(f.name.rsplit(".", 1)[0])
    total = sum(f.nbytes for f in items)
    emb = sum(f.nbytes for f in items if is_embedding(f.name))
    head = sum(f.nbytes for f in items if is_lm_head(f.name) and not is_embedding(f.name))
    matmul = 0
    for f in items:
        module, _, leaf = f.name.rpartition(".")
        if (
            module in modules_2d
            and leaf != "bias"
            and not (is_embedding(f.name) or is_lm_head(f.name))
        ):
            matmul += f.nbytes
    return WeightsInventory(
        tensor_count=len(items),
        total_bytes=total,
        param_count=sum(f.params for f in items),
        bytes_by_dtype=tuple(sorted(by_dtype.items())),
        external_bytes=total,
        embedded_bytes=0,
        matmul_bytes=matmul,
        embedding_bytes=emb,
        lm_head_bytes=head,
    )


def unpacked_params(
    name: str,
    numel: int,
    dtype: str,
    bits: int | None,
    *,
    int8_pairs: bool = False,
    bit_stream: bool = False,
) -> int:
    """Parameters held by a stored tensor; scales and zero points hold none.

    Packed 32-bit words hold ``32 // bits`` weights each in MLC (int3: 10 per uint32, two bits
    unused); GPTQ/AWQ pack a continuous bit stream (``bit_stream``: 32 / bits per word).
    """
    leaf = name.rsplit(".", 1)[-1]
    if leaf in SCALE_LEAVES:
        return 0
    if leaf in ("q_weight", "qweight"):
        if dtype in ("uint32", "int32") and bits:
            return numel * 32 // bits if bit_stream else numel * (32 // bits)
        if dtype in ("int8", "uint8") and int8_pairs:
            return numel * 2  # MLC FasterTransformer int4: two weights per int8
    return numel
