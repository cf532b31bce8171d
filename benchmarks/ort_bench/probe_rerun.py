"""Probe: what a second prompt in the same onnxruntime session costs, memory pattern on and off.

onnxruntime-genai re-runs a Phi-3 sequence from scratch when it reaches 4097 tokens
(``phi3_rewind_threshold`` in planner's onnxruntime model); the measured peaks of the phi3-mha
builds at prompt 4096 / max_length 8192 sit 8–11 % above planner's. This probe takes
onnxruntime-genai out of it: a plain CPU ``InferenceSession`` of the builder's model.onnx runs
the prompts of a sequence one after the other (empty past, every output bound to a
caller-allocated buffer as genai binds its logits and KV cache, so that only activations and
kernel scratch come from the CPU arena), in a fresh process per sequence, with
``SessionOptions.enable_mem_pattern`` on (the default) and off. It records after each run the
peak (VmHWM, reset before the run through /proc/self/clear_refs) above the session, and every
arena extension BFCArena logs at INFO (``core/framework/bfc_arena.cc``: the request that fit no
free chunk, and the region allocated for it). The summary gives each two-pass sequence's growth
(second peak − first) and what it keeps against a clean run of the second length.

    python3 benchmarks/ort_bench/probe_rerun.py            # BENCH_WORK holds the v2 builds
    python3 benchmarks/ort_bench/probe_rerun.py --builds phi3-mha-fp32 --sequences 4096,4097
    python3 benchmarks/ort_bench/probe_rerun.py --summarize     # the table, from the file

Output: benchmarks/results/ort_rerun_probe.json. Standard library only here; the child needs the
benchmark venv's onnxruntime and numpy.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import run_measure_v2 as rm  # the benchmark's folders and venvs (standard library only)
from bfc_sim import PROMPT_CHILD

OUT = rm.RESULTS / "ort_rerun_probe.json"
MIB = 2**20
BUILDS = ("phi3-mha-fp32", "phi3-longrope-fp32", "llama-gqa-fp32")
SEQUENCES = ("4097", "4096,4097", "4000,4097", "2048,4097", "2048", "1024,2048", "2048,2048")

CHILD = (
    PROMPT_CHILD
    + r"""
model_dir, seq = sys.argv[1], [int(x) for x in sys.argv[2].split(",")]
dims = decoder_dims(model_dir)
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
ort.set_default_logger_severity(1)  # INFO: BFCArena logs every extension
so = ort.SessionOptions()
so.enable_mem_pattern = sys.argv[3] == "1"
s = ort.InferenceSession(
    os.path.join(model_dir, "model.onnx"), so, providers=["CPUExecutionProvider"]
)
base = status("VmRSS")
print("READY", flush=True, file=sys.stderr)
for p in seq:
    binding, feeds, keep = bind_prompt(s, p, dims)
    del feeds
    open("/proc/self/clear_refs", "w").write("5")
    s.run_with_iobinding(binding)
    peak, rss = status("VmHWM"), status("VmRSS")
    bound = sum(a.nbytes for a in keep)
    del keep, binding
    print("PASS", p, peak - base - bound, rss - base - bound, flush=True, file=sys.stderr)
"""
)

EXTEND = re.compile(r"Extending BFCArena.*?rounded_bytes:(\d+)")
EXTENDED = re.compile(r"Extended allocation by (\d+) bytes")


def run_sequence(python: str, model_dir: Path, seq: str, mem_pattern: bool) -> dict[str, Any]:
    proc = subprocess.run(
        [python, "-c", CHILD, str(model_dir), seq, "1" if mem_pattern else "0"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:300]}
    # the child writes its markers to stderr, where onnxruntime logs: the extensions logged
    # between READY and a pass's PASS line are that pass's
    passes: list[dict[str, Any]] = []
    pending: list[int] = []
    extensions: list[dict[str, int]] = []
    ready = False
    for line in proc.stderr.splitlines():
        if line.startswith("READY"):
            ready = True
        elif line.startswith("PASS "):
            _, p, peak, rss = line.split()
            passes.append(
                {
                    "prompt": int(p),
                    "peak_mib": round(int(peak) / MIB, 1),
                    "rss_after_mib": round(int(rss) / MIB, 1),
                    "arena_extensions": extensions,
                }
            )
            extensions = []
        elif ready and (m := EXTEND.search(line)):
            pending.append(int(m.group(1)))
        elif ready and (m := EXTENDED.search(line)) and pending:
            extensions.append({"request": pending.pop(0), "region": int(m.group(1))})
    return {"passes": passes}


def summarize(results: list[dict[str, Any]]) -> None:
    """Per two-pass sequence: the second pass's peak minus a clean run of its length (what it
    kept of the first), as MiB and as a share of the first pass's peak."""
    clean = {
        (r["ort"], r["build"], r.get("mem_pattern", "on"), r["passes"][0]["prompt"]): r["passes"][
            0
        ]["peak_mib"]
        for r in results
        if len(r.get("passes", [])) == 1
    }
    print(
        "| onnxruntime | build | memory pattern | prompts | first pass | second pass | growth | "
        "clean second | kept | kept / first |"
    )
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        passes = r.get("passes", [])
        if len(passes) != 2:
            continue
        key = (r["ort"], r["build"], r.get("mem_pattern", "on"), passes[1]["prompt"])
        if key not in clean:
            continue
        first, second = passes[0]["peak_mib"], passes[1]["peak_mib"]
        base = clean[key]
        print(
            f"| {r['ort']} | {r['build']} | {key[2]} | {r['sequence']} | {first} | {second} | "
            f"{second - first:+.1f} | {base} | {second - base:.1f} | {(second - base) / first:.0%} |"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--builds", nargs="*", default=list(BUILDS))
    ap.add_argument("--sequences", nargs="*", default=list(SEQUENCES))
    ap.add_argument("--ort", nargs="*", default=list(rm.DEFAULT_ORT), choices=list(rm.VENVS))
    ap.add_argument(
        "--mem-pattern",
        nargs="*",
        default=["on", "off"],
        choices=["on", "off"],
        help="onnxruntime's memory pattern (SessionOptions.enable_mem_pattern): on is the default",
    )
    ap.add_argument("--summarize", action="store_true", help="only print the table of the file")
    args = ap.parse_args()
    if args.summarize:
        summarize(json.loads(OUT.read_text()))
        return 0
    results: list[dict[str, Any]] = []
    for ort in args.ort:
        python = str(rm.WORK / rm.VENVS[ort] / "bin" / "python")
        for build in args.builds:
            model_dir = rm.WORK / "models_v2" / "onnx" / build
            for seq in args.sequences:
                for pattern in args.mem_pattern:
                    r = run_sequence(python, model_dir, seq, pattern == "on")
                    r.update({"ort": ort, "build": build, "sequence": seq, "mem_pattern": pattern})
                    results.append(r)
                    print(json.dumps(r), flush=True)
    OUT.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {OUT}", file=sys.stderr)
    summarize(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
