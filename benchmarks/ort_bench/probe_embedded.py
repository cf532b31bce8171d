"""Probe: what tensors stored inside model.onnx (not in external data) cost onnxruntime.

Builds graphs whose only weights are ``count`` fp32 tensors of ``rows × 64`` held in the
protobuf (each read by a Gather whose indices are a graph input, so nothing is folded away),
either as initializers or as ``Constant`` nodes (the builder's LongRoPE cos/sin caches
are Constant nodes in an ``If``'s branches), creates a CPU ``InferenceSession`` from the file in
a fresh process of each onnxruntime venv, runs it once, and records RSS and VmHWM above the
process after ``import onnxruntime`` (Linux, /proc/self/status).

    python3 benchmarks/ort_bench/probe_embedded.py        # BENCH_WORK holds venv-ort13{1,2}
    python3 benchmarks/ort_bench/probe_embedded.py --fixed-heap   # MALLOC_MMAP_THRESHOLD_ fixed

Output: benchmarks/results/ort_embedded_probe.json (multiples of the tensors' bytes;
``ort_embedded_probe_fixed_heap.json`` with ``--fixed-heap``: glibc's mmap threshold fixed, so a
freed copy of 128 KiB or more cannot stay in its heap).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import run_measure_v2 as rm  # the benchmark's folders and venvs (standard library only)

OUT = rm.RESULTS / "ort_embedded_probe.json"
MIB = 2**20
SHAPES = ((40, 4096), (4, 40960), (160, 4096), (16, 40960), (4, 163840))
"""(count, rows): 40 MiB as 40 × 1 MiB and 4 × 10 MiB; 160 MiB as 160 × 1, 16 × 10, 4 × 40 MiB."""

CHILD = r"""
import sys, numpy as np
def mem():
    d = dict(l.split(':', 1) for l in open('/proc/self/status'))
    return int(d['VmRSS'].split()[0]) * 1024, int(d['VmHWM'].split()[0]) * 1024
import onnxruntime as ort
ort.set_default_logger_severity(3)
base = mem()
s = ort.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])
after = mem()
s.run(None, {'idx': np.array([0], dtype=np.int64)})
run = mem()
print(base[0], after[0], after[1], run[0], run[1])
"""


def build(path: Path, count: int, rows: int, kind: str) -> int:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, outs = [], [], []
    rng = np.random.default_rng(0)
    for i in range(count):
        arr = rng.random((rows, 64), dtype=np.float32)
        name = f"w{i}"
        if kind == "constant":
            value = numpy_helper.from_array(arr, name=f"{name}_value")
            nodes.append(helper.make_node("Constant", [], [name], value=value))
        else:
            inits.append(numpy_helper.from_array(arr, name=name))
        # a Gather by a graph input: nothing constant folding could evaluate away
        nodes.append(helper.make_node("Gather", [name, "idx"], [f"r{i}"]))
        outs.append(f"r{i}")
    nodes.append(helper.make_node("Sum", outs, ["out"]))
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, None)
    idx = helper.make_tensor_value_info("idx", TensorProto.INT64, [1])
    graph = helper.make_graph(nodes, "g", [idx], [out], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return count * rows * 64 * 4


def main() -> int:
    fixed = "--fixed-heap" in sys.argv[1:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    if fixed:
        env["MALLOC_MMAP_THRESHOLD_"] = "131072"
    out = OUT.with_name("ort_embedded_probe_fixed_heap.json") if fixed else OUT
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.onnx"
        build(empty, 1, 1, "initializer")
        for count, rows in SHAPES:
            for kind in ("initializer", "constant"):
                path = Path(tmp) / f"{kind}-{count}x{rows}.onnx"
                size = build(path, count, rows, kind)
                for ver in rm.DEFAULT_ORT:
                    python = str(rm.WORK / rm.VENVS[ver] / "bin" / "python")
                    figures = []
                    for model in (empty, path):
                        line = subprocess.run(
                            [python, "-c", CHILD, str(model)],
                            capture_output=True,
                            text=True,
                            check=True,
                            env=env,
                        ).stdout.split()
                        b, s_rss, s_hwm, r_rss, r_hwm = map(int, line)
                        figures.append((s_rss - b, max(s_hwm, r_hwm) - b, r_rss - b))
                    (e_steady, e_peak, _), (_, peak, run) = figures
                    rec = {
                        "onnxruntime": ver,
                        "kind": kind,
                        "tensors": count,
                        "tensor_mib": rows * 64 * 4 / MIB,
                        "total_mib": size / MIB,
                        "steady_x": round((run - e_steady) / size, 2),
                        "peak_x": round((peak - e_peak) / size, 2),
                    }
                    records.append(rec)
                    print(json.dumps(rec), flush=True)
    out.write_text(json.dumps(records, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
