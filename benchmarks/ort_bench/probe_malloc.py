"""Probe: how much of a run's peak is glibc's heap placement, and how much it varies.

``planner measure`` of one build, repeated in fresh processes under several glibc malloc
settings (environment variables the child inherits, ``mallopt(3)``):

* ``default``: glibc as shipped: the mmap threshold starts at 128 KiB and rises to the size of
  each freed mmapped chunk up to 32 MiB, so per-call buffers below that end up in the heap;
* ``arena1``: ``MALLOC_ARENA_MAX=1`` (every thread allocates from the main arena);
* ``mmap-fixed``: ``MALLOC_MMAP_THRESHOLD_=131072`` (a fixed threshold: the dynamic rise is off,
  every request of 128 KiB or more is mmapped and unmapped when freed).

For each setting it prints every run's added peak, the anonymous RSS at the end of the prompt
and of decoding, and the phase that held the peak, then min / median / max. BENCHMARKS.md §2
("The noisy build, explained") and MECHANISMS.md §3 quote it.

    python benchmarks/ort_bench/probe_malloc.py $BENCH_WORK/models_v2/onnx/llama-gqa-int8-acc1 \
        --prefill 16 --context 2048 --runs 6 --python $BENCH_WORK/venv-ort131/bin/python \
        --out benchmarks/results/ort_malloc_probe_llama-gqa.json     # planner on PATH

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

MIB = 2**20
SETTINGS: dict[str, dict[str, str]] = {
    "default": {},
    "arena1": {"MALLOC_ARENA_MAX": "1"},
    "mmap-fixed": {"MALLOC_MMAP_THRESHOLD_": "131072"},
}


def _run(model: Path, prefill: int, context: int, python: str, env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "m.json"
        cmd = ["planner", "--quiet", "measure", str(model), "-c", str(context), "-p", str(prefill)]
        cmd += ["--python", python, "-f", "json", "-o", str(out)]
        # the caller's own MALLOC_* settings would change "default"
        base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        subprocess.run(cmd, check=True, env={**base, **env}, stdout=subprocess.DEVNULL)
        report = json.loads(out.read_text())
    m = report["measurement"]
    base = m["baseline_rss_bytes"]
    phases = {p["name"]: p for p in m["phases"]}
    pre, dec = phases["prefill"], phases["decode"]
    return {
        "added_peak_mib": round(m["added_peak_bytes"] / MIB, 1),
        "estimate_mib": round(report["estimate_total_bytes"] / MIB, 1),
        "prefill_peak_mib": round((pre["peak_rss_bytes"] - base) / MIB, 1),
        "prefill_end_anon_mib": round(pre["rss_anon_bytes"] / MIB, 1),
        "decode_end_anon_mib": round(dec["rss_anon_bytes"] / MIB, 1),
        "peak_in": "prefill" if pre["peak_rss_bytes"] >= dec["peak_rss_bytes"] else "decode",
        "onnxruntime": m["versions"]["onnxruntime"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--prefill", type=int, default=16)
    ap.add_argument("--context", type=int, default=2048)
    ap.add_argument("--runs", type=int, default=6)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    ap.add_argument("--out", type=Path, help="write every run as JSON here")
    args = ap.parse_args()
    results: dict[str, list[dict]] = {}
    for name in args.settings:
        runs = []
        for i in range(args.runs):
            r = _run(args.model, args.prefill, args.context, args.python, SETTINGS[name])
            runs.append(r)
            print(
                f"{name:11s} run {i + 1}: added {r['added_peak_mib']:7.1f} MiB "
                f"(peak in {r['peak_in']}), anon at prompt end {r['prefill_end_anon_mib']:6.1f}, "
                f"after decoding {r['decode_end_anon_mib']:6.1f}; estimate {r['estimate_mib']}",
                flush=True,
            )
        results[name] = runs
    print()
    print("| setting | runs | min MiB | median MiB | max MiB | max − min |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in results.items():
        v = [r["added_peak_mib"] for r in runs]
        print(
            f"| {name} | {len(v)} | {min(v):.1f} | {statistics.median(v):.1f} | {max(v):.1f} "
            f"| {max(v) - min(v):.1f} |"
        )
    if args.out:
        doc = {
            "model": args.model.name,
            "prefill": args.prefill,
            "context": args.context,
            "settings": {k: SETTINGS[k] for k in results},
            "libc": " ".join(platform.libc_ver()),
            "machine": {"cpus": os.cpu_count(), "arch": platform.machine()},
            "runs": results,
        }
        args.out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
