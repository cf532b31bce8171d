"""What a plan costs in output quality: published measurements per scheme, as data (pure).

The unit is the expected perplexity increase over the float16 model, in percent (``100 ×
(ppl_quant / ppl_fp16 − 1)``), for a 7–8B dense model on WikiText-2; small models lose more
(a multiplier, below). Nobody publishes perplexity for MLC's ``q4f16_1`` or onnxruntime's
``MatMulNBits`` themselves, so most rows are proxies with the same numerics — each row says
which. Evidence (each with its source) is collected in docs/quality.md; the numbers here are the
summaries the ``suggest`` objective uses.

Mechanisms the rows rest on:

* 4-bit symmetric round-to-nearest with a float scale per group of 32 (MLC ``q4f16_1``,
  ``q4f16_0``, ``q4f32_1`` — identical int4 weights —, onnxruntime-genai ``-p int4`` block 32) is
  llama.cpp's ``Q4_0`` (an MLC maintainer: "identical to llama.cpp's group quantization with group
  size = 32", mlc-ai/mlc-llm#1282): LLaMA-1-7B +4.2 %, 13B +2.5 %, LLaMA-3-8B +7.5 %, Llama-2-70B
  +3.6 % (llama.cpp perplexity tables).
* Larger groups lose more: RTN INT4 group 128 Llama-2-7B +4.8 % (AWQ paper, Table 4); per-channel
  RTN LLaMA-7B +10.7 % (GPTQ README).
* 3-bit: RTN INT3-g128 Llama-2-7B +21.8 % (AWQ paper); llama.cpp ``Q3_K_S`` LLaMA-3-8B +26 %.
* 8-bit: llama.cpp ``Q8_0`` LLaMA-3-8B +0.04 %.
* KV cache: ``q8_0`` K+V LLaMA-3-8B +0.08 % (llama.cpp PR #7412); 4-bit KV Qwen3-8B +2.2 % but
  Qwen3-0.6B +254 % (ik_llama.cpp #1509).
* Sliding window of 1,024 with 4 attention sinks vs full attention at 4–8k tokens: +1.6 % to +4 %
  (attention_sinks benchmark CSVs: Llama-2-7B, Mistral-7B, StableLM-3B); without sinks the model
  collapses once the first token leaves the window.
* Small models: symmetric int4 RTN costs 1.6–3.8B models +28–39 % lambada perplexity vs +9.5 % for
  Mistral-7B (NNCF CompressWeights docs), i.e. 2–3× more than a 7B model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SMALL_MODEL_PARAMS = 2_000_000_000
"""At and below this size the small-model multiplier applies in full."""
LARGE_MODEL_PARAMS = 7_000_000_000
"""At and above this size the 7–8B figures apply as published."""


@dataclass(frozen=True, slots=True)
class QualityCost:
    """Expected perplexity increase of one choice, with where the number comes from."""

    loss_pct: float
    basis: str
    proxy: bool = True
    """The number was measured on a scheme with the same numerics, not this one."""
    small_model_multiplier: float = 1.0
    """How much more a ≤ 2B model loses (1.0: no published size effect)."""


NONE = QualityCost(0.0, "no quantization (float16 vs bfloat16 LLaMA-3-8B: ppl ratio 1.0004)", False)

_GROUP4 = {
    16: QualityCost(4.5, "int4 RTN, group 16: between Q4_0 (group 32) and 8-bit", True, 2.0),
    32: QualityCost(
        5.0, "int4 symmetric RTN group 32 = llama.cpp Q4_0 (+2.5 to +7.5 %)", True, 2.0
    ),
    64: QualityCost(5.5, "int4 RTN group 64: between group 32 and group 128", True, 2.5),
    128: QualityCost(6.0, "int4 RTN group 128 (AWQ paper: Llama-2-7B +4.8 %)", True, 3.0),
    256: QualityCost(7.0, "int4 RTN group 256: towards per-channel (+10.7 %)", True, 3.0),
}
PER_CHANNEL4 = QualityCost(
    10.0, "int4 RTN per output channel (GPTQ README: LLaMA-7B +10.7 %)", True, 3.0
)
AWQ4 = QualityCost(3.0, "AWQ int4 group 128 (AWQ paper: Llama-2-7B +2.4 %)", True, 2.0)
INT3 = QualityCost(20.0, "int3 RTN (AWQ paper INT3-g128 +21.8 %; Q3_K_S +26 %)", True, 3.0)
INT8 = QualityCost(0.05, "int8 RTN = llama.cpp Q8_0 (LLaMA-3-8B +0.04 %)", True)
FP8 = QualityCost(0.3, "fp8 e4m3 per-tensor: third-party measurements only (+0.25 %)", True)
FLOAT_HEAD_CREDIT = 0.5
"""Keeping the embedding and lm_head in float (MLC q4f16_2) recovers part of the loss:
llama.cpp's Q4_0 figures keep the output matrix at higher precision, MLC's q4f16_1 does not."""
ACCURACY_LEVEL_INT8 = 0.5
"""onnxruntime MatMulNBits accuracy level 4 (int8 activations): argmax flips reported
(onnxruntime#29849), no perplexity published — a small charge, marked as an estimate."""

KV_COST = {
    "int8": QualityCost(0.1, "KV int8: llama.cpp q8_0 K+V, LLaMA-3-8B +0.08 % (PR #7412)", True),
    "float8_e4m3fn": QualityCost(0.3, "KV fp8 e4m3: third-party only (+0.25 %)", True),
    "int4": QualityCost(
        2.5, "KV int4: Qwen3-8B +2.2 %, Qwen3-0.6B +254 % (ik_llama.cpp#1509)", True, 100.0
    ),
}
"""Quantized KV caches; float ones cost nothing."""
WINDOW_SLOPE_PCT = 2.2
"""Perplexity added per doubling of context ÷ window with attention sinks: Mistral-7B +1.8 % at
4× its 1,024-token window and +4.0 % at 8× (attention_sinks PG19 CSVs); the line through those
two points, floored at 0.5 % (Llama-2-7B +1.6 % at 4×, StableLM-3B +2.8 %)."""
WINDOW_NO_SINKS = QualityCost(
    1000.0, "sliding window without attention sinks: collapses (Llama-2-7B ppl 5.6 → 86.8)", False
)


def size_multiplier(params: int | None, cost: QualityCost) -> float:
    """The cost's small-model multiplier, interpolated in log(params) between 2B and 7B."""
    if params is None or cost.small_model_multiplier == 1.0 or params >= LARGE_MODEL_PARAMS:
        return 1.0
    if params <= SMALL_MODEL_PARAMS:
        return cost.small_model_multiplier
    t = math.log(LARGE_MODEL_PARAMS / params) / math.log(LARGE_MODEL_PARAMS / SMALL_MODEL_PARAMS)
    return 1.0 + t * (cost.small_model_multiplier - 1.0)


def weight_cost(
    *,
    bits: int | None,
    group_size: int | None,
    kind: str,
    float_embedding_and_head: bool = False,
    int8_activations: bool = False,
) -> QualityCost:
    """The weight quantization's cost, from its numerics (not its name), so any scheme with the
    same storage gets the same figure."""
    if kind == "no-quant" or bits is None or bits >= 16:
        return NONE
    if kind == "awq":
        base = AWQ4
    elif kind in ("per-tensor-quant", "block-scale-quant"):
        base = FP8
    elif bits >= 8:
        base = INT8
    elif bits <= 3:
        base = INT3
    elif group_size is None:  # FasterTransformer: one scale per output channel
        base = PER_CHANNEL4
    else:
        base = _GROUP4.get(group_size) or _GROUP4[min(_GROUP4, key=lambda g: abs(g - group_size))]
    loss = base.loss_pct
    basis = base.basis
    if float_embedding_and_head and bits < 8:
        loss -= FLOAT_HEAD_CREDIT
        basis += "; embedding and lm_head kept in float"
    if int8_activations and bits < 8:
        loss += ACCURACY_LEVEL_INT8
        basis += "; int8 activations (accuracy level 4, estimate)"
    return QualityCost(round(loss, 3), basis, base.proxy, base.small_model_multiplier)


def kv_cost(kv_dtype: str) -> QualityCost:
    """The KV cache's cost (float dtypes: none)."""
    return KV_COST.get(kv_dtype, QualityCost(0.0, f"KV {kv_dtype}: not quantized", False))


def window_cost(window: int | None, sink: int, context: int) -> QualityCost:
    """A sliding window shorter than the context forgets what falls out of it; the more of the
    context lies outside, the more is lost. Sinks keep the model from collapsing."""
    if window is None or window + sink >= context:
        return QualityCost(0.0, "full attention over the whole context", False)
    if sink <= 0:
        return WINDOW_NO_SINKS
    ratio = context / (window + sink)
    loss = max(0.5, WINDOW_SLOPE_PCT * math.log2(ratio) - 2.6)
    return QualityCost(
        round(loss, 3),
        f"sliding window {window} + {sink} sinks over {context} tokens ({ratio:.0f}× the window; "
        "attention_sinks: Mistral-7B +1.8 % at 4×, +4.0 % at 8×)",
        False,
    )


def total_loss(costs: tuple[QualityCost, ...], params: int | None) -> float:
    """The plan's expected perplexity increase: the parts add (each scaled by model size)."""
    return round(sum(c.loss_pct * size_multiplier(params, c) for c in costs), 3)
