"""The tensors ``mlc_llm convert_weight`` writes, and how TVM shards them (pure; no I/O).

Names, shapes and dtypes come from the family registry's layouts (``planner.families``), as
``planner.runtimes.mlc.weights`` quantizes them (mlc-llm 79d603f model definitions and
``quantization/group_quantization.py``). Sharding follows TVM's
``tvm.contrib.tvmjs.dump_tensor_cache`` (32 MiB cap; a tensor of at least half the cap that
does not fit goes alone into its own shard; records carry ``byteOffset``). Used to predict an
MLC artifact from a config, by the example generator and by the tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from planner.families import family_layout
from planner.quant import MlcScheme
from planner.runtimes.mlc.weights import MlcTensor, check_predictable
from planner.runtimes.mlc.weights import mlc_tensors as _planner_tensors
from planner.spec import ModelSpec

SHARD_CAP_BYTES = 32 * (1 << 20)
"""``dump_tensor_cache(shard_cap_mb=32)``, the value convert_weight uses."""

__all__ = ["MlcTensor", "mlc_tensors", "shard_records", "tensor_cache"]


def mlc_tensors(spec: ModelSpec, scheme: MlcScheme) -> tuple[MlcTensor, ...]:
    """Every parameter of ``spec`` under ``scheme``, in MLC's declaration order (the family
    registry's layout; ``planner.runtimes.mlc.weights.mlc_tensors``)."""
    family_layout(spec.architecture)  # a clear error for families planner cannot lay out
    check_predictable(scheme)
    return _planner_tensors(spec, scheme, spec.max_context)


def _zero_md5(nbytes: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    block = bytes(1 << 20)
    left = nbytes
    while left:
        step = min(left, len(block))
        digest.update(block[:step])
        left -= step
    return digest.hexdigest()


def shard_records(
    tensors: Iterable[MlcTensor],
    *,
    cap_bytes: int = SHARD_CAP_BYTES,
    encode_format: str = "f32-to-bf16",
    md5: Callable[[int], str] = _zero_md5,
) -> list[dict[str, Any]]:
    """``tensor-cache.json`` shard records for ``tensors`` (``md5`` hashes a shard of n bytes;
    the default hashes zero-filled data, for artifacts whose shards are not written)."""
    shards: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    pending_bytes = 0

    def commit(records: list[dict[str, Any]], nbytes: int) -> None:
        shards.append(
            {
                "dataPath": f"params_shard_{len(shards)}.bin",
                "format": "raw-shard",
                "nbytes": nbytes,
                "records": records,
                "md5sum": md5(nbytes),
            }
        )

    for t in tensors:
        n = t.stored_nbytes(encode_format)
        rec: dict[str, Any] = {
            "name": t.name,
            "shape": list(t.shape),
            "dtype": t.dtype,
            "format": encode_format,
            "nbytes": n,
        }
        if pending_bytes + n >= cap_bytes:
            if n * 2 >= cap_bytes:
                rec["byteOffset"] = 0  # out of band: its own shard, pending ones stay pending
                commit([rec], n)
                continue
            if pending_bytes:
                commit(pending, pending_bytes)
                pending, pending_bytes = [], 0
        rec["byteOffset"] = pending_bytes
        pending.append(rec)
        pending_bytes += n
    if pending_bytes:
        commit(pending, pending_bytes)
    return shards


def tensor_cache(
    tensors: tuple[MlcTensor, ...], source_param_count: int, **kwargs: Any
) -> dict[str, Any]:
    """A whole ``tensor-cache.json`` document, metadata as convert_weight writes it:
    ``ParamSize`` = number of tensors, ``ParamBytes`` = their bytes, ``BitsPerParam`` =
    bytes × 8 / the source model's parameter count."""
    total = float(sum(t.nbytes for t in tensors))
    return {
        "metadata": {
            "ParamSize": len(tensors),
            "ParamBytes": total,
            "BitsPerParam": total * 8.0 / source_param_count,
        },
        "records": shard_records(tensors, **kwargs),
    }
