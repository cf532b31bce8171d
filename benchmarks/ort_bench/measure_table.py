"""planner against sets of ``planner measure`` runs: every case and a summary per split and
onnxruntime version (not a test: run it and record the output in BENCHMARKS.md). Sets:

* ``moe``: the LFM2-MoE builds (``build_moe.py``, ``run_moe.sh``; ``results/ort_moe/``);
* ``large``: two 0.8–0.9 B-parameter builds (``build_large.py``, ``run_large.sh``;
  ``results/ort_large/``).

Each report is a ``planner measure`` JSON; the estimate is
recomputed here with the planner in this checkout (same model folder, prompt, max_length, decode
steps, onnxruntime version, platform linux-x86_64), and the one ``planner measure`` printed when
the run was made is shown beside it. Errors are signed, (estimate − measured) / measured; the
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
    "moe": ("ort_moe", "models_moe", build_moe.split_of),
    "large": ("ort_large", "models_large", build_large.split_of),
}
"""Set → (results folder under benchmarks/results, models folder under BENCH_WORK, split)."""

MIB = 2**20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=sorted(SETS), default="moe")
    ap.add_argument("--cases", action="store_true", help="print every case")
    args = ap.parse_args()
    results, models, split_of = SETS[args.set]
    work = Path(os.environ.get("BENCH_WORK", HERE.parents[1] / "bench-work"))
    rows = []
    specs = {}
    for path in sorted((HERE.parent / "results" / results).glob("*.json")):
        report = json.loads(path.read_text())
        m = report["measurement"]
        build = Path(m["model_dir"]).name
        folder = work / models / "onnx" / build
        if folder not in specs:
            specs[folder] = read_model(folder)
        version = m["versions"]["onnxruntime"]
        settings = RuntimeSettings(
            Runtime.ONNXRUNTIME,
            context=m["context"],
            prefill=m["prefill"],
            decode_tokens=m["decode_tokens"],
            platform="linux-x86_64",
            runtime_version=version,
        )
        budget = estimate(specs[folder], settings)
        now = budget.total_bytes
        measured = m["added_peak_bytes"]
        phases = {p["name"]: p for p in m["phases"]}
        loaded = phases["model_load"]["rss_bytes"] - m["baseline_rss_bytes"]
        load_gap = (estimated_after_load(budget) - loaded) / MIB
        model_id = build.rsplit("-", 1)[0]
        rows.append(
            (
                split_of(model_id),
                ".".join(version.split(".")[:2]),
                build,
                m["prefill"],
                m["context"],
                measured / MIB,
                report["estimate_total_bytes"] / MIB,
                now / MIB,
                load_gap,
            )
        )
    rows.sort()
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
