"""Regenerate the bundled Hugging Face and MLC examples (run from the repository root).

    python examples/make_examples_mlc.py

- ``examples/hf-llama-3.2-1b/config.json``: the real Llama-3.2-1B-Instruct ``config.json`` (the
  copy in mlc-llm's ``model_preset.py``, preset ``llama3_2_1b``). Config only: planning before
  ``mlc_llm convert_weight`` runs.
- ``examples/mlc-qwen2.5-0.5b-q4f16_1/``: ``mlc-chat-config.json`` and ``tensor-cache.json`` as
  ``mlc_llm gen_config … --quantization q4f16_1 --conv-template qwen2`` and ``mlc_llm
  convert_weight`` (mlc-llm 79d603f, TVM ``dump_tensor_cache``) would write them for
  Qwen2.5-0.5B-Instruct with default options. Tensor names, shapes and dtypes come from MLC's
  qwen2 model and group quantization (``planner_adapters._mlc_layout``, built on
  ``planner.families``);
  the ``params_shard_*.bin`` files are not committed, so their ``md5sum`` values are those of
  zero-filled shards.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from planner.families import param_count
from planner.quant import mlc_scheme
from planner_adapters._mlc_layout import mlc_tensors, tensor_cache
from planner_adapters.hf_config import spec_from_hf_config

HERE = Path(__file__).resolve().parent

LLAMA_32_1B: dict[str, Any] = {
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 128000,
    "eos_token_id": [128001, 128008, 128009],
    "head_dim": 64,
    "hidden_act": "silu",
    "hidden_size": 2048,
    "initializer_range": 0.02,
    "intermediate_size": 8192,
    "max_position_embeddings": 131072,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 32,
    "num_hidden_layers": 16,
    "num_key_value_heads": 8,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {
        "factor": 32.0,
        "high_freq_factor": 4.0,
        "low_freq_factor": 1.0,
        "original_max_position_embeddings": 8192,
        "rope_type": "llama3",
    },
    "rope_theta": 500000.0,
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.45.0.dev0",
    "use_cache": True,
    "vocab_size": 128256,
}

# Qwen2.5-0.5B-Instruct config.json (as in MLC's model_preset.py "qwen2_0_5b" and the reference
# data) and its generation_config.json sampling defaults.
QWEN25_05B: dict[str, Any] = {
    "architectures": ["Qwen2ForCausalLM"],
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    "hidden_act": "silu",
    "hidden_size": 896,
    "initializer_range": 0.02,
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
    "transformers_version": "4.40.1",
    "use_cache": True,
    "use_sliding_window": False,
    "vocab_size": 151936,
}
QWEN25_GENERATION = {
    "bos_token_id": 151643,
    "pad_token_id": 151643,
    "eos_token_id": [151645, 151643],
    "repetition_penalty": 1.1,
    "temperature": 0.7,
    "top_p": 0.8,
}


def qwen2_chat_config(hf: dict[str, Any]) -> dict[str, Any]:
    """mlc-chat-config.json for a Qwen2 config with gen_config's defaults (max_batch_size 128,
    context from max_position_embeddings, prefill_chunk_size = min(context, 8192))."""
    cws = hf["max_position_embeddings"]
    pcs = min(cws, 8192)
    model_config = {  # QWen2Config fields in declaration order, after __post_init__
        "hidden_act": hf["hidden_act"],
        "hidden_size": hf["hidden_size"],
        "intermediate_size": hf["intermediate_size"],
        "num_attention_heads": hf["num_attention_heads"],
        "num_hidden_layers": hf["num_hidden_layers"],
        "num_key_value_heads": hf["num_key_value_heads"],
        "rms_norm_eps": hf["rms_norm_eps"],
        "rope_theta": hf["rope_theta"],
        "vocab_size": hf["vocab_size"],
        "tie_word_embeddings": hf["tie_word_embeddings"],
        "context_window_size": cws,
        "prefill_chunk_size": pcs,
        "tensor_parallel_shards": 1,
        "head_dim": hf["hidden_size"] // hf["num_attention_heads"],
        "dtype": "float32",
        "max_batch_size": 128,
    }
    conv = {  # ConvTemplateRegistry "qwen2", Conversation.to_json_dict()
        "name": "qwen2",
        "system_template": "<|im_start|>system\n{system_message}<|im_end|>\n",
        "system_message": "You are a helpful assistant.",
        "add_role_after_system_message": True,
        "roles": {"user": "<|im_start|>user", "assistant": "<|im_start|>assistant"},
        "role_templates": {
            "user": "{user_message}",
            "assistant": "{assistant_message}",
            "tool": "{tool_message}",
        },
        "messages": [],
        "seps": ["<|im_end|>\n"],
        "role_content_sep": "\n",
        "role_empty_sep": "\n",
        "stop_str": ["<|endoftext|>", "<|im_end|>"],
        "stop_token_ids": [151643, 151645],
        "strip_reasoning_in_history": False,
        "function_string": "",
        "use_function_calling": False,
    }
    gen = QWEN25_GENERATION
    return {
        "version": "0.1.0",
        "model_type": "qwen2",
        "quantization": "q4f16_1",
        "model_config": model_config,
        "vocab_size": hf["vocab_size"],
        "context_window_size": cws,
        "sliding_window_size": -1,
        "prefill_chunk_size": pcs,
        "attention_sink_size": -1,
        "tensor_parallel_shards": 1,
        "pipeline_parallel_stages": 1,
        "active_vocab_size": 151665,
        "temperature": gen["temperature"],
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "repetition_penalty": gen["repetition_penalty"],
        "top_p": gen["top_p"],
        "tokenizer_files": ["tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json"],
        "tokenizer_info": {
            "token_postproc_method": "byte_level",
            "prepend_space_in_encode": False,
            "strip_space_in_decode": False,
        },
        "conv_template": conv,
        "pad_token_id": gen["pad_token_id"],
        "bos_token_id": gen["bos_token_id"],
        "eos_token_id": gen["eos_token_id"],
        "model_task": "chat",
    }


def write_json(path: Path, doc: dict[str, Any], indent: int) -> None:
    """Write JSON the way the producing tool does (HF sorts keys; MLC keeps field order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sort = path.name == "config.json"
    path.write_text(json.dumps(doc, indent=indent, sort_keys=sort) + "\n", encoding="utf-8")


def main() -> int:
    """Write both examples."""
    write_json(HERE / "hf-llama-3.2-1b" / "config.json", LLAMA_32_1B, 2)

    folder = HERE / "mlc-qwen2.5-0.5b-q4f16_1"
    write_json(folder / "mlc-chat-config.json", qwen2_chat_config(QWEN25_05B), 2)
    spec = spec_from_hf_config(QWEN25_05B, source="Qwen2.5-0.5B-Instruct", path=Path("config.json"))
    tensors = mlc_tensors(spec, mlc_scheme("q4f16_1"))
    write_json(folder / "tensor-cache.json", tensor_cache(tensors, param_count(spec)), 4)
    print(f"wrote {folder.name}: {len(tensors)} tensors, {sum(t.nbytes for t in tensors)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
