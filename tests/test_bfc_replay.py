"""The BFC replay (benchmarks/ort_bench/bfc_sim.py) against onnxruntime's own arena log.

The allocation traces in benchmarks/results/alloc_traces/ were recorded from onnxruntime 1.32
with its CPU arena off (every request one posix_memalign); benchmarks/results/ort_rerun_probe.json
holds what onnxruntime's BFCArena itself logged, arena on, for the same builds and prompts: each
extension's request and region size. Replaying a trace through planner's model of BFC's rules
must produce exactly those extensions, pass by pass, with onnxruntime's memory pattern on and off.
"""

from __future__ import annotations

from pathlib import Path

import pytest

try:
    from conftest import bfc_sim, logged_extensions
except ImportError:  # pragma: no cover
    from tests.conftest import bfc_sim, logged_extensions

ROOT = Path(__file__).resolve().parents[1]
TRACES = ROOT / "benchmarks" / "results" / "alloc_traces"
BUILDS = ("llama-gqa-fp32", "phi3-mha-fp32", "phi3-longrope-fp32")
INT4_BUILDS = ("llama-gqa-int4", "qwen3-tied-int4")


@pytest.mark.parametrize("build", BUILDS)
@pytest.mark.parametrize("pattern", ["on", "off"])
def test_replay_extends_the_arena_as_onnxruntime_logged(build: str, pattern: str) -> None:
    sim = bfc_sim()
    trace = TRACES / f"{build}-4096_4097-pattern-{pattern}.log"
    passes = sim.replay(trace, pattern_block=pattern == "on")
    assert [tokens for tokens, _, _ in passes] == [4096, 4097]
    assert [ext for _, _, ext in passes] == logged_extensions(build, pattern)


@pytest.mark.parametrize("build", INT4_BUILDS)
@pytest.mark.parametrize("pattern", ["on", "off"])
def test_replay_of_int4_builds_grows_the_same_regions(build: str, pattern: str) -> None:
    """MatMulNBits builds: the same region sizes pass by pass; one small request that triggers
    an extension differs (the trace misses a few small allocations), and the replay's growth
    runs 14–36 MiB under the measured one (bfc_sim.py's docstring)."""
    sim = bfc_sim()
    trace = TRACES / f"{build}-4096_4097-pattern-{pattern}.log"
    passes = sim.replay(trace, pattern_block=pattern == "on")
    regions = [[region for _, region in ext] for _, _, ext in passes]
    assert regions == [[region for _, region in ext] for ext in logged_extensions(build, pattern)]


def test_pattern_off_second_pass_needs_no_new_region_and_grows_little() -> None:
    """Without the memory pattern a 4097-token pass fits the 4096-token pass's regions; with it,
    phi3-mha and llama-gqa need a new 512 MiB region and grow by over 100 MiB."""
    sim = bfc_sim()
    for build in ("llama-gqa-fp32", "phi3-mha-fp32"):
        off = sim.replay(TRACES / f"{build}-4096_4097-pattern-off.log")
        on = sim.replay(TRACES / f"{build}-4096_4097-pattern-on.log", pattern_block=True)
        assert off[1][2] == [] and on[1][2][0][1] == 512 << 20
        assert off[1][1] - off[0][1] < 60
        assert on[1][1] - on[0][1] > 100
