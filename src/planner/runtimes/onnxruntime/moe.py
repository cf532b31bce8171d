"""MoE layers' expert weights on onnxruntime's CPU execution provider (pure): which are packed
into the heap at load and which pages the run reads in place (benchmarks/ort_bench/MECHANISMS.md
§7, "MoE layers"; BENCHMARKS.md §2, "A family never measured")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Protocol, TypeVar

from planner.families import fact, fact_int
from planner.runtimes.onnxruntime.platforms import OrtPlatform
from planner.spec import ModelSpec


class _Weights(Protocol):
    """model.OrtWeights as this module uses it (a dataclass; not imported: model imports this
    module)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]


class _Packed(Protocol):
    """model.Packing as this module reads it."""

    @property
    def heap(self) -> int: ...
    @property
    def layout(self) -> str: ...
    @property
    def file_at_load(self) -> int: ...
    @property
    def file_at_run(self) -> int: ...


W = TypeVar("W", bound=_Weights)

Triple = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class MoeExperts:
    """Where a graph's MoE expert weights end up (bytes)."""

    heap: int
    """QMoE experts packed at load (dirty)."""
    layout: str
    file_at_load: int
    """Pages packing reads and leaves mapped (8-bit: the scales)."""
    file_at_run: int
    """Pages the run reads in place: fp32 experts, QMoE biases, fc3, unpacked experts, and the
    scales a 4-bit fp32-compute packing leaves in the file."""


def _qpacked_group(group: str) -> tuple[Triple, Triple, Triple] | None:
    """``bits/block/level:data/scales/zp:ext data/ext scales/ext zp`` (the adapter's
    ``moe_qpacked``), or None when it is not that."""
    parts = [p.split("/") for p in group.split(":")]
    if len(parts) != 3 or any(len(p) != 3 or not all(x.isdigit() for x in p) for p in parts):
        return None
    a, b, c = ((int(x), int(y), int(z)) for x, y, z in parts)
    return a, b, c


def _expert_weights(w: W, bits: int, block: int, level: int, sizes: Triple) -> W:
    """QMoE experts as the MatMulNBits weights ``packing`` knows (8-bit: int8 compute always)."""
    data, scales, zps = sizes
    return replace(
        w,
        float_matmul=0,
        nbits_data=data,
        nbits_scales=scales,
        nbits_zero_points=zps,
        bits=bits,
        block=block,
        accuracy_level=4 if bits == 8 else level,
        symmetric=not zps,
        lm_head_scales=0,
        largest_kn=0,
        layer_heap_kn=0,
    )


def moe_experts(
    spec: ModelSpec,
    w: W,
    plat: OrtPlatform,
    packing: Callable[[W, OrtPlatform], _Packed],
) -> MoeExperts | None:
    """The MoE layers' experts of an ONNX graph (None: no MoE). The caller plans such a graph
    at its own precision only (the experts are the artifact's bytes).

    onnxruntime's CPU ``MoE`` kernel (fp32) reads the experts in place from the mapped file; its
    ``QMoE`` kernel packs block-wise 4- and 8-bit experts at load as it packs MatMulNBits
    weights of the same bits and compute type — 4-bit take int8 compute only at accuracy level
    4, else fp32 compute (x86: the data in the heap, the scales read by the run); 8-bit always
    int8 compute ("8-bit has no fp32 kernel and uses int8 activations at every level",
    ``moe_quantization_cpu.cc``): data + scales + block sums, scales mapped at load. Measured
    on the LFM2-MoE builds (x86-64, onnxruntime 1.31 and 1.32, symmetric, no accuracy level;
    results/ort_moe/): planner's "after loading" within 2 MiB of every run. arm64 follows
    ``packing``'s MatMulNBits rules (model.py), not measured for experts. Weights inside
    model.onnx are parsed into the heap (counted there), so only external data counts as file
    pages."""
    if not fact_int(spec, "moe_nodes"):
        return None
    heap = at_load = in_place = 0
    layouts = []
    for group in (fact(spec, "moe_qpacked") or "").split(";"):
        parsed = _qpacked_group(group)
        if parsed is None:
            continue
        (bits, block, level), totals, external = parsed
        packed = packing(_expert_weights(w, bits, block, level, totals), plat)
        mapped = packing(_expert_weights(w, bits, block, level, external), plat)
        heap += packed.heap
        at_load += mapped.file_at_load
        in_place += mapped.file_at_run
        layouts.append(f"{bits}-bit block {block}: {packed.layout}")
    return MoeExperts(
        heap,
        "; ".join(layouts) or "fp32 experts read in place",
        at_load,
        fact_int(spec, "moe_inplace_external_bytes") + in_place,
    )
