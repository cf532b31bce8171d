"""Round trip: the onnxruntime-genai builder commands planner emits build the model it planned.

For each case (precision × tied/untied embeddings × KV quantization) this script

1. writes a small random-weight Hugging Face checkpoint (config.json, model.safetensors and a
   word-level tokenizer) with ``transformers``;
2. asks ``planner suggest <hf> -r onnxruntime -q <precision> --emit ort-builder`` for the
   builder commands and runs them, verbatim, from an empty folder;
3. merges ``planner suggest … --emit genai-config`` into the built genai_config.json, loads it
   with ``onnxruntime_genai.Model`` and generates tokens;
4. compares ``planner estimate <built folder>`` with the plan: weights and total must agree
   within 2 %.

Needs its own environment (torch, transformers, onnx-ir and onnxruntime-genai 0.18 for the
builder) with planner installed into it; see ``setup.sh``. Results: ``results.json`` beside
the script and the table in BENCHMARKS.md ("Round trip: emitted builder commands").

    bash benchmarks/roundtrip/setup.sh            # once: /work/bench-work/venv-roundtrip
    /work/bench-work/venv-roundtrip/bin/python benchmarks/roundtrip/roundtrip.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOLERANCE = 0.02
CONTEXT = 512
PREFILL = 128
DEVICE = "pixel-8-pro"
IOS_DEVICE = "iphone-15-pro"


@dataclass(frozen=True)
class Case:
    name: str
    precision: str
    tied: bool
    kv_dtype: str | None = None


CASES = [
    Case("fp32-untied", "fp32", False),
    Case("fp32-tied", "fp32", True),
    Case("int8-untied", "int8", False),
    Case("int8-tied", "int8", True),
    Case("int4-bs32-untied", "int4", False),
    Case("int4-bs32-tied", "int4", True),
    Case("int4-bs128-untied", "int4-bs128", False),
    Case("int4-bs128-tied", "int4-bs128", True),
    Case("int4-embq-tied", "int4-embq", True),
    Case("int4-embq-untied", "int4-embq", False),
    Case("int4-kv-int8-tied", "int4", True, "int8"),
    Case("int4-kv-int8-untied", "int4", False, "int8"),
    Case("int4-kv-int4-untied", "int4", False, "int4"),
]

HF_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 256,
    "intermediate_size": 704,
    "num_hidden_layers": 4,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 64,
    "vocab_size": 8192,
    "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "bos_token_id": 1,
    "eos_token_id": 2,
    "torch_dtype": "float32",
}


def make_checkpoint(folder: Path, tied: bool) -> None:
    """A random-weight Llama checkpoint with a tokenizer whose vocabulary fills vocab_size."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    if (folder / "model.safetensors").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    config = LlamaConfig(**{**HF_CONFIG, "tie_word_embeddings": tied})
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder, safe_serialization=True)
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3}
    vocab.update({f"w{i}": i for i in range(4, HF_CONFIG["vocab_size"])})
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
    )
    tok.save_pretrained(folder)


def planner(*args: str) -> str:
    """Run the planner CLI of this environment and return stdout (fails loudly)."""
    cmd = [sys.executable, "-m", "planner", "--quiet", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} → {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def plan_args(hf: Path, case: Case) -> list[str]:
    args = [str(hf), "-d", DEVICE, "-r", "onnxruntime", "-q", case.precision]
    args += ["--context", str(CONTEXT), "--prefill", str(PREFILL)]
    # Pin the KV dtype (suggest would otherwise choose a quantized cache by itself): the float
    # and the quantized-KV builds are separate cases.
    args += ["--kv-dtype", case.kv_dtype or "float32"]
    return args


def generate(folder: Path) -> int:
    import numpy as np
    import onnxruntime_genai as og

    model = og.Model(og.Config(str(folder)))
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=64)
    gen = og.Generator(model, params)
    gen.append_tokens(np.array([[1, 5, 6, 7, 8]], dtype=np.int32))
    for _ in range(4):
        gen.generate_next_token()
    return len(gen.get_sequence(0)) - 5


def merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out


def run_case(case: Case, work: Path) -> dict[str, Any]:
    hf = work / "hf" / ("tied" if case.tied else "untied")
    make_checkpoint(hf, case.tied)
    plan = json.loads(planner("suggest", *plan_args(hf, case), "--format", "json"))
    chosen = plan["chosen"]
    if chosen is None:
        raise RuntimeError(f"{case.name}: no plan fits")
    commands = planner("suggest", *plan_args(hf, case), "--emit", "ort-builder")
    patch = json.loads(planner("suggest", *plan_args(hf, case), "--emit", "genai-config"))
    build_dir = work / "builds" / case.name
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir(parents=True)  # an empty folder: the commands run verbatim in it
    t0 = time.time()
    log = build_dir / "build.log"
    with log.open("w") as fh:
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", commands],
            cwd=build_dir,
            stdout=fh,
            stderr=subprocess.STDOUT,
            check=False,
            # `python` in the emitted commands is this environment's interpreter.
            env={
                **os.environ,
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                "PYTHONWARNINGS": "ignore",
            },
        )
    if done.returncode != 0:
        tail = log.read_text(errors="replace")[-1500:]
        raise RuntimeError(f"{case.name}: builder commands failed:\n{tail}")
    build_s = time.time() - t0
    out_dir = build_dir / commands.strip().splitlines()[-1].split(" -o ", 1)[1].split()[0]
    cfg_path = out_dir / "genai_config.json"
    built_cfg = json.loads(cfg_path.read_text())
    # The iPhone patch (fp32: session.disable_prepacking) must load too: try it on a copy.
    ios_args = [a if a != DEVICE else IOS_DEVICE for a in plan_args(hf, case)]
    ios_patch = json.loads(planner("suggest", *ios_args, "--emit", "genai-config"))
    ios_dir = build_dir / "ios-patched"
    shutil.copytree(out_dir, ios_dir)
    (ios_dir / "genai_config.json").write_text(json.dumps(merge(built_cfg, ios_patch), indent=1))
    generated_ios = generate(ios_dir)
    shutil.rmtree(ios_dir)
    cfg_path.write_text(json.dumps(merge(built_cfg, patch), indent=1))
    generated = generate(out_dir)
    est_args = [str(out_dir), "-r", "onnxruntime", "--context", str(CONTEXT)]
    est_args += ["--prefill", str(PREFILL), "--format", "json"]
    est_args += ["--kv-dtype", case.kv_dtype or "float32"]
    built = json.loads(planner("estimate", *est_args))
    pm, bm = chosen["memory"], built["memory"]

    def err(key: str) -> float:
        return (bm[key] - pm[key]) / pm[key]

    return {
        **asdict(case),
        "commands": commands.strip().splitlines(),
        "build_s": round(build_s, 1),
        "plan_weights_bytes": pm["weights_bytes"],
        "built_weights_bytes": bm["weights_bytes"],
        "plan_total_bytes": pm["total_bytes"],
        "built_total_bytes": bm["total_bytes"],
        "weights_error": round(err("weights_bytes"), 5),
        "total_error": round(err("total_bytes"), 5),
        "built_quantization": built.get("model", {}).get("quantization"),
        "generated_tokens": generated,
        "generated_tokens_ios_patch": generated_ios,
        "ios_patch": ios_patch,
        "ok": abs(err("total_bytes")) <= TOLERANCE
        and abs(err("weights_bytes")) <= TOLERANCE
        and generated > 0
        and generated_ios > 0,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/work/bench-work/roundtrip"))
    ap.add_argument("--only", nargs="*", default=None, help="case names")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    ns = ap.parse_args()
    rows = []
    for case in CASES:
        if ns.only and case.name not in ns.only:
            continue
        try:
            row = run_case(case, ns.work)
        except Exception as exc:  # record and go on: one failure must not hide the others
            row = {**asdict(case), "ok": False, "error": str(exc)[-2000:]}
        rows.append(row)
        if "error" in row:
            print(f"{case.name:22} FAILED: {row['error'][-400:]}", flush=True)
        else:
            print(
                f"{case.name:22} weights {row['plan_weights_bytes']:>11,} → "
                f"{row['built_weights_bytes']:>11,} ({row['weights_error']:+.2%})  total "
                f"{row['plan_total_bytes']:>11,} → {row['built_total_bytes']:>11,} "
                f"({row['total_error']:+.2%})  tokens {row['generated_tokens']}",
                flush=True,
            )
    ns.out.write_text(json.dumps({"tolerance": TOLERANCE, "cases": rows}, indent=1) + "\n")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
