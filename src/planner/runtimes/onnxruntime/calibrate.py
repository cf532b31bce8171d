"""A measured run next to planner's estimate of it, and the calibration sample it yields (pure).

``planner measure`` runs a model (``measure.measure``), estimates the same run (same prompt,
max_length, decode steps, onnxruntime version and platform) and prints both phase by phase; with
``--calibration-out`` the difference becomes a ``CalibrationSample``: the fixed terms that make
the estimate equal the measurement (``planner.calibration``).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.budget import KV_CACHE, MemoryBudget
from planner.calibration import CalibrationSample
from planner.runtimes.onnxruntime.measure import Measurement
from planner.runtimes.onnxruntime.model import fixed_bytes

_AT_LOAD = (
    "prepacked MatMul weights (heap)",
    "prepacked MoE experts (heap)",
    "tied embedding copy (folded, heap)",
    "initializers inside model.onnx (heap)",
    "session heap (graph, kernels)",
    "runtime code pages (clean)",
    "fixed terms (calibrated)",
)


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the side-by-side table (bytes; None where a side has no figure)."""

    label: str
    measured: int | None
    estimated: int | None


def estimated_after_load(b: MemoryBudget) -> int:
    """What the estimate holds resident once ``og.Model`` returned: prepacked and folded copies,
    the malloc leftover, the pages packing read, session heap and code."""
    total = 0
    for c in b.components:
        inputs = dict(c.inputs)
        if c.label in _AT_LOAD:
            total += c.bytes
        elif c.label.startswith("lm_head scale copy"):
            total += int(inputs.get("lm_head_scale_bytes", c.bytes))
        elif c.label.startswith("initializer pages read"):
            total += int(inputs.get("at_load", 0))
    return total


def side_by_side(m: Measurement, b: MemoryBudget) -> list[Row]:
    """Measured and estimated memory after loading, the KV cache and the peak."""
    phases = {p.name: p for p in m.phases}
    rows = []
    load = phases.get("model_load")
    gen = phases.get("generator")
    if load is not None:
        rows.append(
            Row(
                "after loading (og.Model)",
                load.rss_bytes - m.baseline_rss_bytes,
                estimated_after_load(b),
            )
        )
    if load is not None and gen is not None:
        rows.append(
            Row(
                "+ KV cache (og.Generator)",
                gen.rss_bytes - load.rss_bytes,
                b.category_bytes(KV_CACHE),
            )
        )
    rows.append(Row("peak added", m.added_peak_bytes, b.total_bytes))
    return rows


def calibration_sample(m: Measurement, b: MemoryBudget, model: str) -> CalibrationSample:
    """The fixed terms this run implies: measured peak − the estimate's variable terms.

    ``b`` must be the uncalibrated estimate of the same run."""
    variable = b.total_bytes - fixed_bytes(b.components)
    machine = m.platform
    return CalibrationSample(
        model=model,
        prefill=m.prefill,
        context=m.context,
        measured_bytes=m.added_peak_bytes,
        estimated_bytes=b.total_bytes,
        fixed_bytes=m.added_peak_bytes - variable,
        measured_at="",
        machine=machine,
    )
