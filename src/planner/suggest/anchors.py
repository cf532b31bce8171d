"""Compare a plan with a choice someone else made for the same model and device (pure).

Used to hold ``suggest`` against MLC's own shipped app configs (tests and
benchmarks/suggest_anchors.py): a plan is *at least as good* when its expected quality loss is
no larger and its context no shorter; when it is not, the reason must be a number — the other
choice, evaluated by the same rules, keeps less than the margin spare (or fails outright).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.checks import check_device
from planner.device import DeviceProfile
from planner.quality import kv_cost, total_loss, window_cost
from planner.rules import ADVISORY
from planner.runtimes import model_for
from planner.settings import CheckOptions, RuntimeSettings
from planner.spec import ModelSpec
from planner.suggest.search import Plan, model_params

DEFAULT_OTHER_CONTEXT = 2048
"""Context assumed for a choice that sets none (MLC's apps set 2048 wherever they set one)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """A plan against another choice."""

    at_least_as_good: bool
    ours: str
    theirs: str
    reason: str
    """Why not, with numbers, when ``at_least_as_good`` is false."""
    their_headroom: float | None
    their_loss_pct: float


def compare(
    plan: Plan,
    spec: ModelSpec,
    base: RuntimeSettings,
    device: DeviceProfile,
    options: CheckOptions,
    *,
    quantization: str,
    context: int | None,
    prefill: int | None,
    sliding_window: int | None,
    margin: float,
) -> Comparison:
    """Hold ``plan`` against the choice (quantization, context, prefill, window)."""
    ctx = context or DEFAULT_OTHER_CONTEXT
    runtime = model_for(base.runtime)
    theirs = RuntimeSettings(
        runtime=base.runtime,
        quantization=quantization,
        context=ctx,
        prefill=prefill,
        sliding_window=sliding_window,
        attention_sink=4 if sliding_window else None,
        max_batch_size=base.max_batch_size,
    )
    report = check_device(spec, theirs, device, options)
    rs = report.budget.settings
    their_loss = total_loss(
        (
            runtime.weight_quality(spec, quantization),
            kv_cost(rs.kv_dtype),
            window_cost(rs.sliding_window, rs.attention_sink, rs.context),
        ),
        model_params(spec),
    )
    shares = [
        c.margin_bytes / c.limit_bytes
        for c in report.checks
        if c.margin_bytes is not None and c.limit_bytes and c.id not in ADVISORY
    ]
    headroom = min(shares) if shares else None
    label = f"{quantization} at {rs.context:,} tokens (prefill {rs.prefill})"
    c = plan.chosen
    if c is None or c.scores is None:
        return Comparison(False, "no plan", label, "planner found no plan", headroom, their_loss)
    ours = f"{c.quantization} at {c.context:,} tokens (prefill {c.prefill})"
    good = c.scores.quality_loss_pct <= their_loss + 1e-9 and c.context >= rs.context
    reason = ""
    if not good:
        if headroom is None or headroom < margin:
            spare = "fails a limit" if headroom is None or headroom < 0 else f"keeps {headroom:.1%}"
            reason = (
                f"{label} {spare} of the tightest limit on {device.id}, under the "
                f"{margin:.0%} margin; planner's choice keeps {c.scores.headroom:.1%}"
            )
        else:
            reason = (
                f"{label} keeps {headroom:.1%} spare and loses {their_loss:.1f} %; planner "
                f"chose {ours} losing {c.scores.quality_loss_pct:.1f} % ({plan.objective.value} "
                "objective)"
            )
    return Comparison(good, ours, label, reason, headroom, their_loss)
