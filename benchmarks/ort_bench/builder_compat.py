"""Run the onnxruntime-genai model builder with two compatibility fixes (Gemma-3 config, SmolLM3 NoPE).

    python benchmarks/ort_bench/builder_compat.py -i <hf_dir> -o <out> -p int4 -e cpu ...

Same command line as ``python -m onnxruntime_genai.models.builder``. The only change: transformers 5
stores Gemma-3's RoPE settings per layer type (``rope_parameters = {"full_attention": {...},
"sliding_attention": {...}}``), while the 0.18.0 builder's ``Model.make_rope_init`` expects the flat
form (``rope_parameters["rope_type"]``) and fails with ``KeyError: 'rope_type'``. Before the builder
reads the config we flatten it the way transformers 4 wrote Gemma-3 configs: the full-attention
parameters become ``rope_parameters`` / ``rope_theta`` and the sliding-attention theta becomes
``rope_local_base_freq``. Nothing else is touched; configs without the nested form pass unchanged.

Second fix: SmolLM3 skips RoPE in every 4th layer (``no_rope_layers[i] == 0``). The 0.18.0
``SmolLM3Model.make_attention`` marks such a layer "RoPE not fused into attention" instead of "no
RoPE", so the base builder tries to emit a separate RotaryEmbedding fed by ``position_ids`` — an
input it already removed because RoPE is fused on CPU — and fails with ``KeyError: 'position_ids'``.
For NoPE layers we additionally switch ``attention_attrs["rope"]`` off while that layer is built, so
the layer gets a GroupQueryAttention without rotary (what the HF model computes); RoPE layers are
untouched.

``build_models_v2.py`` uses this wrapper only for the models that need it (``Model.compat``).
"""

from __future__ import annotations

import runpy
import sys

import onnxruntime_genai.models  # noqa: F401  (puts the builder's folder on sys.path)
from builders import base  # type: ignore[import-not-found]

_original = base.Model.make_config_init


def _flatten_nested_rope(self, config):  # type: ignore[no-untyped-def]
    params = getattr(config, "rope_parameters", None)
    if isinstance(params, dict) and "rope_type" not in params and "full_attention" in params:
        full = dict(params["full_attention"])
        local = params.get("sliding_attention", {})
        config.rope_parameters = full
        config.rope_theta = full.get("rope_theta", 10000.0)
        if "rope_theta" in local and getattr(config, "rope_local_base_freq", None) is None:
            config.rope_local_base_freq = local["rope_theta"]
        print(
            "builder_compat: flattened nested rope_parameters "
            f"(theta {config.rope_theta}, local theta {getattr(config, 'rope_local_base_freq', None)})"
        )
    return _original(self, config)


base.Model.make_config_init = _flatten_nested_rope

from builders import smollm  # type: ignore[import-not-found]  # noqa: E402

_smol_make_attention = smollm.SmolLM3Model.make_attention


def _smol_attention(self, layer_id, attention, root_input, **kwargs):  # type: ignore[no-untyped-def]
    if self.no_rope_layers[layer_id]:
        return _smol_make_attention(self, layer_id, attention, root_input, **kwargs)
    rope = self.attention_attrs["rope"]
    self.attention_attrs["rope"] = False  # NoPE layer: no rotary at all
    try:
        return _smol_make_attention(self, layer_id, attention, root_input, **kwargs)
    finally:
        self.attention_attrs["rope"] = rope


smollm.SmolLM3Model.make_attention = _smol_attention

if __name__ == "__main__":
    sys.argv[0] = "builder"
    runpy.run_module("onnxruntime_genai.models.builder", run_name="__main__", alter_sys=True)
