"""Measure the benchmark models for real: the measured side of the ONNX Runtime accuracy benchmark.

Commands (repository root; after ``setup_env.sh`` and ``build_models.py``)::

    nohup bench-work/venv/bin/python benchmarks/ort_bench/run_measure.py \\
        > bench-work/logs/measure.log 2>&1 &
    # a subset / the plain-onnxruntime fallback for comparison:
    bench-work/venv/bin/python benchmarks/ort_bench/run_measure.py --only llama-gqa-int4 \\
        --backend onnxruntime

Each case is one ``planner.runtimes.onnxruntime.measure.measure`` call (a fresh child process
per case) over the matrix: every model in ``bench-work/models/manifest.json`` x prompt lengths
{16, 512, 2048} x max_length {2048, 8192} (prompt <= max_length), 8 decode tokens. Results go to
``benchmarks/results/ort_measured.json``: a JSON list of cases (see ``case_record``); cases already
there (same ``case_id``) are skipped unless ``--fresh``, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from planner.runtimes.onnxruntime.measure import Backend, Measurement, measure

REPO = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("BENCH_WORK", REPO / "bench-work"))
RESULTS = REPO / "benchmarks" / "results" / "ort_measured.json"
PREFILLS = (16, 512, 2048)
CONTEXTS = (2048, 8192)
DECODE_TOKENS = 8


def _mem_total() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def case_record(
    key: str, info: dict[str, Any], m: Measurement, repeat: int, wall: float
) -> dict[str, Any]:
    """One result: the model's identity, the request, the measurement and its phases."""
    data = m.to_json()
    data.pop("model_dir")
    return {
        "case_id": f"{key}/p{m.prefill}/c{m.context}/{m.backend}/r{repeat}",
        "model_id": info["model_id"],
        "architecture": info["architecture"],
        "model_type": info["model_type"],
        "precision": info["precision"],
        "parameters": info["parameters"],
        "model_dir": info["model_dir"],  # relative to bench-work/
        "folder_bytes": info["folder_bytes"],
        "repeat": repeat,
        **data,
        "wall_seconds": round(wall, 2),
        "machine": {"cpus": os.cpu_count(), "mem_total_bytes": _mem_total()},
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="model keys (<id>-<precision>) to measure")
    parser.add_argument("--prefills", nargs="*", type=int, default=list(PREFILLS))
    parser.add_argument("--contexts", nargs="*", type=int, default=list(CONTEXTS))
    parser.add_argument(
        "--backend", default="onnxruntime-genai", choices=["onnxruntime-genai", "onnxruntime"]
    )
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--fresh", action="store_true", help="discard earlier results")
    args = parser.parse_args()
    backend: Backend = args.backend

    manifest: dict[str, dict[str, Any]] = json.loads(
        (WORK / "models" / "manifest.json").read_text()
    )
    results: list[dict[str, Any]] = []
    if args.output.exists() and not args.fresh:
        results = json.loads(args.output.read_text())
    done = {r["case_id"] for r in results}
    args.output.parent.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    for key, info in manifest.items():
        if args.only and key not in args.only:
            continue
        for context in args.contexts:
            for prefill in args.prefills:
                if prefill > context:
                    continue
                for repeat in range(args.repeats):
                    case_id = f"{key}/p{prefill}/c{context}/{backend}/r{repeat}"
                    if case_id in done:
                        continue
                    t0 = time.monotonic()
                    m = measure(
                        WORK / info["model_dir"],
                        context=context,
                        prefill=prefill,
                        decode_tokens=DECODE_TOKENS,
                        backend=backend,
                        timeout_s=900,
                    )
                    wall = time.monotonic() - t0
                    results.append(case_record(key, info, m, repeat, wall))
                    done.add(case_id)
                    tmp = args.output.with_suffix(".tmp")
                    tmp.write_text(json.dumps(results, indent=1) + "\n")
                    tmp.replace(args.output)
                    print(
                        f"[{time.monotonic() - started:7.0f}s] {case_id}: added "
                        f"{m.added_peak_bytes / 2**20:8.1f} MiB ({wall:.1f} s)",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
