"""The onnxruntime-genai builder's tied fp32 layout: Gather(Transpose(lm_head weight [h, vocab])).

Seen in real builder output (qwen3 with tie_word_embeddings, -p fp32, onnxruntime-genai
0.18.0): there is no separate embedding table; the token embedding is the transposed lm_head
weight. The adapter must read hidden/vocab the right way round and call the model tied.
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import helper

from planner.runtimes import estimate
from planner.settings import Runtime, RuntimeSettings
from planner_adapters.onnx_adapter import OnnxAdapter
from tests.onnx_factory import GenaiOptions, ModelConfig, build_genai


def _make_tied(folder: Path, cfg: ModelConfig) -> None:
    build_genai(folder, cfg, GenaiOptions(precision="fp32"))
    path = folder / "model.onnx"
    model = onnx.load(str(path), load_external_data=False)
    g = model.graph
    gather = next(n for n in g.node if n.op_type == "Gather" and "input_ids" in n.input)
    old_table = gather.input[0]
    lm_w = next(n for n in g.node if n.name == "/lm_head/MatMul").input[1]
    g.node.insert(
        0,
        helper.make_node(
            "Transpose",
            [lm_w],
            ["/model/embed_tokens/Transpose/output_0"],
            "/model/embed_tokens/Transpose",
            perm=[1, 0],
        ),
    )
    gather.input[0] = "/model/embed_tokens/Transpose/output_0"
    keep = [t for t in g.initializer if t.name != old_table]
    del g.initializer[:]
    g.initializer.extend(keep)
    onnx.save(model, str(path))


def test_tied_fp32_reads_hidden_and_vocab_from_transposed_lm_head(tmp_path: Path) -> None:
    cfg = ModelConfig(
        layers=2,
        hidden=64,
        heads=4,
        kv_heads=2,
        head_dim=16,
        intermediate=128,
        vocab=300,
        context=128,
    )
    _make_tied(tmp_path, cfg)
    spec = OnnxAdapter().read(tmp_path)
    assert spec.hidden_size == 64
    assert spec.vocab_size == 300
    assert spec.tie_word_embeddings is True
    assert spec.weights is not None
    assert spec.weights.embedding_bytes == 64 * 300 * 4
    # onnxruntime folds the Transpose into a heap copy at session creation: it is budgeted.
    b = estimate(spec, RuntimeSettings(Runtime.ONNXRUNTIME, context=128, prefill=16))
    copy = next(c for c in b.components if c.label.startswith("tied embedding copy"))
    assert copy.bytes == 64 * 300 * 4 and copy.dirty
