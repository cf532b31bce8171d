"""Where onnxruntime runs: the platform facts the CPU memory model depends on (pure).

Only Linux x86-64 was measured (benchmarks/ort_bench/MECHANISMS.md, onnxruntime 1.31.1 and
1.32.0). Everything else is read from the onnxruntime sources and marked as inference
(docs/onnxruntime-mobile.md):

* **Weight prepacking layout** (``onnxruntime/core/mlas/lib/qnbitgemm*.{h,cpp}``): x86-64 packs
  4/8-bit ``MatMulNBits`` weights with int8 compute as data + fp32 scales + fp32 block sums and
  keeps the original scales mapped (``sqnbitgemm_kernel_avx_common.h``); arm64 NEON packs 4-bit
  weights as data only (``qnbitgemm_kernel_neon.cpp``); arm64 with KleidiAI (a build switch,
  ``tools/ci_build/build.py``, and a CPU with the dot-product extension) packs 4-bit int8-compute
  weights as data + bf16 scales and releases the fp32 scales.
* **Allocator**: the freed heap glibc keeps after loading (the lm_head scale copy of x86
  ``ComputePackBlkSum``) and its reuse by later allocations below glibc's mmap threshold are
  glibc behaviour (MECHANISMS.md §3, §6); bionic (Android), libmalloc (Apple) and the Windows heap
  are not modelled to keep it.
* **File pages**: Linux maps up to ``fault_around_bytes`` (64 KiB) of cached file around a read
  fault (MECHANISMS.md §5); elsewhere one page per fault is assumed.
* **What the OS limits**: iOS/iPadOS kill an app on its *footprint* (dirty + compressed),
  which excludes clean file-backed pages (XNU ``task_vm_info.phys_footprint``); the budget's
  ``dirty`` flags carry that split.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from planner.device import DeviceProfile
from planner.errors import UsageError

KLEIDIAI_SINCE = (1, 21)
"""onnxruntime's first release with KleidiAI kernels for MatMulNBits (PR #23627, merged
2025-02-10, in 1.21.0): older arm64 builds pack 4-bit weights with the NEON layout."""

DEFAULT_PLATFORM = "linux-x86_64"
"""The platform ``planner estimate`` assumes without ``--platform`` or a device: the one the
model was measured on."""

KIB = 1024


@dataclass(frozen=True, slots=True)
class OrtPlatform:
    """One operating system × CPU architecture onnxruntime is built for."""

    key: str
    os: str
    """``linux``, ``android``, ``ios``, ``macos``, ``windows``."""
    isa: str
    """``x86_64`` or ``arm64``."""
    kleidiai_build: bool
    """Whether onnxruntime's packages for this platform are built with KleidiAI
    (``onnxruntime_USE_KLEIDIAI``; tools/ci_build/build.py enables it for Android arm64, Windows
    Arm and arm64 build hosts, which covers Apple packages built on Apple-silicon Macs)."""
    glibc: bool
    """glibc malloc: freed heap below the top is kept and reused (MECHANISMS.md §3, §6)."""
    fault_around_bytes: int
    """File bytes mapped per read fault on a cached file (Linux ``fault_around_bytes``)."""
    footprint_limit: bool
    """The OS limits the app on its dirty footprint (clean mapped pages excluded): iOS/iPadOS."""
    measured: bool
    source: str
    dotprod: bool = True
    """The CPU has the Arm dot-product extension (x86-64: not applicable, True)."""
    page_bytes: int = 4 * KIB
    """The virtual-memory page: how much a first write makes resident. 16 KiB on Apple arm64
    (``vm_page_size``; Apple, "Addressing architectural differences in your macOS code"), 4 KiB on
    x86-64 and on most Android kernels (16 KiB kernels exist since Android 15)."""

    @property
    def kleidiai(self) -> bool:
        """KleidiAI kernels are used: built in, and the CPU has dot product."""
        return self.kleidiai_build and self.dotprod


_BASE: tuple[OrtPlatform, ...] = (
    OrtPlatform(
        "linux-x86_64",
        "linux",
        "x86_64",
        kleidiai_build=False,
        glibc=True,
        fault_around_bytes=64 * KIB,
        footprint_limit=False,
        measured=True,
        source="measured: benchmarks/ort_bench/MECHANISMS.md (onnxruntime 1.31.1, 1.32.0)",
    ),
    OrtPlatform(
        "linux-arm64",
        "linux",
        "arm64",
        kleidiai_build=True,
        glibc=True,
        fault_around_bytes=64 * KIB,
        footprint_limit=False,
        measured=False,
        source=(
            "inference: MLAS arm64 kernels (qnbitgemm_kernel_neon.cpp); aarch64 wheels are "
            "built on arm64 hosts, where build.py enables KleidiAI; glibc as on x86-64"
        ),
    ),
    OrtPlatform(
        "android-arm64",
        "android",
        "arm64",
        kleidiai_build=True,
        glibc=False,
        fault_around_bytes=64 * KIB,
        footprint_limit=False,
        measured=False,
        source=(
            "inference: build.py enables KleidiAI for Android arm64-v8a; bionic malloc "
            "(no glibc heap retention); Linux kernel fault-around (docs/onnxruntime-mobile.md)"
        ),
    ),
    OrtPlatform(
        "ios-arm64",
        "ios",
        "arm64",
        kleidiai_build=True,
        glibc=False,
        fault_around_bytes=16 * KIB,
        page_bytes=16 * KIB,
        footprint_limit=True,
        measured=False,
        source=(
            "inference: Apple packages built on arm64 hosts get KleidiAI (build.py; whether "
            "the published pods have it is open); jetsam limits the dirty footprint, clean "
            "mapped weights excluded (docs/onnxruntime-mobile.md §3)"
        ),
    ),
    OrtPlatform(
        "macos-arm64",
        "macos",
        "arm64",
        kleidiai_build=True,
        glibc=False,
        fault_around_bytes=16 * KIB,
        page_bytes=16 * KIB,
        footprint_limit=False,
        measured=False,
        source="inference: as iOS (arm64 build host, KleidiAI), without a per-app limit",
    ),
    OrtPlatform(
        "windows-arm64",
        "windows",
        "arm64",
        kleidiai_build=True,
        glibc=False,
        fault_around_bytes=4 * KIB,
        footprint_limit=False,
        measured=False,
        source="inference: build.py enables KleidiAI for Windows Arm builds",
    ),
)

NO_DOTPROD = "-nodotprod"
"""Suffix of the arm64 platforms whose CPU lacks the dot-product extension."""

FIXED_HEAP = "-fixedheap"
"""Suffix of the glibc platforms run with glibc's mmap threshold fixed (``planner measure
--fixed-heap``): planned with an allocator that keeps no freed buffer of 128 KiB or more."""

_CPUS: dict[str, OrtPlatform] = {p.key: p for p in _BASE} | {
    p.key + NO_DOTPROD: replace(
        p,
        key=p.key + NO_DOTPROD,
        dotprod=False,
        source=p.source + "; CPU without dot product: no KleidiAI, no int8-compute NEON kernels",
    )
    for p in _BASE
    if p.isa == "arm64"
}

PLATFORMS: dict[str, OrtPlatform] = _CPUS | {
    key + FIXED_HEAP: replace(
        p,
        key=key + FIXED_HEAP,
        glibc=False,
        source=p.source + "; glibc's mmap threshold fixed (MALLOC_MMAP_THRESHOLD_=131072, planner "
        "measure --fixed-heap): freed buffers of 128 KiB or more are unmapped, none kept "
        "(measured on x86-64: benchmarks/ort_bench/probe_malloc.py)",
    )
    for key, p in _CPUS.items()
    if p.glibc
}

_OS_PLATFORM = {
    "android": "android-arm64",
    "ios": "ios-arm64",
    "ipados": "ios-arm64",
    "macos": "macos-arm64",
    "linux": "linux-arm64",
    "windows": "windows-arm64",
}
"""The platform of each profile OS: every bundled device is arm64 (phones, tablets,
Apple-silicon Macs, Snapdragon X laptops, Jetson, Raspberry Pi, RK3588 boards)."""

NO_DOTPROD_SOCS = frozenset({"bcm2711", "a12"})
"""SoC families whose CPUs lack the Arm dot-product extension (FEAT_DotProd), so KleidiAI's
int8 kernels and MLAS's int8-compute NEON kernels are not selected: the Raspberry Pi 4's
Cortex-A72 (Armv8.0) and Apple's A12 (Armv8.3; dot product is mandatory from Armv8.4, LLVM's
``apple-a13``) — inference. Every other bundled arm64 SoC has it (Cortex-A55, A76, A78AE and
later, Apple A13 and later, M-series, Oryon)."""


def for_version(plat: OrtPlatform, version: tuple[int, int]) -> OrtPlatform:
    """The platform as an onnxruntime ``version`` build has it (no KleidiAI before 1.21)."""
    if plat.kleidiai_build and version < KLEIDIAI_SINCE:
        return replace(plat, kleidiai_build=False)
    return plat


def platform(key: str) -> OrtPlatform:
    """The platform called ``key``, or a usage error listing the known ones."""
    try:
        return PLATFORMS[key]
    except KeyError:
        known = ", ".join(PLATFORMS)
        raise UsageError(f"unknown onnxruntime platform {key!r}; known: {known}") from None


def platform_for_device(device: DeviceProfile) -> str:
    """The platform a device's onnxruntime build runs on: its OS on arm64 (every bundled profile
    is arm64), ``-nodotprod`` when its SoC family lacks the dot-product extension."""
    key = _OS_PLATFORM[device.os]
    return key + NO_DOTPROD if device.soc_family in NO_DOTPROD_SOCS else key


def detect_platform(system: str, arch: str, dotprod: bool | None = None) -> str | None:
    """The platform a measurement ran on, from Python's ``platform.system()`` and
    ``platform.machine()`` (and, on arm64 Linux, the CPU's dot-product flag); None when planner
    has no such platform (32-bit Arm, x86 macOS, Windows on x86)."""
    system, arch = system.lower(), arch.lower()
    if arch in ("x86_64", "amd64"):
        return "linux-x86_64" if system == "linux" else None
    if arch not in ("aarch64", "arm64"):
        return None
    key = {"linux": "linux-arm64", "darwin": "macos-arm64", "windows": "windows-arm64"}.get(system)
    if key is None:
        return None
    return key + NO_DOTPROD if dotprod is False else key
