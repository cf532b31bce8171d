"""Accuracy against real onnxruntime-genai runs (not a test: run it and record the output).

Reads the measured sets (``benchmarks/results/ort_measured.json``: v1, onnxruntime 1.31.1, six
models; ``benchmarks/results/ort_measured_v2.json``: v2, onnxruntime 1.31.1 and 1.32.0, 23 models,
each record with its ``split``) and compares every case's ``added_peak_bytes`` (peak RSS that
loading the model and generating added to a process that had imported onnxruntime-genai, CPU EP)
with planner's estimate for the same model folder, prompt, max_length, decode steps and
onnxruntime version (platform linux-x86_64, where they were measured). v1 cases take the split
of their model id in v2 (the same ids; ``ort_builds_v2.json`` beside the v2 file lists every
model's split); v1 repeats are reduced to their median.

Records measured after ``FROZEN_AT`` (the model's last commit) form the set ``v2-after``.
``ort_measured_v2_evicted.json`` (set ``v2-evicted``) re-measures v2 builds with the model's files
and the runtime's libraries dropped from the page cache before every run, the state an app
loads them in (``run_measure_v2.py --results-tag evicted``); the earlier v2 runs found the
libraries as pip had just written them (large folios: a higher import baseline, a lower added
peak on 1.32). Builds first measured after ``UNSEEN_AFTER`` form the set ``v2-unseen``: the 30
builds never measured before, run once the model's last change was committed.
``ort_measured_v2_ort130-evicted.json`` (set ``v2-ort130``) runs every v2 build once per shape
with onnxruntime 1.30.0 and onnxruntime-genai 0.17.1, a version pair the model has no terms for:
planner plans it as the oldest version it knows (1.31.1) and says so, and the set shows how that
transfers (``run_measure_v2.py --ort 1.30 --repeats 1 --results-tag ort130-evicted``).

Errors are signed, (estimate − measured) / measured: negative is an under-estimate.

    python benchmarks/ort_accuracy.py [--measured FILE ...] [--root BENCH_WORK]
                                      [--split fit|holdout] [--cases] [--detail]
                                      [--builds] [--sign] [--spread]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.budget import MemoryBudget
from planner.registry import read_model
from planner.runtimes import estimate
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MIB = 2**20
TARGET_MEDIAN, TARGET_WORST = 3.0, 6.0
FROZEN_AT = "2026-12-01T20:45:00+0000"
"""When the onnxruntime model's last change was committed: v2 records measured after it (set
``v2-after``: builds of families the model had never been run against) cannot have shaped it."""
EVICTED_SETS = ("v2-evicted", "v2-unseen", "v2-ort130")
"""The sets measured with the model's files and the runtime's libraries evicted first."""
NEWSHAPES = "ort_measured_v2_newshapes.json"
"""Two shapes no build had run (768 / 4096 and 2560 / 6144) on every int8-compute build,
onnxruntime 1.32 and 1.31, evicted state, measured after commit d5975b6 (glibc's int8
workspaces) was committed: set ``v2-newshapes``, the out-of-sample check of that term."""
UNSEEN_AFTER = "2026-12-01T23:11:12+0000"
"""The commit after which the 30 v2 builds never measured before were run (evicted state, set
``v2-unseen``): no modelling had seen any of their numbers (commit 4b99301 counted Gemma-2's
attention scores and LongRoPE's Constant tables from the held-out gemma2-int4 and
phi3-longrope-int4 of ``v2-evicted``)."""


@dataclass
class Case:
    set: str
    split: str
    version: str
    build: str
    prefill: int
    context: int
    decode: int
    measured: float
    model_dir: Path
    estimate: MemoryBudget | None = None

    @property
    def error(self) -> float:
        assert self.estimate is not None
        return (self.estimate.total_bytes - self.measured) / self.measured * 100


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def load_cases(files: list[Path], root: Path) -> list[Case]:
    records: list[tuple[str, dict[str, Any]]] = []
    for path in files:
        if not path.exists():
            print(f"(skipped: {path} not found)", file=sys.stderr)
            continue
        data = json.loads(path.read_text())
        data = data["cases"] if isinstance(data, dict) else data
        name = "v2" if any("ort_version" in r for r in data) else "v1"
        if "newshapes" in path.name:
            records += [("v2-newshapes", r) for r in data]  # measured after d5975b6
            continue
        if all(str(r.get("ort_version", "")).startswith("1.30") for r in data):
            records += [("v2-ort130", r) for r in data]  # a version the model never saw
            continue
        if "evicted" in path.name:
            first: dict[str, str] = {}
            for r in data:
                at = r.get("measured_at", "")
                first[r["build_id"]] = min(first.get(r["build_id"], at), at)
            records += [
                ("v2-unseen" if first[r["build_id"]] >= UNSEEN_AFTER else "v2-evicted", r)
                for r in data
            ]
            continue
        records += [
            ("v2-after" if name == "v2" and r.get("measured_at", "") >= FROZEN_AT else name, r)
            for r in data
        ]
    split_of = {r["model_id"]: r["split"] for _, r in records if "split" in r}
    for path in files:  # the v2 build manifest names every model's split, measured or not
        manifest = path.with_name("ort_builds_v2.json")
        if manifest.exists():
            for build in json.loads(manifest.read_text()).values():
                split_of.setdefault(build["model_id"], build["split"])
    groups: dict[tuple[str, str, str, int, int], list[dict[str, Any]]] = defaultdict(list)
    for name, r in records:
        if r.get("backend") != "onnxruntime-genai" or r.get("added_peak_bytes") is None:
            continue
        version = r.get("ort_version") or r["versions"]["onnxruntime"]
        build = r.get("build_id") or f"{r['model_id']}-{r['precision']}"
        groups[(name, version, build, r["prefill"], r["context"])].append(r)
    cases = []
    for (name, version, build, prefill, context), rs in sorted(groups.items()):
        r = rs[0]
        cases.append(
            Case(
                set=name,
                split=r.get("split") or split_of.get(r["model_id"], "unknown"),
                version=version,
                build=build,
                prefill=prefill,
                context=context,
                decode=int(r.get("decode_steps", 8)),
                measured=statistics.median(x["added_peak_bytes"] for x in rs),
                model_dir=root / str(r["model_dir"]),
            )
        )
    return cases


def run(cases: list[Case]) -> list[Case]:
    specs: dict[Path, ModelSpec] = {}
    done = []
    for c in cases:
        if not c.model_dir.exists():
            print(f"(skipped {c.build}: {c.model_dir} not found)", file=sys.stderr)
            continue
        if c.model_dir not in specs:
            specs[c.model_dir] = read_model(c.model_dir)
        settings = RuntimeSettings(
            Runtime.ONNXRUNTIME,
            context=c.context,
            prefill=c.prefill,
            runtime_version=c.version,
            platform="linux-x86_64",
            decode_tokens=c.decode,
        )
        c.estimate = estimate(specs[c.model_dir], settings)
        done.append(c)
    return done


def summary(cases: list[Case]) -> str:
    e = sorted(abs(c.error) for c in cases)
    signed = [c.error for c in cases]
    under = sum(x < 0 for x in signed)
    p90 = e[min(len(e) - 1, int(0.9 * len(e)))]
    return (
        f"{len(cases)} | {statistics.median(e):.1f} | {p90:.1f} | {max(e):.1f} | "
        f"{statistics.mean(signed):+.1f} | {under} / {len(cases) - under}"
    )


def print_builds(cases: list[Case]) -> None:
    """Per build of the evicted sets: median |error| and the worst case, per onnxruntime minor."""
    by_build: dict[tuple[str, str, str], dict[str, list[Case]]] = defaultdict(
        lambda: defaultdict(list)
    )
    # a build's cases on every version in one row, under the set its modelled versions are in
    row_set = {c.build: c.set for c in cases if c.set in ("v2-evicted", "v2-unseen")}
    for c in cases:
        if c.set in EVICTED_SETS:
            name = row_set.get(c.build, "v2-evicted")
            by_build[(name, c.build, c.split)][_minor(c.version)].append(c)
    minors = sorted({v for vs in by_build.values() for v in vs})
    cols = " / ".join(minors)
    print(
        f"| set | build | split | cases | median abs % ({cols}) | "
        f"worst % at prompt/max_length ({cols}) |"
    )
    print("|---|---|---|---:|---|---|")
    for (name, build, split), versions in sorted(by_build.items()):
        med, worst = [], []
        for v in minors:
            cs = versions.get(v, [])
            if not cs:
                med.append("–")
                worst.append("–")
                continue
            med.append(f"{statistics.median(abs(c.error) for c in cs):.1f}")
            w = max(cs, key=lambda c: abs(c.error))
            worst.append(f"{w.error:+.1f} ({w.prefill}/{w.context})")
        count = sum(len(cs) for cs in versions.values())
        print(f"| {name} | {build} | {split} | {count} | {' / '.join(med)} | {' / '.join(worst)} |")
    print()
    evicted = [c for c in cases if c.set in EVICTED_SETS]
    print(
        "| evicted sets together | onnxruntime | cases | median abs % | p90 abs % | worst abs % "
        "| mean signed % | under / over |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for v in minors:
        cs = [c for c in evicted if _minor(c.version) == v]
        if cs:
            label = "v2-ort130 (not modelled)" if v == "1.30" else "v2-evicted + v2-unseen"
            print(f"| {label} | {v} | {summary(cs)} |")
    worst_of: dict[str, float] = defaultdict(float)
    for c in evicted:
        if _minor(c.version) == "1.30":
            continue  # the ±2 / ±6 % counts are over the modelled versions
        worst_of[c.build] = max(worst_of[c.build], abs(c.error))
    within = {t: sum(w <= t for w in worst_of.values()) for t in (2.0, 6.0)}
    print(
        f"\nbuilds within ±2 % on every case: {within[2.0]} of {len(worst_of)}; "
        f"within ±6 %: {within[6.0]}\n"
    )


def print_sign(cases: list[Case]) -> None:
    """Where the sign leans, by the matmul path the build runs: per build, the median signed error
    (MiB and %) over its cases on the modelled versions of the evicted sets; then per path the
    median and range of those build medians (paths from ort_builds_v2.json)."""
    builds = json.loads((RESULTS / "ort_builds_v2.json").read_text())

    def path_of(build: str) -> str:
        rec = builds.get(build, {})
        if rec.get("precision") == "fp32":
            return "fp32 MatMul"
        level = rec.get("accuracy_level")
        return "int8 compute (accuracy 4)" if level == 4 else f"fp32 compute (accuracy {level})"

    per_build: dict[str, list[Case]] = defaultdict(list)
    for c in cases:
        if c.set in ("v2-evicted", "v2-unseen"):
            per_build[c.build].append(c)
    by_path: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for build, cs in per_build.items():
        mib = statistics.median(c.error * c.measured / 100 / MIB for c in cs)
        pct = statistics.median(c.error for c in cs)
        by_path[path_of(build)].append((mib, pct, sum(c.error < 0 for c in cs)))
    print(
        "| matmul path | builds | median of build medians, MiB (%) | "
        "range of build medians, MiB | under / cases |"
    )
    print("|---|---:|---:|---|---:|")
    for path, rows in sorted(by_path.items()):
        mibs = sorted(r[0] for r in rows)
        cases_n = sum(len(per_build[b]) for b in per_build if path_of(b) == path)
        print(
            f"| {path} | {len(rows)} | {statistics.median(mibs):+.1f} "
            f"({statistics.median(r[1] for r in rows):+.1f}) | {mibs[0]:+.1f} … {mibs[-1]:+.1f} | "
            f"{sum(r[2] for r in rows)} / {cases_n} |"
        )
    print()
    # the same cases by prompt length: the lean grows with the prompt
    buckets = ((16, "16"), (512, "17–512"), (2048, "513–2048"), (1 << 30, "> 2048"))
    by_bucket: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for build, cs in per_build.items():
        for c in cs:
            label = next(name for top, name in buckets if c.prefill <= top)
            by_bucket[(path_of(build), label)].append(c)
    print("| matmul path | prompt tokens | cases | median signed error, MiB | under / cases |")
    print("|---|---|---:|---:|---:|")
    for path in sorted(by_path):
        for _, label in buckets:
            cs = by_bucket.get((path, label), [])
            if cs:
                mib = statistics.median(c.error * c.measured / 100 / MIB for c in cs)
                under = sum(c.error < 0 for c in cs)
                print(f"| {path} | {label} | {len(cs)} | {mib:+.1f} | {under} / {len(cs)} |")
    print()


def print_workspaces(cases: list[Case]) -> None:
    """What sized glibc's int8-workspace term (``prompt.workspace_heap``): on the fit split's
    int8-compute builds of the evicted sets, the residual the estimate leaves without that term
    (measured − (estimate − the term)) in hidden-size workspaces S_h = prompt × hidden ×
    (1 + 8 / block), median per onnxruntime version over the cases where S_h > 0.2 MiB."""
    builds = json.loads((RESULTS / "ort_builds_v2.json").read_text())
    ratios: dict[str, list[float]] = defaultdict(list)
    for c in cases:
        rec = builds.get(c.build, {})
        if c.set not in EVICTED_SETS or c.split != "fit" or rec.get("accuracy_level") != 4:
            continue
        if rec.get("precision") == "fp32" or c.estimate is None:
            continue
        s_h = c.prefill * rec["hf_config"]["hidden_size"] * (1 + 8 / (rec.get("block_size") or 32))
        if s_h <= 0.2 * MIB:
            continue
        held = sum(x.bytes for x in c.estimate.components if x.label.startswith("int8 workspaces"))
        ratios[_minor(c.version)].append((c.measured - c.estimate.total_bytes + held) / s_h)
    print("| onnxruntime | cases | median residual without the term, in S_h |")
    print("|---|---:|---:|")
    for version, rs in sorted(ratios.items()):
        print(f"| {version} | {len(rs)} | {statistics.median(rs):.2f} |")
    print()


def print_spread(top: int = 12) -> None:
    """Run-to-run spread of the measurement itself: every case measured three times or more
    (the per-run logs beside the median files), max − min over the median."""
    runs: dict[tuple[str, str, int, int, str], list[float]] = defaultdict(list)
    for name in ("ort_measured_v2_runs.jsonl", "ort_measured_v2_evicted_runs.jsonl"):
        path = RESULTS / name
        if not path.exists():
            continue
        state = "evicted" if "evicted" in name else "fresh"
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if r.get("added_peak_bytes") is not None:
                key = (state, r["build_id"], r["prefill"], r["context"], r["ort"])
                runs[key].append(r["added_peak_bytes"] / MIB)
    rows = sorted(
        (
            ((max(v) - min(v)) / statistics.median(v) * 100, k, v)
            for k, v in runs.items()
            if len(v) >= 3
        ),
        reverse=True,
    )
    if not rows:
        print("no case measured three times")
        return
    print("| library state | build | prompt | max_length | onnxruntime | runs (MiB) | spread % |")
    print("|---|---|---:|---:|---|---|---:|")
    for spread, (state, build, p, c, v), xs in rows[:top]:
        shown = ", ".join(f"{x:.0f}" for x in xs)
        print(f"| {state} | {build} | {p} | {c} | {v} | {shown} | {spread:.1f} |")
    spreads = [r[0] for r in rows]
    middle = statistics.median(spreads)
    print(
        f"\n{len(rows)} cases measured ≥ 3 times: median spread {middle:.1f} %, "
        f"{sum(x > 2 for x in spreads)} above 2 %\n"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--measured",
        type=Path,
        action="append",
        help="measured set (repeatable; default: the v1 and v2 files in benchmarks/results)",
    )
    ap.add_argument(
        "--root",
        type=Path,
        default=Path(os.environ.get("BENCH_WORK", ROOT / "bench-work")),
        help="folder the records' model_dir is relative to (default $BENCH_WORK or bench-work)",
    )
    ap.add_argument("--split", choices=("fit", "holdout"), help="only this split")
    ap.add_argument("--cases", action="store_true", help="print every case")
    ap.add_argument("--detail", action="store_true", help="with --cases: the components too")
    ap.add_argument(
        "--sign",
        action="store_true",
        help="median signed error per build, grouped by the matmul path (fp32, int8 compute, "
        "accuracy level 1)",
    )
    ap.add_argument(
        "--workspaces",
        action="store_true",
        help="the int8-compute residuals without glibc's workspace term, in hidden-size "
        "workspaces (what sized that term)",
    )
    ap.add_argument(
        "--builds",
        action="store_true",
        help="a row per build of the evicted sets (v2-evicted, v2-unseen, v2-ort130): median and "
        "worst",
    )
    ap.add_argument(
        "--spread",
        action="store_true",
        help="only the run-to-run spread of the cases measured three times or more",
    )
    args = ap.parse_args(argv)
    if args.spread:
        print_spread()
        return 0
    files = args.measured or [
        RESULTS / "ort_measured.json",
        RESULTS / "ort_measured_v2.json",
        RESULTS / "ort_measured_v2_evicted.json",
        RESULTS / "ort_measured_v2_ort130-evicted.json",
        RESULTS / NEWSHAPES,
    ]
    cases = [c for c in load_cases(files, args.root) if not args.split or c.split == args.split]
    cases = run(cases)
    if not cases:
        print("no cases")
        return 1
    if args.cases:
        print(
            "| set | split | ORT | build | prompt | max_length | measured MiB | planner MiB "
            "| err % |"
        )
        print("|---|---|---|---|---:|---:|---:|---:|---:|")
        for c in sorted(cases, key=lambda c: (c.set, c.split, c.version, c.build, c.prefill)):
            assert c.estimate is not None
            print(
                f"| {c.set} | {c.split} | {_minor(c.version)} | {c.build} | {c.prefill} | "
                f"{c.context} | {c.measured / MIB:.1f} | {c.estimate.total_bytes / MIB:.1f} | "
                f"{c.error:+.1f} |"
            )
            if args.detail:
                for comp in c.estimate.components:
                    print(f"| | | | | | | | {comp.bytes / MIB:.1f} | {comp.label} |")
        print()
    if args.builds:
        print_builds(cases)
    if args.sign:
        print_sign(cases)
    if args.workspaces:
        print_workspaces(cases)
    print(
        "| set | split | onnxruntime | cases | median abs % | p90 abs % | worst abs % | "
        "mean signed % | under / over |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    groups: dict[tuple[str, str, str], list[Case]] = defaultdict(list)
    for c in cases:
        groups[(c.set, c.split, _minor(c.version))].append(c)
        groups[("all", c.split, _minor(c.version))].append(c)
    for key in sorted(groups, key=lambda k: (k[0] == "all", k)):
        print(f"| {key[0]} | {key[1]} | {key[2]} | {summary(groups[key])} |")
    ok = True
    for key, cs in groups.items():
        if key[0] != "all":
            continue
        e = [abs(c.error) for c in cs]
        under = sum(c.error < 0 for c in cs)
        good = statistics.median(e) <= TARGET_MEDIAN and max(e) <= TARGET_WORST
        good = good and under <= len(cs) - under
        ok = ok and good
        print(
            f"target (median ≤ {TARGET_MEDIAN:g} %, worst ≤ {TARGET_WORST:g} %, under ≤ over) "
            f"for {key[1]} / onnxruntime {key[2]}: {'met' if good else 'NOT met'}"
        )
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
