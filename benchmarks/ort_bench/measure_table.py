"""planner against sets of ``planner measure`` runs: every case and a summary per split and
onnxruntime version (not a test: run it and record the output in BENCHMARKS.md). Sets:

* ``moe``: the LFM2-MoE builds (``build_moe.py``, ``run_moe.sh``; ``results/ort_moe/``);
* ``large``: two 0.8–0.9 B-parameter builds (``build_large.py``, ``run_large.sh``;
  ``results/ort_large/``).

Each report is a ``planner measure`` JSON; the estimate is
recomputed here with the planner in this checkout (same model folder, prompt, max_length, decode
steps, onnxruntime version, and the platform the report names: linux-x86_64, or its
``-fixedheap`` variant for a ``--fixed-heap`` run), and the one ``planner measure`` printed when
the run was made is shown beside it. ``cases`` is the reading itself (``run_fixed_heap.py``
prints its set from it too). Errors are signed, (estimate − measured) / measured; the
after-loading gap is planner's steady state after ``og.Model`` minus the measured one (MiB).

    BENCH_WORK=/work/bench-work python benchmarks/ort_bench/measure_table.py [--set moe|large]
        [--cases]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from planner.registry import read_model
from planner.runtimes import estimate
from planner.runtimes.onnxruntime.calibrate import estimated_after_load
from planner.settings import Runtime, RuntimeSettings

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build_large  # noqa: E402  (sibling scripts)
import build_moe  # noqa: E402

SETS = {
    "moe": ("ort_moe", "models_moe", build_moe.build_split),
    "large": ("ort_large", "models_large", build_large.build_split),
}
"""Set → (results folder under benchmarks/results, models folder under BENCH_WORK, a build's
split)."""

MIB = 2**20
WORK = Path(os.environ.get("BENCH_WORK", HERE.parents[1] / "bench-work"))

Case = tuple[str, str, str, int, int, float, float, float, float]
"""(split, onnxruntime major.minor, build, prompt, max_length, measured MiB, planner's estimate
when run MiB, planner's estimate now MiB, after-loading gap MiB)."""


def cases(results: str, models: str, split_of: Callable[[str], str]) -> list[Case]:
    """Every report in ``benchmarks/results/<results>`` against planner's estimate now."""
    rows: list[Case] = []
    specs = {}
    for path in sorted((HERE.parent / "results" / results).glob("*.json")):
        report = json.loads(path.read_text())
        m = report["measurement"]
        build = Path(m["model_dir"]).name
        folder = WORK / models / "onnx" / build
        if folder not in specs:
            specs[folder] = read_model(folder)
        version = m["versions"]["onnxruntime"]
        settings = RuntimeSettings(
            Runtime.ONNXRUNTIME,
            context=m["context"],
            prefill=m["prefill"],
            decode_tokens=m["decode_steps"],  # as planner measure plans it
            platform=m.get("ort_platform") or "linux-x86_64",
            runtime_version=version,
        )
        budget = estimate(specs[folder], settings)
        phases = {p["name"]: p for p in m["phases"]}
        loaded = phases["model_load"]["rss_bytes"] - m["baseline_rss_bytes"]
        rows.append(
            (
                split_of(build),
                ".".join(version.split(".")[:2]),
                build,
                m["prefill"],
                m["context"],
                m["added_peak_bytes"] / MIB,
                report["estimate_total_bytes"] / MIB,
                budget.total_bytes / MIB,
                (estimated_after_load(budget) - loaded) / MIB,
            )
        )
    return sorted(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=sorted(SETS), default="moe")
    ap.add_argument("--cases", action="store_true", help="print every case")
    args = ap.parse_args()
    rows = cases(*SETS[args.set])
    if args.cases:
        print("| split | ORT | build | prompt | max_length | measured MiB | at run | now | err % |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for split, ver, build, p, c, meas, then, now, _ in rows:
            err = (now - meas) / meas * 100
            print(
                f"| {split} | {ver} | {build} | {p} | {c} | {meas:.1f} | {then:.1f} | "
                f"{now:.1f} | {err:+.1f} |"
            )
        print()
    print(
        "| split | onnxruntime | cases | median abs % | worst abs % | mean signed % "
        "| under / over | worst after-loading gap, MiB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for split, ver, _, _, _, meas, _, now, gap in rows:
        groups.setdefault((split, ver), []).append(((now - meas) / meas * 100, gap))
    for (split, ver), found in sorted(groups.items()):
        errs = [e for e, _ in found]
        a = sorted(abs(e) for e in errs)
        under = sum(1 for e in errs if e < 0)
        worst_gap = max((g for _, g in found), key=abs)
        print(
            f"| {split} | {ver} | {len(errs)} | {statistics.median(a):.1f} | {a[-1]:.1f} | "
            f"{statistics.mean(errs):+.1f} | {under} / {len(errs) - under} | {worst_gap:+.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
