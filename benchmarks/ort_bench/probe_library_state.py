"""Probe: how the page-cache state of onnxruntime's own libraries moves the measured added peak.

The same run (model, prompt, max_length) is measured twice with ``planner measure``'s machinery:

* ``evicted``: the child drops the model's files and the runtime's libraries from the page cache
  first (what ``planner measure`` and ``run_measure_v2.py --results-tag`` do);
* ``fresh-written``: the venv's onnxruntime / onnxruntime-genai shared libraries are rewritten
  in one write each (same bytes, as pip installing them leaves them: large page-cache folios)
  and the run is made without eviction.

Afterwards the libraries are evicted again, so later runs do not inherit the fresh state.

    python benchmarks/ort_bench/probe_library_state.py --python $BENCH_WORK/venv-ort132/bin/python \
        --model $BENCH_WORK/models_v2/onnx/llama-gqa-int4 [--prompt 16 --max-length 2048]

Writes ``benchmarks/results/ort_library_state_probe.json`` and prints a table (MiB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

from planner.runtimes.onnxruntime.measure import measure

MIB = 2**20
OUT = Path(__file__).resolve().parents[1] / "results" / "ort_library_state_probe.json"
FIND_LIBS = (
    "import importlib.util, pathlib\n"
    "for name in ('onnxruntime_genai', 'onnxruntime'):\n"
    "    spec = importlib.util.find_spec(name)\n"
    "    for folder in (spec.submodule_search_locations or []) if spec else []:\n"
    "        for p in sorted(pathlib.Path(folder).rglob('*.so*')): print(p)\n"
)


def rewrite(path: Path) -> None:
    """Write the file again in one piece (same bytes and mode), replacing it atomically."""
    data = path.read_bytes()
    tmp = path.with_name(path.name + ".probe-tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, path.stat().st_mode)
    os.replace(tmp, path)


def evict(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def run(python: str, model: Path, prompt: int, max_length: int, evicted: bool) -> dict[str, float]:
    m = measure(model, context=max_length, prefill=prompt, python=python, evict_page_cache=evicted)
    return {
        "baseline_mib": round(m.baseline_rss_bytes / MIB, 1),
        "added_peak_mib": round(m.added_peak_bytes / MIB, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", required=True, help="interpreter of a venv with onnxruntime-genai")
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=2048)
    args = ap.parse_args()
    found = subprocess.run(
        [args.python, "-c", FIND_LIBS], capture_output=True, text=True, check=True
    ).stdout
    libs = [Path(line) for line in found.splitlines() if line.strip()]
    result: dict[str, object] = {
        "python": args.python,
        "model": args.model.name,
        "prompt": args.prompt,
        "max_length": args.max_length,
        "libraries": [p.name for p in libs],
    }
    result["evicted"] = run(args.python, args.model, args.prompt, args.max_length, True)
    for lib in libs:
        rewrite(lib)
    try:
        result["fresh_written"] = run(args.python, args.model, args.prompt, args.max_length, False)
    finally:
        for lib in libs:
            evict(lib)
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print("| library state | baseline MiB | added peak MiB |\n|---|---:|---:|")
    for key in ("evicted", "fresh_written"):
        r = result[key]
        assert isinstance(r, dict)
        print(f"| {key} | {r['baseline_mib']} | {r['added_peak_mib']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
