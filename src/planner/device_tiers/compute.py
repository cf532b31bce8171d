"""Effective prompt-processing throughput per SoC family, for time-to-first-token (pure data).

"Effective" is what LLM prefill really reaches, 2 × parameters × prompt tokens/s, not the
vendor's peak: measured where a public benchmark names the chip, else an estimate with its basis
(marked). Vendors publish almost nothing for phone GPUs, so most rows are estimates; the
objective treats time to first token as a soft preference, and ``--max-ttft`` only applies
where a figure exists.

Measured anchors (2 × params × prefill tokens/s): Apple M4 3.61 TFLOPS and M1 Max 8.02 (llama.cpp
Metal, Llama-3.1-8B Q4_K_M, brand-o/normiebench #3/#40: 77–78 % of the FP32 peak of the
huggingface.js hardware table), Apple M5 8.8 (llama.cpp PR #16634), Snapdragon X Elite 1.71
(llama.cpp PR #19840, Qwen3-4B), Snapdragon 8 Gen 3 0.74 (llama.cpp #14337, Qwen2.5-1.5B), A17 Pro
0.75 (mlc-llm #1359, CodeLlama-7B q3f16_1), Raspberry Pi 5 CPU 0.11 (llama.cpp PR #6928,
Llama-2-7B Q4_0 8.1 tokens/s).
"""

from __future__ import annotations

from planner.device import DeviceProfile, Sourced

TERA = 1e12


def _m(tflops: float, source: str) -> Sourced[float]:
    return Sourced(value=tflops * TERA, source=source, estimate=False, note="")


def _e(tflops: float, basis: str) -> Sourced[float]:
    return Sourced(value=tflops * TERA, source=f"planner estimate: {basis}", estimate=True, note="")


_APPLE_M = "llama.cpp Metal reaches 77-78 % of the FP32 peak (M4 3.61, M1 Max 8.02 measured)"
_A17 = "A17 Pro 0.75 TFLOPS measured with MLC (mlc-llm #1359); scaled by GPU generation"
_ADRENO = "Snapdragon 8 Gen 3 0.74 TFLOPS measured (llama.cpp #14337); scaled by Adreno generation"
_MALI = "no phone Mali/Immortalis prefill measurement published; about half a same-year Adreno"

PREFILL_FLOPS: dict[str, Sourced[float]] = {
    "m1": _e(2.0, f"FP32 peak 2.6 TFLOPS x 0.77; {_APPLE_M}"),
    "m2": _e(2.8, f"FP32 peak 3.6 TFLOPS x 0.77; {_APPLE_M}"),
    "m3": _e(3.2, f"FP32 peak 4.1 TFLOPS x 0.77; {_APPLE_M}"),
    "m4": _m(3.61, "brand-o/normiebench #3: M4 Mac mini, Llama-3.1-8B Q4_K_M, 224.8 tok/s pp512"),
    "m4-pro": _e(7.1, f"FP32 peak 9.2 TFLOPS x 0.77; {_APPLE_M}"),
    "m4-max": _e(14.2, f"FP32 peak 18.4 TFLOPS x 0.77; {_APPLE_M}"),
    "m5": _m(8.8, "llama.cpp PR #16634: Apple M5, Mistral-7B Q4_0, 608 tok/s pp512 (Metal 4)"),
    "a12": _e(0.35, _A17),
    "a13": _e(0.4, _A17),
    "a14": _e(0.45, _A17),
    "a15": _e(0.55, _A17),
    "a16": _e(0.65, _A17),
    "a17-pro": _m(0.75, "mlc-ai/mlc-llm #1359: iPhone 15 Pro, CodeLlama-7B q3f16_1, 56 tok/s"),
    "a18": _e(0.85, _A17),
    "a19": _e(0.9, _A17),
    "a19-pro": _e(1.0, _A17),
    "snapdragon-855": _e(0.3, _ADRENO),
    "snapdragon-865": _e(0.35, _ADRENO),
    "snapdragon-888": _e(0.4, _ADRENO),
    "snapdragon-8-gen-1": _e(0.5, _ADRENO),
    "snapdragon-8-gen-2": _e(0.6, _ADRENO),
    "snapdragon-8-gen-3": _m(
        0.74, "ggml-org/llama.cpp #14337: Adreno 750, Qwen2.5-1.5B, 238.9 tok/s"
    ),
    "snapdragon-8-elite": _e(1.2, f"{_ADRENO}; Adreno 840 measured 1.60 (llama.cpp PR #22755)"),
    "snapdragon-7-plus-gen-2": _e(0.4, _ADRENO),
    "snapdragon-x": _m(1.71, "ggml-org/llama.cpp PR #19840: X Elite, Qwen3-4B Q4_1, 213.8 tok/s"),
    "dimensity-1080": _e(0.15, _MALI),
    "dimensity-8300": _e(0.3, _MALI),
    "dimensity-9000": _e(0.3, _MALI),
    "dimensity-9200": _e(0.35, _MALI),
    "dimensity-9300": _e(0.45, _MALI),
    "tensor-g1": _e(0.25, _MALI),
    "tensor-g2": _e(0.3, _MALI),
    "tensor-g3": _e(0.3, _MALI),
    "tensor-g4": _e(0.3, _MALI),
    "tensor-g5": _e(0.4, _MALI),
    "exynos-2100": _e(0.25, _MALI),
    "exynos-2200": _e(0.35, f"{_MALI} (RDNA2 Xclipse)"),
    "exynos-2400": _e(0.45, f"{_MALI} (RDNA3 Xclipse)"),
    "exynos-1380": _e(0.12, _MALI),
    "orin-nano": _e(2.5, "Ampere GPU 40-67 INT8 sparse TOPS (NVIDIA); FP16 dense about a sixth"),
    "orin-nx": _e(4.0, "Ampere GPU up to 100 INT8 sparse TOPS (NVIDIA datasheet); a sixth"),
    "agx-orin": _e(10.0, "Ampere GPU 170-275 INT8 sparse TOPS (NVIDIA); a sixth as FP16 dense"),
    "bcm2711": _e(0.04, "Raspberry Pi 4 CPU: about a third of the Pi 5 (0.11 measured)"),
    "bcm2712": _m(0.11, "ggml-org/llama.cpp PR #6928: Raspberry Pi 5, Llama-2-7B Q4_0, 8.1 tok/s"),
    "rk3588": _e(0.12, "RK3588 CPU path like the Raspberry Pi 5 (0.11 measured)"),
}
"""Effective prefill FLOP/s by SoC family key (``planner.device_tiers.SOC_FAMILIES``)."""


def prefill_flops(d: DeviceProfile) -> Sourced[float] | None:
    """The device's effective prefill throughput (FLOP/s), from its SoC family; None when the
    profile names no family planner knows."""
    if d.soc_family is None:
        return None
    return PREFILL_FLOPS.get(d.soc_family)
