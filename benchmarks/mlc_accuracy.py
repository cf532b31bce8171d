"""Accuracy against MLC's own compiler and published estimates (not a test: run it and record
the output in BENCHMARKS.md).

Two kinds of reference file, both accepted by ``--reference`` (repeatable; default: both files
in ../shared/data):

- compiler truth (``.jsonl``): one row per model × settings, produced by mlc-llm's own pipeline
  (``gen_config`` + ``compile`` up to ``AttachMetadataWithMemoryUsage``): exact parameter bytes,
  every function's planned temporary bytes, KV bytes per token;
- WebLLM's table (``.json`` with ``cases``): ``vram_required_MB`` = parameters + max temporary
  buffer + KV cache for the context window (libs built with prefill chunk 1024).

Every case is planned through planner's public path (``spec_from_hf_config`` → ``estimate``);
a refused case is reported and the run goes on. Rows are split into a sample and a held-out
third by a rule fixed before modelling: within each file, ids sorted, index % 3 == 2 is held out.
Per family it prints median / worst |error| of params, temp, KV per token and the total, sample
and held-out separately, plus the naive baselines for WebLLM's table.

    python benchmarks/mlc_accuracy.py [--reference FILE ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import PlannerError
from planner.families import param_count
from planner.runtimes import estimate
from planner.settings import Runtime, RuntimeSettings
from planner_adapters.hf_config import spec_from_hf_config

MIB = 2**20
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_REFS = (DATA / "mlc_compiler_truth_public.jsonl", DATA / "mlc_reference_public.json")
METRICS = ("params", "temp", "kv", "total")


@dataclass
class Result:
    """One case: its family, split, and signed errors in % (None where the file has no figure)."""

    case: str
    family: str
    split: str
    errors: dict[str, float] = field(default_factory=dict)
    refused: str | None = None
    baseline: dict[str, float] = field(default_factory=dict)
    mib: tuple[float, float] = (0.0, 0.0)
    """(published, planner) totals in MiB, for the per-case table."""


def _pct(got: float, want: float) -> float:
    return 100.0 * (got - want) / want if want else 0.0


def held_out(ids: list[str]) -> set[str]:
    """The fixed held-out rule: ids sorted, every third (index % 3 == 2)."""
    return {cid for i, cid in enumerate(sorted(ids)) if i % 3 == 2}


def _spec_and_budget(
    case_id: str, cfg: dict[str, Any], settings: RuntimeSettings, ref: Path
) -> Any:
    spec = spec_from_hf_config(cfg, source=case_id, path=ref, name=case_id)
    return spec, estimate(spec, settings)


def _truth(rows: list[dict[str, Any]], ref: Path) -> list[Result]:
    hold = held_out([r["id"] for r in rows])
    out = []
    for r in rows:
        res = Result(r["id"], r["model_type"], "held-out" if r["id"] in hold else "sample")
        cfg = dict(r["hf_config"])
        cfg["model_type"] = r["model_type"]
        settings = RuntimeSettings(
            Runtime.MLC,
            quantization=r["quantization"],
            context=r["context_window_size"],
            prefill=r["prefill_chunk_size"],
            max_batch_size=r["max_batch_size"],
        )
        try:
            _, b = _spec_and_budget(r["id"], cfg, settings, ref)
        except PlannerError as exc:
            res.refused = exc.message
            out.append(res)
            continue
        kv_want = r.get("kv_bytes_per_token_from_metadata_kv_cache") or r["kv_bytes_per_token"]
        temp_want = max(r["temp_by_function"].values())
        res.errors = {
            "params": _pct(b.weights_bytes, r["params_bytes"]),
            "temp": _pct(b.activations_bytes, temp_want),
            "kv": _pct(b.kv_bytes_per_token, kv_want),
            "total": _pct(
                b.mlc_reported_bytes,
                r["params_bytes"] + temp_want + kv_want * r["context_window_size"],
            ),
        }
        out.append(res)
    return out


def _webllm(cases: list[dict[str, Any]], ref: Path) -> list[Result]:
    hold = held_out([c["id"] for c in cases])
    out = []
    for c in cases:
        cfg = c["hf_config"]
        res = Result(
            c["id"], str(cfg.get("model_type")), "held-out" if c["id"] in hold else "sample"
        )
        settings = RuntimeSettings(
            Runtime.MLC,
            quantization=c["quantization"],
            context=c["context_window_size"],
            prefill=c["prefill_chunk_size"],
        )
        try:
            spec, b = _spec_and_budget(c["id"], cfg, settings, ref)
        except PlannerError as exc:
            res.refused = exc.message
            out.append(res)
            continue
        want = c["expected_total_mib"]
        naive = (b.weights_bytes + b.kv_cache_bytes) / MIB
        rule = naive + (0.25 * 2 * param_count(spec) + 0.15 * b.weights_bytes) / MIB
        res.family = spec.architecture
        res.errors = {"total": _pct(b.mlc_reported_bytes / MIB, want)}
        res.baseline = {"naive": _pct(naive, want), "rule": _pct(rule, want)}
        res.mib = (want, b.mlc_reported_bytes / MIB)
        out.append(res)
    return out


def _load(ref: Path) -> list[Result]:
    text = ref.read_text()
    if ref.suffix == ".jsonl":
        return _truth([json.loads(line) for line in text.splitlines() if line.strip()], ref)
    return _webllm(json.loads(text)["cases"], ref)


def _stats(values: list[float]) -> str:
    if not values:
        return "–"
    a = [abs(v) for v in values]
    return f"{statistics.median(a):.2f} / {max(a):.2f}"


def _table(results: list[Result], title: str) -> None:
    print(f"### {title}\n")
    print("| family | split | cases | params % | temp % | KV/token % | total % |")
    print("|---|---|---:|---:|---:|---:|---:|")
    groups: dict[tuple[str, str], list[Result]] = {}
    for r in results:
        if r.refused is None:
            groups.setdefault((r.family, r.split), []).append(r)
    for (fam, split), rs in sorted(groups.items()):
        cells = [_stats([r.errors[m] for r in rs if m in r.errors]) for m in METRICS]
        print(f"| {fam} | {split} | {len(rs)} | " + " | ".join(cells) + " |")
    for split in ("sample", "held-out"):
        rs = [r for r in results if r.split == split and r.refused is None]
        cells = [_stats([r.errors[m] for r in rs if m in r.errors]) for m in METRICS]
        print(f"| **all** | {split} | {len(rs)} | " + " | ".join(cells) + " |")
    print("\n(median / worst |error|, %)\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--reference", type=Path, action="append", default=None)
    args = ap.parse_args(argv)
    refs: list[Path] = args.reference or [p for p in DEFAULT_REFS if p.exists()]
    ok = True
    for ref in refs:
        results = _load(ref)
        _table(results, f"{ref.name} ({len(results)} cases)")
        for r in results:
            if r.refused is not None:
                print(f"- refused: {r.case} ({r.family}): {r.refused}")
        if any(r.baseline for r in results):
            print("| case | split | published MiB | planner MiB | planner % | naive % | rule % |")
            print("|---|---|---:|---:|---:|---:|---:|")
            for r in results:
                if r.refused is None:
                    print(
                        f"| {r.case} | {r.split} | {r.mib[0]:.2f} | {r.mib[1]:.2f} | "
                        f"{r.errors['total']:+.2f} | {r.baseline['naive']:+.2f} | "
                        f"{r.baseline['rule']:+.2f} |"
                    )
            print()
            print("| estimator | split | median abs err % | worst abs err % |")
            print("|---|---|---:|---:|")
            for split in ("sample", "held-out"):
                rs = [r for r in results if r.split == split and r.refused is None]
                for key, label in (
                    ("planner", "planner"),
                    ("naive", "naive (weights + KV)"),
                    ("rule", "rule of thumb (25% act., 15% overhead)"),
                ):
                    vals = [
                        abs(r.errors["total"] if key == "planner" else r.baseline[key]) for r in rs
                    ]
                    if vals:
                        print(
                            f"| {label} | {split} | {statistics.median(vals):.2f} | "
                            f"{max(vals):.2f} |"
                        )
            print()
        totals = [abs(r.errors["total"]) for r in results if "total" in r.errors]
        ok = ok and bool(totals) and statistics.median(totals) <= 1.0 and max(totals) <= 5.0
    print(f"target (median ≤ 1%, worst ≤ 5% of the total): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
