"""Budget formulas against hand-computed values, and monotonicity properties."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.budget import kv_cache_bytes
from planner.errors import UsageError
from planner.families import param_count
from planner.quant import mlc_scheme, ort_scheme
from planner.runtimes import estimate
from planner.runtimes.mlc.weights import mlc_weight_bytes
from planner.runtimes.onnxruntime.model import packing, touched_windows
from planner.runtimes.onnxruntime.platforms import PLATFORMS
from planner.runtimes.onnxruntime.prompt import block_live_floats
from planner.runtimes.onnxruntime.weights import ort_weight_bytes
from planner.settings import Runtime, RuntimeSettings
from planner.spec import ModelSpec
from tests.conftest import hf_spec

MIB = 2**20


def test_kv_per_token_llama_3_2_1b() -> None:
    # 16 layers × 8 KV heads × 64 head dim × 2 (K, V) × 2 bytes = 32,768 B/token
    spec = hf_spec("llama-3.2-1b")
    total, per_token = kv_cache_bytes(
        spec, context=4096, batch=1, dtype="float16", window=None, sink=0
    )
    assert per_token == 32_768
    assert total == 32_768 * 4096 == 128 * MIB


def test_kv_batch_and_fp32() -> None:
    spec = hf_spec("llama-3.2-1b")
    total, _ = kv_cache_bytes(spec, context=1000, batch=3, dtype="float32", window=None, sink=0)
    assert total == 16 * 8 * 64 * 2 * 4 * 1000 * 3


def test_kv_sliding_window_caps_tokens() -> None:
    # Mistral with an MLC sliding window of 768 + 4 sink tokens holds 772 tokens per layer.
    spec = hf_spec("mistral-7b-v0.3")
    total, _ = kv_cache_bytes(spec, context=8192, batch=1, dtype="float16", window=768, sink=4)
    assert total == 32 * 8 * 128 * 2 * 2 * 772


def test_gemma2_alternates_local_and_global_layers() -> None:
    # Gemma-2-2B: 26 layers, window 4096 on the 13 even layers; at 8192 tokens the local layers
    # hold 4096 and the global ones 8192.
    spec = hf_spec("gemma-2-2b")
    assert sum(w is not None for w in spec.layer_windows) == 13
    total, _ = kv_cache_bytes(spec, context=8192, batch=1, dtype="float16", window=None, sink=0)
    per_layer_token = 4 * 256 * 2 * 2
    assert total == per_layer_token * (13 * 4096 + 13 * 8192)


def test_q4f16_1_llama_3_1_8b_matches_mlc_log() -> None:
    # MLC #2686/#2703: "model weight size (4308.133 MB)" for Llama-3-8B q4f16_1 (MB = MiB).
    wb = mlc_weight_bytes(hf_spec("llama-3.1-8b"), mlc_scheme("q4f16_1"))
    assert round(wb.total_bytes / MIB, 3) == 4308.133


def test_q4f16_1_is_4_5_bits_per_weight() -> None:
    # A 4096×4096 linear: 4096 rows × 128 groups × (4 uint32 + 1 fp16) = 4096×128×18 bytes.
    spec = hf_spec("llama-3.1-8b")
    wb = mlc_weight_bytes(spec, mlc_scheme("q4f16_1"))
    # bits per parameter over the whole model (all linears and embeddings quantized; norms fp16)
    bpp = wb.total_bytes * 8 / wb.param_count
    assert 4.5 <= bpp < 4.51


def test_q3f16_1_pads_groups_of_40() -> None:
    # K = 2048 → ceil(2048 / 40) = 52 groups of 4 uint32 + 1 fp16 scale = 18 bytes per group.
    spec = hf_spec("llama-3.2-1b")
    wb = mlc_weight_bytes(spec, mlc_scheme("q3f16_1"))
    per_row_2048 = 52 * 18
    emb = 128256 * per_row_2048
    assert wb.embedding_bytes == emb
    assert 3.6 < wb.total_bytes * 8 / wb.param_count < 3.7  # research: 3.646 for Llama-3.2-1B


def test_q4f16_2_keeps_embedding_in_fp16() -> None:
    spec = hf_spec("llama-3.2-1b")
    wb = mlc_weight_bytes(spec, mlc_scheme("q4f16_2"))
    assert wb.embedding_bytes == 128256 * 2048 * 2
    assert wb.lm_head_bytes == 0  # tied


def test_param_count_llama_3_2_1b() -> None:
    # Published: 1.236 B parameters (tied embeddings counted once).
    assert param_count(hf_spec("llama-3.2-1b")) == 1_235_814_400


def test_ort_int4_matmulnbits_bytes() -> None:
    # One linear N=K=2048, block 32: B = 2048 × 64 blocks × 16 B; scales fp32 2048 × 64 × 4.
    spec = hf_spec("llama-3.2-1b")
    wb = ort_weight_bytes(spec, ort_scheme("int4"))
    q, kv, h, i = 2048, 512, 2048, 8192
    linear_per_layer = sum(
        n * (k // 32) * 20 for n, k in ((q + 2 * kv, h), (h, q), (2 * i, h), (h, i))
    )
    assert wb.linear_bytes == 16 * linear_per_layer


def test_prepack_heap_per_platform_int4_block32() -> None:
    # Llama-3.2-1B int4 block 32: B data 16 B + fp32 scale 4 B per block. x86 int8 compute packs
    # data + scales + block sums (24 B per block) and keeps the scales mapped; arm64 NEON packs
    # the data only; KleidiAI data + bf16 scales (18 B per block).
    from planner.runtimes.onnxruntime.model import ort_weights
    from planner.runtimes.onnxruntime.settings import resolve

    spec = hf_spec("llama-3.2-1b")
    rs, scheme = resolve(spec, RuntimeSettings(Runtime.ONNXRUNTIME, quantization="int4"))
    w = ort_weights(spec, rs, scheme)
    blocks = w.nbits_scales // 4
    assert w.nbits_data == 16 * blocks
    x86 = packing(w, PLATFORMS["linux-x86_64"])
    assert x86.heap == 24 * blocks and x86.file_at_load == 4 * blocks
    assert x86.leftover == 128256 * (2048 // 32) * 4  # the lm_head's scale copy (glibc)
    neon = packing(w, PLATFORMS["linux-arm64-nodotprod"])
    assert neon.heap == 16 * blocks and neon.file_at_run == 4 * blocks and not neon.leftover
    kleidi = packing(w, PLATFORMS["android-arm64"])
    assert kleidi.heap == 18 * blocks and kleidi.file_at_load == kleidi.file_at_run == 0


def test_int8_accuracy_level_1_is_never_prepacked() -> None:
    from dataclasses import replace as dc_replace

    from planner.runtimes.onnxruntime.model import ort_weights
    from planner.runtimes.onnxruntime.settings import resolve

    spec = hf_spec("llama-3.2-1b")
    rs, scheme = resolve(spec, RuntimeSettings(Runtime.ONNXRUNTIME, quantization="int8"))
    w = dc_replace(ort_weights(spec, rs, scheme), accuracy_level=1)
    p = packing(w, PLATFORMS["linux-x86_64"])
    assert p.heap == 0 and not p.packs_largest
    # every call dequantizes B to fp32: the lm_head's buffer is live at its call, and glibc's
    # heap keeps a layer's buffers below its 32 MiB mmap limit (q+k+v 2048 × 3072: 24 MiB,
    # o 2048 × 2048: 16 MiB); gate/up/down (2048 × 8192: 64 MiB each) are mapped per call
    layer = 2048 * 3072 + 2048 * 2048
    assert p.dequant == 4 * (128256 * 2048 + layer)
    android = packing(w, PLATFORMS["android-arm64-nodotprod"])
    assert android.dequant == 4 * 128256 * 2048
    assert p.file_at_run == w.nbits_data + w.nbits_scales


def test_mlc_total_without_overhead_is_params_temp_kv() -> None:
    spec = hf_spec("llama-3.2-1b")
    b = estimate(
        spec, RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=4096, prefill=1024)
    )
    assert b.mlc_reported_bytes == b.weights_bytes + b.kv_cache_bytes + b.activations_bytes
    assert b.total_bytes == b.mlc_reported_bytes + b.runtime_overhead_bytes
    # Independent figures: WebLLM publishes 879.04 MiB for this lib (vram_required_MB), and the
    # lib's metadata plans 88 MiB for prefill_to_last_hidden_states, the largest function.
    assert round(b.mlc_reported_bytes / MIB, 2) == 879.04
    assert b.activations_bytes == 88 * MIB
    assert b.engine is not None
    e = b.engine
    assert (
        e.startup_bytes
        == e.params_bytes
        + 2 * e.temp_buffer_bytes
        + e.kv_aux_workspace_bytes
        + e.model_workspace_bytes
        + e.logit_processor_workspace_bytes
    )


def test_mlc_engine_workspaces_hand_computed() -> None:
    # cpp/serve/config.cc with pcs = 1024, max_seq = 1, Llama-3.2-1B (32 q heads, 8 kv, 64 dim):
    spec = hf_spec("llama-3.2-1b")
    b = estimate(
        spec, RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=4096, prefill=1024)
    )
    assert b.engine is not None
    kv_aux = 2 * 88 + 1024 * 33 * 8 + 1024 * 64 * 40 * 4 + 48 * MIB
    model_ws = 1024 * 4 + 4 + (2048 + 1) * 2048 * 2
    logit_ws = 20 + int(128256 * 16.125)
    assert b.engine.kv_aux_workspace_bytes == kv_aux
    assert b.engine.model_workspace_bytes == model_ws
    assert b.engine.logit_processor_workspace_bytes == logit_ws


def test_ort_kv_preallocated_to_max_length() -> None:
    spec = hf_spec("qwen2.5-0.5b")
    b = estimate(
        spec, RuntimeSettings(Runtime.ONNXRUNTIME, quantization="int4", context=2048, prefill=16)
    )
    # 24 layers × 2 KV heads × 64 × 2 × 4 bytes (fp32 on CPU) × 2048
    assert b.kv_cache_bytes == 24 * 2 * 64 * 2 * 4 * 2048


def test_footprint_excludes_clean_mapped_weights() -> None:
    spec = hf_spec("qwen2.5-0.5b")
    b = estimate(spec, RuntimeSettings(Runtime.ONNXRUNTIME, quantization="int4", context=2048))
    assert 0 < b.footprint_bytes < b.total_bytes
    assert b.clean_bytes == b.total_bytes - b.footprint_bytes


def test_mlc_rejects_quantized_kv() -> None:
    with pytest.raises(UsageError, match="KV cache in the model dtype"):
        estimate(
            hf_spec("llama-3.2-1b"),
            RuntimeSettings(Runtime.MLC, quantization="q4f16_1", kv_dtype="int8"),
        )


def test_draft_model_adds_weights_and_kv() -> None:
    big, small = hf_spec("llama-3.1-8b"), hf_spec("llama-3.2-1b")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=2048, prefill=512)
    alone = estimate(big, s)
    both = estimate(big, s, draft=small)
    d = estimate(small, s)
    assert both.weights_bytes == alone.weights_bytes + d.weights_bytes
    assert both.kv_cache_bytes == alone.kv_cache_bytes + d.kv_cache_bytes


def test_invalid_settings_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        RuntimeSettings(Runtime.MLC, context=-5)
    with pytest.raises(UsageError):
        RuntimeSettings(Runtime.MLC, batch=0)


MODELS = ["llama-3.2-1b", "qwen2.5-0.5b", "phi-3.5-mini", "gemma-2-2b", "mistral-7b-v0.3"]


@settings(max_examples=40, deadline=None)
@given(
    model=st.sampled_from(MODELS),
    runtime=st.sampled_from([Runtime.MLC, Runtime.ONNXRUNTIME]),
    ctx=st.integers(min_value=64, max_value=32768),
    extra=st.integers(min_value=1, max_value=8192),
    prefill=st.sampled_from([64, 128, 512, 1024]),
)
def test_more_context_never_lowers_memory(
    model: str, runtime: Runtime, ctx: int, extra: int, prefill: int
) -> None:
    spec = hf_spec(model)
    q = "q4f16_1" if runtime is Runtime.MLC else "int4"
    a = estimate(spec, RuntimeSettings(runtime, quantization=q, context=ctx, prefill=prefill))
    b = estimate(
        spec, RuntimeSettings(runtime, quantization=q, context=ctx + extra, prefill=prefill)
    )
    assert b.total_bytes >= a.total_bytes
    assert b.kv_cache_bytes >= a.kv_cache_bytes


@settings(max_examples=30, deadline=None)
@given(
    model=st.sampled_from(["llama-3.2-1b", "llama-3.1-8b", "mistral-7b-v0.3", "qwen3-0.6b"]),
    runtime=st.sampled_from([Runtime.MLC, Runtime.ONNXRUNTIME]),
    ctx=st.integers(min_value=128, max_value=16384),
    divisor=st.sampled_from([1, 2, 4, 8]),
)
def test_dropping_kv_heads_never_raises_memory(
    model: str, runtime: Runtime, ctx: int, divisor: int
) -> None:
    spec = hf_spec(model)
    fewer = replace(spec, num_kv_heads=max(1, spec.num_kv_heads // divisor))
    q = "q4f16_1" if runtime is Runtime.MLC else "int4"
    s = RuntimeSettings(runtime, quantization=q, context=ctx, prefill=256)
    assert estimate(fewer, s).total_bytes <= estimate(spec, s).total_bytes


@settings(max_examples=25, deadline=None)
@given(model=st.sampled_from(MODELS), batch=st.integers(1, 8), ctx=st.integers(256, 8192))
def test_more_sequences_never_lower_memory(model: str, batch: int, ctx: int) -> None:
    spec = hf_spec(model)
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=ctx, prefill=256, batch=batch)
    s2 = replace(s, batch=batch + 1)
    assert estimate(spec, s2).total_bytes >= estimate(spec, s).total_bytes


def test_ort_prompt_activations_hand_computed() -> None:
    # Llama-3.2-1B at int4, 512-token prompt: logits 512 × 128256 × 4, plus per token what the
    # arena keeps of both block kinds: MLP 4 × 8192 + 2048 + the int8 workspace of the down
    # projection 8192 × (1 + 8/32) / 4; attention 2048 + 2048 + 3 × (2048 + 2 × 512).
    spec = hf_spec("llama-3.2-1b")
    b = estimate(
        spec, RuntimeSettings(Runtime.ONNXRUNTIME, quantization="int4", context=4096, prefill=512)
    )
    acts = {c.label: c for c in b.components if c.category == "activations"}
    mlp = 4 * 8192 + 2048 + 8192 * 5 // 4 // 4
    attn = 2048 + 2048 + 3 * 3072
    assert dict(block_live_floats(spec, 32)) == {"mlp": mlp, "attention": attn}
    assert acts["prompt logits (fp32)"].bytes == 512 * 128256 * 4
    arena = acts["prompt activations (CPU arena)"]
    assert arena.bytes == 512 * (mlp + attn) * 4


def test_ort_load_transient_wins_for_short_prompts() -> None:
    # fp32 untied lm_head of Llama-3.1-8B: 128256 × 4096 × 4 bytes are resident while packed;
    # with a 16-token prompt and a small KV that moment is the peak. The prompt's buffers stay
    # in the (dirty) footprint; the transient's excess is clean mapped pages.
    spec = hf_spec("llama-3.1-8b")
    b = estimate(
        spec, RuntimeSettings(Runtime.ONNXRUNTIME, quantization="fp32", context=256, prefill=16)
    )
    comps = {c.label: c for c in b.components}
    transient = comps["load transient (clean)"]
    assert comps["prompt logits (fp32)"].dirty and not transient.dirty
    run = b.kv_cache_bytes + b.activations_bytes - transient.bytes
    run += comps["initializer pages read (clean)"].bytes
    at_load = int(dict(comps["initializer pages read (clean)"].inputs)["at_load"])
    assert transient.bytes == 128256 * 4096 * 4 - (run - at_load)


def test_ort_footprint_grows_with_the_prompt() -> None:
    spec = hf_spec("llama-3.2-1b")
    feet = [
        estimate(
            spec, RuntimeSettings(Runtime.ONNXRUNTIME, quantization="fp32", context=2048, prefill=p)
        ).footprint_bytes
        for p in (16, 1024, 2048)
    ]
    assert feet[0] < feet[1] < feet[2]


def test_ort_fault_around_touches_64k_windows() -> None:
    # one lookup into a 64 MiB table of 4 KiB rows maps one 64 KiB window
    assert touched_windows(64 * 2**20, 16384, 1, 65536) == 64 * 1024
    # many lookups can never map more than the table
    assert touched_windows(64 * 2**20, 16384, 10**6, 65536) == 64 * 2**20


def test_draft_adds_to_the_mlc_engine_startup() -> None:
    # One engine runs both: parameters and workspaces add up, the doubled temp buffer is the
    # larger library's (config.cc InferForKVCache takes the max over every model's functions).
    big, small = hf_spec("llama-3.1-8b"), hf_spec("llama-3.2-1b")
    s = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=2048, prefill=512)
    alone, both, d = estimate(big, s), estimate(big, s, draft=small), estimate(small, s)
    assert alone.engine and both.engine and d.engine
    smaller_temp = min(alone.engine.temp_buffer_bytes, d.engine.temp_buffer_bytes)
    expected = alone.engine.startup_bytes + d.engine.startup_bytes - 2 * smaller_temp
    assert both.engine.startup_bytes == expected > alone.engine.startup_bytes


def test_sliding_window_rules() -> None:
    # MLC caps the prefill chunk at the window (mistral_model.py) ...
    mistral = hf_spec("mistral-7b-v0.3")
    b = estimate(
        mistral,
        RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=8192, sliding_window=1024),
    )
    assert b.settings.prefill == 1024
    # ... and only families whose MLC model takes a window accept one.
    with pytest.raises(UsageError, match="sliding_window_size"):
        estimate(hf_spec("llama-3.2-1b"), RuntimeSettings(Runtime.MLC, sliding_window=1024))


QWEN3_MOE = {
    "architectures": ["Qwen3MoeForCausalLM"],
    "model_type": "qwen3_moe",
    "hidden_size": 512,
    "intermediate_size": 1536,
    "moe_intermediate_size": 256,
    "num_hidden_layers": 4,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "head_dim": 64,
    "num_experts": 16,
    "num_experts_per_tok": 2,
    "decoder_sparse_step": 1,
    "mlp_only_layers": [],
    "vocab_size": 32000,
    "max_position_embeddings": 4096,
    "tie_word_embeddings": False,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1000000,
}


def test_a_decoded_token_reads_only_its_top_k_experts() -> None:
    """MLC keeps every expert resident and routes each token to top-k of them: the bytes a
    decoded token reads (decode speed's divisor) count k / E of the routed experts; the rest
    are resident but unread, with the rows of an untied embedding table. Shared experts (always
    run) and dense layers are read in full."""
    from planner_adapters.hf_config import spec_from_hf_config

    settings = RuntimeSettings(Runtime.MLC, quantization="q4f16_1", context=1024)
    per_param = 4 / 8 + 2 / 32  # q4f16_1: 4-bit values and an fp16 scale per 32
    h, i, layers = 512, 256, 4
    routed = layers * 16 * 3 * h * i * per_param  # gate_up (2·i × h) and down (h × i) per expert

    def spec(**changes: object) -> ModelSpec:
        cfg = {**QWEN3_MOE, **changes}
        return spec_from_hf_config(cfg, source="moe", path=Path("config.json"), name="moe")

    b = estimate(spec(), settings)
    wb = mlc_weight_bytes(spec(), mlc_scheme("q4f16_1"), 1024)
    assert wb.expert_bytes == routed
    assert b.gathered_bytes == wb.embedding_bytes + routed * 14 // 16
    # every expert routed (top-k = E): nothing idle
    assert estimate(spec(num_experts_per_tok=16), settings).gathered_bytes == wb.embedding_bytes
    # qwen2_moe's shared expert runs for every token: not among the idle ones
    shared = spec(
        architectures=["Qwen2MoeForCausalLM"],
        model_type="qwen2_moe",
        shared_expert_intermediate_size=1024,
    )
    wb2 = mlc_weight_bytes(shared, mlc_scheme("q4f16_1"), 1024)
    assert wb2.expert_bytes == routed
    assert estimate(shared, settings).gathered_bytes == wb2.embedding_bytes + routed * 14 // 16


def test_an_mlc_artifacts_idle_experts_come_from_its_family_layout(tmp_path: Path) -> None:
    """An MLC artifact's tensor-cache gives its totals; the idle experts' share comes from the
    family's layout and matches the config-planned budget, within the artifact's weights."""
    from planner.registry import read_model
    from planner_adapters.hf_config import spec_from_hf_config
    from tests.mlc_factory import chat_config, write_model

    chat = chat_config(QWEN3_MOE, "q4f16_1")
    chat["model_config"] = {**QWEN3_MOE, **chat["model_config"]}  # keep the MoE keys
    write_model(tmp_path / "moe", QWEN3_MOE, "q4f16_1", chat=chat)
    artifact = read_model(tmp_path / "moe")
    settings = RuntimeSettings(Runtime.MLC, context=1024)
    planned = spec_from_hf_config(QWEN3_MOE, source="cfg", path=Path("config.json"), name="c")
    from_artifact = estimate(artifact, settings)
    from_config = estimate(planned, replace(settings, quantization="q4f16_1"))
    assert from_artifact.gathered_bytes == from_config.gathered_bytes
    assert 0 < from_artifact.gathered_bytes < from_artifact.weights_bytes
