"""Build the random-weight ONNX models of the ONNX Runtime accuracy benchmark (offline).

Commands (run from the repository root, after ``bash benchmarks/ort_bench/setup_env.sh``)::

    bench-work/venv/bin/python benchmarks/ort_bench/build_models.py        # all models
    bench-work/venv/bin/python benchmarks/ort_bench/build_models.py \
        --only llama-gqa --precisions int4

For each architecture below this script

1. creates a Hugging Face checkpoint with random weights locally (``transformers``
   ``AutoModelForCausalLM.from_config``; biases and norm weights are randomized too, because the
   builder drops all-zero biases and production checkpoints have none of those);
2. constructs a word-level tokenizer whose vocabulary has exactly ``vocab_size`` entries with
   ``tokenizers`` (the builder refuses a folder without a tokenizer) and saves it beside the
   weights;
3. exports it with the onnxruntime-genai model builder for the CPU execution provider::

       HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \\
       python -m onnxruntime_genai.models.builder -i <hf_dir> -o <onnx_dir> -p <precision> \\
           -e cpu -c <cache_dir>

Everything lands under ``bench-work/`` (git-ignored): ``models/hf/<id>``,
``models/onnx/<id>-<precision>`` and ``models/manifest.json`` (build time and peak RSS of every
builder run). Finished builds are skipped.
The machine this was written for has 2 cores and 24 GiB: builds run one at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
WORK = Path(os.environ.get("BENCH_WORK", REPO / "bench-work"))
PRECISIONS = ("int4", "int8", "fp32")
MAX_POSITIONS = 8192  # the largest max_length measured; genai refuses max_length > context_length


@dataclass(frozen=True)
class Arch:
    """One benchmark model: an id, the HF ``model_type`` and the config overrides."""

    model_id: str
    architecture: str
    model_type: str
    config: dict[str, Any] = field(default_factory=dict)


ARCHS: tuple[Arch, ...] = (
    # Llama-style GQA (16 query heads, 4 KV heads), untied embeddings. ~156 M params.
    Arch(
        "llama-gqa",
        "LlamaForCausalLM",
        "llama",
        {
            "hidden_size": 1024,
            "intermediate_size": 2816,
            "num_hidden_layers": 8,
            "num_attention_heads": 16,
            "num_key_value_heads": 4,
            "vocab_size": 32000,
            "tie_word_embeddings": False,
        },
    ),
    # Qwen2: tied embeddings, 151936 vocab, qkv biases. Small hidden keeps it ~123 M params.
    Arch(
        "qwen2-tied",
        "Qwen2ForCausalLM",
        "qwen2",
        {
            "hidden_size": 512,
            "intermediate_size": 2048,
            "num_hidden_layers": 12,
            "num_attention_heads": 8,
            "num_key_value_heads": 2,
            "vocab_size": 151936,
            "tie_word_embeddings": True,
            "use_sliding_window": False,
            "sliding_window": None,
        },
    ),
    # Qwen3: tied, 151936 vocab, explicit head_dim 128 > hidden/heads, q/k norms. ~125 M params.
    Arch(
        "qwen3-tied",
        "Qwen3ForCausalLM",
        "qwen3",
        {
            "hidden_size": 512,
            "intermediate_size": 2048,
            "num_hidden_layers": 10,
            "num_attention_heads": 8,
            "num_key_value_heads": 4,
            "head_dim": 128,
            "vocab_size": 151936,
            "tie_word_embeddings": True,
            "use_sliding_window": False,
            "sliding_window": None,
        },
    ),
    # Phi-3 (mini layout): multi-head attention (KV heads = heads), fused qkv / gate_up. ~167 M.
    Arch(
        "phi3-mha",
        "Phi3ForCausalLM",
        "phi3",
        {
            "hidden_size": 1024,
            "intermediate_size": 2816,
            "num_hidden_layers": 8,
            "num_attention_heads": 16,
            "num_key_value_heads": 16,
            "vocab_size": 32064,
            "original_max_position_embeddings": MAX_POSITIONS,
            "sliding_window": None,
            "tie_word_embeddings": False,
            "pad_token_id": 0,
        },
    ),
    # Mistral: GQA 12/4, 32768 vocab, no sliding window (as Mistral v0.3). ~154 M params.
    Arch(
        "mistral",
        "MistralForCausalLM",
        "mistral",
        {
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "num_key_value_heads": 4,
            "vocab_size": 32768,
            "sliding_window": None,
            "tie_word_embeddings": False,
        },
    ),
    # Gemma (v1 layout): MQA (1 KV head), head_dim 128, 256000 vocab, tied. ~215 M params.
    Arch(
        "gemma",
        "GemmaForCausalLM",
        "gemma",
        {
            "hidden_size": 640,
            "intermediate_size": 2560,
            "num_hidden_layers": 8,
            "num_attention_heads": 8,
            "num_key_value_heads": 1,
            "head_dim": 128,
            "vocab_size": 256000,
            "tie_word_embeddings": True,
        },
    ),
)


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def make_tokenizer(vocab_size: int, out_dir: Path) -> None:
    """Save a word-level tokenizer with exactly ``vocab_size`` tokens (ids 0/1/2 = pad/bos/eos)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<unk>"]
    vocab = {token: index for index, token in enumerate(specials)}
    for index in range(len(specials), vocab_size):
        vocab[f"w{index}"] = index
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=MAX_POSITIONS,
    )
    tokenizer.save_pretrained(out_dir)


def make_checkpoint(arch: Arch, out_dir: Path) -> None:
    """Create a random-weight checkpoint (config, safetensors, tokenizer) in ``out_dir``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    if (out_dir / "model.safetensors").exists() and (out_dir / "tokenizer.json").exists():
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "max_position_embeddings": MAX_POSITIONS,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 0,
        "architectures": [arch.architecture],
        **arch.config,
    }
    config = AutoConfig.for_model(arch.model_type, **settings)
    torch.manual_seed(hash(arch.model_id) % (2**31))
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with torch.no_grad():
        for name, param in model.named_parameters():
            # Production checkpoints have non-zero biases and non-unit norms; the builder drops
            # all-zero biases, which would make the graphs smaller than real ones.
            if name.endswith("bias"):
                param.normal_(0.0, 0.02)
            elif "norm" in name:
                param.add_(torch.randn_like(param) * 0.02)
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(out_dir, safe_serialization=True)
    make_tokenizer(config.vocab_size, out_dir)
    (out_dir / "planner_bench.json").write_text(json.dumps({"parameters": params}, indent=1))
    _log(f"{arch.model_id}: checkpoint with {params / 1e6:.1f} M parameters")


def run_builder(hf_dir: Path, out_dir: Path, precision: str) -> dict[str, Any]:
    """Run the genai model builder in a child process; returns seconds and the child's peak RSS."""
    cmd = [
        sys.executable,
        "-m",
        "onnxruntime_genai.models.builder",
        "-i",
        str(hf_dir),
        "-o",
        str(out_dir),
        "-p",
        precision,
        "-e",
        "cpu",
        "-c",
        str(WORK / "cache"),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    log_path = out_dir.parent / f"{out_dir.name}.build.log"
    start = time.monotonic()
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        raise RuntimeError(f"builder failed ({code}) for {out_dir.name}:\n" + "\n".join(tail))
    return {
        "command": " ".join(cmd),
        "seconds": round(seconds, 1),
        "builder_peak_rss_bytes": usage.ru_maxrss * 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="model ids to build (default: all)")
    parser.add_argument("--precisions", nargs="*", default=list(PRECISIONS), choices=PRECISIONS)
    args = parser.parse_args()

    manifest_path = WORK / "models" / "manifest.json"
    manifest: dict[str, Any] = (
        json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    )
    for arch in ARCHS:
        if args.only and arch.model_id not in args.only:
            continue
        hf_dir = WORK / "models" / "hf" / arch.model_id
        make_checkpoint(arch, hf_dir)
        params = json.loads((hf_dir / "planner_bench.json").read_text())["parameters"]
        for precision in args.precisions:
            key = f"{arch.model_id}-{precision}"
            out_dir = WORK / "models" / "onnx" / key
            if (out_dir / "genai_config.json").exists() and key in manifest:
                continue
            _log(f"building {key}")
            info = run_builder(hf_dir, out_dir, precision)
            data_bytes = sum(p.stat().st_size for p in out_dir.iterdir() if p.is_file())
            manifest[key] = {
                "model_id": arch.model_id,
                "architecture": arch.architecture,
                "model_type": arch.model_type,
                "precision": precision,
                "parameters": params,
                "hf_dir": str(hf_dir.relative_to(WORK)),
                "model_dir": str(out_dir.relative_to(WORK)),
                "folder_bytes": data_bytes,
                **info,
            }
            manifest_path.write_text(json.dumps(manifest, indent=1))
            peak_gib = info["builder_peak_rss_bytes"] / 2**30
            _log(
                f"built {key}: {info['seconds']} s, builder peak {peak_gib:.2f} GiB, "
                f"folder {data_bytes / 2**20:.0f} MiB"
            )


if __name__ == "__main__":
    main()
