"""onnxruntime CPU memory model: which bytes become resident when onnxruntime-genai runs (pure).

Every term is a mechanism measured on Linux x86-64 with onnxruntime 1.31.1 and 1.32.0
(benchmarks/ort_bench/MECHANISMS.md, "M§n" below) or read from the onnxruntime sources for the
other platforms (docs/onnxruntime-mobile.md, "mobile §n"); nothing is fitted to the accuracy
benchmark. The peak a run adds is

    steady after loading  (prepacked weights, folded tied copies, the malloc leftover of packing,
                           initializer pages packing read, session heap, code pages)
  + max( load transient   (the largest initializer's mapped pages while it is packed),
         run             (KV cache + prompt logits + what the CPU arena keeps of the prompt's
                          activations + file pages the run reads − freed heap it reuses) )

Version-dependent terms (session heap, code pages) come from ``versions``; platform-dependent
ones (prepack layouts, allocator, fault-around, what iOS counts) from ``platforms``; a
calibration file replaces the fixed terms with a team's own measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, exp

from planner.budget import (
    ACTIVATIONS,
    KV_CACHE,
    RUNTIME_OVERHEAD,
    WEIGHTS,
    Component,
    ResolvedSettings,
)
from planner.calibration import CalibrationEntry
from planner.errors import UsageError
from planner.families import ParamKind, fact, fact_int, param_groups
from planner.quant import OrtScheme, dtype_bytes
from planner.runtimes.onnxruntime.arena import second_pass_growth
from planner.runtimes.onnxruntime.dequant import heap_note, layer_heap_kn, live_kn, per_call_bytes
from planner.runtimes.onnxruntime.moe import moe_experts
from planner.runtimes.onnxruntime.platforms import OrtPlatform
from planner.runtimes.onnxruntime.prompt import (
    WINDOW_SLACK,
    attention_scores,
    block_live_floats,
    layer_windows,
    logits_buffers,
    prompt_shape,
    workspace_components,
    workspace_heap,
)
from planner.runtimes.onnxruntime.rerun import pattern_off, phi3_rewind_threshold, rerun_note
from planner.runtimes.onnxruntime.versions import VersionTerms, parse_version
from planner.runtimes.onnxruntime.weights import ort_weight_bytes
from planner.spec import ModelSpec

MIB = 1024 * 1024
QMOE_PACKING_SINCE = (1, 31)
"""The onnxruntime minor from which QMoE's packing at load was measured (1.31, 1.32)."""
SCALE_BYTES = 4
"""MatMulNBits scales on the CPU execution provider are fp32 (the builder's CPU io dtype)."""
MMAP_THRESHOLD = 8 * MIB
"""glibc serves requests below the (dynamic) mmap threshold from the heap, where they reuse the
memory freed while loading; at or above it they are mmapped fresh. Measured bound after session
creation: 4 MiB KV tensors reuse it, 8 MiB ones do not (M§6; benchmarks/results/ort_measured.json
phases of phi3-mha and qwen3-tied)."""
DECODE_TOKENS_DEFAULT = 8
"""Decode steps assumed when the settings do not say (``planner measure``'s default)."""


# ------------------------------------------------------------------------------------------------
# What the weights are, kernel by kernel


@dataclass(frozen=True, slots=True)
class OrtWeights:
    """The initializers by the kernel that consumes them (bytes)."""

    float_matmul: int
    """fp32/fp16 MatMul weights (MLAS packs them one for one, M§3)."""
    nbits_data: int
    """MatMulNBits B (the packed integer data)."""
    nbits_scales: int
    """MatMulNBits fp32 scales (one per block)."""
    nbits_zero_points: int
    bits: int | None
    block: int
    accuracy_level: int
    symmetric: bool
    lm_head_scales: int
    """Scales of the largest MatMulNBits (the lm_head): x86 packing copies them once more."""
    largest_source: int
    """The largest initializer a kernel packs or constant folding copies (read whole)."""
    largest_kn: int
    """K × N of the largest quantized MatMul (the lm_head): the per-call dequantization buffer of
    a MatMulNBits that is not prepacked holds K × N fp32 values."""
    layer_heap_kn: int
    """Σ K × N of one decoder layer's quantized MatMuls whose fp32 dequantization buffer is
    below glibc's largest dynamic mmap threshold (buffers glibc's heap keeps between calls)."""
    embedding: int
    """Bytes of the embedding table (for a shared int4 table: its data and scales)."""
    embedding_kind: str
    """``mapped`` (a float or quantized Gather table used in place), ``tied-float`` (Transpose of
    the lm_head, folded into the heap) or ``tied-shared`` (the lm_head's int4 data gathered through
    a Reshape that constant folding copies)."""
    embedding_data: int
    """The data part of a shared int4 table (what the folded Reshape copies)."""
    embedded: int
    """Initializers stored inside model.onnx (parsed into the heap)."""
    source: str


def _accuracy(spec: ModelSpec) -> int:
    levels = dict(spec.quantization.details).get("accuracy_level", "")
    found = [int(x) for x in levels.split(",") if x.strip().isdigit()]
    return max(found) if found else 4  # the builder's CPU default (-e cpu: accuracy level 4)


def ort_weights(spec: ModelSpec, rs: ResolvedSettings, scheme: OrtScheme) -> OrtWeights:
    """The weights as the artifact has them, or as the builder will write them for ``scheme``."""
    w = spec.weights
    from_artifact = (
        w is not None
        and spec.format.startswith("onnx")
        and rs.quantization == (spec.quantization.scheme or rs.quantization)
    ) or (w is not None and spec.format.startswith("onnx") and _same_precision(spec, scheme))
    bits = scheme.bits
    block = scheme.block_size
    per_block_data = block * (bits or 8) / 8
    zp_per_block = 0.0 if scheme.symmetric or not bits else bits / 8
    tied = spec.tie_word_embeddings
    if from_artifact and w is not None:
        matmul, emb = w.matmul_bytes, w.embedding_bytes
        largest = w.largest_matmul_tensor_bytes or w.lm_head_bytes
        embedded = w.embedded_bytes
        accuracy = _accuracy(spec) if bits else 4
        source = "artifact"
        shared = (
            tied
            and bits is not None
            and "GatherBlockQuantized" in dict(spec.quantization.details).get("embedding", "")
        )
    else:
        wb = ort_weight_bytes(spec, scheme)
        matmul, emb = wb.linear_bytes + wb.lm_head_bytes, wb.embedding_bytes
        shared = tied and bits is not None and scheme.quantize_embedding
        if shared:
            # shared_embeddings: the lm_head MatMulNBits reads the shared int4 table too.
            matmul += emb
        widest = max(
            (
                g.shape[0] * g.shape[1]
                for g in param_groups(spec)
                if g.kind in (ParamKind.LINEAR, ParamKind.LM_HEAD, ParamKind.EMBEDDING)
            ),
            default=0,
        )
        largest = ceil(widest * (bits / 8 if bits else 4))
        embedded = 0
        accuracy = 4
        source = "computed from architecture (onnxruntime-genai builder layout)"
        if tied and not spec.format.startswith("onnx") and not scheme.quantize_embedding:
            # Planned from a config: the emitted builder command says shared_embeddings=false for
            # this scheme (planner.emit.ort), so the built model keeps a separate float
            # embedding, memory-mapped like an untied model's, beside its own lm_head.
            tied = False
    if bits:
        per_block = per_block_data + SCALE_BYTES + zp_per_block
        blocks = matmul / per_block
        data = round(blocks * per_block_data)
        scales = round(blocks * SCALE_BYTES)
        zps = max(0, matmul - data - scales)
        head_scales = spec.vocab_size * ceil(spec.hidden_size / block) * SCALE_BYTES
        float_mm = 0
    else:
        data = scales = zps = head_scales = 0
        float_mm = matmul
    if tied and bits and shared:
        kind = "tied-shared"
        emb_data = round(emb * per_block_data / (per_block_data + SCALE_BYTES + zp_per_block))
    elif tied and not bits:
        kind, emb_data = "tied-float", 0
    else:
        kind, emb_data = "mapped", 0
    return OrtWeights(
        float_matmul=float_mm,
        nbits_data=data,
        nbits_scales=scales,
        nbits_zero_points=zps,
        bits=bits,
        block=block,
        accuracy_level=accuracy,
        symmetric=scheme.symmetric,
        lm_head_scales=min(head_scales, scales),
        largest_source=largest,
        largest_kn=live_kn(spec, from_artifact),
        layer_heap_kn=layer_heap_kn(spec, from_artifact, round(data * 8 / bits)) if bits else 0,
        embedding=emb,
        embedding_kind=kind,
        embedding_data=emb_data,
        embedded=embedded,
        source=source,
    )


def _same_precision(spec: ModelSpec, scheme: OrtScheme) -> bool:
    """The scheme asked for is the artifact's own precision (any block-size spelling)."""
    return spec.quantization.scheme == scheme.precision and (
        scheme.bits is None or spec.quantization.group_size in (None, scheme.block_size)
    )


# ------------------------------------------------------------------------------------------------
# Prepacking, per platform (M§3; mobile §4)


@dataclass(frozen=True, slots=True)
class Packing:
    """What session creation does with the MatMul weights on one platform."""

    heap: int
    """Prepacked copies (dirty heap)."""
    layout: str
    leftover: int
    """Freed heap glibc keeps after packing (x86 ``ComputePackBlkSum``'s scale copy)."""
    file_at_load: int
    """Initializer pages read while packing and kept mapped (clean)."""
    file_at_run: int
    """Initializer pages the first run reads in place (clean)."""
    dequant: int
    """Per-call dequantization buffer of MatMulNBits that are not prepacked (dirty)."""
    packs_largest: bool
    """The largest initializer is read whole during session creation."""
    int8_compute: bool = False
    """MatMulNBits quantize their input to int8 blocks (a per-call workspace)."""


def packing(w: OrtWeights, plat: OrtPlatform) -> Packing:
    """Heap and file pages of the MatMul weights after session creation and the first run."""
    float_heap = w.float_matmul  # GemmPackBFp32: K · roundup(N, 16) · 4 bytes, M§3
    if not w.bits:
        return Packing(float_heap, "fp32 SGEMM packed B (1.00 × the weights)", 0, 0, 0, 0, True)
    d, s, zp = w.nbits_data, w.nbits_scales, w.nbits_zero_points
    int8_compute = w.accuracy_level >= 4
    if plat.isa == "x86_64":
        if w.bits == 8 and not int8_compute:
            # No 8-bit fp32-compute kernel in MLAS (qnbitgemm.cpp, GetQNBitGemmVariant): nothing
            # is packed and every call dequantizes B into a K × N fp32 buffer (M§3).
            return Packing(
                float_heap,
                "not prepacked (8-bit, accuracy level 1)",
                0,
                0,
                d + s + zp,
                per_call_bytes(w.largest_kn, w.layer_heap_kn, plat.glibc),
                False,
            )
        if int8_compute:
            # data + fp32 scales + fp32 block sums; the scales are also left mapped (the kernel
            # reports them as not packed on x86), and ComputePackBlkSum's copy of the largest
            # node's scales stays in glibc's heap (M§3, M§5).
            sums = s  # one fp32 block sum per block (N rounded up to 16: negligible)
            return Packing(
                float_heap + d + s + sums,
                f"x86 int8-compute: {w.bits}-bit data + fp32 scales + fp32 block sums",
                w.lm_head_scales if plat.glibc else 0,
                s + zp,
                0,
                0,
                True,
                int8_compute=True,
            )
        return Packing(
            float_heap + d, f"x86 fp32-compute: {w.bits}-bit data only", 0, 0, s + zp, 0, True
        )
    # arm64 (inference: qnbitgemm_kernel_neon.cpp, mobile §4)
    if w.bits == 4:
        kleidi = plat.kleidiai and int8_compute and w.symmetric and w.block % 32 == 0
        if kleidi:
            # kai_run_rhs_pack_nxk_qsi4c32p_qsu4c32s1s0: data + bf16 scales in the packed
            # buffer; the fp32 scales are reported packed and released.
            return Packing(
                float_heap + d + s // 2,
                "arm64 KleidiAI: 4-bit data + bf16 scales",
                0,
                0,
                zp,
                0,
                True,
                int8_compute=True,
            )
        return Packing(
            float_heap + d,
            "arm64 NEON: 4-bit data only (scales read in place)",
            0,
            0,
            s + zp,
            0,
            True,
        )
    if int8_compute and plat.dotprod:
        # 8-bit int8 compute: data + fp32 scales + block sums; scales and zero points are packed
        # inputs on arm64 and released.
        return Packing(
            float_heap + d + 2 * s,
            "arm64 NEON: 8-bit data + scales + block sums",
            0,
            0,
            0,
            0,
            True,
            int8_compute=True,
        )
    return Packing(
        float_heap,
        "not prepacked (8-bit without an int8-compute kernel)",
        0,
        0,
        d + s + zp,
        per_call_bytes(w.largest_kn, w.layer_heap_kn, plat.glibc),
        False,
    )


def inline_constants(spec: ModelSpec, plat: OrtPlatform) -> tuple[int, int]:
    """(bytes of the tensors Constant nodes hold inside the model file, bytes of their second
    copy that stays resident).

    onnxruntime turns each Constant node into an initializer (a copy of its tensor) and then
    builds the session's own copy; the graph's copy is freed once the session is initialised.
    Measured (benchmarks/ort_bench/probe_embedded.py; onnxruntime 1.31 and 1.32, identical):
    initializers held in the protobuf cost 1.0 × their bytes after loading, Constant tensors 2.0 ×
    when each is 1 MiB (glibc keeps the freed copy in its heap) and 1.0 × when each is 10 or
    40 MiB (freed copies above glibc's mmap threshold go back to the system); both peak near
    2 × while loading. The builder writes LongRoPE's cos/sin caches this way (Phi-3.5-mini,
    Phi-4-mini: an ``If`` choosing the short or long tables). Without glibc (Android's bionic,
    Apple's malloc) the freed copy is assumed returned; glibc with its mmap threshold fixed
    returns it (1.0 × at 1 MiB, ``probe_embedded.py --fixed-heap``)."""
    total = fact_int(spec, "constant_bytes")
    if total <= 0:
        return 0, 0
    largest = fact_int(spec, "constant_largest_bytes")
    kept = total if plat.glibc and largest < MMAP_THRESHOLD else 0
    return total, kept


# ------------------------------------------------------------------------------------------------
# File pages read in place (M§5)


def touched_windows(table_bytes: int, rows: int, lookups: int, window: int) -> int:
    """Bytes mapped by ``lookups`` random row gathers from a mapped table, in fault-around
    windows (M§5: 16 random rows of a 125 MiB table map 1.2 MiB, 4096 map 110 MiB)."""
    if table_bytes <= 0 or rows <= 0 or lookups <= 0:
        return 0
    windows = max(1, table_bytes // window)
    row = table_bytes / rows
    per_lookup = max(1.0, row / window)  # a row wider than a window spans several
    touched = windows * (1 - exp(-lookups * per_lookup / windows))
    return min(table_bytes, ceil(touched) * window)


# ------------------------------------------------------------------------------------------------
# The budget


@dataclass(frozen=True, slots=True)
class OrtContext:
    """Everything besides the spec and settings the components depend on."""

    platform: OrtPlatform
    version: VersionTerms
    calibration: CalibrationEntry | None
    calibration_path: str
    decode_tokens: int


def kv_layout(spec: ModelSpec, rs: ResolvedSettings, decode_tokens: int) -> tuple[int, int, bool]:
    """(KV bytes at the peak, bytes per token of a full-attention sequence, preallocated).

    fp32/fp16 caches are allocated and zeroed at ``og.Generator`` for ``max_length`` (genai
    kv_cache.cpp, past_present_share_buffer), sliding-window layers for window + 16 (M§6).
    A quantized cache is not preallocated on CPU (the builder keeps past_present_share_buffer only
    for CUDA then): each step allocates the present for the current length beside the past, so
    at the last generated token both exist (M§6).
    """
    per_layer_token = spec.num_kv_heads * spec.head_dim * 2 * dtype_bytes(rs.kv_dtype)
    per_token = ceil(per_layer_token * spec.num_layers)
    quantized = rs.kv_dtype in ("int8", "int4", "float8_e4m3fn")
    if quantized:
        length = min(rs.context, rs.prefill + decode_tokens)
        return ceil(2 * length * per_layer_token * spec.num_layers) * rs.batch, per_token, False
    tokens = sum(
        rs.context if w is None else min(rs.context, w + WINDOW_SLACK)
        for w in layer_windows(spec, rs)
    )
    return ceil(tokens * per_layer_token) * rs.batch, per_token, True


def _kv_tensor_bytes(spec: ModelSpec, rs: ResolvedSettings) -> int:
    """One layer's K (or V) buffer: what the allocator sees in one request."""
    return ceil(spec.num_kv_heads * spec.head_dim * dtype_bytes(rs.kv_dtype) * rs.context)


def ort_components(
    spec: ModelSpec, rs: ResolvedSettings, scheme: OrtScheme, ctx: OrtContext
) -> tuple[tuple[Component, ...], int, int, tuple[str, ...]]:
    """The components of an onnxruntime CPU budget (their sum is the predicted peak), the weight
    bytes only gathered row by row, the KV bytes per token, and notes."""
    plat, terms = ctx.platform, ctx.version
    w = ort_weights(spec, rs, scheme)
    pk = packing(w, plat)
    if fact_int(spec, "moe_nodes") and w.source != "artifact":
        raise UsageError(
            f"{spec.name} has MoE experts; planning it at {rs.quantization} instead of its own "
            f"{spec.quantization.scheme} is not modelled (the experts are outside the "
            "builder's layer layout)",
            hint="plan the artifact's own precision, or export the model at the one you want",
        )
    moe = moe_experts(spec, w, plat, packing)
    src = w.source
    comps: list[Component] = []

    # -- steady after loading ------------------------------------------------------------------
    comps.append(
        Component(
            WEIGHTS,
            "prepacked MatMul weights (heap)",
            pk.heap,
            pk.layout,
            (
                ("float_matmul_bytes", str(w.float_matmul)),
                ("nbits_data_bytes", str(w.nbits_data)),
                ("nbits_scale_bytes", str(w.nbits_scales)),
                ("accuracy_level", str(w.accuracy_level) if w.bits else "-"),
                ("platform", plat.key),
            ),
            dirty=True,
            source=f"{src}; MECHANISMS.md §3 (x86, measured) / onnxruntime-mobile.md §4 (arm64)",
        )
    )
    if moe is not None and moe.heap:
        comps.append(
            Component(
                WEIGHTS,
                "prepacked MoE experts (heap)",
                moe.heap,
                f"QMoE experts packed as MatMulNBits weights: {moe.layout}",
                (("moe_qpacked", fact(spec, "moe_qpacked") or ""),),
                dirty=True,
                source="MECHANISMS.md §7 (MoE layers); results/ort_moe/",
            )
        )
    folded = 0
    if w.embedding_kind == "tied-float":
        folded = w.embedding
        formula = "Transpose(lm_head) constant-folded into a heap initializer: vocab × hidden × 4"
    elif w.embedding_kind == "tied-shared":
        folded = w.embedding_data
        formula = "Reshape of the shared int4 table constant-folded into a heap copy of its data"
    if folded:
        comps.append(
            Component(
                WEIGHTS,
                "tied embedding copy (folded, heap)",
                folded,
                formula,
                (("embedding_bytes", str(w.embedding)),),
                dirty=True,
                source=f"{src}; MECHANISMS.md §4 (optimizer/constant_folding.cc)",
            )
        )
    if w.embedded:
        comps.append(
            Component(
                WEIGHTS,
                "initializers inside model.onnx (heap)",
                w.embedded,
                "weights stored in the protobuf are parsed into the heap",
                dirty=True,
                source=src,
            )
        )
    constants, kept_constants = inline_constants(spec, plat)
    if constants:
        comps.append(
            Component(
                WEIGHTS,
                "Constant-node tensors (heap)",
                constants + kept_constants,
                "tensors of Constant nodes inside model.onnx: the session's copy, plus the "
                "graph's converted copy when glibc keeps it (each below the mmap threshold)",
                (("constant_bytes", str(constants)), ("kept_copy", str(kept_constants))),
                dirty=True,
                source="benchmarks/ort_bench/probe_embedded.py (results/ort_embedded_probe.json)",
            )
        )
    # -- the run -------------------------------------------------------------------------------
    b = rs.batch
    threshold = phi3_rewind_threshold(spec, rs)
    rewinds = bool(threshold) and rs.prefill <= threshold <= rs.prefill + ctx.decode_tokens - 1
    t = threshold if rewinds else rs.prefill  # the tokens one forward pass runs at most
    kv_bytes, per_token, prealloc = kv_layout(spec, rs, ctx.decode_tokens)
    copies, copies_why = logits_buffers(spec)
    logits = b * t * spec.vocab_size * 4 * copies
    int8_block = w.block if pk.int8_compute else None
    blocks = block_live_floats(spec, int8_block)
    live = sum(n for _, n in blocks)
    arena = b * t * live * 4
    scores, score_lengths = attention_scores(spec, rs, plat.page_bytes, prealloc)
    off = pattern_off(spec)
    shape = prompt_shape(spec) if rewinds else None
    rerun = 0
    if shape is not None and off != "enable_cpu_mem_arena":
        rerun = second_pass_growth(
            shape, rs.prefill, threshold, b, pattern=not off, page=plat.page_bytes
        )
    held = workspace_heap(spec, b * t, int8_block, plat.glibc)
    prompt = logits + arena + rerun + scores + pk.dequant + held
    if prealloc:
        kv_term = kv_bytes
    else:
        # Growing cache: the prompt runs beside its own present (prompt tokens), the last step
        # beside past + present; the run peaks at the larger of the two moments.
        kv_term = max(kv_bytes - prompt, b * t * per_token)
    lookups = rs.prefill + ctx.decode_tokens
    rows = 0
    if w.embedding_kind == "mapped":
        rows = touched_windows(w.embedding, spec.vocab_size, lookups, plat.fault_around_bytes)
    rotary = 2 * min(lookups, spec.max_context or lookups) * (spec.head_dim // 2) * 4
    # MoE / QMoE experts (LFM2-MoE): the CPU kernels read the expert weights in place from the
    # mapped file; a prompt routes its tokens × top-k over every expert, so all their pages.
    experts = moe.file_at_run if moe else 0
    run_file = pk.file_at_run + experts + rows + rotary
    at_load = pk.file_at_load + (moe.file_at_load if moe else 0)
    # glibc: later requests below the mmap threshold reuse the heap freed while loading (M§6):
    # small KV tensors first, then the prompt's many small arena and kernel buffers.
    small_kv = prealloc and _kv_tensor_bytes(spec, rs) < MMAP_THRESHOLD
    kv_reuse = min(pk.leftover, kv_term) if small_kv else 0
    reuse = kv_reuse + min(pk.leftover - kv_reuse, arena + logits)
    if pk.leftover:
        comps.append(
            Component(
                WEIGHTS,
                "lm_head scale copy kept by malloc",
                pk.leftover - reuse,
                "ComputePackBlkSum's temporary copy of the largest node's fp32 scales, freed but "
                "kept by glibc − what later requests below the mmap threshold reuse (small KV "
                "tensors, the prompt's buffers)",
                (
                    ("lm_head_scale_bytes", str(w.lm_head_scales)),
                    ("reused_by_kv", str(kv_reuse)),
                    ("reused_by_prompt", str(reuse - kv_reuse)),
                ),
                dirty=True,
                source="MECHANISMS.md §3 (sqnbitgemm_kernel_avx_common.h), §6",
            )
        )
    comps.append(
        Component(
            KV_CACHE,
            "KV cache (preallocated to max_length)"
            if prealloc
            else "KV cache (grows with the sequence)",
            kv_term,
            "Σ layers K,V × kv_heads × head_dim × dtype bytes × (max_length, or window + 16)"
            if prealloc
            else "max(2 × (prompt + generated) × bytes per token − the prompt's buffers, "
            "prompt × bytes per token)",
            (("kv_dtype", rs.kv_dtype), ("max_length", str(rs.context))),
            source="onnxruntime-genai kv_cache.cpp, windowed_kv_cache.cpp; MECHANISMS.md §6",
        )
    )
    comps.append(
        Component(
            ACTIVATIONS,
            "prompt logits (fp32)",
            logits,
            "prompt tokens × vocab × 4 × buffers",
            (
                ("tokens", str(t)),
                ("vocab", str(spec.vocab_size)),
                ("buffers", str(copies)),
                ("why", copies_why),
            ),
            source="MECHANISMS.md §7 (the whole prompt's logits); benchmarks/ort_arena_probe.py",
        )
    )
    comps.append(
        Component(
            ACTIVATIONS,
            "prompt activations (CPU arena)",
            arena,
            "tokens × Σ over block kinds of their peak live floats × 4",
            tuple((f"{name}_floats", str(n)) for name, n in blocks),
            source="MECHANISMS.md §7; bfc_arena.cc; benchmarks/ort_arena_probe.py",
        )
    )
    comps.extend(workspace_components(held, b * t, int8_block))
    if rerun:
        comps.append(
            Component(
                ACTIVATIONS,
                "re-run: arena space beside the first prompt's",
                rerun,
                "arena pages a replay of BFC writes for a prompt pass of the first length and "
                "then one of the re-run's, minus the re-run alone"
                + (
                    ""
                    if off
                    else " (the first pass's memory-pattern block held: written by a re-run "
                    "as long as the prompt, unwritten by a longer one)"
                ),
                (
                    ("first_pass_tokens", str(rs.prefill)),
                    ("rerun_tokens", str(threshold)),
                    ("memory_pattern", "off" if off else "on"),
                ),
                source="runtimes/onnxruntime/arena.py (bfc_arena.cc rules over the builder "
                "layout's requests, checked against benchmarks/results/alloc_traces); "
                "session_state.cc CalculateMemoryPatternsKey",
            )
        )
    if scores:
        comps.append(
            Component(
                ACTIVATIONS,
                "attention scores (softcap: no flash path)",
                scores,
                "pages written of batch × heads × prompt × present_length × 4 per distinct "
                "present length (rows strided by the KV buffer, prompt columns written)",
                (
                    ("heads", str(spec.num_attention_heads)),
                    ("tokens", str(t)),
                    ("present_lengths", ",".join(str(n) for n in score_lengths)),
                    ("page_bytes", str(plat.page_bytes)),
                ),
                source="onnxruntime contrib_ops/cpu/bert/gqa_attention_base.h ApplyAttention; "
                "benchmarks/ort_bench/probe_logits_decode.py --variant noattnsoftcap",
            )
        )
    if pk.dequant:
        comps.append(
            Component(
                ACTIVATIONS,
                "per-call dequantized weight",
                pk.dequant,
                "4 × largest K × N (the lm_head), allocated on every call"
                + (
                    " + 4 × Σ one layer's K × N below glibc's 32 MiB mmap limit (kept by its heap)"
                    if plat.glibc
                    else ""
                ),
                (
                    ("largest_kn", str(w.largest_kn)),
                    ("layer_heap_kn", str(w.layer_heap_kn if plat.glibc else 0)),
                ),
                source="MECHANISMS.md §3 (matmul_nbits.cc ComputeBUnpacked; glibc malloc.c "
                "dynamic mmap threshold; Scudo allocator_config.h secondary cache)",
            )
        )
    comps.append(
        Component(
            WEIGHTS,
            "initializer pages read (clean)",
            at_load + run_file,
            "scales left mapped by packing + weights read unpacked (MoE experts included) + "
            "embedding rows gathered "
            f"in {plat.fault_around_bytes // 1024} KiB fault-around windows + rotary rows",
            (
                ("at_load", str(at_load)),
                ("weights_read_at_run", str(pk.file_at_run)),
                ("moe_experts_read_at_run", str(experts)),
                ("embedding_rows", str(rows)),
                ("rotary_rows", str(rotary)),
            ),
            dirty=False,
            source="MECHANISMS.md §5",
        )
    )
    run_add = kv_term + prompt + run_file - reuse
    # x86 int8-compute without glibc: ComputePackBlkSum's lm_head scale copy (dirty; glibc keeps
    # it in the steady state) is live while the lm_head, taken as the largest, packs
    copy = w.lm_head_scales if pk.int8_compute and plat.isa == "x86_64" and not plat.glibc else 0
    transient = w.largest_source if pk.packs_largest else (folded if folded else 0)
    load_transient = max(0, transient + (copy if pk.packs_largest else 0) - run_add)
    if load_transient:
        comps.append(
            Component(
                ACTIVATIONS,
                "load transient (clean)" if not copy else "load transient",
                load_transient,
                "the largest initializer's mapped pages while it is packed or folded "
                + ("+ the scale copy packing makes " if copy else "")
                + "− the run",
                (("largest_initializer", str(transient)), ("scale_copy", str(copy))),
                dirty=bool(copy),
                source="MECHANISMS.md §3 (load peak − steady state = largest initializer)",
            )
        )

    # -- fixed terms ---------------------------------------------------------------------------
    if ctx.calibration is not None:
        e = ctx.calibration
        comps.append(
            Component(
                RUNTIME_OVERHEAD,
                "fixed terms (calibrated)",
                e.fixed_bytes,
                f"median of {len(e.samples)} measured run(s): measured − variable terms",
                (("calibration", ctx.calibration_path), ("entry", e.label)),
                source=f"calibration file {ctx.calibration_path}",
            )
        )
    else:
        layers_more = max(0, spec.num_layers - 8)
        heap = terms.session_heap + terms.session_heap_per_layer * layers_more
        comps.append(
            Component(
                RUNTIME_OVERHEAD,
                "session heap (graph, kernels)",
                heap,
                "8-layer session heap + per-layer kernels beyond 8",
                (("onnxruntime", terms.version), ("layers", str(spec.num_layers))),
                source=terms.source,
            )
        )
        comps.append(
            Component(
                RUNTIME_OVERHEAD,
                "runtime code pages (clean)",
                terms.code_pages,
                "libonnxruntime + libonnxruntime-genai text paged in by a session and a run",
                (("onnxruntime", terms.version),),
                dirty=False,
                source=terms.source,
            )
        )
    weight_total = sum(c.bytes for c in comps if c.category == WEIGHTS)
    # a decoded token reads the packed weights and its top-k experts (their packed copies, or
    # the source bytes where more: scales, biases, unpacked experts left in place); the other
    # experts stay resident unread, with the rows of a gathered table
    moe_bytes = max(moe.heap, fact_int(spec, "moe_expert_bytes")) if moe else 0
    n_experts, top_k = fact_int(spec, "moe_experts"), fact_int(spec, "moe_top_k")
    active = moe_bytes * top_k // n_experts if 0 < top_k <= n_experts else moe_bytes
    gathered = weight_total - pk.heap - active
    notes: list[str] = []
    asked = rs.runtime_version or terms.version
    if moe is not None and moe.heap and parse_version(asked) < QMOE_PACKING_SINCE:
        notes.append(
            f"QMoE experts: packing measured on onnxruntime 1.31 and 1.32 only; "
            f"{asked} packs them otherwise (on 1.30 an LFM2-MoE int4 build held "
            "107 MiB more after loading than planned, its int8 build 114 MiB less; "
            "BENCHMARKS.md §2)"
        )
    width = fact_int(spec, "moe_intermediate") if moe is not None else 0
    op = "MoE" if "MoE" in (fact(spec, "moe_ops") or "").split(",") else "QMoE"
    per_thread = b * t * (6 if op == "MoE" else 3) * (spec.hidden_size + width) * 4 if width else 0
    if per_thread >= MIB // 2:  # smaller: nothing worth a note
        notes.append(
            f"MoE layers: onnxruntime's CPU {op} kernel takes about {per_thread / MIB:,.0f} MiB "
            "of scratch per intra-op thread for this prompt; planned as measured, with a "
            "one-thread pool, where the arena absorbs it; each further thread can add about "
            "that much (intra_op_num_threads in genai_config's session_options sets the count; "
            "MECHANISMS.md §7)"
        )
    if pk.dequant and plat.glibc and w.layer_heap_kn:
        notes.append(heap_note(w.layer_heap_kn))
    if rewinds:
        notes.append(
            rerun_note(spec, threshold, rs.prefill, rerun, b * rs.prefill * live * 4, off, shape)
        )
    elif threshold and rs.prefill < threshold:  # the threshold is 0 unless max_length reaches it
        notes.append(
            f"a {spec.architecture} generation that reaches {threshold} tokens makes "
            f"onnxruntime-genai re-run the whole sequence as one prompt (measured: a 2048-token "
            f"prompt peaks 556 MiB higher there on a small Phi-3); plan --prefill {threshold} if "
            f"answers can grow that long"
        )
    windowed = [x for x in layer_windows(spec, rs) if x is not None]
    if not prealloc and windowed:
        notes.append(
            f"onnxruntime 1.31/1.32 refuse a quantized ({rs.kv_dtype}) KV cache on a model with "
            "sliding-window layers on the CPU: a growing cache starts at capacity 0, and "
            "GroupQueryAttention requires at least local_window_size (measured on a builder "
            "export: 'sliding_window_cache: KV cache capacity (0) must be at least "
            f"local_window_size ({min(windowed)})'); plan a float KV cache for it"
        )
    if rows and w.embedding - rows > 16 * MIB:
        notes.append(
            f"the embedding rows a prompt gathers are counted in {plat.fault_around_bytes // 1024}"
            f" KiB fault-around windows ({rows / MIB:,.0f} MiB); a weights file just written "
            "(downloaded, converted) can sit in the page cache in large folios that map whole, "
            f"up to the whole table ({w.embedding / MIB:,.0f} MiB): clean pages, but counted in "
            "RSS (docs/onnxruntime-model.md)"
        )
    return tuple(comps), max(0, gathered), per_token, tuple(notes)


def fixed_bytes(components: tuple[Component, ...]) -> int:
    """The fixed (runtime-overhead) part of a budget: what a calibration replaces."""
    return sum(c.bytes for c in components if c.category == RUNTIME_OVERHEAD)
