"""Probe: what onnxruntime's MoE / QMoE CPU kernels allocate, and what their runs show.

The figures MECHANISMS.md §7 ("MoE layers") and BENCHMARKS.md §2 ("A family never measured")
quote about the LFM2-MoE builds (``build_moe.py``) come from here:

* ``trace``: every arena request of one genai prompt pass, with the CPU arena off (one
  ``posix_memalign`` each, ``alloc_trace.c``), optionally at a given ``intra_op_num_threads``;
  the model folder is copied with those session options set.
* ``seq``: a trace's requests of at least prompt × 64 bytes, in units of prompt × hidden × 4
  bytes, and the peak live bytes: the kernels' per-call buffers (fp32 ``MoE``: per thread three
  of 2 × hidden, one of 2 × 2 × moe_intermediate, one of 2 × moe_intermediate, then
  thread-local and final outputs of 1 × hidden each; ``QMoE``: per thread one of 1 × hidden
  and one of 2 × hidden + 3 × moe_intermediate).
* ``threads``: ``planner measure`` of one build at several ``intra_op_num_threads``.
* ``first-prefill``: the file-backed RSS the first prompt adds, from ``planner measure`` reports
  (the experts read in place).

    gcc -O2 -shared -fPIC -o /tmp/alloc_trace.so benchmarks/ort_bench/alloc_trace.c -ldl -lpthread
    python benchmarks/ort_bench/probe_moe.py trace $BENCH_WORK/models_moe/onnx/lfm2moe-m2-fp32 512 \
        --python $BENCH_WORK/venv-ort132/bin/python --shim /tmp/alloc_trace.so --out m2.log
    python benchmarks/ort_bench/probe_moe.py seq benchmarks/results/alloc_traces_moe/*.log
    python benchmarks/ort_bench/probe_moe.py threads $BENCH_WORK/models_moe/onnx/lfm2moe-fp32 \
        --python $BENCH_WORK/venv-ort132/bin/python           # planner on PATH
    python benchmarks/ort_bench/probe_moe.py first-prefill benchmarks/results/ort_moe/*-16-2048-132.json

Standard library only (the traced child needs onnxruntime-genai).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

MIB = 2**20
CHILD = r"""
import os, sys
import onnxruntime_genai as og
model_dir, prompt = sys.argv[1], int(sys.argv[2])
def mark(line):
    with open(os.environ["ALLOC_TRACE"], "a") as fh:
        fh.write(line + "\n")
model = og.Model(model_dir)
params = og.GeneratorParams(model)
params.set_search_options(max_length=max(2048, 2 * prompt))
generator = og.Generator(model, params)
mark(f"PASS {prompt}")
generator.append_tokens([1] * prompt)
mark(f"END {prompt}")
"""


def _copy_with(model: Path, into: Path, **options: object) -> Path:
    """The model folder copied with genai_config.json's decoder session options set."""
    dst = into / model.name
    shutil.copytree(model, dst)
    cfg_path = dst / "genai_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["model"]["decoder"].setdefault("session_options", {}).update(options)
    cfg_path.write_text(json.dumps(cfg, indent=1))
    return dst


def trace(args: argparse.Namespace) -> int:
    options: dict[str, object] = {"enable_cpu_mem_arena": False}
    if args.threads:
        options["intra_op_num_threads"] = args.threads
    with tempfile.TemporaryDirectory() as tmp:
        folder = _copy_with(args.model, Path(tmp), **options)
        out = args.out.resolve()
        out.unlink(missing_ok=True)
        env = {**os.environ, "ALLOC_TRACE": str(out), "LD_PRELOAD": str(args.shim)}
        cmd = [args.python, "-c", CHILD, str(folder), str(args.prompt)]
        subprocess.run(cmd, env=env, check=True)
    print(out)
    return 0


def _hidden(log: Path, given: int | None) -> int:
    if given:
        return given
    m = re.search(r"hidden(\d+)", log.name)
    if not m:
        raise SystemExit(f"{log.name}: pass --hidden (or name the file …-hidden<N>-…)")
    return int(m.group(1))


def seq(args: argparse.Namespace) -> int:
    for log in args.logs:
        hidden = _hidden(log, args.hidden)
        live: dict[str, int] = {}
        current = peak = prompt = 0
        shown: list[str] = []
        for line in log.read_text().splitlines():
            parts = line.split()
            if parts and parts[0] == "PASS":
                prompt = int(parts[1])
                continue
            if parts and parts[0] == "END":
                break
            if not prompt or len(parts) < 3:
                continue
            unit = prompt * hidden * 4
            kind, ptr, size = parts[0], parts[1], int(parts[2])
            if kind == "A":
                live[ptr] = size
                current += size
                if size >= prompt * 64:
                    shown.append(f"+{size / unit:.3g}")
            else:
                size = live.pop(ptr, 0)
                current -= size
                if size >= prompt * 64:
                    shown.append(f"-{size / unit:.3g}")
            peak = max(peak, current)
        print(
            f"{log.name}: prompt {prompt}, unit prompt × {hidden} × 4 bytes, peak live "
            f"{peak / MIB:.2f} MiB"
        )
        print("  " + " ".join(shown))
    return 0


def threads(args: argparse.Namespace) -> int:
    print("| build | prompt | max_length | intra_op_num_threads | added peak MiB |")
    print("|---|---:|---:|---:|---:|")
    for count in args.threads:
        with tempfile.TemporaryDirectory() as tmp:
            folder = _copy_with(args.model, Path(tmp), intra_op_num_threads=count)
            cmd = [
                "planner",
                "--quiet",
                "measure",
                str(folder),
                "-c",
                str(args.context),
                "-p",
                str(args.prompt),
                "--python",
                args.python,
                "-f",
                "json",
            ]
            report = json.loads(
                subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            )
        added = report["measurement"]["added_peak_bytes"] / MIB
        print(f"| {args.model.name} | {args.prompt} | {args.context} | {count} | {added:.1f} |")
    return 0


def first_prefill(args: argparse.Namespace) -> int:
    print("| build | onnxruntime | prompt | file-backed RSS the prefill adds, MiB |")
    print("|---|---|---:|---:|")
    for path in args.reports:
        m = json.loads(path.read_text())["measurement"]
        phases = {p["name"]: p for p in m["phases"]}
        grown = phases["prefill"]["rss_file_bytes"] - phases["generator"]["rss_file_bytes"]
        name = Path(m["model_dir"]).name
        print(f"| {name} | {m['versions']['onnxruntime']} | {m['prefill']} | {grown / MIB:.1f} |")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("trace")
    t.add_argument("model", type=Path)
    t.add_argument("prompt", type=int)
    t.add_argument("--python", required=True)
    t.add_argument("--shim", type=Path, required=True, help="the compiled alloc_trace.so")
    t.add_argument("--threads", type=int, default=0, help="intra_op_num_threads (0: default)")
    t.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("seq")
    s.add_argument("logs", nargs="+", type=Path)
    s.add_argument("--hidden", type=int, default=None)
    th = sub.add_parser("threads")
    th.add_argument("model", type=Path)
    th.add_argument("--python", required=True)
    th.add_argument("--threads", type=int, nargs="+", default=[1, 2, 3])
    th.add_argument("--prompt", type=int, default=2048)
    th.add_argument("--context", type=int, default=4096)
    f = sub.add_parser("first-prefill")
    f.add_argument("reports", nargs="+", type=Path)
    args = ap.parse_args()
    return {"trace": trace, "seq": seq, "threads": threads, "first-prefill": first_prefill}[
        args.cmd
    ](args)


if __name__ == "__main__":
    sys.exit(main())
