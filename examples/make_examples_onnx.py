"""Generate the bundled ONNX example: ``examples/onnx-genai-tiny-llama/``.

A tiny Llama-style model in the onnxruntime-genai builder's layout (int4 MatMulNBits,
block 32, GroupQueryAttention, ``model.onnx.data`` external weights, ``genai_config.json``),
with seeded random weights, so the output is reproducible. It runs in onnxruntime (CPU EP)
and is what the docs and tests point ``planner`` at. The builders live in
``tests/onnx_factory.py`` (shared with the tests and the benchmark).

Usage: ``python examples/make_examples_onnx.py``
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.onnx_factory import GenaiOptions, ModelConfig, build_genai  # noqa: E402

EXAMPLE = ROOT / "examples" / "onnx-genai-tiny-llama"
CONFIG = ModelConfig(
    layers=2,
    hidden=128,
    heads=4,
    kv_heads=2,
    head_dim=32,
    intermediate=256,
    vocab=512,
    context=256,
    model_type="llama",
)
OPTIONS = GenaiOptions(precision="int4", block_size=32, accuracy_level=4, seed=20261121)
README = """\
# onnx-genai-tiny-llama

A tiny random-weight Llama in the onnxruntime-genai model builder's layout (int4
`MatMulNBits`, block 32, `GroupQueryAttention` with packed QKV, KV cache inputs
`past_key_values.{i}.key` with the symbolic head dim `kv_cache_dim`, all weights in
`model.onnx.data`, and a `genai_config.json` in the builder's format).

Dimensions: 2 layers, hidden 128, 4 heads, 2 KV heads, head size 32, MLP 256,
vocabulary 512, context 256. The weights are random, so its output is meaningless; it is
here to show what planner reads. Regenerate it with `python examples/make_examples_onnx.py`.
"""


def main() -> None:
    """(Re)write the example folder."""
    if EXAMPLE.exists():
        shutil.rmtree(EXAMPLE)
    built = build_genai(EXAMPLE, CONFIG, OPTIONS)
    (EXAMPLE / "README.md").write_text(README)
    total = sum(p.stat().st_size for p in EXAMPLE.iterdir())
    print(
        f"wrote {EXAMPLE.relative_to(ROOT)}: {built.tensor_count} tensors, "
        f"{built.total_bytes} weight bytes, {total} bytes on disk"
    )


if __name__ == "__main__":
    main()
