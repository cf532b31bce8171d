"""Shared by the MLC and Hugging Face adapters: model-folder containment and weight inventories.

A Hugging Face hub cache keeps files as symlinks from ``models--org--name/snapshots/<rev>/`` into
``models--org--name/blobs/``; those links are legitimate, so for a snapshot folder the
containment root is the ``models--*`` repository folder (still nothing outside it is read).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from planner.spec import WeightsInventory
from planner_adapters._safeio import resolve_inside

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


def containment_root(folder: Path) -> Path:
    """The folder nothing may escape: the model folder, or its hub-cache repository folder."""
    parent = folder.absolute().parent
    if parent.name == "snapshots" and parent.parent.name.startswith(("models--", "datasets--")):
        return parent.parent
    return folder


def resolve_in_model(folder: Path, root: Path, name: str, what: str, *, referrer: Path) -> Path:
    """``folder / name``, refusing absolute names, ``..`` and symlinks that leave ``root``."""
    if root == folder:
        return resolve_inside(folder, name, what, referrer=referrer)
    # Checks happen against the root, with the folder's relative position prepended.
    rel = folder.absolute().relative_to(root.absolute())
    if name.startswith(("/", "\\")) or Path(name).is_absolute():
        return resolve_inside(folder, name, what, referrer=referrer)  # raises: absolute
    resolve_inside(root, str(rel / name), what, referrer=referrer)
    return folder / name


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
