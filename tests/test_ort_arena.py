"""planner's arena replay (runtimes/onnxruntime/arena.py) against the requests real runs made.

benchmarks/results/alloc_traces/ holds every request onnxruntime 1.32 made (arena off, one
posix_memalign each) for a 4096-token prompt pass and then a 4097-token one, and for two
2048-token passes, on builder exports; test_bfc_replay.py checks that replaying those traces
reproduces onnxruntime's own arena log. Here the request sequence planner derives from the
model's dimensions alone must write the same arena pages, pass by pass, as the traced requests
do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from planner.runtimes.onnxruntime.arena import (
    Arena,
    PromptShape,
    arena_pages,
    planned_bytes,
    prompt_requests,
    replay,
    second_pass_growth,
)
from planner.runtimes.onnxruntime.prompt import prompt_shape
from planner.spec import ModelSpec

try:
    from conftest import bfc_sim, logged_extensions
except ImportError:  # pragma: no cover
    from tests.conftest import bfc_sim, logged_extensions

ROOT = Path(__file__).resolve().parents[1]
TRACES = ROOT / "benchmarks" / "results" / "alloc_traces"
BUILDS = json.loads((ROOT / "benchmarks" / "results" / "ort_builds_v2.json").read_text())
MIB = 2**20
LONGROPE = (4096 * 32 * 4, 16384 * 32 * 4)
"""phi3-longrope's If tables: cos_cache_small [4096, 32] and cos_cache_large [16384, 32], fp32
(read from its model.onnx; the manifest keeps only the HF config)."""


def _shape(build: str) -> PromptShape:
    rec = BUILDS[build]
    cfg = rec["hf_config"]
    q = cfg["num_attention_heads"] * cfg["head_dim"]
    kv = cfg["num_key_value_heads"] * cfg["head_dim"]
    rope = LONGROPE if rec["model_id"] == "phi3-longrope" else (0, 0)
    return PromptShape(
        hidden=cfg["hidden_size"],
        qkv=q + 2 * kv,
        q=q,
        intermediate=cfg["intermediate_size"],
        layers=cfg["num_hidden_layers"],
        rope_caches=rope,
        rope_switch=4096 if rope[0] else 0,
    )


TRACED = [
    (build, first, second)
    for build in ("phi3-mha-fp32", "phi3-longrope-fp32", "llama-gqa-fp32")
    for first, second in ((4096, 4097), (2048, 2048))
] + [("llama-gqa-int4", 4096, 4097)]
"""A longer second pass (the pattern's block unwritten, everything beside it) and an equal one
(the held buffers written into the block); the int4 trace also holds the MatMulNBits
workspaces, which with the arena on are not arena requests and here fit freed chunks anyway."""


@pytest.mark.parametrize(("build", "first", "second"), TRACED)
@pytest.mark.parametrize("pattern", ["on", "off"])
def test_derived_requests_write_the_pages_the_traced_requests_write(
    build: str, first: int, second: int, pattern: str
) -> None:
    on = pattern == "on"
    traced = bfc_sim().replay(
        TRACES / f"{build}-{first}_{second}-pattern-{pattern}.log",
        pattern_block=on and second > first,
    )
    shape = _shape(build)
    derived = [
        arena_pages(shape, (first,), pattern=on),
        arena_pages(shape, (first, second), pattern=on),
    ]
    # the traces' few small requests (shape tensors, under 64 KiB) are not derived: a page or two
    assert len(traced) == 2
    for (_, mib, _), n in zip(traced, derived, strict=True):
        assert abs(mib - n / MIB) < 0.05


def test_an_equal_pass_writes_the_block_and_a_longer_one_does_not() -> None:
    """The two branches give different pages: the equal pass's figure is the block written."""
    shape = _shape("llama-gqa-fp32")
    equal = arena_pages(shape, (2048, 2048))
    assert equal - arena_pages(shape, (2048,)) == pytest.approx(75 * MIB, abs=MIB)
    # a pass one token shorter does not fit the slots exactly (execution_frame.cc compares
    # sizes for equality): it allocates beside the block like a longer one
    assert arena_pages(shape, (2048, 2047)) != equal


def test_the_pattern_block_is_what_a_pass_holds_to_its_end() -> None:
    """phi3-mha at 4096 tokens: 4 hidden-size tensors, the packed QKV and three
    intermediate-size ones (244 MiB), as the 4097-token pass's first request in its trace
    (memory pattern on)."""
    shape = _shape("phi3-mha-fp32")
    block = planned_bytes(prompt_requests(shape, 4096))
    assert block == 4096 * 4 * (4 * 1024 + 3072 + 3 * 2816)
    trace = (TRACES / "phi3-mha-fp32-4096_4097-pattern-on.log").read_text().split("PASS 4097")[1]
    first = next(int(line.split()[2]) for line in trace.splitlines() if line.startswith("A "))
    assert 0 <= first - block <= 1024  # the trace's block also holds two 256-byte shape tensors


def test_the_memory_pattern_is_what_grows_the_rerun() -> None:
    shape = _shape("phi3-mha-fp32")
    with_pattern = second_pass_growth(shape, 4096, 4097, pattern=True)
    without = second_pass_growth(shape, 4096, 4097, pattern=False)
    assert with_pattern > 150 * MIB > 50 * MIB > without
    # a much shorter first prompt leaves less beside the re-run than a 4096-token one
    assert second_pass_growth(shape, 512, 4097) < with_pattern


def test_int8_compute_workspaces_are_not_arena_requests() -> None:
    """With the arena on, an int8-compute MatMulNBits' input workspace is posix_memalign'ed beside
    the arena (heap_trace.py): onnxruntime's own log shows the int4 build extending its arena
    exactly as the fp32 build does, and the derived requests, which have no workspaces, extend a
    replayed arena into the same regions as that log."""
    for pattern in ("on", "off"):
        logged = logged_extensions("llama-gqa-fp32", pattern)
        assert logged_extensions("llama-gqa-int4", pattern) == logged
        arena = replay(_shape("llama-gqa-int4"), (4096, 4097), pattern=pattern == "on")
        assert [size for _, size in arena.extensions] == [s for p in logged for _, s in p]


def test_later_passes_meet_the_first_pattern_and_regions_stop_doubling_at_1_gib() -> None:
    shape = _shape("phi3-mha-fp32")
    # onnxruntime keeps the first pattern cached under the shared key: a third pass as long as
    # the first writes the first pass's block, whatever the second pass was
    assert arena_pages(shape, (2048, 4097, 2048)) == arena_pages(shape, (2048, 2048, 4097))
    arena = Arena()
    for _ in range(3):
        arena.alloc(600 << 20)
    # the first region grows to fit (1 GiB); the next would double to 2 GiB without the cap
    assert [size >> 20 for _, size in arena.extensions] == [1024, 1024, 1024]


def test_zero_sizes_and_pages_of_16_kib() -> None:
    empty = PromptShape(hidden=0, qkv=0, q=0, intermediate=0, layers=2)
    # zero-width tensors are no requests: only the tile buffers, whatever the prompt
    assert arena_pages(empty, (64, 128)) == arena_pages(empty, (1,)) > 0
    with pytest.raises(ValueError):
        PromptShape(hidden=-1, qkv=3, q=1, intermediate=1, layers=1)
    with pytest.raises(ValueError):
        Arena().alloc(0)  # BFC hands out nothing for 0 bytes; the replay never asks
    shape = _shape("llama-gqa-fp32")
    small, big = arena_pages(shape, (100,)), arena_pages(shape, (100,), page=16384)
    assert small % 4096 == 0 and big % 16384 == 0 and big > small


def test_layouts_the_traces_do_not_cover_are_not_replayed(
    spec_of: Callable[[str], ModelSpec],
) -> None:
    phi = spec_of("phi-3.5-mini")
    shape = prompt_shape(phi)
    assert shape is not None
    # the config's LongRoPE: original 4096 rows and the whole context's, rotary_dim / 2 values
    assert shape.rope_switch == 4096
    assert shape.rope_caches == (4096 * 48 * 4, phi.max_context * 48 * 4)
    assert prompt_shape(spec_of("qwen3-0.6b")) is None  # q/k norms
    assert prompt_shape(spec_of("gemma-2-2b")) is None  # post-norms
    facts = tuple(e for e in phi.extra if e[0] != "original_max_position_embeddings")
    no_rope = prompt_shape(replace(phi, extra=facts))
    assert no_rope is not None and no_rope.rope_caches == (0, 0)
