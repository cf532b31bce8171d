"""MLC adapter: mlc-chat-config.json + tensor-cache.json + compiled libraries, and bad input.

Artifacts are built by ``tests/mlc_factory.py`` in MLC's real formats (see its docstring for
what each builder reproduces and from which source file). Expected values are recomputed from
the written documents or from planner's independent weight arithmetic, never hard-coded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from planner.errors import ArtifactFormatError, UnknownQuantizationError, UnsafeArtifactError
from planner.families import param_count
from planner.quant import dtype_bytes, mlc_scheme
from planner.registry import choose
from planner.runtimes.mlc.weights import mlc_weight_bytes
from planner_adapters.hf_adapter import HfAdapter
from planner_adapters.mlc_adapter import MlcAdapter, read_compiled_lib
from tests import mlc_factory as mf

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mlc-qwen2.5-0.5b-q4f16_1"


def records(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for shard in doc["records"] for r in shard["records"]]


def runtime_bytes(rec: dict[str, Any]) -> int:
    n = 1
    for d in rec["shape"]:
        n *= d
    return int(n * dtype_bytes(rec["dtype"]))


def edit_cache(folder: Path, change: Any, name: str = "tensor-cache.json") -> None:
    path = folder / name
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


@pytest.fixture
def llama_q4(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path / "tiny-llama-q4f16_1-MLC"
    return folder, mf.write_model(folder, mf.TINY_LLAMA, "q4f16_1")


def test_q4f16_1_spec_matches_what_built_it(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    folder, doc = llama_q4
    chat = json.loads((folder / "mlc-chat-config.json").read_text())
    mc, hf = chat["model_config"], mf.TINY_LLAMA
    spec = MlcAdapter().read(folder)
    assert (spec.format, spec.adapter, spec.name) == ("mlc", "mlc", folder.name)
    assert spec.architecture == chat["model_type"]
    assert spec.num_layers == mc["num_hidden_layers"]
    assert spec.hidden_size == mc["hidden_size"]
    assert spec.num_attention_heads == mc["num_attention_heads"]
    assert spec.num_kv_heads == mc["num_key_value_heads"]
    assert spec.head_dim == mc["head_dim"] == hf["hidden_size"] // hf["num_attention_heads"]
    assert spec.intermediate_size == mc["intermediate_size"]
    assert spec.vocab_size == mc["vocab_size"]
    assert spec.tie_word_embeddings is mc["tie_word_embeddings"]
    assert spec.max_context == mc["context_window_size"]
    s = spec.settings
    assert s.context_window_size == chat["context_window_size"]
    assert s.prefill_chunk_size == chat["prefill_chunk_size"]
    assert s.sliding_window_size is None and s.attention_sink_size is None  # -1 = unset
    assert s.max_batch_size == mc["max_batch_size"]
    assert s.conv_template == chat["conv_template"]
    scheme = mlc_scheme(chat["quantization"])
    q = spec.quantization
    assert (q.scheme, q.bits, q.group_size, q.symmetric, q.compute_dtype) == (
        "q4f16_1",
        scheme.bits,
        scheme.group_size,
        True,
        scheme.model_dtype,
    )
    assert q.unquantized == ()
    assert spec.kv_dtype == scheme.model_dtype == "float16"
    assert spec.layer_windows == () and spec.compiled_lib is None

    w = spec.weights
    assert w is not None
    recs = records(doc)
    assert w.tensor_count == len(recs)
    assert w.total_bytes == sum(r["nbytes"] for r in recs)  # no float32 here: stored = runtime
    assert w.total_bytes == mlc_weight_bytes(spec, scheme).total_bytes
    by_dtype: dict[str, int] = {}
    for r in recs:
        by_dtype[r["dtype"]] = by_dtype.get(r["dtype"], 0) + r["nbytes"]
    assert dict(w.bytes_by_dtype) == by_dtype
    assert w.embedding_bytes == sum(r["nbytes"] for r in recs if "embed_tokens" in r["name"])
    assert w.lm_head_bytes == sum(r["nbytes"] for r in recs if r["name"].startswith("lm_head"))
    assert w.lm_head_bytes > 0 and w.external_bytes == w.total_bytes
    assert w.param_count == param_count(spec)
    assert len(doc["records"]) > 1  # small shard cap: several shards, one out of band
    assert not spec.notes
    for field in (
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
        "layer_windows",
        "attention_sink",
        "kv_dtype",
        "quantization",
        "weights",
        "compiled_lib",
        "name",
        "settings.context_window_size",
        "settings.prefill_chunk_size",
        "settings.sliding_window_size",
        "settings.attention_sink_size",
        "settings.max_batch_size",
        "settings.conv_template",
    ):
        assert spec.source_of(field) is not None, field
    assert spec.source_of("quantization").origin.value == "artifact"  # type: ignore[union-attr]


def test_param_count_unpacked_without_metadata(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = llama_q4
    edit_cache(folder, lambda d: d.pop("metadata"))
    spec = MlcAdapter().read(folder)
    assert spec.weights is not None and spec.weights.param_count == param_count(spec)


def test_metadata_disagreeing_is_noted(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = llama_q4

    def bump(d: dict[str, Any]) -> None:
        d["metadata"]["ParamBytes"] += 1000
        d["metadata"]["ParamSize"] += 1

    edit_cache(folder, bump)
    spec = MlcAdapter().read(folder)
    assert any("ParamBytes" in n for n in spec.notes) and any("ParamSize" in n for n in spec.notes)


@pytest.mark.parametrize("quant", ["q0f16", "q0f32", "q4f32_1", "q3f16_1", "q4f16_2", "q4bf16_0"])
def test_other_schemes(tmp_path: Path, quant: str) -> None:
    folder = tmp_path / quant
    doc = mf.write_model(folder, mf.TINY_LLAMA, quant)
    spec = MlcAdapter().read(folder)
    scheme = mlc_scheme(quant)
    assert spec.weights is not None
    assert spec.weights.total_bytes == sum(runtime_bytes(r) for r in records(doc))
    assert spec.weights.total_bytes == mlc_weight_bytes(spec, scheme).total_bytes
    assert spec.kv_dtype == scheme.model_dtype == spec.quantization.compute_dtype
    encoded = [r for r in records(doc) if r["dtype"] == "float32"]
    if encoded:  # f32-to-bf16: 2 bytes per element in the shard, 4 at runtime
        assert all(r["nbytes"] == runtime_bytes(r) // 2 for r in encoded)
        assert any("f32-to-bf16" in n for n in spec.notes)
    if quant == "q4f16_2":
        assert spec.quantization.unquantized == ("embed_tokens", "lm_head")


def test_legacy_ndarray_cache(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    doc = mf.write_model(folder, mf.TINY_LLAMA, "q4f16_1", cache_name="ndarray-cache.json")
    spec = MlcAdapter().read(folder)
    assert spec.weights is not None
    assert spec.weights.total_bytes == sum(r["nbytes"] for r in records(doc))
    assert "legacy" in spec.source_of("weights").detail  # type: ignore[union-attr]


def test_missing_shards_are_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "no-lfs"
    doc = mf.write_model(folder, mf.TINY_LLAMA, "q4f16_1", shards=False)
    spec = MlcAdapter().read(folder)
    assert spec.weights is not None
    assert spec.weights.total_bytes == sum(r["nbytes"] for r in records(doc))
    assert any("weight shards not present" in n and "tensor-cache.json" in n for n in spec.notes)


def test_no_tensor_cache(tmp_path: Path) -> None:
    folder = tmp_path / "config-only"
    mf.write_model(folder, mf.TINY_LLAMA, "q4f16_1", shards=False)
    (folder / "tensor-cache.json").unlink()
    spec = MlcAdapter().read(folder)
    assert spec.weights is None and any("no tensor-cache.json" in n for n in spec.notes)


# --- bad tensor caches ----------------------------------------------------------------------


def _first(doc: dict[str, Any]) -> dict[str, Any]:
    rec: dict[str, Any] = doc["records"][0]["records"][0]
    return rec


def test_record_nbytes_mismatch(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    folder, doc = llama_q4
    name = _first(doc)["name"]
    edit_cache(folder, lambda d: _first(d).update(nbytes=_first(d)["nbytes"] - 4))
    with pytest.raises(ArtifactFormatError, match="disagrees with shape") as err:
        MlcAdapter().read(folder)
    assert name in str(err.value) and "tensor-cache.json" in str(err.value)


def test_short_shard_file(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    folder, doc = llama_q4
    shard = folder / doc["records"][0]["dataPath"]
    shard.write_bytes(shard.read_bytes()[:-1])
    with pytest.raises(ArtifactFormatError, match="truncated") as err:
        MlcAdapter().read(folder)
    assert shard.name in str(err.value)


@pytest.mark.parametrize(
    ("data_path", "match"),
    [
        ("../x.bin", "'..'"),
        ("/etc/passwd", "absolute"),
        ("sub/../../x.bin", "'..'"),
    ],
)
def test_data_path_escapes(
    llama_q4: tuple[Path, dict[str, Any]], data_path: str, match: str
) -> None:
    folder, _ = llama_q4
    edit_cache(folder, lambda d: d["records"][0].update(dataPath=data_path))
    with pytest.raises(UnsafeArtifactError, match=match) as err:
        MlcAdapter().read(folder)
    assert "tensor-cache.json" in str(err.value)


def test_symlinked_shard_outside(llama_q4: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    folder, doc = llama_q4
    shard = folder / doc["records"][0]["dataPath"]
    outside = tmp_path / "outside.bin"
    outside.write_bytes(shard.read_bytes())
    shard.unlink()
    shard.symlink_to(outside)
    with pytest.raises(UnsafeArtifactError, match="outside the model folder"):
        MlcAdapter().read(folder)


def test_unknown_quantization(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    mf.write_model(folder, mf.TINY_LLAMA, "q4f16_1")
    chat = json.loads((folder / "mlc-chat-config.json").read_text())
    chat["quantization"] = "q4f16_9"
    (folder / "mlc-chat-config.json").write_text(json.dumps(chat))
    with pytest.raises(UnknownQuantizationError, match="q4f16_9") as err:
        MlcAdapter().read(folder)
    assert "mlc-chat-config.json" in str(err.value) and "q4f16_1" in str(err.value)


@pytest.mark.parametrize(
    ("shape", "match"),
    [([0, 8], "zero dimension"), ([-4, 8], "invalid dimension"), (["320", 8], "invalid dimension")],
)
def test_bad_dims(llama_q4: tuple[Path, dict[str, Any]], shape: list[Any], match: str) -> None:
    folder, _ = llama_q4
    edit_cache(folder, lambda d: _first(d).update(shape=shape))
    with pytest.raises(ArtifactFormatError, match=match) as err:
        MlcAdapter().read(folder)
    assert "tensor-cache.json" in str(err.value)


def test_overlap_and_overrun(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    folder, doc = llama_q4
    multi = next(i for i, s in enumerate(doc["records"]) if len(s["records"]) > 1)

    def overlap(d: dict[str, Any]) -> None:
        d["records"][multi]["records"][1]["byteOffset"] = 0

    edit_cache(folder, overlap)
    with pytest.raises(ArtifactFormatError, match="overlap"):
        MlcAdapter().read(folder)
    edit_cache(folder, lambda d: d["records"][multi]["records"][1].update(byteOffset=1 << 30))
    with pytest.raises(ArtifactFormatError, match="runs past the end of shard"):
        MlcAdapter().read(folder)


def test_wrong_shard_format_and_dtype(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = llama_q4
    edit_cache(folder, lambda d: d["records"][0].update(format="zip"))
    with pytest.raises(ArtifactFormatError, match="raw-shard"):
        MlcAdapter().read(folder)
    edit_cache(
        folder,
        lambda d: (d["records"][0].update(format="raw-shard"), _first(d).update(dtype="int5")),
    )
    with pytest.raises(ArtifactFormatError, match="unknown dtype"):
        MlcAdapter().read(folder)


# --- MLC model_config variants --------------------------------------------------------------


def _write_chat(tmp_path: Path, chat: dict[str, Any]) -> Path:
    folder: Path = tmp_path / str(chat["model_type"])
    folder.mkdir()
    (folder / "mlc-chat-config.json").write_text(json.dumps(chat))
    return folder


def test_mistral_sliding_window(tmp_path: Path) -> None:
    mc = {
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "rms_norm_eps": 1e-05,
        "vocab_size": 32000,
        "position_embedding_base": 10000.0,
        "num_key_value_heads": 8,
        "head_dim": 128,
        "context_window_size": -1,
        "sliding_window_size": 4096,
        "prefill_chunk_size": 4096,
        "attention_sink_size": 4,
        "tensor_parallel_shards": 1,
        "max_batch_size": 128,
    }
    chat = {
        "model_type": "mistral",
        "quantization": "q4f16_1",
        "model_config": mc,
        "vocab_size": 32000,
        "context_window_size": -1,
        "sliding_window_size": 4096,
        "prefill_chunk_size": 4096,
        "attention_sink_size": 4,
        "tensor_parallel_shards": 1,
        "conv_template": {"name": "mistral_default"},
    }
    spec = MlcAdapter().read(_write_chat(tmp_path, chat))
    assert spec.layer_windows == (4096,) * 32 and spec.sliding_window == 4096
    assert spec.settings.context_window_size is None and spec.max_context is None
    assert spec.attention_sink == 4 and spec.settings.attention_sink_size == 4
    assert spec.tie_word_embeddings is False and spec.weights is None


def test_gemma2_has_no_window_in_mlc(tmp_path: Path) -> None:
    mc = {
        "hidden_size": 2304,
        "intermediate_size": 9216,
        "attention_bias": False,
        "num_attention_heads": 8,
        "num_key_value_heads": 4,
        "head_dim": 256,
        "num_hidden_layers": 26,
        "rms_norm_eps": 1e-06,
        "vocab_size": 256000,
        "hidden_activation": "gelu_pytorch_tanh",
        "position_embedding_base": 10000.0,
        "context_window_size": 4096,
        "prefill_chunk_size": 4096,
        "tensor_parallel_shards": 1,
        "max_batch_size": 128,
        "attn_logit_softcapping": 50.0,
        "final_logit_softcapping": 30.0,
        "query_pre_attn_scalar": 256,
        "sliding_window": 4096,
    }
    chat = {
        "model_type": "gemma2",
        "quantization": "q4f16_1",
        "model_config": mc,
        "vocab_size": 256000,
        "context_window_size": 4096,
        "sliding_window_size": -1,
        "prefill_chunk_size": 4096,
        "attention_sink_size": -1,
        "conv_template": "gemma",
    }
    spec = MlcAdapter().read(_write_chat(tmp_path, chat))
    assert spec.layer_windows == ()  # MLC caps Gemma-2's context at the window instead
    assert spec.settings.context_window_size == 4096 and spec.tie_word_embeddings is True


def test_gemma3_nested_text_config(tmp_path: Path) -> None:
    text = {
        "hidden_size": 1152,
        "intermediate_size": 6912,
        "num_hidden_layers": 26,
        "attention_bias": False,
        "num_attention_heads": 4,
        "num_key_value_heads": 1,
        "head_dim": 256,
        "rms_norm_eps": 1e-06,
        "hidden_activation": "gelu_pytorch_tanh",
        "position_embedding_base": 1000000,
        "rope_scaling": 0,
        "context_window_size": 32768,
        "prefill_chunk_size": 8192,
        "query_pre_attn_scalar": 256,
        "sliding_window_size": 512,
        "kwargs": {"sliding_window": 512},
    }
    mc = {
        "text_config": text,
        "vocab_size": 262144,
        "tensor_parallel_shards": 1,
        "max_batch_size": 128,
        "context_window_size": 32768,
        "sliding_window_size": 512,
        "prefill_chunk_size": 8192,
        "is_text_model": True,
    }
    chat = {
        "model_type": "gemma3_text",
        "quantization": "q4bf16_1",
        "model_config": mc,
        "vocab_size": 262144,
        "context_window_size": 32768,
        "sliding_window_size": 512,
        "prefill_chunk_size": 8192,
        "attention_sink_size": -1,
        "conv_template": "gemma3",
    }
    spec = MlcAdapter().read(_write_chat(tmp_path, chat))
    assert (spec.architecture, spec.num_layers, spec.head_dim, spec.vocab_size) == (
        "gemma3",
        26,
        256,
        262144,
    )
    assert spec.layer_windows == tuple(None if (i + 1) % 6 == 0 else 512 for i in range(26))
    assert spec.kv_dtype == "bfloat16" and spec.settings.max_batch_size == 128


# --- compiled libraries -------------------------------------------------------------------

MEMORY = {"prefill": 9_437_184, "decode": 1_234_567, "batch_prefill": 12_582_912}


def _lib_meta(folder: Path, **kw: Any) -> dict[str, Any]:
    chat = json.loads((folder / "mlc-chat-config.json").read_text())
    return mf.lib_metadata(
        chat, mf.tensors_for(mf.TINY_LLAMA, chat["quantization"]), memory_usage=MEMORY, **kw
    )


def _check_lib(spec_lib: Any, folder: Path, weights_total: int) -> None:
    chat = json.loads((folder / "mlc-chat-config.json").read_text())
    assert spec_lib.memory_usage == tuple(sorted(MEMORY.items()))
    assert spec_lib.max_temp_bytes == max(MEMORY.values())
    assert spec_lib.params_bytes == weights_total  # "vocab_size" resolved from model_config
    assert spec_lib.context_window_size == chat["context_window_size"]
    assert spec_lib.prefill_chunk_size == chat["prefill_chunk_size"]
    assert spec_lib.max_batch_size == chat["model_config"]["max_batch_size"]
    assert spec_lib.sliding_window_size is None and spec_lib.kv_state_kind == "kv_cache"
    assert spec_lib.quantization == chat["quantization"]
    kv = dict(spec_lib.kv_cache)
    assert kv["num_key_value_heads"] == chat["model_config"]["num_key_value_heads"]
    assert kv["head_dim"] == chat["model_config"]["head_dim"]


@pytest.mark.parametrize("kind", ["so", "tar", "wasm"])
def test_compiled_library_in_folder(llama_q4: tuple[Path, dict[str, Any]], kind: str) -> None:
    folder, doc = llama_q4
    blob = mf.metadata_blob(_lib_meta(folder))
    data = {"so": mf.elf_object(blob), "tar": mf.tar_library(blob), "wasm": mf.wasm_module(blob)}
    (folder / f"tiny-q4f16_1-{kind}.{kind}").write_bytes(data[kind])
    spec = MlcAdapter().read(folder)
    assert spec.compiled_lib is not None
    _check_lib(spec.compiled_lib, folder, sum(r["nbytes"] for r in records(doc)))
    assert not spec.notes, spec.notes
    assert "TVM string constant (kTVMFFIStr)" in spec.source_of("compiled_lib").detail  # type: ignore[union-attr]


def test_explicit_lib_and_lib_path(llama_q4: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    folder, doc = llama_q4
    lib = tmp_path / "elsewhere" / "model.tar"
    lib.parent.mkdir()
    lib.write_bytes(mf.tar_library(mf.metadata_blob(_lib_meta(folder))))
    spec = MlcAdapter().read(folder, lib=lib)
    assert spec.compiled_lib is not None
    _check_lib(spec.compiled_lib, folder, sum(r["nbytes"] for r in records(doc)))
    # A library path beside the config works as the path itself.
    shutil.copy(lib, folder / "model.tar")
    assert MlcAdapter().sniff(folder / "model.tar") == 80
    assert MlcAdapter().read(folder / "model.tar").compiled_lib is not None


def test_read_compiled_lib_needs_model_config_for_dynamic_dims(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    mf.write_model(folder, mf.TINY_LLAMA, "q4f16_1", shards=False)
    lib = tmp_path / "x.so"
    lib.write_bytes(mf.elf_object(mf.metadata_blob(_lib_meta(folder))))
    assert read_compiled_lib(lib).params_bytes is None
    static = tmp_path / "static.so"
    static.write_bytes(mf.elf_object(mf.metadata_blob(_lib_meta(folder, dynamic_vocab=False))))
    assert (
        read_compiled_lib(static).params_bytes
        == read_compiled_lib(lib, {"vocab_size": mf.TINY_LLAMA["vocab_size"]}).params_bytes
    )


def test_lib_without_length_prefix_is_still_found(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    mf.write_model(folder, mf.TINY_LLAMA, "q4f16_1", shards=False)
    text = json.dumps(_lib_meta(folder)).encode()
    lib = tmp_path / "odd.so"
    lib.write_bytes(b"\x7fELF" + bytes(60) + text + b"\x00garbage")
    info = read_compiled_lib(lib, {"vocab_size": mf.TINY_LLAMA["vocab_size"]})
    assert info.memory_usage == tuple(sorted(MEMORY.items()))


def test_lib_mismatches_are_noted(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = llama_q4
    meta = _lib_meta(folder)
    meta["quantization"] = "q4f32_1"
    meta["prefill_chunk_size"] = 128
    (folder / "lib.so").write_bytes(mf.elf_object(mf.metadata_blob(meta)))
    notes = MlcAdapter().read(folder).notes
    assert any("built for q4f32_1" in n for n in notes)
    assert any("caps prefill_chunk_size at 128" in n for n in notes)


def test_lib_without_metadata(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = llama_q4
    (folder / "plain.so").write_bytes(mf.elf_object(b"no metadata here"))
    spec = MlcAdapter().read(folder)
    assert spec.compiled_lib is None and any("plain.so not used" in n for n in spec.notes)
    with pytest.raises(ArtifactFormatError, match="no MLC metadata") as err:
        MlcAdapter().read(folder, lib=folder / "plain.so")
    assert "plain.so" in str(err.value)


def test_truncated_tar(llama_q4: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    folder, _ = llama_q4
    data = mf.tar_library(mf.metadata_blob(_lib_meta(folder)))
    lib = tmp_path / "cut.tar"
    lib.write_bytes(data[:1200])
    with pytest.raises(ArtifactFormatError, match=r"cut\.tar"):
        read_compiled_lib(lib)


def test_several_libs_need_a_choice(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = llama_q4
    blob = mf.metadata_blob(_lib_meta(folder))
    (folder / "a.so").write_bytes(mf.elf_object(blob))
    (folder / "b.wasm").write_bytes(mf.wasm_module(blob))
    spec = MlcAdapter().read(folder)
    assert spec.compiled_lib is None and any("several compiled libraries" in n for n in spec.notes)


def test_lib_symlink_outside_is_refused(
    llama_q4: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    folder, _ = llama_q4
    outside = tmp_path / "outside.so"
    outside.write_bytes(mf.elf_object(mf.metadata_blob(_lib_meta(folder))))
    (folder / "lib.so").symlink_to(outside)
    with pytest.raises(UnsafeArtifactError):
        MlcAdapter().read(folder)


def test_c_compiled_shared_library(llama_q4: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """TVM's C packing path, compiled by a real C compiler into a real shared object."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    folder, doc = llama_q4
    src = tmp_path / "devc.c"
    src.write_text(mf.c_source(mf.metadata_blob(_lib_meta(folder))))
    lib = folder / "tiny.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    spec = MlcAdapter().read(folder)
    assert spec.compiled_lib is not None and "ELF" in spec.source_of("compiled_lib").detail  # type: ignore[union-attr]
    _check_lib(spec.compiled_lib, folder, sum(r["nbytes"] for r in records(doc)))


def test_wasm_module_is_valid_and_holds_the_blob(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node to validate WebAssembly")
    blob = b"tvm-blob-\x00\x01\x02"
    path = tmp_path / "m.wasm"
    path.write_bytes(mf.wasm_module(blob, at=2048))
    script = (
        "const b=require('fs').readFileSync(process.argv[1]);"
        "const i=new WebAssembly.Instance(new WebAssembly.Module(b),{});"
        "process.stdout.write(Buffer.from(i.exports.memory.buffer,2048,"
        f"{len(blob)}).toString('hex'))"
    )
    out = subprocess.run(
        [node, "-e", script, str(path)], check=True, capture_output=True, text=True
    ).stdout
    assert bytes.fromhex(out) == blob


# --- the committed example and sniffing ---------------------------------------------------


def test_qwen_example() -> None:
    chat = json.loads((EXAMPLE / "mlc-chat-config.json").read_text())
    doc = json.loads((EXAMPLE / "tensor-cache.json").read_text())
    spec = MlcAdapter().read(EXAMPLE)
    mc = chat["model_config"]
    assert (
        spec.architecture,
        spec.num_layers,
        spec.hidden_size,
        spec.num_kv_heads,
        spec.head_dim,
        spec.vocab_size,
    ) == (
        "qwen2",
        mc["num_hidden_layers"],
        mc["hidden_size"],
        mc["num_key_value_heads"],
        mc["head_dim"],
        mc["vocab_size"],
    )
    assert spec.tie_word_embeddings is True and spec.weights is not None
    assert spec.weights.lm_head_bytes == 0
    assert spec.weights.total_bytes == sum(r["nbytes"] for r in records(doc))
    assert spec.weights.total_bytes == mlc_weight_bytes(spec, mlc_scheme("q4f16_1")).total_bytes
    assert spec.weights.param_count == param_count(spec)
    assert any("weight shards not present" in n for n in spec.notes)
    assert all(s["nbytes"] <= 32 << 20 or len(s["records"]) == 1 for s in doc["records"])
    assert spec.settings.conv_template == "qwen2"


def test_sniff_and_choose(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = llama_q4
    mlc = MlcAdapter()
    assert mlc.sniff(folder) == 90
    assert mlc.sniff(folder / "mlc-chat-config.json") == 90
    assert mlc.sniff(folder / "tensor-cache.json") == 85
    assert mlc.sniff(folder.parent) == 0
    (folder / "config.json").write_text(json.dumps(mf.TINY_LLAMA))
    assert choose(folder, [HfAdapter(), mlc]).name == "mlc"
    assert MlcAdapter().read(folder / "tensor-cache.json").weights is not None


def test_library_context_mismatch_is_warned(llama_q4: tuple[Path, dict[str, Any]]) -> None:
    # mlc-ai/mlc-llm#971/#1013: a library compiled for one context and a config saying another.
    from planner.runtimes import estimate
    from planner.settings import Runtime, RuntimeSettings

    folder, _ = llama_q4
    meta = _lib_meta(folder)
    lib_ctx = meta["context_window_size"] // 2
    meta["context_window_size"] = lib_ctx
    (folder / "tiny.tar").write_bytes(mf.tar_library(mf.metadata_blob(meta)))
    spec = MlcAdapter().read(folder)
    assert spec.compiled_lib is not None and spec.compiled_lib.context_window_size == lib_ctx
    notes = " ".join(estimate(spec, RuntimeSettings(Runtime.MLC)).notes)
    assert f"was built for {lib_ctx}" in notes and "#1013" in notes
    asked = estimate(spec, RuntimeSettings(Runtime.MLC, context=lib_ctx * 2)).notes
    assert any(f"caps the context at {lib_ctx}" in n for n in asked)
