"""MLC temporary buffer: the replay of StaticPlanBlockMemory, checked by hand arithmetic.

Expected figures are worked out in the comments from the model shapes; the same figures are in
the ``memory_usage`` metadata of WebLLM's published libs (binary-mlc-llm-libs, v0_2_48), which is
where the mechanism was checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from planner.quant import mlc_scheme
from planner.runtimes.mlc.temp import Op, Tensor, mlc_temp_buffer, plan_blocks
from planner.spec import ModelSpec
from planner_adapters.hf_config import spec_from_hf_config

MIB = 2**20


def _spec(cfg: dict[str, Any]) -> ModelSpec:
    return spec_from_hf_config(cfg, source="test", path=Path("config.json"), name="test")


LLAMA_1B: dict[str, Any] = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_attention_heads": 32,
    "num_hidden_layers": 16,
    "num_key_value_heads": 8,
    "head_dim": 64,
    "vocab_size": 128256,
    "tie_word_embeddings": True,
    "rms_norm_eps": 1e-5,
    "max_position_embeddings": 131072,
    "torch_dtype": "bfloat16",
}
QWEN2_05B: dict[str, Any] = {
    "architectures": ["Qwen2ForCausalLM"],
    "model_type": "qwen2",
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_attention_heads": 14,
    "num_hidden_layers": 24,
    "num_key_value_heads": 2,
    "vocab_size": 151936,
    "tie_word_embeddings": True,
    "rms_norm_eps": 1e-6,
    "max_position_embeddings": 32768,
    "torch_dtype": "bfloat16",
}
PHI35: dict[str, Any] = {
    "architectures": ["Phi3ForCausalLM"],
    "model_type": "phi3",
    "hidden_size": 3072,
    "intermediate_size": 8192,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 32,
    "vocab_size": 32064,
    "tie_word_embeddings": False,
    "rms_norm_eps": 1e-5,
    "max_position_embeddings": 131072,
    "torch_dtype": "bfloat16",
}
QWEN3_06B: dict[str, Any] = {
    "architectures": ["Qwen3ForCausalLM"],
    "model_type": "qwen3",
    "hidden_size": 1024,
    "intermediate_size": 3072,
    "num_attention_heads": 16,
    "num_hidden_layers": 28,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "vocab_size": 151936,
    "tie_word_embeddings": True,
    "rms_norm_eps": 1e-6,
    "max_position_embeddings": 40960,
    "torch_dtype": "bfloat16",
}


def _temp(cfg: dict[str, Any], quant: str, chunk: int = 1024, batch: int = 128) -> Any:
    return mlc_temp_buffer(
        _spec(cfg),
        mlc_scheme(quant),
        prefill_chunk=chunk,
        max_batch_size=batch,
    )


# --- the planner itself --------------------------------------------------------------------


def test_free_block_is_reused_by_a_smaller_request() -> None:
    # a (100) is freed after op 2; c (60) fits in it, so one block of 100 plus b's 50.
    ops = (
        Op((Tensor("a", 100, "f"),), ()),
        Op((Tensor("b", 50, "f"),), ("a",)),
        Op((Tensor("c", 60, "f"),), ("b",)),
        Op((), ("c",)),
    )
    assert plan_blocks(ops) == (100, 50)


def test_smaller_free_block_is_enlarged() -> None:
    # a (10) is free when c (100) asks: 100 / 16 <= 10, so a's block grows to 100.
    ops = (
        Op((Tensor("a", 10, "f"),), ()),
        Op((Tensor("b", 10, "f"),), ("a",)),
        Op((Tensor("c", 100, "f"),), ("b",)),
        Op((), ("c",)),
    )
    assert plan_blocks(ops) == (100, 10)


def test_match_range_and_dtype_separate_pools() -> None:
    # a (1000) is free, but c (10) is more than 16x smaller: a new block. d (500) is float32
    # while the free block is "f": pools are per dtype, another new block.
    ops = (
        Op((Tensor("a", 1000, "f"),), ()),
        Op((Tensor("b", 1, "f"),), ("a",)),
        Op((Tensor("c", 10, "f"),), ("b",)),
        Op((Tensor("d", 500, "float32"),), ("c",)),
        Op((), ("d",)),
    )
    assert plan_blocks(ops) == (1000, 1, 10, 500)


def test_outputs_get_own_block_and_dynamic_is_not_counted() -> None:
    ops = (
        Op((Tensor("a", 100, "f"),), ()),
        Op((Tensor("out", 40, "f"),), ("a",)),
        Op((Tensor("dyn", None, "f"),), ("out",)),
        Op((), ("dyn",)),
    )
    assert plan_blocks(ops, (Tensor("out", 40, "f"),)) == (100, 40)


# --- whole models -------------------------------------------------------------------------


def test_llama_1b_f16_hand_computed() -> None:
    t = _temp(LLAMA_1B, "q0f16")
    # chunk 1024, float16: gate_up 1024*16384*2 = 32 MiB, act 1024*8192*2 = 16 MiB,
    # hidden 1024*2048*2 = 4 MiB. The planner ends with blocks 32 + 32 + 16 + 4 = 84 MiB;
    # prefill adds the last-token row 2048*2 = 4096 B; its logits have symbolic vocab_size.
    assert t.bytes_of("prefill") == 84 * MIB + 4096
    assert t.bytes_of("batch_verify") == 84 * MIB
    # *_to_last_hidden_states also plans its (1, 1024, 2048) output: 84 + 4 = 88 MiB = the max.
    assert t.bytes_of("prefill_to_last_hidden_states") == 88 * MIB
    assert t.max_bytes == 88 * MIB
    # batch_decode at 128 sequences is the prefill graph over 128 rows: 10.5 MiB = 84 / 8.
    assert t.bytes_of("batch_decode") == 84 * MIB // 8


def test_weight_quantization_does_not_change_temp() -> None:
    # Dequantisation is fused into the matmuls: q4f16_1 plans the same blocks as q0f16.
    assert _temp(LLAMA_1B, "q4f16_1").max_bytes == _temp(LLAMA_1B, "q0f16").max_bytes


def test_llama_1b_f32_has_no_fused_add_norm() -> None:
    # float32: FuseAddRMSNorm does not apply; blocks are gate_up 64 + act 32 + act-sized 32
    # (1024*8192*4) = 128 MiB, plus the 8 MiB hidden output of *_to_last_hidden_states = 136.
    assert _temp(LLAMA_1B, "q4f32_1").max_bytes == 136 * MIB


def test_static_vocab_logits_are_counted() -> None:
    t = _temp(QWEN2_05B, "q4f16_1", batch=80)
    # Qwen2 declares vocab 151936 as a constant: batch_verify's float32 logits for the whole
    # chunk are planned, 1024*151936*4 = 593.5 MiB. hidden 896 % 256 != 0, so no fused add-norm:
    # gate_up 1024*9728*2 = 19 MiB + act 9.5 + act-sized 9.5 = 38 MiB. 593.5 + 38 = 631.5.
    assert t.bytes_of("batch_verify") == 1024 * 151936 * 4 + 38 * MIB
    assert t.max_function == "batch_verify"
    # batch_prefill's logits are for 80 rows: 80*151936*4 on top of planned activations.
    bp = t.bytes_of("batch_prefill")
    assert bp is not None and bp >= 80 * 151936 * 4 + 38 * MIB


def test_qwen3_qk_norm() -> None:
    # Qwen3-0.6B f16: 593.5 MiB logits + 42 MiB of activations (published lib: 635.5 MiB).
    assert _temp(QWEN3_06B, "q0f16").max_bytes == 1024 * 151936 * 4 + 42 * MIB


def test_phi3_batch_prefill_depends_on_batch() -> None:
    # Phi-3.5 f32: 132 MiB of activations; batch_prefill also gathers 80 rows of hidden
    # 80*3072*4 = 0.9375 MiB into a fresh block; phi3 exports no *_to_last_hidden_states.
    t = _temp(PHI35, "q4f32_1", batch=80)
    assert t.max_bytes == 132 * MIB + 80 * 3072 * 4
    assert t.bytes_of("prefill_to_last_hidden_states") is None


def test_cuda_thread_count_changes_fusion() -> None:
    # hidden 3072 is a multiple of 256 (webgpu) and of 1024 (cuda): fused either way, same temp.
    assert (
        _temp(PHI35, "q4f16_1").max_bytes
        == mlc_temp_buffer(
            _spec(PHI35),
            mlc_scheme("q4f16_1"),
            prefill_chunk=1024,
            max_batch_size=128,
            max_threads_per_block=1024,
        ).max_bytes
    )


@pytest.mark.parametrize("cfg", [LLAMA_1B, QWEN2_05B, PHI35, QWEN3_06B])
@pytest.mark.parametrize("quant", ["q4f16_1", "q4f32_1"])
def test_larger_chunk_never_lowers_temp(cfg: dict[str, Any], quant: str) -> None:
    # (Batch size is NOT monotone in general: the greedy block reuse can pack a larger gather
    # better, e.g. Phi-3.5 at chunk 256 plans less at batch 80 than at batch 32.)
    prev = 0
    for chunk in (1, 16, 64, 128, 256, 512, 1000, 1024, 2048, 4096):
        cur = _temp(cfg, quant, chunk=chunk).max_bytes
        assert cur >= prev, chunk
        prev = cur


def test_rejects_non_positive_bounds() -> None:
    with pytest.raises(ValueError):
        _temp(LLAMA_1B, "q4f16_1", chunk=0)
