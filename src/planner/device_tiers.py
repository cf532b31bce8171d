"""Device tiers: any device described by its facts (``android:6GB``), from sourced rules.

A *tier* is what planner can say about a device from a few facts alone: its OS, its RAM, and
optionally its SoC family, the memory its GPU API reports and its Android version. The rules
that turn those facts into limits are explicit tables here, every number with its source and
marked as an estimate (a tier value is an inference for any particular device):

* iOS / iPadOS per-app memory limits per RAM tier, without and with the
  ``increased-memory-limit`` entitlement (``IPHONE_TIERS``, ``IPAD_TIERS``);
* the Android foreground budget per RAM tier and Android version, from how lmkd decides whom
  to kill (``ANDROID_ANCHORS``, ``ANDROID_ERAS``; derivation in docs/devices.md);
* MLC's engine device memory per GPU API (OpenCL ``max(CL_DEVICE_GLOBAL_MEM_SIZE, 5 GiB)``,
  Metal ``recommendedMaxWorkingSetSize``, CUDA/Vulkan the reported device memory);
* peak DRAM bandwidth and decode efficiency per SoC family (``SOC_FAMILIES``).

A named profile is a tier plus what is known better about that device: the loader fills every
number a profile leaves out from these rules (``apply_tier``) and records which
(``DeviceProfile.from_tier``), so a named 6 GB phone gets exactly its tier's verdict unless its
profile gives its own, device-specific number.

Pure: no file access. ``parse_device_query`` turns ``--device android:6GB`` into a
``DeviceQuery``; ``query_from_options`` does the same from separate options (``--os``,
``--ram``, ``--soc``, ``--gpu-memory``); ``tier_profile`` builds the profile.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import re
from dataclasses import dataclass

from planner.device import (
    ANDROID_BACKGROUND_NOTE,
    DEFAULT_DECODE_EFFICIENCY_NOTE,
    GPU_APIS,
    OS_NAMES,
    DeviceProfile,
    GpuApi,
    OsName,
    Sourced,
    name_key,
)
from planner.errors import UsageError

MIB = 1024**2
GIB = 1024**3

MLC_CONFIG_CC = "mlc-ai/mlc-llm cpp/serve/config.cc TotalDetectGlobalMemory (@79d603f)"

TIER_FIELDS: tuple[str, ...] = (
    "mem_bandwidth_bytes_per_s",
    "ios_app_limit_bytes",
    "ios_app_limit_entitled_bytes",
    "metal_working_set_bytes",
    "android_foreground_budget_bytes",
    "mlc_engine_memory_bytes",
    "decode_efficiency",
)
"""``DeviceProfile`` fields the tier rules can fill."""

LIMIT_FIELDS: tuple[str, ...] = (
    "ios_app_limit_bytes",
    "ios_app_limit_entitled_bytes",
    "android_foreground_budget_bytes",
    "mlc_engine_memory_bytes",
)
"""The fields a verdict depends on (besides RAM): the limits the checks compare against."""

DEFAULT_DECODE_EFFICIENCY = Sourced(
    value=0.5,
    source=(
        "planner phone nominal from measured Adreno points: mlc-ai/relax PR #319 "
        "(Snapdragon 8 Gen 3: 0.59-0.64), wangzhaode/mnn-llm#146 (8 Gen 2: >=0.54)"
    ),
    estimate=True,
    note=DEFAULT_DECODE_EFFICIENCY_NOTE,
)
"""Decode efficiency when neither the profile nor its SoC family gives one."""


# --------------------------------------------------------------------------------------------
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

SOC_FAMILIES: dict[str, SocFamily] = {
    f.key: f
    for f in (
        # Qualcomm Snapdragon (Adreno, OpenCL; MLC preset android:adreno)
        _fam(
            "snapdragon-855",
            "Qualcomm Snapdragon 855 / 855+ / 860",
            "Qualcomm",
            "Adreno 640",
            "opencl",
            "android:adreno",
            "LPDDR4X-4266, 64-bit",
            _gbps(34.1, _SD_WIKICHIP_855, estimate=False, note="[D]"),
            _EFF_ADRENO,
            ("snapdragon-860", "sd855", "sd860"),
        ),
        _fam(
            "snapdragon-865",
            "Qualcomm Snapdragon 865 / 865+ / 870",
            "Qualcomm",
            "Adreno 650",
            "opencl",
            "android:adreno",
            "LPDDR5-5500 or LPDDR4X-4266, 64-bit",
            _gbps(
                44.0,
                "techwarrant.com Snapdragon 888 vs 865 table (865: LPDDR4x-2133 or "
                "LPDDR5-2750); 5500 MT/s " + _PHONE_BUS,
                estimate=False,
                note="[D] LPDDR5 phones; LPDDR4X phones 34.1 GB/s",
            ),
            _EFF_ADRENO,
            ("snapdragon-870", "sd865", "sd870"),
        ),
        _fam(
            "snapdragon-888",
            "Qualcomm Snapdragon 888 / 888+",
            "Qualcomm",
            "Adreno 660",
            "opencl",
            "android:adreno",
            "LPDDR5-6400, 64-bit",
            _gbps(
                51.2,
                "true-tech.net Snapdragon 888 key specs (memory controller 4x 16-bit CH @ "
                "3200MHz LPDDR5 / 51.2GB/s); techwarrant.com (LPDDR5-3200)",
                estimate=False,
                note="[S]",
            ),
            _EFF_ADRENO,
            ("sd888",),
        ),
        _fam(
            "snapdragon-8-gen-1",
            "Qualcomm Snapdragon 8 Gen 1 / 8+ Gen 1",
            "Qualcomm",
            "Adreno 730",
            "opencl",
            "android:adreno",
            "LPDDR5-6400, 64-bit",
            _gbps(
                51.2,
                "gadgetsinnepal.com.np snapdragon-8-gen-1 (3200MHz LPDDR5 quad-channel, 51.2 GB/s)",
                estimate=False,
                note="[S]",
            ),
            _EFF_ADRENO,
            ("snapdragon-8-plus-gen-1", "sd8g1"),
        ),
        _fam(
            "snapdragon-8-gen-2",
            "Qualcomm Snapdragon 8 Gen 2",
            "Qualcomm",
            "Adreno 740",
            "opencl",
            "android:adreno",
            "LPDDR5X-8400, 64-bit",
            _gbps(
                67.2,
                "phoneworld.com.pk Snapdragon 8 Gen 2 official (LPDDR5X up to 4200 MHz = 8400 "
                "MT/s " + _PHONE_BUS + ")",
                estimate=False,
                note="[D]",
            ),
            _EFF_ADRENO_8G2,
            ("sd8g2",),
        ),
        _fam(
            "snapdragon-8-gen-3",
            "Qualcomm Snapdragon 8 Gen 3",
            "Qualcomm",
            "Adreno 750",
            "opencl",
            "android:adreno",
            "LPDDR5X-9600, 64-bit",
            _gbps(
                76.8,
                "droidholic.com snapdragon-8-gen-3-launched (LPDDR5X up to 4800MHz = 9600 MT/s "
                + _PHONE_BUS
                + "); fyss.in Snapdragon 8 Gen 3 specs",
                estimate=False,
                note="[D] SoC maximum; module speed per phone not sourced",
            ),
            _EFF_ADRENO_8G3,
            ("sd8g3",),
        ),
        _fam(
            "snapdragon-8-elite",
            "Qualcomm Snapdragon 8 Elite",
            "Qualcomm",
            "Adreno 830",
            "opencl",
            "android:adreno",
            "LPDDR5X-10600, 64-bit",
            _gbps(
                84.8,
                "geektopia.es 2024/10/22 Snapdragon 8 Elite (LPDDR5X 5300 MHz = 10600 MT/s, "
                "84.8 GB/s); hi-tech.ua (dual-channel LPDDR5X-5300)",
                estimate=False,
                note="[S]",
            ),
            _EFF_ADRENO,
            ("snapdragon-8-gen-4", "sd8elite"),
        ),
        _fam(
            "snapdragon-7-plus-gen-2",
            "Qualcomm Snapdragon 7+ Gen 2",
            "Qualcomm",
            "Adreno 725",
            "opencl",
            "android:adreno",
            "LPDDR5, 64-bit",
            _gbps(
                51.2,
                "gadgets360.com Poco F5 India launch (Snapdragon 7+ Gen 2 with up to 16GB "
                "LPDDR5); speed assumed LPDDR5-6400 " + _PHONE_BUS,
                estimate=True,
                note="[E] memory speed not sourced",
            ),
            _EFF_ADRENO,
        ),
        _fam(
            "snapdragon-x",
            "Qualcomm Snapdragon X Elite / X Plus",
            "Qualcomm",
            "Adreno X1-85 / X1-45",
            "opencl",
            "windows:adreno_x86",
            "LPDDR5X-8448, 128-bit",
            _gbps(
                135.0,
                "beebom.com Snapdragon X Elite (LPDDR5X-8448, 135 GB/s); tweaktown.com "
                "pre-launch leak (LPDDR5X-8533, 136 GB/s)",
                estimate=False,
                note="[S]",
            ),
            _EFF_X_ELITE,
            ("snapdragon-x-elite", "snapdragon-x-plus", "x-elite", "x-plus"),
        ),
        # MediaTek Dimensity (Mali / Immortalis, OpenCL; MLC preset android)
        _fam(
            "dimensity-1080",
            "MediaTek Dimensity 1080",
            "MediaTek",
            "Mali-G68 MC4",
            "opencl",
            "android",
            "LPDDR4X or LPDDR5, 64-bit",
            _gbps(
                34.1,
                "techgit.net Dimensity 1080 spec table (up to LPDDR5); speed not published "
                "there: LPDDR4X-4266 " + _PHONE_BUS + " assumed",
                estimate=True,
                note="[E] memory speed not sourced",
            ),
            _EFF_MALI,
        ),
        _fam(
            "dimensity-8300",
            "MediaTek Dimensity 8300 / 8300-Ultra",
            "MediaTek",
            "Mali-G615 MC6",
            "opencl",
            "android",
            "LPDDR5X-8533, 64-bit",
            _gbps(
                68.3,
                "sammobile.com Dimensity 8300 (quad-channel LPDDR5X at 8,533Mbps); prohardver.hu "
                "(64-bit controller)",
                estimate=False,
                note="[D]",
            ),
            _EFF_MALI,
            ("dimensity-8300-ultra",),
        ),
        _fam(
            "dimensity-9000",
            "MediaTek Dimensity 9000",
            "MediaTek",
            "Mali-G710 MC10",
            "opencl",
            "android",
            "LPDDR5X-7500, 64-bit",
            _gbps(
                60.0,
                "kenyannews.co.ke / Micron press release (Dimensity 9000 LPDDR5X up to 7.5 Gb/s); "
                "7500 MT/s " + _PHONE_BUS,
                estimate=False,
                note="[D]",
            ),
            _EFF_MALI,
        ),
        _fam(
            "dimensity-9200",
            "MediaTek Dimensity 9200",
            "MediaTek",
            "Immortalis-G715 MC11",
            "opencl",
            "android",
            "LPDDR5X-8533, 64-bit",
            _gbps(
                68.3,
                "q2.tel Dimensity 9200 spec table (LPDDR5x up to 8,533Mbps); elotrolado.net; "
                "8533 MT/s " + _PHONE_BUS,
                estimate=False,
                note="[D]",
            ),
            _EFF_MALI,
        ),
        _fam(
            "dimensity-9300",
            "MediaTek Dimensity 9300",
            "MediaTek",
            "Immortalis-G720 MC12",
            "opencl",
            "android",
            "LPDDR5T-9600, 64-bit",
            _gbps(
                76.8,
                "SK hynix LPDDR5T for Dimensity 9300 (9,600 MT/s, peak 76.8 GB/s), as reported "
                "by iosandwebtechnologies.com",
                estimate=False,
                note="[S] phones with LPDDR5X-8533 reach 68.3 GB/s",
            ),
            _EFF_MALI,
        ),
        # Google Tensor (Mali / PowerVR, OpenCL; MLC preset android)
        _fam(
            "tensor-g1",
            "Google Tensor (GS101)",
            "Google",
            "Mali-G78 MP20",
            "opencl",
            "android",
            "LPDDR5-6400, 64-bit",
            _gbps(
                51.2,
                "realmicentral.com/2021/11/04 Google Tensor analysis (AnandTech table: 4x 16-bit "
                "CH @ 3200MHz LPDDR5 / 51.2GB/s)",
                estimate=False,
                note="[S]",
            ),
            _EFF_MALI,
            ("tensor", "gs101"),
        ),
        _fam(
            "tensor-g2",
            "Google Tensor G2 (GS201)",
            "Google",
            "Mali-G710 MP7",
            "opencl",
            "android",
            "LPDDR5, 64-bit",
            _gbps(
                51.2,
                "planner estimate: same LPDDR5 controller as Tensor G1 (realmicentral.com "
                "AnandTech table, 51.2 GB/s); moneycontrol.com Geekbench (LPDDR5)",
                estimate=True,
                note="[E] memory speed not sourced",
            ),
            _EFF_MALI,
            ("gs201",),
        ),
        _fam(
            "tensor-g3",
            "Google Tensor G3 (zuma)",
            "Google",
            "Mali-G715 MC10",
            "opencl",
            "android",
            "LPDDR5X, 64-bit",
            _gbps(
                51.2,
                "winfuture.de news 136629 (Tensor G3 supports LPDDR5X; speed not given); planner "
                "assumes the Tensor G1 figure (51.2 GB/s) as a floor",
                estimate=True,
                note="[E] memory speed not sourced (51-68 GB/s)",
            ),
            _EFF_MALI,
            ("zuma",),
        ),
        _fam(
            "tensor-g4",
            "Google Tensor G4",
            "Google",
            "Mali-G715 MC7",
            "opencl",
            "android",
            "LPDDR5X, 64-bit",
            _gbps(
                67.2,
                "biggo.com Tensor G5 article (Tensor G4 'LPDDR5X-4200', read as 4200 MHz = 8400 "
                "MT/s " + _PHONE_BUS + ")",
                estimate=True,
                note="[E] ambiguous source",
            ),
            _EFF_MALI,
        ),
        _fam(
            "tensor-g5",
            "Google Tensor G5 (laguna)",
            "Google",
            "Imagination DXT-48-1536",
            "opencl",
            "android",
            "LPDDR5X-8533, 64-bit",
            _gbps(
                68.3,
                "notebookcheck.net Key Google Tensor G5 and Tensor G6 specs revealed (4x16-bit "
                "LPDDR5X-8533)",
                estimate=True,
                note="[L] leaked spec",
            ),
            _EFF_MALI,
            ("laguna",),
        ),
        # Samsung Exynos
        _fam(
            "exynos-2100",
            "Samsung Exynos 2100",
            "Samsung",
            "Mali-G78 MP14",
            "opencl",
            "android",
            "LPDDR5, 64-bit",
            _gbps(
                51.2,
                "planner estimate: LPDDR5-6400 " + _PHONE_BUS + ", as the contemporary "
                "Snapdragon 888 (true-tech.net table)",
                estimate=True,
                note="[E] memory speed not sourced",
            ),
            _EFF_MALI,
        ),
        _fam(
            "exynos-2200",
            "Samsung Exynos 2200",
            "Samsung",
            "Xclipse 920",
            "opencl",
            "android",
            "LPDDR5, 64-bit",
            _gbps(
                51.2,
                "planner estimate: LPDDR5-6400 " + _PHONE_BUS + ", as the contemporary "
                "Snapdragon 8 Gen 1 (gadgetsinnepal.com.np)",
                estimate=True,
                note="[E] memory speed not sourced",
            ),
            _EFF_MALI,
        ),
        _fam(
            "exynos-2400",
            "Samsung Exynos 2400",
            "Samsung",
            "Xclipse 940 (RDNA3)",
            "opencl",
            "android",
            "LPDDR5X-8533, 64-bit",
            _gbps(
                68.3,
                "citylife.capetown Galaxy S24 (LPDDR5X 8.5 Gbps); 8533 MT/s " + _PHONE_BUS,
                estimate=True,
                note="[L/D] spec aggregator",
            ),
            _EFF_MALI,
        ),
        _fam(
            "exynos-1380",
            "Samsung Exynos 1380",
            "Samsung",
            "Mali-G68 MP5",
            "opencl",
            "android",
            "LPDDR4X or LPDDR5, 64-bit",
            _gbps(
                34.1,
                "planner estimate: LPDDR4X-4266 " + _PHONE_BUS + " (mid-range Exynos; "
                "androidpolice.com Galaxy A54 report names the SoC, not the memory speed)",
                estimate=True,
                note="[E] memory speed not sourced",
            ),
            _EFF_MALI,
        ),
        # Apple A-series (iPhone, iPad; Metal; MLC preset iphone)
        _fam(
            "a12",
            "Apple A12 Bionic",
            "Apple",
            "Apple 4-core GPU",
            "metal",
            "iphone",
            "LPDDR4X, 64-bit",
            _gbps(
                34.1,
                "planner estimate: LPDDR4X-4266 x 64-bit (iPhones use a 64-bit bus, "
                "shiftdelete.net), as the A14 (topcpu.net 34.1 GB/s)",
                estimate=True,
                note="[E] memory speed not sourced",
            ),
            _EFF_APPLE_PHONE,
        ),
        _fam(
            "a13",
            "Apple A13 Bionic",
            "Apple",
            "Apple 4-core GPU",
            "metal",
            "iphone",
            "LPDDR4X, 64-bit",
            _gbps(
                34.1,
                "planner estimate: LPDDR4X-4266 x 64-bit, as the A14 (topcpu.net 34.1 GB/s)",
                estimate=True,
                note="[E] memory speed not sourced",
            ),
            _EFF_APPLE_PHONE,
        ),
        _fam(
            "a14",
            "Apple A14 Bionic",
            "Apple",
            "Apple 4-core GPU",
            "metal",
            "iphone",
            "LPDDR4X, 64-bit",
            _gbps(34.1, "topcpu.net A14 comparison (34.1 GB/s)", estimate=True, note="[L]"),
            _EFF_APPLE_PHONE,
        ),
        _fam(
            "a15",
            "Apple A15 Bionic",
            "Apple",
            "Apple 4- or 5-core GPU",
            "metal",
            "iphone",
            "LPDDR4X, 64-bit",
            _gbps(
                34.0,
                "planner estimate: LPDDR4X like the A14 (topcpu.net A14: 34.1 GB/s); aggregators "
                "disagree on the A15 (nanoreview lists 2750 MHz)",
                estimate=True,
                note="[E] aggregators disagree",
            ),
            _EFF_APPLE_PHONE,
        ),
        _fam(
            "a16",
            "Apple A16 Bionic",
            "Apple",
            "Apple 5-core GPU",
            "metal",
            "iphone",
            "LPDDR5, 64-bit",
            _gbps(51.2, "topcpu.net A16 comparison (51.2 GB/s)", estimate=True, note="[L]"),
            _EFF_APPLE_PHONE,
        ),
        _fam(
            "a17-pro",
            "Apple A17 Pro",
            "Apple",
            "Apple 6-core GPU",
            "metal",
            "iphone",
            "LPDDR5-6400, 64-bit",
            _gbps(
                51.2,
                "etoppc.com A18 Pro vs A17 Pro (A17 Pro: LPDDR5 up to 6400 MT/s; x 64-bit = "
                "51.2 GB/s)",
                estimate=False,
                note="[D]",
            ),
            _EFF_APPLE_PHONE,
        ),
        _fam(
            "a18",
            "Apple A18 / A18 Pro",
            "Apple",
            "Apple 4-, 5- or 6-core GPU",
            "metal",
            "iphone",
            "LPDDR5X-7500, 64-bit",
            _gbps(
                60.0,
                "etoppc.com A18 Pro vs A17 Pro (LPDDR5X up to 7500 MT/s x 64-bit = 60.0 GB/s); "
                "notebookcheck.net A18 announcement (+17% memory bandwidth)",
                estimate=False,
                note="[D]",
            ),
            _EFF_APPLE_PHONE,
            ("a18-pro",),
        ),
        _fam(
            "a19",
            "Apple A19",
            "Apple",
            "Apple 5-core GPU",
            "metal",
            "iphone",
            "LPDDR5X-8533, 64-bit",
            _gbps(
                68.3,
                "inews.zoombangla.com A19 Pro vs A19 specs leak (A19: LPDDR5X-8533, 68.26 GB/s)",
                estimate=True,
                note="[L]",
            ),
            _EFF_APPLE_PHONE,
        ),
        _fam(
            "a19-pro",
            "Apple A19 Pro",
            "Apple",
            "Apple 5- or 6-core GPU",
            "metal",
            "iphone",
            "LPDDR5X-9600, 64-bit",
            _gbps(
                76.8,
                "inews.zoombangla.com A19 Pro vs A19 specs leak (A19 Pro: LPDDR5X-9600 x 64-bit)",
                estimate=True,
                note="[L]",
            ),
            _EFF_APPLE_PHONE,
        ),
        # Apple M-series (Mac and iPad; Metal)
        _fam(
            "m1",
            "Apple M1",
            "Apple",
            "Apple 7- or 8-core GPU",
            "metal",
            "metal",
            "LPDDR4X-4266, 128-bit",
            _gbps(
                68.25,
                "ggml-org/llama.cpp discussion #4167 (Apple M1: 68.25 GB/s)",
                estimate=False,
                note="[S]",
            ),
            _EFF_APPLE_M,
        ),
        _fam(
            "m2",
            "Apple M2",
            "Apple",
            "Apple 8- or 10-core GPU",
            "metal",
            "metal",
            "LPDDR5-6400, 128-bit",
            _gbps(
                100.0,
                "newegg.com MacBook Air M2 listing (Apple copy: 100GB/s memory bandwidth); "
                "Ars Technica table via goodnewsapodcast.com (M2: 102.4GB/s)",
                estimate=False,
                note="[S] Apple's rounded figure",
            ),
            _EFF_APPLE_M,
        ),
        _fam(
            "m3",
            "Apple M3",
            "Apple",
            "Apple 8- or 10-core GPU",
            "metal",
            "metal",
            "LPDDR5-6400, 128-bit",
            _gbps(
                102.4,
                "Ars Technica M4/M3/M2 comparison table via goodnewsapodcast.com (M3: 102.4GB/s)",
                estimate=False,
                note="[S]",
            ),
            _EFF_APPLE_M,
        ),
        _fam(
            "m4",
            "Apple M4",
            "Apple",
            "Apple 8- or 10-core GPU",
            "metal",
            "metal",
            "LPDDR5X-7500, 128-bit",
            _gbps(
                120.0,
                "mactrast.com Apple M4 Pro/M4 Max announcement (M4: up to 32GB, 120GB/s); "
                "Ars Technica table via goodnewsapodcast.com",
                estimate=False,
                note="[S]",
            ),
            _EFF_APPLE_M,
        ),
        _fam(
            "m4-pro",
            "Apple M4 Pro",
            "Apple",
            "Apple 16- or 20-core GPU",
            "metal",
            "metal",
            "LPDDR5X, 256-bit",
            _gbps(
                273.0,
                "techmoran.com Apple M4 Pro and M4 Max (up to 64GB at 273GB/s); Ars Technica "
                "table via goodnewsapodcast.com",
                estimate=False,
                note="[S]",
            ),
            _EFF_APPLE_M,
        ),
        _fam(
            "m4-max",
            "Apple M4 Max",
            "Apple",
            "Apple 32- or 40-core GPU",
            "metal",
            "metal",
            "LPDDR5X, 384- or 512-bit",
            _gbps(
                410.0,
                "Ars Technica table via goodnewsapodcast.com (M4 Max: 410GB/s binned, 546GB/s "
                "full); techmoran.com (546GB/s)",
                estimate=False,
                note="[S] binned 14-core variant; the 16-core variant has 546 GB/s",
            ),
            _EFF_APPLE_M,
        ),
        _fam(
            "m5",
            "Apple M5",
            "Apple",
            "Apple 10-core GPU",
            "metal",
            "metal",
            "LPDDR5-9600, 128-bit",
            _gbps(
                153.0,
                "Ars Technica via aggregoctt.github.io (M5: 153GB/s, up from 120GB/s on the M4); "
                "geektopia.es 2025/10/15 (LPDDR5-9600)",
                estimate=False,
                note="[S]",
            ),
            _EFF_APPLE_M,
        ),
        # NVIDIA Jetson (CUDA)
        _fam(
            "orin-nano",
            "NVIDIA Jetson Orin Nano (T234)",
            "NVIDIA",
            "Ampere, 512 or 1024 CUDA cores",
            "cuda",
            "cuda",
            "LPDDR5, 64- or 128-bit",
            _gbps(
                102.0,
                "brojogopalsapui.com Orin Nano Super deep dive (8 GB, 128-bit LPDDR5: 68 -> "
                "102 GB/s with JetPack 6.1); paiml/realizar#120 (102 GB/s)",
                estimate=False,
                note="[S] 8 GB module in MAXN SUPER mode",
            ),
            _EFF_ORIN_NANO,
            ("jetson-orin-nano-soc",),
        ),
        _fam(
            "orin-nx",
            "NVIDIA Jetson Orin NX (T234)",
            "NVIDIA",
            "Ampere, 768 or 1024 CUDA cores",
            "cuda",
            "cuda",
            "LPDDR5, 128-bit",
            _gbps(
                102.4,
                "planner derivation: 128-bit LPDDR5-6400 as on the Orin Nano 8 GB module "
                "(brojogopalsapui.com: 128-bit LPDDR5, 102 GB/s in Super mode)",
                estimate=True,
                note="[E] NX module bandwidth not sourced here",
            ),
            _EFF_ORIN_NX,
        ),
        _fam(
            "agx-orin",
            "NVIDIA Jetson AGX Orin (T234)",
            "NVIDIA",
            "Ampere, 1792 or 2048 CUDA cores",
            "cuda",
            "cuda",
            "LPDDR5, 256-bit",
            _gbps(
                204.8,
                "nvidia-holoscan/holohub#170 (Jetson AGX Orin, 204.8 GB/s), as compiled in "
                "shared research devices.md section 4.1",
                estimate=False,
                note="[S]",
            ),
            _EFF_ORIN_AGX,
            ("jetson-agx-orin-soc",),
        ),
        # Single-board computers (CPU decode; no MLC GPU target assumed)
        _fam(
            "bcm2711",
            "Broadcom BCM2711 (Raspberry Pi 4)",
            "Broadcom",
            "VideoCore VI",
            "cpu",
            None,
            "LPDDR4-3200, 32-bit",
            _gbps(
                12.8,
                "Raspberry Pi Beginner's Guide v3 appendix F (LPDDR4 at 3,200MHz); x 32-bit bus "
                "assumed as on the BCM2712 (circuitdigest.com Pi 5: 32-bit)",
                estimate=True,
                note="[E] bus width not sourced for the BCM2711",
            ),
            _EFF_CPU_BOARD,
            ("raspberry-pi-4-soc",),
        ),
        _fam(
            "bcm2712",
            "Broadcom BCM2712 (Raspberry Pi 5)",
            "Broadcom",
            "VideoCore VII",
            "cpu",
            None,
            "LPDDR4X-4267, 32-bit",
            _gbps(
                17.1,
                "circuitdigest.com Raspberry Pi 5 (32-bit LPDDR4X @4267 MT/s)",
                estimate=False,
                note="[D]",
            ),
            _EFF_PI,
            ("raspberry-pi-5-soc",),
        ),
        _fam(
            "rk3588",
            "Rockchip RK3588 / RK3588S",
            "Rockchip",
            "Mali-G610 MP4",
            "opencl",
            "mali",
            "LPDDR4X-4266 or LPDDR5, 64-bit",
            _gbps(
                34.1,
                "forum.radxa.com 'Rock 5A lpddr4x memory bandwidth' (RK3588/RK3588S datasheets: "
                "four 16-bit LPDDR4/4X/5 channels; LPDDR4X 4267 MT/s -> 34 GB/s)",
                estimate=False,
                note="[D] LPDDR4X boards",
            ),
            _EFF_CPU_BOARD,
            ("rk3588s",),
        ),
    )
}
"""SoC families by key (``soc_family:`` in a profile, ``soc=`` in a tier string)."""


def soc_family(name: str) -> SocFamily | None:
    """The family a key or alias names (spelling-insensitive), or None."""
    key = name_key(name)
    for family in SOC_FAMILIES.values():
        if key in {name_key(family.key), *(name_key(a) for a in family.aliases)}:
            return family
    return None


def soc_family_names() -> list[str]:
    """Every accepted SoC family key and alias (for messages)."""
    names = list(SOC_FAMILIES)
    names.extend(a for f in SOC_FAMILIES.values() for a in f.aliases)
    return names


# --------------------------------------------------------------------------------------------
# iOS / iPadOS per-app limits


@dataclass(frozen=True, slots=True)
class IosTier:
    """Per-app limits of one iPhone or iPad RAM tier (both are estimates for other devices)."""

    ram_gib: int
    limit: Sourced[int]
    """Without entitlements (jetsam per-process limit)."""
    entitled: Sourced[int]
    """With ``com.apple.developer.kernel.increased-memory-limit``."""


def _ios(value_mib: float, source: str, note: str) -> Sourced[int]:
    return Sourced(value=round(value_mib * MIB), source=source, estimate=True, note=f"[E] {note}")


_SO_TABLE = (
    "stackoverflow.com/a/15200855 (iOSMemoryBudgetTest crash table, mirrored in "
    "Aranoh/Unity-Performance RamTestIOS.md)"
)
_NO_ENTITLEMENT_GAIN = (
    "no increase assumed: the entitlement is 'only available on some device models' (Apple "
    "entitlement docs) and Apple DTS saw no change on an iPhone 8 with iOS 15.2 "
    "(developer.apple.com/forums/thread/740831)"
)

IPHONE_TIERS: tuple[IosTier, ...] = (
    IosTier(
        2,
        _ios(1364, _SO_TABLE + ": iPhone 8 (2 GB) 1364 MB, iOS 12.1", "iPhone 2 GB tier"),
        _ios(1364, _NO_ENTITLEMENT_GAIN, "iPhone 2 GB tier"),
    ),
    IosTier(
        3,
        _ios(1792, _SO_TABLE + ": iPhone XR (3 GB) 1792 MB, iOS 12.1", "iPhone 3 GB tier"),
        _ios(1792, _NO_ENTITLEMENT_GAIN, "iPhone 3 GB tier"),
    ),
    IosTier(
        4,
        _ios(
            2039,
            _SO_TABLE + ": iPhone XS Max 2039 MB, XS 2040, 11 Pro Max 2067, 11 2068 (4 GB); "
            "compiled iOSMemoryBudget.cs table: iPhone 11/12/13 2091 MB",
            "iPhone 4 GB tier: lowest reading",
        ),
        _ios(
            2.4e9 / MIB,
            "allenai/OLMoE.swift PR #38 (iPhone 12 mini, 4 GB: 2.1 GB available at launch, 2.4 GB "
            "with increased-memory-limit)",
            "iPhone 4 GB tier",
        ),
    ),
    IosTier(
        6,
        _ios(
            2867,
            "madebyollin/maple-diffusion#5 (iPhone 14 Pro Max, 6 GB: jetsam limit=2867MB without "
            "the entitlement); compiled iOSMemoryBudget.cs table: 6 GB iPhones 3064 MB",
            "iPhone 6 GB tier: lowest reading",
        ),
        _ios(
            4e9 / MIB,
            "a-ghorbani/pocketpal-ai PR #651 (iPhone 13 Pro, 6 GB: 4.20 GB available at launch "
            "with increased-memory-limit + extended-virtual-addressing); maple-diffusion#5 "
            "maintainer: 'should be ~4GB'",
            "iPhone 6 GB tier: rounded down",
        ),
    ),
    IosTier(
        8,
        _ios(
            3341,
            "compiled iOSMemoryBudget.cs table (iPhone 15 Pro, 8 GB: 3341 MB); yangKJ/Harbeth#33 "
            "(iPhone 15 Pro: limit=3376 MB, iOS 17.4.1)",
            "iPhone 8 GB tier: lower reading",
        ),
        _ios(
            5e9 / MIB,
            "introlab/rtabmap PR #1446 (iPhone 15 Pro: '6 GB available RAM for the App instead of "
            "3GB' with increased-memory-limit); compiled table: 8 GB iPad crash 5089 MB",
            "iPhone 8 GB tier: low end of 5-6 GB",
        ),
    ),
    IosTier(
        12,
        _ios(
            3342,
            "LNPANDY/NX2Apple ENTITLEMENTS.md (12 GB iPhone: peak resident 3,342 MB, then "
            "killed); compiled iOSMemoryBudget.cs table: iPhone 17 Pro 3356 MB",
            "iPhone 12 GB tier",
        ),
        _ios(
            6144,
            "ml-explore/mlx-swift-lm#209, PR #343 (Gemma 4 via MLX: high watermark limit=6144 MB; "
            "'can't access more than 6GB of memory on the iPhone 17')",
            "iPhone 12 GB tier",
        ),
    ),
)
"""iPhone per-app limits by RAM (os ``ios``)."""

IPAD_TIERS: tuple[IosTier, ...] = (
    IosTier(
        3,
        _ios(1844, _SO_TABLE + ": iPad 10.2 (3 GB) 1844 MB, iOS 13.2.3", "iPad 3 GB tier"),
        _ios(1844, _NO_ENTITLEMENT_GAIN, "iPad 3 GB tier"),
    ),
    IosTier(
        4,
        _ios(
            2858,
            _SO_TABLE + ': iPad Pro 11" 2018 (4 GB) 2858 MB, iOS 12.1; iPad Pro 10.5" 3057 MB',
            "iPad 4 GB tier: lower reading",
        ),
        _ios(2858, _NO_ENTITLEMENT_GAIN, "iPad 4 GB tier"),
    ),
    IosTier(
        6,
        _ios(
            3052,
            "compiled iOSMemoryBudget.cs table (iPad (A16), 6 GB: 3052 MB); "
            + _SO_TABLE
            + ': iPad Pro 12.9" 2018 (6 GB) 4598 MB on iOS 12.1',
            "iPad 6 GB tier: current iPadOS reading",
        ),
        _ios(
            4e9 / MIB,
            "planner estimate: the 6 GB iPhone tier with the entitlement (a-ghorbani/pocketpal-ai "
            "PR #651: 4.20 GB); no iPad reading with the entitlement found",
            "iPad 6 GB tier",
        ),
    ),
    IosTier(
        8,
        _ios(
            5089,
            "compiled iOSMemoryBudget.cs table ('iPad Pro 11\" M4 and 11\" 4th gen (8 GB)': "
            "5089 MB, crash amount); developer.apple.com/forums/thread/826325 reports ~3 GB on "
            "iPadOS 26.4-26.5 (single report)",
            "iPad 8 GB tier",
        ),
        _ios(
            6e9 / MIB,
            "developer.apple.com/forums/thread/826325 (8 GB iPad: ~6 GB (75%) on iPadOS "
            "26.0-26.3, measured via os_proc_available_memory); entitlement status not stated",
            "iPad 8 GB tier",
        ),
    ),
    IosTier(
        16,
        _ios(
            5089,
            "no current reading for 16 GB iPads: the 8 GB iPad reading (compiled "
            "iOSMemoryBudget.cs table, 5089 MB) as a floor; thebaselab/codeapp#259 (16 GB iPad "
            "Pro: 'limited ... to a maximum of about 5GB', user claim before iPadOS 15)",
            "iPad 16 GB tier: the 8 GB tier's value, as the default limit barely grows with RAM",
        ),
        _ios(
            8e9 / MIB,
            "planner estimate: no reading found; mlc-ai/mlc-llm#1260 reports large models still "
            "crashing on 16 GB iPads with the entitlement; planner takes half of RAM (8 GB), "
            "above the 8 GB tier's ~6 GB and below the 75% share reported for 8 GB iPads",
            "iPad 16 GB tier: weakest value in the table",
        ),
    ),
)
"""iPad per-app limits by RAM (os ``ipados``)."""


def _interpolate(
    ram: int, anchors: list[tuple[int, Sourced[int]]], what: str, *, above: str = "clamp"
) -> Sourced[int]:
    """Value for ``ram`` from (RAM GiB, value) anchors: exact, linear between, clamped or
    extended (slope of the last segment) above, proportional below."""
    pts = sorted(anchors, key=lambda a: a[0])
    gib = ram / GIB
    for ram_gib, value in pts:
        if ram == ram_gib * GIB:
            return value
    lo_gib, lo = pts[0]
    hi_gib, hi = pts[-1]
    if gib < lo_gib:
        scaled = round(lo.value * gib / lo_gib)
        return Sourced(
            value=scaled,
            source=lo.source,
            estimate=True,
            note=f"[E] {what}: scaled down from the {lo_gib} GB tier",
        )
    if gib > hi_gib:
        if above == "clamp":
            return Sourced(
                value=hi.value,
                source=hi.source,
                estimate=True,
                note=f"[E] {what}: the {hi_gib} GB tier (the largest known; limits barely grow "
                "with RAM)",
            )
        prev_gib, prev = pts[-2]
        slope = (hi.value - prev.value) / (hi_gib - prev_gib)
        return Sourced(
            value=round(hi.value + slope * (gib - hi_gib)),
            source=hi.source,
            estimate=True,
            note=f"[E] {what}: extended beyond the {hi_gib} GB tier",
        )
    for (a_gib, a), (b_gib, b) in itertools.pairwise(pts):
        if a_gib < gib < b_gib:
            frac = (gib - a_gib) / (b_gib - a_gib)
            return Sourced(
                value=round(a.value + frac * (b.value - a.value)),
                source=f"{a.source}; {b.source}",
                estimate=True,
                note=f"[E] {what}: interpolated between the {a_gib} and {b_gib} GB tiers",
            )
    raise AssertionError("unreachable")  # pragma: no cover


def ios_limits(os: OsName, ram: int) -> tuple[Sourced[int], Sourced[int]]:
    """(limit, entitled limit) of an iPhone (``ios``) or iPad (``ipados``) with ``ram`` bytes."""
    tiers = IPHONE_TIERS if os == "ios" else IPAD_TIERS
    label = "iPhone" if os == "ios" else "iPad"
    limit = _interpolate(ram, [(t.ram_gib, t.limit) for t in tiers], f"{label} per-app limit")
    entitled = _interpolate(
        ram, [(t.ram_gib, t.entitled) for t in tiers], f"{label} limit with the entitlement"
    )
    if entitled.value < limit.value:  # interpolation of two monotone tables keeps this, but
        entitled = dataclasses.replace(entitled, value=limit.value)  # be safe at the ends
    return limit, entitled


# --------------------------------------------------------------------------------------------
# Android foreground budget (lmkd)


@dataclass(frozen=True, slots=True)
class AndroidEra:
    """How lmkd decides in a range of Android versions (see docs/devices.md)."""

    first: int
    last: int | None
    name: str
    mechanism: str
    source: str
    changes_budget: bool
    """True where the mechanism makes the number less certain (Android 17's Memory Limiter)."""


ANDROID_ERAS: tuple[AndroidEra, ...] = (
    AndroidEra(
        1,
        9,
        "minfree",
        "kernel lowmemorykiller or lmkd with minfree levels: the foreground app (oom_score_adj "
        "0) dies only when free memory and file cache fall below the lowest minfree level",
        "AOSP system/memory/lmkd README (ro.lmk.use_minfree_levels; in-kernel driver removed in "
        "Linux 4.12)",
        False,
    ),
    AndroidEra(
        10,
        10,
        "psi",
        "lmkd on PSI memory-stall events; the critical level (complete stall) kills down to "
        "ro.lmk.critical = 0, i.e. the foreground app",
        "source.android.com/docs/core/perf/lmkd (PSI monitors since Android 10); AOSP lmkd "
        "README (ro.lmk.critical default 0)",
        False,
    ),
    AndroidEra(
        11,
        16,
        "psi-new-strategy",
        "lmkd PSI strategy: background kills on low watermark, low swap or thrashing stop at "
        "perceptible apps (oom_score_adj 201+); the foreground app dies when the min watermark "
        "is still breached after a kill, on a complete PSI stall, or under critical thrashing",
        "AOSP system/memory/lmkd lmkd.cpp mp_event_psi kill reasons (PRESSURE_AFTER_KILL, "
        "NOT_RESPONDING, LOW_MEM_AND_SWAP; ro.lmk.pressure_after_kill_min_score default 0)",
        False,
    ),
    AndroidEra(
        17,
        None,
        "memory-limiter",
        "lmkd as above plus the Memory Limiter: a per-app cgroup v2 memory.high soft limit "
        "(throttle, evict file pages, swap anon); its values are not documented",
        "source.android.com/docs/core/perf/memory-limiter",
        True,
    ),
)
"""lmkd behaviour by Android version; ``None`` version means 11-16 (today's phones)."""


def android_era(version: int | None) -> AndroidEra:
    """The era of an Android version (11-16 when unknown)."""
    v = 11 if version is None else version
    for era in ANDROID_ERAS:
        if era.first <= v and (era.last is None or v <= era.last):
            return era
    return ANDROID_ERAS[-1]  # pragma: no cover - eras cover every version


ANDROID_RESERVE_FIXED_GIB = 1.1
"""Memory a foreground app can never have, whatever the RAM: kernel, firmware carve-outs,
system_server, SystemUI, native daemons, persistent services (GiB)."""
ANDROID_RESERVE_SLOPE_TO_8 = 0.35
"""Share of each GB up to 8 GB kept by the system (page metadata, zram and its free-swap
threshold, file cache lmkd protects, OEM services sized by RAM)."""
ANDROID_RESERVE_SLOPE_ABOVE_8 = 0.5
"""Share of each GB above 8 GB kept by the system (OEMs keep more apps and caches resident)."""


def android_budget_formula(ram_gib: float) -> float:
    """Foreground budget in GiB: RAM − (1.1 + 0.35 × RAM) up to 8 GB, +0.5 per GB above."""
    if ram_gib <= 8:
        return ram_gib - (ANDROID_RESERVE_FIXED_GIB + ANDROID_RESERVE_SLOPE_TO_8 * ram_gib)
    at8 = android_budget_formula(8)
    return at8 + (1 - ANDROID_RESERVE_SLOPE_ABOVE_8) * (ram_gib - 8)


_ANDROID_RULE = (
    "planner tier rule (docs/devices.md, Android foreground budget): budget = RAM - reserve, "
    "reserve = 1.1 GiB + 0.35 x RAM up to 8 GB, +0.5 GiB per GB above; lmkd kills the "
    "foreground app only after everything killable above it (AOSP system/memory/lmkd)"
)

ANDROID_ANCHORS: tuple[tuple[int, str], ...] = (
    (
        3,
        "no LLM field report at 3 GB; formula only",
    ),
    (
        4,
        "Vali-98/ChatterUI#127 (Redmi Note 12, 4 GB: Llama-3.2-1B Q4_K_M runs; 3B Q4_K_M, "
        "~2 GB, pages from flash; 'your operating system likely already takes up 2-3 GB')",
    ),
    (
        6,
        "mlc-ai/mlc-llm#1777 (Galaxy A34 5G, 6 GB, Android 14: RedPajama-3B and Phi-2, ~2 GB, "
        "run; Llama/Mistral 7B crash); mlc-ai/mlc-llm#714 (POCO X3 Pro 6 GB: 7B never loads); "
        "vayun-mathur/Modern-Apps#200 (Pixel 6a, 6 GB: an app needing 3 GB free works 'at the "
        "limit')",
    ),
    (
        8,
        "MLC ships Llama-2-7B (context 768) and Mistral-7B (sliding window 768) for Android "
        "(mlc-ai/mlc-llm android/MLCChat/mlc-package-config.json; planner: 4129 and 4118 MiB) "
        "and they ran on 8 Gen 2 phones (mlc-ai/mlc-llm#1498); Galaxy S23: '~4GB RAM out of "
        "8GB is available', ExecuTorch Llama-2-7B crashed (pytorch/executorch#3599); Pixel 8: "
        "lmkd kills, then the LLM app crashed (pytorch/executorch#5582)",
    ),
    (
        12,
        "alibaba/MNN#4435 (12 GB phone: '6-7gb available to load the LLMs', app killed with "
        "1-2 GB still free); pytorch/executorch#6096 (maintainer: 8B models need 12 GB+ phones)",
    ),
    (
        16,
        "shared research devices.md 2.4 (planner estimate 8-10 GB on 16 GB phones); "
        "pytorch/executorch#6369 (LLaVA-1.5 expected to fit a 16 GB OnePlus 12)",
    ),
    (
        24,
        "alibaba/MNN#3957 (OnePlus 13, 24 GB: a 16 GB model loads, 18 GB models run out of "
        "memory; MNN may map weights, so an upper bound)",
    ),
)
"""Tiers the Android rule is checked against, with the evidence at each."""


def _android_anchor_values() -> list[tuple[int, Sourced[int]]]:
    out = []
    for ram_gib, evidence in ANDROID_ANCHORS:
        mib = round(android_budget_formula(ram_gib) * 1024)
        out.append(
            (
                ram_gib,
                Sourced(
                    value=mib * MIB,
                    source=f"{_ANDROID_RULE}; evidence at {ram_gib} GB: {evidence}",
                    estimate=True,
                    note=f"[E] Android {ram_gib} GB tier",
                ),
            )
        )
    return out


def android_budget(ram: int, version: int | None = None) -> Sourced[int]:
    """Foreground budget (model + KV + runtime) of an Android device with ``ram`` bytes."""
    value = _interpolate(ram, _android_anchor_values(), "Android budget", above="extend")
    era = android_era(version)
    when = f"Android {version}" if version is not None else "Android 11-16 assumed"
    note = f"{value.note}; {when} ({era.name}: {era.mechanism})"
    if era.changes_budget:
        note += "; Android 17+ may throttle earlier (undocumented memory.high)"
    return dataclasses.replace(value, note=note, source=f"{value.source}; lmkd: {era.source}")


# --------------------------------------------------------------------------------------------
# GPU API: Metal working set and MLC's engine device memory


METAL_SMALL_FRACTION = (2, 3)
METAL_LARGE_FRACTION = (3, 4)
METAL_LARGE_ABOVE_GIB = 36


def metal_working_set(ram: int) -> Sourced[int]:
    """``recommendedMaxWorkingSetSize``: 2/3 of RAM up to 36 GB, 3/4 above."""
    num, den = METAL_SMALL_FRACTION if ram <= METAL_LARGE_ABOVE_GIB * GIB else METAL_LARGE_FRACTION
    return Sourced(
        value=ram * num // den,
        source=(
            "planner tier rule: recommendedMaxWorkingSetSize = 2/3 of RAM up to 36 GB, 3/4 above; "
            "ggml-org/llama.cpp#6861 (iPhone 15 Pro 8 GB: 5461.34 MiB), #7085 (A12, 4 GB: "
            "2863.32 MB), #5207 (8 GB Mac: "
            "5726.63 MB), PR #2011 (32 GB Mac: 21845.34 MiB), M3 Max 48 GB log (38654.71 MB = 3/4)"
        ),
        estimate=True,
        note=f"[E] {num}/{den} of RAM",
    )


MLC_OPENCL_FLOOR = 5 * GIB
"""MLC takes max(CL_DEVICE_GLOBAL_MEM_SIZE, 5 GiB) as OpenCL device memory."""


def mlc_engine_memory(
    gpu_api: GpuApi,
    ram: int,
    gpu_memory: int | None,
    metal: Sourced[int] | None,
) -> Sourced[int] | None:
    """Device memory MLC's engine budgets 0.85 × of, per GPU API (None: no MLC GPU path)."""
    if gpu_api == "opencl":
        if gpu_memory is not None:
            value = max(gpu_memory, MLC_OPENCL_FLOOR)
            return Sourced(
                value=value,
                source=f"{MLC_CONFIG_CC}: OpenCL device memory = max(CL_DEVICE_GLOBAL_MEM_SIZE, "
                "5 GiB); CL_DEVICE_GLOBAL_MEM_SIZE as given",
                estimate=False,
                note="[D] max(given, 5 GiB)",
            )
        return Sourced(
            value=MLC_OPENCL_FLOOR,
            source=(
                f"{MLC_CONFIG_CC}: OpenCL device memory = max(CL_DEVICE_GLOBAL_MEM_SIZE, 5 GiB) "
                "'so that MLC LLM can run 7B or 8B models on Android'; budget 0.85 x 5 GiB = "
                "4352 MB in mlc-ai/mlc-llm#2686, #2703 (PR #2410)"
            ),
            estimate=True,
            note=(
                "[E] lower bound: some 8/12 GB phones report more (4762.5 MB budget in "
                "mlc-ai/mlc-llm#2751)"
            ),
        )
    if gpu_api == "metal":
        if metal is None:
            return None
        return Sourced(
            value=metal.value,
            source=(
                "TVM metal_device_api.mm reports recommendedMaxWorkingSetSize as device memory "
                f"({MLC_CONFIG_CC}); value: {metal.source}"
            ),
            estimate=metal.estimate,
            note=metal.note,
        )
    if gpu_api in ("cuda", "vulkan"):
        what = "cudaDeviceProp.totalGlobalMem" if gpu_api == "cuda" else "compute_memory_size"
        if gpu_memory is not None:
            return Sourced(
                value=gpu_memory,
                source=f"{MLC_CONFIG_CC}: TVM reports {what}; value as given",
                estimate=False,
                note="[D] as given",
            )
        return Sourced(
            value=ram,
            source=(
                f"{MLC_CONFIG_CC}: TVM reports {what}; on a unified-memory SoC (Jetson, "
                "integrated GPUs) that is about the RAM the OS sees"
            ),
            estimate=True,
            note="[E] upper bound: RAM; the driver reports somewhat less",
        )
    return None


# --------------------------------------------------------------------------------------------
# Queries: a device by its facts


OS_ALIASES: dict[str, OsName] = {
    "iphone": "ios",
    "ipad": "ipados",
    "mac": "macos",
    "osx": "macos",
}

QUERY_USAGE = (
    "OS:RAM[,soc=FAMILY][,gpu-memory=SIZE][,gpu-api=API][,android=VERSION], e.g. android:6GB, "
    "ios:4GB, linux:8GB,soc=orin-nano"
)

MIN_RAM = 256 * MIB
MAX_RAM = 4096 * GIB

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(tb|tib|gb|gib|g|mb|mib|m)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"t": 1024 * GIB, "g": GIB, "m": MIB}


def parse_ram(text: str, what: str = "RAM") -> int:
    """A RAM size as marketed: ``6GB``, ``6``, ``5.5 GB``, ``6144MB`` (GB means GiB, as phone and
    laptop RAM is sold); raises ``UsageError`` with a one-line message."""
    match = _SIZE_RE.match(text) if len(text) <= 32 else None
    if match is None:
        raise UsageError(
            f"{what} {text!r} is not a size; write a number of GB like 6GB or 5.5GB "
            "(GB as marketed, i.e. GiB; MB and TB also accepted)"
        )
    number = float(match.group(1))
    unit = (match.group(2) or "g").lower()[0]
    value = round(number * _SIZE_FACTORS[unit])
    if not MIN_RAM <= value <= MAX_RAM:
        raise UsageError(f"{what} {text!r} is out of range (256 MB to 4096 GB)")
    return value


def size_text(n: int) -> str:
    """``6GB``, ``5.5GB``, ``6144MB``: the canonical spelling in tier ids."""
    if n % GIB == 0:
        return f"{n // GIB}GB"
    gib = n / GIB
    if round(gib, 2) * GIB == n:
        return f"{gib:g}GB"
    if n % MIB == 0:
        return f"{n // MIB}MB"
    return f"{n}B"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceQuery:
    """A device described by its facts (``--device android:6GB``)."""

    os: OsName
    ram_bytes: int
    soc_family: str | None = None
    """Key of ``SOC_FAMILIES``."""
    gpu_memory_bytes: int | None = None
    """What the GPU API reports as device memory (CL_DEVICE_GLOBAL_MEM_SIZE,
    recommendedMaxWorkingSetSize, totalGlobalMem)."""
    gpu_api: GpuApi | None = None
    """Override of the GPU path (default: the SoC family's, else the OS's usual one)."""
    android_version: int | None = None

    @property
    def tier_id(self) -> str:
        """Canonical spelling, also the id of the profile built from it."""
        parts = [f"{self.os}:{size_text(self.ram_bytes)}"]
        if self.soc_family:
            parts.append(f"soc={self.soc_family}")
        if self.gpu_memory_bytes is not None:
            parts.append(f"gpu-memory={size_text(self.gpu_memory_bytes)}")
        if self.gpu_api is not None:
            parts.append(f"gpu-api={self.gpu_api}")
        if self.android_version is not None:
            parts.append(f"android={self.android_version}")
        return ",".join(parts)


def looks_like_query(name: str) -> bool:
    """Whether a ``--device`` value is a tier string (profile ids never contain ``:``)."""
    return ":" in name


def _usage(text: str, why: str) -> UsageError:
    return UsageError(f"bad device tier {text!r}: {why}; expected {QUERY_USAGE}")


def _os_name(raw: str, text: str) -> OsName:
    name = raw.strip().lower()
    if name in OS_ALIASES:
        return OS_ALIASES[name]
    if name in OS_NAMES:
        return name  # type: ignore[return-value]  # checked against the Literal's values
    raise _usage(text, f"unknown OS {raw.strip()!r} (one of {', '.join(OS_NAMES)})")


def _soc(raw: str, text: str) -> str:
    family = soc_family(raw)
    if family is None:
        close = difflib.get_close_matches(raw.strip().lower(), soc_family_names(), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise _usage(text, f"unknown SoC family {raw.strip()!r}{hint}")
    return family.key


def _gpu_api(raw: str, text: str) -> GpuApi:
    name = raw.strip().lower()
    if name not in GPU_APIS:
        raise _usage(text, f"unknown GPU API {raw.strip()!r} (one of {', '.join(GPU_APIS)})")
    return name  # type: ignore[return-value]  # checked against the Literal's values


def _version(raw: str, text: str) -> int:
    if not raw.strip().isdigit() or not 4 <= int(raw) <= 99:
        raise _usage(text, f"Android version {raw.strip()!r} is not a major version like 14")
    return int(raw)


def _check_query(q: DeviceQuery, text: str) -> DeviceQuery:
    if q.android_version is not None and q.os != "android":
        raise _usage(text, "android=VERSION only applies to os android")
    return q


def parse_device_query(text: str) -> DeviceQuery:
    """Parse ``OS:RAM[,soc=FAMILY][,gpu-memory=SIZE][,gpu-api=API][,android=VERSION]``.

    Raises ``UsageError`` (exit 2) with a one-line message naming what is wrong and the syntax.
    """
    raw = text.strip()
    if len(raw) > 200:
        raise _usage(raw[:40] + "…", "longer than 200 characters")
    os_part, sep, rest = raw.partition(":")
    if not sep or not rest.strip():
        raise _usage(raw, "missing RAM after the colon")
    os_name = _os_name(os_part, raw)
    ram_part, *options = rest.split(",")
    try:
        ram = parse_ram(ram_part.strip())
    except UsageError as exc:
        raise _usage(raw, exc.message) from None
    values: dict[str, str] = {}
    for option in options:
        key, eq, value = option.partition("=")
        key = key.strip().lower().replace("_", "-")
        if not eq or not value.strip():
            raise _usage(raw, f"option {option.strip()!r} is not KEY=VALUE")
        if key not in ("soc", "gpu-memory", "gpu-api", "android"):
            raise _usage(raw, f"unknown option {key!r} (soc, gpu-memory, gpu-api, android)")
        if key in values:
            raise _usage(raw, f"option {key!r} given twice")
        values[key] = value.strip()
    gpu_memory = None
    if "gpu-memory" in values:
        try:
            gpu_memory = parse_ram(values["gpu-memory"], "GPU memory")
        except UsageError as exc:
            raise _usage(raw, exc.message) from None
    return _check_query(
        DeviceQuery(
            os=os_name,
            ram_bytes=ram,
            soc_family=_soc(values["soc"], raw) if "soc" in values else None,
            gpu_memory_bytes=gpu_memory,
            gpu_api=_gpu_api(values["gpu-api"], raw) if "gpu-api" in values else None,
            android_version=_version(values["android"], raw) if "android" in values else None,
        ),
        raw,
    )


def query_from_options(
    os: str,
    ram: str,
    *,
    soc: str | None = None,
    gpu_memory: str | None = None,
    gpu_api: str | None = None,
    android_version: int | None = None,
) -> DeviceQuery:
    """A query from separate CLI options (``--os``, ``--ram``, ``--soc``, ``--gpu-memory``)."""
    text = f"{os}:{ram}"
    for key, value in (("soc", soc), ("gpu-memory", gpu_memory), ("gpu-api", gpu_api)):
        if value is not None:
            text += f",{key}={value}"
    if android_version is not None:
        text += f",android={android_version}"
    return parse_device_query(text)


def query_for_profile(profile: DeviceProfile) -> DeviceQuery:
    """The tier a profile belongs to: its OS, RAM, SoC family and Android version."""
    query = DeviceQuery(
        os=profile.os,
        ram_bytes=profile.ram_bytes.value,
        soc_family=profile.soc_family,
        android_version=profile.android_version,
    )
    if _gpu_path(query)[1] != profile.gpu_api:  # e.g. a Linux board whose GPU runs MLC
        query = dataclasses.replace(query, gpu_api=profile.gpu_api)
    return query


# --------------------------------------------------------------------------------------------
# Building profiles


_OS_DEFAULTS: dict[str, tuple[str, GpuApi, str | None]] = {
    "android": ("unknown GPU (OpenCL assumed)", "opencl", "android"),
    "ios": ("Apple GPU", "metal", "iphone"),
    "ipados": ("Apple GPU", "metal", "iphone"),
    "macos": ("Apple GPU", "metal", "metal"),
    "linux": ("none assumed (CPU runtimes)", "cpu", None),
    "windows": ("unknown GPU (Vulkan assumed)", "vulkan", "vulkan"),
}
_MLC_FOR_API: dict[str, str | None] = {
    "opencl": "opencl",
    "metal": "metal",
    "vulkan": "vulkan",
    "cuda": "cuda",
    "cpu": None,
}
_OS_LABEL = {
    "android": "Android device",
    "ios": "iPhone",
    "ipados": "iPad",
    "macos": "Mac",
    "linux": "Linux device",
    "windows": "Windows device",
}


def tier_values(
    query: DeviceQuery, gpu_api: GpuApi, metal_override: Sourced[int] | None = None
) -> dict[str, Sourced[int] | Sourced[float] | None]:
    """Every number the tier rules give for ``query`` on the ``gpu_api`` path, by field name."""
    family = SOC_FAMILIES.get(query.soc_family) if query.soc_family else None
    ram = query.ram_bytes
    out: dict[str, Sourced[int] | Sourced[float] | None] = dict.fromkeys(TIER_FIELDS)
    out["mem_bandwidth_bytes_per_s"] = family.bandwidth if family else None
    out["decode_efficiency"] = family.decode_efficiency if family else DEFAULT_DECODE_EFFICIENCY
    if query.os in ("ios", "ipados"):
        out["ios_app_limit_bytes"], out["ios_app_limit_entitled_bytes"] = ios_limits(query.os, ram)
    metal = None
    if gpu_api == "metal":
        metal = metal_override
        if metal is None and query.gpu_memory_bytes is not None:
            metal = Sourced(
                value=min(query.gpu_memory_bytes, ram),
                source="recommendedMaxWorkingSetSize as given (gpu-memory)",
                note="[S] as given",
            )
        if metal is None:
            metal = metal_working_set(ram)
        out["metal_working_set_bytes"] = metal
    if query.os == "android":
        out["android_foreground_budget_bytes"] = android_budget(ram, query.android_version)
    out["mlc_engine_memory_bytes"] = mlc_engine_memory(gpu_api, ram, query.gpu_memory_bytes, metal)
    return out


def _gpu_path(query: DeviceQuery) -> tuple[str, GpuApi, str | None]:
    family = SOC_FAMILIES.get(query.soc_family) if query.soc_family else None
    gpu, api, mlc = _OS_DEFAULTS[query.os]
    if family is not None:
        gpu, api, mlc = family.gpu, family.gpu_api, family.mlc_device
        if query.os in ("ios", "ipados") and api == "metal":
            mlc = "iphone"  # an M-series iPad builds with the iphone preset
        elif query.os == "macos" and api == "metal":
            mlc = "metal"
    if query.gpu_api is not None and query.gpu_api != api:
        api = query.gpu_api
        mlc = _MLC_FOR_API[api] if query.os != "android" or api != "opencl" else "android"
        gpu = f"{gpu} ({api} given)"
    return gpu, api, mlc


def tier_profile(query: DeviceQuery) -> DeviceProfile:
    """A profile built from the tier rules alone (every number but RAM an estimate)."""
    gpu, api, mlc = _gpu_path(query)
    family = SOC_FAMILIES.get(query.soc_family) if query.soc_family else None
    values = tier_values(query, api)
    tid = query.tier_id
    filled = tuple(k for k in TIER_FIELDS if values[k] is not None)
    ram_text = size_text(query.ram_bytes).replace("GB", " GB").replace("MB", " MB")
    return DeviceProfile(
        id=tid,
        name=f"{_OS_LABEL[query.os]} with {ram_text} RAM (tier)",
        vendor="any",
        os=query.os,
        os_detail=f"Android {query.android_version}" if query.android_version else None,
        soc=family.name if family else "any (tier)",
        ram_bytes=Sourced(value=query.ram_bytes, source=f"given: --device {tid}"),
        memory_type=family.memory_type if family else None,
        mem_bandwidth_bytes_per_s=_int(values["mem_bandwidth_bytes_per_s"]),
        gpu=gpu,
        gpu_api=api,
        mlc_device=mlc,
        ios_app_limit_bytes=_int(values["ios_app_limit_bytes"]),
        ios_app_limit_entitled_bytes=_int(values["ios_app_limit_entitled_bytes"]),
        metal_working_set_bytes=_int(values["metal_working_set_bytes"]),
        android_foreground_budget_bytes=_int(values["android_foreground_budget_bytes"]),
        android_background_note=ANDROID_BACKGROUND_NOTE if query.os == "android" else None,
        mlc_engine_memory_bytes=_int(values["mlc_engine_memory_bytes"]),
        decode_efficiency=_float(values["decode_efficiency"]) or DEFAULT_DECODE_EFFICIENCY,
        soc_family=query.soc_family,
        android_version=query.android_version,
        tier=tid,
        from_tier=filled,
        notes=(
            "Built from planner's tier rules (docs/devices.md): every number but RAM is an "
            "estimate for a typical device of this tier.",
        ),
    )


def _int(value: Sourced[int] | Sourced[float] | None) -> Sourced[int] | None:
    if value is None:
        return None
    assert isinstance(value.value, int)
    return value  # type: ignore[return-value]  # value checked to be an int


def _float(value: Sourced[int] | Sourced[float] | None) -> Sourced[float] | None:
    if value is None:
        return None
    assert isinstance(value.value, float)
    return value  # type: ignore[return-value]  # value checked to be a float


def apply_tier(profile: DeviceProfile, *, decode_efficiency_given: bool = True) -> DeviceProfile:
    """Fill every number the profile leaves out from its tier; record which in ``from_tier``."""
    query = query_for_profile(profile)
    values = tier_values(query, profile.gpu_api, profile.metal_working_set_bytes)
    changes: dict[str, object] = {}
    for name in TIER_FIELDS:
        if name == "decode_efficiency":
            if not decode_efficiency_given:
                changes[name] = values[name]
            continue
        if name in ("ios_app_limit_bytes", "ios_app_limit_entitled_bytes") and profile.os not in (
            "ios",
            "ipados",
        ):
            continue
        if getattr(profile, name) is None and values[name] is not None:
            changes[name] = values[name]
    if profile.mlc_device is None and "mlc_engine_memory_bytes" in changes:
        del changes["mlc_engine_memory_bytes"]  # no MLC GPU target: no engine figure
    limit = changes.get("ios_app_limit_bytes", profile.ios_app_limit_bytes)
    entitled = changes.get("ios_app_limit_entitled_bytes", profile.ios_app_limit_entitled_bytes)
    if (
        isinstance(limit, Sourced)
        and isinstance(entitled, Sourced)
        and entitled.value < limit.value
        and "ios_app_limit_entitled_bytes" in changes
    ):
        # A device-specific limit above the tier's entitled value: the entitlement never lowers
        # the limit, so take the profile's own.
        note = f"{limit.note}; " if limit.note else ""
        changes["ios_app_limit_entitled_bytes"] = dataclasses.replace(
            limit, note=f"{note}entitled limit assumed no lower than this"
        )
    return dataclasses.replace(
        profile,
        tier=query.tier_id,
        from_tier=tuple(k for k in TIER_FIELDS if k in changes),
        **changes,  # type: ignore[arg-type]  # field names from TIER_FIELDS
    )


__all__ = [
    "ANDROID_ANCHORS",
    "ANDROID_ERAS",
    "DEFAULT_DECODE_EFFICIENCY",
    "IPAD_TIERS",
    "IPHONE_TIERS",
    "LIMIT_FIELDS",
    "SOC_FAMILIES",
    "TIER_FIELDS",
    "DeviceQuery",
    "SocFamily",
    "android_budget",
    "apply_tier",
    "ios_limits",
    "looks_like_query",
    "metal_working_set",
    "mlc_engine_memory",
    "parse_device_query",
    "parse_ram",
    "query_for_profile",
    "query_from_options",
    "soc_family",
    "tier_profile",
]
