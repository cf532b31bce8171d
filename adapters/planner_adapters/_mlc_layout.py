"""The tensors ``mlc_llm convert_weight`` writes, and how TVM shards them (pure; no I/O).

Names, shapes and dtypes follow mlc-llm 79d603f: the model definitions in
``python/mlc_llm/model/{llama,mistral,qwen2,qwen3}`` (parameter names and their declaration
order) and ``quantization/group_quantization.py`` (``q_weight`` uint32 of shape
(out, ceil(in / group) × group / elems_per_word), ``q_scale`` in the model dtype of shape
(out, ceil(in / group)); the KN layout transposes both). Sharding follows TVM's
``tvm.contrib.tvmjs.dump_tensor_cache`` (32 MiB cap; a tensor of at least half the cap that
does not fit goes alone into its own shard; records carry ``byteOffset``). Used to predict an
MLC artifact from a config, by the example generator and by the tests.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import ceil
from typing import Any

from planner.errors import UsageError
from planner.families import family_layout, is_tied
from planner.quant import MlcScheme, tensor_bytes
from planner.spec import ModelSpec

SHARD_CAP_BYTES = 32 * (1 << 20)
"""``dump_tensor_cache(shard_cap_mb=32)``, the value convert_weight uses."""

_QKV_NAME = {"qwen2": "c_attn", "qwen3": "c_attn"}
LAYOUT_FAMILIES = ("llama", "mistral", "qwen2", "qwen3")


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


def _linear(
    prefix: str,
    out_f: int,
    in_f: int,
    scheme: MlcScheme,
    *,
    quantize: bool = True,
    bias: bool = False,
) -> list[MlcTensor]:
    md = scheme.model_dtype
    if scheme.kind == "no-quant" or not quantize:
        tensors = [MlcTensor(f"{prefix}.weight", (out_f, in_f), md)]
    elif scheme.kind == "group-quant":
        assert scheme.group_size is not None
        groups = ceil(in_f / scheme.group_size)
        words = groups * (scheme.group_size // scheme.elems_per_storage)
        if scheme.layout == "KN":
            tensors = [
                MlcTensor(f"{prefix}.q_weight", (words, out_f), scheme.storage_dtype),
                MlcTensor(f"{prefix}.q_scale", (groups, out_f), md),
            ]
        else:
            tensors = [
                MlcTensor(f"{prefix}.q_weight", (out_f, words), scheme.storage_dtype),
                MlcTensor(f"{prefix}.q_scale", (out_f, groups), md),
            ]
    else:
        raise UsageError(
            f"predicting MLC tensors is implemented for no-quant and group-quant "
            f"schemes, not {scheme.name} ({scheme.kind})"
        )
    if bias:
        tensors.append(MlcTensor(f"{prefix}.bias", (out_f,), md))
    return tensors


def _embedding(prefix: str, vocab: int, dim: int, scheme: MlcScheme) -> list[MlcTensor]:
    if scheme.kind == "group-quant" and scheme.quantize_embedding:
        assert scheme.group_size is not None
        groups = ceil(dim / scheme.group_size)
        words = groups * (scheme.group_size // scheme.elems_per_storage)
        return [
            MlcTensor(f"{prefix}.q_weight", (vocab, words), scheme.storage_dtype),
            MlcTensor(f"{prefix}.q_scale", (vocab, groups), scheme.model_dtype),
        ]
    return _linear(prefix, vocab, dim, scheme, quantize=False)


def mlc_tensors(spec: ModelSpec, scheme: MlcScheme) -> tuple[MlcTensor, ...]:
    """Every parameter of ``spec`` under ``scheme``, in MLC's declaration order."""
    if spec.architecture not in LAYOUT_FAMILIES:
        raise UsageError(
            f"MLC tensor names are modelled for {', '.join(LAYOUT_FAMILIES)}, "
            f"not {spec.architecture!r}"
        )
    lay = family_layout(spec.architecture)
    h, md = spec.hidden_size, scheme.model_dtype
    q = spec.num_attention_heads * spec.head_dim
    kv = spec.num_kv_heads * spec.head_dim
    inter = spec.intermediate_size or 4 * h
    qkv = _QKV_NAME.get(spec.architecture, "qkv_proj")
    out = _embedding("model.embed_tokens", spec.vocab_size, h, scheme)
    for i in range(spec.num_layers):
        p = f"model.layers.{i}"
        out += _linear(f"{p}.self_attn.{qkv}", q + 2 * kv, h, scheme, bias=lay.qkv_bias)
        out += _linear(f"{p}.self_attn.o_proj", h, q, scheme, bias=lay.o_bias)
        if lay.qk_norm == "per_head":
            out += [
                MlcTensor(f"{p}.self_attn.q_norm.weight", (spec.head_dim,), md),
                MlcTensor(f"{p}.self_attn.k_norm.weight", (spec.head_dim,), md),
            ]
        out += _linear(f"{p}.mlp.gate_up_proj", 2 * inter, h, scheme)
        out += _linear(f"{p}.mlp.down_proj", h, inter, scheme)
        out += [
            MlcTensor(f"{p}.input_layernorm.weight", (h,), md),
            MlcTensor(f"{p}.post_attention_layernorm.weight", (h,), md),
        ]
    out.append(MlcTensor("model.norm.weight", (h,), md))
    if not is_tied(spec):
        out += _linear("lm_head", spec.vocab_size, h, scheme, quantize=scheme.quantize_final_fc)
    return tuple(out)


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
