"""Speed and memory of the commands CI runs (not a test: run it and record the output).

Whole processes, CPU time (user + system, from ``getrusage`` of the children) and peak RSS:

* start-up: ``planner --help``, next to ``python -c "import onnx"``;
* ``suggest`` on 5 devices: CPU after start-up (measured inside a fresh process around the
  library call, caches cold);
* ``check --config`` matrices of N distinct models (Llama-style configs of different sizes)
  × 30 devices × 2 quantizations, with a JSON Lines report: CPU per (model, device, setting)
  cell, and peak RSS as the matrix grows.

    python benchmarks/bench_speed.py [--models 100 300] [--workers 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LLAMA = json.loads((REPO / "examples" / "hf-llama-3.2-1b" / "config.json").read_text())
SUGGEST_DEVICES = ["pixel-8-pro", "iphone-15-pro", "galaxy-s24", "iphone-14", "pixel-8"]


def child_run(argv: list[str], **kw: object) -> tuple[float, int, float]:
    """(CPU seconds, peak RSS bytes, wall seconds) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(argv, check=False, capture_output=True, **kw)  # type: ignore[call-overload]
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, after.ru_maxrss * 1024, wall


def median_cpu(argv: list[str], runs: int = 5) -> float:
    return statistics.median(child_run(argv)[0] for _ in range(runs))


SUGGEST_SNIPPET = """
import sys, time
from pathlib import Path
from planner import api
from planner.request import PlanRequest
devices = tuple(sys.argv[2:])
request = PlanRequest(model=Path(sys.argv[1]), devices=devices)
known = api.profiles()
models = api.read(request)
t = time.process_time()
plan = api.suggest(request, None, known, models)
print(time.process_time() - t)
"""


def suggest_cpu() -> float:
    argv = [sys.executable, "-c", SUGGEST_SNIPPET, str(REPO / "examples/hf-llama-3.2-1b")]
    out = subprocess.run(argv + SUGGEST_DEVICES, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def build_matrix(folder: Path, models: int, devices: list[str]) -> Path:
    """``models`` distinct Llama-style configs × 2 quantizations, each job on every device."""
    jobs = []
    for i in range(models):
        cfg = dict(LLAMA)
        cfg["num_hidden_layers"] = 8 + i % 24
        cfg["hidden_size"] = 1024 + 128 * (i % 12)
        cfg["intermediate_size"] = 4 * cfg["hidden_size"]
        cfg["num_attention_heads"] = cfg["hidden_size"] // 64
        cfg["num_key_value_heads"] = max(1, cfg["num_attention_heads"] // 4)
        cfg.pop("head_dim", None)
        m = folder / f"model-{i:04d}"
        m.mkdir()
        (m / "config.json").write_text(json.dumps(cfg))
        jobs.extend(
            {"name": f"model-{i:04d} {q}", "model": m.name, "quantization": q}
            for q in ("q4f16_1", "q0f16")
        )
    import yaml

    path = folder / "planner.yaml"
    defaults = {"devices": list(devices), "context": 4096}
    path.write_text(yaml.safe_dump({"version": 1, "defaults": defaults, "jobs": jobs}))
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, nargs="+", default=[100, 300])
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    planner = [sys.executable, "-m", "planner"]
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}\n")
    print("| measurement | CPU s (median of 5) |\n|---|---:|")
    print(f"| `planner --help` | {median_cpu([*planner, '--help']):.3f} |")
    print(
        f"| `python -c 'import onnx'` | {median_cpu([sys.executable, '-c', 'import onnx']):.3f} |"
    )
    cpu = statistics.median(suggest_cpu() for _ in range(5))
    print(f"| suggest, Llama-3.2-1B on 5 devices, CPU after start-up | {cpu:.3f} |\n")

    from planner import api

    devices = [p.id for p in api.profiles()][:30]
    print("| models | jobs | cells | CPU s | ms CPU / cell | peak RSS MiB | wall s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.models:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = build_matrix(Path(tmp), n, devices)
            out = Path(tmp) / "report.jsonl"
            argv2 = [*planner, "--quiet", "check", "--config", str(cfg), "--jsonl", str(out)]
            argv2 += ["--format", "text", "-o", str(Path(tmp) / "summary.txt")]
            if args.workers > 1:
                argv2 += ["-j", str(args.workers)]
            cpu, rss, wall = child_run(argv2)
            if not out.is_file():
                print(f"| {n} | run failed: see `planner check --config` on this matrix |")
                continue
            jobs = 2 * n
            cells = jobs * len(devices)
            lines = sum(1 for _ in out.open())
            assert lines == jobs + 1, (lines, jobs)
            print(
                f"| {n} | {jobs} | {cells} | {cpu:.1f} | {cpu / cells * 1000:.2f} | "
                f"{rss / 2**20:.0f} | {wall:.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
