"""``planner suggest``: search the settings that fit, score them, choose, explain (pure).

Search space, per runtime (``RuntimeModel`` search hooks): the quantization schemes the target
devices can run (f32-activation schemes only where the GPU lacks f16), the prefill chunks, the
sliding windows the family really supports, KV-cache quantization where the runtime offers it,
and the compiled batch bound the target's apps use. For each point the longest context that
keeps ``margin`` of every limit spare on every device is found in closed form
(``planner.checks.max_context``); points that reach the floor become candidates, scored on the
objective's axes (``planner.suggest.objective``). Candidates that fit only inside the margin are
runners-up with a warning, never the choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from math import ceil

from planner.budget import MemoryBudget
from planner.checks import CheckOptions, DeviceReport, blocks, check_device, max_context
from planner.device import DeviceProfile
from planner.device_tiers.compute import prefill_flops
from planner.errors import PlannerError, UsageError
from planner.families import family, param_count
from planner.quality import QualityCost, kv_cost, total_loss, window_cost
from planner.rules import ADVISORY
from planner.runtimes import model_for
from planner.settings import RuntimeSettings
from planner.spec import ModelSpec
from planner.suggest.objective import (
    Constraints,
    Objective,
    Scores,
    explain,
    pareto,
    sort_key,
)

DEFAULT_TARGET_CONTEXT = 4096
"""Context aimed for when the user gives neither --context nor --min-context (MLC's own app
configs ship 2,048–4,096; 128k contexts never fit a phone)."""
DEFAULT_FLOOR = 256
"""Shortest context worth planning when the user names none."""
RUNNERS_UP = 3


@dataclass(frozen=True, slots=True)
class Candidate:
    """One evaluated plan: settings, the reports on every device, and its scores."""

    quantization: str
    quality_rank: int
    context: int
    prefill: int
    sliding_window: int | None
    attention_sink: int | None
    reports: tuple[DeviceReport, ...]
    kv_dtype: str | None = None
    """KV dtype asked for (None: the runtime's and artifact's default)."""
    max_batch_size: int | None = None
    """The compiled batch bound (MLC; None: the artifact's or gen_config's default)."""
    scores: Scores | None = None
    within_margin: bool = True
    """Every limit on every device keeps the requested margin spare."""
    needs_source_model: bool = False
    """Building it means converting the original Hugging Face model (the artifact at hand has
    another precision)."""
    warnings: tuple[str, ...] = ()

    @property
    def fits(self) -> bool:
        """Every check passes on every device (background-kill warnings aside)."""
        return not any(blocks(c) for r in self.reports for c in r.checks)

    @property
    def budget(self) -> MemoryBudget:
        """The budget (identical across devices)."""
        return self.reports[0].budget

    def settings(self, base: RuntimeSettings) -> RuntimeSettings:
        """The runtime settings this candidate stands for."""
        return replace(
            base,
            quantization=self.quantization,
            context=self.context,
            prefill=self.prefill,
            sliding_window=self.sliding_window,
            attention_sink=self.attention_sink,
            kv_dtype=self.kv_dtype or base.kv_dtype,
            max_batch_size=self.max_batch_size or base.max_batch_size,
        )

    def worst_failure(self) -> str:
        """The check that rejects this candidate, with its margin."""
        for r in self.reports:
            for c in r.checks:
                if blocks(c):
                    return f"{r.device.id}: {c.title}: {c.message}"
        return "passes"


@dataclass(frozen=True, slots=True)
class Plan:
    """The result of a suggestion."""

    model: ModelSpec
    base: RuntimeSettings
    devices: tuple[DeviceProfile, ...]
    chosen: Candidate | None
    runners_up: tuple[Candidate, ...]
    rejected: tuple[tuple[Candidate, str], ...]
    advice: tuple[str, ...]
    options: CheckOptions = field(default_factory=CheckOptions)
    """The check options the plan was searched with."""
    objective: Objective = Objective.balanced
    constraints: Constraints = field(default_factory=Constraints)
    pareto: tuple[Candidate, ...] = ()
    """Candidates no other candidate beats on every axis (the chosen one among them)."""
    why: tuple[str, ...] = ()
    """Why the chosen plan wins over each runner-up."""
    target_context: int = DEFAULT_TARGET_CONTEXT
    candidates: tuple[Candidate, ...] = ()
    """Every candidate found, best first (those within the margin and constraints first)."""


@dataclass(frozen=True, slots=True)
class _Point:
    """One point of the search space (before the context is found)."""

    quantization: str
    quality_rank: int
    prefill: int
    window: int | None
    sink: int | None
    kv_dtype: str | None
    max_batch: int | None
    needs_source: bool

    def settings(self, base: RuntimeSettings, context: int | None = None) -> RuntimeSettings:
        return replace(
            base,
            quantization=self.quantization,
            context=context if context is not None else base.context,
            prefill=self.prefill,
            sliding_window=self.window,
            attention_sink=self.sink,
            kv_dtype=self.kv_dtype or base.kv_dtype,
            max_batch_size=self.max_batch or base.max_batch_size,
        )


def round_context(tokens: int) -> int:
    """Round down to a size people configure: a multiple of 1024 from 2048 up, else of 256."""
    if tokens >= 2048:
        return tokens // 1024 * 1024
    return max(tokens // 256 * 256, min(tokens, 256))


def model_params(spec: ModelSpec) -> int | None:
    """Parameters of the model: from the artifact's weights, else laid out from its config."""
    if spec.weights is not None and spec.weights.param_count:
        return spec.weights.param_count
    try:
        return param_count(spec)
    except PlannerError:
        return None


def _longest(
    spec: ModelSpec,
    settings: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions,
    cap: int,
    margin: float,
) -> int | None:
    """The longest context (≤ cap) that keeps ``margin`` spare on every device."""
    best = cap
    for d in devices:
        found = max_context(spec, settings, d, options, upper=best, margin=margin)
        if found is None:
            return None
        best = min(best, found)
    return best


def _points(
    spec: ModelSpec,
    base: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    target: int,
) -> list[list[_Point]]:
    """The search space, grouped: each group is one (scheme, window, KV, batch) over the prefill
    chunks, largest chunk first."""
    runtime = model_for(base.runtime)
    prefills = (base.prefill,) if base.prefill is not None else runtime.prefill_candidates
    schemes = runtime.quantization_candidates(spec, base.quantization, base.kv_dtype, devices)
    windows: tuple[tuple[int | None, int | None], ...] = (
        (base.sliding_window, base.attention_sink),
    )
    if base.sliding_window is None:
        windows += runtime.window_candidates(spec, target)
    kvs = runtime.kv_candidates(spec, base.kv_dtype, base.quantization)
    batch = runtime.max_batch_for(devices, base.batch, base.max_batch_size)
    return [
        [_Point(s.name, s.quality_rank, p, w, sink, kv, batch, s.needs_source) for p in prefills]
        for s in schemes
        for w, sink in windows
        for kv in kvs
    ]


def _quality(
    spec: ModelSpec, base: RuntimeSettings, pt: _Point, budget: MemoryBudget
) -> tuple[float, tuple[str, ...]]:
    runtime = model_for(base.runtime)
    costs: list[QualityCost] = [runtime.weight_quality(spec, pt.quantization)]
    rs = budget.settings
    costs.append(kv_cost(rs.kv_dtype))
    costs.append(window_cost(rs.sliding_window, rs.attention_sink, rs.context))
    kept = tuple(c.basis for c in costs if c.loss_pct)
    return total_loss(tuple(costs), model_params(spec)), kept or (costs[0].basis,)


def ttft_seconds(
    spec: ModelSpec, budget: MemoryBudget, d: DeviceProfile, prompt: int
) -> float | None:
    """Time to first token: each prefill chunk costs the larger of its compute (2 FLOPs per
    parameter per token at the device's effective rate) and one read of every weight (the
    bandwidth floor); None when the device's compute is unknown."""
    flops = prefill_flops(d)
    rate = flops.value if flops is not None else None
    params = model_params(spec)
    if not rate or not params:
        return None
    chunk = max(1, min(budget.settings.prefill, prompt))
    chunks = ceil(prompt / chunk)
    compute = 2 * params * chunk / rate
    bw = d.mem_bandwidth_bytes_per_s.value if d.mem_bandwidth_bytes_per_s else None
    memory = budget.weights_bytes / (bw * d.decode_efficiency.value) if bw else 0.0
    return chunks * max(compute, memory)


def _scores(
    spec: ModelSpec,
    base: RuntimeSettings,
    pt: _Point,
    reports: tuple[DeviceReport, ...],
    margin: float,
    prompt: int,
) -> Scores:
    budget = reports[0].budget
    loss, basis = _quality(spec, base, pt, budget)
    speeds = [r.decode.tokens_per_s for r in reports if r.decode is not None]
    ttfts = [t for r in reports if (t := ttft_seconds(spec, budget, r.device, prompt)) is not None]
    shares = [
        c.margin_bytes / c.limit_bytes
        for r in reports
        for c in r.checks
        if c.margin_bytes is not None and c.limit_bytes and c.id not in ADVISORY
    ]
    return Scores(
        quality_loss_pct=loss,
        quality_basis=basis,
        decode_tokens_per_s=min(speeds) if speeds else None,
        ttft_s=max(ttfts) if ttfts else None,
        context=budget.settings.context,
        headroom=min(shares) if shares else 1.0,
    )


def _evaluate(
    spec: ModelSpec,
    base: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions,
    pt: _Point,
    context: int,
    constraints: Constraints,
    within_margin: bool,
) -> Candidate:
    settings = pt.settings(base, context)
    reports = tuple(check_device(spec, settings, d, options) for d in devices)
    prefill = reports[0].budget.settings.prefill
    scores = _scores(spec, base, pt, reports, constraints.margin, constraints.prompt_tokens)
    warnings: list[str] = []
    if not within_margin:
        warnings.append(
            f"keeps less than {constraints.margin:.0%} of a limit spare "
            f"(tightest: {scores.headroom:.1%})"
        )
    return Candidate(
        pt.quantization,
        pt.quality_rank,
        context,
        prefill,
        reports[0].budget.settings.sliding_window,
        pt.sink,
        reports,
        kv_dtype=pt.kv_dtype,
        max_batch_size=pt.max_batch,
        scores=scores,
        within_margin=within_margin,
        needs_source_model=pt.needs_source,
        warnings=tuple(warnings),
    )


def _meets(c: Candidate, k: Constraints) -> str | None:
    """Why ``c`` breaks a hard requirement, or None."""
    s = c.scores
    if s is None:
        return None
    if k.min_tokens_per_s and (s.decode_tokens_per_s or 0) < k.min_tokens_per_s:
        return f"decode {s.decode_tokens_per_s or 0:.1f} tokens/s < --min-tokens-per-s"
    if k.max_ttft_s and s.ttft_s is not None and s.ttft_s > k.max_ttft_s:
        return f"time to first token {s.ttft_s:.1f} s > --max-ttft"
    return None


def target_context(spec: ModelSpec, base: RuntimeSettings, min_context: int | None) -> int:
    """The context a plan aims for: asked for, else min(model maximum, 4096) (≥ --min-context)."""
    model_max = spec.max_context or DEFAULT_TARGET_CONTEXT
    cap = base.context or min(model_max, max(DEFAULT_TARGET_CONTEXT, min_context or 0))
    return max(cap, min_context or 0)


def suggest(
    spec: ModelSpec,
    base: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions | None = None,
    min_context: int | None = None,
    *,
    objective: Objective = Objective.balanced,
    constraints: Constraints | None = None,
) -> Plan:
    """Find the best plan for ``spec`` on every device in ``devices``."""
    if not devices:
        raise UsageError("suggest needs at least one --device")
    options = options or CheckOptions()
    k = constraints or Constraints(min_context=min_context)
    min_context = k.min_context if k.min_context is not None else min_context
    cap = target_context(spec, base, min_context)
    floor = min(min_context or DEFAULT_FLOOR, cap)
    found: list[Candidate] = []
    empty: list[_Point] = []
    for group in _points(spec, base, devices, cap):
        picked = _group(spec, base, devices, options, group, cap, floor, k)
        if picked:
            found.extend(picked)
        else:
            empty.append(group[-1])
    return _choose(spec, base, devices, options, objective, k, cap, floor, found, empty)


def _group(
    spec: ModelSpec,
    base: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions,
    group: list[_Point],
    cap: int,
    floor: int,
    k: Constraints,
) -> list[Candidate]:
    """Candidates of one (scheme, window, KV, batch) over its prefill chunks (largest first).

    A smaller chunk never needs more memory, so once a chunk reaches the target every smaller
    one does too: the search stops there, and offers two candidates — the largest chunk that
    reaches the best context (fastest prompts) and the smallest (most headroom) — for the
    objective to choose between. Points that fit only inside the margin give one runner-up.
    """
    reach: list[tuple[_Point, int]] = []
    tight: tuple[_Point, int] | None = None
    for pt in group:
        try:
            settings = pt.settings(base)
            comfy = _longest(spec, settings, devices, options, cap, k.margin)
            if comfy is None or comfy < floor:
                bare = _longest(spec, settings, devices, options, cap, 0.0)
                if bare is not None and bare >= floor and (tight is None or bare > tight[1]):
                    tight = (pt, bare)
                continue
        except PlannerError:
            continue
        reach.append((pt, comfy))
        if comfy >= cap:
            break
    if reach and reach[-1][0] is not group[-1] and reach[-1][1] >= cap:
        reach.append((group[-1], cap))  # the smallest chunk reaches the target as well
    if not reach:
        if tight is None:
            return []
        pt, longest = tight
        ctx = longest if longest >= cap else max(round_context(longest), floor)
        return [_evaluate(spec, base, devices, options, pt, ctx, k, False)]
    best = max(ctx for _, ctx in reach)
    at_best = [pt for pt, ctx in reach if ctx == best]
    ctx = best if best >= cap else max(round_context(best), floor)
    chosen = [at_best[0]] if len(at_best) == 1 else [at_best[0], at_best[-1]]
    return [_evaluate(spec, base, devices, options, pt, ctx, k, True) for pt in chosen]


def _choose(
    spec: ModelSpec,
    base: RuntimeSettings,
    devices: Sequence[DeviceProfile],
    options: CheckOptions,
    objective: Objective,
    k: Constraints,
    cap: int,
    floor: int,
    found: list[Candidate],
    empty: list[_Point],
) -> Plan:
    def key(c: Candidate) -> tuple[float, ...]:
        assert c.scores is not None
        return sort_key(c.scores, objective, cap)

    ok = sorted((c for c in found if c.within_margin and _meets(c, k) is None), key=key)
    rest = sorted((c for c in found if c not in ok), key=key)
    chosen = ok[0] if ok else None
    runners = tuple((ok[1:] + rest)[:RUNNERS_UP])
    rejected: list[tuple[Candidate, str]] = []
    seen: set[str] = set()
    for pt in empty:
        if pt.quantization in seen or any(c.quantization == pt.quantization for c in found):
            continue
        seen.add(pt.quantization)
        try:
            probe = _evaluate(spec, base, devices, options, pt, floor, k, False)
        except PlannerError as exc:
            rejected.append((_bare(pt, floor), exc.one_line()))
            continue
        rejected.append((probe, probe.worst_failure()))
    for c in rest:
        reason = _meets(c, k)
        if reason is not None and c not in runners:
            rejected.append((c, reason))
    scored = [c for c in ok if c.scores is not None]
    front_idx = pareto([c.scores for c in scored if c.scores is not None])
    front = tuple(scored[i] for i in front_idx)
    why: tuple[str, ...] = ()
    if chosen is not None and chosen.scores is not None:
        why = tuple(
            f"over {r.quantization} (context {r.context:,}, prefill {r.prefill}): "
            + explain(chosen.scores, r.scores, objective, cap)
            for r in runners
            if r.scores is not None
        )
    advice = _advice(spec, base, chosen, found, cap)
    return Plan(
        spec,
        base,
        tuple(devices),
        chosen,
        runners,
        tuple(rejected),
        tuple(advice),
        options,
        objective,
        k,
        front,
        why,
        cap,
        tuple(ok + rest),
    )


def _bare(pt: _Point, context: int) -> Candidate:
    return Candidate(pt.quantization, pt.quality_rank, context, pt.prefill, pt.window, pt.sink, ())


def _advice(
    spec: ModelSpec,
    base: RuntimeSettings,
    chosen: Candidate | None,
    found: list[Candidate],
    cap: int,
) -> list[str]:
    out: list[str] = []
    if chosen is None:
        tight = [c for c in found if not c.within_margin]
        if tight:
            best = max(tight, key=lambda c: c.context)
            out.append(
                f"{best.quantization} at {best.context:,} tokens fits but keeps less than the "
                "margin spare; lower --margin to accept it, or choose a device with more memory"
            )
        else:
            out.append(
                "no quantization fits at any context: choose a smaller model or a device "
                "with more memory"
            )
        return out
    if chosen.context < cap:
        out.append(
            f"the longest context that fits is {chosen.context:,} tokens (asked for {cap:,})"
        )
    reachable = min((r.max_context or 0) for r in chosen.reports)
    model_max = spec.max_context
    if chosen.context >= cap and reachable > chosen.context and (not model_max or cap < model_max):
        bound = "≥ " if any(r.max_context_is_lower_bound for r in chosen.reports) else ""
        out.append(
            f"with {chosen.quantization} and prefill chunk {chosen.prefill} the longest context "
            f"that passes every check is {bound}{reachable:,} tokens"
            + (f" (model maximum {model_max:,})" if model_max else "")
            + "; ask for it with --context"
        )
    per_tok = chosen.budget.kv_bytes_per_token
    out.append(
        f"each extra 1024 tokens of context costs {per_tok * 1024 / 2**20:,.0f} MiB of KV cache"
    )
    if chosen.needs_source_model:
        out.append(
            f"{chosen.quantization} is not the artifact's own precision: building it converts the "
            "original Hugging Face model (the commands name it <path-to-hf-model>)"
        )
    if family(spec.architecture).layout is None and spec.weights is not None:
        out.append(
            f"only the artifact's own precision was planned: planner cannot lay out "
            f"{spec.architecture!r} weights for another quantization without the source model"
        )
    return out
