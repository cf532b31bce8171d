"""Probe: the prompt's logits chain (Gemma-2 softcap) and the decode steps that follow the prompt.

Each run is a fresh process (probe_step_child.py in the venv of one onnxruntime version) that
records the RSS before, the peak during and the RSS after every phase: ``og.Model``,
``og.Generator``, ``append_tokens`` (the prompt) and each ``generate_next_token`` step.

Usage (repository root; BENCH_WORK holds models_v2/onnx and the venvs)::

    python3 benchmarks/ort_bench/probe_logits_decode.py BUILD PROMPT MAX_LENGTH [DECODE]
        [--variant nosoftcap|arena-off|noflash|getlogits] [--ort 1.31]

Variants work on a copy of the build folder under /tmp (weights symlinked):

* ``nosoftcap``: (weights copied, not linked) model.onnx with the lm_head writing ``logits`` directly (the Div, Tanh, Mul of
  Gemma-2's final_logit_softcapping removed);
* ``noattnsoftcap``: (weights copied) every GroupQueryAttention's ``softcap`` attribute removed
  (Gemma-2's attn_logit_softcapping), the lm_head's chain kept;
* ``arena-off``: ``enable_cpu_mem_arena: false`` in genai_config.json;
* ``typellama``: genai_config.json's ``model.type`` set to ``llama`` (genai's per-type paths);
* ``noflash``: ``ORT_GQA_DISABLE_FLASH_ATTENTION=1``;
* ``getlogits``: ``generator.get_logits()`` called once after the prompt.

Results are appended to benchmarks/results/ort_probe_logits_decode.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORK = Path(os.environ.get("BENCH_WORK", "/work/bench-work"))
OUT = REPO / "benchmarks" / "results" / "ort_probe_logits_decode.json"
VENVS = {"1.32": "venv-ort132", "1.31": "venv-ort131"}
MARKER = "PROBE_RESULT "


def variant_dir(build: str, variant: str) -> Path:
    src = WORK / "models_v2" / "onnx" / build
    if variant not in ("nosoftcap", "noattnsoftcap", "arena-off", "typellama"):
        return src
    dst = Path("/tmp") / "probe_logits_decode" / f"{build}__{variant}"
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for item in src.iterdir():
        if variant in ("nosoftcap", "noattnsoftcap") and item.name == "model.onnx":
            continue
        if variant in ("arena-off", "typellama") and item.name == "genai_config.json":
            continue
        if variant in ("nosoftcap", "noattnsoftcap") and item.name.endswith(".data"):
            # onnxruntime refuses external data that resolves outside the model's folder
            shutil.copyfile(item, dst / item.name)
            continue
        (dst / item.name).symlink_to(item)
    if variant == "typellama":
        config = json.loads((src / "genai_config.json").read_text())
        config["model"]["type"] = "llama"
        (dst / "genai_config.json").write_text(json.dumps(config, indent=1))
    elif variant == "arena-off":
        config = json.loads((src / "genai_config.json").read_text())
        options = config["model"]["decoder"].setdefault("session_options", {})
        options["enable_cpu_mem_arena"] = False
        (dst / "genai_config.json").write_text(json.dumps(config, indent=1))
    else:
        import onnx  # the graph edit needs the onnx package (not the runtime venv)

        model = onnx.load(str(src / "model.onnx"), load_external_data=False)
        nodes = list(model.graph.node)
        if variant == "noattnsoftcap":
            for n in nodes:
                if n.op_type == "GroupQueryAttention":
                    keep = [a for a in n.attribute if a.name != "softcap"]
                    del n.attribute[:]
                    n.attribute.extend(keep)
            onnx.save(model, str(dst / "model.onnx"))
            return dst
        chain = [n for n in nodes if n.name.startswith("/lm_head/softcap/")]
        head = next(n for n in nodes if n.name.startswith("/lm_head/MatMul"))
        for n in chain:
            model.graph.node.remove(n)
        head.output[0] = "logits"
        onnx.save(model, str(dst / "model.onnx"))
    return dst


def run(args: argparse.Namespace) -> dict[str, Any]:
    model_dir = variant_dir(args.build, args.variant)
    request = {
        "model_dir": str(model_dir),
        "prefill": args.prompt,
        "context": args.max_length,
        "decode_tokens": args.decode,
        "fetch_logits": args.variant == "getlogits",
    }
    env = {**os.environ}
    if args.variant == "noflash":
        env["ORT_GQA_DISABLE_FLASH_ATTENTION"] = "1"
    python = str(WORK / VENVS[args.ort] / "bin" / "python")
    proc = subprocess.run(
        [python, str(HERE / "probe_step_child.py")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        env=env,
    )
    result: dict[str, Any] = {"error": (proc.stderr or "").strip()[-400:]}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            result = json.loads(line[len(MARKER) :])
            break
    return {
        "build": args.build,
        "prompt": args.prompt,
        "max_length": args.max_length,
        "decode": args.decode,
        "variant": args.variant,
        "ort": args.ort,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **result,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build")
    ap.add_argument("prompt", type=int)
    ap.add_argument("max_length", type=int)
    ap.add_argument("decode", type=int, nargs="?", default=1)
    ap.add_argument("--variant", default="default")
    ap.add_argument("--ort", default="1.31", choices=sorted(VENVS))
    args = ap.parse_args()
    record = run(args)
    records = json.loads(OUT.read_text()) if OUT.exists() else []
    records.append(record)
    OUT.write_text(json.dumps(records, indent=1) + "\n")
    head = f"{args.build} p{args.prompt} c{args.max_length} {args.variant} ort{args.ort}"
    if "phases" not in record:
        print(head, "ERROR", record.get("error"))
        return 1
    print(head)
    for p in record["phases"]:
        growth = p["peak_mib"] - p["rss_before_mib"]
        print(
            f"  {p['name']:<11} before {p['rss_before_mib']:8.1f}  peak {p['peak_mib']:8.1f} "
            f"(+{growth:7.1f})  after {p['rss_mib']:8.1f}  anon {p['anon_mib']:8.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
