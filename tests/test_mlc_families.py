"""Every MLC family against MLC's own compiler: parameters, tensor counts, every function's
temporary buffer and KV per token, from copied compiler rows (tests/data/mlc_families)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from planner.errors import ExitCode, UnsupportedArtifactError, UsageError, exit_code_for
from planner.families import FAMILIES, family
from planner.quant import mlc_scheme
from planner.runtimes import estimate
from planner.runtimes.mlc import MlcRuntime
from planner.runtimes.mlc.temp import mlc_temp_buffer
from planner.runtimes.mlc.weights import mlc_tensors
from planner.settings import Runtime, RuntimeSettings
from planner.spec import CompiledLibInfo, ModelSpec
from planner_adapters.hf_config import spec_from_hf_config

DATA = Path(__file__).parent / "data" / "mlc_families"
THREADS = {"android": 256, "android_adreno": 512, "android:adreno": 512, "webgpu": 256}


def _rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (DATA / name).read_text().splitlines() if x.strip()]


TRUTH = _rows("compiler_truth.jsonl")
RUNS = _rows("pipeline_runs.jsonl")
PARAMS_ONLY = _rows("params_only.jsonl")


def _spec(cfg: dict[str, Any], model_type: str | None = None) -> ModelSpec:
    cfg = dict(cfg)
    if model_type:
        cfg["model_type"] = model_type
    return spec_from_hf_config(cfg, source="t", path=Path("config.json"), name="t")


def _check_row(row: dict[str, Any]) -> None:
    spec = _spec(row["hf_config"], row["model_type"])
    scheme = mlc_scheme(row["quantization"])
    tensors = mlc_tensors(spec, scheme, row["context_window_size"])
    assert sum(t.nbytes for t in tensors) == row["params_bytes"]
    assert len(tensors) == row["n_param_tensors"]
    temp = mlc_temp_buffer(
        spec,
        scheme,
        prefill_chunk=row["prefill_chunk_size"],
        max_batch_size=row["max_batch_size"],
        max_threads_per_block=THREADS[row["target"]],
    )
    want = {f: b for f, b in row["temp_by_function"].items() if b}
    got = {f.name: f.bytes for f in temp.functions if f.bytes}
    assert got == want


@pytest.mark.parametrize("row", TRUTH, ids=[r["id"] for r in TRUTH])
def test_compiler_truth_params_temp_exact(row: dict[str, Any]) -> None:
    _check_row(row)


@pytest.mark.parametrize("row", TRUTH, ids=[r["id"] for r in TRUTH])
def test_compiler_truth_budget_and_kv(row: dict[str, Any]) -> None:
    spec = _spec(row["hf_config"], row["model_type"])
    b = estimate(
        spec,
        RuntimeSettings(
            Runtime.MLC,
            quantization=row["quantization"],
            context=row["context_window_size"],
            prefill=row["prefill_chunk_size"],
            max_batch_size=row["max_batch_size"],
        ),
    )
    assert b.weights_bytes == row["params_bytes"]
    assert b.activations_bytes == max(row["temp_by_function"].values())
    assert b.kv_bytes_per_token == row["kv_bytes_per_token_from_metadata_kv_cache"]


@pytest.mark.parametrize("row", RUNS, ids=[r["id"] for r in RUNS])
def test_pipeline_runs_exact(row: dict[str, Any]) -> None:
    _check_row(row)


@pytest.mark.parametrize("row", PARAMS_ONLY, ids=[r["id"] for r in PARAMS_ONLY])
def test_params_only_modules_exact(row: dict[str, Any]) -> None:
    spec = _spec(row["hf_config"], row["model_type"])
    tensors = mlc_tensors(spec, mlc_scheme(row["quantization"]), row["context_window_size"])
    assert sum(t.nbytes for t in tensors) == row["params_bytes"]
    assert len(tensors) == row["n_param_tensors"]


def test_every_truth_family_is_covered() -> None:
    families = {r["model_type"] for r in TRUTH} | {r["model_type"] for r in RUNS}
    assert {"llama", "gemma2", "gemma3_text", "phi-msft", "olmo2", "gpt2", "chatglm"} <= families


# --- config parsing of the quirky families ---------------------------------------------------


def _run(prefix: str) -> dict[str, Any]:
    return next(r for r in RUNS + PARAMS_ONLY if r["id"].startswith(prefix))


def test_chatglm_padded_vocab_and_multi_query() -> None:
    cfg = dict(_run("chatglm")["hf_config"])
    spec = _spec(cfg, "chatglm")
    assert "vocab_size" not in cfg and spec.vocab_size == cfg["padded_vocab_size"]
    assert spec.num_kv_heads == cfg["multi_query_group_num"]
    assert spec.intermediate_size == cfg["ffn_hidden_size"]
    no_mq = _spec({**cfg, "multi_query_attention": False}, "chatglm")
    assert no_mq.num_kv_heads == no_mq.num_attention_heads


def test_qwen_v1_kv_channels_and_half_intermediate() -> None:
    cfg = _run("qwen-q4f16_1")["hf_config"]
    spec = _spec(cfg, "qwen")
    assert spec.head_dim == cfg["kv_channels"]
    assert spec.intermediate_size == cfg["intermediate_size"] // 2
    assert family("qwen").mlc_static_vocab


def test_ministral3_nested_text_config_top_level_tie_wins() -> None:
    cfg = _run("ministral3")["hf_config"]
    text = cfg["text_config"]
    assert "hidden_size" not in cfg  # the text model's keys live only in text_config
    spec = _spec(
        {**cfg, "tie_word_embeddings": True, "text_config": {**text, "tie_word_embeddings": False}}
    )
    assert spec.architecture == "ministral3"
    assert spec.hidden_size == text["hidden_size"] and spec.tie_word_embeddings is True


def test_gemma3_nested_text_config_keeps_top_level_vocab() -> None:
    cfg = {
        "model_type": "gemma3",
        "vocab_size": 262208,
        "text_config": {
            "model_type": "gemma3_text",
            "hidden_size": 2560,
            "intermediate_size": 10240,
            "num_hidden_layers": 34,
            "sliding_window": 1024,
            "vocab_size": 1,
        },
    }
    spec = _spec(cfg)
    assert (spec.architecture, spec.vocab_size, spec.head_dim) == ("gemma3", 262208, 256)
    assert (spec.num_attention_heads, spec.num_kv_heads) == (8, 4)  # Gemma3TextConfig defaults


def test_llava_text_model_from_mlc_preset() -> None:
    spec = _spec(_run("llava")["hf_config"])
    assert (spec.architecture, spec.num_layers, spec.hidden_size) == ("llava", 32, 4096)


# --- what the family forces in MLC's settings -------------------------------------------------


def _gemma2() -> ModelSpec:
    return _spec(next(r for r in TRUTH if r["id"].startswith("gemma2_2b"))["hf_config"])


def test_gemma2_context_forced_to_the_window() -> None:
    b = estimate(_gemma2(), RuntimeSettings(Runtime.MLC, context=8192, prefill=1024))
    assert b.settings.context == 4096
    assert any("sliding_window (4096)" in a for a in b.assumptions)
    # every layer attends over the forced context (no per-layer window in MLC's KV)
    assert b.kv_cache_bytes == b.kv_bytes_per_token * 4096


def test_gemma2_and_gemma3_windows_are_not_user_choices() -> None:
    rt = MlcRuntime()
    assert not rt.supports_sliding_window(_gemma2())
    gemma3 = _spec(next(r for r in TRUTH if r["model_type"] == "gemma3_text")["hf_config"])
    assert not rt.supports_sliding_window(gemma3)
    mistral = _spec(next(r for r in TRUTH if r["model_type"] == "mistral")["hf_config"])
    assert rt.supports_sliding_window(mistral)
    with pytest.raises(UsageError, match="context_window_size = sliding_window"):
        estimate(_gemma2(), RuntimeSettings(Runtime.MLC, sliding_window=1024))


def test_gemma3_kv_pool_covers_every_layer_and_default_context() -> None:
    gemma3 = _spec(next(r for r in TRUTH if r["model_type"] == "gemma3_text")["hf_config"])
    b = estimate(gemma3, RuntimeSettings(Runtime.MLC, context=8192, prefill=1024))
    assert b.kv_cache_bytes == b.kv_bytes_per_token * 8192
    d = estimate(gemma3, RuntimeSettings(Runtime.MLC))
    assert any("max(sliding window, 8192)" in a for a in d.assumptions)


def test_phi3_ignores_a_config_window() -> None:
    row = next(r for r in TRUTH if r["model_type"] == "phi3")
    spec = _spec({**row["hf_config"], "sliding_window": 2047, "max_position_embeddings": 4096})
    b = estimate(spec, RuntimeSettings(Runtime.MLC, context=4096, prefill=1024))
    assert b.kv_cache_bytes == b.kv_bytes_per_token * 4096
    with pytest.raises(UsageError, match="no sliding_window_size"):
        estimate(spec, RuntimeSettings(Runtime.MLC, sliding_window=1024))


def test_mistral_takes_the_config_window_and_sink() -> None:
    row = next(r for r in RUNS if r["id"].startswith("mistral_7b-q4f16_1"))
    spec = _spec({**row["hf_config"], "sliding_window": 4096})  # Mistral-7B-v0.1
    b = estimate(spec, RuntimeSettings(Runtime.MLC, context=8192))
    assert (b.settings.sliding_window, b.settings.attention_sink) == (4096, 4)
    assert b.settings.prefill == 4096
    assert b.kv_cache_bytes == b.kv_bytes_per_token * (4096 + 4)


def test_phi_msft_batch_bound_is_one() -> None:
    row = next(r for r in TRUTH if r["model_type"] == "phi-msft")
    spec = _spec(row["hf_config"], "phi-msft")
    b = estimate(spec, RuntimeSettings(Runtime.MLC, context=4096, prefill=512, max_batch_size=8))
    assert any("batch bound 1" in a for a in b.assumptions)
    one = estimate(spec, RuntimeSettings(Runtime.MLC, context=4096, prefill=512, max_batch_size=1))
    assert b.activations_bytes == one.activations_bytes


# --- refusals, compiler era --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(n for n, f in FAMILIES.items() if f.mlc.plannable))
def test_unplannable_family_names_itself(name: str) -> None:
    spec = _spec(TRUTH[0]["hf_config"], "llama").with_changes(architecture=name)
    with pytest.raises(UnsupportedArtifactError) as exc:
        estimate(spec, RuntimeSettings(Runtime.MLC))
    assert name in exc.value.message and "\n" not in exc.value.message
    assert exit_code_for(exc.value) is ExitCode.INVALID_INPUT


def test_every_plannable_family_has_a_layout() -> None:
    for name, fam in FAMILIES.items():
        assert (fam.layout is None) == (fam.mlc.plannable is not None and name != "rwkv5"), name


def _with_lib(spec: ModelSpec, usage: dict[str, int], prefill: int) -> ModelSpec:
    lib = CompiledLibInfo(
        path="/x/lib.so",
        memory_usage=tuple(sorted(usage.items())),
        prefill_chunk_size=prefill,
        max_batch_size=128,
        quantization="q4f16_1",
    )
    return spec.with_changes(compiled_lib=lib)


def test_old_and_mismatching_libraries_are_reported() -> None:
    spec = _spec(TRUTH[0]["hf_config"], "llama")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=4096, prefill=1024)
    old = estimate(_with_lib(spec, {"prefill": 999, "decode": 1}, 1024), s)
    assert any("predates MLC's paged KV cache" in n for n in old.notes)
    other = estimate(_with_lib(spec, {"batch_prefill": 999}, 2048), s)
    assert any("prefill chunk 2048 (asked 1024)" in n for n in other.notes)
    plain = estimate(spec, s)
    assert any("modelled on mlc-llm 79d603f" in n for n in plain.notes)


def test_unplannable_config_without_decoder_keys_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedArtifactError) as exc:
        _spec({"model_type": "qwen3_5", "vocab_size": 1000})
    assert "'qwen3_5' cannot be planned" in exc.value.message


def test_rwkv_config_parses_and_mlc_refuses_it() -> None:
    row = next(r for r in PARAMS_ONLY if r["id"] == "rwkv5")
    spec = _spec(row["hf_config"], "rwkv5")
    assert spec.num_attention_heads == spec.hidden_size // 64
    with pytest.raises(UnsupportedArtifactError, match="'rwkv5' cannot be planned: RWKV"):
        estimate(spec, RuntimeSettings(Runtime.MLC))
