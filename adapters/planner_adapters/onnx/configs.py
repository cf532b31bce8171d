"""Typed views of the two JSON configs an ONNX folder can carry: onnxruntime-genai's
``genai_config.json`` and an Optimum export's ``config.json``. Every value is checked; absent
values are None."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.errors import ArtifactFormatError
from planner.io.limits import MAX_DIM
from planner_adapters._values import opt_bool, opt_dict, opt_int, opt_str

GENAI_CONFIG = "genai_config.json"
_PRINTF_INT = re.compile(r"%d")
MAX_SESSION_OPTIONS = 1000
"""Session option pairs kept from genai_config.json (a real config has a dozen)."""


def name_pattern(template: str, cfg_path: Path, key: str) -> re.Pattern[str]:
    """A genai name template (``past_key_values.%d.key``) as a regex capturing the layer."""
    if len(_PRINTF_INT.findall(template)) != 1:
        raise ArtifactFormatError(
            f"{GENAI_CONFIG} {key} {template!r} must contain exactly one %d", path=str(cfg_path)
        )
    before, after = template.split("%d")
    return re.compile(re.escape(before) + r"(\d+)" + re.escape(after))


def flatten_session_options(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    """Flatten genai session options into (key, value) text pairs."""
    if len(out) > MAX_SESSION_OPTIONS:
        return
    if isinstance(value, dict):
        if not value and prefix:
            out.append((prefix, ""))
        for k, v in value.items():
            if prefix == "config_entries":
                key = str(k)  # already ORT keys such as session.disable_prepacking
            else:
                key = f"{prefix}.{k}" if prefix else str(k)
            flatten_session_options(key, v, out)
    elif isinstance(value, list):
        for item in value:
            flatten_session_options(prefix, item, out)
    elif isinstance(value, bool):
        out.append((prefix, "true" if value else "false"))
    elif value is not None:
        out.append((prefix, str(value)))


@dataclass(frozen=True, slots=True)
class GenaiConfig:
    """Typed view of genai_config.json (every value checked, absent values None)."""

    path: Path
    type: str | None
    vocab: int | None
    context: int | None
    head_size: int | None
    hidden: int | None
    heads: int | None
    kv_heads: int | None
    layers: int | None
    past_key: str
    past_value: str
    past_combined: str | None
    input_ids: str
    logits: str
    session: tuple[tuple[str, str], ...]
    window: int | None
    window_layers: tuple[int, ...] | None
    max_length: int | None
    share_buffer: bool | None
    num_beams: int | None

    @classmethod
    def parse(cls, cfg: dict[str, Any], path: Path) -> GenaiConfig:
        """Check and convert the parsed JSON of ``path``."""
        # Checked in a fixed order, so the first bad value named is always the same one.
        w = GENAI_CONFIG
        model = opt_dict(cfg, "model", path, what=w) or {}
        decoder = opt_dict(model, "decoder", path, what=f"{w} model") or {}
        dw, mw = f"{w} model.decoder", f"{w} model"
        type_ = opt_str(model, "type", path, what=mw)
        vocab = opt_int(model, "vocab_size", path, minimum=1, what=mw)
        context = opt_int(model, "context_length", path, minimum=1, what=mw)
        head_size = opt_int(decoder, "head_size", path, minimum=1, what=dw)
        hidden = opt_int(decoder, "hidden_size", path, minimum=1, what=dw)
        heads = opt_int(decoder, "num_attention_heads", path, minimum=1, what=dw)
        kv_heads = opt_int(decoder, "num_key_value_heads", path, minimum=1, what=dw)
        layers = opt_int(decoder, "num_hidden_layers", path, minimum=1, what=dw)
        inputs = opt_dict(decoder, "inputs", path, what=dw) or {}
        outputs = opt_dict(decoder, "outputs", path, what=dw) or {}
        iw, ow = f"{dw}.inputs", f"{dw}.outputs"
        past_key = opt_str(inputs, "past_key_names", path, what=iw) or "past_key_values.%d.key"
        past_value = (
            opt_str(inputs, "past_value_names", path, what=iw) or "past_key_values.%d.value"
        )
        past_combined = opt_str(inputs, "past_names", path, what=iw)
        input_ids = opt_str(inputs, "input_ids", path, what=iw) or "input_ids"
        logits = opt_str(outputs, "logits", path, what=ow) or "logits"
        session: list[tuple[str, str]] = []
        session_cfg = opt_dict(decoder, "session_options", path, what=dw)
        if session_cfg:
            flatten_session_options("", session_cfg, session)
        sw = opt_dict(decoder, "sliding_window", path, what=dw) or {}
        window = opt_int(sw, "window_size", path, minimum=1, what=f"{dw}.sliding_window")
        window_raw = sw.get("layers")
        window_layers: tuple[int, ...] | None = None
        if isinstance(window_raw, list) and all(
            isinstance(x, int) and not isinstance(x, bool) and 0 <= x < MAX_DIM for x in window_raw
        ):
            window_layers = tuple(window_raw)
        elif window_raw is not None:
            raise ArtifactFormatError(
                f"{dw}.sliding_window.layers must be a list of layer indices", path=str(path)
            )
        search = opt_dict(cfg, "search", path, what=w) or {}
        sw_what = f"{w} search"
        return cls(
            path=path,
            type=type_,
            vocab=vocab,
            context=context,
            head_size=head_size,
            hidden=hidden,
            heads=heads,
            kv_heads=kv_heads,
            layers=layers,
            past_key=past_key,
            past_value=past_value,
            past_combined=past_combined,
            input_ids=input_ids,
            logits=logits,
            session=tuple(session),
            window=window,
            window_layers=window_layers,
            max_length=opt_int(search, "max_length", path, what=sw_what),
            share_buffer=opt_bool(search, "past_present_share_buffer", path, what=sw_what),
            num_beams=opt_int(search, "num_beams", path, minimum=1, what=sw_what),
        )


@dataclass(frozen=True, slots=True)
class HfConfig:
    """The few config.json keys an Optimum export folder can add."""

    path: Path
    type: str | None
    layers: int | None
    hidden: int | None
    heads: int | None
    kv_heads: int | None
    head_dim: int | None
    intermediate: int | None
    vocab: int | None
    context: int | None
    tie: bool | None
    window: int | None
    layer_types: tuple[str, ...] | None
    use_window: bool | None

    @classmethod
    def parse(cls, cfg: dict[str, Any], path: Path) -> HfConfig:
        """Check and convert the parsed JSON of ``path`` (a multimodal ``text_config`` wins)."""
        w = "config.json"
        text = cfg.get("text_config")
        if isinstance(text, dict) and "num_hidden_layers" in text:
            cfg = {**cfg, **text}
        tie = cfg.get("tie_word_embeddings")
        types = cfg.get("layer_types")
        use = cfg.get("use_sliding_window")
        return cls(
            path=path,
            type=opt_str(cfg, "model_type", path, what=w),
            layers=opt_int(cfg, "num_hidden_layers", path, minimum=1, what=w),
            hidden=opt_int(cfg, "hidden_size", path, minimum=1, what=w),
            heads=opt_int(cfg, "num_attention_heads", path, minimum=1, what=w),
            kv_heads=opt_int(cfg, "num_key_value_heads", path, minimum=1, what=w),
            head_dim=opt_int(cfg, "head_dim", path, minimum=1, what=w),
            intermediate=opt_int(cfg, "intermediate_size", path, minimum=1, what=w),
            vocab=opt_int(cfg, "vocab_size", path, minimum=1, what=w),
            context=opt_int(cfg, "max_position_embeddings", path, minimum=1, what=w),
            tie=tie if isinstance(tie, bool) else None,
            window=opt_int(cfg, "sliding_window", path, minimum=1, what=w),
            layer_types=(
                tuple(str(t) for t in types)
                if isinstance(types, list) and len(types) < MAX_DIM
                else None
            ),
            use_window=use if isinstance(use, bool) else None,
        )
