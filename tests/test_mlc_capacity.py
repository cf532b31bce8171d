"""The KV pool MLC's engine allocates on a device (mlc-llm cpp/serve/config.cc
EstimateMemoryUsageOnMode), and the device rules that read the budget as allocated."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from planner.checks import CheckOptions, Status, check_device
from planner.device import DeviceProfile
from planner.rules import run_rules
from planner.runtimes import estimate, model_for
from planner.runtimes.mlc.capacity import (
    allocated,
    engine_kv_bytes_per_token,
    fit_tokens,
    pool_tokens,
)
from planner.settings import Runtime, RuntimeSettings
from tests.conftest import hf_spec

MIB = 2**20
Dev = Callable[[str], DeviceProfile]


def test_a_context_that_does_not_fit_gets_the_pool_that_does(device: Dev) -> None:
    # Llama-2-7B q4f16_1 at 2048 tokens on an 8 GB Android phone: MLC's engine budgets
    # 0.85 × 5 GiB (the OpenCL floor) and shortens the pool to what is left after start-up.
    spec = hf_spec("llama-2-7b")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=2048, prefill=256)
    d = device("galaxy-s23")
    b = estimate(spec, s)
    assert b.engine is not None
    per_token = spec.head_dim * spec.num_kv_heads * spec.num_layers * 4 + 1.25
    assert engine_kv_bytes_per_token(b) == per_token
    fit = int((5 * 1024 * MIB * 0.85 - b.engine.startup_bytes) / per_token)
    assert 0 < fit < 2048
    assert pool_tokens(b, d) == fit
    a = allocated(b, d)
    assert a.kv_cache_bytes < b.kv_cache_bytes
    assert a.kv_cache_bytes == -(-b.kv_cache_bytes * fit // 2048)
    # the engine's own total at that pool is its budget, within one token and the page rounding
    engine_total = b.engine.startup_bytes + fit * per_token
    assert 5 * 1024 * MIB * 0.85 - per_token <= engine_total <= 5 * 1024 * MIB * 0.85
    # the rules that compare resident memory read the allocated budget, and say so
    lmk = next(c for c in run_rules(b, d, CheckOptions()) if c.id == "android-lmk")
    assert lmk.measured_bytes == a.total_bytes
    assert f"{fit} tokens" in lmk.message
    # the engine's own rules read the plan: the KV for 2048 tokens does not fit, a warning
    kv = next(c for c in run_rules(b, d, CheckOptions()) if c.id == "mlc-kv-capacity")
    assert kv.status is Status.WARN and kv.measured_bytes == b.kv_cache_bytes


def test_a_context_that_fits_is_allocated_as_planned(device: Dev) -> None:
    spec = hf_spec("llama-3.2-1b")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=2048, prefill=256)
    d = device("galaxy-s23")
    b = estimate(spec, s)
    assert pool_tokens(b, d) == 2048
    assert allocated(b, d) is b


def test_a_sliding_window_does_not_shrink_the_pool(device: Dev) -> None:
    # Mistral with a 768-token window: the plan keeps window + sink tokens per sequence, but the
    # engine sizes the pool by the context (max_single_sequence_length), up to what fits.
    spec = hf_spec("mistral-7b-v0.3")
    s = RuntimeSettings(
        Runtime.MLC, quantization="q4f16_1", context=4096, prefill=256, sliding_window=768
    )
    d = device("galaxy-s23")
    b = estimate(spec, s)
    pool = pool_tokens(b, d)
    assert pool is not None and 772 < pool < 4096
    a = allocated(b, d)
    assert a.kv_cache_bytes > b.kv_cache_bytes
    assert dict(next(c for c in a.components if c.label == "KV cache").inputs)["tokens"] == str(
        pool
    )


def test_local_mode_caps_the_pool_at_8192_and_metal_at_32768(device: Dev) -> None:
    spec = hf_spec("llama-3.2-1b")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=16384, prefill=256)
    b = estimate(spec, s)
    jetson = device("jetson-agx-orin-64gb")  # CUDA, local mode: min(fit, context, 8192)
    assert pool_tokens(b, jetson) == 8192
    mac = device("macbook-pro-m4-max-128gb")  # Metal, local mode
    assert pool_tokens(b, mac) == 8192
    phone = device("iphone-16-pro-max")  # Metal, interactive mode: min(fit, context, 32768)
    fit_phone = pool_tokens(b, phone)
    assert fit_phone is not None and fit_phone <= 16384
    assert fit_phone == 16384  # interactive mode: no 8192 ceiling, and 16384 tokens fit
    big = estimate(spec, replace(s, context=131072))
    assert (pool_tokens(big, phone) or 0) <= 32768
    assert (fit_tokens(big, phone) or 0) > 32768 and pool_tokens(big, phone) == 32768


def test_no_pool_when_the_engine_refuses_or_the_runtime_is_onnxruntime(device: Dev) -> None:
    # Llama-3.1-8B q4f16_1 on a Pixel 8 Pro: start-up alone exceeds 4352 MiB (mlc-ai/mlc-llm#2703).
    spec = hf_spec("llama-3.1-8b")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=4096, prefill=1024)
    d = device("pixel-8-pro")
    b = estimate(spec, s)
    assert pool_tokens(b, d) is None and allocated(b, d) is b
    ort = estimate(hf_spec("llama-3.2-1b"), RuntimeSettings(Runtime.ONNXRUNTIME, context=4096))
    assert model_for(Runtime.ONNXRUNTIME).allocated(ort, d) is ort


def test_the_largest_context_is_still_the_engine_s(device: Dev) -> None:
    # Capping the resident total must not let the context search run away: the KV-capacity
    # warning still bounds it at what the engine can hold.
    spec = hf_spec("llama-2-7b")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=2048, prefill=256)
    d = device("galaxy-s23")
    r = check_device(spec, s, d)
    b = estimate(spec, s)
    assert r.max_context is not None
    assert r.max_context <= (pool_tokens(b, d) or 0)


def test_a_window_lifts_the_context_bound(device: Dev) -> None:
    # MLC sets context_window_size = -1 for a windowed model (max_single unbounded), so on a
    # large board in local mode the pool is the 8192-token ceiling, not the 4096 context.
    spec = hf_spec("mistral-7b-v0.3")
    s = RuntimeSettings(
        Runtime.MLC, quantization="q4f16_1", context=4096, prefill=256, sliding_window=768
    )
    b = estimate(spec, s)
    assert pool_tokens(b, device("jetson-agx-orin-64gb")) == 8192
    unwindowed = estimate(spec, replace(s, sliding_window=None))
    assert pool_tokens(unwindowed, device("jetson-agx-orin-64gb")) == 4096


def _deepseek_v2_lite() -> tuple[object, dict[str, object]]:
    import json
    from pathlib import Path

    from planner_adapters.hf_config import spec_from_hf_config

    rows = Path(__file__).parent / "data" / "mlc_families" / "params_only.jsonl"
    for line in rows.read_text().splitlines():
        row = json.loads(line)
        if row["model_type"] == "deepseek_v2":
            cfg = row["hf_config"]
            return spec_from_hf_config(cfg, source="t", path=Path("c.json"), name="t"), cfg
    raise AssertionError("no deepseek_v2 row")


def test_mla_pools_are_sized_by_the_latent(device: Dev) -> None:
    # MLC's metadata for MLA records one KV head of kv_lora_rank + qk_rope_head_dim
    # (deepseek_v2_model.py create_paged_kv_cache): the engine's per-token figure uses that.
    spec, cfg = _deepseek_v2_lite()
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=4096, prefill=256)
    b = estimate(spec, s)  # type: ignore[arg-type]
    width = int(cfg["kv_lora_rank"]) + int(cfg["qk_rope_head_dim"])  # type: ignore[call-overload]
    layers = int(cfg["num_hidden_layers"])  # type: ignore[call-overload]
    assert engine_kv_bytes_per_token(b) == width * layers * 4 + 1.25


def test_models_resident_together_are_not_one_engine(device: Dev) -> None:
    # Two models in one app run two engines, each sizing its own pool: not modelled, so the
    # combined budget is checked as planned; a draft model shares its main model's engine.
    from planner.runtimes import combine

    d = device("galaxy-s23")
    small = estimate(
        hf_spec("llama-3.2-1b"), RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=1024)
    )
    other = estimate(
        hf_spec("qwen2.5-0.5b"),
        RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=8192, prefill=256),
    )
    together = combine(small, other, "qwen2.5-0.5b", "co-resident model")
    assert pool_tokens(together, d) is None and allocated(together, d) is together
    drafted = combine(small, other, "draft qwen2.5-0.5b", "speculative decoding")
    assert pool_tokens(drafted, d) is not None


def test_kv_capacity_reads_the_pool_with_its_ceilings(device: Dev) -> None:
    # Local mode holds at most 8192 tokens however much fits (config.cc): a longer context on a
    # 64 GB board is cut, a warning that also bounds the largest context.
    spec = hf_spec("llama-3.2-1b")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=65536, prefill=256)
    d = device("jetson-agx-orin-64gb")
    r = check_device(spec, s, d)
    kv = next(c for c in r.checks if c.id == "mlc-kv-capacity")
    assert kv.status is Status.WARN and "8192 tokens" in kv.message
    assert r.max_context == 8192
    # fp32 KV: the engine sizes the pool as fp16, the message says it takes twice that
    f32 = check_device(spec, RuntimeSettings(Runtime.MLC, quantization="q4f32_1", context=1024), d)
    assert "twice" in next(c for c in f32.checks if c.id == "mlc-kv-capacity").message


def test_the_report_shows_the_budget_the_checks_read(device: Dev) -> None:
    spec = hf_spec("mistral-7b-v0.3")
    s = RuntimeSettings(
        Runtime.MLC, quantization="q4f16_1", context=4096, prefill=256, sliding_window=768
    )
    d = device("galaxy-s23")
    r = check_device(spec, s, d)
    lmk = next(c for c in r.checks if c.id == "android-lmk")
    assert lmk.measured_bytes == r.budget.total_bytes > estimate(spec, s).total_bytes


def test_a_batch_shares_the_pool_without_bounding_the_context(device: Dev) -> None:
    # Interactive and local modes cap the pool at one context (config.cc): with batch 2 the two
    # sequences share it. That is a note, not a limit: the largest context is still found.
    spec = hf_spec("llama-3.2-1b")
    d = device("jetson-agx-orin-64gb")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=2048, prefill=256, batch=2)
    r = check_device(spec, s, d)
    kv = next(c for c in r.checks if c.id == "mlc-kv-capacity")
    assert kv.status is Status.INFO and "shared" in kv.message, kv.message
    assert r.max_context is not None and r.max_context >= 2048


def test_a_draft_shares_its_model_s_engine(device: Dev) -> None:
    # One engine runs a model and its draft: parameters and workspaces add up, the temp buffer
    # budgeted is the larger of the two libraries' (config.cc InferForKVCache); two models
    # merely resident together reserve two of everything.
    from planner.runtimes import combine

    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=2048, prefill=512)
    main, draft = estimate(hf_spec("llama-3.1-8b"), s), estimate(hf_spec("llama-3.2-1b"), s)
    assert main.engine is not None and draft.engine is not None
    drafted = estimate(hf_spec("llama-3.1-8b"), s, hf_spec("llama-3.2-1b"))
    assert drafted.engine is not None
    assert drafted.engine.temp_buffer_bytes == max(
        main.engine.temp_buffer_bytes, draft.engine.temp_buffer_bytes
    )
    assert drafted.engine.params_bytes == main.engine.params_bytes + draft.engine.params_bytes
    two = combine(main, draft, "llama-3.2-1b", "co-resident")
    assert two.engine is not None
    assert two.engine.temp_buffer_bytes == (
        main.engine.temp_buffer_bytes + draft.engine.temp_buffer_bytes
    )
