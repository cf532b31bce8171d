"""onnxruntime's CPU arena replayed over a prompt's allocation requests (pure).

Two prompt runs in one process share the arena, and what the second one adds depends on where
BFC (``core/framework/bfc_arena.cc``) places its tensors among the first one's regions: the Phi-3
re-run (a 4097-token pass after a 4096-token prompt) grows the arena by anything from 3 to 172 MiB
on builds whose single-pass live sets are alike. This module derives the request sequence of one
builder-layout prompt pass from the model's dimensions and replays it through BFC's rules; the
planner counts the difference the second pass makes.

The request sequence, read from traces of real runs (``benchmarks/ort_bench/alloc_trace.c``,
arena off, ``benchmarks/results/alloc_traces/``): onnxruntime's allocation planner gives a pass a
handful of buffers that later layers reuse, all held to the end of the run — two hidden-size
tensors, the packed QKV, the rotary caches a long-RoPE ``If`` selects, two more hidden-size tensors
(attention output, o_proj output) and three intermediate-size ones (gate, up, their product) —
while each layer's GroupQueryAttention takes two packed-QKV-size scratch copies and a flash
attention tile buffer, freed when the kernel returns. An int8-compute MatMulNBits' quantized-input
workspace is not an arena request: with the arena on it is ``posix_memalign``'ed beside it
(``benchmarks/ort_bench/heap_trace.py``; the int4 builds' logged arena extensions equal the fp32
builds', ``results/ort_rerun_probe.json``), so it is left out here. Replayed, this sequence
gives the same arena pages as the traced requests, to the MiB, on phi3-mha-fp32,
phi3-longrope-fp32 and llama-gqa-fp32, for a longer second pass and for an equal one
(``tests/test_ort_arena.py``).

With the memory pattern on, every later prompt run finds the first one's cached pattern (the key
is the XOR of all input dims, the same for every genai prompt run; ``session_state.cc``
``CalculateMemoryPatternsKey``; the cache keeps the first pattern stored under a key,
``UpdateMemoryPatternGroupCache``) and allocates its block first. A tensor goes into its slot only
when the sizes are equal (``execution_frame.cc``: ``block->size_ == size``, else the default
allocation): a prompt of another length leaves the block unwritten and allocates beside it; an
equal one writes its held buffers into it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

MIN_ALLOCATION = 256
"""BFC rounds every request up to 256 bytes (``kMinAllocationSize``)."""
BINS = 21
"""Free-chunk bins by power of two of size / 256 (``kNumBins``)."""
MAX_DEAD = 128 << 20
"""A chunk is split when it is twice the request or would waste 128 MiB
(``kMaxDeadBytesInChunk``)."""
INITIAL_REGION = 1 << 20
"""``initial_chunk_size_bytes`` default; regions double from it (``kNextPowerOfTwo``)."""
MAX_DOUBLING = 1 << 30
"""``max_power_of_two_extend_bytes`` (OrtArenaCfg default 1 GiB): a region that did not have to
grow doubles the next one only up to this; past it the next region is this size (current
``BFCArena::Extend``; older releases had no cap)."""
PAGE = 4096
"""Linux x86-64 and Android pages; iOS and macOS use 16 KiB (the caller passes its platform's)."""
FLASH_TILES = 1_116_160
"""GroupQueryAttention's flash-attention tile buffer (MLAS ``buffer_size_per_thread`` × threads),
taken per call; its size follows the thread count and L2 size (1,116,160 bytes in every traced
run on the 2-core bench machine; 1,314,816 with head size 128); the traced value is used, since
the target's thread count is not known. It only places a chunk of a few MiB at most."""


@dataclass(frozen=True, slots=True)
class PromptShape:
    """What a builder-layout prompt pass allocates, per token (fp32 values) and in bytes."""

    hidden: int
    qkv: int
    """Packed Q, K and V width (q + 2 kv)."""
    q: int
    intermediate: int
    layers: int
    rope_caches: tuple[int, int] = (0, 0)
    """Bytes of one long-RoPE cos (or sin) table for prompts up to the original context and
    beyond it (0, 0 when the graph has no long-RoPE ``If``)."""
    rope_switch: int = 0
    """The original context: longer prompts take the long tables."""

    def __post_init__(self) -> None:
        dims = (self.hidden, self.qkv, self.q, self.intermediate, self.layers, self.rope_switch)
        if min(dims + self.rope_caches) < 0:
            raise ValueError("a prompt shape's sizes cannot be negative")


Event = tuple[bool, int, int]
"""(allocate?, request id, bytes)."""


@dataclass(frozen=True, slots=True)
class PassRequests:
    """One prompt pass's requests in order, and which of them it holds to its end."""

    events: tuple[Event, ...]
    held: tuple[int, ...]


def prompt_requests(shape: PromptShape, tokens: int, batch: int = 1) -> PassRequests:
    """The requests one prompt pass of ``tokens`` makes, in order (see the module docstring)."""
    events: list[Event] = []
    planned: list[int] = []

    def alloc(n: int) -> int:
        events.append((True, len(events), n))
        return len(events) - 1

    def free(k: int) -> None:
        events.append((False, k, 0))

    def tensor(width: int) -> int:
        return alloc(batch * tokens * width * 4)

    planned += [tensor(shape.hidden), tensor(shape.hidden)]
    for layer in range(shape.layers):
        # the first layer allocates the buffers every later one reuses, around its attention
        if layer == 0:
            planned.append(tensor(shape.qkv))
            if shape.rope_caches[0]:
                table = shape.rope_caches[0 if tokens <= shape.rope_switch else 1]
                planned += [alloc(table), alloc(table)]
        scratch = (tensor(shape.qkv), tensor(shape.qkv), alloc(FLASH_TILES))
        for k in reversed(scratch):
            free(k)
        if layer == 0:
            planned += [tensor(shape.hidden), tensor(shape.hidden)]
            planned += [tensor(shape.intermediate) for _ in range(3)]
    for k in planned:
        free(k)
    return PassRequests(tuple(events), tuple(planned))


def planned_bytes(requests: PassRequests) -> int:
    """The memory pattern's block: the buffers a pass holds to its end, each rounded as BFC
    rounds it."""
    sizes = {k: n for is_alloc, k, n in requests.events if is_alloc}
    return sum(_rounded(sizes[k]) for k in requests.held)


def _rounded(n: int) -> int:
    return (n + MIN_ALLOCATION - 1) // MIN_ALLOCATION * MIN_ALLOCATION


def _bin(n: int) -> int:
    return min(BINS - 1, (max(n, MIN_ALLOCATION) >> 8).bit_length() - 1)


class _Chunk:
    __slots__ = ("next", "prev", "ptr", "region", "size", "used")

    def __init__(self, ptr: int, size: int, region: int) -> None:
        self.ptr, self.size, self.region = ptr, size, region
        self.used = False
        self.prev: _Chunk | None = None
        self.next: _Chunk | None = None


class Arena:
    """BFC state: regions, chunks, free bins, the pages written so far and the extensions made.
    Mutable, and local to one replay (``arena_pages``; ``benchmarks/ort_bench/bfc_sim.py``
    replays traces with it): the module's functions stay pure."""

    def __init__(self, page: int = PAGE) -> None:
        self.page = page
        self.extensions: list[tuple[int, int]] = []
        """(request, region bytes) of every extension, in order."""
        self.curr = INITIAL_REGION
        self.bins: list[list[tuple[int, int]]] = [[] for _ in range(BINS)]
        self.chunks: dict[int, _Chunk] = {}
        self.top = 1 << 46
        self.bases: list[int] = []
        self.written: list[tuple[int, int]] = []
        """Page ranges [first, last) written, as addresses / PAGE (merged when counted)."""

    def _insert(self, c: _Chunk) -> None:
        bisect.insort(self.bins[_bin(c.size)], (c.size, c.ptr))

    def _remove(self, c: _Chunk) -> None:
        b = self.bins[_bin(c.size)]
        b.pop(bisect.bisect_left(b, (c.size, c.ptr)))

    def _extend(self, r: int) -> None:
        # Extend: the region size doubles until the request fits; a region that did not have
        # to grow doubles the next one, up to the cap.
        grew = False
        while r > self.curr:
            self.curr *= 2
            grew = True
        size = self.curr
        if not grew:
            self.curr = self.curr * 2 if self.curr * 2 < MAX_DOUBLING else MAX_DOUBLING
        self.top -= size + INITIAL_REGION
        c = _Chunk(self.top, size, len(self.bases))
        self.bases.append(self.top)
        self.chunks[c.ptr] = c
        self._insert(c)
        self.extensions.append((r, size))

    def _find(self, r: int) -> _Chunk | None:
        # Best fit by (size, address) from the request's bin upward.
        for b in range(_bin(r), BINS):
            for size, ptr in self.bins[b]:
                if size < r:
                    continue
                c = self.chunks[ptr]
                self._remove(c)
                if c.size >= 2 * r or c.size - r >= MAX_DEAD:
                    rest = _Chunk(c.ptr + r, c.size - r, c.region)
                    rest.prev, rest.next = c, c.next
                    if c.next:
                        c.next.prev = rest
                    c.next, c.size = rest, r
                    self.chunks[rest.ptr] = rest
                    self._insert(rest)
                c.used = True
                return c
        return None

    def alloc(self, n: int, write: bool = True) -> int:
        if n <= 0:
            raise ValueError("BFC allocates nothing for 0 bytes")
        r = _rounded(n)
        c = self._find(r)
        if c is None:
            self._extend(r)
            c = self._find(r)
            assert c is not None  # a fresh region always fits the request
        if write:
            # pages counted from each region's start (regions start on a page here; real ones
            # sit a few bytes past one, which moves a tensor's page span by at most one)
            offset = c.ptr - self.bases[c.region]
            base, page = self.bases[c.region] // self.page, self.page
            self.written.append((base + offset // page, base + (offset + n - 1) // page + 1))
        return c.ptr

    def _absorb(self, c: _Chunk, nxt: _Chunk) -> None:
        c.size += nxt.size
        c.next = nxt.next
        if nxt.next:
            nxt.next.prev = c
        del self.chunks[nxt.ptr]

    def free(self, ptr: int) -> None:
        c = self.chunks[ptr]
        c.used = False
        nxt, prv = c.next, c.prev
        if nxt is not None and not nxt.used:
            self._remove(nxt)
            self._absorb(c, nxt)
        if prv is not None and not prv.used:
            self._remove(prv)
            self._absorb(prv, c)
            c = prv
        self._insert(c)

    def resident(self) -> int:
        pages, end = 0, -1
        for first, last in sorted(self.written):
            if last > end:
                pages += last - max(first, end)
                end = last
        return pages * self.page


def arena_pages(
    shape: PromptShape,
    passes: Sequence[int],
    batch: int = 1,
    pattern: bool = True,
    page: int = PAGE,
) -> int:
    """Bytes of arena pages written after prompt passes of these lengths in one session."""
    return replay(shape, passes, batch, pattern, page).resident()


def replay(
    shape: PromptShape,
    passes: Sequence[int],
    batch: int = 1,
    pattern: bool = True,
    page: int = PAGE,
) -> Arena:
    """The arena after prompt passes of these lengths in one session (a fresh one per call).

    With ``pattern``, every pass after the first takes the first pass's pattern block first
    (onnxruntime keeps the first pattern cached under the shared key). A pass of another length
    fits none of the block's slots (they take equal sizes only): the block stays unwritten and
    every request is served beside it. An equal pass's held buffers are written into the block
    and only its transient requests go to the arena (the traces of two equal 2048-token passes
    show exactly that: one block request, then only GroupQueryAttention's scratch)."""
    arena = Arena(page)
    block, first = 0, 0
    for tokens in passes:
        requests = prompt_requests(shape, tokens, batch)
        reuse = pattern and block > 0
        fits = reuse and tokens == first
        held = arena.alloc(block, write=fits) if reuse else None
        in_block = set(requests.held) if fits else set()
        ptrs: dict[int, int] = {}
        for is_alloc, k, n in requests.events:
            if k in in_block:
                continue  # served by the pattern's block
            if is_alloc:
                if n > 0:  # BFC returns nullptr for 0 bytes
                    ptrs[k] = arena.alloc(n)
            elif k in ptrs:
                arena.free(ptrs.pop(k))
        if held is not None:
            arena.free(held)
        if not first:
            block, first = planned_bytes(requests), tokens
    return arena


@lru_cache(maxsize=256)  # a suggest search asks for the same few shapes many times
def second_pass_growth(
    shape: PromptShape,
    first: int,
    second: int,
    batch: int = 1,
    pattern: bool = True,
    page: int = PAGE,
) -> int:
    """Arena pages a ``second``-token prompt pass adds after a ``first``-token one, beyond what
    the second pass alone would write."""
    both = arena_pages(shape, (first, second), batch, pattern, page)
    return max(0, both - arena_pages(shape, (second,), batch, pattern, page))
