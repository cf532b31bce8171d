"""Several models in one app: planned together, resident at once or one at a time (pure).

``co_resident``: the app holds every model at once, so the device limits must hold their sum
(each model's weights, KV cache and buffers; for MLC one engine per model, each with its own
start-up reservations — ``planner.runtimes.combine``). The search takes each model's best
candidates found alone and picks the combination with the best summed objective whose combined
budget keeps the margin on every device, shortening every context by the same factor when the
models only fit together at shorter contexts.

One at a time: each model must fit alone (its own plan); switching costs a reload of the next
model's weights from storage, quoted at ``STORAGE_READ_BYTES_PER_S``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

from planner.checks import CheckOptions, DeviceReport, check_device
from planner.device import DeviceProfile
from planner.errors import UsageError
from planner.rules import run_rules
from planner.runtimes import combine, estimate, model_for
from planner.settings import RuntimeSettings
from planner.spec import ModelSpec
from planner.suggest.objective import Constraints, Objective, utility
from planner.suggest.search import Candidate, Plan, round_context, suggest

PER_MODEL = 4
"""Candidates per model the joint search combines (the best ones found alone)."""
STORAGE_READ_BYTES_PER_S = 1_000_000_000
"""Sequential read assumed for reloading weights when switching models (estimate: phone UFS 3.x
and NVMe storage read 1.5–4 GB/s; 1 GB/s leaves room for decompression and page faults)."""


@dataclass(frozen=True, slots=True)
class AppPlan:
    """Every model of one app, planned together."""

    plans: tuple[Plan, ...]
    """Each model's plan; with ``co_resident`` the chosen candidates fit together."""
    co_resident: bool
    combined: tuple[DeviceReport, ...]
    """The combined budget on each device (co-resident), else empty."""
    switch_seconds: tuple[float, ...]
    """One at a time: seconds to load each model when switching to it."""
    advice: tuple[str, ...]

    @property
    def fits(self) -> bool:
        """Every model has a chosen plan."""
        return all(p.chosen is not None for p in self.plans)


def _headroom_ok(
    specs: Sequence[ModelSpec],
    settings: Sequence[RuntimeSettings],
    devices: Sequence[DeviceProfile],
    options: CheckOptions,
    margin: float,
) -> bool:
    from planner.checks import headroom_bytes

    for d in devices:
        budgets = [
            estimate(s, model_for(st.runtime).settings_for_device(st, d))
            for s, st in zip(specs, settings, strict=True)
        ]
        total = budgets[0]
        for spec, b in zip(specs[1:], budgets[1:], strict=True):
            total = combine(total, b, spec.name, f"co-resident model {spec.name}")
        room = headroom_bytes(run_rules(total, d, options), margin)
        if room is not None and room < 0:
            return False
    return True


def suggest_app(
    models: Sequence[tuple[ModelSpec, RuntimeSettings]],
    devices: Sequence[DeviceProfile],
    options: CheckOptions | None = None,
    *,
    objective: Objective = Objective.balanced,
    constraints: Constraints | None = None,
    co_resident: bool = True,
) -> AppPlan:
    """Plan every model of an app for ``devices``."""
    if not models:
        raise UsageError("no models to plan")
    options = options or CheckOptions()
    k = constraints or Constraints()
    alone = [
        suggest(spec, base, devices, options, k.min_context, objective=objective, constraints=k)
        for spec, base in models
    ]
    if not co_resident or len(models) == 1:
        seconds = tuple(
            (p.chosen.budget.weights_bytes / STORAGE_READ_BYTES_PER_S) if p.chosen else 0.0
            for p in alone
        )
        advice = tuple(
            f"switching to {p.model.name} reloads "
            f"{p.chosen.budget.weights_bytes / 2**20:,.0f} MiB of weights (~{s:.1f} s)"
            for p, s in zip(alone, seconds, strict=True)
            if p.chosen is not None
        )
        return AppPlan(tuple(alone), False, (), seconds, advice)
    pools = [[c for c in p.candidates if c.within_margin][:PER_MODEL] for p in alone]
    if any(not pool for pool in pools):
        missing = [p.model.name for p, pool in zip(alone, pools, strict=True) if not pool]
        return AppPlan(tuple(alone), True, (), (), (f"{', '.join(missing)} fits no device alone",))
    specs = [spec for spec, _ in models]
    best: tuple[float, tuple[Candidate, ...], float] | None = None
    for combo in itertools.product(*pools):
        found = _fit_together(specs, models, combo, devices, options, k.margin)
        if found is None:
            continue
        score = sum(
            utility(replace(c.scores, context=round(c.context * found)), p.target_context)
            for c, p in zip(combo, alone, strict=True)
            if c.scores is not None
        )
        if best is None or score > best[0]:
            best = (score, combo, found)
    if best is None:
        return AppPlan(
            tuple(replace(p, chosen=None) for p in alone),
            True,
            (),
            (),
            (
                "the models do not fit together at any context: plan them one at a time "
                "(drop --co-resident) or choose smaller quantizations",
            ),
        )
    _, combo, factor = best
    plans = []
    final_settings = []
    for (spec, base), c, p in zip(models, combo, alone, strict=True):
        ctx = c.context if factor >= 1 else max(round_context(round(c.context * factor)), 1)
        st = replace(c.settings(base), context=ctx)
        final_settings.append(st)
        reports = tuple(check_device(spec, st, d, options) for d in devices)
        chosen = replace(c, context=ctx, reports=reports)
        plans.append(replace(p, chosen=chosen))

    # Every model passes at its chosen context, so the shortest of them is a lower bound of
    # what the combination holds (the search for the exact figure is per model).
    shortest = min(st.context or 0 for st in final_settings) or None

    def together(d: DeviceProfile) -> DeviceReport:
        on = [model_for(st.runtime).settings_for_device(st, d) for st in final_settings]
        total = estimate(specs[0], on[0])
        for spec, st in zip(specs[1:], on[1:], strict=True):
            total = combine(total, estimate(spec, st), spec.name, f"co-resident model {spec.name}")
        return DeviceReport(d, total, run_rules(total, d, options), shortest, None, True)

    combined = tuple(together(d) for d in devices)
    advice = ()
    if factor < 1:
        advice = (f"the models fit together only with every context cut to {factor:.0%}",)
    return AppPlan(tuple(plans), True, combined, (), advice)


def _fit_together(
    specs: Sequence[ModelSpec],
    models: Sequence[tuple[ModelSpec, RuntimeSettings]],
    combo: Sequence[Candidate],
    devices: Sequence[DeviceProfile],
    options: CheckOptions,
    margin: float,
) -> float | None:
    """The largest factor (≤ 1) every candidate's context can be scaled by so that the models fit
    together with the margin; None when not even 1/16 of each context does."""

    def settings_at(f: float) -> list[RuntimeSettings]:
        return [
            replace(c.settings(base), context=max(1, round(c.context * f)))
            for (_, base), c in zip(models, combo, strict=True)
        ]

    if _headroom_ok(specs, settings_at(1.0), devices, options, margin):
        return 1.0
    lo, hi = 1 / 16, 1.0
    if not _headroom_ok(specs, settings_at(lo), devices, options, margin):
        return None
    for _ in range(8):
        mid = (lo + hi) / 2
        if _headroom_ok(specs, settings_at(mid), devices, options, margin):
            lo = mid
        else:
            hi = mid
    return lo
