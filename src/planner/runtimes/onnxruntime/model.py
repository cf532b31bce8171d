"""onnxruntime CPU memory model: which bytes become resident when onnxruntime-genai runs.

The peak resident memory that loading and generating adds is the larger of two moments
(measured with onnxruntime 1.31.1 / onnxruntime-genai 0.18.0, benchmarks/ort_bench; mechanisms
from shared research onnx-runtime.md §5, ORT PRs #11127 and #22256):

* **Session creation.** External-data initializers are memory-mapped; prepacking copies every
  MatMul (MLAS packed SGEMM B, same size) and MatMulNBits weight (MLAS SQNBit layout for int8
  compute: packed blocks + an fp32 scale + an fp32 block sum + one byte per block) into the
  heap. While one weight is packed its mapped source pages are resident too, so the load peak
  exceeds the steady state by the largest such initializer. Tied embeddings get a heap copy:
  the fp32 builder graph gathers from ``Transpose(lm_head)``, which session initialization
  constant-folds, and ``GatherBlockQuantized`` copies its shared int4 table.
* **Generation.** onnxruntime-genai preallocates the KV cache to ``max_length``; the prompt's
  forward pass then needs the fp32 logits ``[tokens, vocab]`` on top of what the decoder layers
  left in the CPU arena (the BFC arena keeps freed chunks, and the layers' chunks are too small
  to hold the logits): per token the MLP's gate, up, sigmoid and SiLU outputs (the fused
  gate_up of Phi-3 adds a slice), the packed QKV and attention output, and three hidden-size
  tensors, all fp32. Gathering embedding rows from a memory-mapped float table faults in
  64 KiB windows (Linux ``fault_around_bytes``): clean file-backed pages.
"""

from __future__ import annotations

from math import ceil, exp

from planner.budget import (
    ACTIVATIONS,
    KV_CACHE,
    RUNTIME_OVERHEAD,
    WEIGHTS,
    Component,
    ResolvedSettings,
)
from planner.families import ParamKind, family, param_groups
from planner.quant import OrtScheme
from planner.runtimes.onnxruntime.weights import ort_weight_bytes
from planner.spec import ModelSpec

MIB = 1024 * 1024
FAULT_AROUND = 64 * 1024
"""Linux maps up to 64 KiB of cached file pages around a read fault (fault_around_bytes)."""
SESSION_HEAP = 9 * MIB
"""Session, graph and generator objects on the heap (measured: 9 MiB beyond the library)."""
CODE_PAGES = 10 * MIB
"""Kernel code and tables paged in by a session (measured: 10 MiB for fp32 graphs)."""
CODE_PAGES_NBITS = 15 * MIB
"""Extra code paged in by the MatMulNBits (int4/int8) kernels (measured)."""
NBITS_BLOCK_EXTRA = 9
"""Bytes MLAS adds per quantized block when prepacking: fp32 scale + fp32 block sum + 1."""


def prepack_ratio(scheme: OrtScheme) -> float:
    """Heap bytes of a prepacked weight per byte of the stored weight."""
    if not scheme.bits:
        return 1.0  # SGEMM packing re-lays B in panels of 16 columns: same size.
    data = scheme.block_size * scheme.bits / 8
    stored = data + 4 + (scheme.bits / 8 if not scheme.symmetric else 0)
    return (data + NBITS_BLOCK_EXTRA) / stored


def _touched_windows(table_bytes: int, rows: int, lookups: int) -> int:
    """Bytes mapped by ``lookups`` random row gathers from a mapped table (64 KiB windows)."""
    if table_bytes <= 0 or rows <= 0 or lookups <= 0:
        return 0
    windows = max(1, table_bytes // FAULT_AROUND)
    row = table_bytes / rows
    per_lookup = max(1.0, row / FAULT_AROUND)  # a row wider than a window spans several
    touched = windows * (1 - exp(-lookups * per_lookup / windows))
    return min(table_bytes, ceil(touched) * FAULT_AROUND)


def _layer_live_floats(spec: ModelSpec) -> int:
    """fp32 values per prompt token that the decoder layers leave in the arena."""
    inter = spec.intermediate_size or 4 * spec.hidden_size
    q = spec.num_attention_heads * spec.head_dim
    kv = spec.num_kv_heads * spec.head_dim
    mlp = (5 if family(spec.architecture).ort_fused_gate_up else 4) * inter
    return mlp + (q + 2 * kv) + q + 3 * spec.hidden_size


def ort_components(
    spec: ModelSpec, rs: ResolvedSettings, scheme: OrtScheme, kv_total: int
) -> tuple[tuple[Component, ...], int]:
    """The components of an onnxruntime CPU budget (their sum is the predicted peak), and the
    weight bytes only gathered row by row (the embedding tables)."""
    w = spec.weights
    from_artifact = (
        w is not None
        and spec.format.startswith("onnx")
        and rs.quantization == (spec.quantization.scheme or rs.quantization)
    )
    if from_artifact and w is not None:
        matmul, emb = w.matmul_bytes, w.embedding_bytes
        largest = w.largest_matmul_tensor_bytes or w.lm_head_bytes
        embedded = w.embedded_bytes
        src = "artifact"
    else:
        wb = ort_weight_bytes(spec, scheme)
        matmul, emb = wb.linear_bytes + wb.lm_head_bytes, wb.embedding_bytes
        widest = max(
            (
                g.shape[0] * g.shape[1]
                for g in param_groups(spec)
                if g.kind in (ParamKind.LINEAR, ParamKind.LM_HEAD, ParamKind.EMBEDDING)
            ),
            default=0,
        )
        largest = ceil(widest * (scheme.bits / 8 if scheme.bits else 4))
        embedded = 0
        src = "computed from architecture (onnxruntime-genai builder layout)"
    tied = spec.tie_word_embeddings
    ratio = prepack_ratio(scheme)
    packed = ceil(matmul * ratio)
    comps = [
        Component(
            WEIGHTS,
            "prepacked MatMul weights (heap)",
            packed,
            "MatMul/MatMulNBits initializer bytes × prepack ratio",
            (("matmul_bytes", str(matmul)), ("ratio", f"{ratio:.3f}")),
            dirty=True,
            source=src,
        )
    ]
    if tied and emb:
        comps.append(
            Component(
                WEIGHTS,
                "tied embedding table copy (heap)",
                emb,
                "Transpose(lm_head) folded at session init / GatherBlockQuantized table copy",
                (("embedding_bytes", str(emb)),),
                dirty=True,
                source=src,
            )
        )
    if embedded:
        comps.append(
            Component(
                WEIGHTS,
                "embedded initializers (heap copy)",
                embedded,
                "weights stored inside model.onnx are parsed into the heap",
                dirty=True,
                source=src,
            )
        )
    lookups = rs.prefill + 16
    mapped_emb = 0 if tied else _touched_windows(emb, spec.vocab_size, lookups)
    comps.append(
        Component(
            WEIGHTS,
            "embedding rows mapped (clean)",
            mapped_emb,
            "embedding rows gathered by the prompt, in 64 KiB fault-around windows",
            (("embedding_bytes", str(emb)), ("lookups", str(lookups))),
            dirty=False,
            source=src,
        )
    )
    comps.append(
        Component(
            KV_CACHE,
            "KV cache (preallocated to max_length)",
            kv_total,
            "layers × kv_heads × head_dim × 2 × dtype bytes × max_length × batch",
            (("kv_dtype", rs.kv_dtype), ("max_length", str(rs.context))),
            source="onnxruntime-genai kv_cache.cpp (past_present_share_buffer)",
        )
    )
    t, b = rs.prefill, rs.batch
    logits = b * t * spec.vocab_size * 4
    layers = b * t * _layer_live_floats(spec) * 4
    run_peak = logits + layers
    # The prompt's buffers are dirty heap whichever moment is the peak; at session creation
    # the largest weight's mapped source pages are resident while it is packed, and that
    # moment wins when the prompt is short and the KV small (the excess is clean pages).
    comps.append(
        Component(
            ACTIVATIONS,
            "prefill activations (arena)",
            run_peak,
            "tokens × (vocab logits + decoder-layer live set) × 4 bytes",
            (("logits", str(logits)), ("layer_live_set", str(layers))),
            source="planner/ort_model.py (measured mechanism)",
        )
    )
    load_transient = max(0, largest - kv_total - run_peak)
    if load_transient:
        comps.append(
            Component(
                ACTIVATIONS,
                "load-time prepacking transient (beyond KV and prefill)",
                load_transient,
                "largest MatMul initializer resident while packed − KV − prefill activations",
                (("largest_initializer", str(largest)),),
                dirty=False,
                source="measured: load peak − steady state = largest initializer",
            )
        )
    code = CODE_PAGES + (CODE_PAGES_NBITS if scheme.bits else 0)
    comps.append(
        Component(
            RUNTIME_OVERHEAD,
            "session heap objects",
            SESSION_HEAP,
            "fixed",
            (),
            source="measured (benchmarks/ort_bench)",
        )
    )
    comps.append(
        Component(
            RUNTIME_OVERHEAD,
            "runtime code pages (clean)",
            code,
            "kernel code paged in; more with MatMulNBits",
            (),
            dirty=False,
            source="measured (benchmarks/ort_bench)",
        )
    )
    gathered = sum(c.bytes for c in comps if c.category == WEIGHTS) - packed
    return tuple(comps), gathered
