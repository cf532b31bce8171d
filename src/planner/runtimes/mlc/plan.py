"""TVM's static memory planner (``StaticPlanBlockMemory``, ``TokenAllocator1D``) replayed over
a kernel sequence (pure).

apache/tvm ``src/relax/transform/static_plan_block_memory.cc``: pools per (scope, dtype); a
request takes the smallest free block of size in [n, 16n], else the largest free block in
[n/16, n) which is ENLARGED to n, else a new block. After ``CallTIRRewrite`` a kernel's outputs
are arguments of its own call, so every output has one reference from its writer: an output
nobody reads is requested from the pool and released right after the call (it does not get a
block of its own). Release order is argument order (inputs, then outputs). Reshapes alias the
token. Function results are not planned; they are counted by the estimator when static.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

MATCH_RANGE = 16
"""``TokenAllocator1D::match_range_``: a free block serves requests within 16x of its size."""


@dataclass(frozen=True, slots=True)
class Tensor:
    """One tensor in the planned sequence. ``size`` None means dynamic (not counted)."""

    name: str
    size: int | None
    dtype: str


@dataclass(frozen=True, slots=True)
class Op:
    """One kernel call: tensors it writes and tensors it reads (in argument order)."""

    outputs: tuple[Tensor, ...]
    inputs: tuple[str, ...]


def plan_blocks(ops: tuple[Op, ...], outputs: tuple[Tensor, ...] = ()) -> tuple[int, ...]:
    """Replay ``TokenAllocator1D`` over ``ops``; return the final size of every counted block.

    Intermediates share blocks through the per-dtype free pool; ``outputs`` (function results)
    are counted apart (static ones only). Each kernel's outputs hold one reference from their
    writer, released after the call, so a tensor nobody reads borrows a pool block for the
    duration of its call. Dynamic tensors (size None) are planned apart and never counted.
    """
    out_names = {t.name for t in outputs}
    ops = tuple(
        Op(op.outputs, op.inputs + tuple(t.name for t in op.outputs if t.name not in out_names))
        for op in ops
    )
    uses: dict[str, int] = {}
    for op in ops:
        for name in op.inputs:
            uses[name] = uses.get(name, 0) + 1
    blocks: list[list[int]] = []
    pools: dict[str, list[tuple[int, int, list[int]]]] = {}
    owner: dict[str, tuple[list[int], str]] = {}
    refs: dict[str, int] = {}
    order = 0

    def request(size: int, dtype: str) -> list[int]:
        pool = pools.setdefault(dtype, [])
        keys = [e[0] for e in pool]
        lo = bisect.bisect_left(keys, size // MATCH_RANGE)
        mid = bisect.bisect_left(keys, size)
        hi = bisect.bisect_right(keys, size * MATCH_RANGE)
        if mid < hi:  # smallest free block that is large enough
            return pool.pop(mid)[2]
        if mid > lo:  # else the largest smaller one, enlarged
            block = pool.pop(mid - 1)[2]
            block[0] = size
            return block
        block = [size]
        blocks.append(block)
        return block

    for op in ops:
        for t in op.outputs:
            if t.name in out_names:
                if t.size is not None:
                    blocks.append([t.size])
                continue
            if t.size is None:
                continue
            owner[t.name] = (request(t.size, t.dtype), t.dtype)
            refs[t.name] = uses[t.name]
        for name in op.inputs:
            if name not in owner:
                continue
            refs[name] -= 1
            if refs[name] == 0:
                block, dtype = owner[name]
                order += 1
                bisect.insort(pools.setdefault(dtype, []), (block[0], order, block))
    return tuple(b[0] for b in blocks)
