"""The KV pool MLC's engine allocates on a device, and the budget as allocated there (pure).

A budget plans the KV cache for the requested context. MLC's engine does not allocate that:
``EstimateMemoryUsageOnMode`` (mlc-llm ``cpp/serve/config.cc``) sizes the pool to

* ``fit = (util × device memory − params − 2 × temp − workspaces) ÷ kv_bytes_per_token``,
  with ``kv_bytes_per_token = head_dim × kv_heads × layers × 4 + 1.25`` (fp16 K and V); at most
  32,768 tokens on Metal;
* interactive mode (the iOS and Android apps: ``"mode": "interactive"`` in ``MLCEngine.kt`` and
  ``LLMEngine.swift``): ``min(fit, max_single_sequence_length)``; local mode (``mlc_llm serve``,
  the Python engine): ``min(fit, max_single_sequence_length, 8192)``.

``max_single_sequence_length`` is the context window, unbounded when the model has a sliding
window (MLC then sets ``context_window_size`` to -1, and an override of the window leaves the
model's own context): a windowed model's pool is all that fits (up to the mode's ceiling), not
window + sink. The pool is the total over every sequence, not per sequence. TVM's paged cache
then allocates ``ceil(capacity / 16) + 1`` pages up front (``paged_kv_cache.cc``).

So on a device the resident total is the start-up reservation plus the pool the engine chose:
less than planned when the context does not fit (the engine shortens it: the
``mlc-kv-capacity`` rule says so), more when a window or a batch made the plan smaller than the
pool. The device rules that compare resident memory with a limit read this budget.
"""

from __future__ import annotations

from dataclasses import replace
from math import ceil

from planner.budget import KV_CACHE, Component, MemoryBudget
from planner.device import DeviceProfile
from planner.runtimes.base import PHONE_OSES
from planner.runtimes.mlc.engine import PAGE_SIZE

LOCAL_MODE_CAP = 8192
"""Local mode's ceiling on the pool (config.cc EstimateMemoryUsageOnMode)."""
METAL_CAP = 32768
"""Metal's ceiling on the pool ("severe performance issues with large buffers", config.cc)."""
KV_LABEL = "KV cache"
ROUNDING_LABEL = "KV page rounding"


def _inputs(c: Component) -> dict[str, str]:
    return dict(c.inputs)


def _prefix(label: str, base: str) -> str | None:
    """``"draft x: "`` for ``"draft x: KV cache"``; ``""`` for the model's own; else None."""
    if label == base:
        return ""
    if label.endswith(": " + base):
        return label[: -len(base)]
    return None


def _one_engine(b: MemoryBudget) -> bool:
    """The budget is one engine's: its own model and at most a draft model (one engine runs
    both). Models merely resident together each run their own engine, each sizing its own pool:
    not modelled, so such budgets are checked as planned."""
    prefixes = (_prefix(c.label, KV_LABEL) for c in b.components if c.category == KV_CACHE)
    return all(not p or p.startswith("draft ") for p in prefixes)


def engine_kv_bytes_per_token(b: MemoryBudget) -> float:
    """The engine's own per-token figure, summed over the models of one engine: the lib's
    head_dim × kv_heads (one latent for MLA) × layers × 4 (fp16 K and V) + 1.25."""
    total = 0.0
    for c in b.components:
        if c.category != KV_CACHE or _prefix(c.label, KV_LABEL) is None:
            continue
        i = _inputs(c)
        try:
            width = (
                int(i["engine_kv_width"])
                if "engine_kv_width" in i
                else (int(i["head_dim"]) * int(i["kv_heads"]))
            )
            total += width * int(i["layers"]) * 4 + 1.25
        except (KeyError, ValueError):
            return 0.0
    return total


def span_tokens(b: MemoryBudget) -> int:
    """Tokens of pool one sequence of the plan needs: the context (a window's span under a
    sliding window)."""
    s = b.settings
    if s.sliding_window is None:
        return s.context
    return min(s.context, s.sliding_window + s.attention_sink)


def fit_tokens(b: MemoryBudget, d: DeviceProfile) -> int | None:
    """Tokens of KV that fit in the engine's budget after start-up (config.cc's
    ``model_max_total_sequence_length``), before the mode's and Metal's ceilings; None when it
    cannot be told."""
    if b.engine is None or d.mlc_engine_memory_bytes is None or not _one_engine(b):
        return None
    per_token = engine_kv_bytes_per_token(b)
    if per_token <= 0:
        return None
    budget = d.mlc_engine_memory_bytes.value * b.settings.gpu_memory_utilization
    return int((budget - b.engine.startup_bytes) / per_token)


def pool_tokens(b: MemoryBudget, d: DeviceProfile) -> int | None:
    """Tokens of KV the engine allocates on ``d``; None when it cannot tell (no engine, no
    device memory figure) or would refuse to start (the ``mlc-engine`` rule reports that)."""
    return pool_for(fit_tokens(b, d), b, d)


def pool_for(fit: int | None, b: MemoryBudget, d: DeviceProfile) -> int | None:
    """The pool for ``fit`` tokens (``fit_tokens``) under the ceilings that apply on ``d``."""
    if fit is None or fit <= 0:
        return None
    if d.gpu_api == "metal":
        fit = min(fit, METAL_CAP)
    pool = fit
    if b.settings.sliding_window is None:
        # With a window, max_single_sequence_length is unbounded: MLC's config sets
        # context_window_size = -1 when the model carries one, and planner's overrides (as
        # mlc_llm package's) drop it, leaving the model's own.
        pool = min(pool, b.settings.context)
    if d.os not in PHONE_OSES:
        pool = min(pool, LOCAL_MODE_CAP)
    return pool


def allocated(b: MemoryBudget, d: DeviceProfile) -> MemoryBudget:
    """``b`` with its KV cache and page rounding for the pool the engine allocates on ``d``
    (``b`` itself when that cannot be told or is what was planned)."""
    pool = pool_tokens(b, d)
    if pool is None:
        return b
    per_token: dict[str, float] = {}
    out: list[Component] = []
    for c in b.components:
        p = _prefix(c.label, KV_LABEL) if c.category == KV_CACHE else None
        if p is None:
            out.append(c)
            continue
        i = _inputs(c)
        planned = int(i.get("tokens", "0")) * int(i.get("batch", "1"))
        if planned <= 0:
            return b
        per_token[p] = c.bytes / planned
        inputs = tuple(
            (k, str(pool) if k == "tokens" else "1" if k == "batch" else v) for k, v in c.inputs
        )
        out.append(replace(c, bytes=ceil(per_token[p] * pool), inputs=inputs))
    rounded = []
    for c in out:
        p = _prefix(c.label, ROUNDING_LABEL)
        if p is None or p not in per_token:
            rounded.append(c)
            continue
        extra = (ceil(pool / PAGE_SIZE) + 1) * PAGE_SIZE - pool
        rounded.append(replace(c, bytes=ceil(extra * per_token[p])))
    if all(a.bytes == c.bytes for a, c in zip(rounded, b.components, strict=True)):
        return b
    bounds = [f"what fits in {b.settings.gpu_memory_utilization} × device memory after start-up"]
    if b.settings.sliding_window is None:
        bounds.append("the context")
    if d.os not in PHONE_OSES:
        bounds.append("8192")
    if d.gpu_api == "metal":
        bounds.append("32768")
    note = (
        f"on {d.name}: MLC's engine allocates a KV pool of {pool} tokens "
        f"(min({', '.join(bounds)})"
        + ("; a sliding window lifts the context bound" if b.settings.sliding_window else "")
        + "; mlc-llm cpp/serve/config.cc)"
    )
    return replace(b, components=tuple(rounded), notes=(*b.notes, note))
