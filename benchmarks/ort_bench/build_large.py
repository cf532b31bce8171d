"""Build two larger random-weight models (0.85 B parameters) with the onnxruntime-genai
builder: larger than any v2 build (the largest, gemma3-wide, has 0.38 B parameters; llama-wide
has llama-2k's width at 4 layers), measured only after the onnxruntime model's last change was
committed (nothing here was fitted).

* ``llama-2k``: Llama, hidden 2048, 16 layers, 32 heads / 8 KV heads, intermediate 5632,
  vocabulary 32000, untied — fp32, int4 and int8 with accuracy level 1;
* ``qwen3-1k5``: Qwen3, hidden 1536, 20 layers, 16 heads / 8 KV heads, head_dim 128,
  intermediate 4608, vocabulary 151936, tied (Qwen3's q/k norms) — int4 and int8 with accuracy
  level 1.

The int8 accuracy-level-1 builds (added later, with their estimates committed before they were
measured) are the non-prepacked path at sizes the v2 set lacks: llama-2k's MLP dequantization
buffers (44 MiB) lie above glibc's largest dynamic mmap threshold (32 MiB), qwen3-1k5's (27 MiB)
below it.

    export BENCH_WORK=/work/bench-work
    $BENCH_WORK/venv-ort132/bin/python benchmarks/ort_bench/build_large.py [--only ID ...]

Writes ``$BENCH_WORK/models_large/{hf,onnx}/`` with ``build_models_v2``'s helpers (same seeds:
``zlib.crc32(model_id)``). About 11 GB of disk.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build_models_v2 as v2  # noqa: E402  (a sibling script, not a package)
from build_models_v2 import FP32, INT4, INT8_ACC1, Model  # noqa: E402

v2.ROOT = Path(os.environ.get("BENCH_WORK", HERE.parents[1] / "bench-work")) / "models_large"

MODELS: tuple[Model, ...] = (
    Model(
        "llama-2k",
        "llama",
        "LlamaForCausalLM",
        "llama",
        {
            "hidden_size": 2048,
            "intermediate_size": 5632,
            "num_hidden_layers": 16,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "vocab_size": 32000,
            "tie_word_embeddings": False,
        },
        (FP32, INT4, INT8_ACC1),
    ),
    Model(
        "qwen3-1k5",
        "qwen",
        "Qwen3ForCausalLM",
        "qwen3",
        {
            "hidden_size": 1536,
            "intermediate_size": 4608,
            "num_hidden_layers": 20,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "vocab_size": 151936,
            "tie_word_embeddings": True,
        },
        (INT4, INT8_ACC1),
    ),
)


def split_of(model_id: str) -> str:
    """All of it is measured after the model was frozen."""
    return "unseen-large"


def build_split(build_id: str) -> str:
    """A build's split: the int8 accuracy-level-1 builds were measured after the per-call
    dequantization rule they test was committed, a later set of their own."""
    return "unseen-large-int8-acc1" if build_id.endswith("-int8-acc1") else "unseen-large"


def main() -> int:
    return v2.build_set_cli(MODELS, split_of, __doc__.splitlines()[0])


if __name__ == "__main__":
    sys.exit(main())
