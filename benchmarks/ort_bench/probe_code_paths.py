"""Probe: how much of onnxruntime's library code and heap a run touches, by MatMul path.

The fixed terms of planner's onnxruntime model (``versions.py``: code pages, session heap) were
measured per version on fp32 and int4 builds together. This probe separates them by the path the
MatMuls take — fp32 SGEMM, MatMulNBits with fp32 compute (accuracy level 1) or with int8 compute
(accuracy level 4) — because a run pages in only the kernels it calls.

For every build and repeat a fresh child (the bench venv's python) drops the model's files and the
runtime's shared libraries from the page cache (``planner measure``'s own ``evict_page_cache``,
imported from ``_measure_child.py`` by path), imports
onnxruntime-genai, reads ``/proc/self/smaps``, loads the model, runs a prompt and a few decode
steps, and reads smaps again. Printed: the growth of each mapping group's Rss (MiB), median of
the repeats.

    python benchmarks/ort_bench/probe_code_paths.py --python $BENCH_WORK/venv-ort132/bin/python \
        [--prompt 16 --max-length 2048 --repeats 3] MODEL_DIR ...

Standard library only; Linux only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys
model_dir, prompt, max_length, child_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, child_dir)
from pathlib import Path
from _measure_child import evict_page_cache  # planner's measuring child: standard library only

evict_page_cache(Path(model_dir))  # the model's files and the runtime's libraries, before import

def smaps():
    groups = {}
    name = None
    with open("/proc/self/smaps") as fh:
        for line in fh:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                path = head[5] if len(head) > 5 else "[anon]"
                perms = head[1]
                if "libonnxruntime-genai" in path or "onnxruntime_genai" in path:
                    name = "genai " + ("code" if "x" in perms else "data")
                elif "libonnxruntime" in path or "onnxruntime_pybind" in path:
                    name = "onnxruntime " + ("code" if "x" in perms else "data")
                elif path == "[heap]":
                    name = "heap"
                elif path.startswith("/") and model_dir in path:
                    name = "model files"
                elif path == "[anon]":
                    name = "anonymous"
                else:
                    name = "other"
            elif head[0] == "Rss:":
                groups[name] = groups.get(name, 0) + int(head[1]) * 1024
    return groups

import onnxruntime_genai as og
before = smaps()
model = og.Model(model_dir)
params = og.GeneratorParams(model)
params.set_search_options(max_length=max_length)
gen = og.Generator(model, params)
gen.append_tokens([1] * prompt)
for _ in range(4):
    gen.generate_next_token()
after = smaps()
print(json.dumps({k: after.get(k, 0) - before.get(k, 0) for k in sorted(set(before) | set(after))}))
"""

MIB = 2**20
MEASURE_CHILD_DIR = (
    Path(__file__).resolve().parents[2] / "src" / "planner" / "runtimes" / "onnxruntime"
)
"""Where planner's ``_measure_child.py`` (its page-cache eviction) lives."""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", required=True, help="the bench venv's python")
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=2048)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("models", nargs="+", type=Path)
    args = ap.parse_args()
    rows = []
    for model in args.models:
        runs = []
        for _ in range(args.repeats):
            out = subprocess.run(
                [
                    args.python,
                    "-c",
                    CHILD,
                    str(model),
                    str(args.prompt),
                    str(args.max_length),
                    str(MEASURE_CHILD_DIR),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        keys = sorted({k for r in runs for k in r})
        med = {k: statistics.median(r.get(k, 0) for r in runs) / MIB for k in keys}
        rows.append((model.name, med))
    keys = sorted({k for _, m in rows for k in m})
    print("| build | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for name, med in rows:
        print(f"| {name} | " + " | ".join(f"{med.get(k, 0):.1f}" for k in keys) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
