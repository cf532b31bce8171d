"""Build the wider reference set (v2) of random-weight onnxruntime-genai models (offline).

Commands (repository root; environments from ``setup_envs_v2.sh``)::

    export BENCH_WORK=/work/bench-work
    $BENCH_WORK/venv-ort132/bin/python benchmarks/ort_bench/build_models_v2.py            # all
    $BENCH_WORK/venv-ort132/bin/python benchmarks/ort_bench/build_models_v2.py --only gemma2
    $BENCH_WORK/venv-ort132/bin/python benchmarks/ort_bench/build_models_v2.py --list     # plan only

For each model in ``MODELS`` this script

1. creates a random-weight Hugging Face checkpoint (``AutoModelForCausalLM.from_config``, seeded
   by ``zlib.crc32(model_id)``; biases and norm weights randomized because the builder drops
   all-zero biases), plus a word-level tokenizer with exactly ``vocab_size`` entries (the builder
   refuses a folder without one);
2. runs the onnxruntime-genai model builder once per build in ``Model.builds``::

       HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 python -m onnxruntime_genai.models.builder \\
           -i <hf_dir> -o <onnx_dir> -p <precision> -e cpu -c <cache> [--extra_options k=v ...]

   (Gemma-3 and SmolLM3 go through ``builder_compat.py``, same arguments; see that file);
3. reads the built graph without its weights (``onnx.load(load_external_data=False)``) and records
   what the memory model needs: initializer bytes by consuming operator, MatMulNBits attributes,
   KV-cache input dtypes and shapes.

Everything heavy lands under ``$BENCH_WORK/models_v2`` (outside the repository): ``hf/<model>``,
``onnx/<build>``, ``kvscales/<model>.json`` and ``manifest.json`` (one entry per build). A build
with a manifest entry and a ``genai_config.json`` is skipped. Builds run one at a time (the
machine has 2 cores and is shared).

The builds were made once, with the onnxruntime 1.32.0 environment. The builder (onnxruntime-genai
0.18.0) writes byte-identical files under onnxruntime 1.31.1 (checked on a small Llama int4 build:
same md5 for model.onnx and model.onnx.data), so the same folders are measured with both runtimes.

The fit/holdout split of the models is fixed here (``split_of``) and described in the README.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
WORK = Path(os.environ.get("BENCH_WORK", REPO / "bench-work"))
ROOT = WORK / "models_v2"
MAX_POSITIONS = 16384  # largest max_length measured; genai refuses max_length > context_length


@dataclass(frozen=True)
class Build:
    """One builder run: a name suffix, the precision and the extra options."""

    suffix: str
    precision: str
    extra: dict[str, str] = field(default_factory=dict)


FP32 = Build("fp32", "fp32")
INT8 = Build("int8", "int8")
INT8_ACC1 = Build("int8-acc1", "int8", {"accuracy_level": "1"})
INT4 = Build("int4", "int4")  # builder defaults on cpu: block_size 32, accuracy_level 4
INT4_B128 = Build("int4-b128", "int4", {"block_size": "128"})
INT4_ACC1 = Build("int4-acc1", "int4", {"accuracy_level": "1"})
INT4_B128_ACC1 = Build("int4-b128-acc1", "int4", {"block_size": "128", "accuracy_level": "1"})
# Quantized KV cache on the CPU EP: per-tensor int8 / int4 (fp8 builds but has no CPU kernel;
# per-token needs CUDA PagedAttention). Static schemes need a scale file: we write 0.05 per layer
# (scale values do not change memory).
INT4_KV8 = Build("int4-kv8", "int4", {"kv_cache_quant_scheme": "int8_per_tensor"})
INT4_KV4 = Build("int4-kv4", "int4", {"kv_cache_quant_scheme": "int4_per_tensor"})


@dataclass(frozen=True)
class Model:
    """One random-weight HF checkpoint and the builds made from it."""

    model_id: str
    family: str  # for the hold-out rule: llama, qwen, phi, gemma, other
    architecture: str
    model_type: str
    config: dict[str, Any]
    builds: tuple[Build, ...]
    compat: bool = False  # build through builder_compat.py (Gemma-3 config, SmolLM3 NoPE layers)


def _layers(pattern: list[str], count: int) -> list[str]:
    return [pattern[i % len(pattern)] for i in range(count)]


MODELS: tuple[Model, ...] = (
    # ---- llama family: Llama-style decoders (RMSNorm, SwiGLU) built by LlamaModel or a subclass
    Model(
        "llama-gqa",
        "llama",
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
        (FP32, INT8, INT8_ACC1, INT4, INT4_B128, INT4_ACC1, INT4_B128_ACC1, INT4_KV8, INT4_KV4),
    ),
    Model(
        "llama-deep-mha",
        "llama",
        "LlamaForCausalLM",
        "llama",
        {
            "hidden_size": 512,
            "intermediate_size": 1536,
            "num_hidden_layers": 24,
            "num_attention_heads": 8,
            "num_key_value_heads": 8,
            "vocab_size": 32000,
            "tie_word_embeddings": False,
        },
        (FP32, INT8_ACC1, INT4, INT4_B128),
    ),
    Model(
        "llama-wide",
        "llama",
        "LlamaForCausalLM",
        "llama",
        {
            "hidden_size": 2048,
            "intermediate_size": 5632,
            "num_hidden_layers": 4,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "vocab_size": 32000,
            "tie_word_embeddings": False,
        },
        (FP32, INT8, INT4, INT4_ACC1),
    ),
    Model(
        "llama3-tied",
        "llama",
        "LlamaForCausalLM",
        "llama",
        {
            "hidden_size": 768,
            "intermediate_size": 2048,
            "num_hidden_layers": 6,
            "num_attention_heads": 12,
            "num_key_value_heads": 4,
            "vocab_size": 128256,
            "tie_word_embeddings": True,
            "rope_theta": 500000.0,
        },
        (FP32, INT8, INT4),
    ),
    Model(
        "mistral",
        "llama",
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
        (INT8, INT4, INT4_ACC1),
    ),
    Model(
        "granite",
        "llama",
        "GraniteForCausalLM",
        "granite",
        {
            "hidden_size": 1024,
            "intermediate_size": 2816,
            "num_hidden_layers": 10,
            "num_attention_heads": 16,
            "num_key_value_heads": 4,
            "vocab_size": 49152,
            "tie_word_embeddings": True,
            "embedding_multiplier": 12.0,
            "logits_scaling": 8.0,
            "residual_multiplier": 0.22,
            "attention_multiplier": 0.015625,
        },
        (FP32, INT4),
    ),
    Model(
        "smollm3",
        "llama",
        "SmolLM3ForCausalLM",
        "smollm3",
        {
            "hidden_size": 768,
            "intermediate_size": 2048,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "num_key_value_heads": 4,
            "vocab_size": 128256,
            "tie_word_embeddings": True,
            "no_rope_layer_interval": 4,
            "no_rope_layers": [0 if (i + 1) % 4 == 0 else 1 for i in range(12)],
        },
        (INT8, INT4),
        compat=True,
    ),
    Model(
        "ernie",
        "llama",
        "Ernie4_5ForCausalLM",
        "ernie4_5",
        {
            "hidden_size": 768,
            "intermediate_size": 2048,
            "num_hidden_layers": 10,
            "num_attention_heads": 12,
            "num_key_value_heads": 4,
            "head_dim": 64,
            "vocab_size": 103424,
            "tie_word_embeddings": True,
            "use_bias": False,
        },
        (INT8, INT4),
    ),
    Model(
        "hunyuan",
        "llama",
        "HunYuanDenseV1ForCausalLM",
        "hunyuan_v1_dense",
        {
            "hidden_size": 1024,
            "intermediate_size": 2816,
            "num_hidden_layers": 8,
            "num_attention_heads": 16,
            "num_key_value_heads": 4,
            "head_dim": 64,
            "vocab_size": 120818,
            "tie_word_embeddings": True,
        },
        (FP32, INT4),
    ),
    # ---- qwen family
    Model(
        "qwen2-tied",
        "qwen",
        "Qwen2ForCausalLM",
        "qwen2",
        {
            "hidden_size": 896,
            "intermediate_size": 4864,
            "num_hidden_layers": 6,
            "num_attention_heads": 14,
            "num_key_value_heads": 2,
            "vocab_size": 151936,
            "tie_word_embeddings": True,
            "use_sliding_window": False,
            "sliding_window": None,
        },
        (FP32, INT8, INT4, INT4_B128),
    ),
    Model(
        "qwen2-mha-untied",
        "qwen",
        "Qwen2ForCausalLM",
        "qwen2",
        {
            "hidden_size": 512,
            "intermediate_size": 1408,
            "num_hidden_layers": 16,
            "num_attention_heads": 8,
            "num_key_value_heads": 8,
            "vocab_size": 151936,
            "tie_word_embeddings": False,
            "use_sliding_window": False,
            "sliding_window": None,
        },
        (FP32, INT4),
    ),
    Model(
        "qwen3-tied",
        "qwen",
        "Qwen3ForCausalLM",
        "qwen3",
        {
            "hidden_size": 640,
            "intermediate_size": 2048,
            "num_hidden_layers": 12,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "vocab_size": 151936,
            "tie_word_embeddings": True,
            "use_sliding_window": False,
            "sliding_window": None,
        },
        (INT8, INT4, INT4_ACC1, INT4_KV8, INT4_KV4),
    ),
    Model(
        "qwen3-wide",
        "qwen",
        "Qwen3ForCausalLM",
        "qwen3",
        {
            "hidden_size": 1024,
            "intermediate_size": 3072,
            "num_hidden_layers": 8,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
            "head_dim": 128,
            "vocab_size": 151936,
            "tie_word_embeddings": True,
            "use_sliding_window": False,
            "sliding_window": None,
        },
        (FP32, INT4),
    ),
    # ---- phi family
    Model(
        "phi3-mha",
        "phi",
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
        },
        (FP32, INT8, INT4, INT4_B128_ACC1),
    ),
    Model(
        "phi3-longrope",
        "phi",
        "Phi3ForCausalLM",
        "phi3",
        {
            "hidden_size": 768,
            "intermediate_size": 2048,
            "num_hidden_layers": 10,
            "num_attention_heads": 12,
            "num_key_value_heads": 4,
            "vocab_size": 32064,
            "original_max_position_embeddings": 4096,
            "sliding_window": None,
            "tie_word_embeddings": False,
            # "type" as well as "rope_type": Phi-3 long-context configs on the Hub carry the legacy
            # rope_scaling.type key, and the 0.18.0 builder (builders/phi.py) reads both.
            "rope_parameters": {
                "rope_type": "longrope",
                "type": "longrope",
                "rope_theta": 10000.0,
                "short_factor": [1.0 + 0.01 * i for i in range(32)],
                "long_factor": [1.0 + 0.1 * i for i in range(32)],
            },
        },
        (FP32, INT4),
    ),
    # Phi-2 layout: head_dim 80 with partial rotary 0.4 (rotary dim 32). A head_dim of 64 builds
    # but fails at run time: GroupQueryAttention needs cos_cache dim 1 (rotary/2) to be a multiple
    # of 8 ("cos_cache dimension 1 must be <= head_size / 2 and a multiple of 8").
    Model(
        "phi2",
        "phi",
        "PhiForCausalLM",
        "phi",
        {
            "hidden_size": 1280,
            "intermediate_size": 5120,
            "num_hidden_layers": 8,
            "num_attention_heads": 16,
            "num_key_value_heads": 16,
            "vocab_size": 51200,
            "partial_rotary_factor": 0.4,
            "tie_word_embeddings": False,
        },
        (FP32, INT8, INT4),
    ),
    # ---- gemma family
    Model(
        "gemma",
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
        (FP32, INT8, INT4),
    ),
    # genai needs max_length >= sliding_window on CPU ("KV cache capacity (256) must be at least
    # local_window_size (512)"), so the windows stay <= the smallest max_length measured (1024).
    Model(
        "gemma2",
        "gemma",
        "Gemma2ForCausalLM",
        "gemma2",
        {
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 8,
            "num_attention_heads": 8,
            "num_key_value_heads": 4,
            "head_dim": 128,
            "vocab_size": 256000,
            "tie_word_embeddings": True,
            "sliding_window": 1024,
            "query_pre_attn_scalar": 128,
            "layer_types": _layers(["sliding_attention", "full_attention"], 8),
        },
        (FP32, INT4),
    ),
    Model(
        "gemma3-270m",
        "gemma",
        "Gemma3ForCausalLM",
        "gemma3_text",
        {
            "hidden_size": 640,
            "intermediate_size": 2048,
            "num_hidden_layers": 18,
            "num_attention_heads": 4,
            "num_key_value_heads": 1,
            "head_dim": 256,
            "vocab_size": 262144,
            "tie_word_embeddings": True,
            "sliding_window": 512,
            "query_pre_attn_scalar": 256,
            "layer_types": _layers(["sliding_attention"] * 5 + ["full_attention"], 18),
        },
        (FP32, INT8, INT4, INT4_KV8),
        compat=True,
    ),
    Model(
        "gemma3-wide",
        "gemma",
        "Gemma3ForCausalLM",
        "gemma3_text",
        {
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "num_hidden_layers": 6,
            "num_attention_heads": 8,
            "num_key_value_heads": 2,
            "head_dim": 256,
            "vocab_size": 262144,
            "tie_word_embeddings": True,
            "sliding_window": 1024,
            "query_pre_attn_scalar": 256,
            "layer_types": _layers(["sliding_attention"] * 5 + ["full_attention"], 6),
        },
        (INT4, INT4_B128),
        compat=True,
    ),
    # ---- other builders: non-parametric LayerNorm (OLMo), relu2 + LayerNorm1P (Nemotron),
    # hybrid short-conv + attention (LFM2)
    Model(
        "olmo",
        "other",
        "OlmoForCausalLM",
        "olmo",
        {
            "hidden_size": 1024,
            "intermediate_size": 2816,
            "num_hidden_layers": 8,
            "num_attention_heads": 16,
            "num_key_value_heads": 16,
            "vocab_size": 50304,
            "tie_word_embeddings": False,
        },
        (FP32, INT4),
    ),
    Model(
        "nemotron",
        "other",
        "NemotronForCausalLM",
        "nemotron",
        {
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "num_hidden_layers": 8,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
            "head_dim": 64,
            "vocab_size": 64000,
            "tie_word_embeddings": False,
            "partial_rotary_factor": 0.5,
        },
        (FP32, INT4),
    ),
    Model(
        "lfm2",
        "other",
        "Lfm2ForCausalLM",
        "lfm2",
        {
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "block_ff_dim": 4096,
            "num_hidden_layers": 10,
            "num_attention_heads": 16,
            "num_key_value_heads": 8,
            "vocab_size": 65536,
            "tie_word_embeddings": True,
            "layer_types": [
                "conv",
                "conv",
                "full_attention",
                "conv",
                "conv",
                "full_attention",
                "conv",
                "conv",
                "full_attention",
                "conv",
            ],
            "full_attn_idxs": [2, 5, 8],
        },
        (FP32, INT4),
    ),
)


def split_of(model: Model) -> str:
    """The fixed hold-out rule (README, "Fit / holdout split"): within each family, models sorted
    by id; the 2nd, 5th, 8th ... (index % 3 == 1) are ``holdout``, the rest ``fit``."""
    ids = sorted(m.model_id for m in MODELS if m.family == model.family)
    return "holdout" if ids.index(model.model_id) % 3 == 1 else "fit"


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


def make_checkpoint(model: Model, out_dir: Path) -> dict[str, Any]:
    """Create the random-weight checkpoint; returns the saved config as a dict."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    info_path = out_dir / "planner_bench.json"
    if info_path.exists() and (out_dir / "tokenizer.json").exists():
        return json.loads(info_path.read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "max_position_embeddings": MAX_POSITIONS,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 0,
        "architectures": [model.architecture],
        **model.config,
    }
    config = AutoConfig.for_model(model.model_type, **settings)
    torch.manual_seed(zlib.crc32(model.model_id.encode()))
    hf = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with torch.no_grad():
        for name, param in hf.named_parameters():
            if name.endswith("bias"):
                param.normal_(0.0, 0.02)
            elif "norm" in name:
                param.add_(torch.randn_like(param) * 0.02)
    params = sum(p.numel() for p in hf.parameters())
    hf.save_pretrained(out_dir, safe_serialization=True)
    make_tokenizer(config.vocab_size, out_dir)
    info = {"parameters": params, "config": json.loads((out_dir / "config.json").read_text())}
    info_path.write_text(json.dumps(info, indent=1))
    _log(f"{model.model_id}: checkpoint with {params / 1e6:.1f} M parameters")
    return info


def kv_scale_file(model: Model, layers: int) -> Path:
    path = ROOT / "kvscales" / f"{model.model_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"scales": {"k_scales": [0.05] * layers, "v_scales": [0.05] * layers}})
    )
    return path


def run_builder(
    model: Model, build: Build, hf_dir: Path, out_dir: Path, extra: dict[str, str]
) -> dict[str, Any]:
    """Run the builder in a child process; returns the command, seconds and the child's peak RSS."""
    entry = (
        [str(HERE / "builder_compat.py")]
        if model.compat
        else ["-m", "onnxruntime_genai.models.builder"]
    )
    cmd = [
        sys.executable,
        *entry,
        "-i",
        str(hf_dir),
        "-o",
        str(out_dir),
        "-p",
        build.precision,
        "-e",
        "cpu",
        "-c",
        str(ROOT / "cache"),
    ]
    if extra:
        cmd += ["--extra_options", *(f"{k}={v}" for k, v in extra.items())]
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
        tail = log_path.read_text(errors="replace").splitlines()[-12:]
        raise RuntimeError(f"builder failed ({code}) for {out_dir.name}:\n" + "\n".join(tail))
    shown = [c.replace(str(WORK), "$BENCH_WORK").replace(str(REPO) + "/", "") for c in cmd]
    shown[0] = "python"
    return {
        "command": " ".join(shown),
        "seconds": round(seconds, 1),
        "builder_peak_rss_bytes": usage.ru_maxrss * 1024,
    }


_ELEM_BYTES = {
    1: 4,
    2: 1,
    3: 1,
    4: 2,
    5: 2,
    6: 4,
    7: 8,
    9: 1,
    10: 2,
    11: 8,
    16: 2,
    17: 1,
    21: 0.5,
    22: 0.5,
}


def graph_stats(onnx_path: Path) -> dict[str, Any]:
    """Initializer bytes by consuming op, quantization attributes and KV inputs (no weights read)."""
    import onnx

    model = onnx.load(str(onnx_path), load_external_data=False)
    graph = model.graph
    sizes: dict[str, int] = {}
    external = 0
    for init in graph.initializer:
        length = None
        for entry in init.external_data:
            if entry.key == "length":
                length = int(entry.value)
        if length is None:
            count = 1
            for d in init.dims:
                count *= d
            length = len(init.raw_data) or int(count * _ELEM_BYTES.get(init.data_type, 4))
        else:
            external += length
        sizes[init.name] = length
    consumers: dict[str, list[tuple[str, int]]] = {}
    ops = Counter()
    nbits = Counter()
    for node in graph.node:
        ops[node.op_type] += 1
        if node.op_type == "MatMulNBits":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            nbits[
                f"bits={attrs.get('bits')},block={attrs.get('block_size')},"
                f"acc={attrs.get('accuracy_level', 0)}"
            ] += 1
        for slot, name in enumerate(node.input):
            if name in sizes:
                consumers.setdefault(name, []).append((node.op_type, slot))
    by_op: Counter[str] = Counter()
    shared = []
    for name, size in sizes.items():
        users = consumers.get(name, [])
        kinds = sorted({f"{op}[{slot}]" for op, slot in users})
        key = "+".join(kinds) if kinds else "unused"
        by_op[key] += size
        if len(kinds) > 1 and size > 1 << 20:
            shared.append({"name": name, "bytes": size, "consumers": kinds})
    largest = sorted(sizes.items(), key=lambda kv: -kv[1])[:3]
    kv_inputs = []
    for inp in graph.input:
        if (inp.name.startswith("past_key_values") and inp.name.endswith(".0.key")) or (
            inp.name.startswith("past") and ".0." in inp.name
        ):
            t = inp.type.tensor_type
            kv_inputs.append(
                {
                    "name": inp.name,
                    "elem_type": onnx.TensorProto.DataType.Name(t.elem_type),
                    "shape": [d.dim_value or d.dim_param for d in t.shape.dim],
                }
            )
    kv_dtypes = Counter(
        onnx.TensorProto.DataType.Name(i.type.tensor_type.elem_type)
        for i in graph.input
        if i.name.startswith("past_key_values")
    )
    return {
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "node_counts": dict(sorted(ops.items())),
        "matmulnbits": dict(nbits),
        "initializer_bytes_total": sum(sizes.values()),
        "initializer_bytes_external": external,
        "initializer_bytes_by_consumer": dict(sorted(by_op.items(), key=lambda kv: -kv[1])),
        "shared_initializers": shared,
        "largest_initializers": [{"name": n, "bytes": b} for n, b in largest],
        "kv_inputs_layer0": kv_inputs,
        "kv_input_dtypes": dict(kv_dtypes),
        "num_kv_inputs": sum(kv_dtypes.values()),
    }


def hf_dims(config: dict[str, Any]) -> dict[str, Any]:
    heads = config.get("num_attention_heads")
    head_dim = config.get("head_dim") or (config["hidden_size"] // heads if heads else None)
    layer_types = config.get("layer_types")
    return {
        "hidden_size": config.get("hidden_size"),
        "intermediate_size": config.get("intermediate_size"),
        "num_hidden_layers": config.get("num_hidden_layers"),
        "num_attention_heads": heads,
        "num_key_value_heads": config.get("num_key_value_heads") or heads,
        "head_dim": head_dim,
        "vocab_size": config.get("vocab_size"),
        "max_position_embeddings": config.get("max_position_embeddings"),
        "tie_word_embeddings": bool(config.get("tie_word_embeddings")),
        "sliding_window": config.get("sliding_window"),
        "layer_types": dict(Counter(layer_types)) if layer_types else None,
        "partial_rotary_factor": config.get("partial_rotary_factor")
        or (config.get("rope_parameters") or {}).get("partial_rotary_factor"),
        "hidden_act": config.get("hidden_act") or config.get("hidden_activation"),
    }


def build_set(
    models: tuple[Model, ...], only: list[str] | None, split: Callable[[str], str]
) -> None:
    """Checkpoints and builds of ``models`` under ``ROOT`` (the companion sets' scripts,
    build_moe.py and build_large.py, point ``ROOT`` at their own folder): a build with a
    genai_config.json is kept; no manifest or graph statistics (those are the v2 set's)."""
    for model in models:
        if only and model.model_id not in only:
            continue
        hf = ROOT / "hf" / model.model_id
        make_checkpoint(model, hf)
        for build in model.builds:
            out = ROOT / "onnx" / f"{model.model_id}-{build.suffix}"
            if (out / "genai_config.json").exists():
                print(f"{out.name}: built ({split(model.model_id)})")
                continue
            result = run_builder(model, build, hf, out, dict(build.extra))
            print(f"{out.name}: {result['seconds']} s ({split(model.model_id)})")


def build_set_cli(models: tuple[Model, ...], split: Callable[[str], str], description: str) -> int:
    """``--only ID ...`` then ``build_set``: the companion sets' command line."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--only", nargs="*", default=None, help="model ids to build")
    build_set(models, ap.parse_args().only, split)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="model ids or build ids to build")
    parser.add_argument("--list", action="store_true", help="print the plan and exit")
    parser.add_argument(
        "--restat",
        action="store_true",
        help="recompute the graph statistics of every build in the manifest",
    )
    parser.add_argument(
        "--keep-weights",
        action="store_true",
        help="keep the HF safetensors after all builds of a model succeeded "
        "(default: delete them to save disk; they are re-created "
        "deterministically from the seed when needed)",
    )
    args = parser.parse_args()

    if args.list:
        for m in MODELS:
            print(
                f"{m.model_id:18s} {m.family:6s} {split_of(m):8s} "
                + " ".join(b.suffix for b in m.builds)
            )
        print(
            f"{len(MODELS)} models, {sum(len(m.builds) for m in MODELS)} builds, "
            f"{sum(split_of(m) == 'holdout' for m in MODELS)} holdout models"
        )
        return

    import onnxruntime
    import onnxruntime_genai

    manifest_path = ROOT / "manifest.json"
    manifest: dict[str, Any] = (
        json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    )
    if args.restat:
        for entry in manifest.values():
            entry["graph"] = graph_stats(WORK / entry["model_dir"] / "model.onnx")
        manifest_path.write_text(json.dumps(manifest, indent=1))
        _log(f"recomputed graph statistics of {len(manifest)} builds")
        return
    failures = []
    for model in MODELS:
        wanted = [
            b
            for b in model.builds
            if not args.only
            or model.model_id in args.only
            or f"{model.model_id}-{b.suffix}" in args.only
        ]
        wanted = [
            b
            for b in wanted
            if not (
                (ROOT / "onnx" / f"{model.model_id}-{b.suffix}" / "genai_config.json").exists()
                and f"{model.model_id}-{b.suffix}" in manifest
            )
        ]
        if not wanted:
            continue
        hf_dir = ROOT / "hf" / model.model_id
        info = make_checkpoint(model, hf_dir)
        dims = hf_dims(info["config"])
        for build in wanted:
            key = f"{model.model_id}-{build.suffix}"
            out_dir = ROOT / "onnx" / key
            if (out_dir / "genai_config.json").exists() and key in manifest:
                continue
            extra = dict(build.extra)
            if "kv_cache_quant_scheme" in extra:
                extra["kv_cache_scale_file"] = str(kv_scale_file(model, dims["num_hidden_layers"]))
            _log(f"building {key}")
            try:
                run = run_builder(model, build, hf_dir, out_dir, extra)
            except RuntimeError as exc:
                _log(str(exc))
                failures.append(key)
                continue
            files = {p.name: p.stat().st_size for p in sorted(out_dir.iterdir()) if p.is_file()}
            stats = graph_stats(out_dir / "model.onnx")
            quant = {"block_size": None, "accuracy_level": None, "bits": None}
            if build.precision in ("int4", "int8"):
                quant = {
                    "block_size": int(build.extra.get("block_size", 32)),
                    "accuracy_level": int(build.extra.get("accuracy_level", 4)),
                    "bits": 4 if build.precision == "int4" else 8,
                }
            manifest[key] = {
                "build_id": key,
                "model_id": model.model_id,
                "family": model.family,
                "split": split_of(model),
                "architecture": model.architecture,
                "model_type": model.model_type,
                "precision": build.precision,
                "variant": build.suffix,
                "extra_options": {k: v for k, v in extra.items() if k != "kv_cache_scale_file"},
                **quant,
                "kv_cache_quant_scheme": build.extra.get("kv_cache_quant_scheme", "none"),
                "tied": dims["tie_word_embeddings"],
                "hf_config": dims,
                "parameters": info["parameters"],
                "hf_dir": str(hf_dir.relative_to(WORK)),
                "model_dir": str(out_dir.relative_to(WORK)),
                "folder_bytes": sum(files.values()),
                "files": files,
                "builder": "onnxruntime_genai.models.builder"
                + (" via builder_compat.py" if model.compat else ""),
                "builder_version": onnxruntime_genai.__version__,
                "builder_onnxruntime_version": onnxruntime.__version__,
                "graph": stats,
                **run,
            }
            manifest_path.write_text(json.dumps(manifest, indent=1))
            _log(
                f"built {key}: {run['seconds']} s, builder peak "
                f"{run['builder_peak_rss_bytes'] / 2**30:.2f} GiB, folder "
                f"{sum(files.values()) / 2**20:.0f} MiB, MatMulNBits {stats['matmulnbits']}"
            )
        done = all(f"{model.model_id}-{b.suffix}" in manifest for b in model.builds)
        if done and not args.keep_weights:
            for weights in hf_dir.glob("*.safetensors"):
                weights.unlink()
            (hf_dir / "planner_bench.json").unlink(missing_ok=True)  # forces a rebuild if needed
    if failures:
        _log(f"FAILED: {failures}")


if __name__ == "__main__":
    main()
