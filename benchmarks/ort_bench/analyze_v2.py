"""Summaries of the v2 measurements (no modelling: counts, noise, version deltas, mechanism checks).

    BENCH_WORK=/work/bench-work python3 benchmarks/ort_bench/analyze_v2.py            # all tables
    BENCH_WORK=/work/bench-work python3 benchmarks/ort_bench/analyze_v2.py --only kv

Reads ``benchmarks/results/ort_measured_v2.json`` (medians), ``ort_builds_v2.json`` (manifest) and,
for the prepack check, the built graphs (through ``probe_mechanisms.expected_prepack``). Standard
library only (the graph reader runs in the venv). The tables are the ones quoted in README.md and
MECHANISMS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from probe_mechanisms import ONNX, expected_prepack  # noqa: E402

RESULTS = HERE.parents[1] / "benchmarks" / "results"
MIB = 2**20
KV_BYTES = {"FLOAT": 4.0, "INT8": 1.0, "UINT8": 1.0}  # UINT8 = two int4 values (last dim halved)


def load() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    records = json.loads((RESULTS / "ort_measured_v2.json").read_text())
    builds = json.loads((RESULTS / "ort_builds_v2.json").read_text())
    return records, builds


def phase(rec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in rec["phases"] if p["name"] == name)


def kv_expected(build: dict[str, Any], context: int) -> float:
    """Bytes genai allocates for the KV cache at max_length ``context`` (from genai_config + graph)."""
    cfg = json.loads((ONNX / build["build_id"] / "genai_config.json").read_text())
    dec = cfg["model"]["decoder"]
    layers, heads, head = dec["num_hidden_layers"], dec["num_key_value_heads"], dec["head_size"]
    dtypes = build["graph"]["kv_input_dtypes"]
    dtype = next(iter(dtypes)) if dtypes else "FLOAT"
    per_pos = 2 * heads * head * KV_BYTES.get(dtype, 4.0)
    if dtype == "UINT8":
        per_pos /= 2  # int4 KV: two values per byte
    attn_layers = list(range(layers))
    if dec.get("layer_types"):
        attn_layers = [i for i, t in enumerate(dec["layer_types"]) if t != "conv"]
    window = dec.get("sliding_window") or {}
    sliding = set(window.get("layers") or [])
    cap_window = min(context, window.get("window_size", 0) + (window.get("cache_slack") or 16))
    total = 0.0
    for i in attn_layers:
        total += per_pos * (cap_window if i in sliding else context)
    return total


def counts(records: list[dict[str, Any]], builds: dict[str, Any]) -> None:
    print("## Counts")
    models = {b["model_id"]: b["split"] for b in builds.values()}
    split_models = Counter(models.values())
    split_builds = Counter(b["split"] for b in builds.values())
    per = Counter((r["split"], r["ort_version"]) for r in records)
    print(
        f"models: {len(models)} ({dict(split_models)}), builds: {len(builds)} "
        f"({dict(split_builds)}), architectures: {len({b['architecture'] for b in builds.values()})}"
    )
    print(f"median records: {len(records)}; by (split, ort): {dict(sorted(per.items()))}")
    shapes = Counter((r["prefill"], r["context"]) for r in records)
    print(f"shapes: {dict(sorted(shapes.items()))}")
    runs = sum(r["repeats"] for r in records)
    print(
        f"runs behind the medians: {runs}; cases with < 3 runs: "
        f"{sum(r['repeats'] < 3 for r in records)}"
    )


def models_table(builds: dict[str, Any]) -> None:
    print("## Models (README table)")
    print(
        "| model | split | HF class | layers | heads / KV × head | hidden / MLP | vocab | tied "
        "| params | builds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for b in builds.values():
        by_model[b["model_id"]].append(b)
    for model_id, bs in by_model.items():
        b = bs[0]
        h = b["hf_config"]
        extra = []
        if h.get("sliding_window"):
            extra.append(f"window {h['sliding_window']}")
        if h.get("layer_types"):
            extra.append(", ".join(f"{v} {k}" for k, v in h["layer_types"].items()))
        layers = str(h["num_hidden_layers"]) + (f" ({'; '.join(extra)})" if extra else "")
        print(
            f"| {model_id} | {b['split']} | {b['architecture']} | {layers} | "
            f"{h['num_attention_heads']} / {h['num_key_value_heads']} × {h['head_dim']} | "
            f"{h['hidden_size']} / {h['intermediate_size']} | {h['vocab_size']} | "
            f"{'yes' if h['tie_word_embeddings'] else 'no'} | {b['parameters'] / 1e6:.1f} M | "
            f"{', '.join(x['variant'] for x in bs)} |"
        )


def noise(records: list[dict[str, Any]]) -> None:
    print("\n## Run-to-run spread ((max - min) / median of the 3 runs)")
    spreads = sorted(r["added_peak_spread"] for r in records)
    q = lambda f: spreads[min(len(spreads) - 1, int(f * len(spreads)))]  # noqa: E731
    print(f"median {q(0.5):.2%}, p90 {q(0.9):.2%}, max {spreads[-1]:.2%}")
    worst = sorted(records, key=lambda r: -r["added_peak_spread"])[:5]
    for r in worst:
        print(f"  {r['case_id']}: {[round(x / MIB, 1) for x in r['added_peak_runs']]} MiB")


def versions(records: list[dict[str, Any]]) -> None:
    print("\n## onnxruntime 1.32.0 vs 1.31.1 (same build, same shape; added_peak)")
    by = defaultdict(dict)
    for r in records:
        by[(r["build_id"], r["prefill"], r["context"])][r["ort_version"]] = r
    diffs, rel = [], []
    phase_diffs: dict[str, list[float]] = defaultdict(list)
    for pair in by.values():
        if "1.32.0" in pair and "1.31.1" in pair:
            a, b = pair["1.32.0"], pair["1.31.1"]
            diffs.append((a["added_peak_bytes"] - b["added_peak_bytes"]) / MIB)
            rel.append(a["added_peak_bytes"] / b["added_peak_bytes"] - 1)
            for name in ("model_load", "generator", "prefill"):
                phase_diffs[name].append(
                    (phase(a, name)["rss_bytes"] - phase(b, name)["rss_bytes"]) / MIB
                )
            base = (a["baseline_rss_bytes"] - b["baseline_rss_bytes"]) / MIB
            phase_diffs["baseline"].append(base)
    if not diffs:
        print("no pairs yet")
        return
    print(
        f"pairs: {len(diffs)}; added_peak 1.32 - 1.31: median {statistics.median(diffs):+.1f} MiB, "
        f"range {min(diffs):+.1f} .. {max(diffs):+.1f} MiB; relative median "
        f"{statistics.median(rel):+.2%}, range {min(rel):+.2%} .. {max(rel):+.2%}"
    )
    for name, vals in phase_diffs.items():
        print(
            f"  RSS after {name}: median {statistics.median(vals):+.1f} MiB "
            f"({min(vals):+.1f} .. {max(vals):+.1f})"
        )


def load_term(records: list[dict[str, Any]], builds: dict[str, Any], ort: str) -> None:
    print(f"\n## Load (og.Model) vs packed-weight formula, onnxruntime {ort}, shape p16/c2048")
    print(
        "| build | file MiB | expected packed | anon Δ load | file Δ load | load peak − load RSS |"
    )
    print("|---|---|---|---|---|---|")
    for bid, build in builds.items():
        rec = next(
            (
                r
                for r in records
                if r["build_id"] == bid
                and r["ort_version"] == ort
                and r["prefill"] == 16
                and r["context"] == 2048
            ),
            None,
        )
        if rec is None:
            continue
        e = expected_prepack(bid)
        imp, ld = phase(rec, "import"), phase(rec, "model_load")
        print(
            f"| {bid} | {build['folder_bytes'] / MIB:.0f} | "
            f"{e['expected_packed_bytes'] / MIB:.1f} | "
            f"{(ld['rss_anon_bytes'] - imp['rss_anon_bytes']) / MIB:.1f} | "
            f"{(ld['rss_file_bytes'] - imp['rss_file_bytes']) / MIB:.1f} | "
            f"{(ld['peak_rss_bytes'] - ld['rss_bytes']) / MIB:.1f} |"
        )


def kv_term(records: list[dict[str, Any]], builds: dict[str, Any], ort: str) -> None:
    print(f"\n## Generator (KV) growth vs formula, onnxruntime {ort}")
    print("| build | max_length | expected KV MiB | RSS Δ generator | anon Δ generator |")
    print("|---|---|---|---|---|")
    worst = []
    for r in records:
        if r["ort_version"] != ort:
            continue
        ld, gen = phase(r, "model_load"), phase(r, "generator")
        exp = kv_expected(builds[r["build_id"]], r["context"])
        got = gen["rss_bytes"] - ld["rss_bytes"]
        worst.append((abs(got - exp), r, exp, got, gen["rss_anon_bytes"] - ld["rss_anon_bytes"]))
    worst.sort(key=lambda t: -t[0])
    for _, r, exp, got, anon in sorted(worst, key=lambda t: (t[1]["build_id"], t[1]["context"])):
        if r["prefill"] in (16, 512) or r["shape_role"] == "rotating":
            print(
                f"| {r['build_id']} | {r['context']} | {exp / MIB:.1f} | {got / MIB:.1f} | "
                f"{anon / MIB:.1f} |"
            )
    print(
        "largest |Δ − expected| (MiB): "
        + ", ".join(f"{t[1]['build_id']} c{t[1]['context']}: {t[0] / MIB:.1f}" for t in worst[:8])
    )


def prefill_term(records: list[dict[str, Any]], builds: dict[str, Any], ort: str) -> None:
    print(
        f"\n## Prefill growth (peak after prefill − RSS after generator) vs logits, onnxruntime {ort}"
    )
    print("| build | prompt | logits MiB | prefill Δ MiB | ratio |")
    print("|---|---|---|---|---|")
    for r in records:
        if r["ort_version"] != ort or r["prefill"] < 2048:
            continue
        vocab = builds[r["build_id"]]["hf_config"]["vocab_size"]
        logits = r["prefill"] * vocab * 4
        grow = phase(r, "prefill")["peak_rss_bytes"] - phase(r, "generator")["rss_bytes"]
        print(
            f"| {r['build_id']} | {r['prefill']} | {logits / MIB:.0f} | {grow / MIB:.0f} | "
            f"{grow / logits:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["models", "counts", "noise", "versions", "load", "kv", "prefill"],
    )
    parser.add_argument("--ort", default="1.32.0")
    parser.add_argument("--manifest", help="read the builds from this manifest instead")
    args = parser.parse_args()
    records, builds = load()
    if args.manifest:
        builds = json.loads(Path(args.manifest).read_text())
    want = set(args.only or ["counts", "noise", "versions", "load", "kv", "prefill"])
    if "models" in want and args.only:
        models_table(builds)
    if "counts" in want:
        counts(records, builds)
    if "noise" in want:
        noise(records)
    if "versions" in want:
        versions(records)
    if "load" in want:
        load_term(records, builds, args.ort)
    if "kv" in want:
        kv_term(records, builds, args.ort)
    if "prefill" in want:
        prefill_term(records, builds, args.ort)


if __name__ == "__main__":
    main()
