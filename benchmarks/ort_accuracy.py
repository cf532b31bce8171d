"""Accuracy against real onnxruntime-genai runs (not a test: run it and record the output).

Joins the measurements of ``benchmarks/ort_bench/run_measure.py`` (peak RSS that loading the
model and generating added to a process that had imported onnxruntime-genai, CPU EP) with
planner's ``--runtime onnxruntime`` estimate read from the same model folders, and prints the
error table plus two baselines: the naive estimate (weights + KV) and the seed articles' rule
of thumb (weights + KV + 25% of fp16 weights + 15% of weights).

    python benchmarks/ort_accuracy.py [--measured benchmarks/results/ort_measured.json]
                                      [--root bench-work]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

from planner.registry import read_model
from planner.runtimes import estimate
from planner.settings import Runtime, RuntimeSettings

ROOT = Path(__file__).resolve().parent.parent
MIB = 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--measured", type=Path, default=ROOT / "benchmarks/results/ort_measured.json")
    ap.add_argument("--root", type=Path, default=ROOT / "bench-work")
    ap.add_argument("--detail", action="store_true", help="print component breakdowns")
    args = ap.parse_args(argv)
    cases = json.loads(args.measured.read_text())
    if isinstance(cases, dict):
        cases = cases["cases"]
    groups: dict[tuple[str, str, int, int], list[int]] = defaultdict(list)
    meta: dict[tuple[str, str, int, int], dict[str, object]] = {}
    for c in cases:
        if c.get("backend") != "onnxruntime-genai" or c.get("added_peak_bytes") is None:
            continue
        key = (c["model_id"], c["precision"], c["prefill"], c["context"])
        groups[key].append(c["added_peak_bytes"])
        meta[key] = c
    specs = {}
    rows = []
    errs: dict[str, list[float]] = {"planner": [], "naive": [], "rule": []}
    for key in sorted(groups):
        model_id, precision, prefill, context = key
        c = meta[key]
        model_dir = args.root / str(c["model_dir"])
        if model_dir not in specs:
            specs[model_dir] = read_model(model_dir)
        spec = specs[model_dir]
        b = estimate(spec, RuntimeSettings(Runtime.ONNXRUNTIME, context=context, prefill=prefill))
        measured = statistics.median(groups[key])
        w = spec.weights
        stored = w.total_bytes if w else 0
        naive = stored + b.kv_cache_bytes
        params = w.param_count if w else 0
        rule = naive + 0.25 * 2 * params + 0.15 * stored
        e = {
            "planner": (b.total_bytes - measured) / measured * 100,
            "naive": (naive - measured) / measured * 100,
            "rule": (rule - measured) / measured * 100,
        }
        for k, v in e.items():
            errs[k].append(abs(v))
        rows.append(
            (
                f"{model_id} {precision}",
                prefill,
                context,
                measured / MIB,
                b.total_bytes / MIB,
                e["planner"],
                e["naive"],
                e["rule"],
                b,
            )
        )
    print(
        "| model | prompt | max_length | measured MiB | planner MiB | planner err % | naive err % | rule-of-thumb err % |"  # noqa: E501
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:+.1f} | {r[6]:+.1f} | {r[7]:+.1f} |"  # noqa: E501
        )
        if args.detail:
            for comp in r[8].components:
                print(f"|  | | | | {comp.bytes / MIB:.1f} | {comp.label} | | |")
    print()
    print("| estimator | cases | median abs err % | worst abs err % |")
    print("|---|---:|---:|---:|")
    for k, label in (
        ("planner", "planner"),
        ("naive", "naive (weights + KV)"),
        ("rule", "rule of thumb (25% act., 15% overhead)"),
    ):
        print(
            f"| {label} | {len(errs[k])} | {statistics.median(errs[k]):.1f} | {max(errs[k]):.1f} |"
        )
    spreads = {
        k: (max(v) - min(v)) / statistics.median(v) * 100 for k, v in groups.items() if len(v) > 1
    }
    params = [int(str(meta[k]["parameters"])) for k in meta if "parameters" in meta[k]]
    models = {(meta[k]["model_id"], meta[k]["precision"]) for k in meta}
    print(
        f"\n{len(models)} model folders, {min(params) / 1e6:.0f}–{max(params) / 1e6:.0f} M "
        f"parameters; {sum(len(v) for v in groups.values())} runs"
    )
    if spreads:
        worst = max(spreads, key=lambda k: spreads[k])
        print(
            f"run-to-run spread (max − min) / median over repeats: median "
            f"{statistics.median(spreads.values()):.1f} %, largest {spreads[worst]:.1f} % "
            f"({worst[0]} {worst[1]}, prompt {worst[2]}, max_length {worst[3]})"
        )
    ok = statistics.median(errs["planner"]) <= 5 and max(errs["planner"]) <= 10
    print(f"\ntarget (median ≤ 5%, worst ≤ 10%): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
