"""Tests of ``planner.runtimes.onnxruntime.measure``: real runs of small real ONNX models in a
child process.

The models come from ``tests/onnx_factory.py`` (genai-builder layout with GroupQueryAttention,
and an Optimum export); plain onnxruntime runs them, so these tests need only the ``.[test]``
install.
The onnxruntime-genai path runs only where onnxruntime-genai is installed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from planner.errors import InputError, MissingDependencyError, UsageError
from planner.runtimes.onnxruntime import _measure_child as child
from planner.runtimes.onnxruntime.measure import Measurement, measure

try:  # tests/ on sys.path (pytest's default rootdir-less layout) or tests as a package
    from onnx_factory import GenaiOptions, ModelConfig, build_genai, build_optimum
except ImportError:  # pragma: no cover
    from tests.onnx_factory import GenaiOptions, ModelConfig, build_genai, build_optimum

HAS_GENAI = importlib.util.find_spec("onnxruntime_genai") is not None
LINUX = sys.platform.startswith("linux")

# KV cache: layers x (K, V) x kv_heads x head_dim x 4 bytes = 2 KiB per token, so a context of
# 32768 tokens needs 64 MiB more than one of 256: far above allocator and page noise.
CFG = ModelConfig(
    layers=2,
    hidden=64,
    heads=4,
    kv_heads=2,
    head_dim=64,
    intermediate=128,
    vocab=256,
    context=32768,
)
KV_BYTES_PER_TOKEN = CFG.layers * 2 * CFG.kv_heads * CFG.head_dim * 4
SMALL, LARGE = 256, 32768


@pytest.fixture(scope="module")
def genai_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("genai-int4")
    build_genai(folder, CFG, GenaiOptions(precision="int4"))
    return folder


@pytest.fixture(scope="module")
def optimum_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("optimum")
    build_optimum(folder, CFG)
    return folder


def _check_shape(m: Measurement, phases: tuple[str, ...]) -> None:
    assert tuple(p.name for p in m.phases) == phases
    assert m.added_peak_bytes == m.peak_rss_bytes - m.baseline_rss_bytes
    assert m.added_peak_bytes > 0
    # The final peak is the highest value seen; every phase's peak is at most that.
    assert all(p.peak_rss_bytes <= m.peak_rss_bytes for p in m.phases)
    assert m.phases[0].rss_bytes == m.baseline_rss_bytes
    if LINUX:
        assert m.memory_source == "proc-status"
        assert m.peak_reset
        assert all(p.rss_anon_bytes is not None and p.rss_file_bytes is not None for p in m.phases)
    assert "onnxruntime" in m.versions


def test_fallback_shared_buffer_grows_by_exactly_the_kv_cache(genai_model: Path) -> None:
    small = measure(genai_model, context=SMALL, prefill=16, backend="onnxruntime")
    large = measure(genai_model, context=LARGE, prefill=16, backend="onnxruntime")
    for m in (small, large):
        _check_shape(m, ("import", "model_load", "generator", "prefill", "decode"))
        assert m.backend == "onnxruntime"
        assert m.kv_mode == "shared-buffer"
        assert m.decode_steps == 8
    expected = (LARGE - SMALL) * KV_BYTES_PER_TOKEN
    # The whole cache is allocated when the generator is created, before any run.
    grown_at_generator = (
        large.phase("generator").rss_bytes - large.phase("model_load").rss_bytes
    ) - (small.phase("generator").rss_bytes - small.phase("model_load").rss_bytes)
    assert grown_at_generator == pytest.approx(expected, rel=0.05)
    assert large.added_peak_bytes - small.added_peak_bytes == pytest.approx(expected, rel=0.10)


def test_fallback_growing_past_holds_past_and_present(optimum_model: Path) -> None:
    small = measure(optimum_model, context=SMALL, prefill=16, backend="onnxruntime")
    large = measure(optimum_model, context=LARGE, prefill=16, backend="onnxruntime")
    assert large.kv_mode == small.kv_mode == "growing"
    assert large.decode_steps == 1
    _check_shape(large, ("import", "model_load", "generator", "prefill", "decode"))
    # The last step holds a past of context-1 tokens and a present of context tokens.
    assert large.added_peak_bytes - small.added_peak_bytes >= 1.9 * (LARGE - SMALL) * (
        KV_BYTES_PER_TOKEN
    )


def test_prompt_filling_the_context_runs_no_decode_step(genai_model: Path) -> None:
    m = measure(genai_model, context=64, prefill=64, decode_tokens=4, backend="onnxruntime")
    assert m.decode_steps == 0
    assert m.prefill == m.context == 64


@pytest.mark.skipif(not HAS_GENAI, reason="onnxruntime-genai is not installed")
def test_genai_backend_matches_kv_growth_and_fallback(genai_model: Path) -> None:
    small = measure(genai_model, context=SMALL, prefill=16)
    large = measure(genai_model, context=LARGE, prefill=16)
    for m in (small, large):
        assert m.backend == "onnxruntime-genai"
        assert m.kv_mode == "genai"
        assert "onnxruntime_genai" in m.versions
        _check_shape(m, ("import", "model_load", "generator", "prefill", "decode"))
    expected = (LARGE - SMALL) * KV_BYTES_PER_TOKEN
    assert large.added_peak_bytes - small.added_peak_bytes == pytest.approx(expected, rel=0.10)
    fallback = measure(genai_model, context=LARGE, prefill=16, backend="onnxruntime")
    # The fallback leaves out only genai's own bookkeeping (a few MB on this model).
    assert abs(large.added_peak_bytes - fallback.added_peak_bytes) < 32 * 2**20


@pytest.mark.skipif(HAS_GENAI, reason="onnxruntime-genai is installed")
def test_requesting_genai_without_it_names_the_extra(genai_model: Path) -> None:
    with pytest.raises(MissingDependencyError) as info:
        measure(genai_model, context=64, prefill=8, backend="onnxruntime-genai")
    assert info.value.hint is not None and "mlc-planner[genai]" in info.value.hint


@pytest.mark.skipif(not HAS_GENAI, reason="onnxruntime-genai is not installed")
def test_genai_backend_without_genai_config_is_an_input_error(optimum_model: Path) -> None:
    with pytest.raises(InputError, match=r"genai_config\.json"):
        measure(optimum_model, context=64, prefill=8, backend="onnxruntime-genai")


def test_unreadable_model_is_a_one_line_input_error(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"this is not a protobuf\n" * 10)
    with pytest.raises(InputError) as info:
        measure(tmp_path, context=64, prefill=8, backend="onnxruntime")
    text = str(info.value)
    assert "\n" not in text
    assert str(tmp_path) in text


def test_folder_without_a_model_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\.onnx"):
        measure(tmp_path, context=64, prefill=8, backend="onnxruntime")
    with pytest.raises(InputError, match="not a model folder"):
        measure(tmp_path / "missing", context=64, prefill=8)


def test_decoder_file_outside_the_folder_is_refused(tmp_path: Path, genai_model: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "genai_config.json").write_text(
        '{"model": {"vocab_size": 256, "decoder": {"filename": "../evil.onnx"}}}'
    )
    (tmp_path / "evil.onnx").write_bytes((genai_model / "model.onnx").read_bytes())
    with pytest.raises(InputError, match="inside the model folder"):
        measure(folder, context=64, prefill=8, backend="onnxruntime")


def test_timeout_is_an_input_error(genai_model: Path) -> None:
    with pytest.raises(InputError, match="timed out"):
        measure(genai_model, context=64, prefill=8, timeout_s=0.01, backend="onnxruntime")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"context": 0, "prefill": 1}, "context"),
        ({"context": 8, "prefill": 0}, "prefill"),
        ({"context": 8, "prefill": 9}, "exceed"),
        ({"context": 8, "prefill": 4, "decode_tokens": -1}, "decode_tokens"),
        ({"context": True, "prefill": 1}, "context"),
        ({"context": 8, "prefill": 4, "backend": "tensorrt"}, "backend"),
        ({"context": 8, "prefill": 4, "timeout_s": 0}, "timeout"),
    ],
)
def test_bad_arguments_are_usage_errors(
    tmp_path: Path, kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(UsageError, match=match):
        measure(tmp_path, **kwargs)  # type: ignore[arg-type]


def test_prompt_ids_stay_in_vocab_and_avoid_eos() -> None:
    ids = child.prompt_ids(2000, 50, {2, 7}, seed=3)
    assert len(ids) == 2000
    assert all(0 <= t < 50 for t in ids)
    assert not {2, 7} & set(ids)
    assert ids == child.prompt_ids(2000, 50, {2, 7}, seed=3)
    assert len(set(ids)) == 48
    with pytest.raises(child.ChildError):
        child.prompt_ids(4, 2, {0, 1}, seed=0)


@pytest.mark.skipif(not LINUX, reason="--fixed-heap sets a glibc tunable: Linux only")
def test_a_fixed_heap_run_sets_glibcs_threshold_and_names_its_platform(
    genai_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [k for k in os.environ if k.startswith("MALLOC_") or k == "GLIBC_TUNABLES"]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0")
    fixed = measure(genai_model, context=SMALL, prefill=16, backend="onnxruntime", fixed_heap=True)
    # the caller's own tunables are dropped; only the fixed threshold reaches the child
    assert dict(fixed.malloc_env) == {"MALLOC_MMAP_THRESHOLD_": "131072"}
    plain = measure(genai_model, context=SMALL, prefill=16, backend="onnxruntime")
    assert dict(plain.malloc_env) == {
        "MALLOC_ARENA_MAX": "2",
        "GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0",
    }
    assert fixed.to_json()["fixed_heap"] is True and plain.to_json()["fixed_heap"] is False
    assert plain.ort_platform is not None
    assert fixed.ort_platform == plain.ort_platform + "-fixedheap"
