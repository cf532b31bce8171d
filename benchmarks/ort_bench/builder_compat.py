"""Run the onnxruntime-genai model builder with one compatibility fix for transformers 5 configs.

    python benchmarks/ort_bench/builder_compat.py -i <hf_dir> -o <out> -p int4 -e cpu ...

Same command line as ``python -m onnxruntime_genai.models.builder``. The only change: transformers 5
stores Gemma-3's RoPE settings per layer type (``rope_parameters = {"full_attention": {...},
"sliding_attention": {...}}``), while the 0.18.0 builder's ``Model.make_rope_init`` expects the flat
form (``rope_parameters["rope_type"]``) and fails with ``KeyError: 'rope_type'``. Before the builder
reads the config we flatten it the way transformers 4 wrote Gemma-3 configs: the full-attention
parameters become ``rope_parameters`` / ``rope_theta`` and the sliding-attention theta becomes
``rope_local_base_freq``. Nothing else is touched; configs without the nested form pass unchanged.
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
        print("builder_compat: flattened nested rope_parameters "
              f"(theta {config.rope_theta}, local theta {getattr(config, 'rope_local_base_freq', None)})")
    return _original(self, config)


base.Model.make_config_init = _flatten_nested_rope

if __name__ == "__main__":
    sys.argv[0] = "builder"
    runpy.run_module("onnxruntime_genai.models.builder", run_name="__main__", alter_sys=True)
