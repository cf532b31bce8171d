"""Measure the v2 builds with onnxruntime 1.32 and 1.31: the wider measured reference set.

Commands (repository root; after ``setup_envs_v2.sh`` and ``build_models_v2.py``)::

    export BENCH_WORK=/work/bench-work
    nohup python3 benchmarks/ort_bench/run_measure_v2.py > $BENCH_WORK/logs/measure_v2.log 2>&1 &
    python3 benchmarks/ort_bench/run_measure_v2.py --only llama-gqa-int4 --ort 1.32   # a subset
    python3 benchmarks/ort_bench/run_measure_v2.py --summarize    # rebuild the median file only

This script needs only the standard library: every run is a fresh interpreter of the chosen
virtualenv (``$BENCH_WORK/venv-ort132``, ``venv-ort131``) executing planner's own measuring child
(``src/planner/runtimes/onnxruntime/_measure_child.py``, standard library only) by path, exactly
as ``planner measure`` does: import
onnxruntime-genai, record the baseline RSS, reset the peak (``/proc/self/clear_refs``), load the
model, create the generator with ``max_length = context``, append a ``prefill``-token prompt, run 8
decode steps, and report RSS / peak / anon / file RSS after every phase. The answer is
``added_peak_bytes`` = peak - RSS after the imports.

Design (``shapes_for``): every build gets four core (prompt, max_length) shapes,
(16, 2048), (512, 16384), (2048, 4096), (4096, 8192), plus one rotating shape picked by
``zlib.crc32(build_id) % 6`` from (64, 1024), (256, 8192), (1024, 16384), (3072, 4096),
(128, 4096), (1536, 12288). Each case runs 3 times per onnxruntime version, the versions
interleaved (1.32 r0, 1.31 r0, 1.32 r1, ...) so that machine load hits both alike.

Outputs
    ``benchmarks/results/ort_measured_v2_runs.jsonl``: one line per run (resumable log; a run
    already there is not repeated).
    ``benchmarks/results/ort_measured_v2.json``: one record per (build, shape, onnxruntime
    version), the median of the successful runs (schema in the README).
    ``benchmarks/results/ort_builds_v2.json``: the build manifest (dims, options, graph stats).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
import zlib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORK = Path(os.environ.get("BENCH_WORK", REPO / "bench-work"))
MANIFEST = WORK / "models_v2" / "manifest.json"
RESULTS = REPO / "benchmarks" / "results"
RUNS = RESULTS / "ort_measured_v2_runs.jsonl"
MEDIANS = RESULTS / "ort_measured_v2.json"
BUILDS = RESULTS / "ort_builds_v2.json"
CHILD = REPO / "src" / "planner" / "runtimes" / "onnxruntime" / "_measure_child.py"
VENVS = {"1.32": "venv-ort132", "1.31": "venv-ort131", "1.30": "venv-ort130"}
DEFAULT_ORT = ("1.32", "1.31")  # 1.30 (with onnxruntime-genai 0.17.1): the unseen-version set
CORE_SHAPES = ((16, 2048), (512, 16384), (2048, 4096), (4096, 8192))
ROTATING_SHAPES = ((64, 1024), (256, 8192), (1024, 16384), (3072, 4096), (128, 4096), (1536, 12288))
DECODE_TOKENS = 8
REPEATS = 3
MARKER = "PLANNER_MEASURE_RESULT "
BOOTSTRAP = (
    "import runpy, sys\n"
    "if sys.path and sys.path[0] == '': del sys.path[0]\n"
    "runpy.run_path(sys.argv[1], run_name='__main__')"
)
MIN_AVAILABLE = 6 << 30  # wait while the machine has less than this available (shared machine)


def shapes_for(build_id: str) -> list[tuple[int, int, str]]:
    rotating = ROTATING_SHAPES[zlib.crc32(build_id.encode()) % len(ROTATING_SHAPES)]
    return [(p, c, "core") for p, c in CORE_SHAPES] + [(*rotating, "rotating")]


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _meminfo(key: str) -> int | None:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return None


def wait_for_memory() -> None:
    waited = 0
    while (_meminfo("MemAvailable") or 0) < MIN_AVAILABLE:
        if waited % 300 == 0:
            _log(f"waiting: MemAvailable {(_meminfo('MemAvailable') or 0) / 2**30:.1f} GiB")
        time.sleep(30)
        waited += 30


EVICT = False
"""Set by ``--results-tag``: the child drops the model's files and the runtime's libraries from
the page cache before each run (``evict_page_cache`` in planner's child)."""


def run_child(
    python: str, model_dir: Path, prefill: int, context: int, timeout_s: float
) -> dict[str, Any]:
    request = {
        "model_dir": str(model_dir),
        "context": context,
        "prefill": prefill,
        "decode_tokens": DECODE_TOKENS,
        "seed": 0,
        "backend": "onnxruntime-genai",
        "evict_page_cache": EVICT,
    }
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        proc = subprocess.run(
            [python, "-c", BOOTSTRAP, str(CHILD)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout_s:g} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    tail = " ".join((proc.stderr or "").strip().splitlines()[-2:])[:400]
    return {"error": f"no result (exit {proc.returncode}): {tail}"}


def load_runs() -> list[dict[str, Any]]:
    if not RUNS.exists():
        return []
    return [json.loads(line) for line in RUNS.read_text().splitlines() if line.strip()]


def weights_summary(graph: dict[str, Any]) -> dict[str, int]:
    """Initializer bytes grouped the way the memory model uses them."""
    out = {
        "matmul_fp32_bytes": 0,
        "matmulnbits_bytes": 0,
        "gather_bytes": 0,
        "gather_block_quantized_bytes": 0,
        "tied_matmul_transpose_bytes": 0,
        "other_bytes": 0,
    }
    for key, size in graph["initializer_bytes_by_consumer"].items():
        ops = key.split("+")
        if any(op.startswith("MatMulNBits") for op in ops):
            out["matmulnbits_bytes"] += size
        elif any(op.startswith("GatherBlockQuantized") for op in ops):
            out["gather_block_quantized_bytes"] += size
        elif "MatMul[1]" in ops and any(op.startswith("Transpose") for op in ops):
            out["tied_matmul_transpose_bytes"] += size
        elif "MatMul[1]" in ops:
            out["matmul_fp32_bytes"] += size
        elif "Gather[0]" in ops:
            out["gather_bytes"] += size
        else:
            out["other_bytes"] += size
    return out


def median_record(
    info: dict[str, Any], runs: list[dict[str, Any]], ort: str, role: str
) -> dict[str, Any]:
    good = sorted((r for r in runs if "error" not in r), key=lambda r: r["added_peak_bytes"])
    med = good[(len(good) - 1) // 2]
    res = med["result"]
    added = [r["added_peak_bytes"] for r in good]
    return {
        "case_id": (
            f"{info['build_id']}/p{med['prefill']}/c{med['context']}/onnxruntime-genai/ort{ort}"
        ),
        "build_id": info["build_id"],
        "model_id": info["model_id"],
        "family": info["family"],
        "split": info["split"],
        "architecture": info["architecture"],
        "model_type": info["model_type"],
        "precision": info["precision"],
        "variant": info["variant"],
        "bits": info["bits"],
        "block_size": info["block_size"],
        "accuracy_level": info["accuracy_level"],
        "kv_cache_quant_scheme": info["kv_cache_quant_scheme"],
        "extra_options": info["extra_options"],
        "tied": info["tied"],
        "hf_config": info["hf_config"],
        "parameters": info["parameters"],
        "weights": weights_summary(info["graph"]),
        "model_dir": info["model_dir"],
        "folder_bytes": info["folder_bytes"],
        "builder_version": info["builder_version"],
        "ort_version": res["versions"].get("onnxruntime"),
        "genai_version": res["versions"].get("onnxruntime_genai"),
        "shape_role": role,
        "repeat": med["repeat"],
        "repeats": len(good),
        "added_peak_runs": added,
        "added_peak_spread": (max(added) - min(added)) / statistics.median(added),
        "backend": res["backend"],
        "context": med["context"],
        "prefill": med["prefill"],
        "decode_tokens": DECODE_TOKENS,
        "decode_steps": res["decode_steps"],
        "baseline_rss_bytes": res["baseline_rss_bytes"],
        "peak_rss_bytes": res["peak_rss_bytes"],
        "added_peak_bytes": med["added_peak_bytes"],
        "kv_mode": res["kv_mode"],
        "peak_reset": res["peak_reset"],
        "memory_source": res["memory_source"],
        "phases": res["phases"],
        "versions": res["versions"],
        "platform": res["platform"],
        "python": res["python"],
        "wall_seconds": med["wall_seconds"],
        "machine": med["machine"],
        "measured_at": med["measured_at"],
    }


def summarize(manifest: dict[str, Any]) -> int:
    runs = load_runs()
    groups: dict[tuple[str, int, int, str], list[dict[str, Any]]] = {}
    for r in runs:
        groups.setdefault((r["build_id"], r["prefill"], r["context"], r["ort"]), []).append(r)
    records = []
    order = {key: i for i, key in enumerate(manifest)}
    for (build_id, prefill, context, ort), group in groups.items():
        if build_id not in manifest or not any("error" not in r for r in group):
            continue
        roles = {(p, c): role for p, c, role in shapes_for(build_id)}
        records.append(
            median_record(manifest[build_id], group, ort, roles.get((prefill, context), "extra"))
        )
    records.sort(
        key=lambda r: (order.get(r["build_id"], 1e9), r["context"], r["prefill"], r["ort_version"])
    )
    tmp = MEDIANS.with_suffix(".tmp")
    tmp.write_text(json.dumps(records, indent=1) + "\n")
    tmp.replace(MEDIANS)
    BUILDS.write_text(json.dumps(manifest, indent=1) + "\n")
    return len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="build ids (or model ids) to measure")
    parser.add_argument("--ort", nargs="*", default=list(DEFAULT_ORT), choices=list(VENVS))
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument(
        "--shape",
        nargs=2,
        type=int,
        action="append",
        metavar=("PREFILL", "CONTEXT"),
        help="measure these shapes instead",
    )
    parser.add_argument("--summarize", action="store_true", help="only rebuild the median file")
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument(
        "--results-tag",
        help="write ort_measured_v2_TAG_runs.jsonl / ort_measured_v2_TAG.json instead (a "
        "separate set, e.g. 'evicted': every run after the child dropped the model's files and "
        "the runtime libraries from the page cache)",
    )
    args = parser.parse_args()
    if args.results_tag:
        global RUNS, MEDIANS, EVICT
        EVICT = True
        RUNS = RESULTS / f"ort_measured_v2_{args.results_tag}_runs.jsonl"
        MEDIANS = RESULTS / f"ort_measured_v2_{args.results_tag}.json"

    manifest: dict[str, Any] = json.loads(MANIFEST.read_text())
    if args.summarize:
        _log(f"{summarize(manifest)} median records")
        return
    done: dict[tuple[str, int, int, str], int] = {}
    for r in load_runs():
        key = (r["build_id"], r["prefill"], r["context"], r["ort"])
        done[key] = done.get(key, 0) + 1  # errors count too: a failing case is not retried
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for build_id, info in manifest.items():
        if args.only and build_id not in args.only and info["model_id"] not in args.only:
            continue
        model_dir = WORK / info["model_dir"]
        shapes = [(p, c, "extra") for p, c in args.shape] if args.shape else shapes_for(build_id)
        for prefill, context, role in shapes:
            for repeat in range(args.repeats):
                for ort in args.ort:
                    key = (build_id, prefill, context, ort)
                    if done.get(key, 0) > repeat:
                        continue
                    wait_for_memory()
                    python = str(WORK / VENVS[ort] / "bin" / "python")
                    load = os.getloadavg()[0]
                    t0 = time.monotonic()
                    result = run_child(python, model_dir, prefill, context, args.timeout)
                    wall = time.monotonic() - t0
                    run: dict[str, Any] = {
                        "build_id": build_id,
                        "prefill": prefill,
                        "context": context,
                        "ort": ort,
                        "repeat": repeat,
                        "role": role,
                        "wall_seconds": round(wall, 2),
                        "loadavg_1m": round(load, 2),
                        "machine": {
                            "cpus": os.cpu_count(),
                            "mem_total_bytes": _meminfo("MemTotal"),
                        },
                        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    }
                    if "error" in result:
                        run["error"] = result["error"]
                        msg = f"ERROR {result['error'][:200]}"
                    else:
                        run["added_peak_bytes"] = (
                            result["peak_rss_bytes"] - result["baseline_rss_bytes"]
                        )
                        run["result"] = result
                        msg = f"added {run['added_peak_bytes'] / 2**20:8.1f} MiB"
                    with RUNS.open("a") as fh:
                        fh.write(json.dumps(run, separators=(",", ":")) + "\n")
                    done[key] = done.get(key, 0) + 1
                    _log(
                        f"[{time.monotonic() - started:6.0f}s] {build_id} p{prefill} "
                        f"c{context} ort{ort} r{repeat}: {msg} ({wall:.1f} s)"
                    )
        summarize(manifest)
    _log(f"{summarize(manifest)} median records")


if __name__ == "__main__":
    main()
