"""Parse a Hugging Face ``config.json`` dict into a ``ModelSpec`` (pure; no file access).

Used by the Hugging Face folder adapter and by the MLC adapter (an MLC ``model_config`` uses
the same keys), and by the accuracy benchmark on MLC's published configs. Field defaults
mirror MLC's model config dataclasses (mlc-llm ``python/mlc_llm/model/<family>``): e.g.
``num_key_value_heads`` 0/None → heads, ``head_dim`` 0/None → hidden / heads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planner.errors import ArtifactFormatError
from planner.spec import ArtifactSettings, ModelSpec, QuantInfo

from planner_adapters._values import Provenance, opt_bool, opt_dict, opt_int, opt_str, req_int

# HF model_type aliases → the family names planner (and MLC) use.
FAMILY_ALIASES = {
    "mixformer-sequential": "phi-msft",
    "qwen3_text": "qwen3",
    "gemma3_text": "gemma3",
    "mistral3": "mistral",
}

# Families whose layers alternate local (sliding) and global attention.
_GEMMA2_PATTERN = 2  # even layers local, odd layers global (Gemma-2 modeling code)
_GEMMA3_DEFAULT_PATTERN = 6  # five local then one global (Gemma-3 sliding_window_pattern)


def _pick(cfg: dict[str, Any], keys: tuple[str, ...], path: Path, prov: Provenance, name: str,
          *, required: bool = True, minimum: int = 1) -> int | None:
    for key in keys:
        value = opt_int(cfg, key, path, minimum=0)
        if value is not None and value >= minimum:
            prov.artifact(name, f"config.json {key}")
            return value
    if required:
        raise ArtifactFormatError(
            f"config lacks {name} (looked for {', '.join(keys)})", path=str(path)
        )
    return None


def layer_windows_from_config(
    family: str, cfg: dict[str, Any], num_layers: int, path: Path, prov: Provenance
) -> tuple[int | None, ...]:
    """Per-layer sliding windows (None = global), as the family's modeling code applies them."""
    window = opt_int(cfg, "sliding_window", path, minimum=0)
    use_sw = opt_bool(cfg, "use_sliding_window", path)
    layer_types = cfg.get("layer_types")
    if isinstance(layer_types, list) and len(layer_types) == num_layers and window:
        prov.artifact("layer_windows", "config.json layer_types + sliding_window")
        return tuple(window if t == "sliding_attention" else None for t in layer_types)
    if not window:
        return ()
    if family == "gemma2":
        prov.derived("layer_windows", "Gemma-2 alternates local (even) and global (odd) layers")
        return tuple(window if i % _GEMMA2_PATTERN == 0 else None for i in range(num_layers))
    if family == "gemma3":
        pattern = opt_int(cfg, "sliding_window_pattern", path, minimum=1) or _GEMMA3_DEFAULT_PATTERN
        prov.derived("layer_windows", f"Gemma-3 pattern: every {pattern}th layer global")
        return tuple(None if (i + 1) % pattern == 0 else window for i in range(num_layers))
    if family in ("qwen2", "qwen3") and not use_sw:
        # Qwen configs carry sliding_window but use_sliding_window=false: all layers global.
        prov.artifact("layer_windows", "config.json use_sliding_window=false")
        return ()
    if family == "phi3":
        # Phi-3.5 sets sliding_window = 262144 (larger than any context): MLC ignores it.
        max_pos = opt_int(cfg, "max_position_embeddings", path, minimum=0) or 0
        if window >= max_pos:
            prov.derived("layer_windows", "sliding_window ≥ max_position_embeddings: no effect")
            return ()
    prov.artifact("layer_windows", "config.json sliding_window (all layers)")
    return tuple(window for _ in range(num_layers))


def spec_from_hf_config(
    cfg: dict[str, Any],
    *,
    source: str,
    path: Path,
    fmt: str = "hf",
    adapter: str = "hf",
    name: str | None = None,
) -> ModelSpec:
    """Build a config-only spec (no weights inventory) from a config.json-style dict."""
    prov = Provenance()
    text_cfg = opt_dict(cfg, "text_config", path)
    if text_cfg is not None and "num_hidden_layers" not in cfg:
        cfg = {**text_cfg, "model_type": text_cfg.get("model_type", cfg.get("model_type"))}
    model_type = opt_str(cfg, "model_type", path)
    if model_type is None:
        raise ArtifactFormatError("config has no model_type", path=str(path))
    family = FAMILY_ALIASES.get(model_type, model_type)
    prov.artifact("architecture", f"config.json model_type={model_type!r}")

    layers = _pick(cfg, ("num_hidden_layers", "n_layer", "num_layers"), path, prov, "num_layers")
    hidden = _pick(cfg, ("hidden_size", "n_embd", "d_model"), path, prov, "hidden_size")
    heads = _pick(cfg, ("num_attention_heads", "n_head"), path, prov, "num_attention_heads")
    assert layers is not None and hidden is not None and heads is not None
    kv_heads = _pick(cfg, ("num_key_value_heads", "multi_query_group_num"), path, prov,
                     "num_kv_heads", required=False)
    if kv_heads is None:
        kv_heads = heads
        prov.derived("num_kv_heads", "no num_key_value_heads: multi-head attention (= heads)")
    head_dim = _pick(cfg, ("head_dim",), path, prov, "head_dim", required=False)
    if head_dim is None:
        if hidden % heads:
            raise ArtifactFormatError(
                f"hidden_size {hidden} is not divisible by num_attention_heads {heads}", path=str(path)
            )
        head_dim = hidden // heads
        prov.derived("head_dim", "hidden_size / num_attention_heads")
    if heads % kv_heads:
        raise ArtifactFormatError(
            f"num_attention_heads {heads} is not a multiple of num_key_value_heads {kv_heads}",
            path=str(path),
        )
    inter = _pick(cfg, ("intermediate_size", "n_inner", "ffn_dim"), path, prov, "intermediate_size",
                  required=False)
    if inter is None:
        inter = 4 * hidden
        prov.assumed("intermediate_size", "not in config: 4 × hidden_size (GPT convention)")
    vocab = req_int(cfg, "vocab_size", path)
    prov.artifact("vocab_size", "config.json vocab_size")
    tied = opt_bool(cfg, "tie_word_embeddings", path)
    if tied is None:
        tied = family in ("gemma", "gemma2", "gemma3")
        prov.assumed("tie_word_embeddings", f"not in config: {tied} (family default)")
    else:
        prov.artifact("tie_word_embeddings", "config.json tie_word_embeddings")
    max_ctx = _pick(cfg, ("max_position_embeddings", "max_sequence_length", "n_positions",
                          "seq_length"), path, prov, "max_context", required=False)
    windows = layer_windows_from_config(family, cfg, layers, path, prov)
    sink = opt_int(cfg, "attention_sink_size", path, minimum=0)
    torch_dtype = opt_str(cfg, "torch_dtype", path) or opt_str(cfg, "dtype", path) or "float16"
    if torch_dtype not in ("float16", "bfloat16", "float32"):
        torch_dtype = "float16"
    prov.artifact("kv_dtype", "config.json torch_dtype") if "torch_dtype" in cfg else prov.assumed(
        "kv_dtype", "no torch_dtype: float16")
    quant = QuantInfo(scheme=None, bits=16 if torch_dtype != "float32" else 32,
                      compute_dtype=torch_dtype)
    return ModelSpec(
        name=name or Path(source).name or model_type,
        source=source,
        format=fmt,
        adapter=adapter,
        architecture=family,
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
    )
