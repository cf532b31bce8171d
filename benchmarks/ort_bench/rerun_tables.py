"""The Phi-3 re-run figures docs/onnxruntime-model.md and BENCHMARKS.md §2 quote, from the
recorded measurements and planner's current estimates (not a test: run it and copy the output).

    python benchmarks/ort_bench/rerun_tables.py [--root BENCH_WORK]

Needs planner (the dev venv) and the builder exports under BENCH_WORK/models_v2/onnx (the
replay reads each build's graph: its dimensions and LongRoPE tables). Sections:

1. the arena replay against the plain-session probe's growth (results/ort_rerun_probe.json,
   onnxruntime 1.32, memory pattern on);
2. the budget's re-run line for phi3-mha-fp32 and the Phi-3.5-mini config, pattern on and off;
3. phi3-mha-int4 through genai, generating past 4097 (results/ort_probe_logits_decode.json;
   added = the run's peak RSS − the RSS before loading);
4. genai_config's ``enable_mem_pattern`` (results/ort_mempattern_genai.json, median of repeats);
5. the out-of-sample runs (results/ort_rerun_oos/, ``run_rerun_oos.sh``), with the estimate
   without the replayed line beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path

from planner.budget import MemoryBudget
from planner.registry import read_model
from planner.runtimes import estimate
from planner.runtimes.onnxruntime.arena import second_pass_growth
from planner.runtimes.onnxruntime.prompt import prompt_shape
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec
from planner_adapters.hf_config import spec_from_hf_config

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "benchmarks" / "results"
MIB = 2**20
RERUN = "re-run"
PHI35 = REPO / "tests" / "data" / "hf_configs" / "phi-3.5-mini.json"


def _plan(spec: ModelSpec, prompt: int, context: int, decode: int, ort: str) -> MemoryBudget:
    settings = RuntimeSettings(
        Runtime.ONNXRUNTIME,
        context=context,
        prefill=prompt,
        runtime_version=ort,
        platform="linux-x86_64",
        decode_tokens=decode,
    )
    return estimate(spec, settings)


def _rerun(b: MemoryBudget) -> int:
    return sum(c.bytes for c in b.components if c.label.startswith(RERUN))


def _with_options(spec: ModelSpec, *options: tuple[str, str]) -> ModelSpec:
    return replace(spec, settings=replace(spec.settings, session_options=options))


def probe_growth(models: Path) -> list[str]:
    rows = {
        (r["build"], r["sequence"]): [p["peak_mib"] for p in r["passes"]]
        for r in json.loads((RESULTS / "ort_rerun_probe.json").read_text())
        if r["ort"] == "1.32" and r.get("mem_pattern") == "on"
    }
    out = [
        "| second pass | build | measured growth MiB | replayed MiB |",
        "|---|---|---:|---:|",
    ]
    for build in ("phi3-mha-fp32", "phi3-longrope-fp32", "llama-gqa-fp32"):
        shape = prompt_shape(read_model(models / build))
        assert shape is not None
        clean = rows[(build, "4097")][0]
        for first, second, base, what in (
            (4096, 4097, clean, "4096 → 4097, over a clean 4097"),
            (2048, 4097, clean, "2048 → 4097, over a clean 4097"),
            (2048, 2048, None, "2048 → 2048, over the first"),
        ):
            peaks = rows[(build, f"{first},{second}")]
            measured = peaks[1] - (peaks[0] if base is None else base)
            replayed = second_pass_growth(shape, first, second) / MIB
            out.append(f"| {what} | {build} | {measured:.1f} | {replayed:.0f} |")
    return out


def budget_lines(models: Path) -> list[str]:
    out = ["| model | prompt / max_length / generated | re-run line, pattern on / off MiB |"]
    out.append("|---|---|---:|")
    cases = (
        ("phi3-mha-fp32", read_model(models / "phi3-mha-fp32"), 4096, 8192, 8),
        (
            "Phi-3.5-mini config",
            spec_from_hf_config(
                json.loads(PHI35.read_text()), source="phi-3.5-mini", path=PHI35, name="phi-3.5"
            ),
            4090,
            8192,
            16,
        ),
    )
    for name, spec, p, c, d in cases:
        on = _rerun(_plan(spec, p, c, d, "1.32")) / MIB
        off_spec = _with_options(spec, ("enable_mem_pattern", "false"))
        off = _rerun(_plan(off_spec, p, c, d, "1.32")) / MIB
        out.append(f"| {name} | {p} / {c} / {d} | {on:.0f} / {off:.0f} |")
    return out


def genai_decode(models: Path) -> list[str]:
    spec = read_model(models / "phi3-mha-int4")
    out = [
        "| prompt / max_length / generated | measured added MiB | planner MiB | error % | replayed |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in json.loads((RESULTS / "ort_probe_logits_decode.json").read_text()):
        if (r["build"], r["variant"], r["ort"]) != ("phi3-mha-int4", "default", "1.32"):
            continue
        if r["prompt"] + r["decode"] - 1 < 4097 or r["max_length"] < 4097:
            continue  # no re-run in this run
        added = max(p["peak_mib"] for p in r["phases"]) - r["phases"][0]["rss_before_mib"]
        b = _plan(spec, r["prompt"], r["max_length"], r["decode"], "1.32")
        est = b.total_bytes / MIB
        out.append(
            f"| {r['prompt']} / {r['max_length']} / {r['decode']} | {added:,.1f} | {est:,.1f} | "
            f"{100 * (est - added) / added:+.1f} | {_rerun(b) / MIB:.0f} |"
        )
    return out


def mem_pattern(models: Path) -> list[str]:
    spec = read_model(models / "phi3-mha-int4")
    runs: dict[str, list[float]] = {}
    for r in json.loads((RESULTS / "ort_mempattern_genai.json").read_text()):
        runs.setdefault(r["mem_pattern"], []).append(r["added_peak_mib"])
    out = [
        "| enable_mem_pattern | runs | measured median MiB | planner MiB |",
        "|---|---:|---:|---:|",
    ]
    for state, values in sorted(runs.items()):
        s = spec if state == "on" else _with_options(spec, ("enable_mem_pattern", "false"))
        est = _plan(s, 4096, 8192, 8, "1.32").total_bytes / MIB
        out.append(f"| {state} | {len(values)} | {statistics.median(values):,.1f} | {est:,.1f} |")
    return out


def out_of_sample(models: Path) -> list[str]:
    out = [
        "| build | prompt / max_length / generated | onnxruntime | measured MiB | planner MiB "
        "| re-run replayed MiB | error % | error without the replay % |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for path in sorted((RESULTS / "ort_rerun_oos").glob("*.json")):
        *name, prompt, context, decode, ort = path.stem.split("-")
        build, version = "-".join(name), f"1.{ort[1:]}"
        measured = json.loads(path.read_text())["measurement"]["added_peak_bytes"] / MIB
        b = _plan(read_model(models / build), int(prompt), int(context), int(decode), version)
        est, rerun = b.total_bytes / MIB, _rerun(b) / MIB
        out.append(
            f"| {build} | {prompt} / {context} / {decode} | {version} | {measured:,.1f} | "
            f"{est:,.1f} | {rerun:.0f} | {100 * (est - measured) / measured:+.1f} | "
            f"{100 * (est - rerun - measured) / measured:+.1f} |"
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path(os.environ.get("BENCH_WORK", "bench-work")))
    models = ap.parse_args().root / "models_v2" / "onnx"
    if not models.is_dir():
        print(f"{models}: not found (set --root or BENCH_WORK)", file=sys.stderr)
        return 2
    for title, section in (
        ("1. The replay against the plain-session probe", probe_growth),
        ("2. The budget's re-run line", budget_lines),
        ("3. phi3-mha-int4 through genai, generating past 4097", genai_decode),
        ("4. enable_mem_pattern through genai (phi3-mha-int4, 4096 / 8192)", mem_pattern),
        ("5. Out of sample (run_rerun_oos.sh)", out_of_sample),
    ):
        print(f"\n{title}\n")
        print("\n".join(section(models)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
