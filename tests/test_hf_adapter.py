"""Hugging Face folder adapter: config.json families, safetensors headers, GPTQ/AWQ, bad input.

Safetensors files are written byte-exactly per the format (8-byte little-endian header length,
JSON header padded with spaces to 8 bytes as the safetensors library does, then the data), and
cross-checked against the ``safetensors`` package when it is installed. Family configs are the
real Hugging Face configs MLC ships as presets (mlc-llm ``model/model_preset.py``).
"""

from __future__ import annotations

import json
import os
import struct
from math import prod
from pathlib import Path
from typing import Any

import pytest

from planner.errors import ArtifactFormatError, UnsafeArtifactError
from planner.registry import choose
from planner_adapters._safetensors import MAX_HEADER_BYTES, read_safetensors_header
from planner_adapters.hf_adapter import HfAdapter
from planner_adapters.hf_config import spec_from_hf_config
from planner_adapters.mlc_adapter import MlcAdapter

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ST_BYTES = {"F32": 4, "F16": 2, "BF16": 2, "I32": 4, "U8": 1, "I8": 1, "F8_E4M3": 1, "I64": 8}


# --- writers ------------------------------------------------------------------------------


def st_bytes(
    tensors: dict[str, tuple[str, list[int]]],
    metadata: dict[str, str] | None = None,
    *,
    header_patch: dict[str, Any] | None = None,
) -> bytes:
    """A safetensors file: contiguous data in insertion order, zero-filled."""
    header: dict[str, Any] = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = prod(shape) * ST_BYTES[dtype]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    header.update(header_patch or {})
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((-len(raw)) % 8)
    return struct.pack("<Q", len(raw)) + raw + bytes(offset)


def write_st(path: Path, tensors: dict[str, tuple[str, list[int]]], **kw: Any) -> None:
    path.write_bytes(st_bytes(tensors, **kw))


def llama_tensors(
    cfg: dict[str, Any], dtype: str = "BF16", norm: str = "F32"
) -> dict[str, tuple[str, list[int]]]:
    """HF Llama parameter names and shapes for ``cfg``."""
    h, inter, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    hd = cfg.get("head_dim") or h // cfg["num_attention_heads"]
    q, kv = cfg["num_attention_heads"] * hd, cfg["num_key_value_heads"] * hd
    out: dict[str, tuple[str, list[int]]] = {"model.embed_tokens.weight": (dtype, [v, h])}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}"
        out |= {
            f"{p}.self_attn.q_proj.weight": (dtype, [q, h]),
            f"{p}.self_attn.k_proj.weight": (dtype, [kv, h]),
            f"{p}.self_attn.v_proj.weight": (dtype, [kv, h]),
            f"{p}.self_attn.o_proj.weight": (dtype, [h, q]),
            f"{p}.mlp.gate_proj.weight": (dtype, [inter, h]),
            f"{p}.mlp.up_proj.weight": (dtype, [inter, h]),
            f"{p}.mlp.down_proj.weight": (dtype, [h, inter]),
            f"{p}.input_layernorm.weight": (norm, [h]),
            f"{p}.post_attention_layernorm.weight": (norm, [h]),
        }
    out["model.norm.weight"] = (norm, [h])
    if not cfg.get("tie_word_embeddings"):
        out["lm_head.weight"] = (dtype, [v, h])
    return out


TINY: dict[str, Any] = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_act": "silu",
    "hidden_size": 64,
    "intermediate_size": 160,
    "max_position_embeddings": 2048,
    "model_type": "llama",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "vocab_size": 320,
}


def make_folder(tmp: Path, cfg: dict[str, Any]) -> Path:
    folder = tmp / "model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(cfg, indent=2), encoding="utf-8")
    return folder


def expected_bytes(tensors: dict[str, tuple[str, list[int]]]) -> dict[str, int]:
    names = {"BF16": "bfloat16", "F32": "float32", "F16": "float16", "I32": "int32"}
    out: dict[str, int] = {}
    for dtype, shape in tensors.values():
        out[names[dtype]] = out.get(names[dtype], 0) + prod(shape) * ST_BYTES[dtype]
    return out


# --- configs of the families MLC supports -------------------------------------------------

PRESETS: dict[str, dict[str, Any]] = {
    "llama3_2_1b": json.loads((EXAMPLES / "hf-llama-3.2-1b" / "config.json").read_text()),
    "mistral_7b_v03": {
        "architectures": ["MistralForCausalLM"],
        "hidden_act": "silu",
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "max_position_embeddings": 32768,
        "model_type": "mistral",
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": 8,
        "rms_norm_eps": 1e-05,
        "rope_theta": 1000000.0,
        "sliding_window": None,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "vocab_size": 32768,
    },
    "mistral_7b_v01": {
        "architectures": ["MistralForCausalLM"],
        "hidden_act": "silu",
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "max_position_embeddings": 32768,
        "model_type": "mistral",
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": 8,
        "rms_norm_eps": 1e-05,
        "rope_theta": 10000.0,
        "sliding_window": 4096,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "vocab_size": 32000,
    },
    "qwen2_0_5b": {
        "architectures": ["Qwen2ForCausalLM"],
        "hidden_act": "silu",
        "hidden_size": 896,
        "intermediate_size": 4864,
        "max_position_embeddings": 32768,
        "max_window_layers": 24,
        "model_type": "qwen2",
        "num_attention_heads": 14,
        "num_hidden_layers": 24,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06,
        "rope_theta": 1000000.0,
        "sliding_window": 32768,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "use_sliding_window": False,
        "vocab_size": 151936,
    },
    "qwen3_0.6b": {
        "architectures": ["Qwen3ForCausalLM"],
        "attention_bias": False,
        "head_dim": 128,
        "hidden_act": "silu",
        "hidden_size": 1024,
        "intermediate_size": 3072,
        "max_position_embeddings": 40960,
        "model_type": "qwen3",
        "num_attention_heads": 16,
        "num_hidden_layers": 28,
        "num_key_value_heads": 8,
        "rms_norm_eps": 1e-06,
        "rope_theta": 1000000,
        "sliding_window": None,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "use_sliding_window": False,
        "vocab_size": 151936,
    },
    "phi-3_5": {
        "architectures": ["Phi3ForCausalLM"],
        "hidden_act": "silu",
        "hidden_size": 3072,
        "intermediate_size": 8192,
        "max_position_embeddings": 131072,
        "model_type": "phi3",
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": 32,
        "original_max_position_embeddings": 4096,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {"type": "longrope"},
        "rope_theta": 10000.0,
        "sliding_window": 262144,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "vocab_size": 32064,
    },
    "gemma_2b": {
        "architectures": ["GemmaForCausalLM"],
        "head_dim": 256,
        "hidden_act": "gelu",
        "hidden_size": 2048,
        "intermediate_size": 16384,
        "max_position_embeddings": 8192,
        "model_type": "gemma",
        "num_attention_heads": 8,
        "num_hidden_layers": 18,
        "num_key_value_heads": 1,
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000.0,
        "torch_dtype": "bfloat16",
        "vocab_size": 256000,
    },
    "gemma2_2b": {
        "architectures": ["Gemma2ForCausalLM"],
        "head_dim": 256,
        "hidden_activation": "gelu_pytorch_tanh",
        "hidden_size": 2304,
        "intermediate_size": 9216,
        "max_position_embeddings": 8192,
        "model_type": "gemma2",
        "num_attention_heads": 8,
        "num_hidden_layers": 26,
        "num_key_value_heads": 4,
        "query_pre_attn_scalar": 256,
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000.0,
        "sliding_window": 4096,
        "torch_dtype": "bfloat16",
        "vocab_size": 256000,
    },
    "gemma3_1b_it": {
        "architectures": ["Gemma3ForCausalLM"],
        "head_dim": 256,
        "hidden_activation": "gelu_pytorch_tanh",
        "hidden_size": 1152,
        "intermediate_size": 6912,
        "max_position_embeddings": 32768,
        "model_type": "gemma3_text",
        "num_attention_heads": 4,
        "num_hidden_layers": 26,
        "num_key_value_heads": 1,
        "query_pre_attn_scalar": 256,
        "rms_norm_eps": 1e-06,
        "rope_theta": 1000000,
        "sliding_window": 512,
        "sliding_window_pattern": 6,
        "torch_dtype": "bfloat16",
        "vocab_size": 262144,
    },
    "olmo2_7b": {
        "architectures": ["Olmo2ForCausalLM"],
        "hidden_act": "silu",
        "hidden_size": 4096,
        "intermediate_size": 11008,
        "max_position_embeddings": 4096,
        "model_type": "olmo2",
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": 32,
        "rms_norm_eps": 1e-06,
        "rope_theta": 500000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "vocab_size": 100352,
    },
    "stablelm-2-zephyr-1_6b": {
        "architectures": ["StableLmForCausalLM"],
        "hidden_act": "silu",
        "hidden_size": 2048,
        "intermediate_size": 5632,
        "max_position_embeddings": 4096,
        "model_type": "stablelm",
        "layer_norm_eps": 1e-05,
        "num_attention_heads": 32,
        "num_hidden_layers": 24,
        "num_key_value_heads": 32,
        "partial_rotary_factor": 0.25,
        "rope_theta": 10000,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "use_qkv_bias": True,
        "vocab_size": 100352,
    },
    "redpajama_3b_v1": {
        "architectures": ["GPTNeoXForCausalLM"],
        "hidden_act": "gelu",
        "hidden_size": 2560,
        "intermediate_size": 10240,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": 2048,
        "model_type": "gpt_neox",
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "rotary_emb_base": 10000,
        "rotary_pct": 1.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "use_parallel_residual": False,
        "vocab_size": 50432,
    },
    "phi-2": {
        "architectures": ["PhiForCausalLM"],
        "hidden_act": "gelu_new",
        "hidden_size": 2560,
        "intermediate_size": 10240,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": 2048,
        "model_type": "phi",
        "num_attention_heads": 32,
        "num_hidden_layers": 32,
        "num_key_value_heads": None,
        "partial_rotary_factor": 0.4,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "vocab_size": 51200,
    },
    "phi-2-msft": {
        "architectures": ["PhiForCausalLM"],
        "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-05,
        "model_type": "phi-msft",
        "n_embd": 2560,
        "n_head": 32,
        "n_head_kv": None,
        "n_inner": None,
        "n_layer": 32,
        "n_positions": 2048,
        "rotary_dim": 32,
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "vocab_size": 51200,
    },
}

# preset: (family, layers, hidden, heads, kv heads, head_dim, intermediate, vocab, tied, ctx)
EXPECTED: dict[str, tuple[str, int, int, int, int, int, int, int, bool, int]] = {
    "llama3_2_1b": ("llama", 16, 2048, 32, 8, 64, 8192, 128256, True, 131072),
    "mistral_7b_v03": ("mistral", 32, 4096, 32, 8, 128, 14336, 32768, False, 32768),
    "mistral_7b_v01": ("mistral", 32, 4096, 32, 8, 128, 14336, 32000, False, 32768),
    "qwen2_0_5b": ("qwen2", 24, 896, 14, 2, 64, 4864, 151936, True, 32768),
    "qwen3_0.6b": ("qwen3", 28, 1024, 16, 8, 128, 3072, 151936, True, 40960),
    "phi-3_5": ("phi3", 32, 3072, 32, 32, 96, 8192, 32064, False, 131072),
    "gemma_2b": ("gemma", 18, 2048, 8, 1, 256, 16384, 256000, True, 8192),
    "gemma2_2b": ("gemma2", 26, 2304, 8, 4, 256, 9216, 256000, True, 8192),
    "gemma3_1b_it": ("gemma3", 26, 1152, 4, 1, 256, 6912, 262144, True, 32768),
    "olmo2_7b": ("olmo2", 32, 4096, 32, 32, 128, 11008, 100352, False, 4096),
    "stablelm-2-zephyr-1_6b": ("stablelm", 24, 2048, 32, 32, 64, 5632, 100352, False, 4096),
    "redpajama_3b_v1": ("gpt_neox", 32, 2560, 32, 32, 80, 10240, 50432, False, 2048),
    "phi-2": ("phi", 32, 2560, 32, 32, 80, 10240, 51200, False, 2048),
    "phi-2-msft": ("phi-msft", 32, 2560, 32, 32, 80, 10240, 51200, False, 2048),
}


@pytest.mark.parametrize("preset", sorted(EXPECTED))
def test_family_configs(tmp_path: Path, preset: str) -> None:
    spec = HfAdapter().read(make_folder(tmp_path, PRESETS[preset]))
    fam, layers, hidden, heads, kv, hd, inter, vocab, tied, ctx = EXPECTED[preset]
    got = (
        spec.architecture,
        spec.num_layers,
        spec.hidden_size,
        spec.num_attention_heads,
        spec.num_kv_heads,
        spec.head_dim,
        spec.intermediate_size,
        spec.vocab_size,
        spec.tie_word_embeddings,
        spec.max_context,
    )
    assert got == (fam, layers, hidden, heads, kv, hd, inter, vocab, tied, ctx)
    assert spec.format == "hf" and spec.adapter == "hf" and spec.weights is None
    for field in (
        "architecture",
        "num_layers",
        "hidden_size",
        "num_attention_heads",
        "num_kv_heads",
        "head_dim",
        "intermediate_size",
        "vocab_size",
        "tie_word_embeddings",
        "max_context",
        "layer_windows",
        "kv_dtype",
        "quantization",
        "weights",
        "name",
        "attention_sink",
    ):
        assert spec.source_of(field) is not None, field


def test_sliding_windows_per_family(tmp_path: Path) -> None:
    adapter = HfAdapter()

    def windows(preset: str) -> tuple[int | None, ...]:
        folder = tmp_path / preset
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(PRESETS[preset]))
        return adapter.read(folder).layer_windows

    assert windows("gemma2_2b") == tuple(4096 if i % 2 == 0 else None for i in range(26))
    assert windows("gemma3_1b_it") == tuple(None if (i + 1) % 6 == 0 else 512 for i in range(26))
    assert windows("mistral_7b_v01") == (4096,) * 32
    assert windows("mistral_7b_v03") == ()
    assert windows("qwen2_0_5b") == ()  # use_sliding_window false
    assert windows("phi-3_5") == ()  # 262144 ≥ max_position_embeddings


def test_family_specific_extras(tmp_path: Path) -> None:
    neox = HfAdapter().read(make_folder(tmp_path, PRESETS["redpajama_3b_v1"]))
    assert ("rotary_pct", "1.0") in neox.extra
    assert ("use_parallel_residual", "false") in neox.extra
    assert neox.source_of("num_kv_heads") is not None
    assert neox.source_of("num_kv_heads").origin.value == "derived"  # type: ignore[union-attr]
    phi = spec_from_hf_config(PRESETS["phi-2"], source="phi-2", path=Path("config.json"))
    assert ("partial_rotary_factor", "0.4") in phi.extra
    msft = spec_from_hf_config(PRESETS["phi-2-msft"], source="phi-2", path=Path("config.json"))
    assert ("rotary_dim", "32") in msft.extra
    assert msft.source_of("intermediate_size").origin.value == "assumed"  # type: ignore[union-attr]
    stablelm = spec_from_hf_config(
        PRESETS["stablelm-2-zephyr-1_6b"], source="s", path=Path("config.json")
    )
    assert ("use_qkv_bias", "true") in stablelm.extra


def test_gemma_rules(tmp_path: Path) -> None:
    no_head_dim = {k: v for k, v in PRESETS["gemma_2b"].items() if k != "head_dim"}
    with pytest.raises(ArtifactFormatError, match="head_dim") as err:
        HfAdapter().read(make_folder(tmp_path, no_head_dim))
    assert "config.json" in str(err.value)
    untied = {**PRESETS["gemma2_2b"], "tie_word_embeddings": False}
    spec = spec_from_hf_config(untied, source="g", path=Path("config.json"))
    assert spec.tie_word_embeddings is True
    assert any("always reuse" in n for n in spec.notes)


def test_text_config_nesting() -> None:
    multimodal = {
        "model_type": "gemma3",
        "text_config": {**PRESETS["gemma3_1b_it"]},
        "vision_config": {"hidden_size": 1152},
    }
    spec = spec_from_hf_config(multimodal, source="g", path=Path("config.json"))
    assert (spec.architecture, spec.num_layers, spec.vocab_size) == ("gemma3", 26, 262144)


# --- the committed example ----------------------------------------------------------------


def test_llama_example_config_only() -> None:
    folder = EXAMPLES / "hf-llama-3.2-1b"
    cfg = json.loads((folder / "config.json").read_text())
    spec = HfAdapter().read(folder)
    assert spec.num_layers == cfg["num_hidden_layers"]
    assert spec.hidden_size == cfg["hidden_size"]
    assert spec.num_attention_heads == cfg["num_attention_heads"]
    assert spec.num_kv_heads == cfg["num_key_value_heads"]
    assert spec.head_dim == cfg["head_dim"]
    assert spec.intermediate_size == cfg["intermediate_size"]
    assert spec.vocab_size == cfg["vocab_size"]
    assert spec.tie_word_embeddings is cfg["tie_word_embeddings"]
    assert spec.max_context == cfg["max_position_embeddings"]
    assert spec.kv_dtype == cfg["torch_dtype"]
    assert ("rope_type", cfg["rope_scaling"]["rope_type"]) in spec.extra
    assert spec.weights is None
    assert any("config.json only" in n for n in spec.notes)
    assert spec.name == "hf-llama-3.2-1b"


# --- safetensors --------------------------------------------------------------------------


def test_single_safetensors_inventory(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, TINY)
    tensors = llama_tensors(TINY)
    write_st(folder / "model.safetensors", tensors, metadata={"format": "pt"})
    spec = HfAdapter().read(folder)
    w = spec.weights
    assert w is not None
    assert dict(w.bytes_by_dtype) == expected_bytes(tensors)
    assert w.total_bytes == sum(expected_bytes(tensors).values())
    assert w.tensor_count == len(tensors)
    assert w.param_count == sum(prod(s) for _, s in tensors.values())
    assert w.external_bytes == w.total_bytes and w.embedded_bytes == 0
    v, h = TINY["vocab_size"], TINY["hidden_size"]
    assert w.embedding_bytes == v * h * 2 and w.lm_head_bytes == v * h * 2
    norms = sum(prod(s) * 4 for n, (_, s) in tensors.items() if "norm" in n)
    assert w.matmul_bytes == w.total_bytes - w.embedding_bytes - w.lm_head_bytes - norms
    assert spec.kv_dtype == "bfloat16"  # most bytes are BF16
    assert spec.source_of("weights").origin.value == "artifact"  # type: ignore[union-attr]


def test_stored_dtype_disagreeing_with_config(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, {**TINY, "torch_dtype": "float32"})
    write_st(folder / "model.safetensors", llama_tensors(TINY, dtype="F16", norm="F16"))
    spec = HfAdapter().read(folder)
    assert spec.kv_dtype == "float16" and spec.quantization.compute_dtype == "float16"
    assert any("stored as float16" in n for n in spec.notes)


def test_sharded_with_index(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, TINY)
    tensors = llama_tensors(TINY)
    names = list(tensors)
    first = {n: tensors[n] for n in names[: len(names) // 2]}
    second = {n: tensors[n] for n in names[len(names) // 2 :]}
    write_st(folder / "model-00001-of-00002.safetensors", first)
    write_st(folder / "model-00002-of-00002.safetensors", second)
    total = sum(expected_bytes(tensors).values())
    weight_map = dict.fromkeys(first, "model-00001-of-00002.safetensors")
    weight_map |= dict.fromkeys(second, "model-00002-of-00002.safetensors")
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    spec = HfAdapter().read(folder)
    assert spec.weights is not None and spec.weights.total_bytes == total
    assert dict(spec.weights.bytes_by_dtype) == expected_bytes(tensors)
    assert not any("total_size" in n for n in spec.notes)
    index["metadata"] = {"total_size": total + 2}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    assert any("total_size" in n for n in HfAdapter().read(folder).notes)
    # A tensor mapped to the wrong shard is an inconsistent index.
    index["weight_map"] = {**weight_map, names[0]: "model-00002-of-00002.safetensors"}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(ArtifactFormatError, match=r"model\.safetensors\.index\.json"):
        HfAdapter().read(folder)


def test_index_without_shards_is_config_only(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, TINY)
    index = {
        "weight_map": {
            "a": "model-00001-of-00002.safetensors",
            "b": "model-00002-of-00002.safetensors",
        }
    }
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    spec = HfAdapter().read(folder)
    assert spec.weights is None and any("none present" in n for n in spec.notes)
    write_st(folder / "model-00001-of-00002.safetensors", {"a": ("F16", [4])})
    with pytest.raises(ArtifactFormatError, match="missing"):
        HfAdapter().read(folder)


def test_safetensors_without_index(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, TINY)
    tensors = llama_tensors(TINY)
    names = list(tensors)
    write_st(folder / "model-00001-of-00002.safetensors", {n: tensors[n] for n in names[:5]})
    write_st(folder / "model-00002-of-00002.safetensors", {n: tensors[n] for n in names[5:]})
    spec = HfAdapter().read(folder)
    assert spec.weights is not None
    assert spec.weights.total_bytes == sum(expected_bytes(tensors).values())
    assert any("no model.safetensors.index.json" in n for n in spec.notes)


def test_pytorch_bin_only(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, TINY)
    (folder / "pytorch_model.bin").write_bytes(b"PK\x03\x04 not read")
    spec = HfAdapter().read(folder)
    assert spec.weights is None and any(".bin" in n for n in spec.notes)


def test_gptq_quantization(tmp_path: Path) -> None:
    cfg = {
        **TINY,
        "torch_dtype": "float16",
        "quantization_config": {
            "quant_method": "gptq",
            "bits": 4,
            "group_size": 32,
            "sym": True,
            "desc_act": False,
        },
    }
    folder = make_folder(tmp_path, cfg)
    h, inter = TINY["hidden_size"], TINY["intermediate_size"]
    tensors: dict[str, tuple[str, list[int]]] = {}
    linear_params = 0
    for name, (out_f, in_f) in {
        "model.layers.0.mlp.down_proj": (h, inter),
        "model.layers.0.self_attn.q_proj": (h, h),
    }.items():
        tensors |= {
            f"{name}.qweight": ("I32", [in_f * 4 // 32, out_f]),
            f"{name}.qzeros": ("I32", [in_f // 32, out_f * 4 // 32]),
            f"{name}.scales": ("F16", [in_f // 32, out_f]),
            f"{name}.g_idx": ("I32", [in_f]),
        }
        linear_params += in_f * out_f
    tensors["model.embed_tokens.weight"] = ("F16", [TINY["vocab_size"], h])
    tensors["lm_head.weight"] = ("F16", [TINY["vocab_size"], h])
    write_st(folder / "model.safetensors", tensors)
    spec = HfAdapter().read(folder)
    q = spec.quantization
    assert (q.scheme, q.bits, q.group_size, q.symmetric) == ("gptq-int4", 4, 32, True)
    assert ("desc_act", "false") in q.details and "lm_head" in q.unquantized
    assert spec.weights is not None
    assert spec.weights.param_count == linear_params + 2 * TINY["vocab_size"] * h
    assert dict(spec.weights.bytes_by_dtype) == expected_bytes(tensors)


@pytest.mark.parametrize(
    ("bits", "group", "scheme"), [(4, 128, "q4f16_autoawq"), (4, 64, "awq-int4")]
)
def test_awq_quantization(tmp_path: Path, bits: int, group: int, scheme: str) -> None:
    cfg = {
        **TINY,
        "quantization_config": {
            "quant_method": "awq",
            "bits": bits,
            "group_size": group,
            "zero_point": True,
            "version": "gemm",
        },
    }
    spec = HfAdapter().read(make_folder(tmp_path, cfg))
    q = spec.quantization
    assert (q.scheme, q.bits, q.group_size, q.symmetric) == (scheme, bits, group, False)
    assert ("version", "gemm") in q.details
    assert spec.source_of("quantization").origin.value == "artifact"  # type: ignore[union-attr]


def test_gptq_per_channel_group() -> None:
    cfg = {**TINY, "quantization_config": {"quant_method": "gptq", "bits": 8, "group_size": -1}}
    q = spec_from_hf_config(cfg, source="x", path=Path("config.json")).quantization
    assert (q.scheme, q.bits, q.group_size) == ("gptq-int8", 8, None)


def test_matches_safetensors_library(tmp_path: Path) -> None:
    numpy = pytest.importorskip("numpy")
    st = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "lib.safetensors"
    arrays = {
        "a": numpy.zeros((3, 5), dtype=numpy.float16),
        "b": numpy.zeros((7,), dtype=numpy.int32),
        "c": numpy.zeros((2, 2, 2), numpy.float32),
    }
    st.save_file(arrays, str(path), metadata={"format": "np"})
    header = read_safetensors_header(path)
    assert {t.name: (t.dtype, t.shape, t.nbytes) for t in header.tensors} == {
        "a": ("float16", (3, 5), 30),
        "b": ("int32", (7,), 28),
        "c": ("float32", (2, 2, 2), 32),
    }
    assert header.metadata == (("format", "np"),)


def test_reader_agrees_with_own_writer_layout(tmp_path: Path) -> None:
    path = tmp_path / "x.safetensors"
    write_st(path, {"w": ("BF16", [4, 8]), "n": ("F32", [8])})
    header = read_safetensors_header(path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    spans = [(t.start, t.end) for t in header.tensors]
    assert spans == [(8 + n, 8 + n + 64), (8 + n + 64, 8 + n + 96)]
    assert header.file_size == len(raw)


# --- hostile and broken inputs --------------------------------------------------------------


def _bad(tmp_path: Path, data: bytes) -> Path:
    folder = make_folder(tmp_path, TINY)
    (folder / "model.safetensors").write_bytes(data)
    return folder


def _raises(folder: Path, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as info:
        HfAdapter().read(folder)
    assert "model.safetensors" in str(info.value) or "index" in str(info.value)


def test_oversized_header_length(tmp_path: Path) -> None:
    data = struct.pack("<Q", 1 << 40) + b"{}"
    _raises(_bad(tmp_path, data), UnsafeArtifactError, "limit")
    assert MAX_HEADER_BYTES == 100 * 1024 * 1024


def test_header_length_beyond_file(tmp_path: Path) -> None:
    good = st_bytes({"w": ("F16", [4])})
    _raises(
        _bad(tmp_path, struct.pack("<Q", len(good)) + good[8:]), ArtifactFormatError, "past the end"
    )


def test_offsets_beyond_file(tmp_path: Path) -> None:
    data = st_bytes({"w": ("F16", [4])})
    _raises(_bad(tmp_path, data[:-2]), ArtifactFormatError, "past the end")


def test_truncated_json(tmp_path: Path) -> None:
    raw = b'{"w": {"dtype": "F16", "shape": [4], "data_of'
    _raises(
        _bad(tmp_path, struct.pack("<Q", len(raw)) + raw + bytes(8)),
        ArtifactFormatError,
        "not valid JSON",
    )


def test_too_short_file(tmp_path: Path) -> None:
    _raises(_bad(tmp_path, b"\x01\x02"), ArtifactFormatError, "too short")


@pytest.mark.parametrize("shape", [[-1, 4], [4, "8"], [True]])
def test_invalid_dims(tmp_path: Path, shape: list[Any]) -> None:
    patch = {"w": {"dtype": "F16", "shape": shape, "data_offsets": [0, 8]}}
    _raises(
        _bad(tmp_path, st_bytes({"w": ("F16", [4])}, header_patch=patch)),
        ArtifactFormatError,
        "invalid dimension",
    )


def test_span_disagrees_with_shape(tmp_path: Path) -> None:
    patch = {"w": {"dtype": "F16", "shape": [3], "data_offsets": [0, 8]}}
    _raises(
        _bad(tmp_path, st_bytes({"w": ("F16", [4])}, header_patch=patch)),
        ArtifactFormatError,
        "needs 6",
    )


def test_overlapping_tensors(tmp_path: Path) -> None:
    patch = {"v": {"dtype": "F16", "shape": [2], "data_offsets": [2, 6]}}
    _raises(
        _bad(tmp_path, st_bytes({"w": ("F16", [4])}, header_patch=patch)),
        ArtifactFormatError,
        "overlap",
    )


def test_unknown_dtype(tmp_path: Path) -> None:
    patch = {"w": {"dtype": "Q4", "shape": [4], "data_offsets": [0, 8]}}
    _raises(
        _bad(tmp_path, st_bytes({"w": ("F16", [4])}, header_patch=patch)),
        ArtifactFormatError,
        "unsupported dtype",
    )


@pytest.mark.parametrize(
    "name", ["../outside.safetensors", "/etc/passwd", "sub/../../x.safetensors"]
)
def test_index_paths_outside_folder(tmp_path: Path, name: str) -> None:
    folder = make_folder(tmp_path, TINY)
    (tmp_path / "outside.safetensors").write_bytes(st_bytes({"a": ("F16", [2])}))
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": name}}))
    _raises(folder, UnsafeArtifactError, "model folder")


def test_symlinked_shard_outside(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, TINY)
    outside = tmp_path / "elsewhere.safetensors"
    outside.write_bytes(st_bytes({"a": ("F16", [2])}))
    (folder / "model.safetensors").symlink_to(outside)
    _raises(folder, UnsafeArtifactError, "outside the model folder")


def test_fifo_is_refused(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, TINY)
    os.mkfifo(folder / "model.safetensors")
    _raises(folder, UnsafeArtifactError, "FIFO")


def test_hub_cache_symlinks_are_allowed(tmp_path: Path) -> None:
    repo = tmp_path / "models--org--tiny"
    blobs, snap = repo / "blobs", repo / "snapshots" / "abc123"
    blobs.mkdir(parents=True)
    snap.mkdir(parents=True)
    (blobs / "cfg").write_text(json.dumps(TINY))
    (blobs / "w").write_bytes(st_bytes(llama_tensors(TINY)))
    (snap / "config.json").symlink_to("../../blobs/cfg")
    (snap / "model.safetensors").symlink_to("../../blobs/w")
    spec = HfAdapter().read(snap)
    assert spec.weights is not None
    assert spec.weights.total_bytes == sum(expected_bytes(llama_tensors(TINY)).values())
    # Still nothing outside the repository folder.
    (tmp_path / "evil").write_bytes(st_bytes({"a": ("F16", [2])}))
    (snap / "model.safetensors").unlink()
    (snap / "model.safetensors").symlink_to(tmp_path / "evil")
    with pytest.raises(UnsafeArtifactError):
        HfAdapter().read(snap)


# --- sniffing -----------------------------------------------------------------------------


def test_sniff_scores(tmp_path: Path) -> None:
    hf = HfAdapter()
    assert hf.sniff(tmp_path) == 0
    folder = make_folder(tmp_path, TINY)
    assert hf.sniff(folder) == 50
    assert hf.sniff(folder / "config.json") == 50
    (folder / "notes.txt").write_text("x")
    assert hf.sniff(folder / "notes.txt") == 0
    (folder / "genai_config.json").write_text("{}")
    assert hf.sniff(folder) == 20
    (folder / "genai_config.json").unlink()
    (folder / "mlc-chat-config.json").write_text("{}")
    assert hf.sniff(folder) < MlcAdapter().sniff(folder)
    assert choose(folder, [hf, MlcAdapter()]).name == "mlc"
    (folder / "mlc-chat-config.json").unlink()
    assert choose(folder, [hf, MlcAdapter()]).name == "hf"
