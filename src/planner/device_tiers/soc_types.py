"""The SoC family record and the shared, sourced decode-efficiency values."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from planner.device import (
    GpuApi,
    Sourced,
)

# SoC families: bandwidth and decode efficiency


@dataclass(frozen=True, slots=True, kw_only=True)
class SocFamily:
    """What a SoC family tells about a device: its GPU path, DRAM bandwidth, decode efficiency."""

    key: str
    """Lower-case hyphenated key (``snapdragon-8-gen-2``), the value of ``soc_family:``."""
    name: str
    vendor: str
    gpu: str
    gpu_api: GpuApi
    mlc_device: str | None
    memory_type: str
    bandwidth: Sourced[int] | None
    """Theoretical peak DRAM bandwidth (bytes/s)."""
    decode_efficiency: Sourced[float]
    aliases: tuple[str, ...] = ()


def _gbps(value: float, source: str, *, estimate: bool, note: str) -> Sourced[int]:
    return Sourced(value=round(value * 1e9), source=source, estimate=estimate, note=note)


_EFF_ADRENO = Sourced(
    value=0.5,
    source=(
        "planner phone nominal (band 0.35-0.65) from measured Adreno points: mlc-ai/relax "
        "PR #319 (8 Gen 3: 0.59-0.64), wangzhaode/mnn-llm#146 (8 Gen 2: >=0.54)"
    ),
    estimate=True,
    note="[E] Adreno OpenCL, no measurement for this SoC",
)
_EFF_ADRENO_8G2 = Sourced(
    value=0.54,
    source=(
        "wangzhaode/mnn-llm#146 comment: MLC-LLM OpenCL Llama-2-7B int4 '10+' tok/s on a "
        "Snapdragon 8 Gen 2 phone (>= 36 GB/s of 67.2 GB/s peak)"
    ),
    note="[D] lower bound; an older build reached ~0.38",
)
_EFF_ADRENO_8G3 = Sourced(
    value=0.59,
    source=(
        "mlc-ai/relax PR #319: MLC-LLM OpenCL Llama-2-7B q4f16_0 12.5 tok/s on Snapdragon "
        "8 Gen 3 (45-49 GB/s of 76.8 GB/s)"
    ),
    note="[D] low end of 0.59-0.64",
)
_EFF_MALI = Sourced(
    value=0.35,
    source=(
        "planner pessimistic phone value: MLC on Mali is poorly optimized (mlc-ai/mlc-llm#1495: "
        "Pixel 8 Pro RedPajama-3B 2.5 tok/s); immature Mali/Vulkan paths reach 0.3-0.4 of peak"
    ),
    estimate=True,
    note="[E] Mali / Immortalis / Xclipse / PowerVR GPU path",
)
_EFF_APPLE_PHONE = Sourced(
    value=0.5,
    source=(
        "planner phone nominal (band 0.35-0.65) from measured phone points: mlc-ai/relax PR "
        "#319, wangzhaode/mnn-llm#146; no iPhone decode measurement with known model bytes found"
    ),
    estimate=True,
    note="[E] sustained generation throttles (arXiv 2603.23640)",
)
_EFF_APPLE_M = Sourced(
    value=0.7,
    source=(
        "llama.cpp Metal on Apple M1: 0.80-0.83 of 68.25 GB/s (ggml-org/llama.cpp discussion "
        "#4167); M2 Max: 0.49 whole token, 0.72 in matmuls (Kawrakow Q6_K Metal commit); "
        "planner uses the low end of 0.7-0.85"
    ),
    estimate=True,
    note="[E] Apple M-series GPU",
)
_EFF_PI = Sourced(
    value=0.57,
    source=(
        "geerlingguy/ai-benchmarks#7: Ollama llama3.2:3b Q4_K_M (1.87 GiB) 4.88 tok/s on a "
        "Raspberry Pi 5 (9.8 of 17.1 GB/s)"
    ),
    note="[D] CPU decode; llama3.1:8b reached ~0.62",
)
_EFF_CPU_BOARD = Sourced(
    value=0.5,
    source=(
        "planner estimate for Arm boards decoding on the CPU, below the Raspberry Pi 5's "
        "measured 0.57-0.62 (geerlingguy/ai-benchmarks#7)"
    ),
    estimate=True,
    note="[E] CPU decode, no measurement for this SoC",
)
_EFF_ORIN_NANO = Sourced(
    value=0.31,
    source=(
        "paiml/realizar#120: llama.cpp CUDA Qwen2.5-Coder-1.5B Q4_K_M (~1.0 GB) 32.1 tok/s at "
        "102 GB/s"
    ),
    note="[D] small model, launch overhead dominates",
)
_EFF_ORIN_AGX = Sourced(
    value=0.42,
    source=(
        "nvidia-holoscan/holohub#170: llama.cpp CUDA Llama-2-7B 4-bit (~3.8 GB) 22.5 tok/s on "
        "Jetson AGX Orin (204.8 GB/s)"
    ),
    note="[D] 7B 4-bit",
)
_EFF_ORIN_NX = dataclasses.replace(
    _EFF_ORIN_AGX,
    estimate=True,
    note="[E] the AGX Orin's measured 0.42 (same Orin SoC, fewer GPU cores)",
)
_EFF_X_ELITE = Sourced(
    value=0.74,
    source=(
        "ggml-org/llama.cpp PR #8672: CPU Q4_0_4_8 'llama-v3.1' (~4.66 GB if 8B) 21.42 tok/s "
        "on Snapdragon X Elite (135 GB/s)"
    ),
    estimate=True,
    note="[E] model size inferred",
)

_SD_WIKICHIP_855 = (
    "en.wikichip.org qualcomm/snapdragon_800/855 (quad-channel LPDDR4X-4266); 4266 MT/s x 64-bit"
)


def _fam(
    key: str,
    name: str,
    vendor: str,
    gpu: str,
    gpu_api: GpuApi,
    mlc_device: str | None,
    memory_type: str,
    bandwidth: Sourced[int] | None,
    efficiency: Sourced[float],
    aliases: tuple[str, ...] = (),
) -> SocFamily:
    return SocFamily(
        key=key,
        name=name,
        vendor=vendor,
        gpu=gpu,
        gpu_api=gpu_api,
        mlc_device=mlc_device,
        memory_type=memory_type,
        bandwidth=bandwidth,
        decode_efficiency=efficiency,
        aliases=aliases,
    )


_PHONE_BUS = "x 64-bit (4x16-bit) phone bus"
