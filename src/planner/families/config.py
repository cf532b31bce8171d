"""Config-key resolution: which family a config is, which dict holds its text model, and the
family-specific facts kept in ``ModelSpec.extra`` (pure; the adapters call it).

Rules (mlc-llm 79d603f config classes): a known ``model_type`` keeps its family and the
family's ``text_config`` rule (Gemma3Config nests the text model; Ministral3Config merges it
into the top level with top-level ``tie_word_embeddings``/``dtype`` winning; llava and other
multimodal configs read the text model's keys from ``text_config``); an alias (``mistral3``,
``mixformer-sequential``) is replaced by the text model's family when one is nested, else by
the alias target.
"""

from __future__ import annotations

from typing import Any

from planner.families.registry import (
    FAMILIES,
    TEXT_PRESETS,
    ConfigKeys,
    Family,
    family,
    family_name,
)
from planner.spec import ModelSpec

GENERIC_FACTS = (
    "rope_theta",
    "position_embedding_base",
    "partial_rotary_factor",
    "rotary_pct",
    "rotary_dim",
    "use_parallel_residual",
    "use_qkv_bias",
    "attention_bias",
    "hidden_act",
    "hidden_activation",
    "sliding_window",
    "sliding_window_pattern",
    "max_window_layers",
    "use_sliding_window",
    "original_max_position_embeddings",
    "final_logit_softcapping",
    "attn_logit_softcapping",
    "logits_scaling",
    "logit_scale",
    "residual_multiplier",
)
"""Keys kept for every family: facts a reader wants that the arithmetic does not need."""


def resolve_family(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(family name, the dict to read the text model's dimensions from)."""
    model_type = cfg.get("model_type")
    top = model_type if isinstance(model_type, str) else ""
    text = cfg.get("text_config")
    name = family_name(top)
    known = name == top and top in FAMILIES  # an alias may be refined by the text model
    if not isinstance(text, dict):
        return name, cfg
    rule = family(name).config.text_config if known else "flatten"
    if rule == "nested":
        merged = dict(text)
        for key, value in cfg.items():
            if key != "text_config" and key not in merged:
                merged[key] = value
        if "vocab_size" in cfg:
            merged["vocab_size"] = cfg["vocab_size"]
        return name, merged
    if rule == "top_wins":
        merged = {k: v for k, v in cfg.items() if k != "text_config"}
        merged.update(text)
        for key in ("tie_word_embeddings", "dtype", "torch_dtype"):
            if key in cfg:
                merged[key] = cfg[key]
        return name, merged
    if "num_hidden_layers" in cfg and known:
        return name, cfg
    merged = {k: v for k, v in cfg.items() if k != "text_config"}
    merged.update(text)
    preset = TEXT_PRESETS.get(str(text.get("_name_or_path")))
    if known and family(name).config.text_presets and preset is not None:
        merged.update({k: v for k, v in preset.items() if k not in ("model_type", "vocab_size")})
    if not known:
        inner = text.get("model_type")
        if isinstance(inner, str) and family_name(inner) in FAMILIES:
            name = family_name(inner)
    if "vocab_size" in cfg and "vocab_size" not in text:
        merged["vocab_size"] = cfg["vocab_size"]
    return name, merged


def config_keys(name: str) -> ConfigKeys:
    """How the family's MLC config class reads its dimensions."""
    return family(name).config


def fact_keys(fam: Family) -> tuple[str, ...]:
    """Raw config keys the family's layout and graph read (plus the generic ones)."""
    keys = list(GENERIC_FACTS) + list(fam.config.facts)
    lay = fam.layout
    if lay is not None:
        keys += [r.key for r in lay.bias_rules]
        if lay.moe is not None:
            m = lay.moe
            for k in (
                m.experts_key,
                m.top_k_key,
                m.inter_key,
                m.shared_inter_key,
                m.shared_count_key,
                m.first_dense_key,
                m.freq_key,
                m.sparse_step_key,
            ):
                if k:
                    keys.append(k)
    seen: dict[str, None] = {}
    for k in keys:
        seen.setdefault(k, None)
    return tuple(seen)


def _text(value: object) -> str | None:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


def config_facts(cfg: dict[str, Any], name: str) -> list[tuple[str, str]]:
    """The family's facts as text, for ``ModelSpec.extra`` (scalars only; nested blocks listed in
    ``ConfigKeys.nested_facts`` become ``block.key``)."""
    fam = family(name)
    out: list[tuple[str, str]] = []
    for key in fact_keys(fam):
        value = _text(cfg.get(key))
        if value is not None:
            out.append((key, value))
    for block in fam.config.nested_facts:
        sub = cfg.get(block)
        if isinstance(sub, dict):
            for key in sorted(sub):
                value = _text(sub[key])
                if value is not None:
                    out.append((f"{block}.{key}", value))
    return out


def fact(spec: ModelSpec, key: str) -> str | None:
    """A raw config fact kept in ``spec.extra``."""
    for k, v in spec.extra:
        if k == key:
            return v
    return None


def fact_int(spec: ModelSpec, key: str | None, default: int = 0) -> int:
    """An integer fact (``default`` when absent or not an integer)."""
    if key is None:
        return default
    raw = fact(spec, key)
    if raw is None:
        return default
    try:
        return int(float(raw))
    except ValueError:
        return default


def fact_float(spec: ModelSpec, key: str, default: float = 0.0) -> float:
    """A numeric fact (``default`` when absent or not a number)."""
    raw = fact(spec, key)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        return default


def fact_bool(spec: ModelSpec, key: str, default: bool) -> bool:
    """A boolean fact (``default`` when absent)."""
    raw = fact(spec, key)
    if raw is None:
        return default
    return raw.lower() in ("true", "1")
