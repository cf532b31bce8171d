"""Build random-weight LFM2-MoE models with the onnxruntime-genai builder (a family planner had
never been run against).

The v2 set (``build_models_v2.py``) covers the builder's dense CPU families. Of its MoE families,
only ``Lfm2MoeForCausalLM`` builds from a random checkpoint offline here: GPT-OSS needs the
original MXFP4 expert tensors, PhiMoE's config path is not reached with transformers 5's
``rope_parameters``, GraniteMoeHybrid's Mamba layers fail in the builder, and Qwen3.5 builds but
its text decoder does not run on CPU (3-D position ids into RotaryEmbedding). The LFM2-MoE
graph runs its experts through onnxruntime's ``MoE`` (fp32) and ``QMoE`` (int4 / int8) CPU
kernels beside LFM2's short-convolution blocks.

Split, fixed before any of these was measured: ``fit`` are the three models traced and measured
while the convolution rule was extended to this family (``lfm2moe``, ``lfm2moe-m2``,
``lfm2moe-m3``); ``holdout`` are two shapes nobody looked at until that change was committed
(``lfm2moe-b``: wider, 8 experts, two dense layers; ``lfm2moe-c``: 16 experts, top-4, int8 too).
``holdout-2`` (``lfm2moe-d``: hidden 1024, vocabulary 65536; ``lfm2moe-e``: 12 experts, top-3,
hidden 384) was added when the first holdout had been looked at.

    export BENCH_WORK=/work/bench-work
    $BENCH_WORK/venv-ort132/bin/python benchmarks/ort_bench/build_moe.py [--only ID ...]

Writes ``$BENCH_WORK/models_moe/{hf,onnx}/``; reuses ``build_models_v2``'s checkpoint, tokenizer
and builder helpers (same seeds: ``zlib.crc32(model_id)``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_models_v2 as v2  # noqa: E402  (a sibling script, not a package)
from build_models_v2 import FP32, INT4, INT8, Build, Model  # noqa: E402

v2.ROOT = Path(os.environ.get("BENCH_WORK", HERE.parents[1] / "bench-work")) / "models_moe"


def _lfm2moe(
    model_id: str,
    hidden: int,
    dense_intermediate: int,
    moe_intermediate: int,
    layer_types: list[str],
    heads: int,
    kv_heads: int,
    experts: int,
    top_k: int,
    dense_layers: int,
    builds: tuple[Build, ...],
    vocab: int = 32000,
) -> Model:
    return Model(
        model_id,
        "moe",
        "Lfm2MoeForCausalLM",
        "lfm2_moe",
        {
            "hidden_size": hidden,
            "intermediate_size": dense_intermediate,
            "moe_intermediate_size": moe_intermediate,
            "num_hidden_layers": len(layer_types),
            "num_attention_heads": heads,
            "num_key_value_heads": kv_heads,
            "vocab_size": vocab,
            "num_experts": experts,
            "num_experts_per_tok": top_k,
            "num_dense_layers": dense_layers,
            "layer_types": layer_types,
        },
        builds,
    )


CONV, ATTN = "conv", "full_attention"
MODELS: tuple[Model, ...] = (
    _lfm2moe("lfm2moe", 512, 1024, 256, [CONV, ATTN] * 2, 8, 4, 4, 2, 1, (FP32, INT4)),
    _lfm2moe("lfm2moe-m2", 640, 1280, 192, [CONV, ATTN] * 2, 10, 2, 6, 3, 1, (FP32, INT4)),
    _lfm2moe("lfm2moe-m3", 512, 1024, 320, [CONV, ATTN] * 2, 8, 4, 3, 1, 1, (FP32, INT4)),
    _lfm2moe("lfm2moe-b", 768, 2048, 384, [CONV, CONV, ATTN] * 2, 12, 4, 8, 2, 2, (FP32, INT4)),
    _lfm2moe(
        "lfm2moe-c",
        512,
        1536,
        512,
        [CONV, ATTN, CONV, CONV, ATTN, CONV],
        8,
        2,
        16,
        4,
        1,
        (FP32, INT4, INT8),
    ),
    # A second holdout, fixed when QMoE's packing at load was added (after the first holdout
    # had been measured and looked at): measured only once that change was committed.
    _lfm2moe(
        "lfm2moe-d",
        1024,
        2816,
        512,
        [CONV, CONV, ATTN, CONV, ATTN, CONV, CONV, ATTN],
        16,
        8,
        8,
        2,
        1,
        (FP32, INT4, INT8),
        vocab=65536,
    ),
    _lfm2moe("lfm2moe-e", 384, 1024, 192, [ATTN, CONV] * 3, 6, 2, 12, 3, 2, (INT4, INT8)),
)
SPLIT = {
    "lfm2moe": "fit",
    "lfm2moe-m2": "fit",
    "lfm2moe-m3": "fit",
    "lfm2moe-d": "holdout-2",
    "lfm2moe-e": "holdout-2",
}
"""Everything else is ``holdout`` (measured once, then looked at: QMoE's packing was found in
those runs, so it is validated on ``holdout-2``)."""


def split_of(model_id: str) -> str:
    return SPLIT.get(model_id, "holdout")


def build_split(build_id: str) -> str:
    """A build's split: its model's (the longest model id the build id starts with)."""
    ids = [m.model_id for m in MODELS if build_id.startswith(m.model_id + "-")]
    return split_of(max(ids, key=len) if ids else build_id)


def main() -> int:
    return v2.build_set_cli(MODELS, split_of, __doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
