"""What ``suggest`` optimises: the trade-offs a release engineer weighs, made explicit (pure).

Each candidate plan is scored on five axes:

* **quality** — the expected perplexity increase of its weight scheme, KV cache and sliding
  window (``planner.quality``: published measurements, each with its source);
* **decode speed** — tokens/s on the slowest device (memory-bound: bandwidth × efficiency ÷
  bytes read per token);
* **time to first token** — prompt processing, where the device's compute is known;
* **context** — tokens the KV cache holds (worth nothing beyond what was asked for);
* **headroom** — the smallest spare share of any device limit.

``balanced`` (the default) adds them as a utility. Its weights say what a release engineer
trades: one doubling of decode speed is worth 6 % perplexity up to 30 tokens/s (faster than anyone
reads; beyond it a quarter of that), one halving of the context below the target costs 4 %, one
halving of the time to first token is worth 1 %, and headroom is worth 1 % per 10 % spare up to
30 % (beyond that it is memory nobody uses). So a 4-bit scheme that decodes 3× faster beats
float16 (a 1B model loses ~10 %, a 7B ~5 %; +9.5 for the speed), while 3-bit never beats 4-bit
for its ~20 % speed-up (it loses 3× as much). ``quality``, ``speed`` and ``context`` rank by their
axis first and break ties with the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

DEFAULT_MARGIN = 0.10
"""Spare share of every limit a chosen plan keeps. 10 % covers planner's measured estimate
error (worst 5–6 % on held-out models, BENCHMARKS.md) plus what the OS takes back between
measurement and launch (iOS ``os_proc_available_memory`` and Android free memory move with the
apps around; MLC itself holds back 15 % with gpu_memory_utilization 0.85)."""
DEFAULT_PROMPT_TOKENS = 512
"""Prompt length time-to-first-token is quoted for."""

W_QUALITY = 1.0
"""Utility per percent of perplexity lost."""
W_SPEED = 6.0
"""Utility per doubling of decode tokens/s (up to ``SPEED_KNEE``)."""
SPEED_KNEE = 30.0
"""Decode speed beyond which a doubling is worth a quarter as much."""
W_TTFT = 1.0
"""Utility per halving of time to first token."""
W_CONTEXT = 4.0
"""Utility per doubling of the context, up to the target."""
W_HEADROOM = 10.0
"""Utility per unit of spare share of the tightest limit (0.1 = 10 % → 1.0)."""
HEADROOM_CAP = 0.30
"""Headroom beyond this share earns nothing more."""


class Objective(str, Enum):
    """``--objective`` values."""

    balanced = "balanced"
    quality = "quality"
    speed = "speed"
    context = "context"


@dataclass(frozen=True, slots=True)
class Constraints:
    """Hard requirements: a plan that breaks one is not chosen."""

    margin: float = DEFAULT_MARGIN
    """Spare share of every limit (``--margin``)."""
    min_context: int | None = None
    min_tokens_per_s: float | None = None
    max_ttft_s: float | None = None
    prompt_tokens: int = DEFAULT_PROMPT_TOKENS


@dataclass(frozen=True, slots=True)
class Scores:
    """One candidate on each axis."""

    quality_loss_pct: float
    quality_basis: tuple[str, ...]
    decode_tokens_per_s: float | None
    """On the slowest device; None when no device gives a bandwidth."""
    ttft_s: float | None
    """Time to first token for ``prompt_tokens`` on the slowest device; None when unknown."""
    context: int
    headroom: float
    """Smallest spare share of any limit on any device (negative: over)."""

    def as_dict(self) -> dict[str, object]:
        """The scores for JSON output."""
        return {
            "quality_loss_pct": self.quality_loss_pct,
            "quality_basis": list(self.quality_basis),
            "decode_tokens_per_s": _round(self.decode_tokens_per_s),
            "ttft_s": _round(self.ttft_s),
            "context": self.context,
            "headroom": round(self.headroom, 4),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def utility(s: Scores, target_context: int) -> float:
    """The balanced objective (higher is better)."""
    u = -W_QUALITY * s.quality_loss_pct
    if s.decode_tokens_per_s:
        tps = s.decode_tokens_per_s
        u += W_SPEED * math.log2(min(tps, SPEED_KNEE))
        u += W_SPEED / 4 * math.log2(max(tps, SPEED_KNEE) / SPEED_KNEE)
    if s.ttft_s:
        u -= W_TTFT * math.log2(s.ttft_s)
    u += W_CONTEXT * math.log2(min(s.context, target_context) / max(target_context, 1))
    u += W_HEADROOM * min(max(s.headroom, 0.0), HEADROOM_CAP)
    return u


def sort_key(s: Scores, objective: Objective, target_context: int) -> tuple[float, ...]:
    """Ascending key: the best candidate sorts first."""
    speed = s.decode_tokens_per_s or 0.0
    ctx = min(s.context, target_context)
    if objective is Objective.quality:
        return (s.quality_loss_pct, -ctx, -speed, -s.headroom)
    if objective is Objective.speed:
        return (-speed, s.ttft_s or 0.0, s.quality_loss_pct, -ctx)
    if objective is Objective.context:
        return (-s.context, s.quality_loss_pct, -speed, -s.headroom)
    return (-utility(s, target_context), s.quality_loss_pct)


def dominates(a: Scores, b: Scores) -> bool:
    """``a`` is at least as good as ``b`` on every axis and better on one (headroom counted up
    to ``HEADROOM_CAP``, as the objective counts it)."""
    pairs = [
        (-a.quality_loss_pct, -b.quality_loss_pct),
        (a.decode_tokens_per_s or 0.0, b.decode_tokens_per_s or 0.0),
        (-(a.ttft_s or 0.0), -(b.ttft_s or 0.0)),
        (a.context, b.context),
        (min(a.headroom, HEADROOM_CAP), min(b.headroom, HEADROOM_CAP)),
    ]
    return all(x >= y for x, y in pairs) and any(x > y for x, y in pairs)


def pareto(scores: list[Scores]) -> list[int]:
    """Indexes of the scores no other score dominates."""
    return [i for i, s in enumerate(scores) if not any(dominates(t, s) for t in scores)]


def explain(winner: Scores, other: Scores, objective: Objective, target: int) -> str:
    """Why ``winner`` ranks above ``other``, in the terms of the objective."""
    parts = []
    dq = other.quality_loss_pct - winner.quality_loss_pct
    if abs(dq) >= 0.05:
        parts.append(f"{abs(dq):.1f} % {'less' if dq > 0 else 'more'} expected perplexity loss")
    if winner.decode_tokens_per_s and other.decode_tokens_per_s:
        ratio = winner.decode_tokens_per_s / other.decode_tokens_per_s
        if abs(ratio - 1) >= 0.05:
            parts.append(f"{ratio:.1f}× the decode speed")
    if winner.context != other.context:
        parts.append(f"context {winner.context:,} vs {other.context:,}")
    dh = winner.headroom - other.headroom
    if abs(dh) >= 0.01:
        parts.append(f"{abs(dh):.0%} {'more' if dh > 0 else 'less'} headroom")
    if not parts:
        return "ties on every axis; kept the larger prefill chunk"
    if objective is Objective.balanced:
        gain = utility(winner, target) - utility(other, target)
        return "; ".join(parts) + f" (balanced utility +{gain:.1f})"
    return "; ".join(parts) + f" ({objective.value} first)"
