"""Parse a Hugging Face ``config.json`` dict into a ``ModelSpec`` (pure; no file access).

Used by the Hugging Face folder adapter and by the MLC adapter (an MLC ``model_config`` uses
the same keys), and by the accuracy benchmark on MLC's published configs. Field defaults
mirror MLC's model config dataclasses (mlc-llm ``python/mlc_llm/model/<family>``): e.g.
``num_key_value_heads`` 0/None → heads, ``head_dim`` 0/None → hidden / heads; Gemma requires
``head_dim`` and always ties the lm_head to the embedding (``GemmaEmbedding.lm_head_forward``).
GPTQ/AWQ ``quantization_config`` blocks become a ``QuantInfo``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planner.errors import ArtifactFormatError, UnsupportedArtifactError
from planner.families import family
from planner.families.config import config_facts, resolve_family
from planner.spec import ArtifactSettings, ModelSpec, QuantInfo
from planner_adapters._values import (
    Provenance,
    check_layers,
    opt_bool,
    opt_dict,
    opt_int,
    opt_str,
)

_FLOAT_DTYPES = ("float16", "bfloat16", "float32")
_ALTERNATE = 2  # Gemma-2: even layers local, odd layers global (its modeling code)
_NTH_GLOBAL_DEFAULT = 6  # Gemma-3 sliding_window_pattern: five local then one global


def _pick(
    cfg: dict[str, Any],
    keys: tuple[str, ...],
    path: Path,
    prov: Provenance,
    name: str,
    *,
    required: bool = True,
    minimum: int = 1,
    label: str = "config.json",
) -> int | None:
    too_small: tuple[str, int] | None = None
    for key in keys:
        value = opt_int(cfg, key, path, minimum=0)
        if value is not None and value >= minimum:
            prov.artifact(name, f"{label} {key}")
            return value
        if value is not None and too_small is None:
            too_small = (key, value)
    if required and too_small is not None:
        raise ArtifactFormatError(
            f"config field {too_small[0]!r} = {too_small[1]}: {name} must be at least {minimum}",
            path=str(path),
        )
    if required:
        raise ArtifactFormatError(
            f"config lacks {name} (looked for {', '.join(keys)})", path=str(path)
        )
    return None


def layer_windows_from_config(
    family_name: str,
    cfg: dict[str, Any],
    num_layers: int,
    path: Path,
    prov: Provenance,
    *,
    label: str = "config.json",
) -> tuple[int | None, ...]:
    """Per-layer sliding windows (None = global), as the family's Hugging Face modeling code
    applies them (``ConfigKeys.window_pattern`` in the family registry)."""
    window = opt_int(cfg, "sliding_window", path, minimum=0)
    use_sw = opt_bool(cfg, "use_sliding_window", path)
    layer_types = cfg.get("layer_types")
    if isinstance(layer_types, list) and len(layer_types) == num_layers and window:
        prov.artifact("layer_windows", f"{label} layer_types + sliding_window")
        return tuple(window if t == "sliding_attention" else None for t in layer_types)
    if not window:
        prov.derived("layer_windows", f"no sliding_window in {label}: every layer global")
        return ()
    pattern = family(family_name).config.window_pattern
    if pattern == "alternate":
        prov.derived("layer_windows", f"{family_name}: local (even) and global (odd) layers")
        return tuple(window if i % _ALTERNATE == 0 else None for i in range(num_layers))
    if pattern == "every_nth_global":
        every = opt_int(cfg, "sliding_window_pattern", path, minimum=1) or _NTH_GLOBAL_DEFAULT
        prov.derived("layer_windows", f"{family_name} pattern: every {every}th layer global")
        return tuple(None if (i + 1) % every == 0 else window for i in range(num_layers))
    if pattern == "flagged" and not use_sw:
        # Qwen configs carry sliding_window but use_sliding_window=false: all layers global.
        prov.artifact("layer_windows", f"{label} use_sliding_window=false")
        return ()
    if pattern == "below_max":
        # Phi-3.5 sets sliding_window = 262144 (larger than any context): no effect.
        max_pos = opt_int(cfg, "max_position_embeddings", path, minimum=0) or 0
        if window >= max_pos:
            prov.derived("layer_windows", "sliding_window ≥ max_position_embeddings: no effect")
            return ()
    prov.artifact("layer_windows", f"{label} sliding_window (all layers)")
    return tuple(window for _ in range(num_layers))


def quant_from_hf_config(
    qcfg: dict[str, Any], path: Path, *, compute_dtype: str, label: str = "config.json"
) -> tuple[QuantInfo, list[str]]:
    """A ``QuantInfo`` from a ``quantization_config`` block (GPTQ, AWQ, fp8), plus notes.

    AWQ at 4 bits / group 128 is what MLC converts as ``q4f16_autoawq`` (mlc-llm
    ``quantization/awq_quantization.py``), so that name is used; other GPTQ/AWQ settings get
    descriptive names (``gptq-int4``, ``awq-int4``).
    """
    notes: list[str] = []
    method = (opt_str(qcfg, "quant_method", path, what="quantization_config") or "").lower()
    bits = opt_int(qcfg, "bits", path, minimum=1, what="quantization_config")
    if bits is None:
        bits = opt_int(qcfg, "w_bit", path, minimum=1, what="quantization_config")
    group: int | None = None
    for key in ("group_size", "q_group_size"):
        if qcfg.get(key) == -1:
            break  # GPTQ: -1 means one group per whole input row (per-channel scales)
        group = opt_int(qcfg, key, path, minimum=0, what="quantization_config")
        if group is not None:
            break
    if group == 0:
        group = None
    if method == "gptq":
        if bits is None:
            raise ArtifactFormatError(
                f"{label} GPTQ quantization_config lacks bits", path=str(path)
            )
        sym = opt_bool(qcfg, "sym", path, what="quantization_config")
        desc = opt_bool(qcfg, "desc_act", path, what="quantization_config")
        details = [("quant_method", "gptq")]
        if desc is not None:
            details.append(("desc_act", str(desc).lower()))
        return QuantInfo(
            scheme=f"gptq-int{bits}",
            bits=bits,
            group_size=group,
            symmetric=True if sym is None else sym,
            compute_dtype=compute_dtype,
            unquantized=("embed_tokens", "lm_head"),
            details=tuple(details),
        ), notes
    if method == "awq":
        if bits is None:
            raise ArtifactFormatError(f"{label} AWQ quantization_config lacks bits", path=str(path))
        zero = opt_bool(qcfg, "zero_point", path, what="quantization_config")
        version = opt_str(qcfg, "version", path, what="quantization_config")
        details = [("quant_method", "awq")]
        if version:
            details.append(("version", version.lower()))
        scheme = "q4f16_autoawq" if bits == 4 and group == 128 else f"awq-int{bits}"
        if scheme != "q4f16_autoawq":
            notes.append(
                f"AWQ at {bits} bits / group {group} has no MLC scheme "
                "(MLC's q4f16_autoawq needs 4 bits, group 128)"
            )
        return QuantInfo(
            scheme=scheme,
            bits=bits,
            group_size=group,
            symmetric=False if zero is None else not zero,
            compute_dtype="float16",
            unquantized=("embed_tokens", "lm_head"),
            details=tuple(details),
        ), notes
    if method == "fp8":
        block = qcfg.get("weight_block_size")
        bsize = None
        if isinstance(block, list) and block and isinstance(block[0], int):
            bsize = block[0]
        return QuantInfo(
            scheme="fp8",
            bits=8,
            group_size=bsize,
            symmetric=True,
            compute_dtype=compute_dtype,
            unquantized=("embed_tokens", "lm_head"),
            details=(("quant_method", "fp8"),),
        ), notes
    notes.append(
        f"{label} quantization_config quant_method {method or '(none)'!r} is not "
        "understood; weights are taken as stored"
    )
    return QuantInfo(
        scheme=None,
        bits=bits,
        group_size=group,
        compute_dtype=compute_dtype,
        details=(("quant_method", method),),
    ), notes


def _extras(cfg: dict[str, Any], model_type: str, family_name: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    if model_type != family_name:
        out.append(("model_type", model_type))
    out += config_facts(cfg, family_name)
    rope = cfg.get("rope_scaling")
    if isinstance(rope, dict):
        kind = rope.get("rope_type", rope.get("type"))
        if isinstance(kind, str):
            out.append(("rope_type", kind))
    return tuple(out)


def spec_from_hf_config(
    cfg: dict[str, Any],
    *,
    source: str,
    path: Path,
    fmt: str = "hf",
    adapter: str = "hf",
    name: str | None = None,
    config_name: str = "config.json",
) -> ModelSpec:
    """Build a config-only spec (no weights inventory) from a config.json-style dict.

    ``config_name`` labels provenance records (``mlc-chat-config.json model_config`` for MLC).
    A family planner knows it cannot plan, whose config also lacks the keys a decoder has, is
    refused in one line naming the family and what is missing.
    """
    try:
        return _spec_from_hf_config(
            cfg,
            source=source,
            path=path,
            fmt=fmt,
            adapter=adapter,
            name=name,
            config_name=config_name,
        )
    except ArtifactFormatError as exc:
        fam = family(resolve_family(cfg)[0]) if isinstance(cfg.get("model_type"), str) else None
        if fam is not None and fam.mlc.plannable is not None:
            raise UnsupportedArtifactError(
                f"model family {fam.name!r} cannot be planned: {fam.mlc.plannable} ({exc.message})",
                path=str(path),
            ) from None
        raise


def _spec_from_hf_config(
    cfg: dict[str, Any],
    *,
    source: str,
    path: Path,
    fmt: str,
    adapter: str,
    name: str | None,
    config_name: str,
) -> ModelSpec:
    prov = Provenance()
    notes: list[str] = []
    label = config_name
    if name:
        prov.derived("name", "folder name")
    else:
        prov.derived("name", "source path name")
    raw_type = opt_str(cfg, "model_type", path)
    if raw_type is None:
        raise ArtifactFormatError("config has no model_type", path=str(path))
    model_type = raw_type
    family_name, cfg = resolve_family(cfg)
    fam = family(family_name)
    keys = fam.config
    prov.artifact("architecture", f"{label} model_type={model_type!r}")
    defaulted = {k: v for k, v in keys.defaults if cfg.get(k) is None}
    if defaulted:
        cfg = {**cfg, **defaulted}

    def pick(names: tuple[str, ...], field: str, *, required: bool = True) -> int | None:
        value = _pick(cfg, names, path, prov, field, required=required, label=label)
        chosen = next((k for k in names if cfg.get(k) is not None), None)
        if value is not None and chosen in defaulted:
            prov.assumed(field, f"{chosen} not in {label}: {family_name}'s MLC default {value}")
        return value

    layers = pick(keys.layers, "num_layers")
    hidden = pick(keys.hidden, "hidden_size")
    heads = pick(keys.heads, "num_attention_heads", required=bool(keys.heads))
    if heads is None:  # RWKV: heads = hidden / head_size
        head_size = pick(keys.head_dim, "head_dim")
        assert hidden is not None and head_size is not None
        heads = max(1, hidden // head_size)
        prov.derived("num_attention_heads", f"hidden_size / {keys.head_dim[0]}")
    assert layers is not None and hidden is not None and heads is not None
    check_layers(layers, path, f"{label} num_hidden_layers")
    kv_heads = None
    if keys.single_kv_head is not None:
        multi_query = opt_bool(cfg, keys.single_kv_head, path)
        if multi_query is None or multi_query:
            kv_heads = 1
            prov.derived("num_kv_heads", f"{keys.single_kv_head}: one KV head")
    elif keys.kv_heads_when is None or opt_bool(cfg, keys.kv_heads_when, path):
        kv_heads = pick(keys.kv_heads, "num_kv_heads", required=False)
    if kv_heads is None:
        kv_heads = heads
        prov.derived("num_kv_heads", "no num_key_value_heads: multi-head attention (= heads)")
    head_dim = pick(keys.head_dim, "head_dim", required=False)
    if head_dim is None:
        if keys.head_dim_required:
            # e.g. MLC's GemmaConfig declares head_dim without a default: conversion would fail.
            raise ArtifactFormatError(
                f"{family_name} config lacks head_dim (required by MLC's config class)",
                path=str(path),
            )
        if hidden % heads:
            raise ArtifactFormatError(
                f"hidden_size {hidden} is not divisible by num_attention_heads {heads}",
                path=str(path),
            )
        head_dim = hidden // heads
        prov.derived("head_dim", "hidden_size / num_attention_heads")
    if heads % kv_heads:
        raise ArtifactFormatError(
            f"num_attention_heads {heads} is not a multiple of num_key_value_heads {kv_heads}",
            path=str(path),
        )
    inter = pick(keys.intermediate, "intermediate_size", required=False)
    if inter is None and not keys.intermediate_default_x4:
        prov.assumed("intermediate_size", f"not in config: {family_name}'s own default")
    elif inter is None:
        inter = 4 * hidden
        prov.assumed("intermediate_size", "not in config: 4 × hidden_size (GPT convention)")
    elif keys.intermediate_divisor > 1:
        inter //= keys.intermediate_divisor
        prov.derived(
            "intermediate_size",
            f"{label} intermediate_size / {keys.intermediate_divisor} ({family_name}'s MLP)",
        )
    vocab = pick(keys.vocab, "vocab_size")
    assert vocab is not None
    tied = opt_bool(cfg, "tie_word_embeddings", path)
    tie_rule = fam.layout.tie if fam.layout is not None else "config"
    if tie_rule == "always":
        if tied is False:
            notes.append(
                f"{label} says tie_word_embeddings=false, but MLC's {family_name} model always "
                "reuses the embedding as lm_head (it has no separate lm_head)"
            )
        tied = True
        prov.derived("tie_word_embeddings", f"{family_name}: lm_head is always the embedding")
    elif tied is None:
        tied = False
        prov.assumed("tie_word_embeddings", "not in config: false (transformers default)")
    else:
        prov.artifact("tie_word_embeddings", f"{label} tie_word_embeddings")
    max_ctx = pick(keys.context, "max_context", required=False)
    if max_ctx is None:
        prov.assumed("max_context", f"no max_position_embeddings in {label}: unknown")
    windows = layer_windows_from_config(family_name, cfg, layers, path, prov, label=label)
    sink = opt_int(cfg, "attention_sink_size", path, minimum=0)
    if sink is not None:
        prov.artifact("attention_sink", f"{label} attention_sink_size")
    else:
        prov.assumed("attention_sink", "no attention sink")
    dtype_key = "torch_dtype" if cfg.get("torch_dtype") is not None else "dtype"
    raw_dtype = opt_str(cfg, dtype_key, path)
    if raw_dtype in _FLOAT_DTYPES:
        torch_dtype = raw_dtype
        prov.artifact("kv_dtype", f"{label} {dtype_key}")
    else:
        torch_dtype = "float16"
        prov.assumed("kv_dtype", f"no float {dtype_key} in config: float16")
    assert torch_dtype is not None
    qcfg = opt_dict(cfg, "quantization_config", path)
    if qcfg is not None:
        quant, qnotes = quant_from_hf_config(qcfg, path, compute_dtype=torch_dtype, label=label)
        notes.extend(qnotes)
        prov.artifact("quantization", f"{label} quantization_config")
    else:
        quant = QuantInfo(
            scheme=None, bits=16 if torch_dtype != "float32" else 32, compute_dtype=torch_dtype
        )
        prov.derived("quantization", f"unquantized {torch_dtype} weights")
    return ModelSpec(
        name=name or Path(source).name or model_type,
        source=source,
        format=fmt,
        adapter=adapter,
        architecture=family_name,
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=inter,
        vocab_size=vocab,
        tie_word_embeddings=tied,
        max_context=max_ctx,
        weights=None,
        quantization=quant,
        kv_dtype=torch_dtype,
        layer_windows=windows,
        attention_sink=sink,
        settings=ArtifactSettings(),
        provenance=prov.freeze(),
        notes=tuple(notes),
        extra=_extras(cfg, model_type, family_name),
    )
