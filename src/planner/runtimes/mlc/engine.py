"""What MLC's engine reserves at start-up, and how its paged KV cache rounds (pure).

Sources: mlc-llm ``cpp/serve/config.cc`` (``InferForKVCache``, ``EstimateMemoryUsageOnMode``:
the temp buffer is doubled "for safety", plus KV-aux, model and logit-processor workspaces, in
interactive mode with one sequence as the mobile apps run it) and TVM
``src/runtime/vm/paged_kv_cache.cc`` (``num_total_pages = ceil(capacity / page_size) + 1``).
"""

from __future__ import annotations

from math import ceil

from planner.budget import EngineFigures, ResolvedSettings
from planner.spec import ModelSpec

PAGE_SIZE = 16
"""Tokens per KV page (mlc-llm cpp/serve/config.h kv_cache_page_size)."""
MIB = 1024 * 1024


def engine_figures(spec: ModelSpec, params: int, temp: int, rs: ResolvedSettings) -> EngineFigures:
    """The engine's workspace terms (interactive mode: one sequence, as the mobile apps run)."""
    pcs, max_seq = rs.prefill, rs.batch
    hq, hkv, hd = spec.num_attention_heads, spec.num_kv_heads, spec.head_dim
    kv_aux = (max_seq + 1) * 88 + pcs * (hq + 1) * 8 + pcs * hd * (hq + hkv) * 4 + 48 * MIB
    hidden = hd * hq
    model_ws = pcs * 4 + max_seq * 4 + (pcs * 2 + max_seq) * hidden * 2
    logit_ws = ceil(max_seq * 20 + max_seq * spec.vocab_size * 16.125)
    return EngineFigures(params, temp, kv_aux, model_ws, logit_ws)


def page_rounding_bytes(tokens_per_layer: list[int], per_layer_token: float, batch: int) -> int:
    """Bytes the paged cache holds beyond the tokens: (ceil(tokens / 16) + 1) pages per layer."""
    extra = sum(
        ((ceil(t / PAGE_SIZE) + 1) * PAGE_SIZE - t) * per_layer_token for t in tokens_per_layer
    )
    return ceil(extra) * batch
