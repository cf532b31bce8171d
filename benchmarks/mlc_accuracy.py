"""Accuracy against MLC's own published estimates (not a test: run it and record the output).

For each case of ``mlc_reference_public.json`` (WebLLM's ``vram_required_MB`` = parameters +
max temporary buffer + KV cache for the context window, libs built with prefill chunk 1024)
it compares planner's MLC figure (``total_bytes - runtime_overhead_bytes``) with the published
value, next to two baselines: the naive textbook estimate (weights + KV) and the seed
articles' rule of thumb (weights + KV + activations = 25% of fp16 weights + overhead 15% of
weights).

    python benchmarks/mlc_accuracy.py [--reference ../shared/data/mlc_reference_public.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from planner.families import param_count
from planner.runtimes import estimate
from planner.settings import Runtime, RuntimeSettings
from planner_adapters.hf_config import spec_from_hf_config

MIB = 2**20
DEFAULT_REF = Path(__file__).resolve().parents[2] / "shared" / "data" / "mlc_reference_public.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=DEFAULT_REF)
    args = ap.parse_args(argv)
    doc = json.loads(args.reference.read_text())
    rows = []
    errs: dict[str, list[float]] = {"planner": [], "naive": [], "rule": []}
    for case in doc["cases"]:
        spec = spec_from_hf_config(
            case["hf_config"], source=case["id"], path=args.reference, name=case["id"]
        )
        settings = RuntimeSettings(
            Runtime.MLC,
            quantization=case["quantization"],
            context=case["context_window_size"],
            prefill=case["prefill_chunk_size"],
        )
        b = estimate(spec, settings)
        expected = case["expected_total_mib"]
        ours = b.mlc_reported_bytes / MIB
        naive = (b.weights_bytes + b.kv_cache_bytes) / MIB
        rule = naive + (0.25 * 2 * param_count(spec) + 0.15 * b.weights_bytes) / MIB
        e = {
            k: (v - expected) / expected * 100
            for k, v in (("planner", ours), ("naive", naive), ("rule", rule))
        }
        for k, v in e.items():
            errs[k].append(abs(v))
        rows.append(
            (
                case["id"],
                expected,
                ours,
                e["planner"],
                e["naive"],
                e["rule"],
                b.activations_bytes / MIB,
            )
        )
    print(
        "| case | MLC published MiB | planner MiB | planner err % | naive err % | rule-of-thumb err % | planner temp MiB |"  # noqa: E501
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r[0]} | {r[1]:.2f} | {r[2]:.2f} | {r[3]:+.2f} | {r[4]:+.2f} | {r[5]:+.2f} | {r[6]:.2f} |"  # noqa: E501
        )
    print()
    print("| estimator | median abs err % | worst abs err % |")
    print("|---|---:|---:|")
    for k, label in (
        ("planner", "planner"),
        ("naive", "naive (weights + KV)"),
        ("rule", "rule of thumb (25% act., 15% overhead)"),
    ):
        print(f"| {label} | {statistics.median(errs[k]):.2f} | {max(errs[k]):.2f} |")
    ok = statistics.median(errs["planner"]) <= 2.0 and max(errs["planner"]) <= 5.0
    print(f"\ntarget (median ≤ 2%, worst ≤ 5%): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
