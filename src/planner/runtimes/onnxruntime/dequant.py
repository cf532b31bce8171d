"""Per-call dequantization buffers of MatMulNBits that are not prepacked, and what the C
library keeps of them (pure; MECHANISMS.md §3, "Per-call dequantization and the allocator").

``ComputeBUnpacked`` (onnxruntime ``matmul_nbits.cc``) dequantizes B into a ``K × N`` fp32 buffer
on every call, taken through the arena's reserve path (the system allocator) and freed after the
call; where it stays resident depends on the allocator and the buffer's size.
"""

from __future__ import annotations

from math import ceil

from planner.errors import PlannerError
from planner.families import ParamKind, fact, family_layout, param_groups
from planner.spec import ModelSpec

MIB = 1024 * 1024
GLIBC_MMAP_THRESHOLD_MAX = 32 * MIB
"""glibc's dynamic mmap threshold rises to the size of a freed mmapped chunk only while that is
at most ``DEFAULT_MMAP_THRESHOLD_MAX`` (4 MiB × sizeof(long): 32 MiB on 64-bit; ``mallopt(3)``,
malloc.c ``_int_free``/``munmap_chunk``): a request of that size or more is mmapped on every
call and unmapped when freed; a smaller one, once a chunk as large has been freed, comes from the
heap and stays there (M§3, "Per-call dequantization and the allocator")."""


def _graph_calls(spec: ModelSpec) -> list[tuple[int, int]] | None:
    """The graph's own MatMulNBits sizes (adapter fact ``nbits_call_kn``: ``kn:count`` pairs);
    None when absent or malformed anywhere (a partly read fact would under-count)."""
    raw = fact(spec, "nbits_call_kn")
    if not raw:
        return None
    found: list[tuple[int, int]] = []
    for item in raw.split(","):
        kn, _, n = item.partition(":")
        if not (kn.isascii() and kn.isdigit() and n.isascii() and n.isdigit()):
            return None
        if int(kn) > 0 and int(n) > 0:
            found.append((int(kn), int(n)))
    return found or None


def _builder_calls(spec: ModelSpec) -> list[tuple[int, int]]:
    """The builder's MatMuls for this architecture from the family layout: q, k and v fused
    into one ``qkv_proj``, a gated MLP's gate and up as two calls (what the 0.18 builder writes
    for the CPU: llama, qwen3 and phi3 builds list gate, up and down separately), plus the
    lm_head."""
    lay = family_layout(spec.architecture)
    fused = (lay.gate_up, "gate_up_proj") if lay.gated_mlp and lay.gate_up_split is None else ()
    split_qkv = {n.rsplit(".", 1)[-1] for n in lay.qkv_split or ()}
    qkv = 0
    sizes: list[tuple[int, int]] = []
    for g in param_groups(spec):
        if g.kind is not ParamKind.LINEAR or len(g.shape) != 2:
            continue
        kn = g.shape[0] * g.shape[1]
        if g.name.rsplit(".", 1)[-1] in split_qkv:
            qkv += kn * g.count
        elif any(g.name.endswith(f) for f in fused):
            sizes.append((kn // 2, 2 * g.count))
        else:
            sizes.append((kn, g.count))
    if qkv:
        layers = max(1, spec.num_layers)
        sizes.append((qkv // layers, layers))
    sizes.append((spec.vocab_size * spec.hidden_size, 1))
    return sizes


def live_kn(spec: ModelSpec, from_artifact: bool) -> int:
    """K·N of the buffer live at the largest call: the lm_head's, or, when the graph's lm_head
    is not a MatMulNBits (a float lm_head), its largest MatMulNBits."""
    head = spec.vocab_size * spec.hidden_size
    calls = _graph_calls(spec) if from_artifact else None
    if calls is None or any(kn == head for kn, _ in calls):
        return head
    return max(kn for kn, _ in calls)


def layer_heap_kn(spec: ModelSpec, from_artifact: bool, quantized_kn: int) -> int:
    """Σ K·N of one layer's quantized MatMuls whose fp32 buffer glibc serves from its heap:
    every size below the limit once per layer that has it (``ceil(count / layers)``: a size only
    some layers have still takes its place in the heap), the lm_head's one call excluded (it is
    the live buffer). Without the graph's sizes or a family layout: every layer buffer, the
    weights' K·N (``quantized_kn``) less the lm_head's over the layers (the larger count)."""
    layers = max(1, spec.num_layers)
    head = spec.vocab_size * spec.hidden_size
    calls = _graph_calls(spec) if from_artifact else None
    if calls is None:
        try:
            calls = _builder_calls(spec)
        except PlannerError:  # no layout for this family: the count before the limit was known
            return max(0, quantized_kn - head) // layers
    heap = 0
    for kn, n in calls:
        if kn == head:
            n -= 1
        if n > 0 and 4 * kn < GLIBC_MMAP_THRESHOLD_MAX:
            heap += kn * ceil(n / layers)
    return heap


def heap_note(layer_heap_kn: int) -> str:
    """The budget note on glibc platforms: what the heap term is and how much more varies."""
    return (
        "MatMulNBits not prepacked: every call dequantizes its weight into a fresh fp32 buffer; "
        f"glibc keeps the ones below 32 MiB in its heap (planned: {4 * layer_heap_kn / MIB:,.0f} "
        "MiB, one layer's), and where it places them varies by run: three int8 accuracy-level-1 "
        "builds peaked 32–120 MiB above their glibc-neutral runs (MALLOC_MMAP_THRESHOLD_ fixed), "
        "up to 53 MiB apart between runs (benchmarks/ort_bench/probe_malloc.py; MECHANISMS.md "
        "§3; planner measure --fixed-heap runs without it)"
    )


def per_call_bytes(largest_kn: int, layer_heap_kn: int, glibc: bool) -> int:
    """Peak bytes of the per-call fp32 dequantization buffers of MatMulNBits that are not
    prepacked (``ComputeBUnpacked``: ``K × N`` floats from the allocator's reserve path, i.e.
    malloc, freed after the call).

    The largest call's buffer (the lm_head's) is live at that call. The others depend on the
    allocator: glibc serves the ones below its largest dynamic mmap threshold (32 MiB) from the
    heap once such a chunk was freed, and the heap keeps them: counted as one layer's buffers
    (their sum). That is the part the mechanism fixes; how much more glibc keeps depends on what
    else the process allocates between calls and varies by run (measured: 32–120 MiB above runs
    with ``MALLOC_MMAP_THRESHOLD_`` fixed, where nothing is kept, on three builds whose estimate
    less this term matched those runs to 1 MiB; BENCHMARKS.md §2, "The noisy build, explained"):
    a budget note says so. Buffers of 32 MiB and more are mmapped and unmapped on every call.
    Without glibc nothing is assumed kept (Android 11+'s Scudo unmaps freed blocks above its
    2 MiB secondary-cache limit; Apple's malloc returns large blocks; inference from their
    sources)."""
    return 4 * (largest_kn + (layer_heap_kn if glibc else 0))
