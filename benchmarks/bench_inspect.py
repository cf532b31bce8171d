"""Inspect-speed benchmark: planning cost does not grow with weight size.

Builds 7B-class onnxruntime-genai packages (Llama-2-7B and Llama-3-8B dimensions, 32
layers, int4 MatMulNBits and fp16 MatMul variants) whose ``model.onnx.data`` is a sparse
file of the true size (several GB apparent, ~0 bytes on disk), then measures, in one warm
process, the median wall time of:

* ``onnx.load(model.onnx, load_external_data=False)`` — protobuf parse only;
* a *floor*: that parse plus the least walk any safe reader must do (each initializer's
  name, dtype, dims and external-data entries, each node's op type and outputs);
* ``OnnxAdapter().read(folder)`` — the full spec, with every external initializer's
  location, offset and length checked against the data file (``os.stat`` only).

Peak RSS of the adapter is measured in a fresh subprocess (``VmHWM`` on Linux: ``ru_maxrss``
there keeps the peak of the forking benchmark process; ``ru_maxrss`` elsewhere), next to the
same process without the read (imports only). The weight files
are deleted afterwards (a temporary directory).

Usage: ``python benchmarks/bench_inspect.py [--runs 50]``
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import onnx  # noqa: E402
from tests.onnx_factory import (  # noqa: E402
    LLAMA2_7B,
    LLAMA3_8B,
    Expected,
    GenaiOptions,
    ModelConfig,
    build_genai,
)

from planner_adapters.onnx_adapter import OnnxAdapter  # noqa: E402

CASES: list[tuple[str, ModelConfig, GenaiOptions]] = [
    ("Llama-2-7B int4 (cpu)", LLAMA2_7B, GenaiOptions(materialize=False)),
    (
        "Llama-2-7B fp16 (cuda)",
        LLAMA2_7B,
        GenaiOptions(precision="fp16", provider="cuda", accuracy_level=None, materialize=False),
    ),
    ("Llama-3-8B int4 (cpu)", LLAMA3_8B, GenaiOptions(materialize=False)),
    (
        "Llama-3-8B fp16 (cuda)",
        LLAMA3_8B,
        GenaiOptions(precision="fp16", provider="cuda", accuracy_level=None, materialize=False),
    ),
]

_RSS_CHILD = """
import resource, sys
from pathlib import Path
from planner_adapters.onnx_adapter import OnnxAdapter
if sys.argv[2] == "read":
    spec = OnnxAdapter().read(Path(sys.argv[1]))
    assert spec.weights is not None
try:  # Linux: this process's own high-water mark (ru_maxrss keeps the forking parent's peak)
    with open("/proc/self/status") as f:
        print(next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")))
except OSError:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def median_ms(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of ``fn`` in milliseconds, after warm-up calls."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def floor_walk(path: str) -> None:
    """onnx.load plus the minimum a safe reader must touch in the graph."""
    model = onnx.load(path, load_external_data=False)
    for t in model.graph.initializer:
        _ = (
            t.name,
            t.data_type,
            tuple(t.dims),
            t.data_location,
            {e.key: e.value for e in t.external_data},
        )
    for n in model.graph.node:
        _ = (n.op_type, tuple(n.output))


def peak_rss_mib(folder: Path, mode: str) -> float:
    """Peak RSS of a fresh interpreter that imports the adapter (and reads, if asked)."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(
            [str(ROOT), str(ROOT / "adapters"), os.environ.get("PYTHONPATH", "")]
        ),
    )
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(folder), mode],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    kib = int(out.stdout.strip().splitlines()[-1])
    # Linux reports KiB, macOS bytes.
    return kib / 1024 if sys.platform != "darwin" else kib / 2**20


def check(spec_folder: Path, exp: Expected) -> None:
    """The benchmark measures a correct read, not a shortcut."""
    spec = OnnxAdapter().read(spec_folder)
    cfg = exp.config
    got = (
        spec.num_layers,
        spec.hidden_size,
        spec.num_attention_heads,
        spec.num_kv_heads,
        spec.head_dim,
        spec.intermediate_size,
        spec.vocab_size,
    )
    want = (
        cfg.layers,
        cfg.hidden,
        cfg.heads,
        cfg.kv_heads,
        cfg.head_dim,
        cfg.intermediate,
        cfg.vocab,
    )
    assert got == want, (got, want)
    assert spec.weights is not None and spec.weights.total_bytes == exp.total_bytes


# As a user runs it: byte code cached (PYTHONDONTWRITEBYTECODE=1 would recompile planner's
# modules in every process of an editable install).
_CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall_ms(cmd: list[str], runs: int) -> float:
    """Median wall ms of ``cmd`` in fresh processes, after one untimed run."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(
            cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_CHILD_ENV
        )
        if i:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def process_times(folder: Path, model: str, runs: int) -> tuple[float, float, float]:
    """Median wall ms of fresh processes: onnx.load alone, ``planner inspect`` (text, json)."""
    planner = [sys.executable, "-m", "planner", "inspect", str(folder)]
    load = [sys.executable, "-c", f"import onnx; onnx.load({model!r}, load_external_data=False)"]
    return (
        wall_ms(load, runs),
        wall_ms(planner, runs),
        wall_ms([*planner, "--format", "json"], runs),
    )


def main() -> None:
    """Build, measure, print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per measurement")
    args = parser.parse_args()
    adapter = OnnxAdapter()
    rows = []
    proc_rows: list[tuple[str, float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-inspect-") as tmp:
        for label, cfg, opt in CASES:
            folder = Path(tmp) / label.split()[0] / opt.precision
            exp = build_genai(folder, cfg, opt)
            assert exp.data_path is not None
            check(folder, exp)
            model = str(exp.model_path)
            st = exp.data_path.stat()
            t_load = median_ms(partial(onnx.load, model, load_external_data=False), args.runs)
            t_floor = median_ms(partial(floor_walk, model), args.runs)
            t_read = median_ms(partial(adapter.read, folder), args.runs)
            rows.append(
                (
                    label,
                    st.st_size / 2**30,
                    st.st_blocks * 512,
                    exp.model_path.stat().st_size,
                    exp.tensor_count,
                    t_load,
                    t_floor,
                    t_read,
                    peak_rss_mib(folder, "read"),
                )
            )
            base_rss = peak_rss_mib(folder, "import")
            proc_rows.append((label, *process_times(folder, model, max(5, args.runs // 5))))
            # Free the multi-GB sparse file as soon as it has been measured.
            exp.data_path.unlink()
    print(
        f"Python {platform.python_version()}, onnx {onnx.__version__}, protobuf "
        f"{version('protobuf')}, {platform.machine()}, {os.cpu_count()} CPUs, "
        f"median of {args.runs} warm runs"
    )
    print()
    print(
        "| model | data file (apparent) | data on disk | graph file | initializers "
        "| onnx.load | load + minimal walk | adapter read | adapter / onnx.load "
        "| adapter / walk | adapter peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for label, gib, disk, graph, count, t_load, t_floor, t_read, rss in rows:
        print(
            f"| {label} | {gib:.2f} GiB | {disk} B | {graph / 1024:.0f} KiB | {count} "
            f"| {t_load:.2f} ms | {t_floor:.2f} ms | {t_read:.2f} ms | {t_read / t_load:.1f}× "
            f"| {t_read / t_floor:.1f}× | {rss:.0f} MiB |"
        )
    print()
    print("End to end, as a user runs it (fresh process each time, median wall time):")
    print()
    print(
        "| model | `python -c 'import onnx; onnx.load(..., load_external_data=False)'` "
        "| `planner inspect DIR` | ratio | `planner inspect DIR --format json` |"
    )
    print("|---|---|---|---|---|")
    for label, t_onnx, t_cli, t_json in proc_rows:
        print(
            f"| {label} | {t_onnx:.0f} ms | {t_cli:.0f} ms | {t_cli / t_onnx:.2f}× "
            f"| {t_json:.0f} ms |"
        )
    print()
    print(
        f"Peak RSS of the same fresh process importing the adapter without reading: "
        f"{base_rss:.0f} MiB."
    )
    # What the baseline's time is made of: the bare interpreter, and ml_dtypes (onnx imports it,
    # planner does not; its extension's import time varies a lot between versions and machines).
    proc_runs = max(5, args.runs // 5)
    bare = wall_ms([sys.executable, "-c", "pass"], proc_runs)
    ml_dtypes = wall_ms([sys.executable, "-c", "import ml_dtypes"], proc_runs)
    print(
        f"Fresh interpreter alone (`python -c pass`): {bare:.0f} ms; "
        f"`python -c 'import ml_dtypes'` (ml_dtypes {version('ml_dtypes')}, imported by onnx): "
        f"{ml_dtypes:.0f} ms."
    )
    print(f"Command: python benchmarks/bench_inspect.py --runs {args.runs}")


if __name__ == "__main__":
    main()
