"""Per-call dequantization buffers of MatMulNBits that are not prepacked, and what the C
library keeps of them (pure; MECHANISMS.md §3, "Per-call dequantization and the allocator").

``ComputeBUnpacked`` (onnxruntime ``matmul_nbits.cc``) dequantizes B into a ``K × N`` fp32 buffer
on every call, taken through the arena's reserve path (the system allocator) and freed after the
call; where it stays resident depends on the allocator and the buffer's size.
"""

from __future__ import annotations

from planner.families import ParamKind, fact, param_groups
from planner.spec import ModelSpec

MIB = 1024 * 1024
GLIBC_MMAP_THRESHOLD_MAX = 32 * MIB
"""glibc's dynamic mmap threshold rises to the size of a freed mmapped chunk only while that is
at most ``DEFAULT_MMAP_THRESHOLD_MAX`` (4 MiB × sizeof(long): 32 MiB on 64-bit; ``mallopt(3)``,
malloc.c ``_int_free``/``munmap_chunk``): a request of that size or more is mmapped on every
call and unmapped when freed; a smaller one, once a chunk as large has been freed, comes from the
heap and stays there (M§3, "Per-call dequantization and the allocator")."""


def call_sizes(spec: ModelSpec, from_artifact: bool) -> list[tuple[int, int]]:
    """(K·N, count) of every quantized MatMul: the graph's own (adapter fact ``nbits_call_kn``),
    else the builder's layout for this architecture (q, k and v fused into one ``qkv_proj``, as
    the builder writes them for the CPU)."""
    raw = fact(spec, "nbits_call_kn") if from_artifact else None
    if raw:
        found: list[tuple[int, int]] = []
        for item in raw.split(","):
            kn, _, n = item.partition(":")
            if kn.isdigit() and n.isdigit() and int(kn) > 0 and int(n) > 0:
                found.append((int(kn), int(n)))
        if found:
            return found
    qkv = 0
    sizes: list[tuple[int, int]] = []
    for g in param_groups(spec):
        if g.kind is not ParamKind.LINEAR or len(g.shape) != 2:
            continue
        if g.name.rsplit(".", 1)[-1] in ("q_proj", "k_proj", "v_proj"):
            qkv += g.shape[0] * g.shape[1]
        else:
            sizes.append((g.shape[0] * g.shape[1], g.count))
    if qkv:
        sizes.append((qkv, max(1, spec.num_layers)))
    sizes.append((spec.vocab_size * spec.hidden_size, 1))
    return sizes


def layer_heap_kn(spec: ModelSpec, from_artifact: bool) -> int:
    """Σ K·N of one layer's quantized MatMuls whose fp32 buffer glibc serves from its heap (the
    largest call, the lm_head, excluded: it is counted on its own)."""
    sizes = call_sizes(spec, from_artifact)
    largest = max(kn for kn, _ in sizes)
    heap = 0
    for kn, n in sizes:
        if kn == largest:
            n -= 1
        if 4 * kn < GLIBC_MMAP_THRESHOLD_MAX:
            heap += kn * n
    return heap // max(1, spec.num_layers)


def per_call_bytes(largest_kn: int, layer_heap_kn: int, glibc: bool) -> int:
    """Peak bytes of the per-call fp32 dequantization buffers of MatMulNBits that are not
    prepacked (``ComputeBUnpacked``: ``K × N`` floats from the allocator's reserve path, i.e.
    malloc, freed after the call).

    The lm_head's buffer is live at its call. The others depend on the allocator: glibc serves
    the ones below its largest dynamic mmap threshold (32 MiB) from the heap once such a chunk
    was freed, and the heap keeps them: counted as one layer's buffers (their sum), which lies
    inside the run-to-run spread glibc's heap placement gives (llama-gqa-int8-acc1 at 16 tokens:
    342–396 MiB default against 320.5 ± 0.1 with ``MALLOC_MMAP_THRESHOLD_`` fixed, where nothing
    is kept; BENCHMARKS.md §2). Buffers of 32 MiB and more are mmapped and unmapped on every call.
    Without glibc (Android's Scudo: blocks above its 2 MiB secondary-cache limit are unmapped on
    free; Apple's malloc) nothing is assumed kept."""
    return 4 * (largest_kn + (layer_heap_kn if glibc else 0))
