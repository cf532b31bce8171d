"""onnxruntime CPU memory model: which bytes become resident when onnxruntime-genai runs.

Mechanisms (measured with onnxruntime 1.31.1, shared research onnx-runtime.md §5; ORT PR
#11127, #22256):

* External-data initializers are memory-mapped and used in place (clean, file-backed).
* Prepacking copies the weights of MatMul (MLAS packed SGEMM B) and MatMulNBits (MLAS
  SQNBit layout: packed blocks + fp32 scales + fp32 block sums at accuracy level 4) into the
  heap at session creation; the mapped originals are then never touched.
* Embedded (single-file) weights are heap copies of the whole protobuf's initializers.
* onnxruntime-genai preallocates the whole KV cache to ``search.max_length`` when
  ``past_present_share_buffer`` is on (always for GQA CPU builds).
* The prefill's live set: fp32 logits ``[tokens, vocab]``, the MLP's gate/up/activation,
  attention probabilities ``[heads, tokens, tokens]`` in the CPU GroupQueryAttention kernel.
"""

from __future__ import annotations

from math import ceil

from planner.budget import (
    ACTIVATIONS,
    KV_CACHE,
    RUNTIME_OVERHEAD,
    WEIGHTS,
    Component,
    ResolvedSettings,
)
from planner.quant import OrtScheme
from planner.spec import ModelSpec
from planner.weights import ort_weight_bytes

PAGE = 4096
ORT_FIXED_OVERHEAD = 24 * 1024 * 1024
"""Session, graph and genai model objects beyond the imported library (measured ~20–30 MB)."""


def prepack_ratio(scheme: OrtScheme) -> float:
    """Heap bytes of a prepacked weight per byte of the stored weight."""
    if not scheme.bits:
        return 1.0  # SGEMM packing re-lays B in panels of 16 columns: same size.
    data = scheme.block_size * scheme.bits / 8
    stored = data + 4 + (scheme.bits / 8 if not scheme.symmetric else 0)  # + fp32 scale (+ zp)
    packed = data + 4 + 4  # packed data + scale + block sum (accuracy level 4)
    return packed / stored


def ort_components(
    spec: ModelSpec, rs: ResolvedSettings, scheme: OrtScheme, kv_total: int
) -> tuple[Component, ...]:
    """The components of an onnxruntime CPU budget."""
    w = spec.weights
    same_artifact = w is not None and spec.format.startswith("onnx") and rs.quantization == (
        spec.quantization.scheme or rs.quantization
    )
    if same_artifact and w is not None:
        matmul, emb, other = w.matmul_bytes, w.embedding_bytes, max(
            0, w.total_bytes - w.matmul_bytes - w.embedding_bytes
        )
        embedded = w.embedded_bytes
        src = "artifact"
    else:
        wb = ort_weight_bytes(spec, scheme)
        matmul, emb, other = wb.linear_bytes + wb.lm_head_bytes, wb.embedding_bytes, wb.other_bytes
        embedded = 0
        src = "computed from architecture (onnxruntime-genai builder layout)"
    ratio = prepack_ratio(scheme)
    packed = ceil(matmul * ratio)
    touched_rows = min(spec.vocab_size, rs.prefill + 16)
    emb_touched = min(emb, ceil(emb / max(spec.vocab_size, 1)) * touched_rows + touched_rows * PAGE)
    comps = [
        Component(
            WEIGHTS, "prepacked MatMul weights (heap)", packed,
            "MatMul/MatMulNBits initializer bytes × prepack ratio",
            (("matmul_bytes", str(matmul)), ("ratio", f"{ratio:.3f}")), dirty=True, source=src,
        ),
        Component(
            WEIGHTS, "memory-mapped initializers touched", other + emb_touched,
            "norms + rotary caches + embedding rows gathered", (("embedding_bytes", str(emb)),),
            dirty=False, source=src,
        ),
    ]
    if embedded:
        comps.append(Component(
            WEIGHTS, "embedded initializers (heap copy)", embedded,
            "weights stored inside model.onnx are copied to the heap", dirty=True, source=src,
        ))
    comps.append(Component(
        KV_CACHE, "KV cache (preallocated to max_length)", kv_total,
        "layers × kv_heads × head_dim × 2 × dtype bytes × max_length × batch",
        (("kv_dtype", rs.kv_dtype), ("max_length", str(rs.context))),
        source="onnxruntime-genai kv_cache.cpp (past_present_share_buffer)",
    ))
    t, b = rs.prefill, rs.batch
    h, inter, v = spec.hidden_size, spec.intermediate_size or 4 * spec.hidden_size, spec.vocab_size
    f32 = 4
    logits = b * t * v * f32
    mlp = b * t * 3 * inter * f32
    attn = b * spec.num_attention_heads * t * t * f32
    hidden = b * t * h * f32 * 3
    peak = max(logits, mlp, attn) + hidden
    comps.append(Component(
        ACTIVATIONS, "prefill activations", peak,
        "max(logits tokens×vocab, MLP tokens×3×intermediate, attention heads×tokens²) × 4 + hidden",
        (("logits", str(logits)), ("mlp", str(mlp)), ("attention", str(attn)), ("hidden", str(hidden))),
        source="model of the CPU EP's largest live tensors",
    ))
    comps.append(Component(
        RUNTIME_OVERHEAD, "session and generator objects", ORT_FIXED_OVERHEAD,
        "fixed", (), source="measured (research onnx-runtime.md §5)",
    ))
    return tuple(comps)
