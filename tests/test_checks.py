"""Deployment checks, including the cases public issue reports settled."""

from __future__ import annotations

from collections.abc import Callable

from planner.checks import CheckOptions, Status, check_device
from planner.device import DeviceProfile
from planner.settings import Runtime, RuntimeSettings
from tests.conftest import hf_spec

MIB = 2**20
Dev = Callable[[str], DeviceProfile]


def _check(report_checks: tuple, cid: str):  # type: ignore[no-untyped-def]
    return next(c for c in report_checks if c.id == cid)


def test_llama3_8b_q4_fails_mlc_android_budget_on_pixel_8_pro(device: Dev) -> None:
    # mlc-ai/mlc-llm#2686/#2703: "available single GPU memory is 4352.000 MB, which is less than
    # ... weight size (4308.133 MB) and temporary buffer size".
    spec = hf_spec("llama-3.1-8b")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=4096, prefill=1024)
    r = check_device(spec, s, device("pixel-8-pro"))
    engine = _check(r.checks, "mlc-engine")
    assert engine.status is Status.FAIL
    assert engine.limit_bytes == int(5 * 1024 * MIB * 0.85)  # 4352 MiB
    assert engine.limit_bytes == 4352 * MIB
    assert r.status is Status.FAIL


def test_llama_3_2_1b_q4_4k_passes_on_pixel_8_pro(device: Dev) -> None:
    spec = hf_spec("llama-3.2-1b")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=4096)
    r = check_device(spec, s, device("pixel-8-pro"))
    assert all(c.status in (Status.PASS, Status.SKIP) for c in r.checks), r.checks
    assert r.max_context is not None and r.max_context >= 4096


def test_llama_2_7b_fp16_fails_70_percent_rule_on_12gb_phone(device: Dev) -> None:
    spec = hf_spec("llama-2-7b")
    s = RuntimeSettings(Runtime.MLC, quantization="q0f16", context=2048)
    d = device("pixel-8-pro")
    assert d.ram_bytes.value == 12 * 1024 * MIB
    ram = _check(check_device(spec, s, d).checks, "ram-fraction")
    assert ram.status is Status.FAIL
    assert ram.limit_bytes == int(12 * 1024 * MIB * 0.7)
    assert ram.margin_bytes is not None and ram.margin_bytes < 0


def test_3_7_gb_model_needs_the_entitlement_on_an_8gb_iphone(device: Dev) -> None:
    # Phi-3.5-mini q4f16_1 at 4k: MLC reports ~3.7 GB (3672 MiB in WebLLM's table).
    spec = hf_spec("phi-3.5-mini")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=4096, prefill=1024)
    d = device("iphone-15-pro")
    plain = check_device(spec, s, d)
    b = plain.budget
    assert 3.4e9 < b.mlc_reported_bytes < 4.2e9
    ios = _check(plain.checks, "ios-app-limit")
    assert ios.status is Status.FAIL
    assert "entitlement" in ios.message
    entitled = check_device(spec, s, d, CheckOptions(entitlement=True))
    assert _check(entitled.checks, "ios-app-limit").status is Status.PASS


def test_ios_check_skipped_on_android(device: Dev) -> None:
    r = check_device(
        hf_spec("llama-3.2-1b"), RuntimeSettings(Runtime.MLC, context=1024), device("pixel-8-pro")
    )
    assert _check(r.checks, "ios-app-limit").status is Status.SKIP


def test_ram_fraction_is_configurable(device: Dev) -> None:
    spec = hf_spec("llama-3.1-8b")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=2048, prefill=512)
    d = device("pixel-8-pro")
    loose = _check(check_device(spec, s, d, CheckOptions(ram_fraction=0.9)).checks, "ram-fraction")
    tight = _check(check_device(spec, s, d, CheckOptions(ram_fraction=0.3)).checks, "ram-fraction")
    assert loose.status is Status.PASS and tight.status is Status.FAIL


def test_max_context_is_the_boundary(device: Dev) -> None:
    spec = hf_spec("llama-3.2-1b")
    s = RuntimeSettings(Runtime.ONNXRUNTIME, quantization="int4", prefill=256)
    d = device("iphone-15-pro")
    r = check_device(spec, s, d)
    assert r.max_context is not None and 256 < r.max_context < 131072
    from dataclasses import replace

    at = check_device(spec, replace(s, context=r.max_context), d)
    over = check_device(spec, replace(s, context=r.max_context + 1), d)
    assert at.status is not Status.FAIL
    assert over.status is Status.FAIL


def test_decode_speed_uses_bandwidth_and_efficiency(device: Dev) -> None:
    d = device("iphone-15-pro")
    r = check_device(hf_spec("llama-3.2-1b"), RuntimeSettings(Runtime.MLC, context=1024), d)
    assert r.decode is not None and d.mem_bandwidth_bytes_per_s is not None
    expected = (
        d.mem_bandwidth_bytes_per_s.value * d.decode_efficiency.value / r.decode.bytes_per_token
    )
    assert abs(r.decode.tokens_per_s - expected) < 1e-9
    assert r.decode.bytes_per_token >= r.budget.weights_bytes
