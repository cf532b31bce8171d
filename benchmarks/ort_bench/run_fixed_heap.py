"""The held-out third of the v2 builds measured with glibc's mmap threshold fixed.

`planner measure --fixed-heap` runs each build of the v2 set's ``holdout`` split (the models split
off before any modelling) at its five run shapes (``run_measure_v2.shapes_for``), onnxruntime
1.32, model files evicted first: glibc then keeps no freed buffer of 128 KiB or more, so the runs
repeat, and planner plans the platform's ``-fixedheap`` variant (an allocator that keeps none,
as a phone's). It was run after the fixed-heap platform was committed: 1.32 first (one
mechanism it showed was then fixed, 19b25cb), then 1.31 (``--ort 1.31``, the previous minor;
mostly after that fix), then 1.30 (``--ort 1.30``, with genai 0.17.1). ``--summarize`` says when
a version has fewer cases than another (a run still going).

    export BENCH_WORK=/work/bench-work            # models_v2 and venv-ort132
    python benchmarks/ort_bench/run_fixed_heap.py [--ort 1.31]  # measure (resumable)
    python benchmarks/ort_bench/run_fixed_heap.py --summarize  # every case, then the summary

Reports land in ``benchmarks/results/ort_fixed_heap/<build>-<prompt>-<max_length>-<13x>.json``;
the summary recomputes planner's estimate with the code as it is now (``now``) beside the one
the report recorded (``at run``). Needs ``planner`` on PATH (the dev venv).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run_measure_v2 import shapes_for  # noqa: E402  (a sibling script)

WORK = Path(os.environ.get("BENCH_WORK", HERE.parents[1] / "bench-work"))
OUT = HERE.parent / "results" / "ort_fixed_heap"


def holdout_builds() -> list[str]:
    manifest = json.loads((WORK / "models_v2" / "manifest.json").read_text())
    return [k for k, v in manifest.items() if v["split"] == "holdout"]


def measure_all(version: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    tag = version.replace(".", "")
    python = str(WORK / f"venv-ort{tag}" / "bin" / "python")
    for build in holdout_builds():
        for prompt, max_length, _ in shapes_for(build):
            out = OUT / f"{build}-{prompt}-{max_length}-{tag}.json"
            if out.exists():
                continue
            cmd = ["planner", "--quiet", "measure", str(WORK / "models_v2" / "onnx" / build)]
            cmd += ["-c", str(max_length), "-p", str(prompt), "--python", python]
            cmd += ["--fixed-heap", "--ort-version", version, "-f", "json", "-o", str(out)]
            done = subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False)
            print(f"{out.name}: {'ok' if done.returncode == 0 else f'exit {done.returncode}'}")


def summarize() -> None:
    from measure_table import cases  # a sibling script: the same reading as the other sets

    rows = [  # MiB
        (version, build, p, c, meas, then, now)
        for _, version, build, p, c, meas, then, now, _ in cases(
            "ort_fixed_heap", "models_v2", lambda build: "holdout"
        )
    ]
    print("| onnxruntime | build | prompt | max_length | measured MiB | at run | now | err % |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    errs: dict[str, list[float]] = {}
    for version, build, p, c, meas, then, now in sorted(rows):
        err = (now - meas) / meas * 100
        errs.setdefault(version, []).append(err)
        print(
            f"| {version} | {build} | {p} | {c} | {meas:.1f} | {then:.1f} | {now:.1f} | "
            f"{err:+.1f} |"
        )
    print()
    print(
        "| onnxruntime | cases | median abs % | p90 abs % | worst abs % | mean signed % "
        "| under / over |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    most = max(len(found) for found in errs.values())
    for version, found in sorted(errs.items()):
        if len(found) < most:
            print(f"| {version} (incomplete: {len(found)} of {most} cases) | | | | | | |")
            continue
        a = sorted(abs(e) for e in found)
        under = sum(1 for e in found if e < 0)
        p90 = a[min(len(a) - 1, int(0.9 * len(a)))]
        print(
            f"| {version} | {len(found)} | {statistics.median(a):.1f} | {p90:.1f} | {a[-1]:.1f} "
            f"| {statistics.mean(found):+.1f} | {under} / {len(found) - under} |"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--summarize", action="store_true")
    ap.add_argument("--ort", default="1.32", choices=("1.32", "1.31", "1.30"))
    args = ap.parse_args()
    summarize() if args.summarize else measure_all(args.ort)
    return 0


if __name__ == "__main__":
    sys.exit(main())
