"""The Phi-3 re-run on onnxruntime-genai (pure): when a generation crosses the long-RoPE switch,
genai runs the whole sequence again as one prompt, in the same session as the first prompt.

This module says when that happens, which session options change what the second pass keeps
beside the first (onnxruntime's memory pattern and CPU arena), and writes the budget's note; the
arena space itself is replayed by ``arena.second_pass_growth``.
"""

from __future__ import annotations

from planner.budget import ResolvedSettings
from planner.runtimes.onnxruntime.arena import PromptShape
from planner.spec import ModelSpec

MIB = 1024 * 1024


def phi3_rewind_threshold(spec: ModelSpec, rs: ResolvedSettings) -> int:
    """The sequence length at which onnxruntime-genai re-runs a Phi-3 sequence from scratch, or 0.

    Phi-3 (and PhiMoE) switch from the short to the long RoPE factor past 4096 positions (8192
    for Phi-3-small); genai recomputes the KV cache then: when the sequence length reaches
    4097 (8193) it rewinds to 0 and appends the whole sequence as one prompt (genai PR #1161,
    src/generators.cpp ``InitializePhi3RopeThreshold``, standard_decoding_strategy.cpp; batch 1,
    every device but DML and some TensorRT-RTX setups). Measured (probe_logits_decode.py,
    phi3-mha-int4, max_length 8192, onnxruntime 1.32; process RSS peaks, 38.6 MiB of them before
    loading): a 2048-token prompt peaks at 1225 MiB,
    then at 1781 when the generation reaches 4097; a 4000-token prompt at 1691, then 1880;
    a 4096-token prompt at 1692, then 1865 on the second decode step; with the model type set to
    ``llama`` nothing happens (1707 MiB). What the second pass keeps beside the first is
    replayed (``arena.second_pass_growth``): onnxruntime's memory-pattern cache keys a run by the
    XOR of its input dims (session_state.cc ``CalculateMemoryPatternsKey``), the same for every
    genai prompt run, so the re-run allocates the first prompt's pattern block and its own,
    larger tensors beside it (probe_rerun.py: +172 MiB on phi3-mha-fp32 at 4096 → 4097, +16
    with ``enable_mem_pattern`` off)."""
    if rs.batch != 1:
        return 0
    arch = spec.architecture.lower()
    threshold = {"phi3": 4097, "phimoe": 4097, "phi3small": 8193}.get(arch, 0)
    return threshold if rs.context >= threshold else 0


def pattern_off(spec: ModelSpec) -> str:
    """The genai_config.json session option that spares a later prompt run the first one's memory
    pattern, when set: ``enable_mem_pattern`` false, or ``enable_cpu_mem_arena`` false (planner's
    own genai-config fragment sets it; without the arena the block is malloc'ed, left unwritten
    and freed with the run). Empty when neither is."""
    options = dict(spec.settings.session_options)
    for key in ("enable_mem_pattern", "enable_cpu_mem_arena"):
        if options.get(key, "").strip().lower() in ("false", "0"):
            return key
    return ""


def rerun_note(
    spec: ModelSpec,
    threshold: int,
    prompt: int,
    rerun: int,
    first_pass: int,
    off: str,
    shape: PromptShape | None,
) -> str:
    """The note of a run that re-runs: what is counted for the second pass and why.
    ``prompt`` is the first pass's length, ``rerun`` the replayed arena growth, ``first_pass``
    the first prompt's arena term (the bound when the layout is not replayed), ``off`` what
    ``pattern_off`` found."""
    text = (
        f"onnxruntime-genai re-runs the whole sequence when a {spec.architecture} run reaches "
        f"{threshold} tokens (the long RoPE factor; generators.cpp phi3_rope_threshold_): the "
        f"prompt's logits and activations are counted for {threshold} tokens"
    )
    if off == "enable_cpu_mem_arena":
        text += (
            "; enable_cpu_mem_arena is off, so the re-run's tensors are malloc'ed and freed "
            "with it: nothing of the first prompt's arena is counted twice"
        )
    elif off:
        text += (
            f"; {off} is off, so the re-run gets no stale memory pattern and reuses most of "
            "the first prompt's arena: "
            + (
                f"the replayed arena adds {rerun / MIB:,.0f} MiB for it "
                if shape is not None
                else ""
            )
            + "(measured: phi3-mha-int4 at 4096 / 8192 peaks 1,691 MiB, 1,842 with the "
            "pattern on; results/ort_mempattern_genai.json)"
        )
    elif shape is not None:
        where = (
            "allocates its block and writes its tensors into it (same sizes)"
            if prompt >= threshold
            else "allocates its block and places its larger tensors beside it"
        )
        text += (
            "; onnxruntime's memory-pattern cache keys runs by the XOR of their input dims, "
            f"so the re-run finds the first prompt's pattern, {where}: a replay of the "
            f"arena over both passes counts {rerun / MIB:,.0f} MiB for that. Setting "
            '"enable_mem_pattern": false in genai_config.json\'s session_options avoids most '
            "of it (docs/onnxruntime-model.md)"
        )
    else:
        text += (
            "; onnxruntime's memory-pattern cache keys runs by the XOR of their input dims, "
            "so the re-run finds the first prompt's pattern, allocates its block and places "
            "its larger tensors beside it in new arena space: up to "
            f"{first_pass / MIB:,.0f} MiB more, not counted (this layout's requests are not "
            "replayed; the phi3-mha builds: +180 to +216 MiB on onnxruntime 1.30–1.32). Set "
            '"enable_mem_pattern": false in genai_config.json\'s session_options to avoid it '
            "(docs/onnxruntime-model.md)"
        )
    return text
