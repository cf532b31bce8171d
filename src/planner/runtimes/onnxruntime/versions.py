"""The onnxruntime-version-dependent terms of the CPU memory model (pure).

Every mechanism of the model (prepacking, folded tied copies, KV preallocation, flash attention,
chunking, the arena) measured identical in onnxruntime 1.31.1 and 1.32.0; only the fixed cost
differs — how many library code pages a session touches and the session's own heap
(benchmarks/ort_bench/MECHANISMS.md §1, §9). This table holds those terms per minor version,
with the platforms they were measured on. A version that is not given, or newer than any here,
uses the newest entry; an older one the oldest; both say so in the budget's assumptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from planner.errors import UsageError

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class VersionTerms:
    """The fixed terms of one onnxruntime minor version."""

    version: str
    """The exact version measured (``1.32.0``)."""
    code_pages: int
    """Library code paged in by a session: libonnxruntime and libonnxruntime-genai text touched
    by ``og.Model`` plus the first run (clean, file-backed), from a library read back from disk
    (not one just written, whose large page-cache folios map more at import)."""
    session_heap: int
    """Heap of the session (graph, kernels, allocation plans) and genai's model objects for an
    8-layer decoder, without prepacked weights (dirty)."""
    session_heap_per_layer: int
    """More kernels and plans per decoder layer beyond eight."""
    platforms: tuple[str, ...]
    """Where these figures were measured."""
    source: str


_PER_LAYER = round(0.27 * MIB)
# MECHANISMS.md §1: og.Model with session.disable_prepacking=1 adds 9.3-9.6 MiB of heap for the
# 8-layer llama-gqa builds (1.32; 8.8-9.1 in 1.31) and 12.2 MiB for the 18-layer gemma3-270m:
# (12.2 - 9.5) / 10 layers = 0.27 MiB per layer.

VERSIONS: dict[tuple[int, int], VersionTerms] = {
    (1, 31): VersionTerms(
        version="1.31.1",
        # libonnxruntime +13.9, libonnxruntime-genai +2.7 MiB at og.Model, +0.8 at the first run
        code_pages=round((13.9 + 2.7 + 0.8) * MIB),
        session_heap=round(9.0 * MIB),
        session_heap_per_layer=_PER_LAYER,
        platforms=("linux-x86_64",),
        source="benchmarks/ort_bench/MECHANISMS.md §1 (probe 'fixed' and 'prepack', ORT 1.31.1)",
    ),
    (1, 32): VersionTerms(
        version="1.32.0",
        # With the library freshly written (just installed) a session adds only +10.3 / +1.3 /
        # +0.8 MiB of code (MECHANISMS.md §1): the import already mapped more of it. With the
        # library read back from disk, as an app loads it, the session touches 6.7 MiB more:
        # planner measure (which evicts the libraries first) on the probe's tiny llama fp32 /
        # int4, prompt 16, max_length 2048, gives fixed terms of 28.4 / 28.8 MiB against 21.9
        # (benchmarks/results/ort_calibration_evicted_132.json; the library states side by side:
        # benchmarks/ort_bench/probe_library_state.py).
        code_pages=round((10.3 + 1.3 + 0.8 + 6.7) * MIB),
        session_heap=round(9.5 * MIB),
        session_heap_per_layer=_PER_LAYER,
        platforms=("linux-x86_64",),
        source="benchmarks/ort_bench/MECHANISMS.md §1 (probe 'fixed' and 'prepack', ORT 1.32.0)",
    ),
}

_VERSION = re.compile(r"^\s*v?(\d+)\.(\d+)(?:\.(\d+))?(?:[.+-][0-9A-Za-z.+-]*)?\s*$")


def parse_version(text: str) -> tuple[int, int]:
    """``1.32.0``, ``1.32``, ``v1.31.1``, ``1.33.0.dev20260101`` → (major, minor)."""
    m = _VERSION.match(text)
    if not m:
        raise UsageError(
            f"onnxruntime version {text!r} is not a version number", hint="e.g. --ort-version 1.32"
        )
    return int(m.group(1)), int(m.group(2))


def newest() -> VersionTerms:
    """The newest version measured (what an unnamed version is planned as)."""
    return VERSIONS[max(VERSIONS)]


def known_versions() -> str:
    """The measured versions, for messages."""
    return ", ".join(v.version for v in VERSIONS.values())


def version_terms(version: str | None) -> tuple[VersionTerms, str | None]:
    """The fixed terms for ``version`` and, when they are not that version's own, why not."""
    if version is None:
        terms = newest()
        return terms, (
            f"onnxruntime version not given: planned as {terms.version}, the newest measured "
            "(pass --ort-version or ort_version in planner.yaml)"
        )
    key = parse_version(version)
    if key in VERSIONS:
        return VERSIONS[key], None
    if key > max(VERSIONS):
        terms = newest()
        return terms, (
            f"onnxruntime {version} is newer than any measured ({known_versions()}): its fixed "
            f"terms are assumed to be {terms.version}'s; measure it (planner measure "
            "--calibration-out) to be sure"
        )
    terms = VERSIONS[min(VERSIONS)]
    return terms, (
        f"onnxruntime {version} is older than any measured ({known_versions()}): its fixed "
        f"terms are assumed to be {terms.version}'s"
    )
