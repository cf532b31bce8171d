"""Probe: onnxruntime-genai's Phi-3 re-run with onnxruntime's memory pattern on and off.

Copies a builder export to a scratch folder, writes ``"enable_mem_pattern": false`` into its
genai_config.json ``session_options`` (genai ``src/config.cpp`` reads the key), and runs
planner's measuring child (the same fresh-process run as ``run_measure_v2.py``, files evicted
from the page cache first) on the original and on the copy, alternating, ``--repeats`` times.

    python3 benchmarks/ort_bench/probe_mempattern_genai.py            # phi3-mha-int4, 4096 / 8192
    python3 benchmarks/ort_bench/probe_mempattern_genai.py --build phi3-mha-fp32 --ort 1.31

Output: benchmarks/results/ort_mempattern_genai.json (every run, added peak in MiB).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import run_measure_v2 as rm  # the measuring child's launcher (standard library only)

OUT = rm.RESULTS / "ort_mempattern_genai.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="phi3-mha-int4")
    ap.add_argument("--prefill", type=int, default=4096)
    ap.add_argument("--context", type=int, default=8192)
    ap.add_argument("--ort", default="1.32", choices=list(rm.VENVS))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rm.EVICT = True
    source = rm.WORK / "models_v2" / "onnx" / args.build
    python = str(rm.WORK / rm.VENVS[args.ort] / "bin" / "python")
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        off = Path(tmp) / args.build
        shutil.copytree(source, off)
        config = json.loads((off / "genai_config.json").read_text())
        config["model"]["decoder"].setdefault("session_options", {})["enable_mem_pattern"] = False
        (off / "genai_config.json").write_text(json.dumps(config, indent=2))
        for repeat in range(args.repeats):
            for pattern, folder in (("on", source), ("off", off)):
                r = rm.run_child(python, folder, args.prefill, args.context, 1200)
                added = r["peak_rss_bytes"] - r["baseline_rss_bytes"] if "error" not in r else None
                runs.append(
                    {
                        "build": args.build,
                        "prefill": args.prefill,
                        "context": args.context,
                        "ort": args.ort,
                        "mem_pattern": pattern,
                        "repeat": repeat,
                        "added_peak_mib": round(added / 2**20, 1) if added else None,
                        "error": r.get("error"),
                    }
                )
                print(json.dumps(runs[-1]), flush=True)
    for pattern in ("on", "off"):
        xs = [
            r["added_peak_mib"] for r in runs if r["mem_pattern"] == pattern and r["added_peak_mib"]
        ]
        if xs:
            print(f"memory pattern {pattern}: median {statistics.median(xs):.1f} MiB of {xs}")
    old = json.loads(OUT.read_text()) if OUT.exists() else []
    OUT.write_text(json.dumps(old + runs, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
