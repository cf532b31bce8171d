"""Tier limits: iOS per-app limits, the Android foreground budget, GPU-API device memory."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

from planner.device import (
    GpuApi,
    OsName,
    Sourced,
)
from planner.device_tiers.common import (
    GIB,
    MIB,
    MLC_CONFIG_CC,
)

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
ANDROID_RESERVE_SLOPE_TO_6 = 0.35
"""Share of each GB up to 6 GB kept by the system (page metadata, zram and its free-swap
threshold, file cache lmkd protects, OEM services sized by RAM)."""
ANDROID_RESERVE_SLOPE_6_TO_8 = 0.15
"""Share of each GB from 6 to 8 GB kept by the system. The 8 GB point is evidence, not the
6 GB line extended: MLC's engine fills 0.85 × 5 GiB = 4,352 MiB of OpenCL buffers on any
Android phone whose driver reports less (its floor, "so that MLC LLM can run 7B or 8B models on
Android", cpp/serve/config.cc) and MLC ships models that fill it (a sliding window or a context
the engine shortens), which ran on 8 GB phones; so the budget is at least that plus the app's
own process, and below the ~5.5 GB a Galaxy S21 (8 GB) held stable (mlc-ai/mlc-llm#3270)."""
ANDROID_RESERVE_SLOPE_ABOVE_8 = 0.5
"""Share of each GB above 8 GB kept by the system (OEMs keep more apps and caches resident)."""


def android_budget_formula(ram_gib: float) -> float:
    """Foreground budget in GiB: RAM − (1.1 + 0.35 × RAM) up to 6 GB; each GB to 8 GB adds
    0.85, each above 8 GB 0.5."""
    if ram_gib <= 6:
        return ram_gib - (ANDROID_RESERVE_FIXED_GIB + ANDROID_RESERVE_SLOPE_TO_6 * ram_gib)
    if ram_gib <= 8:
        return android_budget_formula(6) + (1 - ANDROID_RESERVE_SLOPE_6_TO_8) * (ram_gib - 6)
    return android_budget_formula(8) + (1 - ANDROID_RESERVE_SLOPE_ABOVE_8) * (ram_gib - 8)


_ANDROID_RULE = (
    "planner tier rule (docs/devices.md, Android foreground budget): budget = RAM - reserve, "
    "reserve = 1.1 GiB + 0.35 x RAM up to 6 GB, +0.15 GiB per GB to 8 GB, +0.5 GiB per GB "
    "above; lmkd kills the "
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
        "MLC's engine takes max(CL_DEVICE_GLOBAL_MEM_SIZE, 5 GiB) as device memory 'so that "
        "MLC LLM can run 7B or 8B models on Android' and sizes the KV pool to fill 0.85 x of it "
        "(4352 MiB; mlc-llm cpp/serve/config.cc); MLC ships Mistral-7B for Android with a "
        "768-token window, whose pool fills it (android/MLCChat/mlc-package-config.json; test "
        "phones not stated), and ran Phi-3-mini on a Galaxy S23 (MLC blog, June 2024; settings "
        "not stated, at MLC's defaults the pool fills); "
        "7B models at 768 tokens ran on 8 Gen 2 phones in the ChatModule app "
        "(mlc-ai/mlc-llm#1498, Dec 2023); "
        "Galaxy S21 (8 GB): 'memory usage was stable: ~5.5GB' (mlc-ai/mlc-llm#3270); against: "
        "Galaxy S23 '~4GB RAM out of 8GB is available', ExecuTorch Llama-2-7B crashed "
        "(pytorch/executorch#3599) and MLC's February 2024 APK (768/768, planner 4277 MiB) "
        "'mostly crashes' there (mlc-ai/binary-mlc-llm-libs#69); Pixel 8: lmkd kills, then the "
        "LLM app crashed (pytorch/executorch#5582)",
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
