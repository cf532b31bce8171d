"""Tests of the ONNX adapter on real artifacts built by ``onnx_factory``.

Every layout is compared with what the factory built, field by field; the safety tests
hand the adapter hostile artifacts (escaping paths, FIFOs, truncated data, random bytes,
absurd dims) and expect a one-line planner error, never a traceback or a hang.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto

from planner.errors import (
    ArtifactFormatError,
    InputError,
    PlannerError,
    UnsafeArtifactError,
)
from planner.registry import choose
from planner.spec import ModelSpec, Origin
from planner_adapters.onnx_adapter import OnnxAdapter
from tests import onnx_factory as fac

ADAPTER = OnnxAdapter()
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "onnx-genai-tiny-llama"


def read(path: Path) -> ModelSpec:
    return ADAPTER.read(path)


def assert_matches(spec: ModelSpec, exp: fac.Expected) -> None:
    """The spec equals what the factory built, field by field."""
    cfg = exp.config
    assert spec.adapter == "onnx"
    assert spec.format == exp.format
    assert spec.num_layers == cfg.layers
    assert spec.hidden_size == cfg.hidden
    assert spec.num_attention_heads == cfg.heads
    assert spec.num_kv_heads == cfg.kv_heads
    assert spec.head_dim == cfg.head_dim
    assert spec.intermediate_size == cfg.intermediate
    assert spec.vocab_size == cfg.vocab
    assert spec.tie_word_embeddings == exp.tied
    assert spec.kv_dtype == exp.kv_dtype
    assert spec.kv_input_names == exp.kv_input_names
    w = spec.weights
    assert w is not None
    assert w.tensor_count == exp.tensor_count
    assert w.total_bytes == exp.total_bytes
    assert w.external_bytes == exp.external_bytes
    assert w.embedded_bytes == exp.embedded_bytes
    assert w.param_count == exp.param_count
    assert dict(w.bytes_by_dtype) == exp.bytes_by_dtype
    assert w.matmul_bytes == exp.matmul_bytes
    assert w.embedding_bytes == exp.embedding_bytes
    assert w.lm_head_bytes == exp.lm_head_bytes
    q = spec.quantization
    assert q.scheme == exp.scheme
    assert q.bits == exp.bits
    assert q.group_size == exp.group_size
    assert q.symmetric == exp.symmetric
    assert q.compute_dtype == exp.compute_dtype
    assert q.unquantized == exp.unquantized
    windows = cfg.local_windows
    assert spec.layer_windows == (windows if any(x is not None for x in windows) else ())
    if exp.data_path is not None:  # the sum the adapter reports is what the data file holds
        assert w.external_bytes == exp.data_path.stat().st_size


SPEC_FIELDS = (
    "architecture",
    "num_layers",
    "hidden_size",
    "num_attention_heads",
    "num_kv_heads",
    "head_dim",
    "intermediate_size",
    "vocab_size",
    "tie_word_embeddings",
    "max_context",
    "weights",
    "quantization",
    "kv_dtype",
    "layer_windows",
    "format",
    "name",
)


def assert_provenance_complete(spec: ModelSpec) -> None:
    for name in SPEC_FIELDS:
        assert spec.source_of(name) is not None, f"no provenance for {name}"


# --------------------------------------------------------------------------- genai layout

GENAI_CASES = {
    "int4": (fac.ModelConfig(), fac.GenaiOptions()),
    "int8": (fac.ModelConfig(), fac.GenaiOptions(precision="int8")),
    "int4-bs128-asym": (
        fac.ModelConfig(hidden=256, heads=8, kv_heads=4, head_dim=32, intermediate=384),
        fac.GenaiOptions(block_size=128, symmetric=False, accuracy_level=1),
    ),
    "fp32": (fac.ModelConfig(), fac.GenaiOptions(precision="fp32")),
    "fp16-cuda": (
        fac.ModelConfig(),
        fac.GenaiOptions(precision="fp16", provider="cuda", accuracy_level=None),
    ),
    "int4-shared-emb": (fac.ModelConfig(vocab=320), fac.GenaiOptions(shared_embeddings=True)),
    "int8-shared-asym": (
        fac.ModelConfig(),
        fac.GenaiOptions(precision="int8", shared_embeddings=True, symmetric=False),
    ),
    "concrete-kv-dim": (fac.ModelConfig(layers=3), fac.GenaiOptions(symbolic_kv_dim=False)),
    "windows": (fac.ModelConfig(layers=4, local_windows=(16, None, 16, None)), fac.GenaiOptions()),
    "mha": (fac.ModelConfig(heads=4, kv_heads=4), fac.GenaiOptions()),
}


@pytest.mark.parametrize("case", sorted(GENAI_CASES))
def test_genai_layout_field_by_field(tmp_path: Path, case: str) -> None:
    cfg, opt = GENAI_CASES[case]
    exp = fac.build_genai(tmp_path / case, cfg, opt)
    spec = read(tmp_path / case)
    assert_matches(spec, exp)
    assert_provenance_complete(spec)
    assert spec.architecture == "llama"
    assert spec.max_context == cfg.context
    assert spec.settings.max_length == cfg.context
    assert spec.settings.past_present_share_buffer is opt.past_present_share_buffer
    assert spec.notes == ()
    assert spec.name == case
    src = spec.source_of("head_dim")
    assert src is not None and src.origin is Origin.ARTIFACT
    if opt.symbolic_kv_dim:  # the graph says "kv_cache_dim": the config's head_size decides
        assert "head_size" in src.detail and "kv_cache_dim" in src.detail
    else:
        assert "dim 3" in src.detail


def test_genai_quant_details(tmp_path: Path) -> None:
    cfg, opt = GENAI_CASES["int4-bs128-asym"]
    fac.build_genai(tmp_path / "m", cfg, opt)
    q = read(tmp_path / "m").quantization
    details = dict(q.details)
    assert details["op"] == "MatMulNBits"
    assert details["accuracy_level"] == "1"
    shared = read_built(tmp_path / "s", *GENAI_CASES["int4-shared-emb"]).quantization
    assert "GatherBlockQuantized" in dict(shared.details)["embedding"]


def read_built(folder: Path, cfg: fac.ModelConfig, opt: fac.GenaiOptions) -> ModelSpec:
    fac.build_genai(folder, cfg, opt)
    return read(folder)


def test_genai_param_count_uses_k_times_n_not_packed_dims(tmp_path: Path) -> None:
    cfg = fac.ModelConfig()
    int4 = read_built(tmp_path / "a", cfg, fac.GenaiOptions())
    fp32 = read_built(tmp_path / "b", cfg, fac.GenaiOptions(precision="fp32"))
    assert int4.weights is not None and fp32.weights is not None
    # Same model, two storages: the parameter count is the same, the bytes are not.
    assert int4.weights.param_count == fp32.weights.param_count
    assert int4.weights.total_bytes < fp32.weights.total_bytes / 2
    h, v, i, kvh, hd, heads = (
        cfg.hidden,
        cfg.vocab,
        cfg.intermediate,
        cfg.kv_heads,
        cfg.head_dim,
        cfg.heads,
    )
    per_layer = h * (heads + 2 * kvh) * hd + heads * hd * h + 3 * h * i + 2 * h
    assert fp32.weights.param_count == cfg.layers * per_layer + 2 * v * h + h


def test_genai_session_options_flattened(tmp_path: Path) -> None:
    exp = fac.build_genai(
        tmp_path / "m",
        fac.ModelConfig(),
        fac.GenaiOptions(precision="fp16", provider="cuda", max_length=64),
    )
    cfg_path = tmp_path / "m" / "genai_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["model"]["decoder"]["session_options"]["config_entries"] = {
        "session.disable_prepacking": "1"
    }
    cfg["model"]["decoder"]["session_options"]["enable_cpu_mem_arena"] = False
    cfg_path.write_text(json.dumps(cfg))
    spec = read(exp.folder)
    opts = dict(spec.settings.session_options)
    assert opts["provider_options.cuda.enable_cuda_graph"] == "0"
    assert opts["session.disable_prepacking"] == "1"
    assert opts["enable_cpu_mem_arena"] == "false"
    assert opts["log_id"] == "onnxruntime-genai"
    assert spec.settings.max_length == 64
    assert spec.kv_dtype == "float16"


def test_genai_max_length_zero_means_context_length(tmp_path: Path) -> None:
    exp = fac.build_genai(tmp_path / "m", fac.ModelConfig(context=96), fac.GenaiOptions())
    edit_genai(exp.folder, lambda c: c["search"].__setitem__("max_length", 0))
    spec = read(exp.folder)
    assert spec.settings.max_length == 96
    src = spec.source_of("settings.max_length")
    assert src is not None and src.origin is Origin.DERIVED


def test_graph_only_inference_without_config(tmp_path: Path) -> None:
    """No genai_config.json: layers, KV heads and head dim come from the graph itself."""
    cfg = fac.ModelConfig(layers=3, hidden=96, heads=6, kv_heads=2, head_dim=16, vocab=300)
    exp = fac.build_genai(tmp_path / "m", cfg, fac.GenaiOptions(write_config=False))
    spec = read(exp.model_path)
    exp.format = "onnx"
    assert_matches(spec, exp)
    assert_provenance_complete(spec)
    assert spec.architecture == "unknown"
    assert spec.source_of("architecture").origin is Origin.ASSUMED  # type: ignore[union-attr]
    hd = spec.source_of("head_dim")
    assert hd is not None and hd.origin is Origin.DERIVED and "packed QKV" in hd.detail
    assert spec.max_context == cfg.context  # cos_cache rows
    assert "cos_cache" in spec.source_of("max_context").detail  # type: ignore[union-attr]
    assert spec.settings.max_length is None
    assert spec.name == "model"


def test_file_inside_genai_folder_uses_its_config(tmp_path: Path) -> None:
    exp = fac.build_genai(tmp_path / "m", fac.ModelConfig(), fac.GenaiOptions())
    spec = read(exp.model_path)
    assert spec.format == "onnx-genai" and spec.settings.max_length is not None
    assert spec.name == "m"


def test_genai_custom_decoder_filename(tmp_path: Path) -> None:
    exp = fac.build_genai(tmp_path / "m", fac.ModelConfig(), fac.GenaiOptions())
    (exp.folder / "model.onnx").rename(exp.folder / "decoder.onnx")
    edit_genai(exp.folder, lambda c: c["model"]["decoder"].__setitem__("filename", "decoder.onnx"))
    spec = read(exp.folder)
    assert dict(spec.extra)["model_file"] == "decoder.onnx"
    assert_matches(spec, exp)


def test_config_only_genai_package(tmp_path: Path) -> None:
    cfg = fac.ModelConfig(layers=5, kv_heads=2, head_dim=16)
    folder = tmp_path / "cfg"
    folder.mkdir()
    (folder / "genai_config.json").write_text(json.dumps(fac.genai_config(cfg, fac.GenaiOptions())))
    spec = read(folder)
    assert spec.weights is None
    assert (spec.num_layers, spec.num_kv_heads, spec.head_dim) == (5, 2, 16)
    assert spec.notes and "config-only" in spec.notes[0]


# --------------------------------------------------------------------------- config vs graph


def edit_genai(folder: Path, change: Any) -> None:
    path = folder / "genai_config.json"
    cfg = json.loads(path.read_text())
    change(cfg)
    path.write_text(json.dumps(cfg))


def test_config_graph_mismatch_becomes_note(tmp_path: Path) -> None:
    exp = fac.build_genai(tmp_path / "m", fac.ModelConfig(), fac.GenaiOptions())

    def change(c: dict[str, Any]) -> None:
        c["model"]["decoder"]["num_key_value_heads"] = 4
        c["model"]["decoder"]["num_attention_heads"] = 8
        c["model"]["vocab_size"] = 999

    edit_genai(exp.folder, change)
    spec = read(exp.folder)
    assert spec.num_kv_heads == exp.config.kv_heads  # concrete KV dims win, as in the runtime
    assert spec.num_attention_heads == exp.config.heads
    assert spec.vocab_size == exp.config.vocab
    text = " ".join(spec.notes)
    assert "num_key_value_heads=4" in text and "num_attention_heads=8" in text
    assert "vocab_size=999" in text


def test_wrong_head_size_with_symbolic_kv_dim_is_an_error(tmp_path: Path) -> None:
    exp = fac.build_genai(tmp_path / "m", fac.ModelConfig(), fac.GenaiOptions())
    edit_genai(exp.folder, lambda c: c["model"]["decoder"].__setitem__("head_size", 32))
    with pytest.raises(ArtifactFormatError, match=r"head_dim=32 .*head_size.* packed QKV"):
        read(exp.folder)


def test_missing_head_size_with_symbolic_kv_dim_is_derived(tmp_path: Path) -> None:
    exp = fac.build_genai(tmp_path / "m", fac.ModelConfig(), fac.GenaiOptions())
    edit_genai(exp.folder, lambda c: c["model"]["decoder"].pop("head_size"))
    spec = read(exp.folder)
    assert spec.head_dim == exp.config.head_dim
    assert spec.source_of("head_dim").origin is Origin.DERIVED  # type: ignore[union-attr]


def test_cos_cache_shorter_than_context_is_noted(tmp_path: Path) -> None:
    exp = fac.build_genai(tmp_path / "m", fac.ModelConfig(context=64), fac.GenaiOptions())
    edit_genai(exp.folder, lambda c: c["model"].__setitem__("context_length", 4096))
    spec = read(exp.folder)
    assert spec.max_context == 4096
    assert any("cos_cache has 64 rows" in n for n in spec.notes)


def test_genai_config_type_errors(tmp_path: Path) -> None:
    exp = fac.build_genai(tmp_path / "m", fac.ModelConfig(), fac.GenaiOptions())
    edit_genai(exp.folder, lambda c: c["model"]["decoder"].__setitem__("head_size", "64"))
    with pytest.raises(ArtifactFormatError, match="head_size"):
        read(exp.folder)
    edit_genai(exp.folder, lambda c: c["model"]["decoder"].__setitem__("head_size", 16))
    edit_genai(
        exp.folder,
        lambda c: c["model"]["decoder"]["inputs"].__setitem__("past_key_names", "past.key"),
    )
    with pytest.raises(ArtifactFormatError, match="%d"):
        read(exp.folder)


# --------------------------------------------------------------------------- Optimum layout

OPTIMUM_CASES = {
    "embedded": (fac.ModelConfig(), fac.OptimumOptions()),
    "external": (fac.ModelConfig(), fac.OptimumOptions(external_data=True)),
    "external-tied": (fac.ModelConfig(), fac.OptimumOptions(external_data=True, tied=True)),
    "merged": (
        fac.ModelConfig(layers=3),
        fac.OptimumOptions(filename="decoder_model_merged.onnx", merged=True),
    ),
    "mha": (fac.ModelConfig(kv_heads=4), fac.OptimumOptions()),
    "legacy-decoder": (fac.ModelConfig(), fac.OptimumOptions(filename="decoder_model.onnx")),
}


@pytest.mark.parametrize("case", sorted(OPTIMUM_CASES))
def test_optimum_layout_field_by_field(tmp_path: Path, case: str) -> None:
    cfg, opt = OPTIMUM_CASES[case]
    exp = fac.build_optimum(tmp_path / case, cfg, opt)
    spec = read(tmp_path / case)
    assert_matches(spec, exp)
    assert_provenance_complete(spec)
    assert spec.architecture == "llama"
    assert spec.max_context == cfg.context
    assert spec.notes == ()
    assert dict(spec.extra)["model_file"] == opt.filename
    if opt.external_data:
        assert 0 < spec.weights.embedded_bytes < spec.weights.external_bytes  # type: ignore
        assert dict(spec.extra)[f"external_data:{opt.filename}_data"]


def test_optimum_without_config_json(tmp_path: Path) -> None:
    cfg = fac.ModelConfig(layers=3, hidden=48, heads=3, kv_heads=1, head_dim=16)
    exp = fac.build_optimum(tmp_path / "m", cfg, fac.OptimumOptions(write_config=False))
    spec = read(tmp_path / "m")
    assert_matches(spec, exp)
    assert spec.architecture == "unknown"
    heads = spec.source_of("num_attention_heads")
    assert heads is not None and heads.origin is Origin.DERIVED and "q_proj" in heads.detail
    assert spec.max_context is None
    assert spec.source_of("max_context").origin is Origin.ASSUMED  # type: ignore[union-attr]


def test_optimum_config_json_mismatch_noted(tmp_path: Path) -> None:
    exp = fac.build_optimum(tmp_path / "m", fac.ModelConfig(), fac.OptimumOptions())
    path = tmp_path / "m" / "config.json"
    cfg = json.loads(path.read_text())
    cfg["intermediate_size"] = 9999
    cfg["tie_word_embeddings"] = True
    path.write_text(json.dumps(cfg))
    spec = read(exp.folder)
    assert spec.intermediate_size == exp.config.intermediate
    text = " ".join(spec.notes)
    assert "intermediate_size=9999" in text and "tie_word_embeddings=true" in text


def test_qdq_int8_weights(tmp_path: Path) -> None:
    """A QDQ model: int8 initializers through DequantizeLinear into MatMul."""
    exp = fac.build_optimum(tmp_path / "m", fac.ModelConfig(), fac.OptimumOptions())
    model = onnx.load(str(exp.model_path))
    inits = {t.name: t for t in model.graph.initializer}
    new_nodes = []
    for node in model.graph.node:
        if node.op_type == "MatMul" and node.input[1] in inits and "proj" in node.name:
            w = onnx.numpy_helper.to_array(inits[node.input[1]])
            q = np.clip(np.round(w / 0.01), -127, 127).astype(np.int8)
            name = node.input[1]
            inits[name].CopyFrom(onnx.numpy_helper.from_array(q, name))
            scale = onnx.numpy_helper.from_array(np.array(0.01, np.float32), name + "_scale")
            model.graph.initializer.append(scale)
            new_nodes.append(
                onnx.helper.make_node(
                    "DequantizeLinear", [name, name + "_scale"], [name + "_dq"], name=name + "/DQ"
                )
            )
            node.input[1] = name + "_dq"
        new_nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(new_nodes)
    onnx.save(model, str(exp.model_path))
    spec = read(exp.folder)
    quant = spec.quantization
    assert (quant.scheme, quant.bits, quant.symmetric) == ("int8", 8, True)
    assert dict(quant.details)["op"] == "DequantizeLinear+MatMul"
    assert quant.unquantized == ("embed_tokens", "lm_head")
    assert spec.weights is not None and spec.weights.param_count == exp.param_count
    assert spec.weights.dtype_bytes("int8") > 0
    assert (spec.head_dim, spec.num_attention_heads) == (exp.config.head_dim, exp.config.heads)


def test_combined_kv_inputs_gpt2_style(tmp_path: Path) -> None:
    """genai's ``past_names`` layout: one [2, batch, heads, seq, dim] input per layer."""
    heads, hd, hidden, vocab, layers = 4, 16, 64, 100, 2
    helper = onnx.helper
    g_inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["b", "s"])]
    nodes, inits = [], []
    x = "h0"
    nodes.append(helper.make_node("Gather", ["wte", "input_ids"], [x], name="/wte/Gather"))
    inits.append(onnx.numpy_helper.from_array(np.zeros((vocab, hidden), np.float32), "wte"))
    for i in range(layers):
        g_inputs.append(
            helper.make_tensor_value_info(f"past_{i}", TensorProto.FLOAT, [2, "b", heads, "p", hd])
        )
        w = f"c_attn_{i}"
        inits.append(
            onnx.numpy_helper.from_array(np.zeros((hidden, 3 * heads * hd), np.float32), w)
        )
        nodes.append(
            helper.make_node(
                "MatMul", [x, w], [f"qkv{i}"], name=f"/transformer/h.{i}/attn/c_attn/MatMul"
            )
        )
        x = f"qkv{i}"
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["b", "s", vocab])
    graph = helper.make_graph(nodes, "g", g_inputs, [out], inits)
    folder = tmp_path / "gpt2"
    folder.mkdir()
    write_model(folder / "model.onnx", helper.make_model(graph))
    cfg = fac.genai_config(
        fac.ModelConfig(
            layers=layers, heads=heads, kv_heads=heads, head_dim=hd, hidden=hidden, vocab=vocab
        ),
        fac.GenaiOptions(),
    )
    inputs = cfg["model"]["decoder"]["inputs"]  # type: ignore[index]
    del inputs["past_key_names"], inputs["past_value_names"]
    inputs["past_names"] = "past_%d"
    (folder / "genai_config.json").write_text(json.dumps(cfg))
    spec = read(folder)
    assert (spec.num_layers, spec.num_kv_heads, spec.head_dim) == (layers, heads, hd)
    assert spec.num_attention_heads == heads and spec.vocab_size == vocab
    assert spec.kv_input_names == ("past_0", "past_1")


# --------------------------------------------------------------------------- sniff


def test_sniff(tmp_path: Path) -> None:
    genai = fac.build_genai(tmp_path / "g", fac.ModelConfig(), fac.GenaiOptions())
    optimum = fac.build_optimum(tmp_path / "o", fac.ModelConfig(), fac.OptimumOptions())
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("hi")
    assert ADAPTER.sniff(genai.folder) == 95
    assert ADAPTER.sniff(optimum.folder) == 85
    assert ADAPTER.sniff(genai.model_path) == 90
    assert ADAPTER.sniff(tmp_path / "empty") == 0
    assert ADAPTER.sniff(tmp_path / "notes.txt") == 0
    assert ADAPTER.sniff(tmp_path / "missing") == 0
    assert choose(genai.folder, [ADAPTER]) is ADAPTER


def test_folder_layout_errors(tmp_path: Path) -> None:
    (tmp_path / "none").mkdir()
    with pytest.raises(InputError, match=r"no \.onnx"):
        read(tmp_path / "none")
    two = tmp_path / "two"
    fac.build_optimum(
        two, fac.ModelConfig(), fac.OptimumOptions(filename="a.onnx", write_config=False)
    )
    shutil.copy(two / "a.onnx", two / "b.onnx")
    with pytest.raises(InputError, match="several"):
        read(two)
    (two / "b.onnx").unlink()
    assert read(two).format == "onnx"


# --------------------------------------------------------------------------- safety


def set_location(model_path: Path, location: str, only_first: bool = True) -> str:
    """Point external initializer(s) at ``location``; returns the first tensor's name."""
    model = onnx.load(str(model_path), load_external_data=False)
    first = ""
    for t in model.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            for e in t.external_data:
                if e.key == "location":
                    e.value = location
            first = first or t.name
            if only_first:
                break
    model_path.write_bytes(model.SerializeToString())
    return first


@pytest.fixture
def genai(tmp_path: Path) -> fac.Expected:
    return fac.build_genai(tmp_path / "model", fac.ModelConfig(), fac.GenaiOptions())


def test_truncated_external_data(genai: fac.Expected) -> None:
    assert genai.data_path is not None
    size = genai.data_path.stat().st_size
    os.truncate(genai.data_path, size - 1)
    with pytest.raises(ArtifactFormatError, match=r"model\.onnx\.data.*only \d+ bytes") as err:
        read(genai.folder)
    assert "initializer" in str(err.value) and "\n" not in str(err.value)


def test_external_length_must_match_dims(genai: fac.Expected) -> None:
    model = onnx.load(str(genai.model_path), load_external_data=False)
    t = model.graph.initializer[0]
    for e in t.external_data:
        if e.key == "length":
            e.value = str(int(e.value) - 4)
    genai.model_path.write_bytes(model.SerializeToString())
    with pytest.raises(ArtifactFormatError, match=f"{t.name}.*does not match"):
        read(genai.folder)


@pytest.mark.parametrize("value", ["-5", "12x", "", "٣"])
def test_external_offset_must_be_a_number(genai: fac.Expected, value: str) -> None:
    model = onnx.load(str(genai.model_path), load_external_data=False)
    for e in model.graph.initializer[0].external_data:
        if e.key == "offset":
            e.value = value
    genai.model_path.write_bytes(model.SerializeToString())
    with pytest.raises(ArtifactFormatError, match="offset"):
        read(genai.folder)


def test_offset_past_end_of_file(genai: fac.Expected) -> None:
    model = onnx.load(str(genai.model_path), load_external_data=False)
    for e in model.graph.initializer[0].external_data:
        if e.key == "offset":
            e.value = str(2**62)
    genai.model_path.write_bytes(model.SerializeToString())
    with pytest.raises(ArtifactFormatError, match="only"):
        read(genai.folder)


@pytest.mark.parametrize(
    "location", ["../secret.data", "/etc/passwd", "sub/../../x.data", "C:\\weights.data"]
)
def test_external_path_escapes_refused(genai: fac.Expected, location: str) -> None:
    (genai.folder.parent / "secret.data").write_bytes(b"\0" * 10**6)
    set_location(genai.model_path, location)
    with pytest.raises(UnsafeArtifactError):
        read(genai.folder)


def test_external_symlink_to_outside_refused(genai: fac.Expected, tmp_path: Path) -> None:
    outside = tmp_path / "outside.data"
    assert genai.data_path is not None
    shutil.copy(genai.data_path, outside)
    (genai.folder / "link.data").symlink_to(outside)
    set_location(genai.model_path, "link.data", only_first=False)
    with pytest.raises(UnsafeArtifactError, match="outside"):
        read(genai.folder)


def test_external_symlink_inside_folder_allowed(genai: fac.Expected) -> None:
    (genai.folder / "alias.data").symlink_to("model.onnx.data")
    set_location(genai.model_path, "alias.data", only_first=False)
    assert read(genai.folder).weights is not None


def test_external_data_fifo_refused(genai: fac.Expected) -> None:
    os.mkfifo(genai.folder / "pipe.data")
    set_location(genai.model_path, "pipe.data")
    with pytest.raises(UnsafeArtifactError, match="FIFO"):
        read(genai.folder)


def test_model_fifo_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "model.onnx")
    assert ADAPTER.sniff(tmp_path / "model.onnx") == 90
    with pytest.raises(UnsafeArtifactError, match="FIFO"):
        read(tmp_path / "model.onnx")


def test_missing_external_file(genai: fac.Expected) -> None:
    set_location(genai.model_path, "gone.data")
    with pytest.raises(ArtifactFormatError, match=r"gone\.data"):
        read(genai.folder)


def test_decoder_filename_escape_refused(genai: fac.Expected) -> None:
    edit_genai(
        genai.folder, lambda c: c["model"]["decoder"].__setitem__("filename", "../model.onnx")
    )
    with pytest.raises(UnsafeArtifactError):
        read(genai.folder)


def test_missing_decoder_file_named_by_config(genai: fac.Expected) -> None:
    edit_genai(genai.folder, lambda c: c["model"]["decoder"].__setitem__("filename", "x.onnx"))
    with pytest.raises(ArtifactFormatError, match=r"x\.onnx"):
        read(genai.folder)


def test_over_2gb_single_file_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    with path.open("wb") as fh:
        os.truncate(fh.fileno(), 2**31 + 1)
    with no_reads_of(path), pytest.raises(ArtifactFormatError, match="2 GB"):
        read(path)


@pytest.mark.parametrize("size", [0, 1, 7, 100, 1000, 5000])
def test_truncated_model_file(genai: fac.Expected, size: int) -> None:
    data = genai.model_path.read_bytes()
    genai.model_path.write_bytes(data[:size])
    with pytest.raises(ArtifactFormatError, match="not a valid ONNX model"):
        read(genai.model_path)


@pytest.mark.parametrize("seed", range(8))
def test_random_bytes_model_file(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(random.Random(seed).randbytes(4096))
    with pytest.raises(ArtifactFormatError, match="not a valid ONNX model"):
        read(path)


def test_mutated_models_raise_only_planner_errors(tmp_path: Path) -> None:
    """Byte flips in a valid graph: either a spec or a PlannerError, never another exception."""
    exp = fac.build_genai(
        tmp_path / "m", fac.ModelConfig(layers=1), fac.GenaiOptions(write_config=False)
    )
    original = exp.model_path.read_bytes()
    rng = random.Random(1234)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        exp.model_path.write_bytes(bytes(data))
        try:
            read(exp.model_path)
            outcomes["ok"] += 1
        except PlannerError as err:
            assert "\n" not in str(err)
            outcomes["error"] += 1
    assert outcomes["ok"] and outcomes["error"]


def write_model(path: Path, model: onnx.ModelProto) -> None:
    path.write_bytes(model.SerializeToString())


def test_absurd_and_negative_dims(genai: fac.Expected) -> None:
    for dims in ([2**40, 2**40], [-1, 4]):
        model = onnx.load(str(genai.model_path), load_external_data=False)
        t = model.graph.initializer[0]
        del t.dims[:]
        t.dims.extend(dims)
        write_model(genai.model_path, model)
        with pytest.raises(ArtifactFormatError, match=t.name):
            read(genai.folder)


def test_matmulnbits_attributes_must_match_packed_weight(genai: fac.Expected) -> None:
    model = onnx.load(str(genai.model_path), load_external_data=False)
    node = next(n for n in model.graph.node if n.op_type == "MatMulNBits")
    for a in node.attribute:
        if a.name == "K":
            a.i *= 1000  # claims 1000x the parameters its packed weight holds
    write_model(genai.model_path, model)
    with pytest.raises(ArtifactFormatError, match=r"MatMulNBits node .* need"):
        read(genai.folder)


def test_attribute_of_wrong_type(genai: fac.Expected) -> None:
    model = onnx.load(str(genai.model_path), load_external_data=False)
    node = next(n for n in model.graph.node if n.op_type == "MatMulNBits")
    attrs = [a for a in node.attribute if a.name != "N"]
    attrs.append(onnx.helper.make_attribute("N", "many"))
    del node.attribute[:]
    node.attribute.extend(attrs)
    write_model(genai.model_path, model)
    with pytest.raises(ArtifactFormatError, match="valid integer K, N"):
        read(genai.folder)


def test_graph_without_decoder_structure(tmp_path: Path) -> None:
    x = onnx.helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = onnx.helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    graph = onnx.helper.make_graph([onnx.helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    write_model(tmp_path / "relu.onnx", onnx.helper.make_model(graph))
    with pytest.raises(ArtifactFormatError, match="LLM decoder"):
        read(tmp_path / "relu.onnx")


# --------------------------------------------------------------------------- no weight bytes

_WATCH: list[str] = []
_OPENED: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCH and event in ("open", "mmap.__new__"):
        target = args[0] if args else event
        if isinstance(target, int):  # a descriptor (fdopen, mmap): the file behind it
            try:
                target = os.readlink(f"/proc/self/fd/{target}")
            except OSError:
                target = f"fd:{target}"
        _OPENED.append(str(target))


sys.addaudithook(_audit)


@contextmanager
def no_reads_of(*paths: Path) -> Iterator[list[str]]:
    """Fail if any of ``paths`` is opened (or anything is mmapped) inside the block."""
    _OPENED.clear()
    _WATCH.append("on")
    try:
        yield _OPENED
    finally:
        _WATCH.clear()
    banned = {str(p) for p in paths} | {str(p.resolve()) for p in paths}
    touched = [p for p in _OPENED if p in banned or p == "mmap.__new__"]
    assert not touched, f"weight files were opened: {touched}"


def test_over_2gb_external_data_is_never_read(tmp_path: Path) -> None:
    """A > 2 GB weight file (sparse: no bytes on disk) costs only a stat."""
    cfg = fac.ModelConfig(
        layers=2,
        hidden=1024,
        heads=8,
        kv_heads=2,
        head_dim=128,
        intermediate=256,
        vocab=600_000,
        context=4096,
    )
    exp = fac.build_genai(tmp_path / "big", cfg, fac.GenaiOptions(materialize=False))
    assert exp.data_path is not None and exp.data_path.stat().st_size > 2**31
    with no_reads_of(exp.data_path) as opened:
        spec = read(exp.folder)
    assert str(exp.model_path) in opened  # the hook works: the graph itself was opened
    assert_matches(spec, exp)
    assert spec.weights is not None and spec.weights.embedding_bytes > 2**31


def test_reads_open_only_graph_and_configs(genai: fac.Expected) -> None:
    assert genai.data_path is not None
    with no_reads_of(genai.data_path) as opened:
        read(genai.folder)
    assert sorted({Path(p).name for p in opened}) == ["genai_config.json", "model.onnx"]


# --------------------------------------------------------------------------- bundled example


def example_config() -> fac.ModelConfig:
    """The ModelConfig examples/make_examples_onnx.py builds the bundled example from."""
    if not EXAMPLE.exists():
        pytest.skip("examples/onnx-genai-tiny-llama not generated")
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        import make_examples_onnx as gen  # type: ignore[import-not-found,unused-ignore]
    finally:
        sys.path.remove(str(ROOT / "examples"))
    cfg: fac.ModelConfig = gen.CONFIG
    return cfg


def test_bundled_example_matches_its_generator() -> None:
    cfg = example_config()
    spec = read(EXAMPLE)
    assert (
        spec.num_layers,
        spec.hidden_size,
        spec.num_attention_heads,
        spec.num_kv_heads,
        spec.head_dim,
        spec.intermediate_size,
        spec.vocab_size,
        spec.max_context,
    ) == (
        cfg.layers,
        cfg.hidden,
        cfg.heads,
        cfg.kv_heads,
        cfg.head_dim,
        cfg.intermediate,
        cfg.vocab,
        cfg.context,
    )
    assert spec.quantization.scheme == "int4" and spec.format == "onnx-genai"
    assert sum(p.stat().st_size for p in EXAMPLE.iterdir()) < 1_000_000


# --------------------------------------------------------------------------- onnxruntime


def _run_decoder(exp: fac.Expected, ids: list[int], optimum: bool) -> np.ndarray:
    """Prefill ids[:-1], then decode ids[-1] with the returned KV; return the last logits."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(exp.model_path), providers=["CPUExecutionProvider"])
    cfg = exp.config
    dtype = np.float16 if exp.kv_dtype == "float16" else np.float32
    past = {n: np.zeros((1, cfg.kv_heads, 0, cfg.head_dim), dtype) for n in exp.kv_input_names}
    outputs = [o.name for o in session.get_outputs()]
    logits = np.zeros(0)
    for start, chunk in ((0, ids[:-1]), (len(ids) - 1, ids[-1:])):
        total = start + len(chunk)
        feeds: dict[str, np.ndarray] = {
            "input_ids": np.array([chunk], np.int64),
            "attention_mask": np.ones((1, total), np.int64),
            **past,
        }
        if optimum:
            feeds["position_ids"] = np.arange(start, total, dtype=np.int64)[None]
        result = dict(zip(outputs, session.run(None, feeds), strict=True))
        logits = result["logits"]
        assert logits.shape == (1, len(chunk), cfg.vocab)
        past = {n: result[n.replace("past_key_values", "present")] for n in exp.kv_input_names}
        assert past[exp.kv_input_names[0]].shape == (1, cfg.kv_heads, total, cfg.head_dim)
    full = dict(
        zip(
            outputs,
            session.run(
                None,
                {
                    "input_ids": np.array([ids], np.int64),
                    "attention_mask": np.ones((1, len(ids)), np.int64),
                    **{
                        n: np.zeros((1, cfg.kv_heads, 0, cfg.head_dim), dtype)
                        for n in exp.kv_input_names
                    },
                    **(
                        {"position_ids": np.arange(len(ids), dtype=np.int64)[None]}
                        if optimum
                        else {}
                    ),
                },
            ),
            strict=True,
        )
    )["logits"]
    # Decoding with the cache gives the same next-token logits as a full prefill.
    np.testing.assert_allclose(logits[0, -1], full[0, -1], rtol=1e-3, atol=1e-3)
    assert np.isfinite(logits).all()
    return logits


def test_onnxruntime_runs_genai_int4(tmp_path: Path) -> None:
    cfg = fac.ModelConfig()
    exp = fac.build_genai(tmp_path / "m", cfg, fac.GenaiOptions())
    _run_decoder(exp, [5, 17, 42, 7], optimum=False)
    shared = fac.build_genai(tmp_path / "s", cfg, fac.GenaiOptions(shared_embeddings=True))
    _run_decoder(shared, [5, 17, 42, 7], optimum=False)


def test_onnxruntime_runs_optimum_fp32(tmp_path: Path) -> None:
    exp = fac.build_optimum(
        tmp_path / "m", fac.ModelConfig(), fac.OptimumOptions(external_data=True)
    )
    _run_decoder(exp, [5, 17, 42, 7], optimum=True)


def test_onnxruntime_runs_bundled_example() -> None:
    exp = fac.Expected(
        EXAMPLE,
        EXAMPLE / "model.onnx",
        None,
        example_config(),
        "onnx-genai",
        kv_input_names=read(EXAMPLE).kv_input_names,
    )
    _run_decoder(exp, [1, 2, 3], optimum=False)
